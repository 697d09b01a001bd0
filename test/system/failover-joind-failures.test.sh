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
#  - no address handed to two clients at once (every OFFER and ACK on the LAN, lib/lan-leases.py);
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
# FO_PRIMARY=dhcpd (failover-dhcpd-joind-failures.test.sh) swaps the roles: dhcpd is the primary that
# is cut off and killed, and the joind secondary is the survivor that serves on, gathers the evidence
# and goes partner-down. Below, J is the joind survivor's folder (p, or s when the primary is dhcpd)
# and V the folder of the unit that is killed (its "victim").
# The measured numbers are printed on one line starting "${FO_TEST:-failover-joind-failures}:", naming
# the pair. KEEP_WORK=1 keeps the work folder. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
P_KIND=${FO_PRIMARY:-joind} S_KIND=${FO_SECONDARY:-joind}
FO_TEST=${FO_TEST:-failover-joind-failures}
case "$P_KIND+$S_KIND" in
  joind+joind|joind+dhcpd) J=p V=s J_ROLE=primary V_ROLE=secondary V_KIND=$S_KIND ;;
  dhcpd+joind) J=s V=p J_ROLE=secondary V_ROLE=primary V_KIND=dhcpd ;;
  *) echo "FAIL: FO_PRIMARY+FO_SECONDARY: joind+joind, joind+dhcpd or dhcpd+joind, not '$P_KIND+$S_KIND'"; exit 1 ;;
esac
# shellcheck source=lib/need.sh
. "$here/lib/need.sh"
bed_need ip sysctl timeout tcpdump node /usr/bin/python3 py:scapy
[ "$V_KIND" = joind ] || bed_need dhcpd
[ "$(id -u)" = 0 ] || { echo "skip: $FO_TEST needs root (network namespaces)"; exit 77; }
# A short MCLT: the returning secondary waits it out in recover-wait (its peer is partner-down).
PAIR_MCLT=${PAIR_MCLT:-20}
# shellcheck source=lib/pair.sh
. "$here/lib/pair.sh"
[ -f "$PAIR_JOIND_DIST/src/cli/main.js" ] || { echo "skip: $FO_TEST: joind is not built"; exit 77; }

FAIL_CONTEXT="$P_KIND+$S_KIND"
pair_test_begin "$FO_TEST" ff$$
FAIL_LOGS=("$P_KIND p:$(pair_server_log "$P_KIND" p)" "$S_KIND s:$(pair_server_log "$S_KIND" s)")
V_LOG=$(pair_server_log "$V_KIND" "$WORK/$V")

# state R — joind R's (p or s) state and partner state from `joind ctl failover`: "STATE PARTNER".
state() { pair_joind_failover "$WORK/$1/spool" state partnerState 2>/dev/null; }
# wait_state R STATE SECONDS — until joind R's own state is STATE (bounded).
wait_state() { pair_joind_wait_own "$WORK/$1/spool" "$2" "$3"; }
# v_mark — the victim's log length in lines: a mark, after which v_since and v_logged look.
v_mark() { if [ -f "$V_LOG" ]; then wc -l < "$V_LOG"; else echo 0; fi; }
# v_since MARK — the victim's log after its first MARK lines.
v_since() { tail -n +"$(( $1 + 1 ))" "$V_LOG"; }
# v_logged MARK ERE — a line of the victim's log after line MARK matches ERE.
v_logged() { v_since "$1" | grep -Eq -- "$2"; }
# v_moved MARK STATE — dhcpd said "failover peer NAME: I move from X to STATE" after line MARK.
v_moved() { v_logged "$1" "failover peer [^:]+: I move from [^ ]+ to $2\$"; }
# v_normal MARK — dhcpd said "failover peer NAME: Both servers normal" after line MARK.
v_normal() { v_logged "$1" 'failover peer [^:]+: Both servers normal'; }
# v_states MARK — the victim's own states after line MARK (pair_states, pair_joind_states): "X Y Z".
v_states() {
  case $V_KIND in dhcpd) pair_states <(v_since "$1") ;; joind) pair_joind_states <(v_since "$1") ;; esac
}
# v_state — dhcpd's state now: the last "I move from X to Y" of its log.
v_state() { pair_states "$V_LOG" | awk '{ print $NF }'; }
# dhcpd_stos STATE — seconds since 1970 of the last "my state STATE at …" of the dhcpd victim's lease
# file (its stos, written UTC; STATE an ERE, [a-z-]+ for any); nothing if there is none.
dhcpd_stos() {
  local at
  at=$(grep -E "^  my state $1 at [0-6] " "$WORK/$V/dhcpd.leases" | tail -n 1 | awk '{ print $6, $7 }' | tr -d ';')
  [ -n "$at" ] && date -u -d "$at" +%s
}
# j_last_normal — seconds since 1970 (whole) of the joind survivor's last FAILOVER_STATE to normal.
j_last_normal() {
  grep '"msgId":"FAILOVER_STATE"' "$WORK/$J/joind.log" | grep '"to":"normal"' | tail -n 1 \
    | sed -n 's/.*"time":"\([^"]*\)".*/\1/p' | { read -r t && date -u -d "$t" +%s; }
}

