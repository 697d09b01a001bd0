#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# failover-joind-restore — a joind pair unit back on a store that is not its own history (issue 14),
# short form, in the pair bed (test/system/lib/pair.sh), MCLT 20 s. "The restored unit" is the joind
# primary, "its peer" the secondary (but see FO_PRIMARY=dhcpd below):
#  1. normal/normal, balanced. The restored unit is stopped (SIGTERM) and the backup it writes at a
#     clean stop (joind.db.bak, saved state communications-interrupted) is put aside: the "old backup".
#  2. The restored unit restarted on its own store: back to normal without recover, after a catch-up
#     (UPDREQALL, FAILOVER_CAUGHT_UP) in which it serves nobody. Time recorded.
#  3. udhcpc clients lease addresses; those the restored unit granted are the leases the old backup
#     lacks. Their interfaces are then emptied (the clients sleep, their leases run on): no ping can
#     save a server that offers one of those addresses again.
#  4. The restored unit dies (SIGKILL) and comes back on the old backup, as the README's recovery tells
#     an admin to do after a damaged joind.db. Expected: FAILOVER_STORE_STALE, then recover and
#     recover-wait (silent meanwhile: a DISCOVER burst at secs 0 is answered by the peer alone, which
#     is partner-down), then normal/normal after the MCLT.
#  5. The peer dies and comes back on a wiped store (no file at all): recover, recover-wait for the
#     MCLT (the restored unit is partner-down meanwhile and serves the burst alone), normal/normal.
#  6. The capture of the LAN (lib/lan-leases.py): no address OFFERed or ACKed to a client while
#     another client's lease of it runs; no reply from a unit while it recovers.
# FO_SECONDARY=dhcpd (failover-joind-dhcpd-restore.test.sh) runs it with ISC dhcpd as the secondary:
# then the catch-up and the stale store's recovery are answered by dhcpd, and step 5 empties dhcpd's
# lease file instead.
# FO_PRIMARY=dhcpd (failover-dhcpd-joind-restore.test.sh) runs it with ISC dhcpd 4.4.3 as the primary
# and swaps the roles of the steps: the restored unit is the joind SECONDARY (its catch-up and its
# recovery from the old backup answered by the dhcpd primary), the wiped one the dhcpd primary (its
# lease file emptied). What dhcpd does there, as ISC's server/failover.c has it:
#  - its peer in recover, the dhcpd primary goes partner-down (dhcp_failover_peer_state_changed:
#    normal + peer recover), answers the UPDREQALL all the same (process_update_request_all and
#    send_updates look at no state of their own), and serves every client meanwhile, returning to
#    normal at the peer's recover-done; the burst checks it is partner-down when it answers alone.
#    (Its states there: communications-interrupted normal partner-down normal, the first normal while
#    the restored joind, saved communications-interrupted, catches up before it finds its store stale.
#    joind in recover asks again when dhcpd moves to partner-down, as dhcpd itself does: recover + peer
#    partner-down sends UPDREQALL; dhcpd drops the first, "old update still flying".)
#  - wiped, it starts in recover (no state in its lease file), asks for everything (UPDREQALL on
#    entering recover), and after the UPDDONE waits in recover-wait until its stos + MCLT
#    (process_update_done: its peer, partner-down, is neither recover nor recover-done), then
#    recover-done, then normal once the joind secondary, partner-down, answers recover-done with normal
#    (so joind's normal comes first, the safe end of dhcpd's silence: its log has no times). Its states
#    are recorded and must end "recover recover-wait recover-done normal".
# FO_PRIMARY=dhcpd with FO_SECONDARY=dhcpd is refused: there is no joind to restore. One line starting
# "${FO_TEST:-failover-joind-restore}:" with the times. KEEP_WORK=1 keeps the work folder. Exit 0
# pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
P_KIND=${FO_PRIMARY:-joind}
S_KIND=${FO_SECONDARY:-joind}
FO_TEST=${FO_TEST:-failover-joind-restore}
case $P_KIND in joind|dhcpd) ;; *) echo "FAIL: FO_PRIMARY: joind or dhcpd, not '$P_KIND'"; exit 1 ;; esac
case $S_KIND in joind|dhcpd) ;; *) echo "FAIL: FO_SECONDARY: joind or dhcpd, not '$S_KIND'"; exit 1 ;; esac
[ "$P_KIND" = dhcpd ] && [ "$S_KIND" = dhcpd ] && { echo "FAIL: FO_PRIMARY=dhcpd and FO_SECONDARY=dhcpd: no joind to restore"; exit 1; }
# J: the joind unit restored (p or s), O: its peer, the unit wiped in step 5; their roles and kinds.
if [ "$P_KIND" = dhcpd ]; then J=s J_ROLE=secondary O=p O_ROLE=primary O_KIND=dhcpd
else J=p J_ROLE=primary O=s O_ROLE=secondary O_KIND=$S_KIND; fi
# shellcheck source=lib/need.sh
. "$here/lib/need.sh"
bed_need ip sysctl timeout tcpdump udhcpc node /usr/bin/python3 py:scapy
[ "$O_KIND" = joind ] || bed_need dhcpd
[ "$(id -u)" = 0 ] || { echo "skip: $FO_TEST needs root (network namespaces)"; exit 77; }
PAIR_MCLT=${PAIR_MCLT:-20}
# With a dhcpd in the pair, max-unacked-updates 3: dhcpd acks a BNDUPD at once only when its peer's
# value is ≤ 3 (failover.c dhcp_failover_queue_ack: at half of it, else from a 2 s timer), and joind
# tells a client its full lease only once the peer has acked it within failover_ack_wait (250 ms); so
# the joind unit's grants of step 3 are full leases that run on through steps 4 and 5, not MCLT-long.
[ "$P_KIND" = dhcpd ] || [ "$S_KIND" = dhcpd ] && PAIR_MAX_UNACKED=${PAIR_MAX_UNACKED:-3}
# shellcheck source=lib/pair.sh
. "$here/lib/pair.sh"
[ -f "$PAIR_JOIND_DIST/src/cli/main.js" ] || { echo "skip: $FO_TEST: joind is not built"; exit 77; }
# Their LAN addresses (each server's id in its replies).
if [ "$J" = p ]; then J_LAN=$PAIR_P_LAN O_LAN=$PAIR_S_LAN; else J_LAN=$PAIR_S_LAN O_LAN=$PAIR_P_LAN; fi

