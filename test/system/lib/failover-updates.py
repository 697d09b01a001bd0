#!/usr/bin/python3
"""failover-updates.py — binding updates on a failover link: how many flew unacknowledged at once, and
how long after a client's DHCPACK the peer acknowledged the update of that lease.

  failover-updates.py HB_PCAP [--port 519] [--primary 10.78.0.1] [--lan LAN_PCAP] [--max-unacked N]

HB_PCAP is a capture of the failover link (pair.sh's pair_capture_hb), read with failover-pcap.py beside
this file (its messages()). Each BNDUPD is paired with the BNDACK of the other direction that echoes its
xid. Prints one line (key=value):

  bndupd_p2s bndupd_s2p     BNDUPDs sent each way
  unacked_p2s unacked_s2p   the most BNDUPDs in flight at once each way (sent, their BNDACK not yet seen)
  unanswered                BNDUPDs never acknowledged in the capture
  rtt_ms_p50 rtt_ms_max     BNDUPD to its BNDACK

With --lan LAN_PCAP (a capture of the client LAN's DHCP, on the same clock, e.g. on the bridge of
PREFIX-sw), each DHCPACK that grants an address (yiaddr set) is paired with the BNDUPD(active) for that
address (option ASSIGNED-IP-ADDRESS) nearest to it in time (within 5 s), and the update latency is
the time from the ACK to that BNDUPD's BNDACK: negative when the server waited for the peer before it
answered the client. Adds:

  acks matched lat_ms_p50 lat_ms_p90 lat_ms_min lat_ms_max

With --max-unacked N the exit status is 1 when more than N BNDUPDs were ever in flight one way.
Only the Python standard library is used. Exit status 2 when a capture cannot be read.
"""
import argparse
import importlib.util
import os
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('failover_pcap', os.path.join(_HERE, 'failover-pcap.py'))
fp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fp)

OPT_ASSIGNED_IP = 2  # draft-ietf-dhc-failover-12 §12.3: assigned-IP-address


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def ms(x):
    return '-' if x is None else '%.1f' % (x * 1000.0)


def dhcp_acks(path):
    """(time, yiaddr) of each DHCPACK with yiaddr set in a capture of the LAN (UDP from port 67)."""
    out = []
    for t, ip in fp.frames(path):
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        if len(udp) < 8 + 240 or struct.unpack('!H', udp[0:2])[0] != 67:
            continue
        bootp = udp[8:]
        if bootp[0] != 2 or bootp[236:240] != b'\x63\x82\x53\x63':
            continue
        yiaddr = bootp[16:20]
        if yiaddr == b'\0\0\0\0':
            continue
        i, mtype = 240, None
        while i < len(bootp):
            code = bootp[i]
            if code == 255:
                break
            if code == 0:
                i += 1
                continue
            if i + 1 >= len(bootp):
                break
            n = bootp[i + 1]
            if code == 53 and n >= 1:
                mtype = bootp[i + 2]
            i += 2 + n
        if mtype == 5:
            out.append((t, '.'.join(map(str, yiaddr))))
    return out


def main():
    ap = argparse.ArgumentParser(description='Binding updates on a failover link: in flight, and latency.')
    ap.add_argument('hb')
    ap.add_argument('--port', type=int, default=519)
    ap.add_argument('--primary', default='10.78.0.1')
    ap.add_argument('--lan', help='a capture of the LAN: latency from each DHCPACK to the BNDACK of its update')
    ap.add_argument('--max-unacked', type=int, help='exit 1 when more BNDUPDs than this were ever in flight one way')
    a = ap.parse_args()
    try:
        msgs = fp.messages(a.hb, a.port, a.primary)
        acks = dhcp_acks(a.lan) if a.lan else []
    except (OSError, ValueError) as e:
        print('failover-updates: %s' % e, file=sys.stderr)
        return 2
    other = {'p2s': 's2p', 's2p': 'p2s'}
    pending = {'p2s': {}, 's2p': {}}   # xid -> the BNDUPD
    peak = {'p2s': 0, 's2p': 0}
    sent = {'p2s': 0, 's2p': 0}
    updates = []                        # BNDUPDs: dict with time, dir, address, active, acked
    for m in msgs:
        kind = m['name'].split('-', 1)[0]
        xid = struct.unpack('!I', m['data'][8:12])[0]
        if kind == 'bndupd':
            opts = fp.options(m['data'])
            addr = opts.get(OPT_ASSIGNED_IP)
            u = {'time': m['time'], 'dir': m['dir'], 'active': m['name'] == 'bndupd-active',
                 'address': '.'.join(map(str, addr)) if addr and len(addr) == 4 else None, 'acked': None}
            updates.append(u)
            sent[m['dir']] += 1
            pending[m['dir']][xid] = u
            peak[m['dir']] = max(peak[m['dir']], len(pending[m['dir']]))
        elif kind == 'bndack':
            u = pending[other[m['dir']]].pop(xid, None)
            if u is not None:
                u['acked'] = m['time']
    rtts = [u['acked'] - u['time'] for u in updates if u['acked'] is not None]
    unanswered = sum(1 for u in updates if u['acked'] is None)
    fields = [('bndupd_p2s', sent['p2s']), ('bndupd_s2p', sent['s2p']), ('unacked_p2s', peak['p2s']),
              ('unacked_s2p', peak['s2p']), ('unanswered', unanswered), ('rtt_ms_p50', ms(pct(rtts, 50))),
              ('rtt_ms_max', ms(max(rtts) if rtts else None))]
    if a.lan:
        lats = []
        for t, addr in acks:
            near = [u for u in updates if u['active'] and u['address'] == addr and abs(u['time'] - t) <= 5.0]
            if not near:
                continue
            u = min(near, key=lambda x: abs(x['time'] - t))
            if u['acked'] is not None:
                lats.append(u['acked'] - t)
        fields += [('acks', len(acks)), ('matched', len(lats)), ('lat_ms_p50', ms(pct(lats, 50))),
                   ('lat_ms_p90', ms(pct(lats, 90))), ('lat_ms_min', ms(min(lats) if lats else None)),
                   ('lat_ms_max', ms(max(lats) if lats else None))]
    print(' '.join('%s=%s' % kv for kv in fields))
    if a.max_unacked is not None and max(peak.values()) > a.max_unacked:
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
