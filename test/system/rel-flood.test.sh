#!/usr/bin/env bash
# Floods and starvation (issue 6, item 4). With rate_limit_per_interface 50 and rate_limit_per_relay 100:
#  - a flood of broadcast DISCOVERs, each from a new MAC (bench/reliability/dhcp-hostile.c flood), on link
#    A: the pool runs out and POOL_EXHAUSTED fires (once per 10 s, not once per client), the server admits
#    no more than the limit, and a known client (a dhcpcap host entry) is still served within 2 s, every
#    time it asks;
#  - perfdhcp as a relay with thousands of clients: admitted no faster than the relay's limit.
# FLOOD_PPS (default 3000) and FLOOD_SECONDS (default 12). Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need gcc /usr/include/stdio.h perfdhcp udhcpc
. "$(dirname "$0")/lib/joind.sh"

PPS=${FLOOD_PPS:-3000}
SECONDS_FLOOD=${FLOOD_SECONDS:-12}
IF_LIMIT=50
RELAY_LIMIT=100
P=rq$$
joind_test_begin "$P"
gcc -O2 -Wall -o "$WORK/dhcp-hostile" "$ROOT/bench/reliability/dhcp-hostile.c" || fail "generator does not build"
joind_bed_up
FLOODER=$(bed_add_clients "$P" cla 1) || fail "no macvlan for the flood"
KNOWN_MAC=$(bed_client_mac "$P" cla)
conf_sample
sed -i 's/^ping_timeout.*/ping_timeout 0/' "$CONF/server.pcy"
printf 'reply_to_relay_on_local_net\nrate_limit_per_interface %s\nrate_limit_per_relay %s\n' "$IF_LIMIT" "$RELAY_LIMIT" >>"$CONF/server.pcy"
echo "10.77.9.0   10.77.1.1   10.77.9.10-10.77.9.250" >>"$CONF/nets"
printf 'link-r:\\\n\t:nw=10.77.9.0:sm=255.255.255.0:gw=10.77.9.1:tc=.site:\n' >>"$CONF/dhcpcap"
printf 'known-a:ht=ethernet:ha=%s:ip=10.77.1.60:tc=.site:\n' "${KNOWN_MAC//:/}" >>"$CONF/dhcpcap"
joind_start "$SRV" "$CONF" "$WORK/spool"
PID=$(cat "$WORK/spool/joind.pid")

# state KEY — a number from a fresh SIGUSR1 state dump (a node expression over the parsed dump `s`).
state() {
  local before
  before=$(grep -c '"STATE_DUMP"' "$WORK/joind.log")
  kill -USR1 "$PID"
  bed_wait_for 5 sh -c "[ \$(grep -c '\"STATE_DUMP\"' '$WORK/joind.log') -gt $before ]" || fail "no state dump"
  grep '"STATE_DUMP"' "$WORK/joind.log" | tail -1 | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const c = s.counters; process.stdout.write(String(eval(process.argv[1]) || 0));' "$1"
}

# --- link A: a DISCOVER flood from new MACs ---
received0=$(state 'c.received'); limited0=$(state 'c.dropped["rate-limit-interface"]')
bed_spawn "$P" "$CLA" flood "$WORK/flood.out" -- "$WORK/dhcp-hostile" flood "$FLOODER" "$((PPS * SECONDS_FLOOD))" $$ "$PPS"
FLOOD=$BED_PID
t0=$(date +%s.%N)
sleep 3 # the pool is gone by now
worst=0
for try in 1 2 3; do
  start=$(date +%s.%N)
  run_udhcpc "$CLA" a-cli "$WORK/known$try" || fail "known client not served during the flood (try $try)"
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  [ "$(bed_result "$WORK/known$try" ip)" = 10.77.1.60 ] || fail "known client got $(bed_result "$WORK/known$try" ip)"
  awk -v t="$took" 'BEGIN { exit !(t < 2.0) }' || fail "known client took ${took} s during the flood (try $try)"
  worst=$(awk -v a="$worst" -v b="$took" 'BEGIN { print (b > a) ? b : a }')
  sleep 1
done
echo "ok: known client served 3 times during the flood, slowest ${worst} s"
while bed_proc_alive "$FLOOD"; do sleep 0.5; done
t1=$(date +%s.%N)
grep -q '^sent ' "$WORK/flood.out" || fail "flood generator failed: $(cat "$WORK/flood.out")"
received=$(( $(state 'c.received') - received0 ))
limited=$(( $(state 'c.dropped["rate-limit-interface"]') - limited0 ))
admitted=$((received - limited))
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "  flood: $(grep '^sent ' "$WORK/flood.out"); joind received $received, dropped by the limit $limited, admitted $admitted in ${elapsed} s"
[ "$limited" -gt 0 ] || fail "the interface limit dropped nothing"
# One second of burst, the limit for the flood's time, the known client's few packets, and 10 % slack.
max=$(awk -v e="$elapsed" -v l="$IF_LIMIT" 'BEGIN { printf "%d", (l * (e + 1) + 30) * 1.1 }')
[ "$admitted" -le "$max" ] || fail "admitted $admitted packets in ${elapsed} s, limit $IF_LIMIT/s (at most $max)"
echo "ok: link A admitted $(awk -v a="$admitted" -v e="$elapsed" 'BEGIN { printf "%.0f", a / e }')/s of a $PPS/s flood (limit $IF_LIMIT/s)"
grep -q '"POOL_EXHAUSTED".*"network":"10.77.1.0"' "$WORK/joind.log" || fail "no POOL_EXHAUSTED for link A"
n=$(grep -c '"POOL_EXHAUSTED".*"network":"10.77.1.0"' "$WORK/joind.log")
[ "$n" -le $(( ${elapsed%.*} / 10 + 2 )) ] || fail "POOL_EXHAUSTED logged $n times in ${elapsed} s"
echo "ok: POOL_EXHAUSTED fired ($n lines, $(grep '"POOL_EXHAUSTED"' "$WORK/joind.log" | tail -1 | sed -n 's/.*"alsoSince":\([0-9]*\).*/\1/p') clients turned away since the last)"

# --- a relay with thousands of clients ---
limited0=$(state 'c.dropped["rate-limit-relay"]'); acks0=$(state 'c.sent.DHCP_ACK')
bed_run "$P" "$RLY" perfdhcp "$WORK/perfdhcp.log" 30 -- perfdhcp -4 -r 1000 -R 5000 -p 8 -d 1 \
  -l "$BED_RLY_R" "$BED_SRV_R" >/dev/null
limited=$(( $(state 'c.dropped["rate-limit-relay"]') - limited0 ))
acks=$(( $(state 'c.sent.DHCP_ACK') - acks0 ))
echo "  relay: perfdhcp at 1000/s for 8 s; dropped by the limit $limited, ACKs $acks"
[ "$limited" -gt 0 ] || fail "the relay limit dropped nothing"
# An ACK needs two admitted packets (DISCOVER, REQUEST): at most (8 + 1 + 2 s of drain) × limit / 2.
[ "$acks" -le $(( (8 + 3) * RELAY_LIMIT / 2 )) ] || fail "$acks ACKs through a relay limited to $RELAY_LIMIT/s"
[ "$acks" -gt 0 ] || fail "no ACK at all through the relay"
echo "ok: the relay was held to its limit"
bed_proc_alive "$PID" || fail "joind died"
echo "PASS"
