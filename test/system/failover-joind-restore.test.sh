#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# failover-joind-restore — a joind pair unit back on a store that is not its own history (issue 14),
# short form, in the pair bed (test/system/lib/pair.sh), MCLT 20 s:
#  1. normal/normal, balanced. The primary is stopped (SIGTERM) and the backup it writes at a clean stop
#     (joind.db.bak, saved state communications-interrupted) is put aside: the "old backup".
#  2. The primary restarted on its own store: back to normal without recover, after a catch-up
#     (UPDREQALL, FAILOVER_CAUGHT_UP) in which it serves nobody. Time recorded.
#  3. udhcpc clients lease addresses; those the primary granted are the leases the old backup lacks.
#     Their interfaces are then emptied (the clients sleep, their leases run on): no ping can save a
#     server that offers one of those addresses again.
#  4. The primary dies (SIGKILL) and comes back on the old backup, as the README's recovery tells an
#     admin to do after a damaged joind.db. Expected: FAILOVER_STORE_STALE, then recover and
#     recover-wait (silent meanwhile: a DISCOVER burst at secs 0 is answered by the secondary alone,
#     which is partner-down), then normal/normal after the MCLT.
#  5. The secondary dies and comes back on a wiped store (no file at all): recover, recover-wait for the
#     MCLT (its peer is partner-down meanwhile and serves the burst alone), normal/normal.
#  6. The capture of the LAN (lib/lan-leases.py): no address OFFERed or ACKed to a client while
#     another client's lease of it runs; no reply from a unit while it recovers.
# FO_SECONDARY=dhcpd (failover-joind-dhcpd-restore.test.sh) runs it with ISC dhcpd as the secondary:
# then the catch-up and the stale store's recovery are answered by dhcpd, and step 5 empties dhcpd's
# lease file instead. One line starting "${FO_TEST:-failover-joind-restore}:" with the times. KEEP_WORK=1
# keeps the work folder. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
S_KIND=${FO_SECONDARY:-joind}
FO_TEST=${FO_TEST:-failover-joind-restore}
case $S_KIND in joind|dhcpd) ;; *) echo "FAIL: FO_SECONDARY: joind or dhcpd, not '$S_KIND'"; exit 1 ;; esac
# shellcheck source=lib/need.sh
. "$here/lib/need.sh"
bed_need ip sysctl timeout tcpdump udhcpc node /usr/bin/python3 py:scapy
[ "$S_KIND" = joind ] || bed_need dhcpd
[ "$(id -u)" = 0 ] || { echo "skip: $FO_TEST needs root (network namespaces)"; exit 77; }
PAIR_MCLT=${PAIR_MCLT:-20}
# shellcheck source=lib/pair.sh
. "$here/lib/pair.sh"
[ -f "$PAIR_JOIND_DIST/src/cli/main.js" ] || { echo "skip: $FO_TEST: joind is not built"; exit 77; }

FAIL_CONTEXT="joind+$S_KIND"
pair_test_begin "$FO_TEST" fr$$
LIB=$here/lib
FAIL_LOGS=("joind p:p/joind.log" "$S_KIND s:$(pair_server_log "$S_KIND" s)")

state() { pair_joind_failover "$WORK/$1/spool" state partnerState 2>/dev/null; }
# s_in STATE SECONDS — the secondary (either kind) reached STATE, bounded.
s_in() {
  case $S_KIND in
    joind) pair_joind_wait_state "$WORK/s/joind.log" "$1" "$2" ;;
    dhcpd) pair_wait_state "$WORK/s/dhcpd.log" "$1" "$2" ;;
  esac
}
# log_since R MARK — joind R's log after its first MARK lines.
log_since() { tail -n +"$(( $2 + 1 ))" "$WORK/$1/joind.log"; }
lines() { wc -l < "$WORK/$1/joind.log"; }
# logged R MARK ID — joind R logged message ID after line MARK.
logged() { log_since "$1" "$2" | grep -q "\"msgId\":\"$3\""; }
# joind_pid R — joind R itself (its pid file), not the bed's wrapper, which passes no SIGKILL on.
joind_pid() { if [ "$1" = s ] && [ "$S_KIND" = dhcpd ]; then cat "$WORK/s/dhcpd.pid"; else cat "$WORK/$1/spool/joind.pid"; fi; }
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
burst() { pair_burst "$P" "$WORK" "$@" || fail "discover-burst ($1): $(tail -n 5 "$WORK/burst-$1.log")"; }

