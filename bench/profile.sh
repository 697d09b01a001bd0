#!/usr/bin/env bash
# bench/profile.sh — joind under perfdhcp load with node's CPU profiler, then the top functions by
# self time (bench/profile-top.js). Namespace prefix bo, so it can run beside a bench/run.sh.
#
#   bash bench/profile.sh [RATE] [SECONDS]      (default 1500/s for 8 s)
#   LEASES=100000 bash bench/profile.sh …       with that many leases in the store first
#   PROFILER=perf bash bench/profile.sh …       Linux perf instead: user and kernel time, JS frames named
#                                               through --perf-basic-prof
#   PROFILER=none bash bench/profile.sh …       no profiler: only the CPU per exchange (for quick A/Bs)
#
# The .cpuprofile (or perf.data) is kept in bench/out/profile-DATE/ (a .cpuprofile opens in Chrome
# DevTools for the whole tree).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_DIST=${JOIND_DIST:-$ROOT/dist}
[ "$(id -u)" = 0 ] || { echo "profile: needs root" >&2; exit 77; }
RATE=${1:-1500} SECS=${2:-8}
. "$ROOT/test/system/lib/bed.sh"
. "$BENCH_DIR/lib/bed.sh"
. "$BENCH_DIR/lib/servers.sh"
. "$BENCH_DIR/lib/measure.sh"
BENCH_P=${BENCH_P:-bo}
BENCH_OUT=$ROOT/bench/out/profile-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$BENCH_OUT/logs" "$BENCH_OUT/work"
# A snapshot of the build: a rebuild during a long run must not pull the files from under the servers.
# (package.json beside it, as main.js reads it; node_modules and the native addon's build/Release are
# found in the repository, above the snapshot.)
mkdir -p "$BENCH_OUT/snap" && cp -r "$BENCH_DIST" "$BENCH_OUT/snap/dist" && cp "$ROOT/package.json" "$BENCH_OUT/snap/" &&
  BENCH_DIST=$BENCH_OUT/snap/dist || exit 1
export BED_LIFETIME=300
bed_trap "$BENCH_P"
bench_bed_up "$BENCH_P" || exit 1
mkdir -p "/etc/netns/$(bed_ns "$BENCH_P" srv)"
printf 'nameserver 127.0.0.1\n' > "/etc/netns/$(bed_ns "$BENCH_P" srv)/resolv.conf"
if [ -n "${LEASES:-}" ]; then # LEASES=N: start from a store holding N leases (as the scale runs do)
  SRV_NET=10.0.0.0 SRV_MASK=255.0.0.0 SRV_PREFIXLEN=8 SRV_FIRST=10.0.0.10 SRV_LAST=10.23.255.250
  mkdir -p "$BENCH_OUT/template"
  node "$BENCH_DIST/bench/fill-leases.js" "$BENCH_OUT/template" "$SRV_NET" "$SRV_FIRST" "$LEASES" >&2 || exit 1
  _profile_prepare() { mkdir -p "$2/spool"; cp "$BENCH_OUT/template/joind.db" "$2/spool/"; }
  BENCH_PREPARE=_profile_prepare
fi
if [ "${PROFILER:-cpu-prof}" = perf ]; then
  JOIND_NODE_ARGS="--perf-basic-prof-only-functions" server_up joind || exit 1
  bed_spawn "$BENCH_P" - perf "$BENCH_OUT/perf.log" -- perf record -q -F 1999 -g -p "$SRV_PID" -o "$BENCH_OUT/perf.data"
  perf_pid=$BED_PID
elif [ "${PROFILER:-cpu-prof}" = none ]; then
  server_up joind || exit 1
else
  JOIND_NODE_ARGS="--cpu-prof --cpu-prof-dir=$BENCH_OUT" server_up joind || exit 1
fi
t0=$(server_cpu_ticks)
read -r u0 s0 < <(awk '{ print $14, $15 }' "/proc/$SRV_PID/stat")
perf_run "$RATE" "$SECS" "$BENCH_OUT/perfdhcp.txt"
t1=$(server_cpu_ticks)
read -r u1 s1 < <(awk '{ print $14, $15 }' "/proc/$SRV_PID/stat")
[ "${PROFILER:-cpu-prof}" = perf ] && bed_stop "$BENCH_P" "$perf_pid"
# Datagrams the server's sockets dropped for want of buffer space (a stall or a cold start shows here).
rcvbuf_errors=$(ip netns exec "$(bed_ns "$BENCH_P" srv)" awk '/^Udp:/ { n++; if (n == 1) for (i = 1; i <= NF; i++) col[$i] = i; else print $col["RcvbufErrors"] }' /proc/net/snmp)
server_stop
note "$PR_ACKS ACKs of $PR_SENT DISCOVERs at $RATE/s; joind CPU $(( (t1 - t0) * 1000 / CLK_TCK )) ms" \
  "(user $(( (u1 - u0) * 1000 / CLK_TCK )), system $(( (s1 - s0) * 1000 / CLK_TCK )));" \
  "$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v a="$PR_ACKS" 'BEGIN { printf "%.0f", a ? 1e6 * t / hz / a : 0 }') µs per exchange;" \
  "UDP receive-buffer drops in the server's namespace: $rcvbuf_errors"
if [ "${PROFILER:-cpu-prof}" = perf ]; then
  perf report -i "$BENCH_OUT/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -n 45
elif [ "${PROFILER:-cpu-prof}" != none ]; then
  node "$BENCH_DIR/profile-top.js" "$BENCH_OUT"/*.cpuprofile
fi
