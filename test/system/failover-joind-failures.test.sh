#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# failover-joind-failures — a joind pair's bad day (issue 14), short form, in the pair bed
# (test/system/lib/pair.sh): from normal/normal with balanced pools,
#  - the failover link is cut (both ends down): both go communications-interrupted after
#    max-response-delay of silence, each still answers exactly its own clients, neither goes
#    partner-down; the link back, both are normal again;
#  - the secondary is killed (SIGKILL, by PID): the primary is in communications-interrupted at once
#    (time to detect recorded), and serves on:
#  - DISCOVERs of the secondary's hash buckets that have waited past load balance max seconds (secs 5)
#    are answered by the primary, and do not put it in partner-down (secs 5 is below
#    failover_unacked_secs 10: such clients are not evidence);
#  - DISCOVERs with secs 15 from enough distinct clients of the secondary's buckets (evidence:
#    failover_unacked_clients 10) put the primary in partner-down (time recorded), logged as
#    FAILOVER_PEER_UNRESPONSIVE;
#  - no address is offered to two clients (every OFFER on the LAN captured and compared);
#  - the secondary restarted on its store returns (recover, then recover-wait for the MCLT, 20 s here,
#    as the draft requires of a server whose peer was partner-down), and both reach normal again.
# The measured numbers are printed on one line starting "failover-joind-failures:". KEEP_WORK=1 keeps
# the work folder. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/need.sh
. "$here/lib/need.sh"
bed_need ip sysctl timeout tcpdump node /usr/bin/python3 py:scapy
[ "$(id -u)" = 0 ] || { echo "skip: failover-joind-failures needs root (network namespaces)"; exit 77; }
# A short MCLT: the returning secondary waits it out in recover-wait (its peer is partner-down).
PAIR_MCLT=${PAIR_MCLT:-20}
# shellcheck source=lib/pair.sh
. "$here/lib/pair.sh"
[ -f "$PAIR_JOIND_DIST/src/cli/main.js" ] || { echo "skip: failover-joind-failures: joind is not built"; exit 77; }

pair_test_begin failover-joind-failures ff$$
FAIL_LOGS=("joind p:p/joind.log" "joind s:s/joind.log")

