#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/ddns.sh — what dynamic DNS costs the packet path (issue 15), in the benchmark's bed
# (bench/lib/bed.sh), with BIND 9 in the server namespace on 127.0.0.1 taking signed updates for
# bench.example and 80.10.in-addr.arpa:
#
#   bash bench/ddns.sh
#
#  rate     the sustained DORA rate (bench/lib/measure.sh sweep: ≥ 99 % of DISCOVERs end in an ACK),
#           joind with names (generated from a namepool, by hardware address) and DDNS off, then on
#           (name_service_updateable, ddns_server 127.0.0.1, a key), BENCH_REPS runs per rate (1).
#  lag      at ddnson's rate for BENCH_SECS: the updates still queued when the load stops (the pacer,
#           src/ddns/pacer.ts, holds DNS to a trickle while DHCP fills the loop) and the seconds until sent.
#  latency  DISCOVER→OFFER and REQUEST→ACK p50/p99 at BENCH_DDNS_RATE (500/s) for BENCH_SECS (10) s:
#           off, on, and on with named stopped (every update refused: the ACK must not wait).
#  drain    named stopped, BENCH_DDNS_DRAIN (10000) new clients leased at BENCH_DDNS_RATE; named started
#           on empty zones: seconds until joind_ddns_queue_depth is 0 (polled every 0.2 s, at most
#           300 s; the retries' back-off, up to 16 s after 20 s of outage, included), and the records in
#           bench.example then (an A and a DHCID per name).
# BENCH_DDNS_STEPS (default "rate lag latency drain") runs some of them only; lag without rate runs
# at BENCH_DDNS_LAG_RATE (7000).
# Prints "key value" lines and a summary with the on/off ratios; results in bench/out/ddns-DATE/.
# Needs root. About 5–8 minutes.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_DIST=${JOIND_DIST:-$ROOT/dist}
[ "$(id -u)" = 0 ] || { echo "bench: needs root for network namespaces" >&2; exit 77; }
for cmd in perfdhcp named tsig-keygen dig curl tcpdump taskset python3; do
  command -v "$cmd" >/dev/null || { echo "bench: $cmd missing (see test/system/debian-packages.txt)" >&2; exit 1; }
done
[ -f "$BENCH_DIST/src/cli/main.js" ] || { echo "bench: build first (npm run build)" >&2; exit 1; }
: "${BENCH_SECS:=10}" "${BENCH_REPS:=1}" "${BENCH_DDNS_RATE:=500}" "${BENCH_DDNS_DRAIN:=10000}"
: "${BENCH_DDNS_STEPS:=rate lag latency drain}" "${BENCH_DDNS_LAG_RATE:=7000}"
step() { [[ " $BENCH_DDNS_STEPS " == *" $1 "* ]]; }
[ "$BENCH_DDNS_DRAIN" -ge 100 ] && [ "$BENCH_DDNS_DRAIN" -le 50000 ] || { echo "bench: BENCH_DDNS_DRAIN 100..50000" >&2; exit 2; }

. "$ROOT/test/system/lib/bed.sh"
. "$BENCH_DIR/lib/bed.sh"
. "$BENCH_DIR/lib/servers.sh"
. "$BENCH_DIR/lib/measure.sh"

BENCH_P=bd
BENCH_OUT=$ROOT/bench/out/ddns-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$BENCH_OUT/logs" "$BENCH_OUT/work" "$BENCH_OUT/named"
export BED_LIFETIME=900
bed_trap "$BENCH_P"
bench_bed_up "$BENCH_P" || { echo "bench: bed failed" >&2; exit 1; }
SRV_NS=$(bed_ns "$BENCH_P" srv)
mkdir -p "/etc/netns/$SRV_NS"
printf 'nameserver 127.0.0.1\n' > "/etc/netns/$SRV_NS/resolv.conf"
printf '127.0.0.1 localhost\n' > "/etc/netns/$SRV_NS/hosts"
ip -n "$SRV_NS" link set lo up

