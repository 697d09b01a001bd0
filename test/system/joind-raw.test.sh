#!/usr/bin/env bash
# joind with the raw transport on two links and a third network behind ISC dhcrelay, with the sample
# configuration of etc/ as it is: each client gets an address of the right range and network; a
# client with its broadcast flag clear gets its OFFER unicast to its MAC (seen in a capture).
# Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need udhcpc dhclient dhcrelay tcpdump
. "$(dirname "$0")/lib/joind.sh"

P=jr$$
joind_test_begin "$P"
joind_bed_up
mkdir -p "$WORK/spool"
joind_start "$SRV" "$ROOT/etc" "$WORK/spool"
grep -q '"TRANSPORT_READY".*"raw"' "$WORK/joind.log" || fail "joind is not on the raw transport"
bed_start_relay "$P" || fail "relay did not start"

capture_start "$P" "$(bed_ns "$P" cla)" a-cli "$WORK/a.pcap" || fail "capture"
CAP=$CAPTURE_PID
run_udhcpc "$(bed_ns "$P" cla)" a-cli "$WORK/a" || fail "udhcpc on link A: $(tail -3 "$WORK/a/log")"
run_dhclient "$(bed_ns "$P" clb)" b-cli "$WORK/b" || fail "dhclient on link B: $(tail -3 "$WORK/b/log")"
run_udhcpc "$(bed_ns "$P" clc)" c-cli "$WORK/c" || fail "udhcpc behind the relay: $(tail -3 "$WORK/c/log")"
for pair in "a 10.77.1" "b 10.77.2" "c 10.77.3"; do
  set -- $pair
  addr=$(bed_result "$WORK/$1" ip)
  case $addr in "$2".1[0-9][0-9]) echo "ok: link $1 client got $addr" ;; *) fail "link $1 client got '$addr', expected $2.100-199" ;; esac
  [ "$(bed_result "$WORK/$1" router)" = "$2.1" ] || fail "link $1 router $(bed_result "$WORK/$1" router)"
done
capture_stop "$P" "$CAP" >/dev/null 2>&1 || true
mac=$(bed_client_mac "$P" cla)
replies=$(tcpdump -r "$WORK/a.pcap" -n -e 'udp src port 67' 2>/dev/null)
echo "$replies" | grep -qi "> $mac" || fail "no reply unicast to the client's MAC $mac: $replies"
echo "ok: replies unicast to $mac (broadcast flag clear)"
echo "PASS"
