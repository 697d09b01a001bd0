#!/usr/bin/python3
"""lan-leases.py — check a capture of a client LAN for addresses given to two clients at once.

  lan-leases.py PCAP [--hold SECONDS] [--offers-per-server] [--silent NAME=IP@START-END …]

Reads every DHCP reply (UDP from port 67) and every RELEASE in PCAP (pcap or pcap-ns, any byte order).
An ACK gives its client the address from then until then + its lease time (option 51); a RELEASE
from that client, or an ACK of the same address to it again, ends or renews it. With --hold, an OFFER
holds its address for its client that long too (joind's provisional_ttl is 60 s). A duplicate is an
OFFER or ACK of an address to another client while such a hold is running: one address held by two
clients at once.

--offers-per-server: an OFFER's hold counts only against replies of the server that made it. For a pair
with ISC dhcpd, which holds nothing for an offer: a primary that has offered a free address may give it
to its peer in the pool balance that follows, and the peer may offer it again at once. That is no
duplicate, since the first server will not ACK an address that is no longer its own (and an ACK of it
would be a finding anyway: ACKs hold against every server).

--silent NAME=IP@START-END (times in seconds since 1970, END may be "inf"): the server IP must not
reply between START and END (a server that is recovering); each reply found there is a finding.

Prints "key=value" on one line: replies acks offers naks releases dups silent_replies, then
servers=IP:N,… (replies per server address), then one line per finding:
  dup ADDRESS held by MAC until T, then TYPE to MAC at T
  silent NAME TYPE to MAC at T
"""
import argparse
import struct
import sys


def packets(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        return
    magic_le = struct.unpack("<I", data[:4])[0]
    magic_be = struct.unpack(">I", data[:4])[0]
    if magic_le in (0xA1B2C3D4, 0xA1B23C4D):
        endian, nano = "<", magic_le == 0xA1B23C4D
    elif magic_be in (0xA1B2C3D4, 0xA1B23C4D):
        endian, nano = ">", magic_be == 0xA1B23C4D
    else:
        sys.exit("lan-leases: %s is not a pcap file" % path)
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        yield sec + frac / (1e9 if nano else 1e6), data[off + 16:off + 16 + incl]
        off += 16 + incl


def dhcp(frame):
    """(src ip, sport, bootp bytes) of a UDP/IPv4 Ethernet frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    u = 14 + (frame[14] & 15) * 4
    if len(frame) < u + 8:
        return None
    sport, dport = struct.unpack("!HH", frame[u:u + 4])
    if 67 not in (sport, dport):
        return None
    return ".".join(str(x) for x in frame[26:30]), sport, frame[u + 8:]


def options(b):
    found, i = {}, 240
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        if i + 1 >= len(b):
            break
        code, n = b[i], b[i + 1]
        found.setdefault(code, b[i + 2:i + 2 + n])
        i += 2 + n
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--silent", action="append", default=[])
    ap.add_argument("--hold", type=float, default=0.0)
    ap.add_argument("--offers-per-server", action="store_true")
    args = ap.parse_args()
    silent = []
    for spec in args.silent:
        name, rest = spec.split("=", 1)
        ip, span = rest.split("@", 1)
        start, end = span.split("-", 1)
        silent.append((name, ip, float(start), float("inf") if end == "inf" else float(end)))

    names = {2: "OFFER", 5: "ACK", 6: "NAK", 7: "RELEASE"}
    held = {}  # address -> {mac: (until, server whose OFFER holds it, or None for an ACK)}
    count = {"replies": 0, "acks": 0, "offers": 0, "naks": 0, "releases": 0, "dups": 0, "silent_replies": 0}
    servers, findings = {}, []
    for t, frame in packets(args.pcap):
        got = dhcp(frame)
        if got is None:
            continue
        src, sport, b = got
        if len(b) < 240:
            continue
        mac = ":".join("%02x" % x for x in b[28:34])
        opts = options(b)
        kind = opts.get(53, b"\0")[0] if opts.get(53) else None
        if b[0] == 1:
            if kind == 7:
                count["releases"] += 1
                ciaddr = ".".join(str(x) for x in b[12:16])
                if mac in held.get(ciaddr, {}):
                    held[ciaddr][mac] = (t, None)
            continue
        if sport != 67 or b[0] != 2:
            continue
        count["replies"] += 1
        servers[src] = servers.get(src, 0) + 1
        what = names.get(kind, "BOOTP" if kind is None else str(kind))
        for name, ip, start, end in silent:
            if src == ip and start <= t < end:
                count["silent_replies"] += 1
                findings.append("silent %s %s to %s at %.3f" % (name, what, mac, t))
        if kind == 6:
            count["naks"] += 1
            continue
        if kind not in (2, 5):
            continue
        count["offers" if kind == 2 else "acks"] += 1
        address = ".".join(str(x) for x in b[16:20])
        holders = held.setdefault(address, {})
        for holder, (until, offered_by) in holders.items():
            if args.offers_per_server and offered_by is not None and offered_by != src:
                continue
            if holder != mac and t < until:
                count["dups"] += 1
                findings.append("dup %s held by %s until %.3f, then %s to %s at %.3f" % (address, holder, until, what, mac, t))
        if kind == 5:
            lease = struct.unpack("!I", opts[51])[0] if len(opts.get(51, b"")) == 4 else 0
            holders[mac] = (t + lease, None)
        else:
            # A running lease of this client keeps holding against every server; else this offer's server.
            until, offered_by = holders.get(mac, (0, src))
            if offered_by is not None or until <= t:
                offered_by = src
            holders[mac] = (max(until, t + args.hold), offered_by)
    print(" ".join("%s=%d" % kv for kv in count.items()))
    print("servers=" + ",".join("%s:%d" % kv for kv in sorted(servers.items())))
    for line in findings:
        print(line)


if __name__ == "__main__":
    main()
