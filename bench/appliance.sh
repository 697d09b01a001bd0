#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/appliance.sh — what an appliance pays for each server (issue 17), in the benchmark's bed
# (bench/lib/bed.sh), each server with its configuration of bench/lib/servers.sh (leases on disk):
#
#   bash bench/appliance.sh
#
#  rss      resident memory BENCH_APPLIANCE_IDLE_SECS (30) s after the server answered its first DISCOVER
#           (idle: V8's memory reducer shrinks node's heap about 8 s after the allocations stop, so
#           joind measured at 5 s showed a start-up transient), and its peak
#           (VmHWM) after every load below.
#  writes   bytes the server process had written to storage (/proc/PID/io write_bytes: what it sent
#           to the block layer, its WAL/checkpoint thread and fsyncs included) per lease, at
#           BENCH_APPLIANCE_RATES (50 and 1000 DORA/s) for BENCH_APPLIANCE_SECS (20) s each, new clients
#           each time; counted until 5 s after the load stopped (a checkpoint the load caused is the
#           load's). joind is made to commit its lease journal to SQLite right after each load
#           (`joind ctl commit`), so each load pays for one whole publish and its checkpoint.
#  big      BENCH_APPLIANCE_LEASES (1,000,000; 0: skip) active leases in the store of each server (a /8
#           network): start-up (spawn to the first OFFER), idle RSS, and the peak under 1,000/s.
# BENCH_APPLIANCE_SERVERS (joind dhcpd kea) chooses the servers, BENCH_REPS (1) the runs of each.
# Prints "key value" lines and a table with joind's ratios to the peers; results in
# bench/out/appliance-DATE/. Needs root. About 2 minutes per server and rep.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_DIST=${JOIND_DIST:-$ROOT/dist}
[ "$(id -u)" = 0 ] || { echo "bench: needs root for network namespaces" >&2; exit 77; }
for cmd in perfdhcp taskset python3; do
  command -v "$cmd" >/dev/null || { echo "bench: $cmd missing (see test/system/debian-packages.txt)" >&2; exit 1; }
done
[ -f "$BENCH_DIST/src/cli/main.js" ] || { echo "bench: build first (npm run build)" >&2; exit 1; }
: "${BENCH_APPLIANCE_RATES:=50 1000}" "${BENCH_APPLIANCE_SECS:=20}" "${BENCH_REPS:=1}"
: "${BENCH_APPLIANCE_SERVERS:=joind dhcpd kea}" "${BENCH_APPLIANCE_LEASES:=1000000}" "${BENCH_APPLIANCE_IDLE_SECS:=30}"
[ "$BENCH_APPLIANCE_SECS" -ge 5 ] && [ "$BENCH_APPLIANCE_SECS" -le 120 ] || { echo "bench: BENCH_APPLIANCE_SECS 5..120" >&2; exit 2; }

. "$ROOT/test/system/lib/bed.sh"
. "$BENCH_DIR/lib/bed.sh"
. "$BENCH_DIR/lib/servers.sh"
. "$BENCH_DIR/lib/measure.sh"
. "$BENCH_DIR/lib/scale.sh"

BENCH_P=ba
BENCH_OUT=$ROOT/bench/out/appliance-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$BENCH_OUT/logs" "$BENCH_OUT/work"
export BED_LIFETIME=1800
bed_trap "$BENCH_P"
bench_bed_up "$BENCH_P" || { echo "bench: bed failed" >&2; exit 1; }

{
  echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command bash bench/appliance.sh (BENCH_APPLIANCE_RATES='$BENCH_APPLIANCE_RATES' BENCH_APPLIANCE_SECS=$BENCH_APPLIANCE_SECS BENCH_REPS=$BENCH_REPS BENCH_APPLIANCE_SERVERS='$BENCH_APPLIANCE_SERVERS' BENCH_APPLIANCE_IDLE_SECS=$BENCH_APPLIANCE_IDLE_SECS BENCH_APPLIANCE_LEASES=$BENCH_APPLIANCE_LEASES)"
  echo "load_before $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "version.joind $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo -)"
  echo "version.node $(node --version)"
  echo "storage $(df -T "$BENCH_OUT" | awk 'NR == 2 { print $1, $2 }')"
} >> "$BENCH_OUT/results.txt"

