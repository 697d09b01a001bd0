#!/usr/bin/env bash
# A lease's life with real clients and joind (raw transport), with short lease times on link A:
#  - ISC dhclient's script sees PREINIT, then BOUND; after T1 a RENEW, whose REQUEST goes unicast to the
#    server and whose ACK comes back (capture); when the server cannot be reached by unicast (a
#    blackhole route to it in the client's namespace), the renewal goes unanswered and at T2 the
#    script sees REBIND (a broadcast REQUEST, answered).
#  - After joind restarts, every client keeps its address: dhclient on link A and behind the relay and
#    dhcpcd on link B come back with INIT-REBOOT (a REQUEST acknowledged, no new DISCOVER/OFFER), and
#    udhcpc asking for its old address and bootpc (a dynamic_bootp binding) get theirs again.
# Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need dhclient dhcpcd udhcpc bootpc dhcrelay tcpdump
. "$(dirname "$0")/lib/joind.sh"
. "$ROOT/test/system/lib/expect.sh"

P=jd$$
joind_test_begin "$P"
joind_bed_up

# The sample configuration with short lease times on links A, B and behind the relay (renewal after 4 s,
# rebinding after 12 s).
conf_sample
sed -i '/^\(link-[ab]\|relayed\):/,/tc=/ s/:lt=[0-9]*:t1=[0-9]*:t2=[0-9]*:/:lt=40:t1=4:t2=12:/' "$CONF/dhcpcap"
printf '\nping_timeout 100\ndynamic_bootp on\n' >> "$CONF/server.pcy"
conf_load "$CONF"
T1=$(conf_tag link-a t1) T2=$(conf_tag link-a t2) LT=$(conf_tag link-a lt)
[ "$LT" = 40 ] && [ "$T1" = 4 ] && [ "$T2" = 12 ] || fail "test configuration: link-a has lt=$LT t1=$T1 t2=$T2"
[ "$(conf_tag relayed t1)" = "$T1" ] && [ "$(conf_tag link-b t1)" = "$T1" ] || fail "test configuration: T1 differs between networks"

joind_start "$SRV" "$CONF" "$WORK/spool"
bed_start_relay "$P" || fail "relay did not start"

# new_lease_since EVENTS N — the script was called more than N times, the last time with a lease.
new_lease_since() {
  [ "$(grep -c '^reason=' "$1")" -gt "$2" ] && grep '^reason=' "$1" | tail -n 1 | grep -qE '=(RENEW|REBIND)$'
}
# events OUTDIR — the reasons dhclient's script was called with, in order, on one line.
events() { grep '^reason=' "$1/events" | cut -d= -f2 | tr '\n' ' '; }
# event_var OUTDIR REASON VAR — VAR in the last block of REASON.
event_var() { _bed_kv "$(_bed_last_event "$1/events" "$2")" "$3"; }

# --- PREINIT, BOUND, RENEW (unicast), REBIND ------------------------------------------------------
# dhclient on link A and behind the relay, dhcpcd on link B, at once (all with short leases), each in a
# namespace of its own so that its renewals leave by its link. Behind the relay, dhcrelay also picks up
# the client's unicast renewal as it passes (see lib/README.md): joind gets each one twice.
A=$WORK/a-dhclient D=$WORK/b-dhcpcd C=$WORK/c-dhclient
capture_start "$P" "$CLA" a-cli "$WORK/a.pcap" || fail "capture"
CAP=$CAPTURE_PID
run_dhclient "$CLA" a-cli "$A" || fail "dhclient on link A got no lease: $(tail -5 "$A/log")"
start_dhcpcd "$CLB" b-cli "$D" || fail "dhcpcd on link B got no lease: $(tail -5 "$D/log")"
run_dhclient "$CLC" c-cli "$C" || fail "dhclient behind the relay got no lease: $(tail -5 "$C/log")"
IP=$(bed_result "$A" ip) DIP=$(bed_result "$D" ip)
conf_in_ranges "$IP" 10.77.1.0 || fail "dhclient got $IP, outside link A's ranges"
conf_in_ranges "$DIP" 10.77.2.0 || fail "dhcpcd got $DIP, outside link B's ranges"
# (the first renewal may already be there: dhclient renews at 3/4 T1 and more, and the machine may be slow)
case $(events "$A") in "PREINIT BOUND "|"PREINIT BOUND RENEW "*) ;;
  *) fail "dhclient script saw '$(events "$A")', expected PREINIT then BOUND" ;; esac
for v in "lease_time $LT" "renewal_time $T1" "rebinding_time $T2"; do
  read -r name want <<< "$v"
  for out in "$A" "$D"; do
    got=$(event_var "$out" BOUND "new_dhcp_$name")
    [ "$got" = "$want" ] || fail "$(bed_result "$out" client): $name '$got', configured $want"
  done
