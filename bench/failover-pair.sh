#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/failover-pair.sh — the failover pair's figures for issue 13's note, in the pair bed of the
# system tests (test/system/lib/pair.sh), every run bounded in count and time:
#
#   bash bench/failover-pair.sh [--sections normal,latency,rate] [--pairs LIST]
#
#  normal   time from the later start to normal/normal (both servers' logs: dhcpd "Both servers
#           normal", joind a FAILOVER_STATE line to normal; polled every 50 ms) from empty stores, for
#           each pair type, BENCH_FO_REPS (3) fresh beds each: median, min, max. Range PAIR_RANGE (the
#           tests' 100 addresses).
#  latency  in the first bed of each pair type: BENCH_FO_CLIENTS (20) udhcpc clients one after another
#           on macvlans, the LAN (bridge) and the failover link captured; test/system/lib/
#           failover-updates.py pairs each DHCPACK with the peer's BNDACK of that lease's BNDUPD: the
#           update latency (ACK to BNDACK, p50/p90; negative when the server waited for the peer before
#           answering) and BNDUPD→BNDACK.
#  rate     DORA rate: perfdhcp in the client namespace (10.77.0.9/16 on its veth) sends to
#           255.255.255.255 with giaddr 10.77.0.9 (perfdhcp acts as a relay on the LAN, so both servers
#           of a pair receive every DISCOVER, and each answers its hash bucket), at BENCH_FO_RATES
#           (500 1000 1500 2000 3000 4000 6000 8000 /s, ascending; the first that fails ends the list) for
#           BENCH_FO_SECS (5) s each, clients reused in order beyond
#           BENCH_FO_PERF_CLIENTS (1000), range BENCH_FO_RATE_RANGE (10.77.1.0–10.77.8.255, 2048
#           addresses). Servers on CPU BENCH_SRV_CPU (0, both servers of a pair), perfdhcp on
#           BENCH_GEN_CPU (1). For the dhcpd pair, the joind pair and a single joind (no failover, the
#           same configuration otherwise): ACKs/s and completion at each rate, and the sustained rate
#           (the highest with ≥ 99 % of DISCOVERs ending in an ACK).
#
# Pair types (--pairs, comma-separated): dhcpd+dhcpd joind+joind joind+dhcpd dhcpd+joind (default all).
# A pair with joind needs joind's failover engine (`joind ctl failover`); without it its rows say
# "skipped (engine not present)". Prints the tables side by side with ratios; results in
# bench/out/failover-DATE/ (results.txt, table.txt, logs). Needs root. About 3–6 minutes.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench: needs root for network namespaces" >&2; exit 77; }
SECTIONS="normal latency rate" PAIRS="dhcpd+dhcpd joind+joind joind+dhcpd dhcpd+joind"
while [ $# -gt 0 ]; do
  case $1 in
    --sections) SECTIONS=${2//,/ }; shift ;;
    --pairs) PAIRS=${2//,/ }; shift ;;
    *) echo "usage: bench/failover-pair.sh [--sections normal,latency,rate] [--pairs dhcpd+dhcpd,joind+joind,joind+dhcpd,dhcpd+joind]" >&2; exit 2 ;;
  esac
  shift
done
has() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }
: "${BENCH_FO_REPS:=3}" "${BENCH_FO_CLIENTS:=20}" "${BENCH_FO_SECS:=5}" "${BENCH_FO_RATES:=500 1000 1500 2000 3000 4000 6000 8000}"
: "${BENCH_FO_PERF_CLIENTS:=1000}" "${BENCH_FO_RATE_RANGE:=10.77.1.0 10.77.8.255}"
: "${BENCH_SRV_CPU:=0}" "${BENCH_GEN_CPU:=1}"
[ "$BENCH_FO_REPS" -ge 1 ] && [ "$BENCH_FO_REPS" -le 20 ] || { echo "bench: BENCH_FO_REPS 1..20" >&2; exit 2; }
[ "$BENCH_FO_CLIENTS" -ge 1 ] && [ "$BENCH_FO_CLIENTS" -le 60 ] || { echo "bench: BENCH_FO_CLIENTS 1..60" >&2; exit 2; }
[ "$BENCH_FO_SECS" -ge 1 ] && [ "$BENCH_FO_SECS" -le 60 ] || { echo "bench: BENCH_FO_SECS 1..60" >&2; exit 2; }