# --- named ------------------------------------------------------------------------------------------
N=$BENCH_OUT/named
tsig-keygen -a hmac-sha256 ddns-key > "$N/ddns.key"
{
  echo "options { directory \"$N\"; listen-on port 53 { 127.0.0.1; }; listen-on-v6 { none; };"
  echo "  recursion no; notify no; dnssec-validation no; allow-transfer { key ddns-key; }; pid-file \"$N/named.pid\"; };"
  echo "include \"$N/ddns.key\";"
  for z in bench.example 80.10.in-addr.arpa; do
    echo "zone \"$z\" { type primary; file \"$N/$z.db\"; update-policy { grant ddns-key zonesub ANY; }; };"
  done
} > "$N/named.conf"
chmod a+x "$BENCH_OUT" "$ROOT/bench/out"
# named_start — named on empty zones.
named_start() {
  rm -f "$N"/*.jnl
  for z in bench.example 80.10.in-addr.arpa; do
    printf '$TTL 3600\n@ IN SOA ns.bench.example. admin.bench.example. 1 3600 900 604800 300\n  IN NS ns.bench.example.\n' > "$N/$z.db"
  done
  echo 'ns IN A 127.0.0.1' >> "$N/bench.example.db"
  chown -R bind: "$N"
  bed_spawn "$BENCH_P" "$SRV_NS" named "$BENCH_OUT/logs/named.log" -- named -g -u bind -c "$N/named.conf" || return 1
  NAMED=$BED_PID
  bed_wait_for 10 grep -q 'running$' "$BENCH_OUT/logs/named.log"
}
named_stop() { [ -z "${NAMED:-}" ] || bed_stop "$BENCH_P" "$NAMED"; NAMED=; }

# --- joind with names, DDNS off or on ------------------------------------------------------------------
_joind_named() { # WORKDIR on|off
  local w=$1
  mkdir -p "$w/etc" "$w/spool"
  printf '%s %s %s-%s\n' "$SRV_NET" "$BENCH_SRV_ADDR" "$SRV_FIRST" "$SRV_LAST" > "$w/etc/nets"
  printf '%s %s\n' "$SRV_NET" "$SRV_MASK" > "$w/etc/netmasks"
  printf 'bench:nw=%s:sm=%s:lt=3600:dn=bench.example:\n' "$SRV_NET" "$SRV_MASK" > "$w/etc/dhcpcap"
  # A prefix of its own per start: names from an earlier run are another client's in DNS (a conflict).
  printf 'bench.example %s h%sx\n' "$BENCH_SRV_ADDR" "$(date +%s%N | tail -c 8)" > "$w/etc/namepool"
  cp "$N/ddns.key" "$w/etc/ddns.key" && chmod 640 "$w/etc/ddns.key"
  cat > "$w/etc/server.pcy" <<PCY
default_ttl                 3600
ping_timeout                0
reply_to_relay_on_local_net
assign_name_by_hwaddr       on
name_service_updateable     $2
ddns_server                 127.0.0.1
ddns_key_file               ddns.key
PCY
  _srv_spawn joind "$w" node "$BENCH_DIST/src/cli/main.js" -f --config-dir "$w/etc" --spool-dir "$w/spool"
}
server_start_ddnsoff() { _joind_named "$1" off; }
server_start_ddnson() { _joind_named "$1" on; }
# catch_up KEY — polls the queue every 0.2 s (at most 300 s) until it is empty: KEY_seconds, KEY_left.
catch_up() {
  local started i
  started=$(date +%s.%N)
  for (( i = 0; i < 1500; i++ )); do
    [ "$(queue_depth)" = 0 ] && break
    sleep 0.2
  done
  record "$1_seconds" "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
  record "$1_left" "$(queue_depth)"
}
r() { awk -v k="$1" '$1 == k { print $2 }' "$BENCH_OUT/results.txt"; }
queue_depth() { ip netns exec "$SRV_NS" curl -s --max-time 2 http://127.0.0.1:9267/metrics | awk '$1 == "joind_ddns_queue_depth" { print $2 }'; }

{
  echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command bash bench/ddns.sh (BENCH_SECS=$BENCH_SECS BENCH_REPS=$BENCH_REPS BENCH_DDNS_RATE=$BENCH_DDNS_RATE BENCH_DDNS_DRAIN=$BENCH_DDNS_DRAIN BENCH_DDNS_STEPS='$BENCH_DDNS_STEPS')"
  echo "load_before $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "version.joind $(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
  echo "version.bind $(named -v)"
} > "$BENCH_OUT/results.txt"
named_start || { echo "bench: named did not start" >&2; exit 1; }

# --- rate -----------------------------------------------------------------------------------------------
if step rate; then
  for s in ddnsoff ddnson; do sweep "$s" 1000; record "$s.rate" "$SWEEP_RATE"; done
fi

# --- lag: what the pacer defers at the top rate ----------------------------------------------------------
# At ddnson's sustained rate the loop is full, so the worker sends only a trickle (src/ddns/pacer.ts):
# the updates queued when the load stops, and the seconds until DNS has caught up.
if step lag; then
  server_up ddnson || exit 1
  lag_rate=$(r ddnson.rate | grep . || echo "$BENCH_DDNS_LAG_RATE")
  record ddns.lag_rate "$lag_rate"
  perf_run "$lag_rate" "$BENCH_SECS" "$BENCH_OUT/logs/lag-perfdhcp.txt"
  record ddns.lag_leases "$PR_ACKS"
  record ddns.lag_queued "$(queue_depth)"
  catch_up ddns.lag
  server_stop
fi

# --- latency ----------------------------------------------------------------------------------------------
if step latency; then
  latency ddnsoff "$BENCH_DDNS_RATE"
  latency ddnson "$BENCH_DDNS_RATE"
  named_stop
  # (latency() records under the server's name: this run is named ddnson_dnsdown by a wrapper.)
  server_start_ddnson_dnsdown() { _joind_named "$1" on; }
  latency ddnson_dnsdown "$BENCH_DDNS_RATE"
fi

# --- drain ------------------------------------------------------------------------------------------------
if step drain; then
  named_stop
  server_up ddnson || exit 1
  perf_run "$BENCH_DDNS_RATE" $(( BENCH_DDNS_DRAIN / BENCH_DDNS_RATE )) "$BENCH_OUT/logs/drain-perfdhcp.txt"
  record ddns.drain_leases "$PR_ACKS"
  bed_wait_for 10 test -n "$(queue_depth)"
  record ddns.drain_queued "$(queue_depth)"
  named_start || exit 1
  catch_up ddns.drain
  record ddns.names_in_zone "$(ip netns exec "$SRV_NS" dig +short +time=5 @127.0.0.1 -k "$N/ddns.key" bench.example AXFR | grep -c .)"
  server_stop
fi
named_stop
echo "load_after $(cut -d' ' -f1-3 /proc/loadavg)" >> "$BENCH_OUT/results.txt"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
{
  echo "DDNS     rate/s   offer p50/p99 ms   ack p50/p99 ms"
  for s in ddnsoff ddnson ddnson_dnsdown; do
    printf '%-15s %6s   %6s / %-6s   %6s / %-6s\n' "$s" "$(r "$s.rate")" "$(r "$s.lat_offer_p50_ms")" "$(r "$s.lat_offer_p99_ms")" \
      "$(r "$s.lat_ack_p50_ms")" "$(r "$s.lat_ack_p99_ms")"
  done
  echo "rate on/off: $(ratio "$(r ddnson.rate)" "$(r ddnsoff.rate)")"
  echo "lag at $(r ddns.lag_rate)/s for ${BENCH_SECS} s: $(r ddns.lag_queued) updates queued of $(r ddns.lag_leases) leases, sent in $(r ddns.lag_seconds) s after ($(r ddns.lag_left) left)"
  echo "drain: $(r ddns.drain_queued) queued updates of $(r ddns.drain_leases) leases sent in $(r ddns.drain_seconds) s once named was back ($(r ddns.drain_left) left; $(r ddns.names_in_zone) records in bench.example)"
} | tee "$BENCH_OUT/table.txt"
