#!/usr/bin/env bash
# Many clients at once: 20 busybox udhcpc on link A, 20 on link B and 10 behind the relay (macvlans,
# each with its own MAC) start together against joind (raw transport, the sample configuration with
# its ping check). Every
# one gets an address of its link's ranges, no two the same, and the store holds exactly those leases
# under those MACs. Then clients that ask for an address another client holds (udhcpc -r; dhclient in
# INIT-REBOOT with a lease file naming it, as an unknown and as a known client) never get it.
# Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need udhcpc dhclient dhcrelay
. "$(dirname "$0")/lib/joind.sh"
. "$ROOT/test/system/lib/expect.sh"

P=je$$
N=20 NC=10
joind_test_begin "$P"
joind_bed_up
mkdir -p "$WORK/spool"
conf_load "$ROOT/etc"
joind_start "$SRV" "$ROOT/etc" "$WORK/spool"
bed_start_relay "$P" || fail "relay did not start"

declare -A NET=([a]=10.77.1.0 [b]=10.77.2.0 [c]=10.77.3.0) NS=([a]=$CLA [b]=$CLB [c]=$CLC) COUNT=([a]=$N [b]=$N [c]=$NC)
TOTAL=$(( 2 * N + NC ))
IFACES_a=() IFACES_b=() IFACES_c=()
for link in a b c; do
  mapfile -t IFACES_"$link" < <(bed_add_clients "$P" "${NS[$link]}" "${COUNT[$link]}")
done
[ "${#IFACES_a[@]}" = "$N" ] && [ "${#IFACES_b[@]}" = "$N" ] && [ "${#IFACES_c[@]}" = "$NC" ] \
  || fail "macvlans: ${#IFACES_a[@]} on A, ${#IFACES_b[@]} on B, ${#IFACES_c[@]} on C"

# All of them at once, each in a background subshell (run_udhcpc is bounded by BED_CLIENT_WAIT).
started=$SECONDS
pids=()
for link in a b c; do
  declare -n ifs="IFACES_$link"
  for ifc in "${ifs[@]}"; do
    run_udhcpc "${NS[$link]}" "$ifc" "$WORK/$link/$ifc" & pids+=($!)
  done
done
wait "${pids[@]}"
echo "ok: $TOTAL udhcpc finished in $(( SECONDS - started )) s"

declare -A HOLDER=()
for link in a b c; do
  declare -n ifs="IFACES_$link"
  for ifc in "${ifs[@]}"; do
    out=$WORK/$link/$ifc
    [ "$(bed_result "$out" status)" = ok ] || fail "udhcpc on $ifc (link $link) got no address: $(tail -3 "$out/log")"
    addr=$(bed_result "$out" ip)
    conf_in_ranges "$addr" "${NET[$link]}" || fail "$ifc on link $link got $addr, outside ${NET[$link]}'s ranges"
    [ -z "${HOLDER[$addr]:-}" ] || fail "$addr was given to $ifc and to ${HOLDER[$addr]}"
    HOLDER[$addr]=$ifc
  done
done
echo "ok: $TOTAL clients, $(( ${#HOLDER[@]} )) distinct addresses, each in its link's range"

# The store: one active lease per client, under the client's MAC, at the address it got.
store_query "SELECT address, lower(hex(hwaddr)) FROM leases WHERE state = 1" > "$WORK/active"
[ "$(wc -l < "$WORK/active")" = "$TOTAL" ] || fail "$(wc -l < "$WORK/active") active leases in the store, expected $TOTAL"
for link in a b c; do
  for (( i = 1; i <= COUNT[$link]; i++ )); do
    mac=$(bed_client_mac "$P" "${NS[$link]}" "$i")
    addr=$(bed_result "$WORK/$link/$(bed_client_if "${NS[$link]}" "$i")" ip)
    grep -q "^$(_bed_ip2int "$addr")	${mac//:/}$" "$WORK/active" || fail "store has no active lease of $addr for $mac"
  done