# state R — joind R's (p or s) state and partner state from `joind ctl failover`: "STATE PARTNER".
state() { pair_joind_failover "$WORK/$1/spool" state partnerState 2>/dev/null; }
# wait_state R STATE SECONDS — until joind R's own state is STATE (polled every 0.1 s, bounded).
wait_state() {
  local end=$(( SECONDS + $3 )) i
  for (( i = 0; i < 600 && SECONDS <= end; i++ )); do
    [[ "$(state "$1")" == "$2 "* ]] && return 0
    sleep 0.1
  done
  return 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

pair_up "$P" || fail "pair_up"
BED_LIFETIME=$(( 300 + 4 * PAIR_MCLT )) capture_start "$P" "$(bed_ns "$P" sw)" br0 "$WORK/lan.pcap" || fail "capture of the LAN"
LAN_CAPTURE=$CAPTURE_PID

# --- normal/normal, balanced --------------------------------------------------------------------------
pair_joind_start "$P" primary "$WORK/p" || fail "joind primary did not start"
pair_joind_start "$P" secondary "$WORK/s" || fail "joind secondary did not start"
pair_joind_wait_normal "$WORK/p/spool" 30 || fail "not normal/normal: $PAIR_JOIND_LAST"
pair_joind_wait_normal "$WORK/s/spool" 10 || fail "secondary not normal/normal: $PAIR_JOIND_LAST"
pair_joind_wait_quiet "$WORK/p/spool" 50 || fail "pools not balanced: $PAIR_JOIND_LAST"
echo "ok: normal/normal, pools balanced (50 free, 50 backup)"

# burst NAME ARGS… — pair_burst in this bed; B: its key=value summary.
burst() { pair_burst "$P" "$WORK" "$@" || fail "discover-burst ($1): $(tail -n 5 "$WORK/burst-$1.log")"; }

# --- a partition of the failover link alone: both serve their own clients, neither goes partner-down -----
cut=$(now)
pair_link "$P" down || fail "pair_link down"
wait_state p communications-interrupted 20 || fail "primary not communications-interrupted after the cut: $(state p)"
wait_state s communications-interrupted 20 || fail "secondary not communications-interrupted after the cut: $(state s)"
t_cut=$(since "$cut")
burst cut --first 5001 --count 12 --secs 0
[ "${B[both]}" = 0 ] && [ "${B[none]}" = 0 ] && [ "${B[as_predicted]}" = "${B[count]}" ] && [ "${B[strangers]}" = 0 ] \
  || fail "cut link, secs 0: each client should be answered by its own server alone: $(tail -n 1 "$WORK/burst-cut.log")"
[[ "$(state p)" == "communications-interrupted "* ]] && [[ "$(state s)" == "communications-interrupted "* ]] \
  || fail "a cut link alone must not bring partner-down: primary $(state p), secondary $(state s)"
echo "ok: failover link cut: both communications-interrupted after $t_cut s; ${B[count]} clients each answered by its own server (p ${B[p]}, s ${B[s]}); no partner-down"
healed=$(now)
pair_link "$P" up || fail "pair_link up"
pair_joind_wait_normal "$WORK/p/spool" 60 || fail "primary not normal again after the link came back: $PAIR_JOIND_LAST"
pair_joind_wait_normal "$WORK/s/spool" 10 || fail "secondary not normal again after the link came back: $PAIR_JOIND_LAST"
t_heal=$(since "$healed")
echo "ok: link back: both normal again after $t_heal s"

# --- the secondary dies ----------------------------------------------------------------------------------
# joind itself (its pid file), not the bed's wrapper around it: SIGKILL is not passed on.
S_JOIND=$(cat "$WORK/s/spool/joind.pid") || fail "no pid file of the secondary"
killed=$(now)
kill -KILL "$S_JOIND" || fail "kill -KILL $S_JOIND"
wait_state p communications-interrupted 15 || fail "primary not communications-interrupted: $(state p)"
t_detect=$(since "$killed")
echo "ok: secondary killed; the primary in communications-interrupted after $t_detect s"

# Clients of both halves, waiting 5 s (past load balance max seconds 3, below failover_unacked_secs 10).
burst wait5 --first 3001 --count 12 --secs 5 --max-p 40
[ "${B[p]}" = "${B[count]}" ] && [ "${B[s]}" = 0 ] && [ "${B[strangers]}" = 0 ] \
  || fail "secs 5 burst: every DISCOVER should be answered by the primary alone: $(tail -n 1 "$WORK/burst-wait5.log")"
[ "${B[predicted_s]}" -ge 3 ] || fail "secs 5 burst: too few clients of the secondary's buckets to mean anything (${B[predicted_s]})"
[[ "$(state p)" == "communications-interrupted "* ]] || fail "clients waiting 5 s are no evidence, yet the primary is $(state p)"
echo "ok: ${B[count]} DISCOVERs with secs 5 (${B[predicted_s]} of the secondary's buckets) all answered by the primary, still communications-interrupted"

# Clients of the secondary's buckets that have waited 15 s: evidence, partner-down at the tenth.
evidence=$(now)
burst wait15 --first 4001 --count 30 --secs 15 --max-p 30
wait_state p partner-down 10 || fail "no partner-down after ${B[predicted_s]} clients of the secondary waited 15 s: $(state p)"
t_pd=$(since "$evidence")
grep -q '"msgId":"FAILOVER_PEER_UNRESPONSIVE"' "$WORK/p/joind.log" || fail "no FAILOVER_PEER_UNRESPONSIVE line"
[ "${B[predicted_s]}" -ge 10 ] || fail "partner-down with fewer than 10 clients of evidence (${B[predicted_s]})"
echo "ok: partner-down $t_pd s after ${B[predicted_s]} clients of the secondary's buckets waited 15 s (FAILOVER_PEER_UNRESPONSIVE)"

# --- the secondary returns ----------------------------------------------------------------------------
returned=$(now)
pair_joind_start "$P" secondary "$WORK/s" || fail "joind secondary did not restart"
pair_joind_wait_normal "$WORK/p/spool" $(( PAIR_MCLT + 40 )) || fail "primary not back to normal/normal: $PAIR_JOIND_LAST ($(pair_joind_states "$WORK/p/joind.log"))"
pair_joind_wait_normal "$WORK/s/spool" 10 || fail "secondary not back to normal/normal: $PAIR_JOIND_LAST"
t_back=$(since "$returned")
p_states=$(pair_joind_states "$WORK/p/joind.log") s_states=$(pair_joind_states "$WORK/s/joind.log")
echo "ok: both normal again $t_back s after the secondary's restart; primary: $p_states; secondary: $s_states"

# --- no address offered to two clients ----------------------------------------------------------------
capture_stop "$P" "$LAN_CAPTURE"
dups=$(capture_dhcp "$WORK/lan.pcap" | awk '
  $2 == "type=OFFER" || $2 == "type=ACK" {
    for (i = 1; i <= NF; i++) { if ($i ~ /^yiaddr=/) y = substr($i, 8); if ($i ~ /^chaddr=/) c = substr($i, 8) }
    if (y in owner && owner[y] != c) { n++; print y, owner[y], c > "/dev/stderr" }
    owner[y] = c
  }
  END { print n + 0 }')
[ "$dups" = 0 ] || fail "$dups addresses offered or acknowledged to two clients"
echo "ok: no address offered or acknowledged to two clients (every OFFER and ACK on the LAN)"

echo "failover-joind-failures: joind+joind: cut link detected in $t_cut s, no partner-down, normal again $t_heal s after it came back; killed secondary detected in $t_detect s; secs 5 clients served, no partner-down; partner-down $t_pd s after the evidence burst; back to normal $t_back s after the restart (primary: $p_states; secondary: $s_states); duplicates 0"
echo PASS
