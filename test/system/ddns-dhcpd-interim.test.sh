#!/usr/bin/env bash
# ddns-dhcpd-interim — moving from a dhcpd that updates DNS in the interim style (the seed's
# `ddns-update-style interim`) to joind, against the same BIND 9 (issue 15). named in the bed's server
# namespace takes updates signed with ddns-key; first ISC dhcpd 4.4 serves links A and B with
# ddns-updates on, then joind with ddns_style interim on what `joind import` read from dhcpd's lease file.
#  1. dhcpd names two clients (dclient on link A, bclient on link B with a 20 s lease): A, TXT and PTR in
#     DNS; the TXT is the one joind's interim style computes for the client (checked here with python's
#     hashlib: "00" and the MD5 of htype and chaddr).
#  2. dhcpd stopped, its lease file imported: joind keeps both leases and what dhcpd wrote to DNS.
#  3. bclient's lease runs out while nobody serves it: joind, started, finds it expired and removes
#     dhcpd's A, TXT and PTR (with dhcpd's guard: the records are dhcpd's, not joind's). joind has no
#     ddns_server: it sends the updates to each zone's primary master, found from the zone's SOA.
#  4. dclient comes back to joind (INIT-REBOOT): joind ACKs its address and name, and finds in DNS what
#     it would write itself (its TXT is byte for byte dhcpd's): nothing queued, nothing rewritten.
#  5. dclient releases: joind removes A, TXT and PTR (the RFC 4703 removal, its TXT as prerequisite).
# Needs root (namespaces); exits 77 (skip) without. KEEP_WORK=1 keeps the work folder.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need dhcpd dhclient named named-checkconf dig tsig-keygen /usr/bin/python3
. "$(dirname "$0")/lib/joind.sh"
. "$(dirname "$0")/lib/named.sh"

P=di$$
joind_test_begin "$P"
joind_bed_up
conf_sample
chmod a+x "$WORK"
tsig-keygen -a hmac-sha256 ddns-key > "$CONF/ddns.key" && chmod 640 "$CONF/ddns.key" || fail "tsig-keygen"
named_setup "$WORK/named" "$CONF/ddns.key" lab.example 1.77.10.in-addr.arpa 2.77.10.in-addr.arpa || fail "named-checkconf"
named_start "$WORK/named"

# --- 1. dhcpd names two clients -----------------------------------------------------------------------
D=$WORK/dhcpd
mkdir -p "$D"
# dhcpd reads a quoted secret as text, not base64: the same key without the quotes.
sed 's/secret "\(.*\)";/secret \1;/' "$CONF/ddns.key" > "$D/ddns.key"
cat > "$D/dhcpd.conf" <<EOF
authoritative;
min-lease-time 10;
ddns-updates on;
ddns-update-style interim;
ddns-domainname "lab.example";
ddns-rev-domainname "in-addr.arpa.";
include "$D/ddns.key";
zone lab.example. { primary 127.0.0.1; key ddns-key; }
zone 1.77.10.in-addr.arpa. { primary 127.0.0.1; key ddns-key; }
zone 2.77.10.in-addr.arpa. { primary 127.0.0.1; key ddns-key; }
subnet 10.77.1.0 netmask 255.255.255.0 { range 10.77.1.150 10.77.1.159; option routers 10.77.1.1; default-lease-time 600; max-lease-time 600; }
subnet 10.77.2.0 netmask 255.255.255.0 { range 10.77.2.150 10.77.2.159; option routers 10.77.2.1; default-lease-time 600; max-lease-time 600; }
EOF
: > "$D/dhcpd.leases"
dhcpd -4 -t -q -cf "$D/dhcpd.conf" > "$D/check.log" 2>&1 || fail "dhcpd -t: $(cat "$D/check.log")"
bed_spawn "$P" "$SRV" dhcpd "$D/dhcpd.log" -- dhcpd -4 -f -d -cf "$D/dhcpd.conf" -lf "$D/dhcpd.leases" -pf "$D/dhcpd.pid" a-srv b-srv \
  || fail "dhcpd"
DHCPD=$BED_PID
bed_wait_for 10 grep -q '^Server starting service' "$D/dhcpd.log" || fail "dhcpd did not start: $(tail -n 5 "$D/dhcpd.log")"