written() { awk '/^write_bytes:/ { print $2 }' "/proc/$SRV_PID/io"; }

binary() { case $1 in joind) echo node ;; kea) echo kea-dhcp4 ;; *) echo "$1" ;; esac; }
for rep in $(seq 1 "$BENCH_REPS"); do
  for name in $BENCH_APPLIANCE_SERVERS; do
    command -v "$(binary "$name")" >/dev/null || { note "$name: $(binary "$name") is not installed: left out"; continue; }
    server_up "$name" || { record "$name.r$rep.failed" 1; continue; }
    sleep "$BENCH_APPLIANCE_IDLE_SECS"
    record "$name.r$rep.rss_idle_mb" "$(awk -v k="$(server_rss_kb)" 'BEGIN { printf "%.1f", k / 1024 }')"
    # Of which the program's own memory (heap, stacks, caches) and the pages of its files (the binary and
    # libraries: shared with every process that maps them, and dropped first under memory pressure).
    record "$name.r$rep.rss_idle_anon_mb" "$(awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$SRV_PID/status")"
    record "$name.r$rep.rss_idle_file_mb" "$(awk '/^RssFile:/ { printf "%.1f", $2 / 1024 }' "/proc/$SRV_PID/status")"
    # New clients for each rate: perfdhcp's MACs start at a different offset each time.
    offset=0
    for rate in $BENCH_APPLIANCE_RATES; do
      before=$(written)
      PERF_EXTRA="-b mac=00:0c:$(printf "%02x" $((offset + rep * 16))):00:00:00" \
        perf_run "$rate" "$BENCH_APPLIANCE_SECS" "$BENCH_OUT/logs/$name-$rate-r$rep.txt"
      # joind's leases are durable in its journal; SQLite gets them at the next publish (every 5 minutes
      # or 4 MB). One is made now, so that this load pays for a whole commit and its checkpoint (more
      # than its share: a publish every 5 minutes at 50/s spreads over 15,000 leases, not 1,000).
      if [ "$name" = joind ]; then
        [ "$PR_ACKS" -gt 0 ] && record "$name.r$rep.journal_bytes_per_lease_at_$rate" "$(( ($(written) - before) / PR_ACKS ))"
        node "$BENCH_DIST/src/cli/main.js" ctl commit --spool-dir "$BENCH_OUT/work/joind/spool" >/dev/null \
          || note "joind: ctl commit failed"
      fi
      sleep 5
      after=$(written)
      offset=$((offset + 1))
      record "$name.r$rep.leases_at_$rate" "$PR_ACKS"
      record "$name.r$rep.bytes_at_$rate" "$((after - before))"
      [ "$PR_ACKS" -gt 0 ] && record "$name.r$rep.bytes_per_lease_at_$rate" "$(( (after - before) / PR_ACKS ))"
    done
    record "$name.r$rep.rss_peak_mb" "$(awk -v k="$(server_hwm_kb)" 'BEGIN { printf "%.1f", k / 1024 }')"
    server_stop
  done