done
echo "ok: dhclient script saw PREINIT then BOUND with $IP; dhcpcd BOUND with $DIP; lease $LT s, T1 $T1 s, T2 $T2 s"

bed_wait_for $(( T1 + 6 )) grep -q '^reason=RENEW$' "$A/events" || fail "dhclient: no RENEW within T1 + 6 s: $(events "$A")"
bed_wait_for $(( T1 + 6 )) grep -q '^reason=RENEW$' "$D/events" || fail "dhcpcd: no RENEW within T1 + 6 s: $(events "$D")"
bed_wait_for $(( T1 + 6 )) grep -q '^reason=RENEW$' "$C/events" || fail "dhclient behind the relay: no RENEW within T1 + 6 s: $(events "$C")"
[ "$(event_var "$C" RENEW new_ip_address)" = "$(bed_result "$C" ip)" ] || fail "dhclient behind the relay renewed another address"
[ "$(event_var "$A" RENEW new_ip_address)" = "$IP" ] || fail "RENEW with $(event_var "$A" RENEW new_ip_address), had $IP"
[ "$(event_var "$D" RENEW new_ip_address)" = "$DIP" ] || fail "dhcpcd RENEW with $(event_var "$D" RENEW new_ip_address), had $DIP"
capture_stop "$P" "$CAP" >/dev/null 2>&1
capture_dhcp "$WORK/a.pcap" > "$WORK/a.renew"
grep -q "^op=request type=REQUEST .* src=$IP\.68 dst=10\.77\.1\.1\.67 bcast=0 .* ciaddr=$IP " "$WORK/a.renew" \
  || fail "no unicast renewal REQUEST from $IP to the server in the capture: $(cat "$WORK/a.renew")"
grep -q "^op=reply type=ACK .* dst=$IP\.68 .* yiaddr=$IP " "$WORK/a.renew" \
  || fail "no ACK to $IP for the renewal in the capture: $(cat "$WORK/a.renew")"
echo "ok: after T1 the three scripts saw RENEW (one through the relay); dhclient's REQUEST went unicast to 10.77.1.1 and the ACK came back to $IP"

# The server becomes unreachable by unicast (a blackhole route to it on the client side): renewals
# go unanswered, the broadcast REQUEST after T2 (rebinding) does not. The capture and the counts start
# after the routes, and a renewal ACK already on its way is let in first.
ip -n "$CLA" route add blackhole 10.77.1.1/32 && ip -n "$CLB" route add blackhole 10.77.2.1/32 || fail "blackhole routes"
sleep 1
capture_start "$P" "$CLA" a-cli "$WORK/rebind.pcap" || fail "capture"
CAP=$CAPTURE_PID
a_before=$(grep -c '^reason=' "$A/events") d_renewed=$(grep -c '^reason=RENEW$' "$D/events")
bed_wait_for $(( T2 + 8 )) grep -q '^reason=REBIND$' "$D/events" || fail "dhcpcd: no REBIND within T2 + 8 s: $(events "$D")"
[ "$(grep -c '^reason=RENEW$' "$D/events")" = "$d_renewed" ] || fail "dhcpcd: a renewal was answered through the blackhole: $(events "$D")"
[ "$(event_var "$D" REBIND new_ip_address)" = "$DIP" ] || fail "dhcpcd REBIND with $(event_var "$D" REBIND new_ip_address), had $DIP"
echo "ok: dhcpcd: with unicast to the server lost, its script saw REBIND after T2 and kept $DIP"
# ISC dhclient 4.4 broadcasts its REQUEST once T2 has passed but never leaves its RENEWING state
# (send_request in client/dhclient.c), so its script calls that ACK RENEW, not REBIND: the capture
# is what tells the rebinding apart.
bed_wait_for 8 new_lease_since "$A/events" "$a_before" || fail "dhclient: no new lease after the blackhole: $(events "$A")"
ip -n "$CLA" route del blackhole 10.77.1.1/32; ip -n "$CLB" route del blackhole 10.77.2.1/32
capture_stop "$P" "$CAP" >/dev/null 2>&1
capture_dhcp "$WORK/rebind.pcap" > "$WORK/a.rebind"
grep -q "^op=request type=REQUEST .* dst=255\.255\.255\.255\.67 .* ciaddr=$IP " "$WORK/a.rebind" \
  || fail "dhclient: no broadcast rebinding REQUEST in the capture: $(cat "$WORK/a.rebind")"
! grep -q "^op=request type=REQUEST .* dst=10\.77\.1\.1\.67 " "$WORK/a.rebind" || fail "a unicast REQUEST got through the blackhole"
grep -q "^op=reply type=ACK .* yiaddr=$IP " "$WORK/a.rebind" || fail "dhclient: no ACK for the rebinding: $(cat "$WORK/a.rebind")"
[ "$(_bed_kv "$(_bed_last_event "$A/events" 'RENEW|REBIND')" new_ip_address)" = "$IP" ] || fail "dhclient lost $IP"
echo "ok: dhclient: with unicast lost, after T2 it broadcast its REQUEST (ciaddr $IP) and joind acknowledged it"
bed_stop "$P" "$(bed_result "$D" pid)"

