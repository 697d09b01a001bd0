#!/usr/bin/env bash
# Addresses coming back, and addresses kept out (joind, raw transport, small ranges so that the reuse
# of an address can only come from its release):
#  - link B has two addresses: dhclient and udhcpc take both, a third client gets none
#    (POOL_EXHAUSTED); `dhclient -r` frees one (RELEASE: the store shows it released), and the third
#    client then gets exactly that one; udhcpc -R frees the other when stopped, and a fourth client
#    gets it.
#  - behind the relay: dhclient -r releases through dhcrelay (which, with forwarding on, hands joind
#    the unicast RELEASE twice: direct and relayed); the store shows it released.
#  - ping check, off at start (ping_timeout 0) and turned on by a SIGHUP: hosts in the client
#    namespaces answering ICMP on addresses of the ranges of link A and behind the relay are skipped:
#    the clients get other addresses, joind logs PING_CONFLICT for those addresses, and the store marks
#    them abandoned.
# Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need udhcpc dhclient dhcrelay ping
. "$(dirname "$0")/lib/joind.sh"
. "$ROOT/test/system/lib/expect.sh"

P=jf$$
joind_test_begin "$P"
joind_bed_up

conf_sample
cat > "$CONF/nets" <<'EOF'
10.77.1.0   10.77.1.1   10.77.1.100-10.77.1.103
10.77.2.0   10.77.1.1   10.77.2.100-10.77.2.101
10.77.3.0   10.77.1.1   10.77.3.100-10.77.3.109
EOF
printf '\nping_timeout 0\n' >> "$CONF/server.pcy"
conf_load "$CONF"
joind_start "$SRV" "$CONF" "$WORK/spool"
bed_start_relay "$P" || fail "relay did not start"
# The ping check is turned on by a reload, as an admin would: joind must open what it needs for it.
sed -i 's/^ping_timeout 0$/ping_timeout 300/' "$CONF/server.pcy"
kill -HUP "$(cat "$WORK/spool/joind.pid")"
bed_wait_for 5 grep -q '"CONFIG_RELOADED"' "$WORK/joind.log" || fail "SIGHUP: no CONFIG_RELOADED"

# --- ping check first, while link A's addresses are all free ---------------------------------------
# A host on link A (a macvlan in CLA) using the first three addresses of the range, and one behind the
# relay using the first of that range: each answers pings from the server.
ip -n "$CLA" link add squat0 link a-cli type macvlan mode bridge && ip -n "$CLA" link set squat0 up || fail "squatter A"
SQUAT_A="10.77.1.100 10.77.1.101 10.77.1.102"
for a in $SQUAT_A; do ip -n "$CLA" addr add "$a/24" dev squat0 || fail "address $a"; done
ip -n "$CLC" link add squat0 link c-cli type macvlan mode bridge && ip -n "$CLC" link set squat0 up || fail "squatter C"
ip -n "$CLC" addr add 10.77.3.100/24 dev squat0 && ip -n "$CLC" route add default via 10.77.3.1 || fail "address 10.77.3.100"
ip netns exec "$SRV" ping -c 1 -W 2 10.77.1.100 >/dev/null && ip netns exec "$SRV" ping -c 1 -W 2 10.77.3.100 >/dev/null \
  || fail "the squatters do not answer pings from the server"

mapfile -t aifs < <(bed_add_clients "$P" "$CLA" 2)
run_udhcpc "$CLA" "${aifs[0]}" "$WORK/pinged-a" || fail "udhcpc on link A got nothing: $(tail -3 "$WORK/pinged-a/log")"
run_dhclient "$CLC" c-cli "$WORK/pinged-c" || fail "dhclient behind the relay got nothing: $(tail -3 "$WORK/pinged-c/log")"
got_a=$(bed_result "$WORK/pinged-a" ip) got_c=$(bed_result "$WORK/pinged-c" ip)
case " $SQUAT_A " in *" $got_a "*) fail "udhcpc on link A got $got_a, which a host there uses" ;; esac
[ "$got_a" = 10.77.1.103 ] || fail "udhcpc on link A got $got_a; the only address nobody uses is 10.77.1.103"
[ "$got_c" != 10.77.3.100 ] && conf_in_ranges "$got_c" 10.77.3.0 || fail "dhclient behind the relay got $got_c"
for a in $SQUAT_A 10.77.3.100; do
  grep -q "\"PING_CONFLICT\".*\"$a\"" "$WORK/joind.log" || fail "no PING_CONFLICT for $a"
  [ "$(store_state "$a")" = abandoned ] || fail "$a is '$(store_state "$a")' in the store, expected abandoned"