pair_up "$P" || fail "pair_up"
BED_LIFETIME=$(( 300 + 4 * PAIR_MCLT )) capture_start "$P" "$(bed_ns "$P" sw)" br0 "$WORK/lan.pcap" || fail "capture of the LAN"
LAN_CAPTURE=$CAPTURE_PID

# --- 1. normal, balanced; the old backup --------------------------------------------------------------
pair_joind_start "$P" primary "$WORK/p" || fail "joind primary did not start"
P_WRAP=$PAIR_JOIND_PID
pair_server_start "$P" "$S_KIND" secondary "$WORK/s" || fail "$S_KIND secondary did not start"
pair_joind_wait_normal "$WORK/p/spool" 30 || fail "not normal/normal: $PAIR_JOIND_LAST"
pair_joind_wait_quiet "$WORK/p/spool" 50 || fail "pools not balanced: $PAIR_JOIND_LAST"
bed_stop "$P" "$P_WRAP" || fail "stopping the primary"
[ -f "$WORK/p/spool/joind.db.bak" ] || fail "no joind.db.bak after the primary's clean stop"
cp "$WORK/p/spool/joind.db.bak" "$WORK/old.db" || fail "copying the backup"
saved=$(/usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select my_state from failover_state").fetchone()[0])' "$WORK/old.db") \
  || fail "reading the backup's failover state"
# The link goes first at a stop, so what is saved is communications-interrupted: a state from which a
# start goes straight back to normal, with no recover.
case $saved in normal|communications-interrupted) ;; *) fail "the backup's saved state is $saved" ;; esac
echo "ok: normal/normal, balanced; the primary's backup at its clean stop holds the saved state $saved"

# --- 2. restart on its own store: catch-up, no recover --------------------------------------------------
mark=$(lines p)
t0=$(pair_now)
pair_joind_start "$P" primary "$WORK/p" || fail "joind primary did not restart"
bed_wait_for 30 logged p "$mark" FAILOVER_CAUGHT_UP || fail "no FAILOVER_CAUGHT_UP after the restart"
pair_joind_wait_normal "$WORK/p/spool" 30 || fail "not normal/normal after the restart: $PAIR_JOIND_LAST"
t_intact=$(pair_since "$t0")
caught=$(log_since p "$mark" | grep '"msgId":"FAILOVER_CAUGHT_UP"' | head -n 1)
[[ "$caught" == *'"complete":true'* ]] || fail "the catch-up ran out of time instead of ending with the peer's UPDDONE: $caught"
catch_ms=$(sed -n 's/.*"ms":\([0-9]*\).*/\1/p' <<< "$caught")
states=$(log_since p "$mark" | grep '"msgId":"FAILOVER_STATE"' | sed -n 's/.*"to":"\([^"]*\)".*/\1/p' | paste -sd ' ')
[[ " $states " == *" recover "* ]] && fail "a restart on its own store went through recover: $states"
logged p "$mark" FAILOVER_STORE_STALE && fail "its own store was taken for stale"
echo "ok: restarted on its own store: normal/normal in $t_intact s ($states), catch-up ${catch_ms:-?} ms, no recover"

# --- 3. leases the old backup lacks -----------------------------------------------------------------------
C=$(bed_ns "$P" c)
mapfile -t cifs < <(pair_add_clients "$P" 12)
[ "${#cifs[@]}" = 12 ] || fail "macvlan clients"
from_p=() from_s=()
for (( i = 1; i <= 12; i++ )); do
  run_udhcpc "$C" "cli$i" "$WORK/u$i" || fail "udhcpc on cli$i got nothing: $(tail -n 3 "$WORK/u$i/log")"
  ip=$(bed_result "$WORK/u$i" ip)
  case $(bed_result "$WORK/u$i" serverid) in
    "$PAIR_P_LAN") from_p+=("$ip") ;;
    "$PAIR_S_LAN") from_s+=("$ip") ;;
    *) fail "cli$i: served by $(bed_result "$WORK/u$i" serverid)?" ;;
  esac
  ip -n "$C" addr flush dev "cli$i" || fail "emptying cli$i"
