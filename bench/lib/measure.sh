# shellcheck shell=bash
# bench/lib/measure.sh — one perfdhcp run, a rate sweep, latency at a fixed rate, CPU per exchange.
# Every run is bounded: perfdhcp by -p plus a hard time-out, servers by bed_spawn's lifetime.
# Results go to $BENCH_OUT/results.txt as "key value" lines (report.py makes the table from them).

: "${GEN_CPU:=1}"
CLK_TCK=$(getconf CLK_TCK)

note() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
record() { printf '%s %s\n' "$1" "$2" >> "$BENCH_OUT/results.txt"; note "$1 = $2"; }

# server_up NAME — start NAME in a fresh work folder and wait for its first OFFER. Sets SRV_STARTUP
# (seconds from spawn to the first OFFER). Returns 1 if it never answers within BENCH_START_WAIT.
server_up() {
  local name=$1 w start
  w=$BENCH_OUT/work/$name
  [ -n "${BENCH_KEEP_STATE:-}" ] || { rm -rf "$w"; mkdir -p "$w"; }
  [ -n "${BENCH_PREPARE:-}" ] && "$BENCH_PREPARE" "$name" "$w"
  start=$(python3 -c 'import time; print(time.time())')
  "server_start_$name" "$w" || return 1
  SRV_STARTUP=$(ip netns exec "$(bed_ns "$BENCH_P" gen)" python3 "$BENCH_DIR/probe.py" \
    "$BENCH_GEN_ADDR" "$BENCH_SRV_ADDR" "$start" "${BENCH_START_WAIT:-60}") || {
    note "$name did not answer; its log:"; tail -n 20 "$w/$name.log" >&2; server_stop; return 1; }
}

