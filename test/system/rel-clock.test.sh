#!/usr/bin/env bash
# Steps of the wall clock (issue 17, point 4). joind runs under libfaketime (Debian's libfaketime,
# LD_PRELOAD) with its offset read from a timestamp file at every call and the monotonic clock left
# alone: writing the file steps node's Date.now at once, as NTP or an admin stepping the clock would,
# and performance.now (joind's lease clock) does not move. Real clients (busybox udhcpc) on link A:
#  1. a wrong boot time: a fresh spool, the clock 400 days behind (an appliance booting at its build
#     date); A gets a lease (udhcpc kept running, so SIGUSR1 makes it renew).
#  2. NTP steps it forward to the right time: joind logs CLOCK_STEP of +400 days "while running"; A's
#     lease still ends within (0, lease time] of now in the store, in `joind dump`, `show` and
#     `export`; A renews and is ACKed its own address; B gets another address.
#  3. a step back of 30 days: CLOCK_STEP of -30 days; every active lease ends within (0, lease time]
#     of the (faked) now (none holds its address for the 30 days); A renews: its own address.
#  4. the clock put right (CLOCK_STEP of +30 days), joind stopped, and started again 400 days behind
#     (the appliance reboots at its build date): CLOCK_STEP "while stopped" of -400 days at start; A's
#     and B's leases still valid and not longer than the lease time; A renews: its own address; C gets
#     the third address of a three-address range, neither A's nor B's.
# A capture of link A on the server keeps every reply: every ACK to A has A's address, no ACK or OFFER
# gives an address to another client while a lease runs on it (lan-leases.py, by the capture's real
# time), no ACK's lease time exceeds the configured one. The admin commands run under the same faked
# clock as joind, so "now" is the same for them.
# Needs root (namespaces) and libfaketime; exits 77 (skip) without.
set -u
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
. "$(dirname "$0")/lib/need.sh"
bed_need udhcpc tcpdump python3 "$FAKETIME_LIB"
. "$(dirname "$0")/lib/joind.sh"
. "$ROOT/test/system/lib/expect.sh"

P=rk$$
joind_test_begin "$P"
joind_bed_up

DAY=86400
TOL=5 # seconds of slack on a step's size and on lease ends (the time between a step and its check)
conf_sample
# Link A: three addresses (so that C can only get an address A or B does not hold) and 300 s leases.
cat > "$CONF/nets" <<'EOF'
10.77.1.0   10.77.1.1   10.77.1.100-10.77.1.102
10.77.2.0   10.77.1.1   10.77.2.100-10.77.2.199
10.77.3.0   10.77.1.1   10.77.3.100-10.77.3.199
EOF
sed -i '/^link-a:/,/tc=\.site/ s/:lt=600:t1=300:t2=525:/:lt=300:t1=150:t2=262:/' "$CONF/dhcpcap"
sed -i 's/^ping_timeout.*/ping_timeout 0/' "$CONF/server.pcy"
conf_load "$CONF"
LEASE=$(conf_tag link-a lt)
[ "$LEASE" = 300 ] || fail "link A's lease time is '$LEASE', the test set 300"
SPOOL=$WORK/spool

# --- the faked clock -------------------------------------------------------------------------------
FT=$WORK/faketime
FAKE=(env LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$FT" FAKETIME_NO_CACHE=1
  FAKETIME_DONT_FAKE_MONOTONIC=1)
# set_clock OFFSET — libfaketime's offset ("+0", "-400d"), written whole (rename) so no reader sees
# an empty file.
set_clock() { printf '%s\n' "$1" > "$FT.new" && mv -f "$FT.new" "$FT" || fail "writing $FT"; }
# fake_now — the faked time, seconds since 1970, as joind sees it.
fake_now() { "${FAKE[@]}" date +%s; }
# cli ARGS… — the joind command line under the same faked clock (bounded).
cli() { "${FAKE[@]}" timeout 30 node "$DIST/src/cli/main.js" "$@"; }

set_clock -400d
[ $(( $(date +%s) - $(fake_now) )) -ge $(( 400 * DAY - TOL )) ] \
  || fail "libfaketime does not move the clock: $(fake_now) vs $(date +%s)"

