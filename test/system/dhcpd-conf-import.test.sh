#!/usr/bin/env bash
# dhcpd-conf-import — the same clients served by ISC dhcpd from a realistic dhcpd.conf, then by joind from
# what `joind import --format dhcpd-conf` made of it, and every ACK compared (issue 16).
# test/fixtures/dhcpd-conf/compare.conf: global options (domain name, DNS and NTP servers, domain search),
# lease times, next-server, server-name and filename; a subnet on the bed's link A with routers, broadcast
# address, WPAD (252, declared as text) and classless routes (121, declared as bytes) and three pools with
# permits (known clients; members of the PXE class; neither); a PXE class with its own filename; two fixed
# hosts, one named, and a known host without an address. The import must take all of it (exit 0).
# Then the way back: `joind export --format dhcpd-conf` of the import must pass `dhcpd -t`, and dhcpd
# serving the export must give every client what dhcpd gave it on the original (no difference at all).
# Clients (lib/ack-compare.py, scapy, from link A's client namespace; the same MACs on every run): the two
# hosts, the known laptop, two ordinary clients, a PXE client (option 60), each asking (option 55) for
# every option the file sets; one asking for three options only, one sending no option 55. For each
# client and field — the address (a host: its fixed address from both; otherwise both in the one pool
# that admits the client), siaddr, sname, file and
# each option either ACK has (lease time included; values by bytes, 119 as names; option order ignored)
# — joind's ACK must equal dhcpd's, except for the differences EXPECTED lists below, each with its reason.
# Needs root (namespaces) and dhcpd; exits 77 (skip) without, or without a build of joind (JOIND_DIST).
# KEEP_WORK=1 keeps the work folder (dhcpd's and joind's ACKs as JSON lines, logs, the import).
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need dhcpd node /usr/bin/python3 py:scapy
. "$(dirname "$0")/lib/joind.sh"
[ -f "$DIST/src/cli/main.js" ] || { echo "skip: joind is not built ($DIST; build, or set JOIND_DIST)"; exit 77; }

CONF_FILE=$ROOT/test/fixtures/dhcpd-conf/compare.conf
ACKS=$ROOT/test/system/lib/ack-compare.py
P=dci$$
joind_test_begin "$P"
joind_bed_up

