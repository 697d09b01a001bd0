#!/usr/bin/python3
"""ack-compare.py — named clients' DORAs, their ACKs kept whole, and two servers' ACKs compared.

  ack-compare.py dora --iface IF --out FILE [--wait 3] [--tries 3] CLIENT…
      CLIENT: NAME,MAC[,prl=C:C:…][,vci=TEXT]   (prl=: option 55 in DISCOVER and REQUEST; none: no 55;
      vci=: option 60). Run inside the client namespace, as root (scapy). Clients go one after another:
      DISCOVER (broadcast flag), the first OFFER's address asked for in a SELECTING REQUEST, the ACK kept.
      Each step is tried --tries times, waiting --wait seconds each. FILE gets one JSON object a line:
      name, mac, reply (ACK|NAK|none), yiaddr, siaddr, giaddr, sname, file, options {code: hex} (option
      overload and RFC 3396 repeats resolved) and order (the codes as sent). Exit 1 if a client got no ACK.
  ack-compare.py compare --range FIRST-LAST [--label L] [--fixed NAME=IP…] [--within NAME=FIRST-LAST…]
                         [--expect FIELD=WHY…] A B
      A and B: JSON files of the same clients served by two servers (A the reference). Per client: the
      address (a fixed client: its IP from both; a client --within names: both inside its range; any
      other: both inside the range), siaddr, sname, file,
      and every option either ACK has (values by bytes; 119 as its names, DNS compression undone; the
      order of options is not compared). FIELD: an option code or siaddr|sname|file|yiaddr whose
      difference is expected; any other difference fails. FIELD@RULE narrows that to an option A does
      not send and B sends with the value RULE says: file, sname (B's own field of that name), t1, t2
      (50 %, 87.5 % of B's lease time, RFC 2131 4.4.5), text:VALUE. Prints a line per client, a line per
      expected difference with its WHY, then "L: N clients, M fields compared, K differences (expected:
      FIELD in COUNT, …)" (L: SUMMARY); exit 1 on an unexpected difference or a missing ACK.
Standard library only for compare.
"""
import argparse
import ipaddress
import json
import sys
import time


def parse_bootp(data):
    """A BOOTP/DHCP message's fields and options (dict code → bytes, and the codes' order)."""
    if len(data) < 240:
        return None
    f = {
        'op': data[0], 'xid': int.from_bytes(data[4:8], 'big'),
        'ciaddr': str(ipaddress.IPv4Address(data[12:16])), 'yiaddr': str(ipaddress.IPv4Address(data[16:20])),
        'siaddr': str(ipaddress.IPv4Address(data[20:24])), 'giaddr': str(ipaddress.IPv4Address(data[24:28])),
        'chaddr': data[28:34].hex(':'),
    }
    sname, file = data[44:108], data[108:236]
    opts, order = {}, []

    def walk(buf):
        i = 0
        while i < len(buf):
            code = buf[i]
            if code == 0:
                i += 1
                continue
            if code == 255 or i + 1 >= len(buf):
                break
            n = buf[i + 1]
            val = buf[i + 2:i + 2 + n]
            if code in opts:
                opts[code] += val  # RFC 3396: a long option split in pieces
            else:
                opts[code] = val
                order.append(code)
            i += 2 + n

    if data[236:240] == b'\x63\x82\x53\x63':
        walk(data[240:])
    overload = opts.get(52, b'\0')[0] if 52 in opts else 0
    if overload & 1:
        walk(file)
    if overload & 2:
        walk(sname)
    f['file'] = '' if overload & 1 else file.split(b'\0', 1)[0].decode('latin1')
    f['sname'] = '' if overload & 2 else sname.split(b'\0', 1)[0].decode('latin1')
    f['options'] = {str(k): v.hex() for k, v in opts.items()}
    f['order'] = order
    return f


def parse_client(text):
    parts = text.split(',')
    c = {'name': parts[0], 'mac': parts[1].lower(), 'prl': None, 'vci': None}
    for p in parts[2:]:
        k, _, v = p.partition('=')
        if k == 'prl':
            c['prl'] = [int(x) for x in v.split(':') if x]
        elif k == 'vci':
            c['vci'] = v
        else:
            raise SystemExit('ack-compare: unknown client attribute %s' % k)
    return c


