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
#  - the secondary restarted on its store returns (recover, then recover-wait, as the draft requires of
#    a server whose peer was partner-down; MCLT 20 s here), and both reach normal again. The wait ends
#    at the stos it saved before it died + MCLT, not MCLT after its recover: like dhcpd, a server keeps
#    its saved stos coming out of startup (dhcp_failover_set_state).
# FO_SECONDARY=dhcpd (failover-joind-dhcpd-failures.test.sh) runs it with ISC dhcpd 4.4.3 as the
# secondary, killed by the PID in its dhcpd.pid and restarted on its lease file; its states are read
# from its log ("I move from X to Y", "Both servers normal"), only the lines after a mark counting.
# dhcpd does not load-balance in communications-interrupted (dhcp.c tests for the cooperating service
# state only), so on the cut link it may answer the primary's clients too: then every client must be
# answered and the joind primary must answer exactly its own hash buckets. On its return dhcpd's
# recover-done must come at the stos in its lease file + MCLT, the joind primary partner-down until then.
# The measured numbers are printed on one line starting "${FO_TEST:-failover-joind-failures}:", naming
# the pair. KEEP_WORK=1 keeps the work folder. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
S_KIND=${FO_SECONDARY:-joind}
FO_TEST=${FO_TEST:-failover-joind-failures}
case $S_KIND in joind|dhcpd) ;; *) echo "FAIL: FO_SECONDARY: joind or dhcpd, not '$S_KIND'"; exit 1 ;; esac
# shellcheck source=lib/need.sh
. "$here/lib/need.sh"
bed_need ip sysctl timeout tcpdump node /usr/bin/python3 py:scapy
[ "$S_KIND" = joind ] || bed_need dhcpd
[ "$(id -u)" = 0 ] || { echo "skip: $FO_TEST needs root (network namespaces)"; exit 77; }
# A short MCLT: the returning secondary waits it out in recover-wait (its peer is partner-down).
PAIR_MCLT=${PAIR_MCLT:-20}
# shellcheck source=lib/pair.sh
. "$here/lib/pair.sh"
[ -f "$PAIR_JOIND_DIST/src/cli/main.js" ] || { echo "skip: $FO_TEST: joind is not built"; exit 77; }

FAIL_CONTEXT="joind+$S_KIND"
pair_test_begin "$FO_TEST" ff$$
FAIL_LOGS=("joind p:p/joind.log" "$S_KIND s:$(pair_server_log "$S_KIND" s)")
S_LOG=$(pair_server_log "$S_KIND" "$WORK/s")

# state R — joind R's (p or s) state and partner state from `joind ctl failover`: "STATE PARTNER".
state() { pair_joind_failover "$WORK/$1/spool" state partnerState 2>/dev/null; }
# wait_state R STATE SECONDS — until joind R's own state is STATE (bounded).
wait_state() { pair_joind_wait_own "$WORK/$1/spool" "$2" "$3"; }
# s_mark — the secondary's log length in lines: a mark, after which s_since and s_logged look.
s_mark() { if [ -f "$S_LOG" ]; then wc -l < "$S_LOG"; else echo 0; fi; }
# s_since MARK — the secondary's log after its first MARK lines.
s_since() { tail -n +"$(( $1 + 1 ))" "$S_LOG"; }
# s_logged MARK ERE — a line of the secondary's log after line MARK matches ERE.
s_logged() { s_since "$1" | grep -Eq -- "$2"; }
# s_moved MARK STATE — dhcpd said "failover peer NAME: I move from X to STATE" after line MARK.
s_moved() { s_logged "$1" "failover peer [^:]+: I move from [^ ]+ to $2\$"; }
# s_normal MARK — dhcpd said "failover peer NAME: Both servers normal" after line MARK.
s_normal() { s_logged "$1" 'failover peer [^:]+: Both servers normal'; }
# s_states MARK — the secondary's own states after line MARK (pair_states, pair_joind_states): "X Y Z".
s_states() {
  case $S_KIND in dhcpd) pair_states <(s_since "$1") ;; joind) pair_joind_states <(s_since "$1") ;; esac
}
# s_state — dhcpd's state now: the last "I move from X to Y" of its log.
s_state() { pair_states "$S_LOG" | awk '{ print $NF }'; }
# dhcpd_stos STATE — seconds since 1970 of the last "my state STATE at …" of dhcpd's lease file (its
# stos, written UTC; STATE an ERE, [a-z-]+ for any); nothing if there is none.
dhcpd_stos() {
  local at
  at=$(grep -E "^  my state $1 at [0-6] " "$WORK/s/dhcpd.leases" | tail -n 1 | awk '{ print $6, $7 }' | tr -d ';')
  [ -n "$at" ] && date -u -d "$at" +%s
}
# p_last_normal — seconds since 1970 (whole) of the primary's last FAILOVER_STATE to normal.
p_last_normal() {
  grep '"msgId":"FAILOVER_STATE"' "$WORK/p/joind.log" | grep '"to":"normal"' | tail -n 1 \
    | sed -n 's/.*"time":"\([^"]*\)".*/\1/p' | { read -r t && date -u -d "$t" +%s; }
}

