#!/usr/bin/env bash
# Crash safety (issue 6, item 1). perfdhcp, acting as a relay on link R, keeps joind busy while the test
# SIGKILLs joind at random moments (CRASH_KILLS, default 22; about one in five while it starts up) and
# starts it again each time. tcpdump in perfdhcp's namespace records every DHCPACK that left the server.
# Afterwards rel-crash-verify checks the capture against the store joind left: the last ACK of every
# address is there for the same client, active, ending no earlier than the ACK said; no address was ever
# ACKed to two clients whose leases overlapped. Leases are 3 s and clients outnumber addresses, so
# addresses change hands all the time.
# Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need perfdhcp tcpdump
. "$(dirname "$0")/lib/joind.sh"

KILLS=${CRASH_KILLS:-22}
P=rn$$
joind_test_begin "$P"
joind_bed_up
conf_sample
# The relay link gets a range and 3 s leases; perfdhcp's giaddr is on a network joind is attached to.
echo "10.77.9.0   10.77.1.1   10.77.9.10-10.77.9.250" >>"$CONF/nets"
printf 'link-r:\\\n\t:nw=10.77.9.0:sm=255.255.255.0:gw=10.77.9.1:lt=3:t1=1:t2=2:tc=.site:\n' >>"$CONF/dhcpcap"
sed -i 's/^ping_timeout.*/ping_timeout 0/' "$CONF/server.pcy"
echo "reply_to_relay_on_local_net" >>"$CONF/server.pcy"
node "$DIST/src/cli/main.js" --check --config-dir "$CONF" >/dev/null 2>&1 || fail "test configuration does not load"

# start_joind [early] — starts joind; waits until it serves, unless `early` (it will be killed while it
# opens the store, recovers the WAL, opens sockets or writes its start-up backup).
start_joind() {
  local before
  before=$(grep -c '"JOIND_STARTED"' "$WORK/joind.log" 2>/dev/null)
  bed_spawn "$P" "$SRV" joind "$WORK/joind.log" -- node "$DIST/src/cli/main.js" -f -l 2 \
    --config-dir "$CONF" --spool-dir "$WORK/spool"
  JOIND=$BED_PID; JOIND_NODE=$BED_CMD_PID
  [ "${1:-}" = early ] && return 0
  bed_wait_for 15 sh -c "[ \$(grep -c '\"JOIND_STARTED\"' '$WORK/joind.log') -gt ${before:-0} ]" \
    || fail "joind did not start"
}

capture_start "$P" "$RLY" r-rly "$WORK/acks.pcap" udp src port 67 || fail "capture"
CAP=$CAPTURE_PID
start_joind
# 60 exchanges/s over 500 clients: each comes back every ~8 s, after its 3 s lease ended; about 180
# leases live at once in 241 addresses.
bed_spawn "$P" "$RLY" perfdhcp "$WORK/perfdhcp.log" -- perfdhcp -4 -r 60 -R 500 -p 300 -d 1 \
  -l "$BED_RLY_R" "$BED_SRV_R"
PERF=$BED_PID
early=0
early_kills=0
for ((k = 1; k <= KILLS; k++)); do
  if [ "$early" = 1 ]; then
    # Within its first 0.6 s: start-up, WAL recovery, the start-up backup.
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", r / 32767 * 0.6 }')"
    early_kills=$((early_kills + 1))
  else
    # A random moment 0.3–2.3 s into this run of joind.
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.3 + r / 32767 * 2 }')"
  fi
  bed_proc_alive "$PERF" || fail "perfdhcp ended early: $(tail -3 "$WORK/perfdhcp.log")"
  kill -KILL "$JOIND_NODE"
  KILLED_AT=$(date +%s)
  { wait "$JOIND"; } 2>/dev/null # reaps the wrapper without bash's "Killed" notice
  bed_wait_for 5 sh -c "! kill -0 $JOIND_NODE 2>/dev/null" || fail "joind survived SIGKILL"
  # One start in five is killed early; the last run always serves until its kill.
  early=0
  [ $((RANDOM % 5)) = 0 ] && [ "$k" -lt $((KILLS - 1)) ] && early=1
  if [ "$k" -lt "$KILLS" ]; then
    if [ "$early" = 1 ]; then start_joind early; else start_joind; fi
  fi
done
bed_stop "$P" "$PERF" >/dev/null 2>&1
capture_stop "$P" "$CAP" >/dev/null 2>&1
echo "ok: joind SIGKILLed $KILLS times under perfdhcp load ($early_kills of them while starting), restarted each time"
grep -m1 "packets dropped by kernel" "$WORK/acks.pcap.log" | sed 's/^/  tcpdump: /'

out=$(node "$DIST/test/system/rel-crash-verify.js" "$WORK/acks.pcap" "$WORK/spool" "$KILLED_AT"); rc=$?
echo "$out" | sed 's/^/  /'
[ "$rc" = 0 ] || fail "ACKed leases and the store disagree"
acks=$(sed -n 's/^acks \([0-9]*\) .*/\1/p' <<<"$out")
handovers=$(sed -n 's/.* handovers \([0-9]*\) .*/\1/p' <<<"$out")
live=$(sed -n 's/.* live-at-last-kill \([0-9]*\) .*/\1/p' <<<"$out")
[ "${acks:-0}" -ge $((KILLS * 20)) ] || fail "only ${acks:-0} ACKs captured: too little load to prove anything"
[ "${handovers:-0}" -ge 20 ] || fail "only ${handovers:-0} addresses changed hands: the overlap check proved little"
[ "${live:-0}" -ge 5 ] || fail "only ${live:-0} leases were live at the last kill"
echo "ok: every ACKed lease is in the store, no address ACKed to two clients at once"
# The store opens again (WAL recovery after the last SIGKILL) and serves.
start_joind
bed_stop "$P" "$JOIND" || fail "joind did not stop"
grep -q '"JOIND_STOPPED"' "$WORK/joind.log" || fail "no orderly stop after the crashes"
echo "PASS ($KILLS kills, $acks ACKs)"
