#!/usr/bin/env bash
# Durability order, seen in system calls (issue 6, item 1): joind runs under strace while real clients
# take leases (udhcpc on link A, dhclient on link B, udhcpc behind ISC dhcrelay on link C). For every
# DHCPACK that joind sends, the trace must show an fsync/fdatasync of the lease journal (joind.journal:
# the durable record of a batch since issue 17; SQLite itself is committed every few minutes) after the
# REQUEST it answers was read and before the ACK was sent.
# Needs root (namespaces); exits 77 (skip) without.
set -u
. "$(dirname "$0")/lib/need.sh"
bed_need strace udhcpc dhclient dhcrelay python3
. "$(dirname "$0")/lib/joind.sh"

P=ro$$
joind_test_begin "$P"
joind_bed_up
conf_sample
sed -i 's/^ping_timeout.*/ping_timeout 0/' "$WORK/conf/server.pcy"
# -y: file descriptors with their paths; -xx: whole packets in hex, to find the ACKs and REQUESTs.
bed_spawn "$P" "$SRV" joind "$WORK/joind.log" -- strace -f -y -xx -s 2048 -o "$WORK/trace" \
  -e trace=fsync,fdatasync,sendto,sendmsg,recvfrom,recvmsg \
  node "$DIST/src/cli/main.js" -f -l 2 --config-dir "$WORK/conf" --spool-dir "$WORK/spool"
bed_wait_for 30 grep -q '"JOIND_STARTED"' "$WORK/joind.log" || fail "joind did not start under strace"
bed_start_relay "$P" || fail "relay did not start"
run_udhcpc "$(bed_ns "$P" cla)" a-cli "$WORK/a" || fail "udhcpc on link A: $(tail -3 "$WORK/a/log")"
run_dhclient "$(bed_ns "$P" clb)" b-cli "$WORK/b" || fail "dhclient on link B: $(tail -3 "$WORK/b/log")"
run_udhcpc "$(bed_ns "$P" clc)" c-cli "$WORK/c" || fail "udhcpc behind the relay: $(tail -3 "$WORK/c/log")"
echo "ok: three clients got leases with joind under strace"

python3 - "$WORK/trace" <<'EOF' || fail "the trace does not show the fsync between REQUEST and ACK"
import re, sys
COOKIE = bytes([0x63, 0x82, 0x53, 0x63])
def unhex(text):
    return bytes(int(h, 16) for h in re.findall(r'\\x([0-9a-f]{2})', text))
def dhcp(hexdata):
    """(message type, xid) of the BOOTP message inside a buffer (a whole frame or a UDP payload)."""
    data = unhex(hexdata)
    at = data.find(COOKIE, 236)
    if at < 236:
        return None
    start = at - 236
    xid = data[start + 4:start + 8].hex()
    i = at + 4
    while i + 1 < len(data):
        code = data[i]
        if code == 0: i += 1; continue
        if code == 255: break
        if code == 53: return (data[i + 2], xid)
        i += 2 + data[i + 1]
    return None
events = []  # (kind, xid or path), in the order things happened
# strace -f splits a call that another thread interrupts into "<unfinished ...>" and "<... resumed>". The
# strict reading: an fsync counts where it completed, a send where it started, a receive where it completed.
pending = {}
CALL = re.compile(r'(\d+) +(fsync|fdatasync|sendto|sendmsg|recvfrom|recvmsg)\((\d+)<([^>]*)>(.*)')
def sync_event(path):
    # -xx writes paths in hex too. A batch's sync is the journal's; the WAL's (at a publish) and the
    # database file's (at checkpoints) do not make a new lease durable, so they do not count.
    if re.search(r'/joind\.journal$', unhex(path).decode('latin1')):
        events.append(('sync', path))
def packet_event(call, rest):
    found = dhcp(rest)
    if found is None:
        return
    mtype, xid = found
    if call.startswith('recv') and mtype == 3:
        events.append(('request', xid))
    elif call.startswith('send') and mtype == 5:
        events.append(('ack', xid))
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    resumed = re.match(r'(\d+) +<\.\.\. (\w+) resumed>(.*)', line)
    if resumed:
        pid, call, rest = resumed.groups()
        if pid not in pending or not re.search(r'= \d+$', rest):
            pending.pop(pid, None)
            continue
        start_call, fd_path, start_rest = pending.pop(pid)
        if start_call in ('fsync', 'fdatasync'):
            sync_event(fd_path)
        elif start_call.startswith('recv'):
            packet_event(start_call, rest)
        continue
    m = CALL.match(line)
    if not m:
        continue
    pid, call, path, rest = m.group(1), m.group(2), m.group(4), m.group(5)
    if rest.endswith('<unfinished ...>'):
        pending[pid] = (call, path, rest)
        if call.startswith('send'):
            packet_event(call, rest)  # a send counts from its start
        continue
    if not re.search(r'= \d+$', line):
        continue  # failed
    if call in ('fsync', 'fdatasync'):
        sync_event(path)
    else:
        packet_event(call, rest)
acks = [i for i, e in enumerate(events) if e[0] == 'ack']
syncs = sum(1 for e in events if e[0] == 'sync')
bad = []
for i in acks:
    xid = events[i][1]
    req = max((j for j in range(i) if events[j] == ('request', xid)), default=None)
    if req is None:
        bad.append('ACK xid %s: its REQUEST is not in the trace' % xid)
    elif not any(events[j][0] == 'sync' for j in range(req + 1, i)):
        bad.append('ACK xid %s sent with no fsync of the journal since its REQUEST' % xid)
print('  trace: %d ACKs sent, %d fsyncs of the journal, %d REQUESTs read' % (len(acks), syncs, sum(1 for e in events if e[0] == 'request')))
for b in bad: print('  ' + b)
sys.exit(0 if acks and len(acks) >= 3 and not bad else 1)
EOF
echo "ok: every ACK left after the fsync of the journal batch that holds its lease"
echo "PASS"
