#!/usr/bin/python3
"""discover-burst.py — send N DHCPDISCOVERs with distinct MACs and tell who answered each.

Run it inside the client namespace (ip netns exec NS …), as root. Client I (--first .. --first+N-1, default from 1) has the MAC
02:7d:00:00:HI:LO (the same set on every run, whatever the bed) and xid 0x7d00HILO; each DISCOVER
carries secs --secs, no client identifier and the broadcast flag (so the OFFERs are broadcast and
reach the sniffer whatever MAC it listens on). The frames go out of --iface at --rate per second
(scapy, one packet socket); OFFERs are collected until --wait seconds after the last send, and told
apart by their server identifier (option 54).

Each DISCOVER is also placed in its load-balancing hash bucket as ISC dhcpd computes it
(`loadb_p_hash` of chaddr[0..hlen) in server/failover.c, the RFC 3074 Pearson hash) and given the
server that should answer it: the primary owns buckets 0..SPLIT-1 (dhcpd's `split SPLIT`).

  discover-burst.py --iface cli --count 200 --primary 10.77.0.1 --secondary 10.77.0.2 [--split 128]
                    [--secs 0] [--rate 200] [--wait 3] [--first 1] [--max-p N] [--max-s N] [--out FILE]

dhcpd holds an offered address for its client (about 2 minutes): a server answers at most as many
DISCOVERs as it has free addresses, and one whose own addresses are all on offer stays silent while its
peer, load balancing, ignores that server's clients too. --max-p/--max-s (the servers' free addresses)
cut the burst short before the first client that would no longer fit, so the clients sent are always a
prefix of the same sequence.

With --predict KEY… it only prints the bucket and the server (p or s) of each key: the key is the
client identifier (option 61) when the client sends one (busybox udhcpc: 01 then the MAC), else chaddr.

Prints one summary line (key=value): count (DISCOVERs sent) p s both none predicted_p predicted_s
as_predicted strangers (OFFERs from other server ids), and with --out writes a line per DISCOVER:
"MAC BUCKET PREDICTED ANSWERED" (ANSWERED: p, s, both, none).
"""
import argparse
import sys
import threading
import time

# The mixing table of RFC 3074 section 6 (also loadb_mx_tbl in ISC dhcpd's server/failover.c).
MX = [
    251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232, 31, 32, 55, 60,
    152, 58, 17, 237, 174, 70, 160, 144, 220, 90, 57, 223, 59, 3, 18, 140, 111, 166, 203, 196,
    134, 243, 124, 95, 222, 179, 197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161,
    209, 23, 97, 16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67,
    207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5, 20, 113, 71, 35,
    128, 13, 182, 94, 25, 226, 227, 199, 75, 27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150,
    212, 142, 218, 115, 241, 73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148,
    154, 122, 12, 84, 82, 163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239,
    195, 42, 106, 198, 118, 112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164,
    102, 147, 45, 66, 231, 52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189, 93,
    92, 51, 53, 183, 19, 171, 72, 50, 33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54,
    202, 125, 188, 213, 96, 235, 136, 208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4,
    216, 131, 89, 21, 28, 133, 37, 153, 149, 80, 170, 68, 6, 169, 234, 151]
assert len(MX) == 256 and len(set(MX)) == 256


def bucket(key):
    """loadb_p_hash: start with the length, mix in the key's bytes from the last to the first."""
    h = len(key) & 0xff
    for b in reversed(key):
        h = MX[h ^ b]
    return h


