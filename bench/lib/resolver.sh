# shellcheck shell=bash
# bench/lib/resolver.sh — the DNS server of the joind-defaults row (issue 18, item 5): joind's default
# naming by IP address (assign_name_by_ipaddr on) asks the system resolver for the PTR of every new
# address, and in the bench that resolver must be the bed's own. run.sh points the server namespace's
# resolv.conf (/etc/netns/PREFIX-srv/resolv.conf, bind-mounted over /etc/resolv.conf by `ip netns exec`)
# at 127.0.0.1; resolver_start runs dnsmasq there, on 127.0.0.1:53 of that namespace and nowhere else,
# with no upstream (--no-resolv), no /etc/hosts (--no-hosts), and one hosts file that names every EVEN
# address of the pool (SRV_FIRST–SRV_LAST; even: the address's last bit 0, e.g. 10.81.0.10, .12, …) as
# ptr-A-B-C-D.bench.test. The odd addresses are answered NXDOMAIN at once (--local=/in-addr.arpa/,
# --bogus-priv), not left to time out: half the lookups find a name, half find none.
#
# It lives with each joind-defaults server (started by server_start_joind-defaults through bed_spawn,
# stopped by PID and start time in server_stop), pinned to RESOLVER_CPU (default: the generator's CPU,
# so that its work is not charged to the server's core, as a resolver on another host would not be).
# Its CPU ticks per run go to BENCH_OUT/logs/resolver-cpu.txt; RESOLVER_LOG_QUERIES=1 logs every query
# to its log (WORKDIR/resolver.log) for checking.

RESOLVER_WRAP= RESOLVER_WRAP_START= RESOLVER_PID= RESOLVER_PID_START= RESOLVER_HOSTS=

_ip_int() { local IFS=.; set -- $1; echo $(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 )); }

# resolver_hosts — the hosts file for SRV_FIRST–SRV_LAST (made once per range); sets RESOLVER_HOSTS.
resolver_hosts() {
  RESOLVER_HOSTS=$BENCH_OUT/work/resolver-hosts-$SRV_FIRST-$SRV_LAST
  [ -s "$RESOLVER_HOSTS" ] && return 0
  awk -v a="$(_ip_int "$SRV_FIRST")" -v b="$(_ip_int "$SRV_LAST")" 'BEGIN {
    for (i = a + (a % 2); i <= b; i += 2) {
      o1 = int(i / 16777216); o2 = int(i / 65536) % 256; o3 = int(i / 256) % 256; o4 = i % 256
      printf "%d.%d.%d.%d ptr-%d-%d-%d-%d.bench.test\n", o1, o2, o3, o4, o1, o2, o3, o4
    } }' > "$RESOLVER_HOSTS.tmp" && mv "$RESOLVER_HOSTS.tmp" "$RESOLVER_HOSTS"
}

# _resolver_answers — the resolver gives the first even address its name, and NXDOMAIN for the next one.
_resolver_answers() {
  local ns first even odd
  ns=$(bed_ns "$BENCH_P" srv)
  first=$(_ip_int "$SRV_FIRST")
  even=$(( first + first % 2 )) odd=$(( first + first % 2 + 1 ))
  even=$(( even >> 24 )).$(( (even >> 16) & 255 )).$(( (even >> 8) & 255 )).$(( even & 255 ))
  odd=$(( odd >> 24 )).$(( (odd >> 16) & 255 )).$(( (odd >> 8) & 255 )).$(( odd & 255 ))
  ip netns exec "$ns" dig +time=1 +tries=1 @127.0.0.1 -x "$even" 2>/dev/null | grep -q "PTR[[:space:]]*ptr-${even//./-}\.bench\.test\.$" &&
    ip netns exec "$ns" dig +time=1 +tries=1 @127.0.0.1 -x "$odd" 2>/dev/null | grep -q 'status: NXDOMAIN'
}