# client_conf DIR NAME [EXTRA] — a dhclient.conf that sends host-name NAME.
client_conf() {
  mkdir -p "$1"
  printf 'timeout 20;\nretry 5;\ninitial-interval 1;\nbackoff-cutoff 2;\nrequest subnet-mask, routers, domain-name, host-name;\nsend host-name "%s";\n%s\n' \
    "$2" "${3:-}" > "$1/dhclient.conf"
}
client_conf "$WORK/a" dclient
client_conf "$WORK/b" bclient 'send dhcp-lease-time 20;'
run_dhclient "$CLA" a-cli "$WORK/a" || fail "dhclient on link A from dhcpd: $(tail -n 3 "$WORK/a/log")"
run_dhclient "$CLB" b-cli "$WORK/b" || fail "dhclient on link B from dhcpd: $(tail -n 3 "$WORK/b/log")"
ip_a=$(bed_result "$WORK/a" ip) ip_b=$(bed_result "$WORK/b" ip)
for c in "dclient $ip_a" "bclient $ip_b"; do
  read -r name addr <<< "$c"
  bed_wait_for 10 sh -c "[ \"\$(ip netns exec $SRV dig +short @127.0.0.1 $name.lab.example A)\" = $addr ]" \
    || fail "dhcpd did not put $name.lab.example A $addr in DNS: $(tail -n 5 "$D/dhcpd.log")"
done
# interim_txt MAC — the TXT joind's interim style writes for a client without option 61.
interim_txt() {
  /usr/bin/python3 -c 'import hashlib, sys; print("\"00" + hashlib.md5(b"\1" + bytes.fromhex(sys.argv[1].replace(":", ""))).hexdigest() + "\"")' "$1"
}
txt_a=$(dig_short dclient.lab.example TXT)
want=$(interim_txt "$(bed_client_mac "$P" cla)")
[ "$txt_a" = "$want" ] || fail "dhcpd's TXT for dclient is $txt_a, joind's interim style computes $want"
[ "$(dig_ptr "$ip_a")" = dclient.lab.example. ] || fail "no PTR of $ip_a from dhcpd: $(dig_ptr "$ip_a")"
bed_stop "$P" "$(bed_result "$WORK/b" pid)" >/dev/null 2>&1 # bclient leaves without a RELEASE
dhclient_stop "$CLA" a-cli "$WORK/a"                         # dclient keeps its lease file for later
echo "ok: 1: dhcpd wrote dclient.lab.example A $ip_a TXT $txt_a (joind's interim TXT for that client) and PTR; bclient A $ip_b (a 20 s lease)"

# --- 2. dhcpd stopped, its lease file imported -----------------------------------------------------------
bed_stop "$P" "$DHCPD" || fail "stopping dhcpd"
grep -q 'set ddns-txt' "$D/dhcpd.leases" || fail "dhcpd.leases has no ddns-txt: $(cat "$D/dhcpd.leases")"
cat >> "$CONF/server.pcy" <<EOF
name_service_updateable on
ddns_key_file ddns.key
ddns_style interim
dns_tracks_dhcp_lease on
ping_timeout 0
assign_name_by_hwaddr on
accept_client_name on
EOF
node "$DIST/src/cli/main.js" import --config-dir "$CONF" --spool-dir "$WORK/spool" "$D/dhcpd.leases" > "$WORK/import.out" 2>&1 \
  || fail "joind import: $(cat "$WORK/import.out")"
grep -q "kept what dhcpd wrote to DNS for 2 lease(s)" "$WORK/import.out" || fail "import should keep dhcpd's DNS state of 2 leases: $(cat "$WORK/import.out")"
echo "ok: 2: joind import took both leases and what dhcpd wrote to DNS for them"