def dora(a):
    import queue
    from scapy.all import AsyncSniffer, BOOTP, DHCP, IP, UDP, Ether, Raw, conf  # noqa: F401  (slow import)
    conf.verb = 0
    clients = [parse_client(t) for t in a.clients]
    got = queue.Queue()

    def on_frame(pkt):
        if UDP in pkt:
            m = parse_bootp(bytes(pkt[UDP].payload))
            if m and m['op'] == 2:
                got.put(m)

    started = []
    sniffer = AsyncSniffer(iface=a.iface, filter='udp and src port 67 and dst port 68', prn=on_frame, store=False,
                           started_callback=lambda: started.append(1))
    sniffer.start()
    for _ in range(100):
        if started:
            break
        time.sleep(0.1)
    if not started:
        print('ack-compare: the sniffer did not start', file=sys.stderr)
        return 1
    out = conf.L2socket(iface=a.iface)

    def send(c, xid, msgtype, extra):
        mac = bytes.fromhex(c['mac'].replace(':', ''))
        options = [('message-type', msgtype)] + extra
        if c['vci'] is not None:
            options.append(('vendor_class_id', c['vci'].encode()))
        if c['prl'] is not None:
            options.append(('param_req_list', c['prl']))
        frame = (Ether(src=c['mac'], dst='ff:ff:ff:ff:ff:ff') / IP(src='0.0.0.0', dst='255.255.255.255') /
                 UDP(sport=68, dport=67) /
                 BOOTP(op=1, htype=1, hlen=6, xid=xid, flags=0x8000, chaddr=mac + b'\0' * 10) /
                 DHCP(options=options + ['end']))
        out.send(frame)

    def await_reply(xid, types):
        deadline = time.time() + a.wait
        while time.time() < deadline:
            try:
                m = got.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            t = bytes.fromhex(m['options'].get('53', ''))
            if m['xid'] == xid and t and t[0] in types:
                return m
        return None

    failed = 0
    with open(a.out, 'w') as fh:
        for n, c in enumerate(clients):
            xid = 0x4a000000 | (int(time.time()) & 0xfff) << 8 | n
            offer = ack = None
            for _ in range(a.tries):
                send(c, xid, 'discover', [])
                offer = await_reply(xid, (2,))
                if offer:
                    break
            if offer:
                sid = bytes.fromhex(offer['options'].get('54', ''))
                extra = [('requested_addr', offer['yiaddr'])]
                if len(sid) == 4:
                    extra.insert(0, ('server_id', str(ipaddress.IPv4Address(sid))))
                for _ in range(a.tries):
                    send(c, xid, 'request', extra)
                    ack = await_reply(xid, (5, 6))
                    if ack:
                        break
            rec = {'name': c['name'], 'mac': c['mac'], 'reply': 'none'}
            if ack:
                rec.update(ack)
                rec['reply'] = 'ACK' if bytes.fromhex(ack['options']['53'])[0] == 5 else 'NAK'
            if rec['reply'] != 'ACK':
                failed += 1
            print('%s %s %s %s' % (c['name'], c['mac'], rec['reply'], rec.get('yiaddr', '-')))
            fh.write(json.dumps(rec, sort_keys=True) + '\n')
    sniffer.stop()
    out.close()
    return 1 if failed else 0


def domain_list(b):
    """RFC 3397 option 119 as a list of names (compression pointers followed)."""
    names, i = [], 0
    while i < len(b):
        labels, j, hops, end = [], i, 0, None
        while j < len(b):
            n = b[j]
            if n == 0:
                j += 1
                break
            if n & 0xc0 == 0xc0:
                if end is None:
                    end = j + 2
                j = ((n & 0x3f) << 8) | b[j + 1]
                hops += 1
                if hops > 64:
                    return ['?' + b.hex()]
                continue
            labels.append(b[j + 1:j + 1 + n].decode('latin1'))
            j += 1 + n
        names.append('.'.join(labels))
        i = end if end is not None else j
    return names


def show(code, hexval):
    """An option value for a person: addresses, numbers, texts, names."""
    b = bytes.fromhex(hexval)
    if code in (1, 3, 6, 28, 42, 44, 54) and len(b) % 4 == 0 and b:
        return ','.join(str(ipaddress.IPv4Address(b[i:i + 4])) for i in range(0, len(b), 4))
    if code in (51, 58, 59) and len(b) == 4:
        return str(int.from_bytes(b, 'big'))
    if code == 53 and len(b) == 1:
        return str(b[0])
    if code == 119:
        return ','.join(domain_list(b))
    if code in (12, 15, 60, 66, 67, 252) and all(32 <= x < 127 for x in b):
        return '"%s"' % b.decode()
    return b.hex() or '(empty)'


def norm(code, hexval):
    if hexval is None:
        return None
    if code == 119:
        return ','.join(domain_list(bytes.fromhex(hexval)))
    return hexval