# start_joind — joind under the faked clock; waits (≤ 15 s) for its next JOIND_STARTED.
start_joind() {
  local before
  before=$(grep -c '"JOIND_STARTED"' "$WORK/joind.log" 2>/dev/null)
  bed_spawn "$P" "$SRV" joind "$WORK/joind.log" -- "${FAKE[@]}" node "$DIST/src/cli/main.js" -f -l 2 \
    --config-dir "$CONF" --spool-dir "$SPOOL"
  JOIND=$BED_PID
  bed_wait_for 15 sh -c "[ \$(grep -c '\"JOIND_STARTED\"' '$WORK/joind.log') -gt ${before:-0} ]" \
    || fail "joind did not start"
}

# expect_step N SECONDS WHEN [LATER] — waits (≤ 5 s) for the Nth CLOCK_STEP line; fails unless its
# seconds are SECONDS ± TOL (up to LATER s more: the time joind was stopped, which counts for nothing
# in a step back while stopped) and its when is WHEN.
expect_step() {
  local line got later=${4:-0}
  bed_wait_for 5 sh -c "[ \$(grep -c '\"CLOCK_STEP\"' '$WORK/joind.log') -ge $1 ]" \
    || fail "no CLOCK_STEP (number $1) within 5 s of a step of $2 s"
  line=$(grep '"CLOCK_STEP"' "$WORK/joind.log" | sed -n "$1p")
  got=$(sed -n 's/.*"seconds":\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$line")
  [ -n "$got" ] && (( got - $2 <= TOL + later && $2 - got <= TOL )) || fail "CLOCK_STEP of '$got' s, the clock stepped $2 s: $line"
  grep -q "\"when\":\"$3\"" <<<"$line" || fail "CLOCK_STEP not \"$3\": $line"
  [ "$(grep -c '"CLOCK_STEP"' "$WORK/joind.log")" = "$1" ] || fail "more than $1 CLOCK_STEP: $(grep CLOCK_STEP "$WORK/joind.log")"
  STEP_SECONDS=$got
}

# within_lease WHAT ENDS NOW — ENDS lies in (NOW, NOW + LEASE + TOL]: the lease still runs and holds no
# longer than a lease time from now.
within_lease() {
  [ -n "$2" ] && (( $2 > $3 && $2 - $3 <= LEASE + TOL )) \
    || fail "$1 ends at '$2', now is $3 ($(( ${2:-0} - $3 )) s from now; a lease is $LEASE s)"
}

# check_leases WHO — every active lease in the store ends within (now, now + LEASE] of the faked now,
# and for A's address (IP_A) `joind dump --json`, `show -c` and `export` (under the same faked clock)
# print the store's end.
check_leases() {
  local now row ip ends n=0 dump show exp
  now=$(fake_now)
  while IFS=$'\t' read -r ip ends; do
    [ -n "$ip" ] || continue
    within_lease "$1: the lease of $ip (store)" "$ends" "$now"
    n=$((n + 1))
  done < <(store_query "SELECT (address >> 24) || '.' || ((address >> 16) & 255) || '.' || ((address >> 8) & 255) || '.' || (address & 255), ends FROM leases WHERE state = 1")
  [ "$n" -ge 1 ] || fail "$1: no active lease in the store"
  ends=$(store_query 'SELECT ends FROM leases WHERE address = ? AND state = 1' "$(_bed_ip2int "$IP_A")")
  [ -n "$ends" ] || fail "$1: A's $IP_A is not active in the store"
  dump=$(cli dump --spool-dir "$SPOOL" -c --json -k "$IP_A" | node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log(j.leases.map((l) => l.ends).join(" "));') || fail "$1: joind dump failed"
  [ "$dump" = "$ends" ] || fail "$1: joind dump -c says A's lease ends at '$dump', the store $ends"
  show=$(cli show --spool-dir "$SPOOL" -c -k "$IP_A" | awk -v ip="$IP_A" '$1 == ip { print $3, $5, $6, $7, $8 }')
  [ "${show%% *}" = active ] || fail "$1: joind show -c: A's lease is '${show%% *}': $(cli show --spool-dir "$SPOOL")"
  show=$(date -u -d "${show#* }" +%s) && [ "$show" = "$ends" ] \
    || fail "$1: joind show says A's lease ends at $show, the store $ends"
  exp=$(cli export --spool-dir "$SPOOL" | awk -v ip="$IP_A" '
    $1 == "lease" { cur = $2 } cur == ip && $1 == "ends" { sub(/;$/, "", $4); print $3, $4 }')
  exp=$(date -u -d "$exp" +%s 2>/dev/null) && [ "$exp" = "$ends" ] \
    || fail "$1: joind export says A's lease ends '$exp', the store $ends"
  echo "ok: $1: $n active lease(s) end within (0, $LEASE] s of now ($(date -u -d "@$now" '+%F %T')); A's end $(( ends - now )) s from now in the store, dump, show and export"
}

# renew_a WHO — A renews (SIGUSR1): the ACK must give it IP_A and no more than LEASE.
renew_a() {
  udhcpc_renew "$WORK/a" || fail "$1: A's renewal was not ACKed: $(tail -n 5 "$WORK/a/log")"
  [ "$(bed_result "$WORK/a" ip)" = "$IP_A" ] || fail "$1: A renewed $IP_A and was ACKed $(bed_result "$WORK/a" ip)"
  local l
  l=$(bed_result "$WORK/a" lease)
  [ -n "$l" ] && (( l > 0 && l <= LEASE )) || fail "$1: A's renewal ACKed a lease of '$l' s (at most $LEASE)"
  RENEWALS=$((RENEWALS + 1))
  echo "ok: $1: A renewed, ACKed its own $IP_A for $l s"
}
RENEWALS=0

capture_start "$P" "$SRV" a-srv "$WORK/a.pcap" || fail "capture"
CAP=$CAPTURE_PID
mapfile -t aifs < <(bed_add_clients "$P" "$CLA" 2)
MAC_A=$(bed_client_mac "$P" "$CLA" 0)

# --- 1. a wrong boot time --------------------------------------------------------------------------
start_joind
start_udhcpc "$CLA" a-cli "$WORK/a" || fail "A got no lease: $(tail -n 5 "$WORK/a/log")"
IP_A=$(bed_result "$WORK/a" ip)
conf_in_ranges "$IP_A" 10.77.1.0 || fail "A got $IP_A, not of link A's range"
echo "ok: 1: joind started 400 days behind; A got $IP_A"
check_leases "1: before the step"

# new_client NAME IFACE — a one-off udhcpc on IFACE (a macvlan in A's namespace) leases; NEW_IP is its
# address. udhcpc is gone afterwards, and so is the address: it would only give the namespace a second
# route to link A.
new_client() {
  local out=$WORK/${1,,}
  run_udhcpc "$CLA" "$2" "$out" || fail "$1 got no lease: $(tail -n 5 "$out/log")"
  NEW_IP=$(bed_result "$out" ip)
  ip -n "$CLA" addr flush dev "$2"
}

# --- 2. NTP steps the clock forward ----------------------------------------------------------------
set_clock +0
expect_step 1 $(( 400 * DAY )) "while running"
echo "ok: 2: CLOCK_STEP of +400 days while running ($STEP_SECONDS s)"
check_leases "2: after +400 d"
renew_a "2: after +400 d"
new_client B "${aifs[0]}"; IP_B=$NEW_IP
[ "$IP_B" != "$IP_A" ] && conf_in_ranges "$IP_B" 10.77.1.0 || fail "B got '$IP_B' (A holds $IP_A)"
echo "ok: 2: B got $IP_B, not A's"

# --- 3. a step back --------------------------------------------------------------------------------
set_clock -30d
expect_step 2 $(( -30 * DAY )) "while running"
echo "ok: 3: CLOCK_STEP of -30 days while running ($STEP_SECONDS s)"
check_leases "3: after -30 d"
renew_a "3: after -30 d"
check_leases "3: after A's renewal"

# --- 4. put right, stopped, booted at the build date again -----------------------------------------
set_clock +0
expect_step 3 $(( 30 * DAY )) "while running"
echo "ok: 4: CLOCK_STEP of +30 days while running ($STEP_SECONDS s), the clock is right again"
stopped_at=$(date +%s)
bed_stop "$P" "$JOIND" || fail "joind did not stop"
grep -q '"JOIND_STOPPED"' "$WORK/joind.log" || fail "joind did not stop cleanly"
set_clock -400d
start_joind
expect_step 4 $(( -400 * DAY )) "while stopped" $(( $(date +%s) - stopped_at ))
# from: the store's last time (the real clock when joind stopped); to: the clock joind started with.
line=$(grep '"CLOCK_STEP"' "$WORK/joind.log" | sed -n 4p)
from=$(date -u -d "$(sed -n 's/.*"from":"\([^"]*\)".*/\1/p' <<<"$line")" +%s) && to=$(date -u -d "$(sed -n 's/.*"to":"\([^"]*\)".*/\1/p' <<<"$line")" +%s) \
  || fail "4: CLOCK_STEP without from/to: $line"
(( from - stopped_at <= TOL && stopped_at - from <= TOL + 300 && to - from - STEP_SECONDS <= 1 && STEP_SECONDS - (to - from) <= 1 )) \
  || fail "4: CLOCK_STEP from/to are not the store's time and the new clock: $line"
echo "ok: 4: restarted 400 days behind: CLOCK_STEP of -400 days while stopped ($STEP_SECONDS s), from the store's time to the new clock"
check_leases "4: after the restart"
renew_a "4: after the restart"
new_client C "${aifs[1]}"; IP_C=$NEW_IP
[ "$IP_C" != "$IP_A" ] && [ "$IP_C" != "$IP_B" ] && conf_in_ranges "$IP_C" 10.77.1.0 \
  || fail "C got '$IP_C' (A holds $IP_A, B $IP_B)"
echo "ok: 4: C got $IP_C, neither A's nor B's"
check_leases "4: at the end"

# --- 5. every reply on link A ----------------------------------------------------------------------
capture_stop "$P" "$CAP"
# One line per ACK: chaddr yiaddr lease-time.
acks=$(tcpdump -r "$WORK/a.pcap" -n -vv 2>/dev/null | awk '
  function flush() { if (reply && type == "ACK") print ch, yi, lt; reply = 0 }
  /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]+ / { flush(); type = ""; yi = "0.0.0.0"; ch = ""; lt = "-"; next }
  / > .*BOOTP\/DHCP, Reply/ { reply = 1; next }
  reply && $1 == "Your-IP" { yi = $2; next }
  reply && $1 == "Client-Ethernet-Address" { ch = $2; next }
  reply && /DHCP-Message \(53\)/ { type = toupper($NF); next }
  reply && /Lease-Time \(51\)/ { lt = $NF; next }
  END { flush() }')
[ -n "$acks" ] || fail "no ACK in the capture"
n_a=0
while read -r mac ip lt; do
  if [ "$mac" = "$MAC_A" ]; then
    [ "$ip" = "$IP_A" ] || fail "an ACK to A gave it $ip, not $IP_A"
    n_a=$((n_a + 1))
  else
    [ "$ip" != "$IP_A" ] || fail "an ACK gave A's $IP_A to $mac"
  fi
  [[ "$lt" =~ ^[0-9]+$ ]] && (( lt <= LEASE )) || fail "an ACK to $mac of $ip has a lease time of '$lt' (at most $LEASE)"
done <<<"$acks"
[ "$n_a" -ge $((RENEWALS + 1)) ] || fail "$n_a ACKs to A in the capture, expected $((RENEWALS + 1))"
dups=$(python3 "$ROOT/test/system/lib/lan-leases.py" "$WORK/a.pcap" --hold 60) || fail "lan-leases.py: $dups"
grep -q ' dups=0 ' <<<"$dups " || fail "an address went to two clients at once: $dups"
echo "ok: 5: $(wc -l <<<"$acks") ACKs on link A, $n_a to A all of $IP_A, none of $IP_A to another client, none over $LEASE s; lan-leases: $(head -n 1 <<<"$dups")"

bed_stop "$P" "$(bed_result "$WORK/a" pid)"
bed_stop "$P" "$JOIND" || fail "joind did not stop"
expect_all_sent
echo "PASS"