done
n=$(grep -c '"PING_CONFLICT"' "$WORK/joind.log")
[ "$n" = 4 ] || fail "$n PING_CONFLICT lines, expected 4 (one per address in use): $(grep PING_CONFLICT "$WORK/joind.log")"
echo "ok: addresses in use ($SQUAT_A on link A, 10.77.3.100 behind the relay) were skipped: PING_CONFLICT, abandoned; clients got $got_a and $got_c"

# Behind the relay, a RELEASE (unicast from the client, also picked up and relayed by dhcrelay).
dhclient_release "$CLC" c-cli "$WORK/pinged-c" || fail "dhclient -r behind the relay failed"
bed_wait_for 5 eval '[ "$(store_state "$got_c")" = released ]' || fail "$got_c is '$(store_state "$got_c")' after dhclient -r behind the relay"
grep -q '"DHCP_RELEASE".*'"\"$got_c\"" "$WORK/joind.log" || fail "no DHCP_RELEASE for $got_c in the log"
echo "ok: dhclient -r behind the relay: $got_c released in the store"

# --- link B (two addresses): a RELEASE makes room, and only a RELEASE can ---------------------------
B=$WORK/b-dhclient
mapfile -t bifs < <(bed_add_clients "$P" "$CLB" 3)
run_dhclient "$CLB" b-cli "$B" || fail "dhclient on link B got nothing: $(tail -3 "$B/log")"
run_udhcpc "$CLB" "${bifs[0]}" "$WORK/b-u1" || fail "udhcpc 1 on link B got nothing: $(tail -3 "$WORK/b-u1/log")"
X=$(bed_result "$B" ip) Y=$(bed_result "$WORK/b-u1" ip)
[ "$X" != "$Y" ] && conf_in_ranges "$X" 10.77.2.0 && conf_in_ranges "$Y" 10.77.2.0 || fail "link B: dhclient $X, udhcpc $Y"
! run_udhcpc "$CLB" "${bifs[1]}" "$WORK/b-u2" -t 2 -T 1 || fail "a third client got $(bed_result "$WORK/b-u2" ip) from a full range"
grep -q '"POOL_EXHAUSTED"' "$WORK/joind.log" || fail "no POOL_EXHAUSTED logged for the full range"
echo "ok: link B full ($X, $Y): a third client gets nothing (POOL_EXHAUSTED)"

dhclient_release "$CLB" b-cli "$B" || fail "dhclient -r failed"
grep -q '^reason=RELEASE$' "$B/events" || fail "dhclient's script saw no RELEASE"
bed_wait_for 5 eval '[ "$(store_state "$X")" = released ]' || fail "$X is '$(store_state "$X")' after dhclient -r"
grep -q "\"DHCP_RELEASE\".*\"$X\"" "$WORK/joind.log" || fail "no DHCP_RELEASE for $X in the log"
run_udhcpc "$CLB" "${bifs[1]}" "$WORK/b-u2" || fail "after the RELEASE the third client still got nothing"
[ "$(bed_result "$WORK/b-u2" ip)" = "$X" ] || fail "after $X was released the third client got $(bed_result "$WORK/b-u2" ip)"
echo "ok: dhclient -r: $X released in the store, then offered to the third client"

# udhcpc -R releases the address when it is stopped.
start_udhcpc "$CLB" "${bifs[0]}" "$WORK/b-u1r" -R || fail "udhcpc 1 again (-R) got nothing"
[ "$(bed_result "$WORK/b-u1r" ip)" = "$Y" ] || fail "udhcpc 1 came back to $(bed_result "$WORK/b-u1r" ip), it had $Y"
[ "$(store_state "$Y")" = active ] || fail "$Y is '$(store_state "$Y")' while udhcpc holds it"
bed_stop "$P" "$(bed_result "$WORK/b-u1r" pid)"
grep -q "unicasting a release of $Y" "$WORK/b-u1r/log" || fail "udhcpc -R sent no RELEASE: $(tail -3 "$WORK/b-u1r/log")"
# The library's udhcpc hook leaves the address on the interface at deconfig (busybox's default script
# removes it); left there it would answer the next ping check, and joind would rightly skip it.
ip -n "$CLB" addr flush dev "${bifs[0]}"
bed_wait_for 5 eval '[ "$(store_state "$Y")" = released ]' || fail "$Y is '$(store_state "$Y")' after udhcpc -R"
run_udhcpc "$CLB" "${bifs[2]}" "$WORK/b-u3" || fail "after udhcpc -R a fourth client got nothing"
[ "$(bed_result "$WORK/b-u3" ip)" = "$Y" ] || fail "after $Y was released a fourth client got $(bed_result "$WORK/b-u3" ip)"
echo "ok: udhcpc -R: $Y released in the store when udhcpc stopped, then offered to a fourth client"
expect_all_sent
echo "PASS"
