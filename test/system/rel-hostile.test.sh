#!/usr/bin/env bash
# Hostile packets (issue 6, item 3): bench/reliability/dhcp-hostile.c sends random, truncated and
# mutated BOOTP/DHCP packets (bad lengths, overload loops, giant hlen, zero-length options, bogus relay
# options, thousands of repeated option parts, damaged Ethernet/IP/UDP framing) at the live joind: as
# raw broadcast frames on link A and as UDP datagrams from the relay's address on link R. Then:
# joind is alive, no handler threw, every kind of decode failure the generator aims at was counted
# (SIGUSR1 state dump: counters.parseFailed per kind, dropped per reason, the transport's bad frames),
# its RSS stayed bounded, and real clients (link B, and behind ISC dhcrelay on link C) get leases.
# HOSTILE_COUNT (default 200000) packets in all, HOSTILE_PPS (default 25000) per second; the full form
# is bench/reliability/hostile.sh (1,000,000). Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/joind.sh"

COUNT=${HOSTILE_COUNT:-200000}
PPS=${HOSTILE_PPS:-25000}
SEED=${HOSTILE_SEED:-$$}
RSS_LIMIT_KB=${HOSTILE_RSS_LIMIT_KB:-262144}
P=rm$$
joind_test_begin "$P"
command -v gcc >/dev/null || fail "gcc is needed to build the generator"
gcc -O2 -Wall -o "$WORK/dhcp-hostile" "$ROOT/bench/reliability/dhcp-hostile.c" || fail "generator does not build"

bed_up "$P" || fail "bed_up"
SRV=$(bed_ns "$P" srv); CLA=$(bed_ns "$P" cla); RLY=$(bed_ns "$P" rly)
cp -r "$ROOT/etc" "$WORK/conf"
# No ping: the sane requests in the noise would otherwise queue 0.5 s echo waits each.
sed -i 's/^ping_timeout.*/ping_timeout 0/' "$WORK/conf/server.pcy"
mkdir -p "$WORK/spool"
joind_start "$SRV" "$WORK/conf" "$WORK/spool"
PID=$(cat "$WORK/spool/joind.pid")
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null; }
RSS_START=$(rss_kb)
RSS_MAX=$RSS_START

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
RAW_COUNT=$((COUNT * 6 / 10))
send raw "$CLA" -- raw a-cli "$RAW_COUNT" "$SEED" "$PPS"
send udp "$RLY" -- udp "$BED_SRV_R" "$((COUNT - RAW_COUNT))" "$((SEED + 1))" "$PPS"
bed_proc_alive "$PID" || fail "joind died"

# The counters, from the SIGUSR1 state dump.
before=$(grep -c '"STATE_DUMP"' "$WORK/joind.log")
kill -USR1 "$PID"
bed_wait_for 10 sh -c "[ \$(grep -c '\"STATE_DUMP\"' '$WORK/joind.log') -gt $before ]" || fail "no state dump after SIGUSR1"
grep '"STATE_DUMP"' "$WORK/joind.log" | tail -1 >"$WORK/state.json"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const c = s.counters, t = s.transport || {};
  const kinds = Object.keys(c.parseFailed);
  const parseFailed = kinds.reduce((n, k) => n + c.parseFailed[k], 0);
  console.log("received " + c.received + ", decode failures " + parseFailed + " " + JSON.stringify(c.parseFailed));
  console.log("dropped " + JSON.stringify(c.dropped) + ", sent " + JSON.stringify(c.sent));
  console.log("transport: bad frames " + t.badFrames + ", kernel drops " + t.kernelDrops + ", handler errors " + c.handlerErrors);
  const want = ["too-short", "bad-op", "bad-hlen", "option-truncated", "bad-overload", "bad-option-length", "bad-message-type"];
  const missing = want.filter((k) => !(c.parseFailed[k] > 0));
  const problems = [];
  if (missing.length) problems.push("no decode failure counted for: " + missing.join(", "));
  if (c.handlerErrors !== 0) problems.push(c.handlerErrors + " handler errors");
  if (!(t.badFrames > 0)) problems.push("no bad frame counted by the transport");
  if (!(c.received >= Number(process.argv[2]) / 8)) problems.push("only " + c.received + " packets reached the server");
  if (!((c.sent.DHCP_OFFER || 0) > 0)) problems.push("no OFFER for the sane requests in the noise");
  if (problems.length) { console.log("PROBLEMS: " + problems.join("; ")); process.exit(1); }
' "$WORK/state.json" "$COUNT" | sed 's/^/  /' ; [ "${PIPESTATUS[0]}" = 0 ] || fail "counters do not show the drops"
echo "ok: every kind of hostile packet was counted as a drop"

RSS_END=$(rss_kb)
echo "ok: RSS start ${RSS_START} kB, max ${RSS_MAX} kB, end ${RSS_END} kB (limit ${RSS_LIMIT_KB} kB)"
[ "$RSS_MAX" -le "$RSS_LIMIT_KB" ] || fail "RSS grew to ${RSS_MAX} kB"

# Real clients right after.
run_udhcpc "$(bed_ns "$P" clb)" b-cli "$WORK/b" || fail "no lease on link B after the run: $(tail -3 "$WORK/b/log")"
echo "ok: udhcpc on link B got $(bed_result "$WORK/b" ip)"
bed_start_relay "$P" || fail "relay did not start"
run_dhclient "$(bed_ns "$P" clc)" c-cli "$WORK/c" || fail "no lease behind the relay after the run: $(tail -3 "$WORK/c/log")"
echo "ok: dhclient behind the relay got $(bed_result "$WORK/c" ip)"
bed_proc_alive "$PID" || fail "joind died"
echo "PASS (seed $SEED, $COUNT packets)"
