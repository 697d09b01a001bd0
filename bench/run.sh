#!/usr/bin/env bash
# bench/run.sh — joind against Kea, ISC dhcpd and dnsmasq, side by side, with perfdhcp as a relay.
#
#   bash bench/run.sh [quick|full] [--servers LIST] [--sections LIST]
#
# quick (default): 5 s runs, one run per rate (about 10 minutes). full: 10 s runs, median of 3 per rate.
# LIST is comma-separated. Servers: joind kea dhcpd dnsmasq (default), and kea-pg: Kea on a PostgreSQL 15
# of its own, synchronous commit on (bench/lib/pg.sh), and joind-defaults: joind with its own defaults for
# naming by IP address (a PTR lookup per new address, against dnsmasq on 127.0.0.1 of the server
# namespace: names for the even addresses, NXDOMAIN for the odd, bench/lib/resolver.sh) and pinging
# (500 ms, against addresses that never answer); its rate section adds a check of the names given
# (names_check). No DNS query leaves the server namespace. The mirror, perfdhcp's own ceiling, is always
# measured with the rate section. Sections: rate latency cpu scale ping (default: all but
# scale and ping in quick mode, all in full mode).
# Needs root (network namespaces). Results: bench/out/DATE/results.txt and table.md; the table is printed.
# Namespace prefix: bn (bench/lib/bed.sh). Server on CPU 0, generator on CPU 1.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_DIST=${JOIND_DIST:-$ROOT/dist}
[ "$(id -u)" = 0 ] || { echo "bench: needs root for network namespaces" >&2; exit 77; }

MODE=quick SERVERS="joind kea dhcpd dnsmasq" SECTIONS=""
while [ $# -gt 0 ]; do
  case $1 in
    quick|full) MODE=$1 ;;
    --servers) SERVERS=${2//,/ }; shift ;;
    --sections) SECTIONS=${2//,/ }; shift ;;
    *) echo "usage: bench/run.sh [quick|full] [--servers joind,joind-defaults,kea,kea-pg,dhcpd,dnsmasq] [--sections rate,latency,cpu,scale,ping]" >&2; exit 2 ;;
  esac
  shift
done
if [ "$MODE" = full ]; then BENCH_SECS=10 BENCH_REPS=3; else BENCH_SECS=5 BENCH_REPS=1; fi
[ -n "$SECTIONS" ] || { if [ "$MODE" = full ]; then SECTIONS="rate latency cpu scale ping"; else SECTIONS="rate latency cpu"; fi; }
has() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

for cmd in perfdhcp kea-dhcp4 dhcpd dnsmasq tcpdump taskset gcc python3; do
  command -v "$cmd" >/dev/null || { echo "bench: $cmd missing (see test/system/debian-packages.txt)" >&2; exit 1; }
done
[ -f "$BENCH_DIST/src/cli/main.js" ] || { echo "bench: build first (npm run build)" >&2; exit 1; }

. "$ROOT/test/system/lib/bed.sh"
. "$BENCH_DIR/lib/bed.sh"
. "$BENCH_DIR/lib/servers.sh"
. "$BENCH_DIR/lib/measure.sh"
. "$BENCH_DIR/lib/scale.sh"
if has kea-pg "$SERVERS"; then
  missing=$(pg_missing)
  [ -z "$missing" ] || { echo "bench: kea-pg needs $missing" >&2; exit 1; }
fi
if has joind-defaults "$SERVERS"; then
  command -v dig >/dev/null || { echo "bench: joind-defaults needs dig (bind9-dnsutils)" >&2; exit 1; }
fi

BENCH_P=bn
BENCH_OUT=$ROOT/bench/out/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$BENCH_OUT/logs" "$BENCH_OUT/work"
# A snapshot of the build: a rebuild during a long run must not pull the files from under the servers.
# (package.json beside it, as main.js reads it; node_modules and the native addon's build/Release are
# found in the repository, above the snapshot.)
mkdir -p "$BENCH_OUT/snap" && cp -r "$BENCH_DIST" "$BENCH_OUT/snap/dist" && cp "$ROOT/package.json" "$BENCH_OUT/snap/" &&
  BENCH_DIST=$BENCH_OUT/snap/dist || exit 1
export BED_LIFETIME=600   # no server or capture outlives ten minutes, whatever happens to this script
bed_trap "$BENCH_P"
bed_before_down() { pg_stop; }   # a PostgreSQL still running (kea-pg): fast shutdown by its PID
# The server namespace's /etc/netns folder goes with the namespace (bed_down); once more here, in case
# the namespace was already gone.
bed_after_down() { rm -rf "$BENCH_OUT/work" "/etc/netns/$(bed_ns "$BENCH_P" srv)"; }
bench_bed_up "$BENCH_P" || { echo "bench: bed failed" >&2; exit 1; }
# The server namespace's own resolver files: joind's naming looks addresses up, and nothing may leave
# (joind-defaults: dnsmasq answers there, bench/lib/resolver.sh; the others ask nothing).
mkdir -p "/etc/netns/$(bed_ns "$BENCH_P" srv)"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "/etc/netns/$(bed_ns "$BENCH_P" srv)/resolv.conf"
printf '127.0.0.1 localhost\n' > "/etc/netns/$(bed_ns "$BENCH_P" srv)/hosts"
gcc -O2 -o "$BENCH_OUT/responder" "$BENCH_DIR/responder.c" || exit 1

{
  echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "mode $MODE"
  echo "command bash bench/run.sh $MODE --servers ${SERVERS// /,} --sections ${SECTIONS// /,}"
  echo "load_before $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "version.joind $(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
  echo "version.node $(node --version)"
  echo "native_addon ${JOIND_NATIVE_ADDON:-build/Release/joind_net.node}"
  echo "version.kea $(kea-dhcp4 -v 2>&1 | head -n1)"
  if has kea-pg "$SERVERS"; then echo "version.postgres $(pg_version)"; fi
  echo "version.dhcpd $(dpkg-query -W -f '${Version}' isc-dhcp-server)"
  echo "version.dnsmasq $(dpkg-query -W -f '${Version}' dnsmasq-base)"
  echo "version.perfdhcp $(dpkg-query -W -f '${Version}' kea-admin)"
  echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $(nproc)"
} > "$BENCH_OUT/results.txt"

if has rate "$SECTIONS"; then
  sweep mirror 8000; record mirror.rate "$SWEEP_RATE"
  for s in $SERVERS; do
    case $s in dhcpd|dnsmasq) start=400 ;; kea-pg) start=1000 ;; *) start=2000 ;; esac
    [ "$s" = joind-defaults ] && server_net "$s" names_check
    server_net "$s" sweep "$s" "$start"; record "$s.rate" "$SWEEP_RATE"
  done
fi
if has latency "$SECTIONS"; then for s in $SERVERS; do server_net "$s" latency "$s" 1000; done; fi
if has cpu "$SECTIONS"; then for s in $SERVERS; do for (( i = 0; i < ${BENCH_CPU_REPS:-1}; i++ )); do server_net "$s" cpu_per_exchange "$s" 3000; done; done; fi
if has scale "$SECTIONS"; then scale_runs; fi
if has ping "$SECTIONS"; then ping_run; fi
echo "load_after $(cut -d' ' -f1-3 /proc/loadavg)" >> "$BENCH_OUT/results.txt"

python3 "$BENCH_DIR/report.py" "$BENCH_OUT/results.txt" | tee "$BENCH_OUT/table.md"