done
# --- a big store: BENCH_APPLIANCE_LEASES active leases (fill-leases, as bench/lib/scale.sh), a /8 network
# whose range holds them; start-up (spawn to first OFFER), idle RSS, and the peak under 1,000/s.
if [ "$BENCH_APPLIANCE_LEASES" -gt 0 ]; then
  SRV_NET=10.0.0.0 SRV_MASK=255.0.0.0 SRV_PREFIXLEN=8 SRV_FIRST=10.0.0.10 SRV_LAST=10.23.255.250
  SCALE_TEMPLATE=$BENCH_OUT/work/leases-$BENCH_APPLIANCE_LEASES
  mkdir -p "$SCALE_TEMPLATE"
  note "writing $BENCH_APPLIANCE_LEASES leases for joind, Kea and dhcpd"
  node "$BENCH_DIST/bench/fill-leases.js" "$SCALE_TEMPLATE" "$SRV_NET" "$SRV_FIRST" "$BENCH_APPLIANCE_LEASES" \
    --kea "$SCALE_TEMPLATE/kea.csv" --dhcpd "$SCALE_TEMPLATE/dhcpd.leases" >&2 || exit 1
  rm -f "$SCALE_TEMPLATE"/joind.db-wal "$SCALE_TEMPLATE"/joind.db-shm
  BENCH_PREPARE=_scale_prepare
  for name in $BENCH_APPLIANCE_SERVERS; do
    command -v "$(binary "$name")" >/dev/null || continue
    server_up "$name" || { record "$name.big.failed" 1; continue; }
    record "$name.big.startup_s" "$SRV_STARTUP"
    sleep "$BENCH_APPLIANCE_IDLE_SECS"
    record "$name.big.rss_idle_mb" "$(awk -v k="$(server_rss_kb)" 'BEGIN { printf "%.1f", k / 1024 }')"
    record "$name.big.rss_idle_anon_mb" "$(awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$SRV_PID/status")"
    PERF_EXTRA="-b mac=00:0c:7f:00:00:00" perf_run 1000 "$BENCH_APPLIANCE_SECS" "$BENCH_OUT/logs/$name-big.txt"
    record "$name.big.leases_at_1000" "$PR_ACKS"
    record "$name.big.rss_peak_mb" "$(awk -v k="$(server_hwm_kb)" 'BEGIN { printf "%.1f", k / 1024 }')"
    server_stop
  done
  BENCH_PREPARE=
  rm -rf "$SCALE_TEMPLATE"
fi
echo "load_after $(cut -d' ' -f1-3 /proc/loadavg)" >> "$BENCH_OUT/results.txt"

# The table: medians over the reps, joind's ratio to each peer.
python3 - "$BENCH_OUT/results.txt" "$BENCH_APPLIANCE_SERVERS" "$BENCH_APPLIANCE_RATES" <<'PY' | tee "$BENCH_OUT/table.txt"
import re, statistics, sys
results, servers, rates = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
values = {}
for line in open(results):
    m = re.match(r'(\w+)\.r\d+\.(\S+) (\S+)$', line.strip())
    if m:
        values.setdefault((m[1], m[2]), []).append(float(m[3]))
med = lambda s, k: statistics.median(values[(s, k)]) if (s, k) in values else None
cols = ['rss_idle_mb', 'rss_idle_anon_mb', 'rss_peak_mb'] + [f'bytes_per_lease_at_{r}' for r in rates]
print('server   ' + ''.join(f'{c:>26}' for c in cols))
for s in servers:
    print(f'{s:<9}' + ''.join(f'{"-" if med(s, c) is None else format(med(s, c), ",.1f"):>26}' for c in cols))
big = [c for c in ['startup_s', 'rss_idle_mb', 'rss_idle_anon_mb', 'rss_peak_mb']]
bigv = {}
for line in open(results):
    m = re.match(r'(\w+)\.big\.(\S+) (\S+)$', line.strip())
    if m:
        bigv[(m[1], m[2])] = m[3]
if bigv:
    print()
    print('big store' + ''.join(f'{c:>20}' for c in big))
    for s in servers:
        print(f'{s:<9}' + ''.join(f'{bigv.get((s, c), "-"):>20}' for c in big))
print()
for peer in servers:
    if peer == 'joind':
        continue
    ratios = []
    for c in cols:
        a, b = med('joind', c), med(peer, c)
        ratios.append('-' if a is None or not b else f'{a / b:.2f}')
    print(f'joind/{peer:<3}' + ''.join(f'{r:>26}' for r in ratios))
PY