# --- 3. bclient's lease expires while nobody serves it: joind removes dhcpd's records --------------------
ends_b=$(awk -v ip="$ip_b" '$1 == "lease" && $2 == ip { on = 1 } on && $1 == "ends" { e = $3 " " $4 } on && $1 == "}" { on = 0 } END { print e }' "$D/dhcpd.leases" | tr -d ';')
left=$(( $(date -u -d "$ends_b" +%s) - $(date +%s) + 1 ))
[ "$left" -le 25 ] || fail "bclient's lease ends in $left s, not within its 20 s ($ends_b)"
[ "$left" -gt 0 ] && sleep "$left"
# No ddns_server: joind asks the system's resolver (named, in this namespace's resolv.conf) for each
# zone's SOA and sends the updates to its primary master (ns.lab.example, 127.0.0.1).
mkdir -p "/etc/netns/$SRV" && echo 'nameserver 127.0.0.1' > "/etc/netns/$SRV/resolv.conf" # bed_down removes it
joind_start "$SRV" "$CONF" "$WORK/spool"
bed_wait_for 10 sh -c "[ -z \"\$(ip netns exec $SRV dig +short @127.0.0.1 bclient.lab.example A)\" ]" \
  || fail "bclient.lab.example still in DNS after its lease expired: $(dig_short bclient.lab.example A)"
[ -z "$(dig_short bclient.lab.example TXT)" ] && [ -z "$(dig_ptr "$ip_b")" ] || fail "bclient's TXT or PTR left behind"
grep '"DDNS_REMOVED"' "$WORK/joind.log" | grep -q '"bclient.lab.example"' || fail "no DDNS_REMOVED for bclient.lab.example"
ctl=$(node "$DIST/src/cli/main.js" ctl ddns --spool-dir "$WORK/spool") || fail "joind ctl ddns"
grep -q "primary master" <<< "$ctl" || fail "joind ctl ddns should say where the updates go: $ctl"
echo "ok: 3: bclient's lease expired; joind removed the A, TXT and PTR dhcpd wrote (to the zones' primary master, found from their SOA)"

# --- 4. dclient comes back to joind and keeps its name ------------------------------------------------------
run_dhclient "$CLA" a-cli "$WORK/a" || fail "dhclient on link A from joind: $(tail -n 3 "$WORK/a/log")"
[ "$(bed_result "$WORK/a" ip)" = "$ip_a" ] || fail "dclient got $(bed_result "$WORK/a" ip) from joind, had $ip_a"
grep '"DHCP_ACK"' "$WORK/joind.log" | grep "\"$ip_a\"" | grep -q '"name":"dclient"' || fail "joind's ACK did not name dclient"
# The TXT joind computes for dclient is the one dhcpd wrote (imported as joind's record): DNS already
# holds what joind would write, so no job is queued. A different TXT would have queued one, removing
# dhcpd's records and writing joind's.
sleep 1
ctl=$(node "$DIST/src/cli/main.js" ctl ddns --spool-dir "$WORK/spool") || fail "joind ctl ddns"
grep -q "^  queued 0 " <<< "$ctl" || fail "joind queued an update of a name dhcpd's TXT already guards as joind's: $ctl"
grep -E '"DDNS_(UPDATED|REMOVED|CONFLICT)"' "$WORK/joind.log" | grep -q '"dclient.lab.example"' && fail "joind rewrote dclient.lab.example"
[ "$(dig_short dclient.lab.example A)" = "$ip_a" ] && [ "$(dig_short dclient.lab.example TXT)" = "$txt_a" ] \
  || fail "dclient.lab.example changed: A $(dig_short dclient.lab.example A) TXT $(dig_short dclient.lab.example TXT)"
echo "ok: 4: dclient back on joind: $ip_a and its name, and joind's interim TXT is dhcpd's byte for byte (nothing to rewrite)"

# --- 5. dclient releases: joind removes its records -----------------------------------------------------------
dhclient_release "$CLA" a-cli "$WORK/a" || fail "dhclient -r"
bed_wait_for 10 sh -c "[ -z \"\$(ip netns exec $SRV dig +short @127.0.0.1 dclient.lab.example A)\" ]" \
  || fail "dclient.lab.example still in DNS after its release"
[ -z "$(dig_short dclient.lab.example TXT)" ] && [ -z "$(dig_ptr "$ip_a")" ] || fail "dclient's TXT or PTR left behind"
echo "ok: 5: dclient released: A, TXT and PTR gone"
echo "PASS"