# shellcheck source=../test/system/lib/need.sh
. "$ROOT/test/system/lib/need.sh"
bed_need ip sysctl timeout taskset dhcpd udhcpc tcpdump perfdhcp node /usr/bin/python3
# shellcheck source=../test/system/lib/pair.sh
. "$ROOT/test/system/lib/pair.sh"
[ -f "$PAIR_JOIND_DIST/src/cli/main.js" ] || { echo "bench: build joind first (npx tsc -p tsconfig.json)" >&2; exit 1; }
LIB=$ROOT/test/system/lib
ENGINE=no
pair_joind_engine && ENGINE=yes

OUT=$ROOT/bench/out/failover-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT/logs"
export BED_LIFETIME=600   # nothing started here outlives ten minutes
P=bfo
bed_trap "$P"
note() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
record() { printf '%s %s\n' "$1" "$2" >> "$OUT/results.txt"; note "$1 = $2"; }
needs_engine() { [[ "$1" == *joind+* || "$1" == *+joind* ]] && [ "$ENGINE" = no ]; }

# pin PID — the process (all its threads) onto the servers' CPU.
pin() { [ "$1" = - ] || taskset -a -p -c "$BENCH_SRV_CPU" "$1" >/dev/null 2>&1 || true; }

# pair_start KIND_P KIND_S WORK — a fresh pair bed, both servers started (pinned), primary first. Sets
# LATER (the secondary's start time).
pair_start() {
  local kp=$1 ks=$2 w=$3
  rm -rf "$w" && mkdir -p "$w" || return 1
  pair_up "$P" || return 1
  [ -z "${BENCH_CAPTURE:-}" ] || {
    pair_capture_hb "$P" "$w/hb.pcap" 300 && HB_CAP=$CAPTURE_PID &&
      BED_LIFETIME=300 capture_start "$P" "$(bed_ns "$P" sw)" br0 "$w/lan.pcap" && LAN_CAP=$CAPTURE_PID; } || return 1
  pair_server_start "$P" "$kp" primary "$w/p" || return 1
  pin "$BED_CMD_PID"
  pair_server_start "$P" "$ks" secondary "$w/s" || return 1
  pin "$BED_CMD_PID"
  LATER=$(cat "$w/s/started")
}

