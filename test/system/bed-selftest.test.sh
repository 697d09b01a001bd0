#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bed-selftest — proves the namespace test bed (test/system/lib) with dnsmasq standing in for joind:
# real dhclient, udhcpc, dhcpcd and bootpc get leases on link A, a client on link B, a client through
# ISC dhcrelay on link C; captures show how replies were addressed; then everything is torn down and
# the test checks that no namespace and no process of the bed is left.
# Exit 0 pass, 77 skip (not root, or a tool missing), 1 fail. BED_SELFTEST_PAUSE=N sleeps N s midway
# (to test the trap by hand: interrupt it there and check that nothing is left).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/need.sh
. "$here/lib/need.sh"
bed_need ip sysctl timeout dnsmasq dhcrelay dhclient udhcpc dhcpcd bootpc tcpdump ping
[ "$(id -u)" = 0 ] || { echo "# skip: bed-selftest needs root (network namespaces)"; exit 77; }
# shellcheck source=lib/bed.sh
. "$here/lib/bed.sh"

P=jbed         # this test's namespaces: jbed-srv, jbed-cla, …
P2=jbed2       # a second bed, to show that two beds coexist
DOMAIN=jbed.test
DNS=$BED_SRV_R
BOOTP_IP=10.77.1.50
BOOTP_NAME=bootme

pass=0 fail=0
check() {  # check DESCRIPTION COMMAND [ARGS...]
  local d=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok - $d"; else fail=$((fail + 1)); echo "not ok - $d"; fi
}
eq() { [ "$1" = "$2" ] && return 0; echo "#   got '$1', want '$2'" >&2; return 1; }
not_alive() { ! bed_proc_alive "$1" "${2:-}"; }
lacks() { ! grep -q -- "$1" "$2"; }
pings() { ip netns exec "$1" ping -c 1 -W 2 -q "$2" >/dev/null; }
# all_match TEXT REGEX — TEXT has at least one line, and every line matches REGEX.
all_match() {
  [ -n "$1" ] || { echo "#   no lines" >&2; return 1; }
  local bad line; bad=$(grep -v -e "$2" <<< "$1") || return 0
  while IFS= read -r line; do echo "#   not matching: $line"; done <<< "$bad" >&2
  return 1
}

work=$(mktemp -d /tmp/bed-selftest.XXXXXX)
bed_after_down() {  # keep the evidence when something failed (not when interrupted: RC ≥ 128)
  if [ "$fail" = 0 ] && { [ "$1" = 0 ] || [ "$1" -ge 128 ]; }; then rm -rf "$work"
  else echo "# logs, leases and captures kept in $work"; fi
}
bed_trap "$P"
bed_trap "$P2"

# --- the bed -------------------------------------------------------------------------------------
check "bed_up $P" bed_up "$P"
srv=$(bed_ns "$P" srv) cla=$(bed_ns "$P" cla) clb=$(bed_ns "$P" clb) rly=$(bed_ns "$P" rly) clc=$(bed_ns "$P" clc)
check "five namespaces" eq "$(bed_namespaces "$P" | sort | tr '\n' ' ')" "$cla $clb $clc $rly $srv "
check "server addresses" eq "$(ip -n "$srv" -o -4 addr show | awk '$2 != "lo" {print $2, $4}' | sort | tr '\n' ' ')" \
  "a-srv 10.77.1.1/24 b-srv 10.77.2.1/24 r-srv 10.77.9.1/24 "
check "relay addresses" eq "$(ip -n "$rly" -o -4 addr show | awk '$2 != "lo" {print $2, $4}' | sort | tr '\n' ' ')" \
  "c-rly 10.77.3.1/24 r-rly 10.77.9.2/24 "
