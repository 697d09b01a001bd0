#!/usr/bin/env bash
# ddns-bind — dynamic DNS against a real BIND 9 (issue 15), in the bed's server namespace: named serves
# lab.example and the reverse zones of links A and B on that namespace's loopback, and takes only
# updates signed with ddns-key (update-policy); joind runs the sample configuration (names from the
# namepool of lab.example) with name_service_updateable, ddns_server 127.0.0.1, ddns_key_file and
# dns_tracks_dhcp_lease. Checks:
#  1. dhclient on link A: after its ACK, A, PTR and DHCID are in DNS, the DHCID the one RFC 4701 gives
#     for its hardware address and name (computed here with python's hashlib); named's log names the key.
#  2. A name an administrator put in DNS (the namepool's next name, seeded with nsupdate, no DHCID) is
#     not taken over: the second client gets its lease and that name, the A record stays, DDNS_CONFLICT.
#  3. dhclient -r: the first client's A, PTR and DHCID are gone (dns_tracks_dhcp_lease).
#  4. named stopped: a client on link B is ACKed at once all the same, and the update is queued
#     (DDNS_UPDATE_FAILED, `joind ctl ddns`, joind_ddns_queue_depth). joind SIGKILLed, started again, named started again: the records appear
#     (the job was in the store).
#  5. dhclient sending option 81 with S=0 (it writes its own A): joind writes the PTR only, and the ACK's
#     option 81 says S=0 N=0.
#  6. A wrong key (SIGHUP with another secret): named refuses the update, joind logs why, the ACK goes at
#     once; the right key back, the record is written.
#  7. A client with an 8 s lease leaves without a RELEASE: once the lease has expired, its A, DHCID and
#     PTR are gone (the sweep of a restarted joind).
# Needs root (namespaces); exits 77 (skip) without. KEEP_WORK=1 keeps the work folder.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need udhcpc dhclient curl named named-checkconf nsupdate dig tsig-keygen /usr/bin/python3
. "$(dirname "$0")/lib/joind.sh"
. "$(dirname "$0")/lib/named.sh"

P=dd$$
joind_test_begin "$P"
joind_bed_up
conf_sample
tsig-keygen -a hmac-sha256 ddns-key > "$CONF/ddns.key" || fail "tsig-keygen"
chmod 640 "$CONF/ddns.key"
cat >> "$CONF/server.pcy" <<EOF
name_service_updateable on
ddns_server 127.0.0.1
ddns_key_file ddns.key
dns_tracks_dhcp_lease on
ping_timeout 0
EOF

NAMED_DIR=$WORK/named
named_setup "$NAMED_DIR" "$CONF/ddns.key" lab.example 1.77.10.in-addr.arpa 2.77.10.in-addr.arpa || fail "named-checkconf"
chmod a+x "$WORK"
named_start "$NAMED_DIR"

# dhcid_of MAC FQDN — the RFC 4701 DHCID (identifier type 0: htype 1 and chaddr) in dig's form.
dhcid_of() {
  /usr/bin/python3 -c '
import base64, hashlib, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
wire = b"".join(bytes([len(l)]) + l.encode() for l in sys.argv[2].rstrip(".").split(".")) + b"\0"
print(base64.b64encode(b"\0\0\1" + hashlib.sha256(b"\1" + mac + wire).digest()).decode())' "$1" "$2"
}
# logged ID — joind logged a line with msgId ID.
logged() { grep -q "\"msgId\":\"$1\"" "$WORK/joind.log"; }

joind_start "$SRV" "$CONF" "$WORK/spool"

