#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# failover-migration — live migration (issue 14 point 4), short form, in the pair bed
# (test/system/lib/pair.sh): a dhcpd pair becomes a joind pair, one unit at a time, while real clients
# renew throughout. MCLT 20 s, lease time 60 s (dhcpd's first leases are MCLT long: clients renew
# every 10–30 s).
#  1. dhcpd primary + dhcpd secondary from empty lease files: "Both servers normal" on both, pools
#     balanced (every address free or backup, the same in both lease files, halves ±1).
#  2. 6 udhcpc clients (3 of the primary's hash buckets, 3 of the secondary's; each macvlan in a
#     namespace of its own, so that its unicast renewals and the replies use its own interface) get
#     leases and keep running (they renew); client MAC → address recorded.
#  3. The secondary swapped: dhcpd secondary stopped (SIGTERM, by PID), joind secondary started from
#     an EMPTY store. Expected: the dhcpd primary goes communications-interrupted, then partner-down
#     when joind comes back in recover, joind recovers every binding (UPDREQALL), waits out the MCLT
#     (recover-wait), recover-done, normal on both. Time to normal/normal recorded, and the states.
#  4. Every client's address is active in joind's store with the MAC dhcpd's primary has for it;
#     every client still holds its address (its interface; every bound/renew of udhcpc the same
#     address). Before the next swap every client renews at least once against dhcpd+joind (bounded).
#  5. The primary swapped the same way (dhcpd primary stopped, joind primary from an EMPTY store,
#     configuration pair_joind_conf primary: the same MCLT and split): the same expectations mirrored;
#     normal/normal; both joind stores have every client's lease.
#  6. Clients renew at least once against the joind pair (at least 35 s, bounded). Then, from a
#     capture of the client LAN (br0) over the whole run: no address OFFERed or ACKed to two clients,
#     no NAK, every client ACKed in each phase (dhcpd+dhcpd, dhcpd+joind, joind+joind), never without
#     a lease for longer than one MCLT (gap between a lease's end, ACK time + lease time, and the
#     client's next ACK; and the last lease still running at the end), and no DHCP reply from a joind
#     before its own log says it reached normal (a joind recovering must stay silent).
#  7. One line starting "failover-migration:" with the times, states, client counts, duplicates 0.
# This test found joind ACKing unicast renewals in recover-wait (fixed: failover-not-serving for every
# REQUEST about a failover address while the state serves nobody).
# FO_MIGRATE_IMPORT=1 (failover-migration-import.test.sh): each joind starts on the lease file of the
# dhcpd it replaces (`joind import`, failover state and fields kept) instead of an empty store. Then
# the peer never goes partner-down and joind no recover: it takes up dhcpd's state, catches up with
# the peer (FAILOVER_CAUGHT_UP) and is normal well within one MCLT. The rest is checked the same.
# KEEP_WORK=1 keeps the work folder. Exit 0 pass, 1 fail, 77 skip.
set -u
IMPORT=${FO_MIGRATE_IMPORT:-}
FO_TEST=failover-migration
[ -n "$IMPORT" ] && FO_TEST=failover-migration-import
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/need.sh
. "$here/lib/need.sh"
bed_need ip sysctl timeout dhcpd udhcpc tcpdump node /usr/bin/python3
[ "$(id -u)" = 0 ] || { echo "skip: failover-migration needs root (network namespaces)"; exit 77; }
PAIR_MCLT=${PAIR_MCLT:-20}
PAIR_LEASE=${PAIR_LEASE:-60}
# Everything started in the bed ends within this, whatever happens to the test shell.
BED_LIFETIME=${BED_LIFETIME:-400}
# shellcheck source=lib/pair.sh
. "$here/lib/pair.sh"
[ -f "$PAIR_JOIND_DIST/src/cli/main.js" ] || { echo "skip: failover-migration: joind is not built (npx tsc -p tsconfig.json)"; exit 77; }
pair_joind_engine || { echo "skip: failover-migration: joind failover engine not present"; exit 77; }