pair_up "$P" || fail "pair_up"
BED_LIFETIME=$(( 300 + 4 * PAIR_MCLT )) capture_start "$P" "$(bed_ns "$P" sw)" br0 "$WORK/lan.pcap" || fail "capture of the LAN"
LAN_CAPTURE=$CAPTURE_PID

# --- normal/normal, balanced --------------------------------------------------------------------------
pair_joind_start "$P" primary "$WORK/p" || fail "joind primary did not start"
pair_server_start "$P" "$S_KIND" secondary "$WORK/s" || fail "$S_KIND secondary did not start"
pair_joind_wait_normal "$WORK/p/spool" 30 || fail "not normal/normal: $PAIR_JOIND_LAST"
if [ "$S_KIND" = joind ]; then
  pair_joind_wait_normal "$WORK/s/spool" 10 || fail "secondary not normal/normal: $PAIR_JOIND_LAST"
else
  pair_wait_normal "$S_LOG" 10 || fail "dhcpd secondary does not say Both servers normal: $(pair_states "$S_LOG")"
fi
pair_joind_wait_quiet "$WORK/p/spool" 50 || fail "pools not balanced: $PAIR_JOIND_LAST"
echo "ok: normal/normal, pools balanced (50 free, 50 backup)"

# burst NAME ARGS… — pair_burst in this bed; B: its key=value summary.
burst() { pair_burst "$P" "$WORK" "$@" || fail "discover-burst ($1): $(tail -n 5 "$WORK/burst-$1.log")"; }

# --- a partition of the failover link alone: both serve their own clients, neither goes partner-down -----
mark=$(s_mark)
cut=$(pair_now)
pair_link "$P" down || fail "pair_link down"
wait_state p communications-interrupted 20 || fail "primary not communications-interrupted after the cut: $(state p)"
if [ "$S_KIND" = joind ]; then
  wait_state s communications-interrupted 20 || fail "secondary not communications-interrupted after the cut: $(state s)"
else
  bed_wait_for 20 s_moved "$mark" communications-interrupted \
    || fail "dhcpd secondary not communications-interrupted after the cut: $(s_states "$mark")"
fi
t_cut=$(pair_since "$cut")
burst cut --first 5001 --count 12 --secs 0
if [ "$S_KIND" = joind ]; then
  [ "${B[both]}" = 0 ] && [ "${B[none]}" = 0 ] && [ "${B[as_predicted]}" = "${B[count]}" ] && [ "${B[strangers]}" = 0 ] \
    || fail "cut link, secs 0: each client should be answered by its own server alone: $(tail -n 1 "$WORK/burst-cut.log")"
  [[ "$(state p)" == "communications-interrupted "* ]] && [[ "$(state s)" == "communications-interrupted "* ]] \
    || fail "a cut link alone must not bring partner-down: primary $(state p), secondary $(state s)"
  echo "ok: failover link cut: both communications-interrupted after $t_cut s; ${B[count]} clients each answered by its own server (p ${B[p]}, s ${B[s]}); no partner-down"
else
  # dhcpd, not load balancing, may answer any client; the joind primary exactly its own buckets (a
  # line of burst-cut.txt: MAC BUCKET PREDICTED ANSWERED).
  wrong=$(awk '($3 == "p" && $4 != "p" && $4 != "both") || ($3 == "s" && $4 != "s")' "$WORK/burst-cut.txt" | head -n 3 | paste -sd ';')
  [ "${B[none]}" = 0 ] && [ "${B[strangers]}" = 0 ] && [ "${B[predicted_p]}" -ge 1 ] && [ "${B[predicted_s]}" -ge 1 ] && [ -z "$wrong" ] \
    || fail "cut link, secs 0: every client answered, the joind primary exactly its own buckets: $(tail -n 1 "$WORK/burst-cut.log")${wrong:+; $wrong}"
  [[ "$(state p)" == "communications-interrupted "* ]] && [ "$(s_state)" = communications-interrupted ] && ! s_moved "$mark" partner-down \
    || fail "a cut link alone must not bring partner-down: primary $(state p), dhcpd secondary $(s_states "$mark")"
  echo "ok: failover link cut: both communications-interrupted after $t_cut s; ${B[count]} clients all answered, the primary's ${B[predicted_p]} by the primary" \
    "(dhcpd too: ${B[both]}), the secondary's ${B[predicted_s]} by dhcpd alone; no partner-down"