done
echo "ok: the store holds exactly those $TOTAL leases, each under its client's MAC"

# A newcomer asking for an address someone holds (option 50 in its DISCOVER) gets another one.
taken=$(bed_result "$WORK/a/${IFACES_a[0]}" ip)
mapfile -t extra < <(bed_add_clients "$P" "$CLA" $(( N + 2 )) | tail -n 2)
run_udhcpc "$CLA" "${extra[0]}" "$WORK/newcomer" -r "$taken" || fail "the newcomer got nothing: $(tail -3 "$WORK/newcomer/log")"
got=$(bed_result "$WORK/newcomer" ip)
[ -z "${HOLDER[$got]:-}" ] || fail "a newcomer asking for $taken got $got, held by ${HOLDER[$got]}"
conf_in_ranges "$got" 10.77.1.0 || fail "the newcomer got $got, outside link A's ranges"
HOLDER[$got]=${extra[0]}
echo "ok: a newcomer asking for $taken (held by ${IFACES_a[0]}) got $got instead"

# dhclient that believes it holds that address (a lease file naming it) asks for it in INIT-REBOOT.
# forged_dhclient IFACE OUTDIR — run dhclient on IFACE with such a lease for $taken; then stop it
# (without RELEASE: two dhclients cannot share the namespace's port 68).
forged_dhclient() {
  mkdir -p "$2"
  cat > "$2/dhclient.leases" <<EOF
lease {
  interface "$1";
  fixed-address $taken;
  option subnet-mask 255.255.255.0;
  option dhcp-server-identifier 10.77.1.1;
  renew 4 2037/12/31 00:00:00;
  rebind 4 2037/12/31 00:00:00;
  expire 4 2037/12/31 00:00:00;
}
EOF
  # INIT-REBOOT that gets no answer lasts dhclient's reboot timeout (10 s) before DISCOVER: more time.
  BED_CLIENT_WAIT=60 run_dhclient "$CLA" "$1" "$2" || fail "dhclient on $1 with a lease for $taken got nothing: $(tail -5 "$2/log")"
  dhclient_stop "$CLA" "$1" "$2"
}
# A client joind has no record of: RFC 2131 4.3.2 says the server stays silent; dhclient then falls
# back to DISCOVER and must get a free address.
mac=$(bed_client_mac "$P" "$CLA" $(( N + 2 )))
forged_dhclient "${extra[1]}" "$WORK/stranger"
got=$(bed_result "$WORK/stranger" ip)
[ "$got" != "$taken" ] && [ -z "${HOLDER[$got]:-}" ] || fail "an unknown client asking for $taken got $got (held by ${HOLDER[$got]:-?})"
! grep "\"hwaddr\":\"$mac\"" "$WORK/joind.log" | grep -q "\"address\":\"$taken\"" || fail "joind answered $mac about $taken"
joind_expect_dropped "$WORK/spool" init-reboot-unknown-client
HOLDER[$got]=${extra[1]}
echo "ok: an unknown client asking for $taken in INIT-REBOOT got no answer about it, then $got through DISCOVER"
# Now joind knows that client (by its MAC: dhclient sends no client identifier; udhcpc's 01:MAC would
# be another client, RFC 2131 4.2). Asking again for $taken it gets a NAK, then its own address back.
own=$got
forged_dhclient "${extra[1]}" "$WORK/known"
grep -q "^DHCPNAK from" "$WORK/known/log" || fail "dhclient asking for $taken was not refused: $(grep DHCP "$WORK/known/log")"
grep -q "\"DHCP_NAK\".*\"hwaddr\":\"$mac\"" "$WORK/joind.log" || fail "no DHCP_NAK for $mac in joind's log"
[ "$(bed_result "$WORK/known" ip)" = "$own" ] || fail "after the NAK the client got $(bed_result "$WORK/known" ip), it holds $own"
echo "ok: a client holding $own that asks for $taken in INIT-REBOOT gets a NAK, then its own $own"
expect_all_sent
echo "PASS"