pair_test_begin "$FO_TEST" fm$$
FAIL_LOGS=("dhcpd p:p/dhcpd.log" "dhcpd s:s/dhcpd.log" "joind js:js/joind.log" "joind jp:jp/joind.log")

now() { date +%s.%N; }
# expect_imported STEP PEER_STATES JOIND_STATES T_JOIN LOG — a joind started on the replaced dhcpd's
# imported lease file: the peer went communications-interrupted and back to normal, never partner-down;
# joind never recovered, caught up with the peer (complete) and was normal within one MCLT.
expect_imported() {
  [[ " $2 " == *" communications-interrupted "*"normal "* && " $2 " != *" partner-down "* ]] \
    || fail "step $1: the peer's states since the swap are '$2', expected communications-interrupted … normal, no partner-down"
  [[ " $3 " != *" recover "* && " $3 " == *" normal "* ]] \
    || fail "step $1: joind on the imported lease file went '$3', expected normal without recover"
  grep '"msgId":"FAILOVER_CAUGHT_UP"' "$5" | grep -q '"complete":true' || fail "step $1: joind did not catch up with its peer"
  awk -v t="$4" -v m="$PAIR_MCLT" 'BEGIN { exit !(t < m) }' \
    || fail "step $1: joind on the imported lease file took $4 s to normal, not less than one MCLT ($PAIR_MCLT s)"
}
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# wait_until SECONDS CMD… — CMD every 0.2 s until it succeeds; bounded by wall time and by a count.
wait_until() {
  local end=$(( SECONDS + $1 )) i
  shift
  for (( i = 0; i < 1500 && SECONDS <= end; i++ )); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}
# dhcpd_new LOG MARK — dhcpd's log after its first MARK lines.
dhcpd_new() { tail -n +"$(( $2 + 1 ))" "$1"; }
# dhcpd_normal_since LOG MARK — dhcpd said "Both servers normal" after line MARK.
dhcpd_normal_since() { dhcpd_new "$1" "$2" | grep -q 'failover peer [^:]*: Both servers normal'; }
# dhcpd_states_since LOG MARK — dhcpd's states after line MARK: "X Y Z" (the "to" of each move).
dhcpd_states_since() {
  dhcpd_new "$1" "$2" | awk '/failover peer [^:]+: I move from / { printf "%s%s", (n++ ? " " : ""), $NF } END { if (n) print "" }'
}
pair_up "$P" || fail "pair_up"
BED_LIFETIME=360 capture_start "$P" "$(bed_ns "$P" sw)" br0 "$WORK/lan.pcap" || fail "capture of the LAN"
LAN_CAPTURE=$CAPTURE_PID
t_begin=$(now)

# --- 1. the dhcpd pair, normal/normal, balanced -------------------------------------------------------
pair_dhcpd_start "$P" primary "$WORK/p" || fail "dhcpd primary did not start"
P_DHCPD=$PAIR_DHCPD_PID
pair_dhcpd_start "$P" secondary "$WORK/s" || fail "dhcpd secondary did not start"
S_DHCPD=$PAIR_DHCPD_PID
grep -q "^default-lease-time $PAIR_LEASE;" "$WORK/p/dhcpd.conf" && grep -q "^ *mclt $PAIR_MCLT;" "$WORK/p/dhcpd.conf" \
  || fail "pair_dhcpd_conf did not take PAIR_LEASE/PAIR_MCLT"
wait_until 30 pair_server_normal dhcpd "$WORK/p" && wait_until 10 pair_server_normal dhcpd "$WORK/s" \
  || fail "the dhcpd pair not normal within 30 s (primary: $(pair_states "$WORK/p/dhcpd.log"); secondary: $(pair_states "$WORK/s/dhcpd.log"))"