def compare(a):
    def load(path):
        with open(path) as fh:
            return {r['name']: r for r in (json.loads(line) for line in fh if line.strip())}

    ref, new = load(a.a), load(a.b)
    first, last = (ipaddress.IPv4Address(x) for x in a.range.split('-'))
    fixed = dict(x.split('=', 1) for x in a.fixed)
    within = {}
    for x in a.within:
        name, span = x.split('=', 1)
        within[name] = tuple(ipaddress.IPv4Address(y) for y in span.split('-'))
    expect, rules = {}, {}
    for x in a.expect:
        key, why = x.split('=', 1)
        key, _, rule = key.partition('@')
        expect[key] = why
        if rule:
            rules[key] = rule

    def allowed(key, rec_a, rec_b):
        """Whether B's value of option KEY, absent from A, is what the rule says (no rule: any)."""
        rule = rules.get(key)
        if rule is None:
            return True
        if key in rec_a['options'] or key not in rec_b['options']:
            return False
        got = bytes.fromhex(rec_b['options'][key])
        lease = int(rec_b['options'].get('51', '00'), 16)
        if rule in ('file', 'sname'):
            want = rec_b[rule].encode('latin1')
        elif rule in ('t1', 't2'):
            want = (lease // 2 if rule == 't1' else lease * 7 // 8).to_bytes(4, 'big')
        elif rule.startswith('text:'):
            want = rule[5:].encode('latin1')
        else:
            raise SystemExit('ack-compare: unknown rule %s' % rule)
        return got == want
    compared = differences = unexpected = 0
    seen_expected = {}
    if set(ref) != set(new):
        print('clients differ: %s / %s' % (sorted(ref), sorted(new)))
        unexpected += 1
    for name in ref:
        r, n = ref[name], new.get(name)
        if n is None:
            continue
        if r['reply'] != 'ACK' or n['reply'] != 'ACK':
            print('%s: no ACK from both: %s / %s' % (name, r['reply'], n['reply']))
            unexpected += 1
            continue
        same, diffs = [], []

        def field(key, ok, left, right):
            nonlocal compared, differences, unexpected
            compared += 1
            if ok:
                same.append(key)
                return
            differences += 1
            if key in expect and allowed(key, r, n):
                seen_expected[key] = seen_expected.get(key, 0) + 1
                diffs.append('%s (%s / %s: expected)' % (key, left, right))
            else:
                unexpected += 1
                diffs.append('%s (%s / %s: UNEXPECTED)' % (key, left, right))

        ya, yb = r['yiaddr'], n['yiaddr']
        if name in fixed:
            field('yiaddr', ya == yb == fixed[name], ya, yb)
        else:
            low, high = within.get(name, (first, last))
            inside = all(low <= ipaddress.IPv4Address(y) <= high for y in (ya, yb))
            field('yiaddr', inside, ya, yb)
        for key in ('siaddr', 'sname', 'file'):
            field(key, r[key] == n[key], r[key] or '-', n[key] or '-')
        codes = sorted({int(c) for c in r['options']} | {int(c) for c in n['options']})
        for code in codes:
            va, vb = r['options'].get(str(code)), n['options'].get(str(code))
            field(str(code), norm(code, va) == norm(code, vb),
                  '-' if va is None else show(code, va), '-' if vb is None else show(code, vb))
        print('%s: yiaddr %s/%s; same: %s%s' % (
            name, ya, yb, ' '.join(same) or '-', '; differ: ' + '; '.join(diffs) if diffs else ''))
    for key in sorted(seen_expected, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else k)):
        print('expected: %s differs in %d ACK(s): %s' % (key, seen_expected[key], expect[key]))
    print('%s: %d clients, %d fields compared, %d differences (expected: %s)' % (
        a.label, len(ref), compared, differences,
        ', '.join('%s in %d' % (k, seen_expected[k]) for k in
                  sorted(seen_expected, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else k))) or 'none'))
    return 1 if unexpected else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    d = sub.add_parser('dora')
    d.add_argument('--iface', required=True)
    d.add_argument('--out', required=True)
    d.add_argument('--wait', type=float, default=3.0)
    d.add_argument('--tries', type=int, default=3)
    d.add_argument('clients', nargs='+')
    c = sub.add_parser('compare')
    c.add_argument('--range', required=True)
    c.add_argument('--label', default='SUMMARY')
    c.add_argument('--fixed', action='append', default=[])
    c.add_argument('--within', action='append', default=[])
    c.add_argument('--expect', action='append', default=[])
    c.add_argument('a')
    c.add_argument('b')
    a = ap.parse_args()
    return dora(a) if a.cmd == 'dora' else compare(a)


if __name__ == '__main__':
    sys.exit(main())