def main():
    ap = argparse.ArgumentParser(description='A burst of DISCOVERs; who answered each.')
    ap.add_argument('--iface')
    ap.add_argument('--count', type=int, default=200)
    ap.add_argument('--first', type=int, default=1, help='index of the first client (its MAC and xid)')
    ap.add_argument('--primary', help="the primary's server identifier")
    ap.add_argument('--secondary', help="the secondary's server identifier")
    ap.add_argument('--split', type=int, default=128)
    ap.add_argument('--secs', type=int, default=0)
    ap.add_argument('--rate', type=float, default=200.0, help='DISCOVERs per second')
    ap.add_argument('--wait', type=float, default=3.0, help='seconds to wait for OFFERs after the last send')
    ap.add_argument('--max-p', type=int, default=65535,
                    help='stop before the first client that would make more than this many for the primary')
    ap.add_argument('--max-s', type=int, default=65535, help='the same for the secondary')
    ap.add_argument('--out', help='a line per DISCOVER: MAC BUCKET PREDICTED ANSWERED')
    ap.add_argument('--predict', nargs='+', metavar='KEY',
                    help='only print "BUCKET p|s" for each KEY (hex bytes, e.g. 01:02:77:00:00:0c:01 for a '
                         'client id, or a MAC), sending nothing')
    a = ap.parse_args()
    if a.predict:
        for key in a.predict:
            b = bucket(bytes.fromhex(key.replace(':', '')))
            print('%d %s' % (b, 'p' if b < a.split else 's'))
        return 0
    if not (a.iface and a.primary and a.secondary):
        ap.error('--iface, --primary and --secondary are needed to send')
    if a.count < 1 or a.first < 1 or a.first + a.count - 1 > 65535:
        ap.error('--first and --count: clients 1..65535')

    from scapy.all import AsyncSniffer, BOOTP, DHCP, IP, UDP, Ether, conf  # slow import: after argparse
    conf.verb = 0

    clients = {}
    frames = []
    room = {'p': a.max_p, 's': a.max_s}
    for i in range(a.first, a.first + a.count):
        mac = bytes([0x02, 0x7d, 0x00, 0x00, i >> 8, i & 0xff])
        xid = 0x7d000000 | i
        b = bucket(mac)
        predicted = 'p' if b < a.split else 's'
        room[predicted] -= 1
        if room[predicted] < 0:
            break  # the rest would not fit: an OFFER holds its address (dhcpd: about 2 minutes)
        clients[xid] = {'mac': ':'.join('%02x' % x for x in mac), 'bucket': b,
                        'predicted': predicted, 'servers': set()}
        frames.append(Ether(src=clients[xid]['mac'], dst='ff:ff:ff:ff:ff:ff') /
                      IP(src='0.0.0.0', dst='255.255.255.255') / UDP(sport=68, dport=67) /
                      BOOTP(op=1, htype=1, hlen=6, xid=xid, secs=a.secs, flags=0x8000, chaddr=mac + b'\0' * 10) /
                      DHCP(options=[('message-type', 'discover'), 'end']))
    who = {a.primary: 'p', a.secondary: 's'}
    strangers = []

    def on_reply(pkt):
        if BOOTP not in pkt or DHCP not in pkt or pkt[BOOTP].op != 2:
            return
        opts = dict(o for o in pkt[DHCP].options if isinstance(o, tuple) and len(o) == 2)
        c = clients.get(pkt[BOOTP].xid)
        if c is None or opts.get('message-type') != 2:  # 2 = OFFER
            return
        server = who.get(opts.get('server_id'))
        if server is None:
            strangers.append(opts.get('server_id'))
        else:
            c['servers'].add(server)

    started = threading.Event()
    sniffer = AsyncSniffer(iface=a.iface, filter='udp and src port 67 and dst port 68', prn=on_reply,
                           store=False, started_callback=started.set)
    sniffer.start()
    if not started.wait(10):
        print('discover-burst: the sniffer did not start', file=sys.stderr)
        return 1
    gap = 1.0 / a.rate if a.rate > 0 else 0
    out = conf.L2socket(iface=a.iface)
    t0 = time.monotonic()
    for n, frame in enumerate(frames):
        delay = t0 + n * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        out.send(frame)
    out.close()
    time.sleep(a.wait)
    sniffer.stop()

    counts = {'p': 0, 's': 0, 'both': 0, 'none': 0}
    predicted = {'p': 0, 's': 0}
    as_predicted = 0
    lines = []
    for xid in sorted(clients):
        c = clients[xid]
        answered = {frozenset(): 'none', frozenset('p'): 'p', frozenset('s'): 's'}.get(frozenset(c['servers']), 'both')
        counts[answered] += 1
        predicted[c['predicted']] += 1
        as_predicted += answered == c['predicted']
        lines.append('%s %d %s %s' % (c['mac'], c['bucket'], c['predicted'], answered))
    if a.out:
        with open(a.out, 'w') as f:
            f.write('\n'.join(lines) + '\n')
    print('count=%d p=%d s=%d both=%d none=%d predicted_p=%d predicted_s=%d as_predicted=%d strangers=%d' % (
        len(clients), counts['p'], counts['s'], counts['both'], counts['none'], predicted['p'], predicted['s'],
        as_predicted, len(strangers)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