# balanced — every address of the pool free (primary's) or backup (secondary's), the same in both
# lease files, halves ±1. BALANCE: the counts, or what is wrong.
balanced() {
  local -A PL=() SL=()
  local ip st rest a free=0
  while read -r ip st rest; do PL[$ip]=$st; done < <(pair_leases "$WORK/p/dhcpd.leases")
  while read -r ip st rest; do SL[$ip]=$st; done < <(pair_leases "$WORK/s/dhcpd.leases")
  for (( a = 100; a <= 199; a++ )); do
    ip=10.77.0.$a
    [ "${PL[$ip]:-none}" = "${SL[$ip]:-none}" ] || { BALANCE="$ip: primary ${PL[$ip]:-none}, secondary ${SL[$ip]:-none}"; return 1; }
    case ${PL[$ip]:-none} in free) free=$((free + 1)) ;; backup) ;; *) BALANCE="$ip is ${PL[$ip]:-none}"; return 1 ;; esac
  done
  BALANCE="free $free backup $(( 100 - free ))"
  [ "$free" -ge 49 ] && [ "$free" -le 51 ]
}
wait_until 30 balanced || fail "the dhcpd pair's pool not balanced within 30 s: $BALANCE"
echo "ok: dhcpd+dhcpd normal/normal, pool balanced ($BALANCE); primary: $(pair_states "$WORK/p/dhcpd.log"); secondary: $(pair_states "$WORK/s/dhcpd.log")"

# --- 2. real clients, renewing throughout -----------------------------------------------------------
# The bed's MACs are fixed, so their hash buckets are too: cli1-3 are the primary's, cli6, cli8 and
# cli10 the secondary's (checked below with discover-burst.py --predict). Each macvlan is moved into
# a namespace of its own (PREFIX-cI): several clients in one namespace would share its routes and
# ARP, and a unicast renewal or its reply could cross to another client's interface.
CLIENTS=(1 2 3 6 8 10)
C=$(bed_ns "$P" c)
pair_add_clients "$P" 10 > /dev/null || fail "macvlan clients"
declare -A CNS=() CMAC=() CIP=() CPID=() CWANT=()
for i in "${CLIENTS[@]}"; do
  CNS[$i]=$(bed_ns "$P" "c$i") CMAC[$i]=$(pair_mac "$P" c "$i")
  CWANT[$i]=$(/usr/bin/python3 "$here/lib/discover-burst.py" --split "$PAIR_SPLIT" --predict "01:${CMAC[$i]}" | awk '{ print $2 }')
  bed_add_ns "$P" "c$i" && ip -n "$C" link set "cli$i" netns "${CNS[$i]}" && ip -n "${CNS[$i]}" link set "cli$i" up \
    && bed_wait_carrier "${CNS[$i]}" "cli$i" || fail "moving cli$i into ${CNS[$i]}"
done
served_p=0 served_s=0
for i in "${CLIENTS[@]}"; do
  start_udhcpc "${CNS[$i]}" "cli$i" "$WORK/u$i" || fail "udhcpc on cli$i got nothing: $(tail -n 3 "$WORK/u$i/log")"
  CIP[$i]=$(bed_result "$WORK/u$i" ip) CPID[$i]=$(bed_result "$WORK/u$i" pid)
  bed_ip_in_net "${CIP[$i]}" "$PAIR_NET" || fail "cli$i got ${CIP[$i]}"
  case $(bed_result "$WORK/u$i" serverid) in
    "$PAIR_P_LAN") by=p served_p=$((served_p + 1)) ;; "$PAIR_S_LAN") by=s served_s=$((served_s + 1)) ;;
    *) fail "cli$i: server id $(bed_result "$WORK/u$i" serverid)" ;;
  esac
  [ "$by" = "${CWANT[$i]}" ] || fail "cli$i (${CMAC[$i]}) was served by $by, its hash bucket is ${CWANT[$i]}'s"
done
[ "$served_p" -ge 2 ] && [ "$served_s" -ge 2 ] || fail "clients served: primary $served_p, secondary $served_s (the bed's hash buckets changed?)"
map=''
for i in "${CLIENTS[@]}"; do map="$map ${CMAC[$i]}=${CIP[$i]}/${CWANT[$i]}"; done
echo "ok: ${#CLIENTS[@]} udhcpc clients bound (primary $served_p, secondary $served_s; first lease $(bed_result "$WORK/u1" lease) s):$map"