pair_up "$P" || fail "pair_up"
BED_LIFETIME=$(( 300 + 4 * PAIR_MCLT )) capture_start "$P" "$(bed_ns "$P" sw)" br0 "$WORK/lan.pcap" || fail "capture of the LAN"
LAN_CAPTURE=$CAPTURE_PID

# --- normal/normal, balanced --------------------------------------------------------------------------
pair_server_start "$P" "$P_KIND" primary "$WORK/p" || fail "$P_KIND primary did not start"
pair_server_start "$P" "$S_KIND" secondary "$WORK/s" || fail "$S_KIND secondary did not start"
pair_joind_wait_normal "$WORK/$J/spool" 30 || fail "the joind $J_ROLE is not normal/normal: $PAIR_JOIND_LAST"
if [ "$V_KIND" = joind ]; then
  pair_joind_wait_normal "$WORK/$V/spool" 10 || fail "the joind $V_ROLE is not normal/normal: $PAIR_JOIND_LAST"
else
  pair_wait_normal "$V_LOG" 10 || fail "the dhcpd $V_ROLE does not say Both servers normal: $(pair_states "$V_LOG")"
fi
# Balanced: half of the 100 addresses backup (a dhcpd primary balances to within one address).
# s_balanced — the joind secondary has 49 to 51 backup addresses and no update queued or unacked.
s_balanced() { [[ "$(pair_joind_failover "$WORK/s/spool" backup unackedUpdates queuedUpdates)" =~ ^(49|50|51)\ 0\ 0$ ]]; }
if [ "$P_KIND" = joind ]; then
  pair_joind_wait_quiet "$WORK/p/spool" 50 || fail "pools not balanced: $PAIR_JOIND_LAST"
else
  bed_wait_for 10 s_balanced || fail "pools not balanced by the dhcpd primary: $(pair_joind_failover "$WORK/s/spool")"
fi
echo "ok: normal/normal ($P_KIND primary, $S_KIND secondary), pools balanced ($(pair_joind_failover "$WORK/$J/spool" backup) backup)"

# burst NAME ARGS… — pair_burst in this bed; B: its key=value summary.
burst() { pair_burst "$P" "$WORK" "$@" || fail "discover-burst ($1): $(tail -n 5 "$WORK/burst-$1.log")"; }

# --- a partition of the failover link alone: both serve their own clients, neither goes partner-down -----
mark=$(v_mark)
cut=$(pair_now)
pair_link "$P" down || fail "pair_link down"
wait_state "$J" communications-interrupted 20 || fail "the joind $J_ROLE is not communications-interrupted after the cut: $(state "$J")"
if [ "$V_KIND" = joind ]; then
  wait_state "$V" communications-interrupted 20 || fail "the joind $V_ROLE is not communications-interrupted after the cut: $(state "$V")"
else
  bed_wait_for 20 v_moved "$mark" communications-interrupted \
    || fail "the dhcpd $V_ROLE is not communications-interrupted after the cut: $(v_states "$mark")"
