#!/usr/bin/python3
"""failover-pcap.py — the failover messages of a capture of a dhcpd failover link.

Reads a classic pcap (tcpdump -w; Ethernet, Linux cooked v1/v2 or raw IPv4 frames), reassembles each
direction of each TCP connection on the failover port from its sequence numbers (retransmissions and
overlaps are dropped), and splits the byte stream into messages by their 2-byte length header
(draft-ietf-dhc-failover-12 §6.1; ISC dhcpd 4.4.3 writes length, type, payload offset 12, time, xid).
Messages are numbered in capture order over all connections (the segment that carries a message's
first byte orders it).

  failover-pcap.py PCAP                     one line per message: SEQ TIME CONN DIR TYPE[-VARIANT] LEN XID
  failover-pcap.py PCAP --summary           counts per DIR and TYPE[-VARIANT], one line
  failover-pcap.py PCAP --out DIR [--keep K]
        writes each message to DIR/NNNN-DIR-TYPE[-VARIANT].bin (the whole message, header included)
        and DIR/index.txt (the listing of those written); with --keep K only the first K messages
        of each DIR and TYPE[-VARIANT] (a small golden set), else all of them.

DIR is p2s or s2p: the primary is the end with address --primary (default 10.78.0.1, pair.sh's).
VARIANT: BNDUPD the binding status (free, active, backup, …); STATE the server state (recover,
recover-done, normal, …); CONNECTACK, BNDACK, DISCONNECT "reject-N" when they carry a reject reason
N. Exit status 1 when the capture cannot be read or a stream has a hole or a bad length header.
Only the Python standard library is used.
"""
import argparse
import os
import struct
import sys

TYPES = {1: 'poolreq', 2: 'poolresp', 3: 'bndupd', 4: 'bndack', 5: 'connect', 6: 'connectack',
         7: 'updreqall', 8: 'upddone', 9: 'updreq', 10: 'state', 11: 'contact', 12: 'disconnect'}
# binding status (option 3, draft §12.3) and server state (option 24; 254 is ISC's recover-wait)
BINDING = {1: 'free', 2: 'active', 3: 'expired', 4: 'released', 5: 'abandoned', 6: 'reset', 7: 'backup'}
SERVER_STATE = {1: 'startup', 2: 'normal', 3: 'communications-interrupted', 4: 'partner-down',
                5: 'potential-conflict', 6: 'recover', 7: 'paused', 8: 'shutdown', 9: 'recover-done',
                10: 'resolution-interrupted', 11: 'conflict-done', 254: 'recover-wait'}
OPT_BINDING_STATUS, OPT_REJECT_REASON, OPT_SERVER_STATE = 3, 21, 24


def frames(path):
    """Yield (time, IPv4 packet bytes) of each IPv4 frame in a classic pcap file."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError('%s: not a pcap file (too short)' % path)
    magic = data[:4]
    formats = {b'\xd4\xc3\xb2\xa1': ('<', 1e-6), b'\xa1\xb2\xc3\xd4': ('>', 1e-6),
               b'\x4d\x3c\xb2\xa1': ('<', 1e-9), b'\xa1\xb2\x3c\x4d': ('>', 1e-9)}
    if magic not in formats:
        raise ValueError('%s: not a classic pcap file (pcapng is not read)' % path)
    endian, unit = formats[magic]
    linktype = struct.unpack(endian + 'I', data[20:24])[0] & 0x0fffffff
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + 'IIII', data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        if len(frame) < incl:
            break  # a capture cut short while writing
        if linktype == 1:  # Ethernet, maybe one VLAN tag
            etype, l3 = struct.unpack('!H', frame[12:14])[0], 14
            if etype == 0x8100:
                etype, l3 = struct.unpack('!H', frame[16:18])[0], 18
        elif linktype == 113:  # Linux cooked v1
            etype, l3 = struct.unpack('!H', frame[14:16])[0], 16
        elif linktype == 276:  # Linux cooked v2
            etype, l3 = struct.unpack('!H', frame[0:2])[0], 20
        elif linktype in (101, 228):  # raw IP / raw IPv4
            etype, l3 = 0x0800, 0
        else:
            raise ValueError('%s: link type %d is not read' % (path, linktype))
        if etype == 0x0800:
            yield sec + frac * unit, frame[l3:]


def segments(path, port):
    """Yield (index, time, src, sport, dst, dport, seq, syn, payload) for TCP segments on PORT."""
    for index, (t, ip) in enumerate(frames(path)):
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack('!H', ip[2:4])[0]
        tcp = ip[ihl:total] if total else ip[ihl:]  # total 0: a TSO frame seen before segmentation
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack('!HHI', tcp[:8])
        if port not in (sport, dport):
            continue
        syn = bool(tcp[13] & 0x02)
        src, dst = '.'.join(map(str, ip[12:16])), '.'.join(map(str, ip[16:20]))
        yield index, t, src, sport, dst, dport, seq, syn, bytes(tcp[(tcp[12] >> 4) * 4:])


def streams(path, port):
    """Reassemble each direction: {(src, sport, dst, dport): (bytes, [(offset, index, time)])}."""
    raw = {}
    for index, t, src, sport, dst, dport, seq, syn, payload in segments(path, port):
        key = (src, sport, dst, dport)
        s = raw.setdefault(key, {'isn': None, 'segs': []})
        if syn:
            s['isn'] = (seq + 1) & 0xffffffff
        if payload:
            s['segs'].append((seq, index, t, payload))
    out = {}
    for key, s in raw.items():
        if not s['segs']:
            continue
        base = s['isn'] if s['isn'] is not None else min(seg[0] for seg in s['segs'])
        buf, marks = bytearray(), []
        for seq, index, t, payload in sorted(s['segs'], key=lambda x: ((x[0] - base) & 0xffffffff, x[1])):
            rel = (seq - base) & 0xffffffff
            if rel > len(buf):
                raise ValueError('%s:%d > %s:%d: %d bytes missing at stream offset %d'
                                 % (key + (rel - len(buf), len(buf))))
            new = payload[len(buf) - rel:]
            if new:
                marks.append((len(buf), index, t))
                buf += new
        out[key] = (bytes(buf), marks)
    return out


def options(msg):
    """{code: bytes} of a message's options (the first of each code)."""
    opts, i = {}, msg[3]
    while i + 4 <= len(msg):
        code, length = struct.unpack('!HH', msg[i:i + 4])
        opts.setdefault(code, msg[i + 4:i + 4 + length])
        i += 4 + length
    return opts