# holds I — client I's interface has its original address, and udhcpc never bound or renewed any other.
holds() {
  local others
  ip -n "${CNS[$1]}" -4 -o addr show dev "cli$1" | grep -q " ${CIP[$1]}/" || { HOLD_WHY="cli$1 lost ${CIP[$1]}"; return 1; }
  others=$(awk -F= -v want="${CIP[$1]}" '$1 == "ip" && $2 != want { print $2 }' "$WORK/u$1/events" | sort -u | tr '\n' ' ')
  [ -z "$others" ] || { HOLD_WHY="cli$1 (had ${CIP[$1]}) was given $others"; return 1; }
  bed_proc_alive "${CPID[$1]}" || { HOLD_WHY="udhcpc of cli$1 is gone: $(tail -n 3 "$WORK/u$1/log")"; return 1; }
}
all_hold() { local i; for i in "${CLIENTS[@]}"; do holds "$i" || return 1; done; }
# renewals I — how many leases udhcpc of client I got so far (bound and renew hook calls).
renewals() { grep -cE '^reason=(bound|renew)$' "$WORK/u$1/events"; }
declare -A MARK=()
mark_renewals() { local i; for i in "${CLIENTS[@]}"; do MARK[$i]=$(renewals "$i"); done; }
all_renewed() { local i; for i in "${CLIENTS[@]}"; do [ "$(renewals "$i")" -gt "${MARK[$i]}" ] || return 1; done; }
# in_store KIND DIR — every client's address active in that store with its MAC; STORE_WHY else.
in_store() {
  local -A L=()
  local ip st hw rest i
  while read -r ip st hw rest; do L[$ip]="$st $hw"; done < <(pair_server_leases "$1" "$2")
  for i in "${CLIENTS[@]}"; do
    [ "${L[${CIP[$i]}]:-none}" = "active ${CMAC[$i]}" ] || { STORE_WHY="${CIP[$i]} (cli$i, ${CMAC[$i]}): ${L[${CIP[$i]}]:-none}"; return 1; }
  done
}
wait_until 10 in_store dhcpd "$WORK/p" || fail "dhcpd primary's lease file: $STORE_WHY"
wait_until 10 in_store dhcpd "$WORK/s" || fail "dhcpd secondary's lease file: $STORE_WHY"

# --- 3. the secondary swapped: dhcpd out, joind in (empty store) ------------------------------------------
p_mark=$(wc -l < "$WORK/p/dhcpd.log")
mark_renewals
t_swap1=$(now)
bed_stop "$P" "$S_DHCPD" || fail "stopping the dhcpd secondary"
pair_wait_state "$WORK/p/dhcpd.log" communications-interrupted 15 \
  || fail "dhcpd primary not communications-interrupted after the secondary stopped: $(dhcpd_states_since "$WORK/p/dhcpd.log" "$p_mark")"
t_detect1=$(since "$t_swap1")
if [ -n "$IMPORT" ]; then
  pair_joind_conf "$P" secondary "$WORK/js" && mkdir -p "$WORK/js/spool" || fail "joind secondary's configuration"
  pair_joind_cli import --config-dir "$WORK/js" --spool-dir "$WORK/js/spool" "$WORK/s/dhcpd.leases" > "$WORK/js/import.log" 2>&1 \
    || fail "joind import of the dhcpd secondary's lease file: $(tail -n 3 "$WORK/js/import.log")"
fi
pair_joind_start "$P" secondary "$WORK/js" || fail "joind secondary did not start"
JS=$PAIR_JOIND_PID
js_started=$(cat "$WORK/js/started")
# normal/normal: joind says so through ctl, and dhcpd logs "Both servers normal" again.
pair_joind_wait_normal "$WORK/js/spool" 90 \
  || fail "step 3: joind secondary not normal/normal within 90 s: $PAIR_JOIND_LAST (joind: $(pair_joind_states "$WORK/js/joind.log"); dhcpd primary since the swap: $(dhcpd_states_since "$WORK/p/dhcpd.log" "$p_mark"))"
