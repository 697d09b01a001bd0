#!/usr/bin/python3
"""dhcp-overlaps.py — addresses a capture shows handed to two clients at once.

  dhcp-overlaps.py PCAP [--hold 60] [--server-ids IP,IP]

Reads every DHCPOFFER and DHCPACK (with yiaddr) in PCAP (scapy's pcap reader; a capture of the client
LAN) and gives each the time its address is the client's (chaddr): an ACK from its time for its lease
time (option 51), an OFFER for --hold seconds (joind's provisional_ttl, 60 by default: the time a server
keeps an offered address for its client). Then, per address, two such intervals of different clients
that overlap are a duplicate: "ack-ack" (both leases granted), "offer-offer" (offered to two clients at
once) or "offer-ack" (offered to one while another's lease ran). Prints each duplicate on a line
("dup KIND IP TIME CHADDR SERVER TIME CHADDR SERVER"), then the summary line:

  offers= acks= addresses= clients= dups= ack_ack= offer_offer= offer_ack= by_server=IP:OFFERS/ACKS,…

Exit status 0 (also with duplicates: the caller judges), 2 when the capture cannot be read.
"""
import argparse
import sys


def main():
    ap = argparse.ArgumentParser(description='Addresses handed to two clients at once, from a capture.')
    ap.add_argument('pcap')
    ap.add_argument('--hold', type=float, default=60.0, help='seconds an OFFER holds its address')
    a = ap.parse_args()
    from scapy.all import BOOTP, DHCP, PcapReader, conf  # slow import: after argparse
    conf.verb = 0
    grants = []  # (start, end, kind, ip, chaddr, server)
    by_server = {}
    try:
        reader = PcapReader(a.pcap)
    except Exception as e:  # noqa: BLE001 — any unreadable capture
        print('dhcp-overlaps: %s: %s' % (a.pcap, e), file=sys.stderr)
        return 2
    for pkt in reader:
        if BOOTP not in pkt or DHCP not in pkt or pkt[BOOTP].op != 2:
            continue
        opts = dict(o for o in pkt[DHCP].options if isinstance(o, tuple) and len(o) >= 2)
        kind = {2: 'offer', 5: 'ack'}.get(opts.get('message-type'))
        ip = pkt[BOOTP].yiaddr
        if kind is None or ip == '0.0.0.0':
            continue
        t = float(pkt.time)
        chaddr = ':'.join('%02x' % x for x in bytes(pkt[BOOTP].chaddr)[:6])
        server = opts.get('server_id', '-')
        held = a.hold if kind == 'offer' else float(opts.get('lease_time', 0))
        grants.append((t, t + held, kind, ip, chaddr, server))
        o, k = by_server.get(server, (0, 0))
        by_server[server] = (o + (kind == 'offer'), k + (kind == 'ack'))
    reader.close()

    dups = {'ack-ack': 0, 'offer-offer': 0, 'offer-ack': 0}
    per_ip = {}
    for g in grants:
        per_ip.setdefault(g[3], []).append(g)
    for ip, gs in per_ip.items():
        gs.sort()
        for i, x in enumerate(gs):
            for y in gs[i + 1:]:
                if y[0] >= x[1]:
                    continue  # y starts after x ended (sorted by start: later ones may still overlap)
                if x[4] == y[4]:
                    continue  # the same client: a renewal, or the ACK of its own offer
                # An ACK ends what the same client was offered before; an offer of a lease that ran out
                # (lease 0) counts nothing. An ACK that ends a lease (a NAK is no ACK) is not seen here.
                kind = 'ack-ack' if x[2] == y[2] == 'ack' else 'offer-offer' if x[2] == y[2] == 'offer' else 'offer-ack'
                dups[kind] += 1
                print('dup %s %s %.3f %s %s %.3f %s %s' % (kind, ip, x[0], x[4], x[5], y[0], y[4], y[5]))
    print('offers=%d acks=%d addresses=%d clients=%d dups=%d ack_ack=%d offer_offer=%d offer_ack=%d by_server=%s' % (
        sum(1 for g in grants if g[2] == 'offer'), sum(1 for g in grants if g[2] == 'ack'), len(per_ip),
        len({g[4] for g in grants}), sum(dups.values()), dups['ack-ack'], dups['offer-offer'], dups['offer-ack'],
        ','.join('%s:%d/%d' % (s, o, k) for s, (o, k) in sorted(by_server.items())) or '-'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