done
[ "${#from_p[@]}" -ge 3 ] || fail "only ${#from_p[@]} of 12 clients fell to the primary"
pair_joind_wait_quiet "$WORK/p/spool" || fail "the primary's updates did not reach the secondary: $PAIR_JOIND_LAST"
echo "ok: 12 clients leased (primary ${#from_p[@]}: ${from_p[*]}; secondary ${#from_s[@]}), then asleep (no address on their interfaces)"

# --- 4. the primary back on the old backup -------------------------------------------------------------
kill -KILL "$(joind_pid p)" || fail "kill -KILL the primary"

bed_stop "$P" "$PAIR_JOIND_PID" 2>/dev/null
rm -f "$WORK/p/spool/joind.db" "$WORK/p/spool/joind.db-wal" "$WORK/p/spool/joind.db-shm" "$WORK/p/spool/joind.pid"
cp "$WORK/old.db" "$WORK/p/spool/joind.db" || fail "restoring the old backup"
mark=$(lines p)
t0=$(pair_now)
pair_joind_start "$P" primary "$WORK/p" || fail "joind primary did not start on the old backup"
bed_wait_for 30 logged p "$mark" FAILOVER_STORE_STALE || fail "the old backup was not found stale: $(state p)"
t_stale=$(pair_since "$t0")
bed_wait_for 15 pair_joind_in_state "$WORK/p/joind.log" recover-wait || fail "no recover-wait: $(state p)"
s_in partner-down 10 || fail "the secondary should serve alone meanwhile, in partner-down"
note=$(pair_joind_failover "$WORK/p/spool" note)
[[ "$note" == "recover-wait: serves nobody until "* ]] || fail "joind ctl failover's note in recover-wait: $note"
burst restored --first 6001 --count 24 --secs 0 --max-s 40
[ "${B[p]}" = 0 ] && [ "${B[both]}" = 0 ] && [ "${B[s]}" = "${B[count]}" ] \
  || fail "while the primary recovers, the secondary alone should answer: $(tail -n 1 "$WORK/burst-restored.log")"
pair_joind_wait_normal "$WORK/p/spool" $(( PAIR_MCLT + 40 )) || fail "the restored primary not normal again: $PAIR_JOIND_LAST"
t_restored=$(pair_since "$t0")
p_silent="$PAIR_P_LAN@$t0-$(last_normal p "$mark")"
states=$(log_since p "$mark" | grep '"msgId":"FAILOVER_STATE"' | sed -n 's/.*"to":"\([^"]*\)".*/\1/p' | paste -sd ' ')
echo "ok: on the old backup: found stale after $t_stale s; $states; normal/normal $t_restored s after its start;" \
  "meanwhile the secondary answered all ${B[count]} DISCOVERs (${B[predicted_p]} of the primary's buckets)"

# --- 5. the secondary on a wiped store -----------------------------------------------------------------
pid=$(joind_pid s) || fail "no pid file of the secondary"
kill -KILL "$pid" || fail "kill -KILL the secondary"
bed_wait_for 10 pair_gone "$pid" || fail "the secondary did not die"
S_LOG=$(pair_server_log "$S_KIND" "$WORK/s")
if [ "$S_KIND" = joind ]; then rm -rf "$WORK/s/spool" || fail "wiping the secondary's store"
else : > "$WORK/s/dhcpd.leases" || fail "emptying dhcpd's lease file"; rm -f "$WORK/s/dhcpd.pid"; fi
p_mark=$(lines p)
t0=$(pair_now)
mv "$S_LOG" "$S_LOG.before-wipe"
pair_server_start "$P" "$S_KIND" secondary "$WORK/s" || fail "$S_KIND secondary did not start on a wiped store"
s_in recover-wait 15 || fail "the wiped secondary: no recover-wait"
[[ "$(state p)" == "partner-down "* ]] || fail "the primary should serve alone meanwhile: $(state p)"
burst wiped --first 7001 --count 24 --secs 0 --max-p 40
[ "${B[s]}" = 0 ] && [ "${B[both]}" = 0 ] && [ "${B[p]}" = "${B[count]}" ] \
  || fail "while the secondary recovers, the primary alone should answer: $(tail -n 1 "$WORK/burst-wiped.log")"
