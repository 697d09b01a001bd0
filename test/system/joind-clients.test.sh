#!/usr/bin/env bash
# Every real client against joind (raw transport) on the two links and through ISC dhcrelay: ISC
# dhclient, busybox udhcpc, dhcpcd and bootpc (BOOTP: the static dhcpcap host demo-bootp, and
# dynamic_bootp from the pool). Each must get an address of the right network's range, and the subnet
# mask, routers, DNS servers, domain name, lease time and host name the configuration gives; the
# expected values are read from the configuration itself (joind --check), not written here.
# Host names: links A and B are named by address through the server's /etc/hosts (assign_name_by_ipaddr),
# link C has no such names, so its clients are named from the namepool. Also: a client of dhcpcap's
# vendor class gets that class's lease time and NTP server; udhcpc -B gets broadcast replies.
# Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need dhclient udhcpc dhcpcd bootpc dhcrelay tcpdump
. "$(dirname "$0")/lib/joind.sh"
. "$ROOT/test/system/lib/expect.sh"

P=jc$$
joind_test_begin "$P"
joind_bed_up

# The sample configuration, with BOOTP clients served from the pool too.
conf_sample
printf '\ndynamic_bootp on\n' >> "$CONF/server.pcy"
conf_load "$CONF"

# The server's name service: a name for every address of the ranges of links A and B; no DNS (a
# resolver on its own loopback that nobody answers), so link C's addresses have no name.
mkdir -p "/etc/netns/$SRV"
{
  echo "127.0.0.1 localhost"
  for net in 10.77.1.0 10.77.2.0; do
    for r in $(conf_ranges $net); do
      first=$(_bed_ip2int "${r%-*}") last=$(_bed_ip2int "${r#*-}")
      for (( n = first; n <= last; n++ )); do
        ip=$(( n >> 24 )).$(( (n >> 16) & 255 )).$(( (n >> 8) & 255 )).$(( n & 255 ))
        echo "$ip host-${ip//./-}"
      done
    done
  done
} > "/etc/netns/$SRV/hosts"
echo "nameserver 127.0.0.1" > "/etc/netns/$SRV/resolv.conf"
name_by_address() { awk -v ip="$1" '$1 == ip { print $2; exit }' "/etc/netns/$SRV/hosts"; }

joind_start "$SRV" "$CONF" "$WORK/spool"
grep -q '"TRANSPORT_READY".*"raw"' "$WORK/joind.log" || fail "joind is not on the raw transport"
bed_start_relay "$P" || fail "relay did not start"

# check_lease OUTDIR WHO NETWORK LABEL LEASE — address from NETWORK's ranges and the options of LABEL.
ALL_ADDRESSES=""
check_lease() {
  local out=$1 who=$2 net=$3 label=$4 lease=${5:-} addr
  [ "$(bed_result "$out" status)" = ok ] || fail "$who got no address: $(tail -5 "$out/log")"
  addr=$(bed_result "$out" ip)
  conf_in_ranges "$addr" "$net" || fail "$who got $addr, outside the ranges of $net ($(conf_ranges "$net"))"
  expect_options "$out" "$who" "$label" "$lease"
  case " $ALL_ADDRESSES " in *" $addr "*) fail "$who got $addr, which another client already has" ;; esac
  ALL_ADDRESSES+=" $addr"
}

# check_name OUTDIR WHO LINK — the host name: by address on links A and B, from the namepool on C.
POOL_NAMES=$(_conf_js 'c.namepools.flatMap((p) => p.names)')
POOL_PREFIX=$(_conf_js 'c.namepools[0].prefix')
C_NAMES=""
check_name() {
  local out=$1 who=$2 link=$3 got want
  got=$(bed_result "$out" hostname)
  if [ "$link" = c ]; then
    case " $POOL_NAMES " in *" $got "*) ;; *)
      [[ "$got" =~ ^${POOL_PREFIX}[0-9]+d$ ]] || fail "$who: host name '$got' is not from the namepool ($POOL_NAMES, $POOL_PREFIX<n>d)" ;;
    esac
    case " $C_NAMES " in *" $got "*) fail "$who: host name $got was given to another client too" ;; esac
    C_NAMES+=" $got"
  else
    want=$(name_by_address "$(bed_result "$out" ip)")
    [ "$got" = "$want" ] || fail "$who: host name '$got', the name service says '$want' for $(bed_result "$out" ip)"
  fi
}

# The BOOTP host of dhcpcap: its static address, boot file and name, on link A (its MAC on a macvlan).
ip -n "$CLA" link add bootp0 link a-cli address "$(conf_tag demo-bootp ha)" type macvlan mode bridge \
  && ip -n "$CLA" link set bootp0 up || fail "macvlan for demo-bootp"
run_bootpc "$CLA" bootp0 "$WORK/static" || fail "bootpc (demo-bootp) got nothing: $(tail -3 "$WORK/static/log")"
[ "$(bed_result "$WORK/static" ip)" = "$(conf_tag demo-bootp ip)" ] \
  || fail "demo-bootp got $(bed_result "$WORK/static" ip), dhcpcap says $(conf_tag demo-bootp ip)"
expect_options "$WORK/static" "bootpc demo-bootp" "demo-bootp link-a" -
grep -q "^BOOTFILE='$(conf_tag demo-bootp bf)'" "$WORK/static/output" \
  || fail "demo-bootp boot file: $(grep BOOTFILE "$WORK/static/output")"
[ "$(bed_result "$WORK/static" hostname)" = "$(conf_tag demo-bootp ho)" ] \
  || fail "demo-bootp host name '$(bed_result "$WORK/static" hostname)'"