FAIL_CONTEXT="$P_KIND+$S_KIND"
pair_test_begin "$FO_TEST" fr$$
LIB=$here/lib
FAIL_LOGS=("$P_KIND p:$(pair_server_log "$P_KIND" p)" "$S_KIND s:$(pair_server_log "$S_KIND" s)")
O_LOG=$(pair_server_log "$O_KIND" "$WORK/$O")

# state R — joind R's (p or s) state and partner state from `joind ctl failover`: "STATE PARTNER".
state() { pair_joind_failover "$WORK/$1/spool" state partnerState 2>/dev/null; }
# log_since R MARK — joind R's log after its first MARK lines.
log_since() { tail -n +"$(( $2 + 1 ))" "$WORK/$1/joind.log"; }
# lines R — joind R's log length in lines: a mark for log_since and logged.
lines() { wc -l < "$WORK/$1/joind.log"; }
# logged R MARK ID — joind R logged message ID after line MARK.
logged() { log_since "$1" "$2" | grep -q "\"msgId\":\"$3\""; }
# o_mark — the peer's log length in lines: a mark, after which o_since, o_in and o_states look.
o_mark() { if [ -f "$O_LOG" ]; then wc -l < "$O_LOG"; else echo 0; fi; }
# o_since MARK — the peer's log after its first MARK lines.
o_since() { tail -n +"$(( $1 + 1 ))" "$O_LOG"; }
# o_moved MARK STATE — the peer (either kind) moved to STATE after line MARK of its log.
o_moved() {
  case $O_KIND in
    joind) o_since "$1" | grep '"msgId":"FAILOVER_STATE"' | grep -q "\"to\":\"$2\"" ;;
    dhcpd) o_since "$1" | grep -Eq -- "failover peer [^:]+: I move from [^ ]+ to $2\$" ;;
  esac
}
# o_in MARK STATE SECONDS — the peer reached STATE after line MARK of its log, bounded.
o_in() { bed_wait_for "$3" o_moved "$1" "$2"; }
# o_states MARK — the peer's own states after line MARK (pair_states, pair_joind_states): "X Y Z".
o_states() {
  case $O_KIND in dhcpd) pair_states <(o_since "$1") ;; joind) pair_joind_states <(o_since "$1") ;; esac
}
# o_state — the peer's own state now (joind: ctl failover; dhcpd: its last "I move from X to Y").
o_state() {
  case $O_KIND in dhcpd) pair_states "$O_LOG" | awk '{ print $NF }' ;; joind) state "$O" | awk '{ print $1 }' ;; esac
}
# o_stos STATE first|last — seconds since 1970 of the first or last "my state STATE at …" in the dhcpd
# peer's lease file (its stos, written UTC); nothing if there is none.
o_stos() {
  local at
  at=$(grep -E "^  my state $1 at [0-6] " "$WORK/$O/dhcpd.leases" | if [ "$2" = first ]; then head -n 1; else tail -n 1; fi \
    | awk '{ print $6, $7 }' | tr -d ';')
  [ -n "$at" ] && date -u -d "$at" +%s
}
# server_pid R — the server R itself (its pid file), not the bed's wrapper, which passes no SIGKILL on.
server_pid() { if [ "$1" = "$O" ] && [ "$O_KIND" = dhcpd ]; then cat "$WORK/$1/dhcpd.pid"; else cat "$WORK/$1/spool/joind.pid"; fi; }
# last_normal R MARK — seconds since 1970 of joind R's last FAILOVER_STATE to normal after line MARK (a
# restored store passes through normal, silent while it catches up, before it recovers).
last_normal() {
  log_since "$1" "$2" | /usr/bin/python3 -c '
import json, sys, datetime
last = "inf"
for line in sys.stdin:
    if "\"FAILOVER_STATE\"" not in line: continue
    o = json.loads(line)
    if o.get("to") != "normal": continue
    t = o["time"]
    last = t / 1000.0 if isinstance(t, (int, float)) else datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
print(last)'
}
# burst NAME ARGS… — pair_burst in this bed; B: its key=value summary.
burst() { pair_burst "$P" "$WORK" "$@" || fail "discover-burst ($1): $(tail -n 5 "$WORK/burst-$1.log")"; }