wait_until 10 dhcpd_normal_since "$WORK/p/dhcpd.log" "$p_mark" \
  || fail "step 3: dhcpd primary does not say Both servers normal again: $(dhcpd_states_since "$WORK/p/dhcpd.log" "$p_mark")"
t_normal1=$(since "$t_swap1") t_join1=$(since "$js_started")
js_states=$(pair_joind_states "$WORK/js/joind.log")
p_states1=$(dhcpd_states_since "$WORK/p/dhcpd.log" "$p_mark")
echo "ok: secondary swapped: dhcpd primary communications-interrupted after $t_detect1 s; normal/normal $t_normal1 s after the swap ($t_join1 s after joind started); dhcpd primary: $p_states1; joind secondary: $js_states"
if [ -n "$IMPORT" ]; then
  # dhcpd's own state and leases: back to normal as a restarted dhcpd would be, after the catch-up.
  expect_imported 3 "$p_states1" "$js_states" "$t_join1" "$WORK/js/joind.log"
else
  # The draft's path (what dhcpd and joind implement): the primary declares the amnesic peer down,
  # joind recovers, then waits out the MCLT before it serves.
  [[ " $p_states1 " == *" communications-interrupted partner-down "*"normal "* ]] \
    || fail "step 3: dhcpd primary's states since the swap are '$p_states1', expected communications-interrupted partner-down … normal"
  [[ " $js_states " == *" recover "*"recover-wait recover-done normal "* ]] \
    || fail "step 3: joind secondary (empty store, peer with history) went '$js_states', expected recover … recover-wait recover-done normal"
  # (stos is kept in whole seconds, as on the wire: the wait may end up to 1 s short of MCLT after the start)
  awk -v t="$t_join1" -v m="$PAIR_MCLT" 'BEGIN { exit !(t >= m - 1) }' \
    || fail "step 3: joind secondary reached normal $t_join1 s after its start, before one MCLT ($PAIR_MCLT s): it cannot have waited out recover-wait"
fi

# --- 4. every client's lease in joind's store, every client holds its address ---------------------------
wait_until 15 in_store joind "$WORK/js" || fail "step 4: joind secondary's store: $STORE_WHY (dhcpd primary has them)"
in_store dhcpd "$WORK/p" || fail "step 4: dhcpd primary's lease file: $STORE_WHY"
all_hold || fail "step 4: $HOLD_WHY"
echo "ok: all ${#CLIENTS[@]} leases active in joind secondary's store with dhcpd's MACs; every client holds its address"
# Every client renews at least once against dhcpd+joind before the primary goes.
wait_until 60 all_renewed || fail "step 4: not every client renewed against dhcpd+joind within 60 s ($(for i in "${CLIENTS[@]}"; do printf 'cli%s %s->%s ' "$i" "${MARK[$i]}" "$(renewals "$i")"; done))"
all_hold || fail "step 4, after renewals: $HOLD_WHY"
t_phase2=$(since "$t_swap1")
echo "ok: every client renewed against dhcpd+joind (${t_phase2} s after the swap) and holds its address"

# --- 5. the primary swapped: dhcpd out, joind in (empty store) --------------------------------------------
js_mark=$(wc -l < "$WORK/js/joind.log")
mark_renewals
t_swap2=$(now)
bed_stop "$P" "$P_DHCPD" || fail "stopping the dhcpd primary"
js_comm() { tail -n +"$(( js_mark + 1 ))" "$WORK/js/joind.log" | grep '"msgId":"FAILOVER_STATE"' | grep -q '"to":"communications-interrupted"'; }
wait_until 15 js_comm || fail "step 5: joind secondary not communications-interrupted after the dhcpd primary stopped: $(pair_joind_failover "$WORK/js/spool")"
t_detect2=$(since "$t_swap2")
if [ -n "$IMPORT" ]; then
  pair_joind_conf "$P" primary "$WORK/jp" && mkdir -p "$WORK/jp/spool" || fail "joind primary's configuration"
  pair_joind_cli import --config-dir "$WORK/jp" --spool-dir "$WORK/jp/spool" "$WORK/p/dhcpd.leases" > "$WORK/jp/import.log" 2>&1 \
    || fail "joind import of the dhcpd primary's lease file: $(tail -n 3 "$WORK/jp/import.log")"