fi
t_cut=$(pair_since "$cut")
burst cut --first 5001 --count 12 --secs 0
if [ "$V_KIND" = joind ]; then
  [ "${B[both]}" = 0 ] && [ "${B[none]}" = 0 ] && [ "${B[as_predicted]}" = "${B[count]}" ] && [ "${B[strangers]}" = 0 ] \
    || fail "cut link, secs 0: each client should be answered by its own server alone: $(tail -n 1 "$WORK/burst-cut.log")"
  [[ "$(state p)" == "communications-interrupted "* ]] && [[ "$(state s)" == "communications-interrupted "* ]] \
    || fail "a cut link alone must not bring partner-down: primary $(state p), secondary $(state s)"
  echo "ok: failover link cut: both communications-interrupted after $t_cut s; ${B[count]} clients each answered by its own server (p ${B[p]}, s ${B[s]}); no partner-down"
else
  # dhcpd, not load balancing, may answer any client; the joind exactly its own buckets (a line of
  # burst-cut.txt: MAC BUCKET PREDICTED ANSWERED).
  wrong=$(awk -v j="$J" -v v="$V" '($3 == j && $4 != j && $4 != "both") || ($3 == v && $4 != v)' "$WORK/burst-cut.txt" | head -n 3 | paste -sd ';')
  [ "${B[none]}" = 0 ] && [ "${B[strangers]}" = 0 ] && [ "${B[predicted_p]}" -ge 1 ] && [ "${B[predicted_s]}" -ge 1 ] && [ -z "$wrong" ] \
    || fail "cut link, secs 0: every client answered, the joind $J_ROLE exactly its own buckets: $(tail -n 1 "$WORK/burst-cut.log")${wrong:+; $wrong}"
  [[ "$(state "$J")" == "communications-interrupted "* ]] && [ "$(v_state)" = communications-interrupted ] && ! v_moved "$mark" partner-down \
    || fail "a cut link alone must not bring partner-down: joind $J_ROLE $(state "$J"), dhcpd $V_ROLE $(v_states "$mark")"
  echo "ok: failover link cut: both communications-interrupted after $t_cut s; ${B[count]} clients all answered, the joind $J_ROLE's ${B[predicted_$J]} by it" \
    "(dhcpd too: ${B[both]}), the dhcpd $V_ROLE's ${B[predicted_$V]} by dhcpd alone; no partner-down"
fi
mark=$(v_mark)
healed=$(pair_now)
pair_link "$P" up || fail "pair_link up"
pair_joind_wait_normal "$WORK/$J/spool" 60 || fail "the joind $J_ROLE is not normal again after the link came back: $PAIR_JOIND_LAST"
if [ "$V_KIND" = joind ]; then
  pair_joind_wait_normal "$WORK/$V/spool" 10 || fail "the joind $V_ROLE is not normal again after the link came back: $PAIR_JOIND_LAST"
else
  bed_wait_for 10 v_normal "$mark" || fail "the dhcpd $V_ROLE does not say Both servers normal after the link came back: $(v_states "$mark")"
fi
t_heal=$(pair_since "$healed")
echo "ok: link back: both normal again after $t_heal s"

# --- the victim dies -------------------------------------------------------------------------------------
# The server itself (its pid file), not the bed's wrapper around it: SIGKILL is not passed on.
if [ "$V_KIND" = joind ]; then V_PID=$(cat "$WORK/$V/spool/joind.pid") || fail "no pid file of the joind $V_ROLE"
else V_PID=$(cat "$WORK/$V/dhcpd.pid") || fail "no pid file of the dhcpd $V_ROLE"; fi
killed=$(pair_now)
kill -KILL "$V_PID" || fail "kill -KILL $V_PID"
wait_state "$J" communications-interrupted 15 || fail "the joind $J_ROLE is not communications-interrupted: $(state "$J")"
t_detect=$(pair_since "$killed")
bed_wait_for 10 pair_gone "$V_PID" || fail "the $V_ROLE ($V_PID) did not die"
echo "ok: $V_ROLE killed; the joind $J_ROLE in communications-interrupted after $t_detect s"