fi
mark=$(s_mark)
healed=$(pair_now)
pair_link "$P" up || fail "pair_link up"
pair_joind_wait_normal "$WORK/p/spool" 60 || fail "primary not normal again after the link came back: $PAIR_JOIND_LAST"
if [ "$S_KIND" = joind ]; then
  pair_joind_wait_normal "$WORK/s/spool" 10 || fail "secondary not normal again after the link came back: $PAIR_JOIND_LAST"
else
  bed_wait_for 10 s_normal "$mark" || fail "dhcpd secondary does not say Both servers normal after the link came back: $(s_states "$mark")"
fi
t_heal=$(pair_since "$healed")
echo "ok: link back: both normal again after $t_heal s"

# --- the secondary dies ----------------------------------------------------------------------------------
# The server itself (its pid file), not the bed's wrapper around it: SIGKILL is not passed on.
if [ "$S_KIND" = joind ]; then S_PID=$(cat "$WORK/s/spool/joind.pid") || fail "no pid file of the secondary"
else S_PID=$(cat "$WORK/s/dhcpd.pid") || fail "no pid file of the dhcpd secondary"; fi
killed=$(pair_now)
kill -KILL "$S_PID" || fail "kill -KILL $S_PID"
wait_state p communications-interrupted 15 || fail "primary not communications-interrupted: $(state p)"
t_detect=$(pair_since "$killed")
bed_wait_for 10 pair_gone "$S_PID" || fail "the secondary ($S_PID) did not die"
echo "ok: secondary killed; the primary in communications-interrupted after $t_detect s"

# Clients of both halves, waiting 5 s (past load balance max seconds 3, below failover_unacked_secs 10).
burst wait5 --first 3001 --count 12 --secs 5 --max-p 40
[ "${B[p]}" = "${B[count]}" ] && [ "${B[s]}" = 0 ] && [ "${B[strangers]}" = 0 ] \
  || fail "secs 5 burst: every DISCOVER should be answered by the primary alone: $(tail -n 1 "$WORK/burst-wait5.log")"
[ "${B[predicted_s]}" -ge 3 ] || fail "secs 5 burst: too few clients of the secondary's buckets to mean anything (${B[predicted_s]})"
[[ "$(state p)" == "communications-interrupted "* ]] || fail "clients waiting 5 s are no evidence, yet the primary is $(state p)"
echo "ok: ${B[count]} DISCOVERs with secs 5 (${B[predicted_s]} of the secondary's buckets) all answered by the primary, still communications-interrupted"

# Clients of the secondary's buckets that have waited 15 s: evidence, partner-down at the tenth.
evidence=$(pair_now)
burst wait15 --first 4001 --count 30 --secs 15 --max-p 30
wait_state p partner-down 10 || fail "no partner-down after ${B[predicted_s]} clients of the secondary waited 15 s: $(state p)"
t_pd=$(pair_since "$evidence")
grep -q '"msgId":"FAILOVER_PEER_UNRESPONSIVE"' "$WORK/p/joind.log" || fail "no FAILOVER_PEER_UNRESPONSIVE line"
[ "${B[predicted_s]}" -ge 10 ] || fail "partner-down with fewer than 10 clients of evidence (${B[predicted_s]})"
echo "ok: partner-down $t_pd s after ${B[predicted_s]} clients of the secondary's buckets waited 15 s (FAILOVER_PEER_UNRESPONSIVE)"

# --- the secondary returns ----------------------------------------------------------------------------
mark=$(s_mark)
returned=$(pair_now)
if [ "$S_KIND" = joind ]; then
  pair_joind_start "$P" secondary "$WORK/s" || fail "joind secondary did not restart"