pair_up "$P" || fail "pair_up"
BED_LIFETIME=$(( 300 + 4 * PAIR_MCLT )) capture_start "$P" "$(bed_ns "$P" sw)" br0 "$WORK/lan.pcap" || fail "capture of the LAN"
LAN_CAPTURE=$CAPTURE_PID

# --- 1. normal, balanced; the old backup --------------------------------------------------------------
pair_server_start "$P" "$P_KIND" primary "$WORK/p" || fail "$P_KIND primary did not start"
P_WRAP=$PAIR_SERVER_PID
pair_server_start "$P" "$S_KIND" secondary "$WORK/s" || fail "$S_KIND secondary did not start"
S_WRAP=$PAIR_SERVER_PID
J_WRAP=$P_WRAP; [ "$J" = s ] && J_WRAP=$S_WRAP
pair_joind_wait_normal "$WORK/$J/spool" 30 || fail "not normal/normal: $PAIR_JOIND_LAST"
pair_joind_wait_quiet "$WORK/$J/spool" 50 || fail "pools not balanced: $PAIR_JOIND_LAST"
bed_stop "$P" "$J_WRAP" || fail "stopping the joind $J_ROLE"
[ -f "$WORK/$J/spool/joind.db.bak" ] || fail "no joind.db.bak after the $J_ROLE's clean stop"
cp "$WORK/$J/spool/joind.db.bak" "$WORK/old.db" || fail "copying the backup"
saved=$(/usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select my_state from failover_state").fetchone()[0])' "$WORK/old.db") \
  || fail "reading the backup's failover state"
# The link goes first at a stop, so what is saved is communications-interrupted: a state from which a
# start goes straight back to normal, with no recover.
case $saved in normal|communications-interrupted) ;; *) fail "the backup's saved state is $saved" ;; esac
echo "ok: normal/normal, balanced; the joind $J_ROLE's backup at its clean stop holds the saved state $saved"