check "client ends have no address" eq "$(for n in "$cla" "$clb" "$clc"; do ip -n "$n" -o -4 addr show | awk '$2 != "lo"'; done)" ""
check "route to link C via the relay" eq "$(ip -n "$srv" route show 10.77.3.0/24)" "10.77.3.0/24 via 10.77.9.2 dev r-srv "
check "lo up everywhere" eq "$(for n in $(bed_namespaces "$P"); do ip -n "$n" -br link show lo | awk '{print $2}'; done | sort -u)" UNKNOWN
check "client MAC derived from the prefix" eq "$(ip -n "$cla" -br link show a-cli | awk '{print $3}')" "$(bed_client_mac "$P" cla)"
pp=$(bed_mac "$P" a 1 | cut -d: -f1-3)
check "no bed interface in the root namespace" eq "$(ip -o link show | grep -c -i " $pp:")" 0
check "server reaches the relay's far side" pings "$srv" "$BED_RLY_C"
check "three macvlan clients on link A" eq "$(bed_add_clients "$P" cla 3 | tr '\n' ' ')" "a-cli1 a-cli2 a-cli3 "
check "macvlan MACs distinct" eq "$(ip -n "$cla" -br link | awk '$1 ~ /^a-cli/ {print $3}' | sort -u | wc -l)" 4

check "a second bed ($P2) beside the first" bed_up "$P2"
check "its namespaces are its own" eq "$(bed_namespaces "$P2" | wc -l) $(bed_namespaces "$P" | wc -l)" "5 5"
[ "$(bed_client_mac "$P" cla)" != "$(bed_client_mac "$P2" cla)" ]; check "its MACs differ" eq $? 0
check "bed_down $P2" bed_down "$P2"
check "$P untouched by it" eq "$(bed_namespaces "$P" | wc -l) $(bed_namespaces "$P2" | wc -l)" "5 0"

# --- stand-in server and relay -------------------------------------------------------------------
# --no-ping: dnsmasq would otherwise ping each new address and hold its OFFER ~3 s.
bed_spawn "$P" "$srv" dnsmasq "$work/dnsmasq.log" -- dnsmasq --keep-in-foreground --conf-file=/dev/null \
  --port=0 --no-resolv --no-hosts --no-ping --log-dhcp --log-facility=- \
  --pid-file="$work/dnsmasq.pid" --dhcp-leasefile="$work/dnsmasq.leases" \
  --interface=a-srv --interface=b-srv --interface=r-srv --bind-interfaces \
  --dhcp-range=set:la,10.77.1.100,10.77.1.199,255.255.255.0,10m \
  --dhcp-range=set:lb,10.77.2.100,10.77.2.199,255.255.255.0,10m \
  --dhcp-range=set:lc,10.77.3.100,10.77.3.199,255.255.255.0,10m \
  --dhcp-option=tag:la,option:router,10.77.1.1 --dhcp-option=tag:lb,option:router,10.77.2.1 \
  --dhcp-option=tag:lc,option:router,10.77.3.1 \
  --dhcp-option=option:dns-server,"$DNS" --dhcp-option=option:domain-name,"$DOMAIN" \
  --dhcp-host="$(bed_client_mac "$P" cla 3),$BOOTP_IP,$BOOTP_NAME"
dnsmasq_pid=$BED_CMD_PID
ranges_up() { [ "$(grep -c 'DHCP, IP range' "$work/dnsmasq.log" 2>/dev/null)" = 3 ]; }
check "dnsmasq serving three ranges" bed_wait_for 5 ranges_up
check "dhcrelay started in $rly" bed_start_relay "$P"

if [ -n "${BED_SELFTEST_PAUSE:-}" ]; then echo "# pausing ${BED_SELFTEST_PAUSE}s (interrupt me now)"; sleep "$BED_SELFTEST_PAUSE"; fi