# --- a restart keeps every client's address -------------------------------------------------------
B=$WORK/b-dhcpcd2 U=$WORK/b-udhcpc O=$WORK/b-bootpc
# bootpc (a dynamic_bootp binding) in a namespace of its own on link B: it binds UDP port 68.
bed_add_ns "$P" bootp && ip -n "$CLB" link add bootp0 link b-cli type macvlan mode bridge \
  && ip -n "$CLB" link set bootp0 netns "$(bed_ns "$P" bootp)" && ip -n "$(bed_ns "$P" bootp)" link set bootp0 up \
  || fail "a namespace for bootpc"
run_bootpc "$(bed_ns "$P" bootp)" bootp0 "$O" || fail "bootpc on link B got nothing: $(tail -5 "$O/log")"
[ "$(store_state "$(bed_result "$O" ip)")" = bootp ] || fail "bootpc's $(bed_result "$O" ip) is not a BOOTP binding in the store"
export BED_DHCPCD_KEEP_DB=1
IFS=' ' read -r -a bifs <<< "$(bed_add_clients "$P" "$CLB" 2 | tr '\n' ' ')"
run_dhcpcd "$CLB" "${bifs[0]}" "$B" || fail "dhcpcd on link B got no lease: $(tail -5 "$B/log")"
run_udhcpc "$CLB" "${bifs[1]}" "$U" || fail "udhcpc on link B got no lease: $(tail -5 "$U/log")"
declare -A HAD=([a]=$(bed_result "$A" ip) [c]=$(bed_result "$C" ip) [b]=$(bed_result "$B" ip) [u]=$(bed_result "$U" ip) [o]=$(bed_result "$O" ip))
# dhclient stopped without a RELEASE (-x), as at a reboot; dhcpcd -1 has exited already.
dhclient_stop "$CLA" a-cli "$A"; dhclient_stop "$CLC" c-cli "$C"
bed_wait_for 5 eval '! bed_proc_alive "$(bed_result "$A" pid)" && ! bed_proc_alive "$(bed_result "$C" pid)"' \
  || fail "dhclient -x did not stop the dhclients"

bed_stop "$P" "$JOIND" || fail "joind did not stop"
mv "$WORK/joind.log" "$WORK/joind-before.log"
joind_start "$SRV" "$CONF" "$WORK/spool"

run_dhclient "$CLA" a-cli "$A" || fail "dhclient on link A after the restart: $(tail -5 "$A/log")"
run_dhclient "$CLC" c-cli "$C" || fail "dhclient behind the relay after the restart: $(tail -5 "$C/log")"
run_dhcpcd "$CLB" "${bifs[0]}" "$B" || fail "dhcpcd after the restart: $(tail -5 "$B/log")"
run_udhcpc "$CLB" "${bifs[1]}" "$U" -r "${HAD[u]}" || fail "udhcpc after the restart: $(tail -5 "$U/log")"
run_bootpc "$(bed_ns "$P" bootp)" bootp0 "$O" || fail "bootpc after the restart: $(tail -5 "$O/log")"
for k in a:"$A":dhclient c:"$C":"dhclient behind the relay" b:"$B":dhcpcd u:"$U":udhcpc o:"$O":bootpc; do
  IFS=: read -r key out who <<< "$k"
  now=$(bed_result "$out" ip)
  [ "$now" = "${HAD[$key]}" ] || fail "$who had ${HAD[$key]} before the restart, got $now after"
  if [ "$key" != u ] && [ "$key" != o ]; then
    [ "$(bed_result "$out" reason)" = REBOOT ] || fail "$who: '$(bed_result "$out" reason)' after the restart, expected REBOOT (INIT-REBOOT)"
  fi
  echo "ok: $who keeps ${HAD[$key]} after the restart ($(bed_result "$out" reason))"
done
# INIT-REBOOT means an ACK to a REQUEST and no OFFER: joind's log after the restart has none for them.
for mac in "$(bed_client_mac "$P" cla)" "$(bed_client_mac "$P" clc)" "$(bed_client_mac "$P" clb 1)"; do
  grep -q "\"DHCP_ACK\".*\"hwaddr\":\"$mac\"" "$WORK/joind.log" || fail "no DHCP_ACK for $mac after the restart"
  ! grep -q "\"DHCP_OFFER\".*\"hwaddr\":\"$mac\"" "$WORK/joind.log" || fail "$mac went through DISCOVER/OFFER after the restart"
done
echo "ok: the dhclients and dhcpcd were acknowledged without an OFFER (INIT-REBOOT)"
expect_all_sent
echo "PASS"
