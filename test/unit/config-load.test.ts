import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clientFileChanged, describeConfig, formatProblem, loadConfig } from '../../src/config/load';
import { resolveClientParams, findStaticBinding } from '../../src/config/lookup';
import type { Config, LoadResult, Problem } from '../../src/config/types';
import { ip, ipToString } from '../../src/util/ipv4';
import { configDir, repoRoot } from '../fixtures/config/helpers';

const LAB_SELF = { hostname: 'lab', addresses: [ip('10.77.1.1'), ip('10.77.2.1'), ip('10.77.9.1')] };

function loaded(result: LoadResult): Config {
  if (!result.ok) assert.fail(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

/** "basename:line:column severity message" for problems of a temp directory. */
function located(problems: readonly Problem[]): string[] {
  return problems.map((p) => `${path.basename(p.file)}:${p.line}:${p.column} ${p.severity} ${p.message}`);
}

test('etc/: the sample configuration loads with no problem and the lab networks are ours', () => {
  const dir = path.join(repoRoot(), 'etc');
  const result = loadConfig(dir, { self: LAB_SELF });
  const config = loaded(result);
  assert.deepEqual(result.ok && result.warnings.map(formatProblem), []);
  assert.deepEqual(
    config.networks.map((n) => [ipToString(n.address), n.prefixLength, n.owners.every((o) => o.ours)]),
    [
      ['10.77.1.0', 24, true],
      ['10.77.2.0', 24, true],
      ['10.77.3.0', 24, true],
    ],
  );
  for (const net of config.networks) {
    const base = ipToString(net.address).replace(/\.0$/, '');
    assert.deepEqual(
      net.ourRanges.map((r) => [ipToString(r.start), ipToString(r.end)]),
      [[`${base}.100`, `${base}.199`]],
    );
  }
  assert.equal(config.dhcpcap.file, path.join(dir, 'dhcpcap'));
  assert.deepEqual(
    config.namepools.map((p) => [p.domain, p.ours, p.prefix, p.names.length > 0]),
    [['lab.example', true, 'labpc', true]],
  );

  // What the lab's clients will get.
  const mac = Buffer.from('02770a000001', 'hex');
  const bootp = resolveClientParams(config.dhcpcap, { network: ip('10.77.1.0'), htype: 1, chaddr: mac });
  assert.equal(bootp.hostEntry?.label, 'demo-bootp');
  assert.equal(bootp.tags.get('ip'), ip('10.77.1.50'));
  assert.equal(bootp.tags.get('bf'), '/tftpboot/demo.cfg');
  assert.equal(bootp.tags.get('sa'), ip('10.77.1.1'));
  assert.deepEqual(bootp.tags.get('gw'), [ip('10.77.1.1')]);
  assert.equal(findStaticBinding(config.dhcpcap, { network: ip('10.77.1.0'), htype: 1, chaddr: mac })?.address, ip('10.77.1.50'));
  for (const n of [1, 2, 3]) {
    const tags = resolveClientParams(config.dhcpcap, {
      network: ip(`10.77.${n}.0`),
      htype: 1,
      chaddr: Buffer.from('02770a0000ff', 'hex'),
    }).tags;
    assert.equal(tags.get('lt'), 600);
    assert.equal(tags.get('t1'), 300);
    assert.equal(tags.get('t2'), 525);
    assert.equal(tags.get('sm'), ip('255.255.255.0'));
    assert.deepEqual(tags.get('gw'), [ip(`10.77.${n}.1`)]);
    assert.equal(tags.get('ba'), ip(`10.77.${n}.255`));
    assert.equal(tags.get('dn'), 'lab.example');
    assert.deepEqual(tags.get('ds'), [ip('10.77.1.1')]);
    assert.equal(tags.get('hn'), true);
  }
  const classTags = resolveClientParams(config.dhcpcap, {
    network: ip('10.77.2.0'),
    htype: 1,
    chaddr: Buffer.from('02770a0000ff', 'hex'),
    vendorClass: 'joind-demo',
  }).tags;
  assert.equal(classTags.get('lt'), 1200);

  // Every keyword of server.pcy is present in the sample (most commented out).
  const pcy = fs.readFileSync(path.join(dir, 'server.pcy'), 'utf8');
  for (const key of Object.keys(config.policy)) assert.match(pcy, new RegExp(`^#?${key}\\b`, 'm'), key);
});

test('load: one load reports every problem of every file, each with its place', () => {
  const dir = configDir({
    'server.pcy': 'default_ttl 3600\nfree_list_size abc\nno_such_thing\n',
    netmasks: '10.1.0.0 255.255.255.0\n10.2.0.0 255.0.255.0\n',
    nets: '10.1.0.0 dhcphost 10.1.0.50-10.1.0.40\n10.1.0.0 otherhost 10.1.0.60-10.1.0.70\nthirdhost 10.1.0.65\n',
    namepool: 'lab.example dhcphost labpc\n\tamber bad_name\n',
    dhcpcap: 'net1:nw=10.1.0.0:lt=abc:\nhost:ht=ether:ha=0800:tc=.nothing:\n',
  });
  const result = loadConfig(dir, { self: { hostname: 'dhcphost', addresses: [] } });
  assert.equal(result.ok, false);
  assert.deepEqual(located(result.ok ? [] : result.problems), [
    'server.pcy:2:16 error "abc" does not fit free_list_size: expected a whole number of address blocks from 1 to 1048576',
    'server.pcy:3:1 warning unknown keyword "no_such_thing" ignored',
    'netmasks:2:10 error mask 255.0.255.0 is not contiguous; expected leading one bits then zero bits',
    'nets:1:19 error range start 10.1.0.50 is above its end 10.1.0.40',
    'nets:3:11 error range 10.1.0.65 of thirdhost overlaps range 10.1.0.60-10.1.0.70 of otherhost at ' +
      path.join(dir, 'nets') +
      ':2:20; ranges of different servers must not overlap',
    'namepool:2:8 error "bad_name" is not a host name: expected one label of letters, digits and inner hyphens',
    'dhcpcap:1:21 error "abc" is not an integer (decimal, 0… octal or 0x… hex)',
    'dhcpcap:2:18 error hardware address has 2 bytes; ethernet (type 1) addresses have 6',
    'dhcpcap:2:23 error tc=.nothing: no entry is labelled ".nothing" (include chain host → .nothing)',
  ]);
  const text = formatProblem(result.ok ? assert.fail() : result.problems[0]!);
  assert.equal(
    text,
    `${path.join(dir, 'server.pcy')}:2:16: error: "abc" does not fit free_list_size: expected a whole number of address blocks from 1 to 1048576`,
  );
});

test('load: cross-file warnings (dhcpcap against nets) do not stop the load', () => {
  const dir = configDir({
    netmasks: '10.1.0.0 255.255.255.0\n',
    nets: '10.1.0.0 10.1.0.1 10.1.0.100-10.1.0.199\n',
    dhcpcap: [
      'net1:nw=10.1.0.0:sm=255.255.0.0:ba=10.1.0.127:',
      'ghost:nw=10.9.0.0:lt=5:',
      'far:ht=1:ha=020000000001:ip=192.168.1.5:',
      'inpool:ht=1:ha=020000000002:ip=10.1.0.150:',
      'twin:ht=1:ha=020000000003:ip=10.1.0.150:',
    ].join('\n'),
  });
  const result = loadConfig(dir, { self: { hostname: 'x', addresses: [ip('10.1.0.1')] } });
  assert.ok(result.ok);
  const nets = path.join(dir, 'nets');
  assert.deepEqual(located(result.warnings), [
    'dhcpcap:1:1 warning net1: sm=255.255.0.0 differs from the mask 255.255.255.0 of network 10.1.0.0 (netmasks/classful)',
    'dhcpcap:1:1 warning net1: ba=10.1.0.127 is not the broadcast address 10.1.0.255 of network 10.1.0.0/24',
    `dhcpcap:2:1 warning ghost: nw=10.9.0.0 is not a network of ${nets}; the entry applies to no client`,
    `dhcpcap:3:1 warning far: static ip=192.168.1.5 is on none of the networks of ${nets}; no client can get it`,
    'dhcpcap:4:1 warning inpool: static ip=10.1.0.150 lies in a dynamic range of 10.1.0.0/24; the pool will skip it but better keep it out of the ranges',
    'dhcpcap:5:1 warning twin: static ip=10.1.0.150 lies in a dynamic range of 10.1.0.0/24; the pool will skip it but better keep it out of the ranges',
    `dhcpcap:5:1 warning twin: static ip=10.1.0.150 is also given to inpool (${path.join(dir, 'dhcpcap')}:4)`,
  ]);
  assert.deepEqual(result.config.warnings, result.warnings);
});

test('load: a missing or unusable directory is an error naming it', () => {
  const missing = path.join(configDir({}), 'nope');
  const result = loadConfig(missing);
  assert.ok(!result.ok);
  assert.equal(result.problems.length, 1);
  assert.equal(result.problems[0]!.file, missing);
  assert.match(
    formatProblem(result.problems[0]!),
    new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: error: cannot open the configuration directory: ENOENT`),
  );
  const file = path.join(configDir({ plain: 'x' }), 'plain');
  const notDir = loadConfig(file);
  assert.ok(!notDir.ok && notDir.problems[0]!.message === 'the configuration directory is not a directory');
});

test('load: empty directory = defaults; bootptab is the fallback of dhcpcap; no nets is a warning', () => {
  const empty = loadConfig(configDir({}), { self: LAB_SELF });
  assert.ok(empty.ok);
  assert.equal(empty.config.dhcpcap.file, null);
  assert.equal(empty.config.dhcpcap.entries.length, 0);
  assert.equal(empty.config.policy.default_ttl, 86400);
  assert.deepEqual(
    empty.warnings.map((w) => [path.basename(w.file), w.line, w.message]),
    [['nets', 0, 'no nets file: this server administers no network and will answer no client']],
  );

  const dir = configDir({
    bootptab: 'b:dn=from-bootptab:\n',
    nets: '10.1.0.0 me 10.1.0.5\n',
    netmasks: '10.1.0.0 255.255.255.0',
  });
  const fallback = loaded(loadConfig(dir, { self: { hostname: 'me.example', addresses: [] } }));
  assert.equal(fallback.dhcpcap.file, path.join(dir, 'bootptab'));
  assert.equal(fallback.dhcpcap.entries[0]!.tags.get('dn'), 'from-bootptab');
  fs.writeFileSync(path.join(dir, 'dhcpcap'), 'd:dn=from-dhcpcap:\n');
  assert.equal(clientFileChanged(fallback), true, 'dhcpcap appeared');
  const preferred = loaded(loadConfig(dir, { self: { hostname: 'me.example', addresses: [] } }));
  assert.equal(preferred.dhcpcap.file, path.join(dir, 'dhcpcap'));
  assert.equal(clientFileChanged(preferred), false);
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(path.join(dir, 'dhcpcap'), later, later);
  assert.equal(clientFileChanged(preferred), true, 'mtime changed');
});

test('load: default self is canonical_name (else the host name) and every interface address', () => {
  const dir = configDir({
    'server.pcy': 'canonical_name joind-canonical.example\n',
    netmasks: '127.0.0.0 255.255.255.0\n10.1.0.0 255.255.255.0\n',
    nets: '127.0.0.0 127.0.0.1 127.0.0.10-127.0.0.20\n10.1.0.0 joind-canonical 10.1.0.10\n',
  });
  const config = loaded(loadConfig(dir));
  assert.equal(config.self.hostname, 'joind-canonical.example');
  assert.ok(config.self.addresses.includes(ip('127.0.0.1')), 'loopback is an interface address');
  assert.deepEqual(
    config.networks.map((n) => n.owners[0]!.ours),
    [true, true],
  );
});

test('load: the snapshot is deeply frozen and describeConfig gives plain JSON with sources', () => {
  const config = loaded(loadConfig(path.join(repoRoot(), 'etc'), { self: LAB_SELF }));
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.policy));
  assert.ok(Object.isFrozen(config.networks[0]!.ourRanges[0]));
  assert.throws(() => (config.networks as unknown as NetworkLike[]).push({}), TypeError);
  assert.throws(() => (config.dhcpcap.entries[0]!.tags as Map<string, unknown>).set('lt', 1), TypeError);
  assert.throws(() => {
    (config.policy as { default_ttl: number }).default_ttl = 5;
  }, TypeError);

  const described = describeConfig(config) as {
    policy: Record<string, { value: unknown; source: string }>;
    networks: Array<{ network: string; mask: string; owners: Array<{ owner: string; ours: boolean; ranges: string[] }> }>;
    dhcpcap: { file: string; entries: Array<{ label: string; scope: Record<string, string>; tags: Record<string, string> }> };
    clientParameterFile: string;
  };
  assert.deepEqual(JSON.parse(JSON.stringify(described)), described, 'plain JSON');
  assert.deepEqual(described.policy.default_ttl, { value: 86400, source: `${path.join(repoRoot(), 'etc', 'server.pcy')}:12` });
  assert.deepEqual(described.policy.auto_sync_dbs, { value: true, source: 'default' });
  assert.deepEqual(described.networks[0], {
    network: '10.77.1.0',
    mask: '255.255.255.0',
    prefixLength: 24,
    source: `${path.join(repoRoot(), 'etc', 'nets')}:14`,
    owners: [
      {
        owner: '10.77.1.1',
        ours: true,
        failover: null,
        source: `${path.join(repoRoot(), 'etc', 'nets')}:14`,
        ranges: ['10.77.1.100-10.77.1.199'],
      },
    ],
    ourRanges: ['10.77.1.100-10.77.1.199'],
  });
  const host = described.dhcpcap.entries.find((e) => e.label === 'demo-bootp')!;
  assert.deepEqual(host.scope, { hardware: 'ethernet 02:77:0a:00:00:01' });
  assert.equal(host.tags.ip, '10.77.1.50');
  assert.equal(host.tags.ha, '02:77:0a:00:00:01');
  assert.equal(described.clientParameterFile, path.join(repoRoot(), 'etc', 'dhcpcap'));
});

type NetworkLike = Record<string, unknown>;

test('load: range entries (ra=) split the ranges by their rules, and every mistake names its line', () => {
  const files = {
    netmasks: '10.1.0.0 255.255.255.0\n',
    nets: '10.1.0.0 dhcphost 10.1.0.10-10.1.0.99\n',
  };
  const good = loaded(
    loadConfig(
      configDir({
        ...files,
        dhcpcap: [
          'voip:ct="Polycom*":',
          'staff:nw=10.1.0.0:ra=10.1.0.20-10.1.0.29 10.1.0.40:kn:',
          'phones:nw=10.1.0.0:ra=10.1.0.50-10.1.0.59:am=voip:nb:',
          '',
        ].join('\n'),
      }),
      { self: { hostname: 'dhcphost', addresses: [] } },
    ),
  );
  const net = good.networks[0]!;
  assert.deepEqual(
    net.ourRanges.map((r) => `${ipToString(r.start)}-${ipToString(r.end)} ${r.rule?.label ?? 'open'}`),
    [
      '10.1.0.10-10.1.0.19 open',
      '10.1.0.20-10.1.0.29 staff',
      '10.1.0.30-10.1.0.39 open',
      '10.1.0.40-10.1.0.40 staff',
      '10.1.0.41-10.1.0.49 open',
      '10.1.0.50-10.1.0.59 phones',
      '10.1.0.60-10.1.0.99 open',
    ],
  );
  const phones = net.ourRanges[5]!.rule!;
  assert.deepEqual(
    [phones.knownOnly, phones.unknownOnly, phones.noDynamicBootp, phones.allowMembers],
    [false, false, true, ['voip']],
  );
  // A range entry sets no parameter of any client.
  const params = resolveClientParams(good.dhcpcap, { network: ip('10.1.0.0'), htype: 1, chaddr: Buffer.alloc(6) });
  assert.equal(params.tags.get('kn'), undefined);

  const bad = loadConfig(
    configDir({
      ...files,
      dhcpcap: [
        'voip:ct="Polycom*":',
        'a:nw=10.1.0.0:ra=10.1.0.20-10.1.0.29:kn:ku:',
        'b:nw=10.1.0.0:ra=10.1.0.25-10.1.0.30:am=nobody:',
        'c:nw=10.1.0.0:ra=10.1.1.5:kn:lt=60:',
        'd:ct=x:ra=10.1.0.70:kn:',
        'e:nw=10.1.0.0:nb:',
        'f:nw=10.1.0.0:ra=10.1.0.80:',
        '',
      ].join('\n'),
    }),
    { self: { hostname: 'dhcphost', addresses: [] } },
  );
  assert.deepEqual(
    located(bad.ok ? [] : bad.problems).filter((p) => p.startsWith('dhcpcap')),
    [
      'dhcpcap:2:1 error a: kn and ku together admit no client: known clients only, or unknown ones only',
      'dhcpcap:3:1 error b: am=nobody: nobody is not a class entry (an entry with ct, uc, ca, ci or ri)',
      "dhcpcap:4:1 error c: lt on a range entry: a range entry sets permits only (kn, ku, nb, am, dm); parameters per range are not supported, put them on the network's entry or a class",
      'dhcpcap:5:1 error d: a range entry (ra=) names its network with nw= and no client or class',
      'dhcpcap:6:1 error e: nb belongs on a range entry (ra=FIRST-LAST with nw=…)',
      'dhcpcap:7:1 warning f: a range entry with no permit (kn, ku, nb, am, dm) admits every client',
    ],
  );
});
