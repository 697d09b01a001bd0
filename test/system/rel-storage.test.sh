#!/usr/bin/env bash
# Storage faults (issue 6, item 2), with the spool on a small tmpfs the test mounts.
#  - Disk full while serving: once a write needs space (the lease journal may still take a few leases
#    in its last page, durably), a new client gets no lease (silence: no OFFER, no ACK), the log says
#    why (STORE_UNWRITABLE, once), DHCPINFORM is still answered, and once space returns joind notices by
#    itself (STORE_WRITABLE) and the next new client gets its lease.
#  - Read-only spool at start: a clear reason, exit 1.
#  - Corrupt database at start: STORE_INTEGRITY_FAILED, exit 1; the README's recovery (copy joind.db.bak
#    over joind.db) brings back the leases of the last backup: a client gets its old address again.
# Needs root (namespaces, mount); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need udhcpc python3 mount
. "$(dirname "$0")/lib/joind.sh"

P=rp$$
joind_test_begin "$P"
SPOOL=$WORK/spool
mkdir -p "$SPOOL"
mount -t tmpfs -o size=4m,mode=0750 "joind-$P" "$SPOOL" || fail "cannot mount a tmpfs"
trap 'umount -l "$SPOOL" 2>/dev/null; bed_down "$JT_PREFIX" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
joind_bed_up
cp -r "$ROOT/etc" "$WORK/conf"
sed -i 's/^ping_timeout.*/ping_timeout 0/' "$WORK/conf/server.pcy"
joind_start "$SRV" "$WORK/conf" "$SPOOL"
PID=$(cat "$SPOOL/joind.pid")
bed_wait_for 10 grep -q '"STORE_BACKUP"' "$WORK/joind.log" || fail "no backup at start"
echo "ok: a backup is written at start ($(ls "$SPOOL" | tr '\n' ' '))"

run_udhcpc "$CLA" a-cli "$WORK/a" || fail "no lease on link A"
A_IP=$(bed_result "$WORK/a" ip)
echo "ok: client A got $A_IP"

# inform NS FROM_IP SERVER_IP — a DHCPINFORM from FROM_IP:68; prints the reply's message type (5 = ACK).
inform() {
  ip netns exec "$1" python3 - "$2" "$3" <<'EOF'
import os, socket, struct, sys
me, server = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((me, 68))
s.settimeout(3)
mac = bytes.fromhex('027700aabbcc')
pkt = struct.pack('!BBBBIHHIIII', 1, 1, 6, 0, int.from_bytes(os.urandom(4), 'big'), 0, 0,
                  struct.unpack('!I', socket.inet_aton(me))[0], 0, 0, 0)
pkt += mac + bytes(10) + bytes(64) + bytes(128) + bytes([99, 130, 83, 99, 53, 1, 8, 55, 2, 1, 3, 255])
s.sendto(pkt, (server, 67))
try:
    data, _ = s.recvfrom(1500)
except socket.timeout:
    print('none'); sys.exit(0)
i = 240
while i + 1 < len(data) and data[i] != 255:
    if data[i] == 0: i += 1; continue
    if data[i] == 53: print(data[i + 2]); sys.exit(0)
    i += 2 + data[i + 1]
print('no-type')
EOF
}

# --- the disk fills up ---
dd if=/dev/zero of="$SPOOL/fill" bs=64k 2>/dev/null
[ "$(df --output=avail -k "$SPOOL" | tail -1 | tr -d ' ')" -lt 64 ] || fail "could not fill the tmpfs"
mark=$(stat -c %s "$WORK/joind.log")
# Leases are durable in the lease journal: on a full disk its last page may still have room, and the
# ACKs of the leases it takes are on disk all the same. The client comes back until a write needs space
# (a bounded loop); from then on the server grants nothing new.
took=0
while [ "$took" -lt 60 ] && run_udhcpc "$CLB" b-cli "$WORK/b1"; do took=$((took + 1)); done
[ "$took" -lt 60 ] || fail "60 leases granted with the disk full"
echo "ok: the journal's last page took $took more lease(s), then the disk was full for it"
since_fault=$(stat -c %s "$WORK/joind.log")
if run_udhcpc "$CLB" b-cli "$WORK/b1"; then fail "a new client got a lease with the disk full"; fi
tail -c +"$((mark + 1))" "$WORK/joind.log" >"$WORK/full.log"
grep -q '"STORE_UNWRITABLE".*\(SQLITE_FULL\|SQLITE_IOERR\|ENOSPC\)' "$WORK/full.log" || fail "no STORE_UNWRITABLE with the disk full"
tail -c +"$((since_fault + 1))" "$WORK/joind.log" | grep -q '"DHCP_ACK"' && fail "an ACK left after the disk was full for the journal"
[ "$(grep -c '"STORE_UNWRITABLE"' "$WORK/full.log")" = 1 ] || fail "STORE_UNWRITABLE logged more than once"
joind_expect_dropped "$SPOOL" store-unwritable
echo "ok: disk full → no lease for a new client, STORE_UNWRITABLE logged once, DISCOVERs dropped silently"
reply=$(inform "$CLA" "$A_IP" "$BED_SRV_A")
[ "$reply" = 5 ] || fail "DHCPINFORM not answered with the disk full (got: $reply)"
echo "ok: DHCPINFORM still answered"
bed_proc_alive "$PID" || fail "joind died with the disk full"

