# shellcheck shell=bash
# bench/lib/bed.sh — the benchmark's two-namespace bed, on top of the system tests' bed library
# (test/system/lib: PID-recorded processes, clean-up by PID, namespaces removed on exit).
#
#   PREFIX-srv  s0 10.80.0.1/16  ── one veth ──  g0 10.80.0.2/16  PREFIX-gen (perfdhcp, the probe)
#                                                     10.81.0.2/16  (a relay address behind 10.80.0.2)
#
# perfdhcp acts as a relay: it sends from 10.80.0.2:67 with giaddr 10.80.0.2 and expects the reply at
# giaddr:67. The relay sits on the server's own link, hence joind's reply_to_relay_on_local_net.

BENCH_SRV_ADDR=10.80.0.1
BENCH_GEN_ADDR=10.80.0.2
BENCH_RELAY_ADDR=10.81.0.2

# bench_bed_up PREFIX — (re)build the bed; the caller has installed bed_trap PREFIX.
bench_bed_up() {
  local p=$1 srv gen dir
  bed_down "$p" >/dev/null 2>&1
  dir=$(bed_dir "$p")
  mkdir -p "$dir" && chmod 700 "$dir" && : > "$dir/procs" || return 1
  srv=$(bed_ns "$p" srv) gen=$(bed_ns "$p" gen)
  bed_add_ns "$p" srv && bed_add_ns "$p" gen || return 1
  ip -n "$srv" link add s0 address 02:80:00:00:00:01 type veth peer name g0 address 02:80:00:00:00:02 netns "$gen" &&
    ip -n "$srv" addr add "$BENCH_SRV_ADDR/16" dev s0 && ip -n "$gen" addr add "$BENCH_GEN_ADDR/16" dev g0 &&
    ip -n "$gen" addr add "$BENCH_RELAY_ADDR/16" dev g0 &&
    ip -n "$srv" link set s0 up && ip -n "$gen" link set g0 up &&
    ip -n "$srv" route add 10.81.0.0/16 via "$BENCH_GEN_ADDR" || return 1
  # Room for bursts: a server that is slow for a moment should not lose packets to a small socket queue.
  ip netns exec "$srv" sysctl -qw net.core.rmem_default=4194304 >/dev/null 2>&1
  bed_wait_for 3 _bench_if_up "$srv" s0 && bed_wait_for 3 _bench_if_up "$gen" g0
}

_bench_if_up() { [[ "$(ip -n "$1" -br link show dev "$2" 2>/dev/null)" =~ ^[^\ ]+\ +UP ]]; }
