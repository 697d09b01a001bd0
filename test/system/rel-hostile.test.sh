#!/usr/bin/env bash
# Hostile packets (issue 6, item 3): bench/reliability/dhcp-hostile.c sends random, truncated and
# mutated BOOTP/DHCP packets (bad lengths, overload loops, giant hlen, zero-length options, bogus relay
# options, thousands of repeated option parts, damaged Ethernet/IP/UDP framing) at the live joind: as
# raw broadcast frames on link A and as UDP datagrams from the relay's address on link R, once with the
# raw transport and once with the UDP transport (HOSTILE_TRANSPORTS). After each:
# joind is alive, no handler threw, every kind of decode failure the generator aims at was counted
# (SIGUSR1 state dump: counters.parseFailed per kind, dropped per reason, the transport's bad frames),
# its RSS stayed bounded, and real clients (link B, and behind ISC dhcrelay on link C) get leases.
# HOSTILE_COUNT (default 200000) packets in all, split between the transports, HOSTILE_PPS (default
# 25000) per second; the full form is bench/reliability/hostile.sh (1,000,000 per transport). Needs root
# (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need gcc /usr/include/stdio.h udhcpc dhclient dhcrelay
. "$(dirname "$0")/lib/joind.sh"

COUNT=${HOSTILE_COUNT:-200000}
PPS=${HOSTILE_PPS:-25000}
SEED=${HOSTILE_SEED:-$$}
RSS_LIMIT_KB=${HOSTILE_RSS_LIMIT_KB:-262144}
TRANSPORTS=${HOSTILE_TRANSPORTS:-raw udp}
P=rm$$
joind_test_begin "$P"
gcc -O2 -Wall -o "$WORK/dhcp-hostile" "$ROOT/bench/reliability/dhcp-hostile.c" || fail "generator does not build"

bed_up "$P" || fail "bed_up"
SRV=$(bed_ns "$P" srv); CLA=$(bed_ns "$P" cla); RLY=$(bed_ns "$P" rly)
bed_start_relay_once() { [ -n "${RELAY_UP:-}" ] || { bed_start_relay "$P" || fail "relay did not start"; RELAY_UP=1; }; }

# send NAME NS -- ARGS… : runs the generator in NS, sampling joind's RSS every 0.5 s while it runs.
send() {
  local name=$1 ns=$2 rss
  shift 3
  bed_spawn "$P" "$ns" "$name" "$WORK/$name.out" -- "$WORK/dhcp-hostile" "$@"
  while bed_proc_alive "$BED_PID"; do
    rss=$(rss_kb); [ -n "$rss" ] || fail "joind is gone during the $name run"
    [ "$rss" -gt "$RSS_MAX" ] && RSS_MAX=$rss
    sleep 0.5
  done
  grep -q '^sent ' "$WORK/$name.out" || fail "$name generator failed: $(tail -3 "$WORK/$name.out")"
  echo "ok: $name: $(grep '^sent ' "$WORK/$name.out")"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null; }