pair_joind_wait_normal "$WORK/p/spool" $(( PAIR_MCLT + 40 )) || fail "the wiped secondary not normal again: $PAIR_JOIND_LAST"
bed_wait_for 10 pair_server_normal "$S_KIND" "$WORK/s" || fail "the wiped secondary does not say normal"
t_wiped=$(pair_since "$t0")
# Silent until its normal; the primary's normal comes first (it answers the secondary's recover-done), so
# the primary's time is the safe end for a secondary whose log has no times (dhcpd).
if [ "$S_KIND" = joind ]; then s_silent="$PAIR_S_LAN@$t0-$(last_normal s 0)"
else s_silent="$PAIR_S_LAN@$t0-$(last_normal p "$p_mark")"; fi
# Every sleeping client's binding as the primary has it; the primary's grants (full leases) still active.
# (dhcpd's own first leases are MCLT long: by now they have ended, on both sides.)
declare -A SL=() PL=()
while read -r ip st _; do SL[$ip]=$st; done < <(pair_server_leases "$S_KIND" "$WORK/s")
while read -r ip st _; do PL[$ip]=$st; done < <(pair_server_leases joind "$WORK/p")
# (An ended lease may read expired on one side and free on the other: dhcpd frees it by itself.)
for ip in "${from_p[@]}" "${from_s[@]}"; do
  [ "${SL[$ip]:-none}" = "${PL[$ip]:-none}" ] || { [ "${SL[$ip]:-none}" != active ] && [ "${PL[$ip]:-none}" != active ]; } \
    || fail "the wiped secondary has $ip ${SL[$ip]:-none}, the primary ${PL[$ip]:-none}"
done
for ip in "${from_p[@]}"; do
  [ "${SL[$ip]:-none}" = active ] || fail "the wiped secondary did not recover the primary's lease of $ip (${SL[$ip]:-none})"
done
states=$(pair_server_states "$S_KIND" "$WORK/s")
echo "ok: on a wiped store: $states; normal/normal $t_wiped s after its start; every sleeping client's binding back in its store as the primary has it;" \
  "meanwhile the primary answered all ${B[count]} DISCOVERs (${B[predicted_s]} of the secondary's buckets)"

# --- 6. the LAN ---------------------------------------------------------------------------------------------
capture_stop "$P" "$LAN_CAPTURE"
check=$(/usr/bin/python3 "$LIB/lan-leases.py" "$WORK/lan.pcap" --silent "restored=$p_silent" --silent "wiped=$s_silent") \
  || fail "lan-leases.py"
declare -A L=()
for kv in $(head -n 1 <<< "$check"); do L[${kv%%=*}]=${kv#*=}; done
[ "${L[dups]:-x}" = 0 ] || fail "${L[dups]:-?} addresses given to a second client during a lease: $(grep '^dup ' <<< "$check" | head -n 3 | tr '\n' ';')"
[ "${L[silent_replies]:-x}" = 0 ] || fail "replies from a recovering unit: $(grep '^silent ' <<< "$check" | head -n 3 | tr '\n' ';')"
[ "${L[acks]}" -ge 12 ] || fail "the capture holds ${L[acks]} ACKs, fewer than the 12 clients had"
echo "ok: LAN capture: ${L[replies]} replies (${L[offers]} OFFERs, ${L[acks]} ACKs), no address given to two clients whose leases overlap, no reply from a recovering unit"

echo "$FO_TEST: joind+$S_KIND, MCLT $PAIR_MCLT s: restart on its own store normal in $t_intact s (catch-up ${catch_ms:-?} ms, no recover);" \
  "old backup found stale in $t_stale s, normal after $t_restored s; wiped store normal after $t_wiped s; the peer served every burst client meanwhile; duplicates 0"
echo PASS
