#!/usr/bin/env python3
"""report.py — the bench's table (Markdown) from a results.txt of "key value" lines, with joind's ratio to
each peer and each goal of issue 5 marked met or not. Usage: report.py results.txt"""
import sys

SERVERS = ['joind', 'joind-defaults', 'kea', 'kea-pg', 'dhcpd', 'dnsmasq']


def load(path):
    """key → value; a key recorded several times (BENCH_CPU_REPS) gets the median of its values."""
    seen = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip('\n').partition(' ')
            seen.setdefault(key, []).append(value)
    r = {}
    for key, values in seen.items():
        try:
            numbers = sorted(float(v) for v in values)
            r[key] = str(numbers[(len(numbers) - 1) // 2]) if len(numbers) > 1 else values[0]
        except ValueError:
            r[key] = values[-1]
    return r


def num(r, key):
    try:
        return float(r[key])
    except (KeyError, ValueError):
        return None


def fmt(v, digits=0):
    return '–' if v is None else f'{v:,.{digits}f}'


def main():
    r = load(sys.argv[1])
    print(f"# joind bench, {r.get('date', '?')} ({r.get('mode', '?')})\n")
    print(f"`{r.get('command', '')}` — load average before {r.get('load_before', '?')}, after {r.get('load_after', '?')}; "
          f"{r.get('cpu', '')}\n")
    for k in ('joind', 'node', 'kea', 'postgres', 'dhcpd', 'dnsmasq', 'perfdhcp'):
        if f'version.{k}' in r:
            print(f"- {k}: {r[f'version.{k}']}")
    ceiling = num(r, 'mirror.rate')
    print(f"\nperfdhcp's own ceiling (against bench/responder.c): **{fmt(ceiling)}/s**\n")
    present = [s for s in SERVERS if any(k.startswith(s + '.') for k in r)]
    cols = ['sustainable/s', '% of ceiling', 'OFFER p50 ms', 'OFFER p99 ms', 'ACK p50 ms', 'ACK p99 ms',
            'CPU % @1000/s', 'CPU µs/exch @3000/s (user+sys)', 'done @3000/s', 'peak RSS MB']
    print('| server | ' + ' | '.join(cols) + ' |')
    print('|---' * (len(cols) + 1) + '|')
    for s in present:
        rate = num(r, f'{s}.rate')
        cells = [fmt(rate), fmt(100 * rate / ceiling, 0) + ' %' if rate is not None and ceiling else '–',
                 fmt(num(r, f'{s}.lat_offer_p50_ms'), 2), fmt(num(r, f'{s}.lat_offer_p99_ms'), 2),
                 fmt(num(r, f'{s}.lat_ack_p50_ms'), 2), fmt(num(r, f'{s}.lat_ack_p99_ms'), 2),
                 fmt(num(r, f'{s}.cpu_pct_at_1000'), 1),
                 f"{fmt(num(r, f'{s}.cpu_us_per_exchange'), 0)} ({fmt(num(r, f'{s}.cpu_user_us_per_exchange'), 0)}+{fmt(num(r, f'{s}.cpu_sys_us_per_exchange'), 0)})",
                 fmt(100 * num(r, f'{s}.cpu_complete'), 1) + ' %' if num(r, f'{s}.cpu_complete') is not None else '–',
                 fmt(num(r, f'{s}.rss_peak_mb'), 1)]
        print(f'| {s} | ' + ' | '.join(cells) + ' |')
    if 'joind-defaults' in present:
        print('\njoind-defaults: joind with its default naming (by IP address: a PTR lookup per new address, '
              'against a resolver in the bed that names the even addresses and answers NXDOMAIN for the odd ones) '
              'and pinging (ping_timeout 500, addresses that never answer); its clients behind a routed relay.')
        if num(r, 'joind-defaults.names_acks') is not None:
            print(f"Names check (500/s, 2 s): {fmt(num(r, 'joind-defaults.names_acks'))} ACKs; even addresses "
                  f"{fmt(num(r, 'joind-defaults.names_even_ptr'))} of {fmt(num(r, 'joind-defaults.names_even'))} "
                  f"named by their PTR, odd addresses {fmt(num(r, 'joind-defaults.names_odd_none'))} of "
                  f"{fmt(num(r, 'joind-defaults.names_odd'))} without a name, "
                  f"{fmt(num(r, 'joind-defaults.names_wrong'))} wrong.")
    if 'kea-pg' in present:
        print('\nkea-pg: Kea with its PostgreSQL lease backend (synchronous commit on); its CPU is kea-dhcp4\'s '
              'plus its PostgreSQL processes\', its RSS kea-dhcp4\'s alone.')

    # The durable peers (issue 18): servers that, like joind, keep a lease through a power cut.
    durable = [p for p in ('kea-pg', 'dhcpd') if p in present and 'joind' in present]
    if durable:
        dcols = [('sustainable/s', 'rate'), ('CPU µs/exch @3000/s', 'cpu_us_per_exchange'),
                 ('ACK p50', 'lat_ack_p50_ms'), ('ACK p99', 'lat_ack_p99_ms')]
        print('\n| joind / durable peer | ' + ' | '.join(c for c, _ in dcols) + ' |')
        print('|---' * (len(dcols) + 1) + '|')
        for p in durable:
            cells = []
            for _, k in dcols:
                a, b = num(r, f'joind.{k}'), num(r, f'{p}.{k}')
                cells.append('–' if a is None or not b else f'{a / b:.2f}')
            print(f'| joind / {p} | ' + ' | '.join(cells) + ' |')

    goals = []
    def ratio_goal(label, a, b, want, higher_better=True):
        if a is None or b is None or b == 0 or a == 0:
            return
        ratio = a / b
        met = ratio >= want if higher_better else ratio <= want
        goals.append((label, f'{ratio:.2f}', ('≥ ' if higher_better else '≤ ') + str(want), met))
    jr = num(r, 'joind.rate')
    for peer, want in (('kea', 1.2), ('dhcpd', 8), ('dnsmasq', 20)):
        ratio_goal(f'sustainable rate, joind / {peer}', jr, num(r, f'{peer}.rate'), want)
    ratio_goal('sustainable rate, joind defaults / joind bench config', num(r, 'joind-defaults.rate'), jr, 0.8)
    ratio_goal('CPU per exchange @3000/s, joind / kea', num(r, 'joind.cpu_us_per_exchange'),
               num(r, 'kea.cpu_us_per_exchange'), 0.8, higher_better=False)
    for k in ('offer_p50', 'offer_p99', 'ack_p50', 'ack_p99'):
        ratio_goal(f'latency {k.replace("_", " ")} @1000/s, joind / kea', num(r, f'joind.lat_{k}_ms'),
                   num(r, f'kea.lat_{k}_ms'), 1.0, higher_better=False)
    def absolute(label, key, want, higher_better):
        v = num(r, key)
        if v is None:
            return
        met = v >= want if higher_better else v < want
        goals.append((label, fmt(v, 2 if v < 100 else 0), ('≥ ' if higher_better else '< ') + str(want), met))
    absolute('ping_timeout 500: sustainable/s', 'joind.ping.rate', 1000, True)
    absolute('start-up, /8 range (s)', 'scale.joind.range8.startup_s', 1, False)
    absolute('RSS, /8 range (MB)', 'scale.joind.range8.rss_mb', 100, False)
    absolute('start-up, 1,000,000 leases (s)', 'scale.joind.leases1000000.startup_s', 2, False)
    absolute('RSS, 1,000,000 leases (MB)', 'scale.joind.leases1000000.rss_mb', 150, False)
    l0, l1m = num(r, 'scale.joind.leases0.rate'), num(r, 'scale.joind.leases1000000.rate')
    if l0 and l1m is not None:
        goals.append(('rate with 1,000,000 leases / empty store', f'{l1m / l0:.2f}', '≥ 0.8', l1m / l0 >= 0.8))
    if goals:
        print('\n| goal | measured | wanted | met |\n|---|---|---|---|')
        for label, value, want, met in goals:
            print(f'| {label} | {value} | {want} | {"yes" if met else "**no**"} |')

    scale = sorted(k for k in r if k.startswith('scale.'))
    if scale:
        print('\n| scale run | start-up s | RSS MB | sustainable/s |\n|---|---|---|---|')
        names = []
        for k in scale:
            n = k.rsplit('.', 1)[0]
            if n not in names:
                names.append(n)
        for n in names:
            print(f"| {n[len('scale.'):]} | {fmt(num(r, n + '.startup_s'), 2)} | {fmt(num(r, n + '.rss_mb'), 1)} | "
                  f"{fmt(num(r, n + '.rate'))} |")
    if 'joind.ping.rate' in r:
        print(f"\nWith ping_timeout 500 (addresses that do not answer): joind sustains **{r['joind.ping.rate']}/s**.")


if __name__ == '__main__':
    main()