# perf_run RATE SECONDS [OUTFILE] — perfdhcp from the generator namespace on CPU $GEN_CPU. Sets PR_SENT
# (DISCOVERs sent), PR_ACKS (ACKs received) and PR_OK (1 when perfdhcp sent ≥ 95 % of what the rate asks
# and ≥ 99 % of the exchanges completed).
perf_run() {
  local rate=$1 secs=$2 out=${3:-$BENCH_OUT/perfdhcp.txt}
  # -R 50000 distinct clients (fewer than the /16 pool holds; reused in order beyond that), -d 1: an
  # answer later than 1 s is a drop, -W 0.5 s for the last answers.
  timeout -k 2 $((secs + 15)) ip netns exec "$(bed_ns "$BENCH_P" gen)" taskset -c "$GEN_CPU" \
    perfdhcp -4 -g single -r "$rate" -p "$secs" -R 50000 -d 1 -W 500000 ${PERF_EXTRA:-} \
    -l "$BENCH_GEN_ADDR" "$BENCH_SRV_ADDR" > "$out" 2>&1
  read -r PR_SENT PR_ACKS < <(awk '
    /Statistics for: DISCOVER-OFFER/ { s = 1 } /Statistics for: REQUEST-ACK/ { s = 2 }
    /^sent packets:/ && s == 1 { d = $3 } /^received packets:/ && s == 2 { a = $3 }
    END { print d + 0, a + 0 }' "$out")
  PR_OK=$(awk -v d="$PR_SENT" -v a="$PR_ACKS" -v r="$rate" -v t="$secs" \
    'BEGIN { print (d >= 0.95 * r * t && a >= 0.99 * d) ? 1 : 0 }')
}

# run_at NAME RATE — a fresh server, one perfdhcp run; sets RUN_FRAC to the completed fraction
# (ACKs/DISCOVERs, 0 when perfdhcp could not even send at that rate). Not in $(…): bed_spawn wants the
# main shell.
run_at() {
  local name=$1 rate=$2 frac
  RUN_FRAC=0
  server_up "$name" || return 0
  perf_run "$rate" "$BENCH_SECS" "$BENCH_OUT/logs/$name-$rate-$RANDOM.txt"
  server_stop
  frac=$(awk -v d="$PR_SENT" -v a="$PR_ACKS" -v r="$rate" -v t="$BENCH_SECS" \
    'BEGIN { if (d < 0.95 * r * t || d == 0) print 0; else printf "%.4f\n", a / d }')
  note "  $name @ $rate/s: $PR_ACKS ACKs of $PR_SENT DISCOVERs ($frac)"
  RUN_FRAC=$frac
}

# passes NAME RATE — median of BENCH_REPS runs has ≥ 99 % complete.
passes() {
  local i fracs=() med
  for (( i = 0; i < BENCH_REPS; i++ )); do run_at "$1" "$2"; fracs+=("$RUN_FRAC"); done
  med=$(printf '%s\n' "${fracs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  awk -v m="$med" 'BEGIN { exit !(m >= 0.99) }'
}

# sweep NAME [START] — the highest offered rate that passes: doubling from START until a failure, then
# bisection until the bracket is within 8 %. Sets SWEEP_RATE (0 if even the lowest fails).
sweep() {
  SWEEP_RATE=0
  _sweep "$@"
}
_sweep() {
  local name=$1 rate=${2:-2000} lo=0 hi=0 cap=${BENCH_RATE_CAP:-32000}
  while :; do
    if passes "$name" "$rate"; then
      lo=$rate
      [ "$hi" = 0 ] || break
      [ "$rate" -ge "$cap" ] && { SWEEP_RATE=$lo; return; }
      rate=$(( rate * 2 > cap ? cap : rate * 2 ))
    else
      hi=$rate
      [ "$lo" = 0 ] && [ "$rate" -le 50 ] && return
      [ "$lo" = 0 ] && { rate=$(( rate / 2 )); continue; }
      break
    fi
  done
  while (( (hi - lo) * 100 > lo * 8 && hi - lo > 20 )); do
    rate=$(( (lo + hi) / 2 ))
    if passes "$name" "$rate"; then lo=$rate; else hi=$rate; fi
  done
  SWEEP_RATE=$lo
}

# latency NAME RATE — p50/p99 of DISCOVER→OFFER and REQUEST→ACK from a capture on the generator's
# link, and the server's CPU share at that rate. Records NAME.lat_* and NAME.cpu_pct_at_RATE.
latency() {
  local name=$1 rate=$2 cap t0 t1 res
  server_up "$name" || return 1
  cap=$BENCH_OUT/logs/$name-latency.pcap
  bed_spawn "$BENCH_P" "$(bed_ns "$BENCH_P" gen)" tcpdump "$BENCH_OUT/logs/tcpdump.log" -- \
    taskset -c "$GEN_CPU" tcpdump -i g0 -n -s 400 -B 16384 -w "$cap" udp port 67
  local dump=$BED_PID
  bed_wait_for 5 test -s "$cap" || sleep 1
  t0=$(server_cpu_ticks)
  perf_run "$rate" "$BENCH_SECS" "$BENCH_OUT/logs/$name-latency.txt"
  t1=$(server_cpu_ticks)
  server_stop
  bed_stop "$BENCH_P" "$dump"
  read -r -a res < <(python3 "$BENCH_DIR/latency.py" "$cap")
  [ -n "${BENCH_KEEP_PCAP:-}" ] || rm -f "$cap"   # BENCH_KEEP_PCAP=1: keep it (latency.py --by-second)
  record "$name.lat_offer_p50_ms" "${res[1]}"
  record "$name.lat_offer_p99_ms" "${res[2]}"
  record "$name.lat_ack_p50_ms" "${res[4]}"
  record "$name.lat_ack_p99_ms" "${res[5]}"
  record "$name.lat_complete" "$(awk -v d="$PR_SENT" -v a="$PR_ACKS" 'BEGIN { printf "%.4f", d ? a / d : 0 }')"
  record "$name.cpu_pct_at_$rate" "$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v s="$BENCH_SECS" 'BEGIN { printf "%.1f", 100 * t / hz / (s + 0.5) }')"
}

# cpu_per_exchange NAME RATE — server CPU time (user+system) per completed exchange at a fixed rate,
# and its peak RSS. Records NAME.cpu_us_per_exchange, NAME.cpu_complete, NAME.rss_peak_mb.
cpu_per_exchange() {
  local name=$1 rate=$2 u0 s0 u1 s1 hwm
  server_up "$name" || return 1
  read -r u0 s0 < <(server_cpu_split)
  perf_run "$rate" "$BENCH_SECS" "$BENCH_OUT/logs/$name-cpu.txt"
  read -r u1 s1 < <(server_cpu_split)
  hwm=$(server_hwm_kb)
  server_stop
  per_ack() { awk -v t="$1" -v hz="$CLK_TCK" -v a="$PR_ACKS" 'BEGIN { printf "%.1f", a ? 1e6 * t / hz / a : 0 }'; }
  record "$name.cpu_us_per_exchange" "$(per_ack $((u1 - u0 + s1 - s0)))"
  record "$name.cpu_user_us_per_exchange" "$(per_ack $((u1 - u0)))"
  record "$name.cpu_sys_us_per_exchange" "$(per_ack $((s1 - s0)))"
  record "$name.cpu_complete" "$(awk -v d="$PR_SENT" -v a="$PR_ACKS" 'BEGIN { printf "%.4f", d ? a / d : 0 }')"
  record "$name.rss_peak_mb" "$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')"
}