# check_lease NAME OUTDIR NET ROUTER — what every DHCP client must have got.
check_lease() {
  local name=$1 out=$2 net=$3 router=$4
  if ! check "$name: got a lease" eq "$(bed_result "$out" status)" ok; then
    sed 's/^/#   /' "$out/log" "$out/result" 2>/dev/null | tail -25 >&2
    return
  fi
  check "$name: address $(bed_result "$out" ip) in $net" bed_ip_in_net "$(bed_result "$out" ip)" "$net"
  check "$name: mask" eq "$(bed_result "$out" mask)" 255.255.255.0
  check "$name: router" eq "$(bed_result "$out" router)" "$router"
  check "$name: dns" eq "$(bed_result "$out" dns)" "$DNS"
  check "$name: domain" eq "$(bed_result "$out" domain)" "$DOMAIN"
}

# --- link A: four clients on one link ---------------------------------------------------------------
capture_start "$P" "$srv" a-srv "$work/a.pcap"; capa=$CAPTURE_PID
# bootpc first: it cannot bind UDP 68 once dhclient runs in this namespace (dhclient keeps 0.0.0.0:68)
run_bootpc "$cla" a-cli3 "$work/bootpc-a"
check "bootpc on A: the address of its --dhcp-host" eq "$(bed_result "$work/bootpc-a" ip)" "$BOOTP_IP"
check "bootpc on A: host name" eq "$(bed_result "$work/bootpc-a" hostname)" "$BOOTP_NAME"
check "bootpc on A: router, dns, domain" eq "$(bed_result "$work/bootpc-a" router) $(bed_result "$work/bootpc-a" dns) $(bed_result "$work/bootpc-a" domain)" "10.77.1.1 $DNS $DOMAIN"
run_dhclient "$cla" a-cli "$work/dhclient-a"
check_lease "dhclient on A" "$work/dhclient-a" 10.77.1.0/24 10.77.1.1
check "dhclient on A: lease time" eq "$(bed_result "$work/dhclient-a" lease)" 600
check "dhclient on A: server id" eq "$(bed_result "$work/dhclient-a" serverid)" 10.77.1.1
run_udhcpc "$cla" a-cli1 "$work/udhcpc-a"
check_lease "udhcpc on A" "$work/udhcpc-a" 10.77.1.0/24 10.77.1.1
run_dhcpcd "$cla" a-cli2 "$work/dhcpcd-a"
check_lease "dhcpcd on A" "$work/dhcpcd-a" 10.77.1.0/24 10.77.1.1
check "four distinct addresses on A" eq "$(for c in dhclient udhcpc dhcpcd bootpc; do bed_result "$work/$c-a" ip; done | sort -u | grep -c .)" 4

dA=$(bed_result "$work/dhclient-a" ip)
check "dhclient stays running after BOUND" bed_proc_alive "$(bed_result "$work/dhclient-a" cmd_pid)"
check "its hook applied $dA to a-cli" eq "$(ip -n "$cla" -o -4 addr show a-cli | awk '{print $4}')" "$dA/24"
check "the server reaches it there" pings "$srv" "$dA"
check "dhcpcd applied its address" eq "$(ip -n "$cla" -o -4 addr show a-cli2 | awk '{print $4}')" "$(bed_result "$work/dhcpcd-a" ip)/24"

capture_stop "$P" "$capa"
udmac=$(bed_client_mac "$P" cla 1)
ud_replies=$(capture_replies "$work/a.pcap" | grep "chaddr=$udmac\$")
check "capture on A holds udhcpc's OFFER and ACK" eq "$(grep -o 'type=[A-Z]*' <<< "$ud_replies" | sort -u | tr '\n' ' ')" "type=ACK type=OFFER "
check "…each unicast to its MAC, broadcast flag clear" all_match "$ud_replies" "dst_mac=$udmac .* bcast=0 "
check "bootpc's request carried no option 53" \
  eq "$(capture_dhcp "$work/a.pcap" | grep "^op=request .*chaddr=$(bed_client_mac "$P" cla 3)\$" | grep -o 'type=[A-Z]*' | sort -u)" "type=BOOTP"