# --- 1. a lease's name in DNS ---------------------------------------------------------------------
run_dhclient "$CLA" a-cli "$WORK/a" || fail "dhclient on link A: $(tail -n 3 "$WORK/a/log")"
ip_a=$(bed_result "$WORK/a" ip)
name_a=$(grep '"DHCP_ACK"' "$WORK/joind.log" | tail -n 1 | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
[ -n "$name_a" ] || fail "no name in joind's ACK line"
fqdn_a=$name_a.lab.example
bed_wait_for 5 sh -c "ip netns exec $SRV dig +short @127.0.0.1 -x $ip_a | grep -q ." || fail "no PTR for $ip_a"
[ "$(dig_short "$fqdn_a" A)" = "$ip_a" ] || fail "A of $fqdn_a: '$(dig_short "$fqdn_a" A)', expected $ip_a"
ptr=$(ip netns exec "$SRV" dig +short @127.0.0.1 -x "$ip_a")
[ "$ptr" = "$fqdn_a." ] || fail "PTR of $ip_a: '$ptr', expected $fqdn_a."
dhcid=$(dig_short "$fqdn_a" DHCID)
want=$(dhcid_of "$(bed_client_mac "$P" cla)" "$fqdn_a")
[ "$dhcid" = "$want" ] || fail "DHCID of $fqdn_a: '$dhcid', expected $want"
grep -q "key ddns-key: updating zone 'lab.example/IN'" "$WORK/named.log" || fail "named did not log updates signed with ddns-key"
logged DDNS_UPDATED || fail "no DDNS_UPDATED"
echo "ok: 1: $fqdn_a A $ip_a, PTR, DHCID $dhcid (RFC 4701 for the client's MAC), signed with ddns-key"

# --- 2. an administrator's name is not taken over -----------------------------------------------------
# The namepool's next name (the sample's pool: amber basalt cobalt …), in DNS without a DHCID.
next=$(awk -v n="$name_a" 'NR > 1 { for (i = 1; i <= NF; i++) if (seen) { print $i; exit } else if ($i == n) seen = 1 }' "$CONF/namepool")
[ -n "$next" ] || fail "no name after $name_a in the namepool"
ip netns exec "$SRV" nsupdate -k "$CONF/ddns.key" <<EOF || fail "nsupdate"
server 127.0.0.1
zone lab.example
update add $next.lab.example 3600 A 10.9.9.9
send
EOF
run_dhclient "$CLB" b-cli "$WORK/b" || fail "dhclient on link B: $(tail -n 3 "$WORK/b/log")"
bed_wait_for 5 logged DDNS_CONFLICT || fail "no DDNS_CONFLICT for $next.lab.example"
[ "$(dig_short "$next.lab.example" A)" = "10.9.9.9" ] || fail "$next.lab.example was taken over: $(dig_short "$next.lab.example" A)"
grep '"DDNS_CONFLICT"' "$WORK/joind.log" | grep -q "\"$next.lab.example\"" || fail "DDNS_CONFLICT names another name"
dhclient_stop "$CLB" b-cli "$WORK/b"
echo "ok: 2: $next.lab.example kept its administrator's A 10.9.9.9; the client got $(bed_result "$WORK/b" ip) all the same (DDNS_CONFLICT)"

# --- 3. release removes the records ------------------------------------------------------------------
dhclient_release "$CLA" a-cli "$WORK/a" || fail "dhclient -r"
bed_wait_for 5 sh -c "[ -z \"\$(ip netns exec $SRV dig +short @127.0.0.1 $fqdn_a A)\" ]" || fail "A of $fqdn_a still there after the release"
[ -z "$(dig_short "$fqdn_a" DHCID)" ] || fail "DHCID of $fqdn_a still there"
bed_wait_for 5 sh -c "[ -z \"\$(ip netns exec $SRV dig +short @127.0.0.1 -x $ip_a)\" ]" || fail "PTR of $ip_a still there"
echo "ok: 3: after the release, no A, DHCID or PTR for $fqdn_a"

# --- 4. DNS down: the ACK does not wait, the job survives a SIGKILL -----------------------------------
bed_stop "$P" "$NAMED" || fail "stopping named"
started=$(date +%s%N)
run_udhcpc "$CLB" b-cli "$WORK/c" || fail "udhcpc with DNS down: $(tail -n 3 "$WORK/c/log")"
took=$(( ($(date +%s%N) - started) / 1000000 ))
ip_c=$(bed_result "$WORK/c" ip)
bed_wait_for 5 logged DDNS_UPDATE_FAILED || fail "no DDNS_UPDATE_FAILED while named is down"
name_c=$(grep '"DHCP_ACK"' "$WORK/joind.log" | grep "\"$ip_c\"" | tail -n 1 | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
[ -n "$name_c" ] || fail "no name for $ip_c"
ctl=$(node "$DIST/src/cli/main.js" ctl ddns --spool-dir "$WORK/spool") || fail "joind ctl ddns"
grep -q "^  queued 1 " <<< "$ctl" && grep -q "add .* $name_c.lab.example  (" <<< "$ctl" \
  || fail "joind ctl ddns should list the queued job of $name_c.lab.example with its error: $ctl"
depth=$(ip netns exec "$SRV" curl -s --max-time 5 http://127.0.0.1:9267/metrics | awk '$1 == "joind_ddns_queue_depth" { print $2 }')
[ "$depth" = 1 ] || fail "joind_ddns_queue_depth '$depth', expected 1"
echo "ok: 4: named down: $ip_c ($name_c) leased in $took ms (DORA), the update queued (DDNS_UPDATE_FAILED; ctl ddns and joind_ddns_queue_depth show it)"
kill -KILL "$(cat "$WORK/spool/joind.pid")" || fail "kill joind"
bed_wait_for 5 sh -c "! kill -0 $(cat "$WORK/spool/joind.pid") 2>/dev/null" || fail "joind did not die"
bed_stop "$P" "$JOIND" >/dev/null 2>&1
rm -f "$WORK/spool/joind.pid"
named_start "$NAMED_DIR"
mv "$WORK/joind.log" "$WORK/joind-1.log"
joind_start "$SRV" "$CONF" "$WORK/spool"
bed_wait_for 10 sh -c "[ \"\$(ip netns exec $SRV dig +short @127.0.0.1 $name_c.lab.example A)\" = $ip_c ]" \
  || fail "$name_c.lab.example not in DNS after the restart: '$(dig_short "$name_c.lab.example" A)'"
[ "$(ip netns exec "$SRV" dig +short @127.0.0.1 -x "$ip_c")" = "$name_c.lab.example." ] || fail "no PTR for $ip_c after the restart"
echo "ok: 4: after SIGKILL and restart with named back, $name_c.lab.example A $ip_c and its PTR are in DNS"
# --- 5. option 81: a client that writes its own A record gets joind's PTR only ---------------------------
mkdir -p "$WORK/e"
cat > "$WORK/e/dhclient.conf" <<'CONF'
timeout 20;
retry 5;
initial-interval 1;
backoff-cutoff 2;
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name;
send fqdn.fqdn "selfie.lab.example.";
send fqdn.encoded on;
send fqdn.server-update off;
CONF
run_dhclient "$CLA" a-cli "$WORK/e" || fail "dhclient with option 81: $(tail -n 3 "$WORK/e/log")"
ip_e=$(bed_result "$WORK/e" ip)
ack_e=$(grep '"DHCP_ACK"' "$WORK/joind.log" | grep "\"$ip_e\"" | tail -n 1)
name_e=$(sed -n 's/.*"name":"\([^"]*\)".*/\1/p' <<< "$ack_e")
grep -q '"dns":"reverse"' <<< "$ack_e" || fail "joind should leave the A record to the client: $ack_e"
bed_wait_for 5 sh -c "[ \"\$(ip netns exec $SRV dig +short @127.0.0.1 -x $ip_e)\" = $name_e.lab.example. ]" \
  || fail "PTR of $ip_e: '$(ip netns exec "$SRV" dig +short @127.0.0.1 -x "$ip_e")', expected $name_e.lab.example."
[ -z "$(dig_short "$name_e.lab.example" A)" ] || fail "joind wrote the A record of $name_e.lab.example the client keeps to itself"
# dhclient hands the reply's option 81 to its script: S (server-update) and N (no-client-update) clear.
blk=$(_bed_last_event "$WORK/e/events" 'BOUND')
grep -q '^new_fqdn_server_update=false' <<< "$blk" && grep -q '^new_fqdn_no_client_update=false' <<< "$blk" \
  || fail "option 81 in the ACK should read S=0 N=0: $(grep fqdn <<< "$blk" | paste -sd ' ')"
dhclient_stop "$CLA" a-cli "$WORK/e"
echo "ok: 5: option 81 with S=0: the PTR of $ip_e names $name_e.lab.example, no A written by joind; the ACK said S=0 N=0"

# --- 6. a wrong key: named refuses, joind says why, the ACK still goes; the right key again: written ---
cp "$CONF/ddns.key" "$WORK/ddns.key.right"
tsig-keygen -a hmac-sha256 ddns-key > "$CONF/ddns.key" && chmod 640 "$CONF/ddns.key" || fail "tsig-keygen"
reloads=$(grep -c '"CONFIG_RELOADED"' "$WORK/joind.log")
kill -HUP "$(cat "$WORK/spool/joind.pid")"
bed_wait_for 5 sh -c "[ \$(grep -c '\"CONFIG_RELOADED\"' $WORK/joind.log) -gt $reloads ]" || fail "no reload after SIGHUP"
started=$(date +%s%N)
# The client of 5, now without option 81: joind owes its A record (a job, where a renewal that changes
# nothing would send none).
mkdir -p "$WORK/f"
grep -v '^send fqdn' "$WORK/e/dhclient.conf" > "$WORK/f/dhclient.conf"
run_dhclient "$CLA" a-cli "$WORK/f" || fail "dhclient with a wrong key: $(tail -n 3 "$WORK/f/log")"
took=$(( ($(date +%s%N) - started) / 1000000 ))
ip_f=$(bed_result "$WORK/f" ip)
failed_f() { grep '"DDNS_UPDATE_FAILED"' "$WORK/joind.log" | grep "\"$ip_f\"" | tail -n 1; }
bed_wait_for 5 sh -c "grep '\"DDNS_UPDATE_FAILED\"' $WORK/joind.log | grep -q '\"$ip_f\"'" || fail "no DDNS_UPDATE_FAILED for $ip_f"
why=$(failed_f | sed -n 's/.*"error":"\([^"]*\)".*/\1/p')
grep -q 'NOTAUTH\|BADSIG\|BADKEY' <<< "$why" || fail "the failure should say the signature was refused: $why"
grep -q "request has invalid signature" "$WORK/named.log" || fail "named did not log the invalid signature"
reloads=$(grep -c '"CONFIG_RELOADED"' "$WORK/joind.log")
cp "$WORK/ddns.key.right" "$CONF/ddns.key"
kill -HUP "$(cat "$WORK/spool/joind.pid")"
bed_wait_for 5 sh -c "[ \$(grep -c '\"CONFIG_RELOADED\"' $WORK/joind.log) -gt $reloads ]" || fail "no reload after SIGHUP"
name_f=$(grep '"DHCP_ACK"' "$WORK/joind.log" | grep "\"$ip_f\"" | tail -n 1 | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
bed_wait_for 20 sh -c "[ \"\$(ip netns exec $SRV dig +short @127.0.0.1 $name_f.lab.example A)\" = $ip_f ]" \
  || fail "$name_f.lab.example not written once the right key was back"
dhclient_stop "$CLA" a-cli "$WORK/f"
echo "ok: 6: wrong key: $ip_f leased in $took ms, named refused the update (joind: $why); with the right key back, $name_f.lab.example A $ip_f"

# --- 7. expiry removes the records ----------------------------------------------------------------------
mkdir -p "$WORK/g"
{ cat "$WORK/f/dhclient.conf"; echo 'send dhcp-lease-time 8;'; } > "$WORK/g/dhclient.conf"
run_dhclient "$CLA" a-cli "$WORK/g" || fail "dhclient for a short lease: $(tail -n 3 "$WORK/g/log")"
ip_g=$(bed_result "$WORK/g" ip)
name_g=$(grep '"DHCP_ACK"' "$WORK/joind.log" | grep "\"$ip_g\"" | tail -n 1 | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
bed_wait_for 5 sh -c "[ \"\$(ip netns exec $SRV dig +short @127.0.0.1 $name_g.lab.example A)\" = $ip_g ]" \
  || fail "$name_g.lab.example not in DNS"
# The client goes without a word (no RELEASE, dhclient killed); its 8 s lease runs out. joind's expiry
# sweep runs at start and then every minute: a restart is the quick way to it.
bed_stop "$P" "$(bed_result "$WORK/g" pid)" >/dev/null 2>&1
sleep 9
bed_stop "$P" "$JOIND" >/dev/null 2>&1
mv "$WORK/joind.log" "$WORK/joind-2.log"
joind_start "$SRV" "$CONF" "$WORK/spool"
bed_wait_for 10 sh -c "[ -z \"\$(ip netns exec $SRV dig +short @127.0.0.1 $name_g.lab.example A)\" ]" \
  || fail "A of $name_g.lab.example still there after its lease expired"
[ -z "$(dig_short "$name_g.lab.example" DHCID)" ] || fail "DHCID of $name_g.lab.example still there"
[ -z "$(ip netns exec "$SRV" dig +short @127.0.0.1 -x "$ip_g")" ] || fail "PTR of $ip_g still there"
echo "ok: 7: $name_g.lab.example ($ip_g, an 8 s lease) gone from DNS once the lease expired"
echo "PASS"
