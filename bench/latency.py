#!/usr/bin/env python3
"""latency.py — DISCOVER→OFFER and REQUEST→ACK delays from a capture taken on the generator's link.

Reads a classic pcap (tcpdump -w, Ethernet), pairs each request with the first reply of the right type
carrying the same xid, and prints `offer_n offer_p50_ms offer_p99_ms ack_n ack_p50_ms ack_p99_ms`.
Kernel timestamps on the generator's side: the figure a client sees, free of perfdhcp's own bookkeeping.
Usage: latency.py CAPTURE.pcap [--by-second]   (--by-second: also the p50/p99 of each second, on stderr)"""
import struct
import sys

REPLY_OF = {1: 2, 3: 5}  # DISCOVER → OFFER, REQUEST → ACK


def packets(path: str):
    with open(path, 'rb') as f:
        header = f.read(24)
        if len(header) < 24:
            return
        magic = struct.unpack('<I', header[:4])[0]
        endian = '<' if magic in (0xA1B2C3D4, 0xA1B23C4D) else '>'
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, caplen, _ = struct.unpack(endian + 'IIII', rec)
            data = f.read(caplen)
            yield sec + frac / (1e9 if nano else 1e6), data


def dhcp_of(frame: bytes):
    """(op, xid, message type) of an Ethernet/IPv4/UDP DHCP frame, or None."""
    if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b'\x08\x00' or frame[23] != 17:
        return None
    ihl = (frame[14] & 15) * 4
    bootp = frame[14 + ihl + 8:]
    if len(bootp) < 240 or bootp[236:240] != b'\x63\x82\x53\x63':
        return None
    at = 240
    while at + 1 < len(bootp) and bootp[at] != 255:
        if bootp[at] == 0:
            at += 1
            continue
        if bootp[at] == 53 and at + 2 < len(bootp):
            return bootp[0], struct.unpack('!I', bootp[4:8])[0], bootp[at + 2]
        at += 2 + bootp[at + 1]
    return None


def percentile(sorted_values, p):
    if not sorted_values:
        return float('nan')
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main() -> int:
    pending = {}
    delays = {2: [], 5: []}
    by_second = {}
    first = []
    for ts, frame in packets(sys.argv[1]):
        if not first:
            first.append(ts)
        d = dhcp_of(frame)
        if d is None:
            continue
        op, xid, mtype = d
        if op == 1 and mtype in REPLY_OF:
            pending.setdefault((xid, REPLY_OF[mtype]), ts)
        elif op == 2 and (xid, mtype) in pending:
            sent = pending.pop((xid, mtype))
            delays[mtype].append((ts - sent) * 1000)
            by_second.setdefault((int(sent - first[0]), mtype), []).append((ts - sent) * 1000)
    out = []
    for mtype in (2, 5):
        values = sorted(delays[mtype])
        out += [str(len(values)), f'{percentile(values, 50):.3f}', f'{percentile(values, 99):.3f}']
    print(' '.join(out))
    if '--by-second' in sys.argv[2:]:
        for (second, mtype), values in sorted(by_second.items()):
            values.sort()
            print(f'second {second} {"offer" if mtype == 2 else "ack"} n={len(values)} '
                  f'p50={percentile(values, 50):.3f} p99={percentile(values, 99):.3f} max={values[-1]:.3f}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