# --- link B: the broadcast flag --------------------------------------------------------------------
capture_start "$P" "$clb" b-cli "$work/b.pcap"; capb=$CAPTURE_PID
run_udhcpc "$clb" b-cli "$work/udhcpc-b" -B
check_lease "udhcpc -B on B" "$work/udhcpc-b" 10.77.2.0/24 10.77.2.1
capture_stop "$P" "$capb"
b_replies=$(capture_replies "$work/b.pcap")
check "capture on B: replies all broadcast (flag set, ff:ff:ff:ff:ff:ff, 255.255.255.255)" \
  all_match "$b_replies" 'dst_mac=ff:ff:ff:ff:ff:ff .*dst=255.255.255.255.68 bcast=1 '

# --- link C: through the relay ---------------------------------------------------------------------
capture_start "$P" "$srv" r-srv "$work/r.pcap"; capr=$CAPTURE_PID
run_dhclient "$clc" c-cli "$work/dhclient-c"
check_lease "dhclient through the relay on C" "$work/dhclient-c" 10.77.3.0/24 10.77.3.1
check "…server id is the server's address on link R" eq "$(bed_result "$work/dhclient-c" serverid)" "$BED_SRV_R"
dC=$(bed_result "$work/dhclient-c" ip)
check "dhclient_release" dhclient_release "$clc" c-cli "$work/dhclient-c"
check "…hook saw RELEASE" grep -qx 'reason=RELEASE' "$work/dhclient-c/events"
check "…the address left c-cli" eq "$(ip -n "$clc" -o -4 addr show c-cli)" ""
check "…the running dhclient stopped" not_alive "$(bed_result "$work/dhclient-c" cmd_pid)"
check "…the server dropped the lease" bed_wait_for 3 lacks " $dC " "$work/dnsmasq.leases"
capture_stop "$P" "$capr"
r_req=$(capture_dhcp "$work/r.pcap" | grep '^op=request type=\(DISCOVER\|REQUEST\)')
check "relayed requests come from the relay with giaddr 10.77.3.1" all_match "$r_req" 'src=10.77.9.2.67 .*giaddr=10.77.3.1 '
check "replies go to the relay (10.77.3.1.67)" all_match "$(capture_replies "$work/r.pcap")" 'dst=10.77.3.1.67 '

# --- tear-down -----------------------------------------------------------------------------------
cp "$(bed_dir "$P")/procs" "$work/procs.snapshot"
check "processes recorded (dnsmasq, relay, clients, captures)" test "$(cut -d' ' -f1 "$work/procs.snapshot" | sort -u | wc -l)" -ge 10
bed_down "$P" 2> "$work/down.err"; rc=$?
sed 's/^/# /' "$work/down.err"
check "bed_down $P" eq "$rc" 0
check "no namespace with prefix $P left" eq "$(ip netns list | awk -v p="$P" 'index($1, p "-") == 1' | wc -l)" 0
check "dnsmasq stopped" not_alive "$dnsmasq_pid"
left=0
while read -r wpid wstart cpid cstart name _; do
  bed_proc_alive "$wpid" "$wstart" && { echo "#   left running: $wpid ($name)"; left=$((left + 1)); }
  bed_proc_alive "$cpid" "$cstart" && { echo "#   left running: $cpid ($name)"; left=$((left + 1)); }
done < "$work/procs.snapshot"
while read -r pid; do
  bed_proc_alive "$pid" && { echo "#   stray left running: $pid"; left=$((left + 1)); }
done < <(sed -n 's/^bed_down: stray process \([0-9]*\) .*/\1/p' "$work/down.err")
check "no process the bed started is left" eq "$left" 0
check "state folder removed" test ! -e "$(bed_dir "$P")"
check "bed_down again is a no-op" bed_down "$P"
# After thousands of spawns a dead record's PID can belong to a newer child: reaping it must not wait.
sleep 30 & reused=$!
reap_start=$SECONDS
_bed_reap "$reused"
check "reaping a PID now held by a live child does not block" eq "$(( SECONDS - reap_start < 2 ))" 1
kill "$reused" 2>/dev/null; wait "$reused" 2>/dev/null

echo "bed-selftest: $pass passed, $fail failed"
[ "$fail" = 0 ]