# Clients of both halves, waiting 5 s (past load balance max seconds 3, below failover_unacked_secs 10).
burst wait5 --first 3001 --count 12 --secs 5 "--max-$J" 40
[ "${B[$J]}" = "${B[count]}" ] && [ "${B[$V]}" = 0 ] && [ "${B[strangers]}" = 0 ] \
  || fail "secs 5 burst: every DISCOVER should be answered by the joind $J_ROLE alone: $(tail -n 1 "$WORK/burst-wait5.log")"
[ "${B[predicted_$V]}" -ge 3 ] || fail "secs 5 burst: too few clients of the $V_ROLE's buckets to mean anything (${B[predicted_$V]})"
[[ "$(state "$J")" == "communications-interrupted "* ]] || fail "clients waiting 5 s are no evidence, yet the joind $J_ROLE is $(state "$J")"
echo "ok: ${B[count]} DISCOVERs with secs 5 (${B[predicted_$V]} of the $V_ROLE's buckets) all answered by the joind $J_ROLE, still communications-interrupted"

# Clients of the victim's buckets that have waited 15 s: evidence, partner-down at the tenth.
evidence=$(pair_now)
burst wait15 --first 4001 --count 30 --secs 15 "--max-$J" 30
wait_state "$J" partner-down 10 || fail "no partner-down after ${B[predicted_$V]} clients of the $V_ROLE waited 15 s: $(state "$J")"
t_pd=$(pair_since "$evidence")
grep -q '"msgId":"FAILOVER_PEER_UNRESPONSIVE"' "$WORK/$J/joind.log" || fail "no FAILOVER_PEER_UNRESPONSIVE line"
[ "${B[predicted_$V]}" -ge 10 ] || fail "partner-down with fewer than 10 clients of evidence (${B[predicted_$V]})"
echo "ok: partner-down $t_pd s after ${B[predicted_$V]} clients of the $V_ROLE's buckets waited 15 s (FAILOVER_PEER_UNRESPONSIVE)"

# --- the victim returns ----------------------------------------------------------------------------
mark=$(v_mark)
returned=$(pair_now)
if [ "$V_KIND" = joind ]; then
  pair_joind_start "$P" "$V_ROLE" "$WORK/$V" || fail "the joind $V_ROLE did not restart"
else
  # On its lease file (saved state normal); its stale pid file would stop it. Coming out of startup dhcpd
  # keeps the stos it saved (failover.c dhcp_failover_set_state, "Keep the old stos if we're … coming
  # into or out of startup"): its recover-wait ends at that stos + MCLT, not MCLT after its recover.
  saved_stos=$(dhcpd_stos '[a-z-]+') || fail "no failover state in dhcpd's lease file"
  rw_end=$(( saved_stos + PAIR_MCLT ))
  (( rw_end > ${returned%.*} + 2 )) \
    || fail "dhcpd restarted $(( ${returned%.*} - saved_stos )) s after its saved stos, too late to see its recover-wait (MCLT $PAIR_MCLT s)"
  rm -f "$WORK/$V/dhcpd.pid"
  pair_dhcpd_start "$P" "$V_ROLE" "$WORK/$V" || fail "the dhcpd $V_ROLE did not restart"
  # (pair_dhcpd_start also finds the first start's line: wait for this one's.)
  bed_wait_for 10 v_logged "$mark" '^Server starting service' || fail "the dhcpd $V_ROLE did not restart: $(v_since "$mark" | tail -n 5)"
  # Its peer is partner-down: recover (UPDREQALL), then recover-wait for the MCLT, silent meanwhile.
  bed_wait_for 20 v_moved "$mark" recover || fail "the restarted dhcpd did not go to recover: $(v_states "$mark")"
  t_recover=$(pair_since "$returned")
  bed_wait_for 20 v_moved "$mark" recover-wait || fail "the restarted dhcpd did not go to recover-wait: $(v_states "$mark")"
  t_rwait=$(pair_since "$returned")
  [[ "$(state "$J")" == "partner-down "* ]] || fail "the joind $J_ROLE should serve alone while dhcpd recovers: $(state "$J")"
