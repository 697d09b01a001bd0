#!/usr/bin/env bash
# joind export/import with the real tools of the ISC world: dhcpd-pools reads the exported dhcpd.leases
# with the exported dhcpd.conf and counts the same leases joind has; python3-isc-dhcp-leases parses every
# block; export → import → export gives the same file. Needs no root (no network): only files.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need dhcpd-pools /usr/bin/python3 py:isc_dhcp_leases
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIST=${JOIND_DIST:-$ROOT/dist}
J() { node "$DIST/src/cli/main.js" "$@"; }
WORK=$(mktemp -d /tmp/joind-ops-exchange-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A configuration whose ranges this host owns (127.0.0.1 is an address of every host).
mkdir -p "$WORK/conf"
printf '10.20.0.0 255.255.255.0\n10.21.0.0 255.255.255.0\n' > "$WORK/conf/netmasks"
printf '10.20.0.0 127.0.0.1 10.20.0.10-10.20.0.59\n10.21.0.0 127.0.0.1 10.21.0.100-10.21.0.119\n' > "$WORK/conf/nets"
: > "$WORK/conf/server.pcy"
: > "$WORK/conf/dhcpcap"

# 12 active leases (10 on 10.20, 2 on 10.21), 3 expired, 1 released, 1 abandoned, 1 static binding.
now=$(date +%s); later=$((now + 3600)); before=$((now - 7200)); ended=$((now - 3600))
{
  for i in $(seq 10 19); do printf '02:00:00:00:01:%02x|1|6|10.20.0.%d|%d|%d||%d|active|||||client%d|\n' "$i" "$i" "$now" "$later" "$now" "$i"; done
  printf '02:00:00:00:02:01|1|6|10.21.0.100|%d|%d||%d|active|||||c2a|\n' "$now" "$later" "$now"
  printf '02:00:00:00:02:02|1|6|10.21.0.101|%d|%d||%d|active||0|01:02:00:00:00:02:02|01:02:00:00:00:02:02|c2b|named\n' "$now" "$later" "$now"
  for i in 20 21 22; do printf '02:00:00:00:01:%02x|1|6|10.20.0.%d|%d|%d||%d|expired|||||\n' "$i" "$i" "$before" "$ended" "$before"; done
  printf '02:00:00:00:01:30|1|6|10.20.0.30|%d|%d||%d|released|||||\n' "$before" "$ended" "$ended"
  printf '|0|0|10.20.0.31|%d|||%d|abandoned|||||\n' "$before" "$before"
  printf '02:00:00:00:01:32|1|6|10.20.0.5|%d|||%d|static|||||\n' "$before" "$before"
} > "$WORK/records"
J load -e --config-dir "$WORK/conf" --spool-dir "$WORK/spool" "$WORK/records" || fail "load"

J export --config-dir "$WORK/conf" --spool-dir "$WORK/spool" -o "$WORK/dhcpd.leases" || fail "export leases"
J export --format dhcpd-conf --config-dir "$WORK/conf" -o "$WORK/dhcpd.conf" || fail "export conf"
[ "$(grep -c '^lease ' "$WORK/dhcpd.leases")" = 18 ] || fail "expected 18 lease blocks"

# dhcpd-pools: per range, active leases (the static 10.20.0.5 is outside the ranges).
dhcpd-pools -c "$WORK/dhcpd.conf" -l "$WORK/dhcpd.leases" -f c > "$WORK/pools.csv" 2> "$WORK/pools.err" || { cat "$WORK/pools.err"; fail "dhcpd-pools failed"; }
range_cur() { awk -F, -v first="\"$1\"" '$2 == first { gsub(/"/, "", $5); print $5; exit }' "$WORK/pools.csv"; }
range_max() { awk -F, -v first="\"$1\"" '$2 == first { gsub(/"/, "", $4); print $4; exit }' "$WORK/pools.csv"; }
[ "$(range_max 10.20.0.10)" = 50 ] || { cat "$WORK/pools.csv"; fail "dhcpd-pools sees max $(range_max 10.20.0.10) in 10.20.0.10-59, expected 50"; }
[ "$(range_cur 10.20.0.10)" = 10 ] || { cat "$WORK/pools.csv"; fail "dhcpd-pools counts $(range_cur 10.20.0.10) active in 10.20.0.10-59, expected 10"; }
[ "$(range_max 10.21.0.100)" = 20 ] || { cat "$WORK/pools.csv"; fail "dhcpd-pools sees max $(range_max 10.21.0.100) in 10.21.0.100-119, expected 20"; }
[ "$(range_cur 10.21.0.100)" = 2 ] || { cat "$WORK/pools.csv"; fail "dhcpd-pools counts $(range_cur 10.21.0.100) active in 10.21.0.100-119, expected 2"; }
echo "ok: dhcpd-pools counts 10/50 and 2/20 active, as joind has them"

# python3-isc-dhcp-leases: every block with a hardware address, states, MACs, times and the current set.
/usr/bin/python3 - "$WORK/dhcpd.leases" "$later" <<'PY' || fail "isc_dhcp_leases disagrees"
import sys, datetime
from isc_dhcp_leases import IscDhcpLeases
leases = IscDhcpLeases(sys.argv[1]).get()
by_ip = {l.ip: l for l in leases}
assert len(leases) == 17, len(leases)  # the abandoned one has no hardware address: the library skips it
states = sorted(l.binding_state for l in leases)
assert states.count('active') == 13 and states.count('free') == 3 and states.count('released') == 1, states
assert by_ip['10.21.0.101'].ethernet == '02:00:00:00:02:02'
assert by_ip['10.21.0.101'].hostname == 'c2b'
end = datetime.datetime.utcfromtimestamp(int(sys.argv[2]))
assert by_ip['10.20.0.10'].end == end, (by_ip['10.20.0.10'].end, end)
current = IscDhcpLeases(sys.argv[1]).get_current()
assert len(current) == 13, len(current)
print("ok: isc_dhcp_leases parses", len(leases), "leases,", len(current), "current")
PY

# Round trip: import into an empty store, export again: the same file (but for the date in its header).
J import --config-dir "$WORK/conf" --spool-dir "$WORK/spool2" "$WORK/dhcpd.leases" || fail "import"
J export --spool-dir "$WORK/spool2" -o "$WORK/again.leases" || fail "export 2"
diff <(tail -n +2 "$WORK/dhcpd.leases") <(tail -n +2 "$WORK/again.leases") || fail "export → import → export differs"
echo "ok: export → import → export is identical"

# Importing again without -w changes nothing and says why; a broken file is refused whole.
J import --config-dir "$WORK/conf" --spool-dir "$WORK/spool2" "$WORK/dhcpd.leases" 2> "$WORK/again.err" && fail "a second import without -w should be refused"
grep -q 'already has a record for this client (overwrite it with -w)' "$WORK/again.err" || fail "no reason given: $(head -3 "$WORK/again.err")"
sed 's/^  starts [0-9]/  starts x/' "$WORK/dhcpd.leases" | head -c 2000 > "$WORK/broken.leases"
J import --config-dir "$WORK/conf" --spool-dir "$WORK/spool3" "$WORK/broken.leases" 2> "$WORK/broken.err" && true
grep -q 'broken.leases:[0-9]*: starts' "$WORK/broken.err" || fail "broken file not reported with its line: $(cat "$WORK/broken.err")"
echo "ok: repeated and broken imports are refused with the reason and line"
echo "PASS"