def name_of(msg):
    kind = TYPES.get(msg[2], 'type%d' % msg[2])
    opts = options(msg)
    if kind == 'bndupd' and opts.get(OPT_BINDING_STATUS):
        b = opts[OPT_BINDING_STATUS][0]
        return kind + '-' + BINDING.get(b, 'status%d' % b)
    if kind == 'state' and opts.get(OPT_SERVER_STATE):
        s = opts[OPT_SERVER_STATE][0]
        return kind + '-' + SERVER_STATE.get(s, 'state%d' % s)
    if kind in ('connectack', 'bndack', 'disconnect') and opts.get(OPT_REJECT_REASON):
        return '%s-reject-%d' % (kind, opts[OPT_REJECT_REASON][0])
    return kind


def messages(path, port, primary):
    """The messages in capture order: dicts with seq, time, conn, dir, name, data."""
    found, conns = [], {}
    for key, (buf, marks) in streams(path, port).items():
        src, sport, dst, dport = key
        conn = tuple(sorted([(src, sport), (dst, dport)]))
        conns.setdefault(conn, None)
        direction = 'p2s' if src == primary else 's2p'
        i, m = 0, 0
        while i + 2 <= len(buf):
            length = struct.unpack('!H', buf[i:i + 2])[0]
            if length < 12 or length > 2048:
                raise ValueError('%s:%d > %s:%d: bad length %d at stream offset %d' % (key + (length, i)))
            if i + length > len(buf):
                break  # the capture ended inside this message
            while m + 1 < len(marks) and marks[m + 1][0] <= i:
                m += 1
            msg = buf[i:i + length]
            found.append({'order': (marks[m][1], i), 'time': marks[m][2], 'conn': conn, 'dir': direction,
                          'name': name_of(msg), 'data': msg})
            i += length
    found.sort(key=lambda x: x['order'])
    # connections numbered by their first message
    for msg in found:
        if conns[msg['conn']] is None:
            conns[msg['conn']] = 'c%d' % (sum(v is not None for v in conns.values()) + 1)
    t0 = found[0]['time'] if found else 0
    for n, msg in enumerate(found, 1):
        msg['seq'], msg['rel'], msg['conn'] = n, msg['time'] - t0, conns[msg['conn']]
    return found


def line(msg):
    xid = struct.unpack('!I', msg['data'][8:12])[0]
    return '%04d %8.3f %s %s %-22s %4d 0x%08x' % (msg['seq'], msg['rel'], msg['conn'], msg['dir'], msg['name'],
                                                  len(msg['data']), xid)


def main():
    ap = argparse.ArgumentParser(description='List or extract the failover messages of a pcap.')
    ap.add_argument('pcap')
    ap.add_argument('--port', type=int, default=519, help='failover port (default 519)')
    ap.add_argument('--primary', default='10.78.0.1', help="the primary's failover address")
    ap.add_argument('--summary', action='store_true', help='one line: counts per direction and type')
    ap.add_argument('--out', help='write the messages as NNNN-DIR-TYPE.bin files into this folder')
    ap.add_argument('--keep', type=int, default=0, help='with --out: the first K of each DIR-TYPE only')
    a = ap.parse_args()
    try:
        msgs = messages(a.pcap, a.port, a.primary)
    except (OSError, ValueError) as e:
        print('failover-pcap: %s' % e, file=sys.stderr)
        return 1
    if a.summary:
        counts = {}
        for m in msgs:
            k = '%s-%s' % (m['dir'], m['name'])
            counts[k] = counts.get(k, 0) + 1
        print(' '.join('%s=%d' % (k, counts[k]) for k in sorted(counts)))
    elif not a.out:
        for m in msgs:
            print(line(m))
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        kept, seen = [], {}
        for m in msgs:
            k = (m['dir'], m['name'])
            seen[k] = seen.get(k, 0) + 1
            if a.keep and seen[k] > a.keep:
                continue
            kept.append(m)
            with open(os.path.join(a.out, '%04d-%s-%s.bin' % (m['seq'], m['dir'], m['name'])), 'wb') as f:
                f.write(m['data'])
        with open(os.path.join(a.out, 'index.txt'), 'w') as f:
            f.write('# seq time(s) connection direction type length xid — %d of the %d messages in the capture\n'
                    % (len(kept), len(msgs)))
            for m in kept:
                f.write(line(m) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
