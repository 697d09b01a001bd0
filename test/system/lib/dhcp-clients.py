#!/usr/bin/python3
"""dhcp-clients.py — whole DHCP exchanges for a few made-up clients, and who answered each.

Run it inside the client namespace (ip netns exec NS …), as root. Client I (--first .. --first+N-1,
default from 1) has the MAC 02:7e:00:00:HI:LO (the same on every run, apart from discover-burst.py's
02:7d:…) and sends no client identifier, so its load-balancing hash key is that MAC. Frames leave
--iface through one packet socket (scapy); replies are collected in promiscuous mode.

  dhcp-clients.py --iface cli --dora [--first 1] [--count 1] [--secs 0] [--server IP] [--wait 2]
  dhcp-clients.py --iface cli --rebind MAC=IP [MAC=IP …] [--secs 0] [--wait 2]
  dhcp-clients.py --predict-first N --split 128 --want p|s [--count K]

--dora: per client a DISCOVER (broadcast flag), then a REQUEST (SELECTING: server identifier and
requested address) for the OFFER of --server, or the first OFFER heard; the replies (broadcast flag set
throughout) are told apart by their server identifier.
--rebind: per client a REBINDING REQUEST: broadcast, ciaddr = IP, neither server identifier nor
requested address, broadcast flag clear. A server answers such a request by unicast to ciaddr through
its kernel, so the script answers the ARP requests for those addresses with the client's MAC.
--predict-first: only prints the first K client indexes from N on whose MAC (as the hash key) falls in
the buckets of --want (RFC 3074 hash, as discover-burst.py), and sends nothing.

Prints one line per client, "mac=… xid=… offers=P,S|- offer_from=IP|- yiaddr=IP|- reply=ACK|NAK|none
reply_from=IP|- lease=SECONDS|-", then a summary line: clients= acks= naks= none=.
"""
import argparse
import importlib.util
import os
import sys
import threading
import time


