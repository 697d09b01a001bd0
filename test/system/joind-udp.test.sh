#!/usr/bin/env bash
# ISC dhclient and busybox udhcpc get leases from `joind -f` (UDP transport) on one link of the bed,
# with the subnet mask, router, DNS servers, domain name and lease time of the dhcpcap entry; the lease
# is in the SQLite store; a restart keeps it. Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need dhclient udhcpc
. "$(dirname "$0")/lib/joind.sh"
. "$ROOT/test/system/lib/expect.sh"

P=ju$$
joind_test_begin "$P"
joind_bed_up

# The sample configuration, serving only link A, with the UDP transport (it cannot tell interfaces
# apart, so one attached network only).
conf_sample
grep -v '^10\.77\.[23]\.0' etc/nets > "$WORK/conf/nets"
printf '\ntransport udp\nping_timeout 200\n' >> "$WORK/conf/server.pcy"

start_joind() { joind_start "$SRV" "$WORK/conf" "$WORK/spool"; }
start_joind

check_client() { # OUTDIR NAME
  local out=$1 name=$2 addr
  [ "$(bed_result "$out" status)" = ok ] || fail "$name got no lease: $(cat "$out/log" | tail -5)"
  addr=$(bed_result "$out" ip)
  case $addr in 10.77.1.1[0-9][0-9]) ;; *) fail "$name got $addr, outside 10.77.1.100-199" ;; esac
  [ "$(bed_result "$out" mask)" = 255.255.255.0 ] || fail "$name mask $(bed_result "$out" mask)"
  [ "$(bed_result "$out" router)" = 10.77.1.1 ] || fail "$name router $(bed_result "$out" router)"
  [ "$(bed_result "$out" dns)" = 10.77.1.1 ] || fail "$name dns $(bed_result "$out" dns)"
  [ "$(bed_result "$out" domain)" = lab.example ] || fail "$name domain $(bed_result "$out" domain)"
  [ "$(bed_result "$out" lease)" = 600 ] || fail "$name lease $(bed_result "$out" lease)"
  echo "ok: $name got $addr with mask, router, dns, domain and lease time as configured"
}

run_dhclient "$CLA" a-cli "$WORK/dhclient"
check_client "$WORK/dhclient" dhclient
IFS=' ' read -r UD < <(bed_add_clients "$P" cla 1)
run_udhcpc "$CLA" "$UD" "$WORK/udhcpc"
check_client "$WORK/udhcpc" udhcpc
[ "$(bed_result "$WORK/udhcpc" ip)" != "$(bed_result "$WORK/dhclient" ip)" ] || fail "two clients got the same address"

# The leases are in the store, active.
n=$(store_query 'SELECT count(*) FROM leases WHERE state = 1')
[ "$n" = 2 ] || fail "expected 2 active leases in the store, found $n"
echo "ok: 2 active leases on disk"

# SIGTERM stops it cleanly, and after a restart a rebooting client keeps its address.
bed_stop "$P" "$JOIND" || fail "joind did not stop"
grep -q '"JOIND_STOPPED"' "$WORK/joind.log" || fail "no orderly stop"
[ ! -e "$WORK/spool/joind.pid" ] || fail "pid file left behind"
start_joind
before=$(bed_result "$WORK/udhcpc" ip)
run_udhcpc "$CLA" "$UD" "$WORK/udhcpc2" -r "$before"
[ "$(bed_result "$WORK/udhcpc2" ip)" = "$before" ] || fail "after restart udhcpc got $(bed_result "$WORK/udhcpc2" ip), had $before"
echo "ok: after a restart the client keeps $before"
echo "PASS"