# wait_normal KIND_P KIND_S WORK — poll both logs (50 ms, ≤ 60 s); T_NORMAL: seconds from LATER.
wait_normal() {
  local kp=$1 ks=$2 w=$3 pn='' sn='' i
  T_NORMAL=''
  for (( i = 0; i < 1200 && (${#pn} == 0 || ${#sn} == 0); i++ )); do
    [ -n "$pn" ] || ! pair_server_normal "$kp" "$w/p" || pn=$(date +%s.%N)
    [ -n "$sn" ] || ! pair_server_normal "$ks" "$w/s" || sn=$(date +%s.%N)
    sleep 0.05
  done
  [ -n "$pn" ] && [ -n "$sn" ] || return 1
  T_NORMAL=$(awk -v a="$pn" -v b="$sn" -v l="$LATER" 'BEGIN { m = a > b ? a : b; printf "%.2f", m - l }')
}

# stats V… — "median min max" of numbers.
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

# ---- normal and latency ----------------------------------------------------------------------------
for pair in $PAIRS; do
  has normal "$SECTIONS" || has latency "$SECTIONS" || break
  kp=${pair%+*} ks=${pair#*+}
  case "$kp $ks" in dhcpd\ dhcpd|dhcpd\ joind|joind\ dhcpd|joind\ joind) ;; *) echo "bench: pair $pair?" >&2; exit 2 ;; esac
  if needs_engine "$pair"; then record "$pair.normal_s" skipped; record "$pair.update_ms" skipped; continue; fi
  times=()
  for (( rep = 1; rep <= BENCH_FO_REPS; rep++ )); do
    w=$OUT/logs/$pair-$rep
    BENCH_CAPTURE=
    [ "$rep" = 1 ] && has latency "$SECTIONS" && BENCH_CAPTURE=1
    pair_start "$kp" "$ks" "$w" || { note "$pair: start failed (logs in $w)"; break; }
    if wait_normal "$kp" "$ks" "$w"; then
      times+=("$T_NORMAL"); note "$pair run $rep: normal/normal after $T_NORMAL s"
    else
      note "$pair run $rep: not normal within 60 s"
    fi
    if [ -n "$BENCH_CAPTURE" ] && [ -n "$T_NORMAL" ]; then
      # The clients once the pools are balanced (a bounded wait for the first free address each side).
      sleep 2
      C=$(bed_ns "$P" c)
      mapfile -t cifs < <(pair_add_clients "$P" "$BENCH_FO_CLIENTS")
      got=0
      for ifc in "${cifs[@]}"; do run_udhcpc "$C" "$ifc" "$w/$ifc" && got=$((got + 1)); done
      sleep 1
      capture_stop "$P" "$LAN_CAP"; capture_stop "$P" "$HB_CAP"
      upd=$(/usr/bin/python3 "$LIB/failover-updates.py" "$w/hb.pcap" --port "$PAIR_FO_PORT" --primary "$PAIR_P_HB" --lan "$w/lan.pcap") || upd=''
      declare -A U=()
      for kv in $upd; do U[${kv%%=*}]=${kv#*=}; done
      record "$pair.update_clients" "$got/$BENCH_FO_CLIENTS"
      record "$pair.update_ms" "${U[lat_ms_p50]:--} ${U[lat_ms_p90]:--} ${U[matched]:-0} ${U[rtt_ms_p50]:--}"
      record "$pair.update_raw" "${upd:-none}"
    fi
    pair_down "$P"
  done
  if [ ${#times[@]} -gt 0 ]; then record "$pair.normal_s" "$(stats "${times[@]}") ${#times[@]}"
  else record "$pair.normal_s" failed; fi
done

# ---- DORA rate -------------------------------------------------------------------------------------
# rate_start KIND WORK — dhcpd-pair, joind-pair or joind-single in a fresh bed with the rate range; the
# client namespace gets 10.77.0.9/16 (perfdhcp's relay address). Returns 1 if not up (and normal).
rate_start() {
  local kind=$1 w=$2
  PAIR_RANGE=$BENCH_FO_RATE_RANGE
  PAIR_JOIND_PCY_EXTRA='reply_to_relay_on_local_net'   # perfdhcp's relay address is on the servers' link
  rm -rf "$w" && mkdir -p "$w" || return 1
  pair_up "$P" && ip -n "$(bed_ns "$P" c)" addr add 10.77.0.9/16 dev cli || return 1
  case $kind in
    dhcpd-pair|joind-pair)
      pair_server_start "$P" "${kind%-pair}" primary "$w/p" && pin "$BED_CMD_PID" &&
        pair_server_start "$P" "${kind%-pair}" secondary "$w/s" && pin "$BED_CMD_PID" || return 1
      LATER=$(cat "$w/s/started")
      wait_normal "${kind%-pair}" "${kind%-pair}" "$w" || return 1
      sleep 3 ;;  # pool balance
    joind-single)
      # the joind pair's configuration without failover: the range is this server's own
      pair_joind_conf "$P" primary "$w/p" || return 1
      sed -i '/^failover/d' "$w/p/server.pcy" && echo 'canonical_name fo-solo' >> "$w/p/server.pcy" &&
        sed -i "s/ $PAIR_FO_NAME / fo-solo /" "$w/p/nets" || return 1
      pair_joind_start "$P" primary "$w/p" && pin "$BED_CMD_PID" || return 1 ;;
  esac
}

# perf_at RATE OUTFILE — perfdhcp in the client namespace; PR_SENT, PR_ACKS.
perf_at() {
  timeout -k 2 $(( BENCH_FO_SECS + 15 )) ip netns exec "$(bed_ns "$P" c)" taskset -c "$BENCH_GEN_CPU" \
    perfdhcp -4 -g single -r "$1" -p "$BENCH_FO_SECS" -R "$BENCH_FO_PERF_CLIENTS" -d 1 -W 500000 -l 10.77.0.9 all > "$2" 2>&1
  read -r PR_SENT PR_ACKS < <(awk '
    /Statistics for: DISCOVER-OFFER/ { s = 1 } /Statistics for: REQUEST-ACK/ { s = 2 }
    /^sent packets:/ && s == 1 { d = $3 } /^received packets:/ && s == 2 { a = $3 }
    END { print d + 0, a + 0 }' "$2")
}

RATE_KINDS="dhcpd-pair joind-pair joind-single"
if has rate "$SECTIONS"; then
  for kind in $RATE_KINDS; do
    if [ "$kind" = joind-pair ] && [ "$ENGINE" = no ]; then record "$kind.rate" skipped; continue; fi
    w=$OUT/logs/rate-$kind
    if ! rate_start "$kind" "$w"; then note "$kind did not come up (logs in $w)"; record "$kind.rate" failed; pair_down "$P"; continue; fi
    best=0 cells=''
    for rate in $BENCH_FO_RATES; do
      perf_at "$rate" "$w/perfdhcp-$rate.txt"
      frac=$(awk -v d="$PR_SENT" -v a="$PR_ACKS" 'BEGIN { printf "%.3f", d ? a / d : 0 }')
      acks_s=$(awk -v a="$PR_ACKS" -v t="$BENCH_FO_SECS" 'BEGIN { printf "%d", a / t }')
      ok=$(awk -v d="$PR_SENT" -v a="$PR_ACKS" -v r="$rate" -v t="$BENCH_FO_SECS" 'BEGIN { print (d >= 0.95 * r * t && a >= 0.99 * d) ? 1 : 0 }')
      cells="$cells $rate:$acks_s:$frac"
      note "$kind @ $rate/s: $PR_ACKS ACKs of $PR_SENT DISCOVERs ($frac)"
      [ "$ok" = 1 ] || break   # higher rates fail too
      best=$rate
    done
    record "$kind.rate" "$best$cells"
    pair_down "$P"
  done
fi

# ---- the table -------------------------------------------------------------------------------------
val() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); v = $0 } END { print v }' "$OUT/results.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "–" }'; }
{
  echo "failover-pair bench $(date -u +%Y-%m-%dT%H:%M:%SZ), joind $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)," \
    "dhcpd $(dhcpd --version 2>&1 | sed 's/^isc-dhcpd-//'), load $(cut -d' ' -f1-3 /proc/loadavg), engine $ENGINE"
  if has normal "$SECTIONS"; then
    echo
    echo "time to normal/normal from empty stores, from the later start (s; median min max, runs):"
    for pair in $PAIRS; do
      v=$(val "$pair.normal_s")
      case $v in skipped) v="skipped (engine not present)" ;; esac
      printf '  %-12s %s\n' "$pair" "$v"
    done
    ref=$(val dhcpd+dhcpd.normal_s); ref=${ref%% *}
    for pair in $PAIRS; do
      [ "$pair" = dhcpd+dhcpd ] && continue
      v=$(val "$pair.normal_s"); v=${v%% *}
      printf '  ratio %s / dhcpd+dhcpd: %s\n' "$pair" "$(ratio "$v" "$ref")"
    done
  fi
  if has latency "$SECTIONS"; then
    echo
    echo "update latency, client DHCPACK to the peer's BNDACK (ms; p50 p90, ACKs matched, BNDUPD->BNDACK p50):"
    for pair in $PAIRS; do
      v=$(val "$pair.update_ms")
      case $v in skipped) v="skipped (engine not present)" ;; '') v="–" ;; esac
      printf '  %-12s %s\n' "$pair" "$v"
    done
  fi
  if has rate "$SECTIONS"; then
    echo
    echo "DORA rate, perfdhcp as a relay on the LAN, ${BENCH_FO_SECS} s a rate (sustained/s at >= 99 %; then RATE:ACKs/s:completed):"
    for kind in $RATE_KINDS; do
      v=$(val "$kind.rate")
      case $v in skipped) v="skipped (engine not present)" ;; esac
      printf '  %-12s %s\n' "$kind" "$v"
    done
    jp=$(val joind-pair.rate) js=$(val joind-single.rate) dp=$(val dhcpd-pair.rate)
    printf '  ratio joind-pair / joind-single: %s\n' "$(ratio "${jp%% *}" "${js%% *}")"
    printf '  ratio joind-pair / dhcpd-pair:   %s\n' "$(ratio "${jp%% *}" "${dp%% *}")"
    printf '  ratio joind-single / dhcpd-pair: %s\n' "$(ratio "${js%% *}" "${dp%% *}")"
  fi
} | tee "$OUT/table.txt"
echo "# results: $OUT"