# --- space returns ---
rm -f "$SPOOL/fill"
bed_wait_for 10 grep -q '"STORE_WRITABLE"' "$WORK/joind.log" || fail "joind did not notice the space came back"
run_udhcpc "$CLB" b-cli "$WORK/b2" || fail "no lease after space returned: $(tail -3 "$WORK/b2/log")"
echo "ok: space returned → STORE_WRITABLE, new client got $(bed_result "$WORK/b2" ip)"

# --- clean stop writes a fresh backup; then a read-only spool at start ---
bed_stop "$P" "$JOIND" || fail "joind did not stop"
grep -q '"JOIND_STOPPED"' "$WORK/joind.log" || fail "no orderly stop"
[ "$(grep -c '"STORE_BACKUP"' "$WORK/joind.log")" -ge 2 ] || fail "no backup at the clean stop"
[ -f "$SPOOL/joind.db.bak" ] && [ -f "$SPOOL/joind.db.bak.1" ] || fail "backups not rotated: $(ls "$SPOOL")"
echo "ok: a backup at the clean stop, the previous one kept"
mount -o remount,ro "$SPOOL" || fail "cannot remount read-only"
out=$(timeout 20 node "$DIST/src/cli/main.js" -f --config-dir "$WORK/conf" --spool-dir "$SPOOL" 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q "joind: spool directory $SPOOL is not writable" <<<"$out" || fail "read-only spool: rc $rc: $out"
echo "ok: read-only spool at start → exit 1, \"$(grep '^joind:' <<<"$out" | cut -c1-100)\""
mount -o remount,rw "$SPOOL" || fail "cannot remount read-write"

# --- a corrupt database at start, and the recovery from the backup ---
size=$(stat -c %s "$SPOOL/joind.db")
# Damage every page after the first (the header stays valid, so only the integrity check can tell).
dd if=/dev/urandom of="$SPOOL/joind.db" bs=4096 seek=1 count=$((size / 4096)) conv=notrunc 2>/dev/null
out=$(timeout 20 node "$DIST/src/cli/main.js" -f --config-dir "$WORK/conf" --spool-dir "$SPOOL" 2>&1); rc=$?
[ "$rc" = 1 ] || fail "joind started on a corrupt database (rc $rc)"
grep -q '"STORE_INTEGRITY_FAILED"' <<<"$out" || fail "no STORE_INTEGRITY_FAILED: $out"
grep -q "restore $SPOOL/joind.db.bak" <<<"$out" || fail "the error does not say how to recover: $out"
echo "ok: corrupt database → exit 1, STORE_INTEGRITY_FAILED, names the backup"
# README, Reliability: the recovery procedure.
mkdir -p "$WORK/damaged" && mv "$SPOOL"/joind.db "$SPOOL"/joind.db-wal "$SPOOL"/joind.db-shm "$WORK/damaged/" 2>/dev/null
cp "$SPOOL/joind.db.bak" "$SPOOL/joind.db"
: >"$WORK/joind.log"
joind_start "$SRV" "$WORK/conf" "$SPOOL"
run_udhcpc "$CLA" a-cli "$WORK/a2" || fail "no lease after the restore"
[ "$(bed_result "$WORK/a2" ip)" = "$A_IP" ] || fail "client A got $(bed_result "$WORK/a2" ip) after the restore, its lease was $A_IP"
echo "ok: restored from joind.db.bak; client A got its address $A_IP back"
echo "PASS"