# What the file says, read from it: the pools' ranges (known, PXE, others), and each host's MAC and fixed address.
mapfile -t POOLS < <(awk '$1 == "range" { sub(/;$/, "", $3); print $2 "-" $3 }' "$CONF_FILE")
mapfile -t HOSTS < <(awk '$1 == "host" { h = $2 } $1 == "hardware" { sub(/;$/, "", $3); m[h] = $3 }
  $1 == "fixed-address" { sub(/;$/, "", $2); print h, m[h], $2 }' "$CONF_FILE")
if [ "${#POOLS[@]}" != 3 ] || [ "${#HOSTS[@]}" != 2 ]; then fail "compare.conf: not three pools and two fixed hosts"; fi
FIRST=${POOLS[0]%-*} LAST=${POOLS[2]#*-}

# Every option the file sets (and lease time, T1, T2, TFTP server and bootfile names) asked for.
ALL=1:3:6:12:15:28:42:119:121:252:51:58:59:66:67
CLIENTS=()
FIXED=()
for h in "${HOSTS[@]}"; do
  read -r name mac ip <<< "$h"
  CLIENTS+=("$name,$mac,prl=$ALL")
  FIXED+=(--fixed "$name=$ip")
done
CLIENTS+=(
  "laptop,02:7e:00:00:02:06,prl=$ALL"
  "client-a,02:7e:00:00:02:01,prl=$ALL"
  "client-b,02:7e:00:00:02:02,prl=$ALL"
  "pxe,02:7e:00:00:02:03,prl=$ALL,vci=PXEClient:Arch:00000:UNDI:002001"
  "few,02:7e:00:00:02:04,prl=1:3:6"
  "no-prl,02:7e:00:00:02:05"
)
# The one pool each client may have: the laptop is known (a host declaration), pxe a member of "pxe".
WITHIN=(--within "laptop=${POOLS[0]}" --within "pxe=${POOLS[1]}")
for c in client-a client-b few no-prl; do WITHIN+=(--within "$c=${POOLS[2]}"); done

# Where joind's ACK may differ from dhcpd's, and why: FIELD@RULE=WHY, an option dhcpd 4.4.3 does not send
# and joind sends with the value RULE says (lib/ack-compare.py). Nothing else may differ.
EXPECTED=(
  "58@t1=T1: joind always sends RFC 2131's 50 % (src/alloc/lease-time.ts), dhcpd omits it and clients assume the same"
  "59@t2=T2: joind always sends RFC 2131's 87.5 %, dhcpd omits it and clients assume the same"
  "60@text:PXEClient=a PXE client given a boot file gets 60 PXEClient back (dhcpcap.md, RFC 4578 2.3), dhcpd only when configured to"
  "66@sname=server-name becomes sn, which is also option 66 when asked for (dhcpcap.md); dhcpd fills only the sname field"
  "67@file=filename becomes bf, also sent as option 67 when asked for or no 55 (server.pcy bootfile_not_sent_as_option off); dhcpd fills only the file field"
)

# serve NAME — every client's DORA from link A's client namespace; their ACKs in $WORK/NAME.json.
serve() {
  bed_run "$P" "$CLA" "acks-$1" "$WORK/$1-clients.log" 120 -- /usr/bin/python3 "$ACKS" dora --iface a-cli \
    --out "$WORK/$1.json" "${CLIENTS[@]}"
}

# --- dhcpd ----------------------------------------------------------------------------------------------
D=$WORK/dhcpd
mkdir -p "$D" && : > "$D/dhcpd.leases"
dhcpd -4 -t -q -cf "$CONF_FILE" > "$D/check.log" 2>&1 || fail "dhcpd -t refuses compare.conf: $(cat "$D/check.log")"
bed_spawn "$P" "$SRV" dhcpd "$D/dhcpd.log" -- dhcpd -4 -f -d -cf "$CONF_FILE" -lf "$D/dhcpd.leases" \
  -pf "$D/dhcpd.pid" a-srv || fail "dhcpd"
DHCPD=$BED_PID
bed_wait_for 10 grep -q '^Server starting service' "$D/dhcpd.log" || fail "dhcpd did not start: $(tail -n 5 "$D/dhcpd.log")"
serve dhcpd || fail "not every client got an ACK from dhcpd: $(cat "$WORK/dhcpd-clients.log"); $(tail -n 10 "$D/dhcpd.log")"
bed_stop "$P" "$DHCPD" || fail "stopping dhcpd"
echo "ok: dhcpd ACKed ${#CLIENTS[@]} clients"

# --- joind on the import --------------------------------------------------------------------------------
node "$DIST/src/cli/main.js" import --format dhcpd-conf "$CONF_FILE" --config-dir "$WORK/conf" \
  --owner "$BED_SRV_A" > "$WORK/import.out" 2>&1 || fail "joind import refuses compare.conf: $(cat "$WORK/import.out")"
mkdir -p "$WORK/spool"
bed_spawn "$P" "$SRV" joind "$WORK/joind.log" -- node "$DIST/src/cli/main.js" -f -l 2 -i a-srv \
  --config-dir "$WORK/conf" --spool-dir "$WORK/spool" || fail "joind"
JOIND=$BED_PID
bed_wait_for 15 grep -q '"JOIND_STARTED"' "$WORK/joind.log" || fail "joind did not start"
serve joind || fail "not every client got an ACK from joind: $(cat "$WORK/joind-clients.log")"
bed_stop "$P" "$JOIND" || fail "stopping joind"
echo "ok: joind ACKed ${#CLIENTS[@]} clients"

# --- the way back: dhcpd on joind's export of the import --------------------------------------------------
E=$WORK/exported
mkdir -p "$E" && : > "$E/dhcpd.leases"
# In the server's namespace: the ranges are the owner's ($BED_SRV_A), an address of that namespace only.
ip netns exec "$SRV" node "$DIST/src/cli/main.js" export --format dhcpd-conf --config-dir "$WORK/conf" \
  -o "$E/dhcpd.conf" > "$E/export.out" 2>&1 || fail "joind export --format dhcpd-conf: $(cat "$E/export.out")"
dhcpd -4 -t -q -cf "$E/dhcpd.conf" > "$E/check.log" 2>&1 || fail "dhcpd -t refuses joind's export: $(cat "$E/check.log")"
bed_spawn "$P" "$SRV" dhcpd-exported "$E/dhcpd.log" -- dhcpd -4 -f -d -cf "$E/dhcpd.conf" -lf "$E/dhcpd.leases" \
  -pf "$E/dhcpd.pid" a-srv || fail "dhcpd on the export"
DHCPD=$BED_PID
bed_wait_for 10 grep -q '^Server starting service' "$E/dhcpd.log" || fail "dhcpd did not start on the export: $(tail -n 5 "$E/dhcpd.log")"
serve exported || fail "not every client got an ACK from dhcpd on the export: $(cat "$WORK/exported-clients.log")"
bed_stop "$P" "$DHCPD" || fail "stopping dhcpd"
echo "ok: dhcpd on joind's export ACKed ${#CLIENTS[@]} clients"

# --- the ACKs, client by client -------------------------------------------------------------------------
rc=0
args=(--label dhcpd-conf-import --range "$FIRST-$LAST" "${FIXED[@]}" "${WITHIN[@]}")
for e in "${EXPECTED[@]}"; do args+=(--expect "$e"); done
/usr/bin/python3 "$ACKS" compare "${args[@]}" "$WORK/dhcpd.json" "$WORK/joind.json" > "$WORK/compare.out" 2>&1 || rc=1
cat "$WORK/compare.out"
# The export to dhcpd and back: nothing may differ.
/usr/bin/python3 "$ACKS" compare --label dhcpd-conf-export --range "$FIRST-$LAST" "${FIXED[@]}" "${WITHIN[@]}" \
  "$WORK/dhcpd.json" "$WORK/exported.json" > "$WORK/compare-export.out" 2>&1 || rc=1
cat "$WORK/compare-export.out"
# shellcheck disable=SC2034 # read by joind_test_begin's EXIT trap: the ACKs and logs stay for a look
[ "$rc" = 0 ] || { KEEP_WORK=1; echo "FAIL: the ACKs differ (kept: $WORK)"; exit 1; }
echo "PASS"