def load_bucket():
    """discover-burst.py's bucket() (the RFC 3074 hash as dhcpd computes it), without running it."""
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location('discover_burst', os.path.join(here, 'discover-burst.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.bucket


def mac_of(i):
    return bytes([0x02, 0x7e, 0x00, 0x00, i >> 8, i & 0xff])


def mac_text(mac):
    return ':'.join('%02x' % x for x in mac)


def main():
    ap = argparse.ArgumentParser(description='Whole DHCP exchanges for made-up clients.')
    ap.add_argument('--iface')
    ap.add_argument('--dora', action='store_true')
    ap.add_argument('--rebind', nargs='+', metavar='MAC=IP')
    ap.add_argument('--first', type=int, default=1)
    ap.add_argument('--count', type=int, default=1)
    ap.add_argument('--secs', type=int, default=0)
    ap.add_argument('--server', help='the server identifier whose OFFER to take (default: the first heard)')
    ap.add_argument('--wait', type=float, default=2.0, help='seconds to wait for each step\'s replies')
    ap.add_argument('--predict-first', type=int)
    ap.add_argument('--split', type=int, default=128)
    ap.add_argument('--want', choices=['p', 's'])
    a = ap.parse_args()
    if a.predict_first is not None:
        bucket = load_bucket()
        found = []
        for i in range(a.predict_first, 65536):
            if len(found) >= a.count:
                break
            if ('p' if bucket(mac_of(i)) < a.split else 's') == a.want:
                found.append(str(i))
        print(' '.join(found))
        return 0
    if not a.iface or a.dora == bool(a.rebind):
        ap.error('--iface and one of --dora, --rebind')
    if a.count < 1 or a.first < 1 or a.first + a.count - 1 > 65535:
        ap.error('--first and --count: clients 1..65535')

    from scapy.all import ARP, AsyncSniffer, BOOTP, DHCP, IP, UDP, Ether, conf  # slow import: after argparse
    conf.verb = 0

    clients = []
    if a.dora:
        for i in range(a.first, a.first + a.count):
            clients.append({'mac': mac_of(i), 'xid': 0x7e000000 | i, 'ciaddr': None})
    else:
        for n, item in enumerate(a.rebind):
            mac, _, ip = item.partition('=')
            clients.append({'mac': bytes.fromhex(mac.replace(':', '')), 'xid': 0x7e100000 | n, 'ciaddr': ip})
    by_xid = {c['xid']: c for c in clients}
    arp_for = {c['ciaddr']: c['mac'] for c in clients if c['ciaddr']}
    lock = threading.Lock()
    out = conf.L2socket(iface=a.iface)

    def opts_of(pkt):
        return dict(o for o in pkt[DHCP].options if isinstance(o, tuple) and len(o) >= 2)

    def on_frame(pkt):
        if ARP in pkt and pkt[ARP].op == 1 and pkt[ARP].pdst in arp_for:
            mac = mac_text(arp_for[pkt[ARP].pdst])
            with lock:
                out.send(Ether(src=mac, dst=pkt[ARP].hwsrc) /
                         ARP(op=2, hwsrc=mac, psrc=pkt[ARP].pdst, hwdst=pkt[ARP].hwsrc, pdst=pkt[ARP].psrc))
            return
        if BOOTP not in pkt or DHCP not in pkt or pkt[BOOTP].op != 2:
            return
        c = by_xid.get(pkt[BOOTP].xid)
        if c is None:
            return
        o = opts_of(pkt)
        c.setdefault('replies', []).append((o.get('message-type'), o.get('server_id'), pkt[BOOTP].yiaddr,
                                            o.get('lease_time')))

    started = threading.Event()
    sniffer = AsyncSniffer(iface=a.iface, filter='(udp and src port 67 and dst port 68) or arp', prn=on_frame,
                           store=False, started_callback=started.set)
    sniffer.start()
    if not started.wait(10):
        print('dhcp-clients: the sniffer did not start', file=sys.stderr)
        return 1

    def send(c, msgtype, options, ciaddr='0.0.0.0', flags=0x8000):
        mac = mac_text(c['mac'])
        frame = (Ether(src=mac, dst='ff:ff:ff:ff:ff:ff') /
                 IP(src='0.0.0.0' if ciaddr == '0.0.0.0' else ciaddr, dst='255.255.255.255') /
                 UDP(sport=68, dport=67) /
                 BOOTP(op=1, htype=1, hlen=6, xid=c['xid'], secs=a.secs, flags=flags, ciaddr=ciaddr,
                       chaddr=c['mac'] + b'\0' * 10) /
                 DHCP(options=[('message-type', msgtype)] + options + ['end']))
        with lock:
            out.send(frame)

    def replies(c, types):
        return [r for r in c.get('replies', []) if r[0] in types]

    if a.dora:
        for c in clients:
            send(c, 'discover', [])
        time.sleep(a.wait)
        for c in clients:
            offers = replies(c, (2,))
            c['offers'] = sorted({r[1] for r in offers if r[1]})
            chosen = [r for r in offers if a.server is None or r[1] == a.server]
            if chosen:
                c['offer'] = chosen[0]
                c['replies'] = []
                send(c, 'request', [('server_id', chosen[0][1]), ('requested_addr', chosen[0][2])])
        time.sleep(a.wait)
    else:
        for c in clients:
            send(c, 'request', [], ciaddr=c['ciaddr'], flags=0)
        time.sleep(a.wait)
    sniffer.stop()
    out.close()

    totals = {'ACK': 0, 'NAK': 0, 'none': 0}
    for c in clients:
        final = replies(c, (5, 6))
        if final:
            kind, sid, yiaddr, lease = final[0]
            reply = 'ACK' if kind == 5 else 'NAK'
        else:
            reply, sid, yiaddr, lease = 'none', None, None, None
        totals[reply] += 1
        if yiaddr in (None, '0.0.0.0') and 'offer' in c:
            yiaddr = c['offer'][2]
        print('mac=%s xid=0x%08x offers=%s offer_from=%s yiaddr=%s reply=%s reply_from=%s lease=%s' % (
            mac_text(c['mac']), c['xid'], ','.join(c.get('offers', [])) or '-',
            c['offer'][1] if 'offer' in c else '-', yiaddr or '-', reply, sid or '-',
            '-' if lease is None else lease))
    print('clients=%d acks=%d naks=%d none=%d' % (len(clients), totals['ACK'], totals['NAK'], totals['none']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