fi
pair_joind_wait_normal "$WORK/$J/spool" $(( PAIR_MCLT + 40 )) \
  || fail "the joind $J_ROLE is not back to normal/normal: $PAIR_JOIND_LAST ($(pair_joind_states "$WORK/$J/joind.log"))"
if [ "$V_KIND" = joind ]; then
  pair_joind_wait_normal "$WORK/$V/spool" 10 || fail "the joind $V_ROLE is not back to normal/normal: $PAIR_JOIND_LAST"
else
  bed_wait_for 10 v_normal "$mark" || fail "the dhcpd $V_ROLE does not say Both servers normal after its restart: $(v_states "$mark")"
fi
t_back=$(pair_since "$returned")
j_states=$(pair_joind_states "$WORK/$J/joind.log")
if [ "$V_KIND" = joind ]; then
  v_states_now=$(pair_joind_states "$WORK/$V/joind.log")
  echo "ok: both normal again $t_back s after the $V_ROLE's restart; $J_ROLE: $j_states; $V_ROLE: $v_states_now"
else
  v_states_now=$(v_states "$mark")
  [[ " $v_states_now" == *" recover recover-wait recover-done normal" ]] \
    || fail "the restarted dhcpd's states should end recover recover-wait recover-done normal: $v_states_now"
  # recover-done when its saved stos + MCLT came (dhcpd's clock: whole seconds), and the joind
  # partner-down until then.
  rdone=$(dhcpd_stos recover-done) || fail "no recover-done in dhcpd's lease file"
  (( rdone >= rw_end && rdone <= rw_end + 3 )) \
    || fail "dhcpd's recover-done at $rdone, its saved stos + MCLT at $rw_end"
  j_normal=$(j_last_normal) || fail "no FAILOVER_STATE to normal in the joind $J_ROLE's log"
  (( j_normal >= rdone )) || fail "the joind $J_ROLE left partner-down at $j_normal, before dhcpd's recover-done at $rdone"
  t_rdone=$(( rdone - ${returned%.*} ))
  echo "ok: both normal again $t_back s after the dhcpd $V_ROLE's restart (recover after $t_recover s, recover-wait after $t_rwait s," \
    "recover-done about ${t_rdone} s after the restart (whole seconds): its saved stos + MCLT, $(( rw_end - saved_stos )) s); joind $J_ROLE: $j_states; dhcpd since its restart: $v_states_now"
fi

# --- no address handed to two clients at once ------------------------------------------------------------
# lib/lan-leases.py: an ACK holds its address for its lease, an OFFER for the 60 s joind holds an offer.
# With dhcpd in the pair an OFFER holds only against its own server's replies: a dhcpd primary gives
# addresses it has merely offered to its peer in the pool balance after the link returns.
capture_stop "$P" "$LAN_CAPTURE"
per_server=()
[ "$V_KIND" = dhcpd ] && per_server=(--offers-per-server)
/usr/bin/python3 "$here/lib/lan-leases.py" --hold 60 "${per_server[@]}" "$WORK/lan.pcap" > "$WORK/overlaps.txt" 2>&1 \
  || fail "lan-leases.py: $(tail -n 3 "$WORK/overlaps.txt")"
dups=$(head -n 1 "$WORK/overlaps.txt")
[[ "$dups" == *" dups=0 "* ]] || fail "addresses handed to two clients at once: $(grep '^dup ' "$WORK/overlaps.txt" | head -n 5); $dups"
echo "ok: no address handed to two clients at once (every OFFER and ACK on the LAN: $dups)"

echo "$FO_TEST: $P_KIND+$S_KIND: cut link detected in $t_cut s, no partner-down, normal again $t_heal s after it came back; killed $V_ROLE detected in $t_detect s; secs 5 clients served, no partner-down; partner-down $t_pd s after the evidence burst; back to normal $t_back s after the restart${t_rwait:+ (recover after $t_recover s, recover-wait after $t_rwait s, recover-done about ${t_rdone} s after, at its saved stos + MCLT)} ($J_ROLE: $j_states; $V_ROLE: $v_states_now); duplicates 0"
echo PASS