# pass TRANSPORT COUNT — joind on that transport takes COUNT hostile packets, then the checks.
pass() {
  local transport=$1 count=$2 conf=$WORK/conf-$1 raw_count
  echo "# transport $transport, $count packets"
  cp -r "$ROOT/etc" "$conf"
  # No ping: the sane requests in the noise would otherwise queue 0.5 s echo waits each.
  sed -i 's/^ping_timeout.*/ping_timeout 0/' "$conf/server.pcy"
  echo "transport $transport" >>"$conf/server.pcy"
  # The UDP transport cannot tell links apart: one attached network (A), and the relayed one.
  [ "$transport" = udp ] && sed -i '/^10\.77\.2\.0/d' "$conf/nets"
  mkdir -p "$WORK/spool-$transport"
  joind_start "$SRV" "$conf" "$WORK/spool-$transport"
  grep -q "\"TRANSPORT_READY\".*\"$transport\"" "$WORK/joind.log" || fail "joind is not on the $transport transport"
  PID=$(cat "$WORK/spool-$transport/joind.pid")
  RSS_START=$(rss_kb)
  RSS_MAX=$RSS_START
  raw_count=$((count * 6 / 10))
  send "raw-$transport" "$CLA" -- raw a-cli "$raw_count" "$SEED" "$PPS"
  send "udp-$transport" "$RLY" -- udp "$BED_SRV_R" "$((count - raw_count))" "$((SEED + 1))" "$PPS"
  bed_proc_alive "$PID" || fail "joind died"

  # The counters, from the SIGUSR1 state dump.
  local before
  before=$(grep -c '"STATE_DUMP"' "$WORK/joind.log")
  kill -USR1 "$PID"
  bed_wait_for 10 sh -c "[ \$(grep -c '\"STATE_DUMP\"' '$WORK/joind.log') -gt $before ]" || fail "no state dump after SIGUSR1"
  grep '"STATE_DUMP"' "$WORK/joind.log" | tail -1 >"$WORK/state-$transport.json"
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const c = s.counters, t = s.transport;
    const kinds = Object.keys(c.parseFailed);
    const parseFailed = kinds.reduce((n, k) => n + c.parseFailed[k], 0);
    console.log("received " + c.received + ", decode failures " + parseFailed + " " + JSON.stringify(c.parseFailed));
    console.log("dropped " + JSON.stringify(c.dropped) + ", sent " + JSON.stringify(c.sent));
    if (t) console.log("transport: bad frames " + t.badFrames + ", kernel drops " + t.kernelDrops);
    console.log("handler errors " + c.handlerErrors);
    const want = ["too-short", "bad-op", "bad-hlen", "option-truncated", "bad-overload", "bad-option-length", "bad-message-type"];
    const missing = want.filter((k) => !(c.parseFailed[k] > 0));
    const problems = [];
    if (missing.length) problems.push("no decode failure counted for: " + missing.join(", "));
    if (c.handlerErrors !== 0) problems.push(c.handlerErrors + " handler errors");
    if (process.argv[3] === "raw" && !(t && t.badFrames > 0)) problems.push("no bad frame counted by the transport");
    if (!(c.received >= Number(process.argv[2]) / 8)) problems.push("only " + c.received + " packets reached the server");
    if (!((c.sent.DHCP_OFFER || 0) > 0)) problems.push("no OFFER for the sane requests in the noise");
    if (problems.length) { console.log("PROBLEMS: " + problems.join("; ")); process.exit(1); }
  ' "$WORK/state-$transport.json" "$count" "$transport" | sed 's/^/  /' ; [ "${PIPESTATUS[0]}" = 0 ] || fail "counters do not show the drops"
  echo "ok: every kind of hostile packet was counted as a drop"

  local rss_end
  rss_end=$(rss_kb)
  echo "ok: RSS start ${RSS_START} kB, max ${RSS_MAX} kB, end ${rss_end} kB (limit ${RSS_LIMIT_KB} kB)"
  [ "$RSS_MAX" -le "$RSS_LIMIT_KB" ] || fail "RSS grew to ${RSS_MAX} kB"

  # Real clients right after (link A's pool is held by the sane DISCOVERs of the noise).
  if [ "$transport" = raw ]; then
    run_udhcpc "$(bed_ns "$P" clb)" b-cli "$WORK/b" || fail "no lease on link B after the run: $(tail -3 "$WORK/b/log")"
    echo "ok: udhcpc on link B got $(bed_result "$WORK/b" ip)"
  fi
  bed_start_relay_once
  run_dhclient "$(bed_ns "$P" clc)" c-cli "$WORK/c-$transport" || fail "no lease behind the relay after the run: $(tail -3 "$WORK/c-$transport/log")"
  echo "ok: dhclient behind the relay got $(bed_result "$WORK/c-$transport" ip)"
  bed_stop "$P" "$(bed_result "$WORK/c-$transport" pid)" >/dev/null 2>&1
  bed_proc_alive "$PID" || fail "joind died"
  bed_stop "$P" "$JOIND" || fail "joind did not stop"
  mv "$WORK/joind.log" "$WORK/joind-$transport.log"
}

set -- $TRANSPORTS
for transport in $TRANSPORTS; do pass "$transport" "$((COUNT / $#))"; done
echo "PASS (seed $SEED, $COUNT packets over the $TRANSPORTS transports)"