# --- 2. restart on its own store: catch-up, no recover --------------------------------------------------
mark=$(lines "$J")
t0=$(pair_now)
pair_joind_start "$P" "$J_ROLE" "$WORK/$J" || fail "joind $J_ROLE did not restart"
bed_wait_for 30 logged "$J" "$mark" FAILOVER_CAUGHT_UP || fail "no FAILOVER_CAUGHT_UP after the restart"
pair_joind_wait_normal "$WORK/$J/spool" 30 || fail "not normal/normal after the restart: $PAIR_JOIND_LAST"
t_intact=$(pair_since "$t0")
caught=$(log_since "$J" "$mark" | grep '"msgId":"FAILOVER_CAUGHT_UP"' | head -n 1)
[[ "$caught" == *'"complete":true'* ]] || fail "the catch-up ran out of time instead of ending with the peer's UPDDONE: $caught"
catch_ms=$(sed -n 's/.*"ms":\([0-9]*\).*/\1/p' <<< "$caught")
states=$(log_since "$J" "$mark" | grep '"msgId":"FAILOVER_STATE"' | sed -n 's/.*"to":"\([^"]*\)".*/\1/p' | paste -sd ' ')
[[ " $states " == *" recover "* ]] && fail "a restart on its own store went through recover: $states"
logged "$J" "$mark" FAILOVER_STORE_STALE && fail "its own store was taken for stale"
echo "ok: the joind $J_ROLE restarted on its own store: normal/normal in $t_intact s ($states), catch-up ${catch_ms:-?} ms, no recover"

# --- 3. leases the old backup lacks -----------------------------------------------------------------------
C=$(bed_ns "$P" c)
mapfile -t cifs < <(pair_add_clients "$P" 12)
[ "${#cifs[@]}" = 12 ] || fail "macvlan clients"
from_j=() from_o=()
for (( i = 1; i <= 12; i++ )); do
  run_udhcpc "$C" "cli$i" "$WORK/u$i" || fail "udhcpc on cli$i got nothing: $(tail -n 3 "$WORK/u$i/log")"
  ip=$(bed_result "$WORK/u$i" ip)
  case $(bed_result "$WORK/u$i" serverid) in
    "$J_LAN") from_j+=("$ip") ;;
    "$O_LAN") from_o+=("$ip") ;;
    *) fail "cli$i: served by $(bed_result "$WORK/u$i" serverid)?" ;;
  esac
  ip -n "$C" addr flush dev "cli$i" || fail "emptying cli$i"
done
# (The bed's MACs fix the hash buckets: with split 128, 3 of the 12 are the secondary's, cli6, 8, 10.)
[ "${#from_j[@]}" -ge 3 ] || fail "only ${#from_j[@]} of 12 clients fell to the joind $J_ROLE"
pair_joind_wait_quiet "$WORK/$J/spool" || fail "the joind $J_ROLE's updates did not reach its peer: $PAIR_JOIND_LAST"
echo "ok: 12 clients leased (joind $J_ROLE ${#from_j[@]}: ${from_j[*]}; $O_KIND $O_ROLE ${#from_o[@]}), then asleep (no address on their interfaces)"

# --- 4. the restored unit back on the old backup -------------------------------------------------------
kill -KILL "$(server_pid "$J")" || fail "kill -KILL the joind $J_ROLE"

bed_stop "$P" "$PAIR_JOIND_PID" 2>/dev/null
# The lease journal goes too: it continues the copy (nothing was committed to the database since the
# clean stop), so the start would replay it and the copy would not be old any more (src/store/store.ts).
rm -f "$WORK/$J/spool/joind.db" "$WORK/$J/spool/joind.db-wal" "$WORK/$J/spool/joind.db-shm" "$WORK/$J/spool/joind.pid" \
  "$WORK/$J/spool/joind.journal"
cp "$WORK/old.db" "$WORK/$J/spool/joind.db" || fail "restoring the old backup"
mark=$(lines "$J")
o_mark4=$(o_mark)
t0=$(pair_now)
pair_joind_start "$P" "$J_ROLE" "$WORK/$J" || fail "joind $J_ROLE did not start on the old backup"
bed_wait_for 30 logged "$J" "$mark" FAILOVER_STORE_STALE || fail "the old backup was not found stale: $(state "$J")"
t_stale=$(pair_since "$t0")
bed_wait_for 15 pair_joind_in_state "$WORK/$J/joind.log" recover-wait || fail "no recover-wait: $(state "$J")"
o_in "$o_mark4" partner-down 10 || fail "the $O_KIND $O_ROLE should serve alone meanwhile, in partner-down: $(o_states "$o_mark4")"
note=$(pair_joind_failover "$WORK/$J/spool" note)
[[ "$note" == "recover-wait: serves nobody until "* ]] || fail "joind ctl failover's note in recover-wait: $note"
[ "$(o_state)" = partner-down ] || fail "the $O_KIND $O_ROLE left partner-down before the burst: $(o_states "$o_mark4")"
burst restored --first 6001 --count 24 --secs 0 "--max-$O" 40
[ "${B[$J]}" = 0 ] && [ "${B[both]}" = 0 ] && [ "${B[$O]}" = "${B[count]}" ] \
  || fail "while the joind $J_ROLE recovers, the $O_KIND $O_ROLE alone should answer: $(tail -n 1 "$WORK/burst-restored.log")"