echo "ok: bootpc as demo-bootp got $(bed_result "$WORK/static" ip), its boot file, name and options"

for spec in "a 10.77.1.0 link-a" "b 10.77.2.0 link-b" "c 10.77.3.0 relayed"; do
  set -- $spec
  link=$1 net=$2 label=$3
  ns=$(bed_ns "$P" "cl$link")
  mapfile -t ifs < <(bed_add_clients "$P" "$ns" 3)
  [ "${#ifs[@]}" = 3 ] || fail "macvlans on link $link"
  where="link $link"; [ "$link" = c ] && where="behind the relay"
  # bootpc binds UDP 68: it runs before dhclient (which keeps that port) in this namespace.
  run_bootpc "$ns" "${ifs[0]}" "$WORK/$link-bootpc"
  check_lease "$WORK/$link-bootpc" "bootpc $where" "$net" "$label" -
  check_name "$WORK/$link-bootpc" "bootpc $where" "$link"
  [ "$(store_state "$(bed_result "$WORK/$link-bootpc" ip)")" = bootp ] || fail "bootpc $where: not a BOOTP binding in the store"
  run_udhcpc "$ns" "${ifs[1]}" "$WORK/$link-udhcpc"
  check_lease "$WORK/$link-udhcpc" "udhcpc $where" "$net" "$label"
  check_name "$WORK/$link-udhcpc" "udhcpc $where" "$link"
  run_dhcpcd "$ns" "${ifs[2]}" "$WORK/$link-dhcpcd"
  check_lease "$WORK/$link-dhcpcd" "dhcpcd $where" "$net" "$label"
  check_name "$WORK/$link-dhcpcd" "dhcpcd $where" "$link"
  run_dhclient "$ns" "$(bed_client_if "$ns")" "$WORK/$link-dhclient"
  check_lease "$WORK/$link-dhclient" "dhclient $where" "$net" "$label"
  check_name "$WORK/$link-dhclient" "dhclient $where" "$link"
  for c in bootpc udhcpc dhcpcd dhclient; do
    echo "ok: $c $where got $(bed_result "$WORK/$link-$c" ip) ($(bed_result "$WORK/$link-$c" hostname)) with the options of $label"
  done
done

# A client of the vendor class of dhcpcap's demo-class (option 60) gets that entry's lease time and
# NTP server on top of its network's options (a class entry is more specific than a network entry).
mapfile -t vifs < <(bed_add_clients "$P" "$CLB" 4 | tail -n 1)
class=$(conf_tag demo-class ct)
run_udhcpc "$CLB" "${vifs[0]}" "$WORK/b-class" -V "$class" -O ntpsrv || fail "udhcpc -V $class got nothing"
check_lease "$WORK/b-class" "udhcpc of class $class" 10.77.2.0 "demo-class link-b"
ntp=$(_bed_kv "$(_bed_last_event "$WORK/b-class/events" bound)" ntpsrv)
[ "$ntp" = "$(conf_tag demo-class nt)" ] || fail "udhcpc of class $class: NTP server '$ntp', demo-class says $(conf_tag demo-class nt)"
[ "$(bed_result "$WORK/b-class" lease)" != "$(conf_tag link-b lt)" ] || fail "the class's lease time is the network's: the test proves nothing"
echo "ok: udhcpc of vendor class $class got lease time $(bed_result "$WORK/b-class" lease) and NTP server $ntp of demo-class"

# A client that sets the broadcast flag (udhcpc -B) gets its OFFER and ACK broadcast: to
# ff:ff:ff:ff:ff:ff and 255.255.255.255 (RFC 2131 4.1). (joind-raw.test.sh checks the unicast to the
# client's MAC when the flag is clear.)
mapfile -t bifs < <(bed_add_clients "$P" "$CLA" 4 | tail -n 1)
capture_start "$P" "$CLA" "${bifs[0]}" "$WORK/bcast.pcap" || fail "capture"
CAP=$CAPTURE_PID
run_udhcpc "$CLA" "${bifs[0]}" "$WORK/a-bcast" -B || fail "udhcpc -B got nothing: $(tail -3 "$WORK/a-bcast/log")"
capture_stop "$P" "$CAP" >/dev/null 2>&1
mac=$(bed_client_mac "$P" "$CLA" 4) addr=$(bed_result "$WORK/a-bcast" ip)
capture_dhcp "$WORK/bcast.pcap" | grep "chaddr=$mac" > "$WORK/bcast.txt"
for type in OFFER ACK; do
  grep -q "^op=reply type=$type .*dst_mac=ff:ff:ff:ff:ff:ff src=10\.77\.1\.1\.67 dst=255\.255\.255\.255\.68 bcast=1 .*yiaddr=$addr " "$WORK/bcast.txt" \
    || fail "no broadcast $type for udhcpc -B: $(cat "$WORK/bcast.txt")"
done
grep -q "^op=request type=DISCOVER .* bcast=1 " "$WORK/bcast.txt" || fail "udhcpc -B did not set the broadcast flag"
! grep "^op=reply " "$WORK/bcast.txt" | grep -v -q "dst_mac=ff:ff:ff:ff:ff:ff" || fail "a reply to udhcpc -B was not broadcast"
echo "ok: udhcpc -B (broadcast flag set) got its OFFER and ACK broadcast ($addr)"

# Every DHCP lease is on disk, active, under the address the client got.
for f in "$WORK"/[abc]-{udhcpc,dhcpcd,dhclient}; do
  [ "$(store_state "$(bed_result "$f" ip)")" = active ] || fail "$(bed_result "$f" client) $(bed_result "$f" ip) is not active in the store"
done
echo "ok: every lease is active in the store"
expect_all_sent
echo "PASS"