else
  # On its lease file (saved state normal); its stale pid file would stop it. Coming out of startup dhcpd
  # keeps the stos it saved (failover.c dhcp_failover_set_state, "Keep the old stos if we're … coming
  # into or out of startup"): its recover-wait ends at that stos + MCLT, not MCLT after its recover.
  saved_stos=$(dhcpd_stos '[a-z-]+') || fail "no failover state in dhcpd's lease file"
  rw_end=$(( saved_stos + PAIR_MCLT ))
  (( rw_end > ${returned%.*} + 2 )) \
    || fail "dhcpd restarted $(( ${returned%.*} - saved_stos )) s after its saved stos, too late to see its recover-wait (MCLT $PAIR_MCLT s)"
  rm -f "$WORK/s/dhcpd.pid"
  pair_dhcpd_start "$P" secondary "$WORK/s" || fail "dhcpd secondary did not restart"
  # (pair_dhcpd_start also finds the first start's line: wait for this one's.)
  bed_wait_for 10 s_logged "$mark" '^Server starting service' || fail "dhcpd secondary did not restart: $(s_since "$mark" | tail -n 5)"
  # Its peer is partner-down: recover (UPDREQALL), then recover-wait for the MCLT, silent meanwhile.
  bed_wait_for 20 s_moved "$mark" recover || fail "the restarted dhcpd did not go to recover: $(s_states "$mark")"
  t_recover=$(pair_since "$returned")
  bed_wait_for 20 s_moved "$mark" recover-wait || fail "the restarted dhcpd did not go to recover-wait: $(s_states "$mark")"
  t_rwait=$(pair_since "$returned")
  [[ "$(state p)" == "partner-down "* ]] || fail "the primary should serve alone while dhcpd recovers: $(state p)"
fi
pair_joind_wait_normal "$WORK/p/spool" $(( PAIR_MCLT + 40 )) || fail "primary not back to normal/normal: $PAIR_JOIND_LAST ($(pair_joind_states "$WORK/p/joind.log"))"
if [ "$S_KIND" = joind ]; then
  pair_joind_wait_normal "$WORK/s/spool" 10 || fail "secondary not back to normal/normal: $PAIR_JOIND_LAST"
else
  bed_wait_for 10 s_normal "$mark" || fail "dhcpd secondary does not say Both servers normal after its restart: $(s_states "$mark")"
fi
t_back=$(pair_since "$returned")
if [ "$S_KIND" = joind ]; then
  p_states=$(pair_joind_states "$WORK/p/joind.log") s_states=$(pair_joind_states "$WORK/s/joind.log")
  echo "ok: both normal again $t_back s after the secondary's restart; primary: $p_states; secondary: $s_states"
else
  p_states=$(pair_joind_states "$WORK/p/joind.log") s_states=$(s_states "$mark")
  [[ " $s_states" == *" recover recover-wait recover-done normal" ]] \
    || fail "the restarted dhcpd's states should end recover recover-wait recover-done normal: $s_states"
  # recover-done when its saved stos + MCLT came (dhcpd's clock: whole seconds), and the primary
  # partner-down until then.
  rdone=$(dhcpd_stos recover-done) || fail "no recover-done in dhcpd's lease file"
  (( rdone >= rw_end && rdone <= rw_end + 3 )) \
    || fail "dhcpd's recover-done at $rdone, its saved stos + MCLT at $rw_end"
  p_normal=$(p_last_normal) || fail "no FAILOVER_STATE to normal in the primary's log"
  (( p_normal >= rdone )) || fail "the primary left partner-down at $p_normal, before dhcpd's recover-done at $rdone"
  t_rdone=$(( rdone - ${returned%.*} ))
  echo "ok: both normal again $t_back s after the dhcpd secondary's restart (recover after $t_recover s, recover-wait after $t_rwait s," \
    "recover-done about ${t_rdone} s after the restart (whole seconds): its saved stos + MCLT, $(( rw_end - saved_stos )) s); primary: $p_states; dhcpd since its restart: $s_states"
fi

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

echo "$FO_TEST: joind+$S_KIND: cut link detected in $t_cut s, no partner-down, normal again $t_heal s after it came back; killed secondary detected in $t_detect s; secs 5 clients served, no partner-down; partner-down $t_pd s after the evidence burst; back to normal $t_back s after the restart${t_rwait:+ (recover after $t_recover s, recover-wait after $t_rwait s, recover-done about ${t_rdone} s after, at its saved stos + MCLT)} (primary: $p_states; secondary: $s_states); duplicates 0"
echo PASS