fi
pair_joind_start "$P" primary "$WORK/jp" || fail "joind primary did not start"
JP=$PAIR_JOIND_PID
jp_started=$(cat "$WORK/jp/started")
pair_joind_wait_normal "$WORK/jp/spool" 90 \
  || fail "step 5: joind primary not normal/normal within 90 s: $PAIR_JOIND_LAST (joind primary: $(pair_joind_states "$WORK/jp/joind.log"); joind secondary: $(pair_joind_states "$WORK/js/joind.log"))"
pair_joind_wait_normal "$WORK/js/spool" 10 || fail "step 5: joind secondary not normal/normal: $PAIR_JOIND_LAST"
t_normal2=$(since "$t_swap2") t_join2=$(since "$jp_started")
jp_states=$(pair_joind_states "$WORK/jp/joind.log")
js_states2=$(tail -n +"$(( js_mark + 1 ))" "$WORK/js/joind.log" | grep '"msgId":"FAILOVER_STATE"' | /usr/bin/python3 -c '
import json, sys
print(" ".join(str(json.loads(l).get("to", "-")) for l in sys.stdin if l.strip()))')
echo "ok: primary swapped: joind secondary communications-interrupted after $t_detect2 s; normal/normal $t_normal2 s after the swap ($t_join2 s after joind started); joind secondary since the swap: $js_states2; joind primary: $jp_states"
if [ -n "$IMPORT" ]; then
  expect_imported 5 "$js_states2" "$jp_states" "$t_join2" "$WORK/jp/joind.log"
else
  [[ " $js_states2 " == *" communications-interrupted partner-down "*"normal "* ]] \
    || fail "step 5: joind secondary's states since the swap are '$js_states2', expected communications-interrupted partner-down … normal"
  [[ " $jp_states " == *" recover "*"recover-wait recover-done normal "* ]] \
    || fail "step 5: joind primary (empty store, peer with history) went '$jp_states', expected recover … recover-wait recover-done normal"
  awk -v t="$t_join2" -v m="$PAIR_MCLT" 'BEGIN { exit !(t >= m - 1) }' \
    || fail "step 5: joind primary reached normal $t_join2 s after its start, before one MCLT ($PAIR_MCLT s)"
fi
wait_until 15 in_store joind "$WORK/jp" || fail "step 5: joind primary's store: $STORE_WHY"
in_store joind "$WORK/js" || fail "step 5: joind secondary's store: $STORE_WHY"
all_hold || fail "step 5: $HOLD_WHY"
echo "ok: all ${#CLIENTS[@]} leases active in both joind stores; every client holds its address"

# --- 6. clients renew against the joind pair; the whole run's LAN capture --------------------------------
t_c=$(now)
wait_until 90 all_renewed || fail "step 6: not every client renewed against joind+joind within 90 s ($(for i in "${CLIENTS[@]}"; do printf 'cli%s %s->%s ' "$i" "${MARK[$i]}" "$(renewals "$i")"; done))"
# at least 35 s of the joind pair serving, whatever the renewals said
rest=$(awk -v a="$t_c" -v b="$(now)" 'BEGIN { r = 35 - (b - a); print (r > 0 ? int(r + 1) : 0) }')
[ "$rest" -gt 0 ] && sleep "$rest"
all_hold || fail "step 6: $HOLD_WHY"
t_phase3=$(since "$t_swap2")
t_end=$(now)
capture_stop "$P" "$LAN_CAPTURE"

# lan_check PCAP — from the LAN capture: duplicates, NAKs, per-phase ACKs, lease gaps, replies from a
# recovering joind. Prints key=value lines; one "dup …", "gap …" or "early …" line per finding.
cat > "$WORK/lan-check.py" <<'EOF'
import struct, sys
pcap, t_end, mclt = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
phases = [float(x) for x in sys.argv[4].split(",")]          # starts of phases 2, 3, …
import json, datetime
def when(t): return t / 1000.0 if isinstance(t, (int, float)) else datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
# IP=JOIND_LOG=START: that joind's states over time, from its start until its first normal (silent)
silent = []
for w in sys.argv[5].split(","):
    ip, log, start = w.split("=")
    moves = []
    for line in open(log):
        if '"FAILOVER_STATE"' not in line: continue
        o = json.loads(line)
        moves.append((when(o["time"]), o.get("to", "-")))
    end = next((t for t, st in moves if st == "normal"), float("inf"))
    silent.append((ip, float(start), end, moves))
def state_at(moves, t):
    st = "startup"
    for mt, to in moves:
        if mt <= t: st = to
    return st
macs = sys.argv[6].split(",")
data = open(pcap, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
e, nano = ("<", False) if magic == 0xa1b2c3d4 else ("<", True) if magic == 0xa1b23c4d else (">", magic == 0x4d3cb2a1)
off, pkts = 24, []
while off + 16 <= len(data):
    s, us, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
    pkts.append((s + us / (1e9 if nano else 1e6), data[off + 16:off + 16 + incl]))
    off += 16 + incl
def ip4(b): return ".".join(str(x) for x in b)
owner, acks, out = {}, {}, []
naks = dups = early = replies = 0
for t, f in pkts:
    if len(f) < 14 + 20 or f[12:14] != b"\x08\x00": continue
    ihl = (f[14] & 15) * 4
    if f[23] != 17: continue
    u = 14 + ihl
    sport, dport = struct.unpack("!HH", f[u:u + 4])
    b = f[u + 8:]
    if sport != 67 or len(b) < 240 or b[0] != 2: continue
    src, yi, ch = ip4(f[26:30]), ip4(b[16:20]), ":".join("%02x" % x for x in b[28:34])
    typ, lease, i = None, None, 240
    while i < len(b) and b[i] != 255:
        if b[i] == 0: i += 1; continue
        if i + 1 >= len(b): break
        k, n = b[i], b[i + 1]; v = b[i + 2:i + 2 + n]
        if k == 53 and n == 1: typ = v[0]
        if k == 51 and n == 4: lease = struct.unpack("!I", v)[0]
        i += 2 + n
    replies += 1
    for ip, a, z, moves in silent:
        if src == ip and a <= t < z:
            early += 1
            out.append("early %s from joind %s in %s, %.1f s before its normal, to %s" % (
                {2: "OFFER", 5: "ACK", 6: "NAK"}.get(typ, str(typ)), src, state_at(moves, t), z - t, ch))
    if typ == 6: naks += 1; out.append("nak %.3f from %s to %s" % (t, src, ch)); continue
    if typ not in (2, 5): continue
    if yi in owner and owner[yi] != ch:
        dups += 1; out.append("dup %s to %s then %s at %.3f" % (yi, owner[yi], ch, t))
    owner[yi] = ch
    if typ == 5: acks.setdefault(ch, []).append((t, lease or 0, src, yi))
maxgap, worst = 0.0, "-"
for m in macs:
    a = acks.get(m, [])
    per = [0] * (len(phases) + 1)
    for t, l, src, yi in a: per[sum(1 for p in phases if t >= p)] += 1
    covered, gap = None, 0.0
    for t, l, src, yi in a:
        if covered is not None and t > covered: gap = max(gap, t - covered)
        covered = max(covered or 0, t + l)
    if covered is None or covered < t_end: gap = max(gap, t_end - (covered or 0))
    if gap > maxgap: maxgap, worst = gap, m
    if gap > mclt: out.append("gap %s %.1f s without a lease" % (m, gap))
    print("client %s acks=%d per_phase=%s servers=%s gap=%.1f" % (m, len(a), "/".join(map(str, per)),
          "".join("p" if s.endswith(".1") else "s" for _, _, s, _ in a), gap))
print("naks=%d dups=%d early=%d maxgap=%.1f worst=%s replies=%d" % (naks, dups, early, maxgap, worst, replies))
for l in out: print(l)
EOF
macs=$(for i in "${CLIENTS[@]}"; do printf '%s,' "${CMAC[$i]}"; done)
lan=$(/usr/bin/python3 "$WORK/lan-check.py" "$WORK/lan.pcap" "$t_end" "$PAIR_MCLT" "$t_swap1,$t_swap2" \
  "$PAIR_S_LAN=$WORK/js/joind.log=$js_started,$PAIR_P_LAN=$WORK/jp/joind.log=$jp_started" "${macs%,}") \
  || fail "step 6: the LAN capture could not be read"
echo "$lan" > "$WORK/lan-check.txt"
sed -n 's/^client /# client /p' <<< "$lan"
summary=$(grep '^naks=' <<< "$lan")
declare -A L=()
for kv in $summary; do L[${kv%%=*}]=${kv#*=}; done
[ "${L[dups]}" = 0 ] || fail "step 6: ${L[dups]} addresses offered or ACKed to two clients: $(grep '^dup ' <<< "$lan" | head -n 5 | tr '\n' ';')"
# A recovering server does not answer clients at all (draft-12 9.6/9.7; dhcpd: "not responding
# (recovering)" in recover, recover-wait, recover-done), renewals included: it cannot know yet what its
# peer did alone.
[ "${L[early]}" = 0 ] || fail "step 6: ${L[early]} replies from a joind before it reached normal (states startup/recover*: it must stay silent): $(grep '^early ' <<< "$lan" | head -n 6 | tr '\n' ';')"

[ "${L[naks]}" = 0 ] || fail "step 6: NAKs on the LAN: $(grep '^nak ' <<< "$lan" | head -n 5 | tr '\n' ';')"
! grep -q '^gap ' <<< "$lan" || fail "step 6: a client without a lease for longer than one MCLT ($PAIR_MCLT s): $(grep '^gap ' <<< "$lan" | tr '\n' ';')"
while read -r _ mac _ per _ _; do
  per=${per#per_phase=}
  [[ "$per" =~ ^[1-9][0-9]*/[1-9][0-9]*/[1-9][0-9]*$ ]] || fail "step 6: client $mac not ACKed in every phase (dhcpd+dhcpd/dhcpd+joind/joind+joind: $per)"
done < <(grep '^client ' <<< "$lan")
acks_total=$(grep '^client ' <<< "$lan" | awk '{ sub(/acks=/, "", $3); n += $3 } END { print n + 0 }')
echo "ok: LAN capture: ${L[replies]} replies, $acks_total ACKs to the ${#CLIENTS[@]} clients, each ACKed in every phase; no NAK; replies from a joind before its normal ${L[early]}; longest time without a lease ${L[maxgap]} s (limit one MCLT, $PAIR_MCLT s); duplicates ${L[dups]}"

bed_stop "$P" "$JP"
bed_stop "$P" "$JS"
echo "$FO_TEST: dhcpd+dhcpd -> dhcpd+joind: primary communications-interrupted after $t_detect1 s," \
  "normal/normal $t_normal1 s after the swap ($t_join1 s after joind started; dhcpd primary: $p_states1;" \
  "joind secondary: $js_states); dhcpd+joind -> joind+joind: secondary communications-interrupted after $t_detect2 s," \
  "normal/normal $t_normal2 s after the swap ($t_join2 s after joind started; joind secondary: $js_states2;" \
  "joind primary: $jp_states); ${#CLIENTS[@]} clients (primary's $served_p, secondary's $served_s), all renewed in every phase" \
  "(phase dhcpd+joind ${t_phase2} s, joind+joind ${t_phase3} s), all leases in both joind stores, all kept their addresses;" \
  "$acks_total ACKs; longest without a lease ${L[maxgap]} s (MCLT $PAIR_MCLT s); NAKs 0; duplicates 0; joind replies while recovering 0; run $(since "$t_begin") s"
echo PASS