# resolver_start WORKDIR — dnsmasq on 127.0.0.1:53 in the server namespace; waits (≤ 6 s) until it
# answers both ways. Sets RESOLVER_WRAP/RESOLVER_PID (and their start times).
resolver_start() {
  local w=$1 extra=()
  resolver_hosts || return 1
  [ "${RESOLVER_LOG_QUERIES:-0}" = 1 ] && extra=(--log-queries)
  bed_spawn "$BENCH_P" "$(bed_ns "$BENCH_P" srv)" resolver "$w/resolver.log" -- \
    taskset -c "${RESOLVER_CPU:-${GEN_CPU:-1}}" \
    dnsmasq -k --conf-file=/dev/null --user=root --port=53 --listen-address=127.0.0.1 --bind-interfaces \
      --no-resolv --no-hosts --no-poll --addn-hosts="$RESOLVER_HOSTS" --local=/in-addr.arpa/ --bogus-priv \
      --pid-file="$w/resolver.pid" --log-facility=- "${extra[@]}" || return 1
  RESOLVER_WRAP=$BED_PID RESOLVER_PID=$BED_CMD_PID
  RESOLVER_WRAP_START=$(bed_proc_start "$RESOLVER_WRAP" 2>/dev/null || echo -)
  RESOLVER_PID_START=$(bed_proc_start "$RESOLVER_PID" 2>/dev/null || echo -)
  local i end=$(( SECONDS + 6 ))   # ≤ 50 tries and ≤ 6 s: each try is two dig queries of ≤ 1 s
  for (( i = 0; i < 50 && SECONDS < end; i++ )); do
    _resolver_answers && return 0
    sleep 0.1
  done
  note "resolver: no answers from dnsmasq on 127.0.0.1:53; its log:"; tail -n 20 "$w/resolver.log" >&2
  resolver_stop
  return 1
}

# resolver_stop — by PID and start time; its CPU ticks (user+system) first, to logs/resolver-cpu.txt.
resolver_stop() {
  [ -n "$RESOLVER_WRAP" ] || return 0
  local ticks
  ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$RESOLVER_PID/stat" 2>/dev/null)
  printf '%s resolver cpu_ticks %s (CLK_TCK %s) after %s ACKs\n' "$(date -u +%H:%M:%S)" "${ticks:-?}" \
    "${CLK_TCK:-?}" "${PR_ACKS:--}" >> "$BENCH_OUT/logs/resolver-cpu.txt"
  bed_stop_pid "$RESOLVER_WRAP" "$RESOLVER_WRAP_START"
  if bed_proc_alive "$RESOLVER_PID" "$RESOLVER_PID_START"; then bed_stop_pid "$RESOLVER_PID" "$RESOLVER_PID_START"; fi
  RESOLVER_WRAP= RESOLVER_WRAP_START= RESOLVER_PID= RESOLVER_PID_START=
}

# names_check — joind-defaults at 500/s for 2 s with informational logging (-l 2): every DHCP_ACK's name
# checked against the resolver's hosts file. Records joind-defaults.names_acks (ACKs logged),
# .names_even / .names_even_ptr (even addresses / of them named by their PTR), .names_odd /
# .names_odd_none (odd addresses / of them with no name) and .names_wrong (any other outcome). The log
# is kept as logs/joind-defaults-names.log.
names_check() {
  local w=$BENCH_OUT/work/joind-defaults res
  BENCH_JOIND_ARGS="-l 2" server_up joind-defaults || return 1
  perf_run 500 2 "$BENCH_OUT/logs/joind-defaults-names.txt"
  server_stop
  cp "$w/joind-defaults.log" "$BENCH_OUT/logs/joind-defaults-names.log"
  read -r -a res < <(python3 - "$w/joind-defaults.log" <<'PY'
import json, sys
acks = even = even_ptr = odd = odd_none = wrong = 0
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get('msgId') != 'DHCP_ACK':
        continue
    acks += 1
    a = e['address']
    if int(a.rsplit('.', 1)[1]) % 2 == 0:
        even += 1
        if e.get('name') == 'ptr-' + a.replace('.', '-') and e.get('nameSource') == 'ipaddr':
            even_ptr += 1
        else:
            wrong += 1
    else:
        odd += 1
        if e.get('name') is None:
            odd_none += 1
        elif e.get('nameSource') == 'ipaddr':
            wrong += 1
print(acks, even, even_ptr, odd, odd_none, wrong)
PY
)
  record joind-defaults.names_acks "${res[0]:-0}"
  record joind-defaults.names_even "${res[1]:-0}"
  record joind-defaults.names_even_ptr "${res[2]:-0}"
  record joind-defaults.names_odd "${res[3]:-0}"
  record joind-defaults.names_odd_none "${res[4]:-0}"
  record joind-defaults.names_wrong "${res[5]:-0}"
}