n_restored=${B[count]} own_restored=${B[predicted_$J]}
pair_joind_wait_normal "$WORK/$J/spool" $(( PAIR_MCLT + 40 )) || fail "the restored $J_ROLE not normal again: $PAIR_JOIND_LAST"
t_restored=$(pair_since "$t0")
j_silent="$J_LAN@$t0-$(last_normal "$J" "$mark")"
states=$(log_since "$J" "$mark" | grep '"msgId":"FAILOVER_STATE"' | sed -n 's/.*"to":"\([^"]*\)".*/\1/p' | paste -sd ' ')
o_states4=$(o_states "$o_mark4")
# The peer's partner-down ends when the recovering unit says recover-done (dhcpd or joind alike).
[[ " $o_states4" == *" partner-down normal"* ]] || fail "the $O_KIND $O_ROLE meanwhile: $o_states4 (partner-down, then normal expected)"
# dhcpd answers an UPDREQALL in any state of its own (failover.c process_update_request_all): in
# partner-down too, the recovering joind's request ends with its UPDDONE.
if [ "$O_KIND" = dhcpd ]; then
  o_since "$o_mark4" | awk '/: I move from [^ ]+ to partner-down$/ { pd = 1 } pd && /^Sent update done message/ { ok = 1 } END { exit !ok }' \
    || fail "the dhcpd $O_ROLE sent no UPDDONE in partner-down: $(o_since "$o_mark4" | grep -E 'update|I move' | paste -sd ';')"
fi
echo "ok: on the old backup: found stale after $t_stale s; $states; normal/normal $t_restored s after its start;" \
  "meanwhile the $O_KIND $O_ROLE ($o_states4) answered all $n_restored DISCOVERs ($own_restored of the joind $J_ROLE's buckets)"

# --- 5. the peer on a wiped store ----------------------------------------------------------------------
pid=$(server_pid "$O") || fail "no pid file of the $O_KIND $O_ROLE"
kill -KILL "$pid" || fail "kill -KILL the $O_KIND $O_ROLE"
bed_wait_for 10 pair_gone "$pid" || fail "the $O_KIND $O_ROLE did not die"
if [ "$O_KIND" = joind ]; then rm -rf "$WORK/$O/spool" || fail "wiping the $O_ROLE's store"
else : > "$WORK/$O/dhcpd.leases" || fail "emptying dhcpd's lease file"; rm -f "$WORK/$O/dhcpd.pid"; fi
j_mark=$(lines "$J")
t0=$(pair_now)
mv "$O_LOG" "$O_LOG.before-wipe"
pair_server_start "$P" "$O_KIND" "$O_ROLE" "$WORK/$O" || fail "$O_KIND $O_ROLE did not start on a wiped store"
o_in 0 recover-wait $(( PAIR_MCLT + 15 )) || fail "the wiped $O_ROLE: no recover-wait: $(o_states 0)"
[[ "$(state "$J")" == "partner-down "* ]] || fail "the joind $J_ROLE should serve alone meanwhile: $(state "$J")"
burst wiped --first 7001 --count 24 --secs 0 "--max-$J" 40
[ "${B[$O]}" = 0 ] && [ "${B[both]}" = 0 ] && [ "${B[$J]}" = "${B[count]}" ] \
  || fail "while the $O_ROLE recovers, the joind $J_ROLE alone should answer: $(tail -n 1 "$WORK/burst-wiped.log")"
n_wiped=${B[count]} own_wiped=${B[predicted_$O]}
pair_joind_wait_normal "$WORK/$J/spool" $(( PAIR_MCLT + 40 )) || fail "the wiped $O_ROLE not normal again: $PAIR_JOIND_LAST"
bed_wait_for 10 pair_server_normal "$O_KIND" "$WORK/$O" || fail "the wiped $O_ROLE does not say normal: $(o_states 0)"
t_wiped=$(pair_since "$t0")
# Silent until its normal; the joind's normal comes first (it answers the wiped unit's recover-done), so
# its time is the safe end for a wiped unit whose log has no times (dhcpd).
if [ "$O_KIND" = joind ]; then o_silent="$O_LAN@$t0-$(last_normal "$O" 0)"
else o_silent="$O_LAN@$t0-$(last_normal "$J" "$j_mark")"; fi
# Every sleeping client's binding as the joind unit has it; the joind's grants (full leases) still
# active. (dhcpd's own first leases are MCLT long: by now they have ended, on both sides.)
declare -A WL=() JL=()
while read -r ip st _; do WL[$ip]=$st; done < <(pair_server_leases "$O_KIND" "$WORK/$O")
while read -r ip st _; do JL[$ip]=$st; done < <(pair_server_leases joind "$WORK/$J")
# (An ended lease may read expired on one side and free on the other: dhcpd frees it by itself.)
for ip in "${from_j[@]}" "${from_o[@]}"; do
  [ "${WL[$ip]:-none}" = "${JL[$ip]:-none}" ] || { [ "${WL[$ip]:-none}" != active ] && [ "${JL[$ip]:-none}" != active ]; } \
    || fail "the wiped $O_ROLE has $ip ${WL[$ip]:-none}, the joind $J_ROLE ${JL[$ip]:-none}"
done
for ip in "${from_j[@]}"; do
  [ "${WL[$ip]:-none}" = active ] || fail "the wiped $O_ROLE did not recover the joind $J_ROLE's lease of $ip (${WL[$ip]:-none})"
done
states=$(o_states 0)
if [ "$O_KIND" = dhcpd ]; then
  # No state in an empty lease file: recover; the joind peer partner-down: recover-wait until its stos
  # + MCLT (failover.c process_update_done), then recover-done and normal.
  [[ " $states" == *" recover recover-wait recover-done normal" ]] \
    || fail "the wiped dhcpd's states should end recover recover-wait recover-done normal: $states"
  # Its stos is its start (the recover an empty lease file gives it, kept through startup); recover-done
  # at that stos + MCLT (whole seconds).
  rec=$(o_stos recover first) || fail "no recover in the wiped dhcpd's lease file"
  rdone=$(o_stos recover-done last) || fail "no recover-done in the wiped dhcpd's lease file"
  (( rdone - rec >= PAIR_MCLT && rdone - rec <= PAIR_MCLT + 2 )) \
    || fail "the wiped dhcpd's recover-done $(( rdone - rec )) s after its recover, not the MCLT ($PAIR_MCLT s)"
  states="$states; recover-done $(( rdone - rec )) s after its recover"
fi
echo "ok: on a wiped store: $states; normal/normal $t_wiped s after its start; every sleeping client's binding back in its store as the joind $J_ROLE has it;" \
  "meanwhile the joind $J_ROLE answered all $n_wiped DISCOVERs ($own_wiped of the $O_ROLE's buckets)"

# --- 6. the LAN ---------------------------------------------------------------------------------------------
capture_stop "$P" "$LAN_CAPTURE"
check=$(/usr/bin/python3 "$LIB/lan-leases.py" "$WORK/lan.pcap" --silent "restored=$j_silent" --silent "wiped=$o_silent") \
  || fail "lan-leases.py"
declare -A L=()
for kv in $(head -n 1 <<< "$check"); do L[${kv%%=*}]=${kv#*=}; done
[ "${L[dups]:-x}" = 0 ] || fail "${L[dups]:-?} addresses given to a second client during a lease: $(grep '^dup ' <<< "$check" | head -n 3 | tr '\n' ';')"
[ "${L[silent_replies]:-x}" = 0 ] || fail "replies from a recovering unit: $(grep '^silent ' <<< "$check" | head -n 3 | tr '\n' ';')"
[ "${L[acks]}" -ge 12 ] || fail "the capture holds ${L[acks]} ACKs, fewer than the 12 clients had"
echo "ok: LAN capture: ${L[replies]} replies (${L[offers]} OFFERs, ${L[acks]} ACKs), no address given to two clients whose leases overlap, no reply from a recovering unit"

echo "$FO_TEST: $P_KIND+$S_KIND, MCLT $PAIR_MCLT s: joind $J_ROLE restarted on its own store normal in $t_intact s (catch-up ${catch_ms:-?} ms, no recover);" \
  "on the old backup found stale in $t_stale s, normal after $t_restored s; wiped $O_KIND $O_ROLE normal after $t_wiped s ($states);" \
  "the peer served all $n_restored + $n_wiped burst clients meanwhile; duplicates ${L[dups]}"
echo PASS
