// The failover configuration (issue 13, point 1): the server.pcy keywords, nets ownership by the
// relationship name, the checks across files, `joind --check` and `joind export --format dhcpd-conf`.
// The protocol works (src/pair): `failover` no longer warns that it has no effect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describeConfig, formatProblem, loadConfig } from '../../src/config/load';
import { DEFAULT_POLICY, FAILOVER_SETTINGS, POLICY_KEYWORDS, parsePolicy } from '../../src/config/pcy';
import { NOT_IMPLEMENTED, RESTART_ONLY, settingsNeedingRestart } from '../../src/config/effect';
import { MaskTable, parseNetmasks } from '../../src/config/netmasks';
import { parseNets } from '../../src/config/nets';
import { SelfMatcher, parseHosts } from '../../src/config/identity';
import { formatDhcpdConf } from '../../src/admin/dhcpd-conf';
import type { Config, LoadResult, Policy } from '../../src/config/types';
import { ip, ipToString } from '../../src/util/ipv4';
import { brief, configDir, sinkFor } from '../fixtures/config/helpers';
import { dhcpdTest, findDhcpd } from '../helpers/dhcpd';

const ROOT = path.join(__dirname, '..', '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** The seed's primary (seeds/000_e96b11f6adea806f.txt), one keyword a line. */
const SEED_PRIMARY = [
  'failover dhcp_fail', // 1
  'failover_role primary', // 2
  'failover_address 192.168.168.8', // 3
  'failover_port 519', // 4
  'failover_peer_address 192.168.168.9', // 5
  'failover_peer_port 519', // 6
  'failover_max_response_delay 60', // 7
  'failover_max_unacked_updates 10', // 8
  'failover_mclt 3660', // 9
  'failover_split 128', // 10
  'failover_load_balance_max_secs 3', // 11
].join('\n');

/** Its secondary: roles and addresses mirrored, no mclt and no split. */
const SEED_SECONDARY = [
  'failover dhcp_fail',
  'failover_role secondary',
  'failover_address 192.168.168.9',
  'failover_port 519',
  'failover_peer_address 192.168.168.8',
  'failover_peer_port 519',
  'failover_max_response_delay 60',
  'failover_max_unacked_updates 10',
  'failover_load_balance_max_secs 3',
].join('\n');

// A failover keyword once warned that it had no effect; any such warning now shows as NOT-YET and fails.
const NOT_YET = / is accepted but has no effect yet: .*/;

function parse(text: string) {
  const { sink, problems } = sinkFor('server.pcy');
  const result = parsePolicy(text, problems);
  return { ...result, problems: brief(sink.items).map((p) => p.replace(NOT_YET, ' NOT-YET')) };
}

const PRIMARY_SELF = { hostname: 'muscat', addresses: [ip('192.168.168.8')] };
const SECONDARY_SELF = { hostname: 'gamay', addresses: [ip('192.168.168.9')] };
const NETMASKS = '192.168.168.0 255.255.255.0\n10.1.0.0 255.255.255.0\n';
const NETS = [
  '192.168.168.0 dhcp_fail 192.168.168.20-192.168.168.254', // 1: the pair's
  'muscat 192.168.168.10-192.168.168.15', // 2: the primary's alone
  '10.1.0.0 gamay 10.1.0.100-10.1.0.199', // 3: the secondary's alone
].join('\n');

function load(files: Record<string, string>, self = PRIMARY_SELF): LoadResult {
  return loadConfig(configDir({ netmasks: NETMASKS, nets: NETS, ...files }), { self, hostsFile: '/nonexistent/hosts' });
}

function loaded(files: Record<string, string>, self = PRIMARY_SELF): Config {
  const result = load(files, self);
  if (!result.ok) assert.fail(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

/** "basename:line:column severity message", the not-implemented warning shortened. */
function located(result: LoadResult): string[] {
  const problems = result.ok ? result.warnings : result.problems;
  return problems.map((p) =>
    `${path.basename(p.file)}:${p.line}:${p.column} ${p.severity} ${p.message}`.replace(NOT_YET, ' NOT-YET'),
  );
}

test('failover keywords: the defaults, which are dhcpd 4.4.3 confpars.c/failover.h defaults, with no failover configured', () => {
  const { policy, sources, problems } = parse('');
  assert.deepEqual(problems, []);
  assert.equal(policy.failover, null, 'no relationship: no failover');
  assert.equal(policy.failover_role, null);
  assert.equal(policy.failover_address, null);
  assert.equal(policy.failover_port, 647, 'DEFAULT_FAILOVER_PORT');
  assert.equal(policy.failover_peer_address, null);
  assert.equal(policy.failover_peer_port, 647);
  assert.equal(policy.failover_max_response_delay, 20, 'DEFAULT_MAX_RESPONSE_DELAY');
  assert.equal(policy.failover_max_unacked_updates, 100, 'DEFAULT_MAX_FLYING_UPDATES');
  assert.equal(policy.failover_mclt, null, 'no default: the primary must give it');
  assert.equal(policy.failover_split, null, 'no default: the primary must give it');
  assert.equal(policy.failover_load_balance_max_secs, 0, 'dhcpd leaves it 0: no load balancing');
  for (const key of ['failover', ...FAILOVER_SETTINGS] as Array<keyof Policy>) assert.equal(sources[key], 'default', key);
});

test('failover keywords: a secondary that writes only what it must keeps every other default', () => {
  const { policy, sources, problems } = parse(
    'failover pair-1\nfailover_role secondary\nfailover_address 10.0.0.2\nfailover_peer_address 10.0.0.1\n',
  );
  assert.deepEqual(problems, []);
  assert.equal(policy.failover, 'pair-1');
  assert.equal(policy.failover_role, 'secondary');
  assert.equal(policy.failover_address, '10.0.0.2');
  assert.equal(policy.failover_peer_address, '10.0.0.1');
  assert.equal(policy.failover_port, 647);
  assert.equal(policy.failover_peer_port, 647);
  assert.equal(policy.failover_max_response_delay, 20);
  assert.equal(policy.failover_max_unacked_updates, 100);
  assert.equal(policy.failover_mclt, null);
  assert.equal(policy.failover_split, null);
  assert.equal(policy.failover_load_balance_max_secs, 0);
  assert.equal(sources.failover_port, 'default');
  assert.equal(sources.failover_peer_address, 'server.pcy:4');
});

test('failover keywords: every one parsed with its value and source (the seed primary); none warns', () => {
  const { policy, sources, problems } = parse(SEED_PRIMARY);
  assert.deepEqual(problems, [], 'one warning covers the relationship');
  const expected: Partial<Policy> = {
    failover: 'dhcp_fail',
    failover_role: 'primary',
    failover_address: '192.168.168.8',
    failover_port: 519,
    failover_peer_address: '192.168.168.9',
    failover_peer_port: 519,
    failover_max_response_delay: 60,
    failover_max_unacked_updates: 10,
    failover_mclt: 3660,
    failover_split: 128,
    failover_load_balance_max_secs: 3,
  };
  let line = 0;
  for (const [key, value] of Object.entries(expected) as Array<[keyof Policy, unknown]>) {
    line++;
    assert.equal(policy[key], value, key);
    assert.equal(sources[key], `server.pcy:${line}`, key);
  }
  assert.deepEqual(parse(SEED_SECONDARY).problems, [], 'the seed secondary: no warning either');
});

test('failover keywords: values that do not fit are errors at their line:column, and the keyword keeps its default', () => {
  const { policy, problems } = parse(
    [
      'failover 1pair', // 1
      'failover dhcp.fail', // 2
      'failover_role tertiary', // 3
      'failover_address 10.0.0.256', // 4
      'failover_address 224.0.0.1', // 5
      'failover_peer_address  0.0.0.0', // 6
      'failover_peer_address 255.255.255.255', // 7
      'failover_port 0', // 8
      'failover_peer_port 65536', // 9
      'failover_split 257', // 10
      'failover_mclt 0', // 11
      'failover_max_response_delay 0', // 12
      'failover_max_unacked_updates 0', // 13
      'failover_load_balance_max_secs 65536', // 14
      'failover', // 15
      'failover a b', // 16
      `failover a${'b'.repeat(255)}`, // 17
    ].join('\n'),
  );
  const name =
    'a relationship name of letters, digits, "-" and "_" that starts with a letter (at most 255 characters), like dhcp_fail';
  const unicast = 'an IPv4 unicast address like 192.168.168.8';
  assert.deepEqual(problems, [
    `error 1:10 "1pair" does not fit failover: expected ${name}`,
    `error 2:10 "dhcp.fail" does not fit failover: expected ${name}`,
    'error 3:15 "tertiary" does not fit failover_role: expected one of primary, secondary',
    `error 4:18 "10.0.0.256" does not fit failover_address: expected ${unicast}`,
    `error 5:18 "224.0.0.1" does not fit failover_address: expected ${unicast}`,
    `error 6:24 "0.0.0.0" does not fit failover_peer_address: expected ${unicast}`,
    `error 7:23 "255.255.255.255" does not fit failover_peer_address: expected ${unicast}`,
    'error 8:15 "0" does not fit failover_port: expected a whole number of TCP port from 1 to 65535',
    'error 9:20 "65536" does not fit failover_peer_port: expected a whole number of TCP port from 1 to 65535',
    'error 10:16 "257" does not fit failover_split: expected a whole number of hash buckets (of 256) from 0 to 256',
    'error 11:15 "0" does not fit failover_mclt: expected a whole number of seconds from 1 to 4294967295',
    'error 12:29 "0" does not fit failover_max_response_delay: expected a whole number of seconds from 1 to 2147483',
    'error 13:30 "0" does not fit failover_max_unacked_updates: expected a whole number of updates from 1 to 4294967295',
    'error 14:32 "65536" does not fit failover_load_balance_max_secs: expected a whole number of seconds from 0 to 65535',
    `error 15:9 failover needs a value: expected ${name}`,
    `error 16:12 unexpected "b": failover takes one value; expected ${name}`,
    `error 17:10 "a${'b'.repeat(255)}" does not fit failover: expected ${name}`,
  ]);
  assert.equal(policy.failover, null, 'no value fitted: still no failover, so no "needs failover" errors either');
  assert.equal(policy.failover_port, 647);
});

test('failover keywords: the bounds that fit, inet_addr forms written as a dotted quad, and case', () => {
  const { policy, problems } = parse(
    [
      `failover A${'b'.repeat(254)}`,
      'failover_role PRIMARY',
      'failover_address 10.1', // inet_addr a.d: 10.0.0.1
      'failover_peer_address 0x0a.0.0.2',
      'failover_port 65535',
      'failover_peer_port 1',
      'failover_mclt 1',
      'failover_split 0',
      'failover_max_response_delay 2147483',
      'failover_max_unacked_updates 4294967295',
      'failover_load_balance_max_secs 65535',
    ].join('\n'),
  );
  assert.deepEqual(problems, []);
  assert.equal(policy.failover_role, 'primary');
  assert.equal(policy.failover_address, '10.0.0.1');
  assert.equal(policy.failover_peer_address, '10.0.0.2');
  assert.equal(policy.failover_split, 0, 'split 0: the secondary answers every client');
  assert.equal(
    parse(
      'failover dhcp_fail\nfailover_role primary\nfailover_address 10.0.0.1\nfailover_peer_address 10.0.0.2\nfailover_mclt 60\nfailover_split 256\n',
    ).policy.failover_split,
    256,
  );
});

test('failover keywords: any failover_ keyword without "failover NAME" is an error at that keyword', () => {
  const lines = FAILOVER_SETTINGS.map((key) => {
    const type = POLICY_KEYWORDS.get(key)!.type;
    const value = type.kind === 'enum' ? 'primary' : type.kind === 'address' ? '10.0.0.1' : type.kind === 'bool' ? 'on' : '60';
    return `${key} ${value}`;
  });
  const { problems } = parse(`# no relationship\n${lines.join('\n')}\n`);
  assert.deepEqual(
    problems,
    FAILOVER_SETTINGS.map(
      (key, i) =>
        `error ${i + 2}:1 ${key} without failover: no failover relationship is configured; write "failover NAME" (the relationship name) or remove ${key}`,
    ),
  );
  assert.equal(
    FAILOVER_SETTINGS.length,
    15,
    "every keyword of the statement but the name, dhcpd's auto-partner-down, and joind's ack wait, evidence and start alone",
  );
});

test('failover keywords: a relationship without role, address or peer address is an error at failover', () => {
  assert.deepEqual(parse('default_ttl 600\n  failover dhcp_fail\n').problems, [
    'error 2:3 failover dhcp_fail needs failover_role (primary or secondary)',
    "error 2:3 failover dhcp_fail needs failover_address (this server's address on the failover link)",
    'error 2:3 failover dhcp_fail needs failover_peer_address (the address of the peer server)',
  ]);
  assert.deepEqual(parse('failover x\nfailover_role secondary\nfailover_peer_address 10.0.0.1\n').problems, [
    "error 1:1 failover x needs failover_address (this server's address on the failover link)",
  ]);
});

test('failover keywords: the primary needs mclt and split (dhcpd refuses a primary without them)', () => {
  const base = 'failover dhcp_fail\nfailover_role primary\nfailover_address 10.0.0.1\nfailover_peer_address 10.0.0.2\n';
  assert.deepEqual(parse(base).problems, [
    'error 1:1 failover dhcp_fail needs failover_mclt (the primary gives the MCLT; dhcpd: "primary failover server must have mclt")',
    'error 1:1 failover dhcp_fail needs failover_split (the primary gives the load-balancing split; dhcpd: "primary failover server must have hba or split")',
  ]);
  assert.deepEqual(parse(`${base}failover_mclt 3660\n`).problems, [
    'error 1:1 failover dhcp_fail needs failover_split (the primary gives the load-balancing split; dhcpd: "primary failover server must have hba or split")',
  ]);
  assert.deepEqual(parse(`${base}failover_mclt 3660\nfailover_split 128\n`).problems, []);
});

test('failover keywords: mclt and split are primary-only, an error at their line on a secondary', () => {
  const { problems } = parse(`${SEED_SECONDARY}\nfailover_mclt 3660\n\tfailover_split 128\n`);
  assert.deepEqual(problems, [
    `error 10:1 failover_mclt is for the primary only: a secondary learns the MCLT from the primary's CONNECT (dhcpd.conf(5): mclt "may not be specified on the secondary")`,
    `error 11:2 failover_split is for the primary only: a secondary takes the split from the primary's CONNECT (dhcpd: "secondary may not define load balance settings")`,
  ]);
});

test('failover keywords: the peer address must not be our own failover address', () => {
  const { problems } = parse(
    'failover p\nfailover_role secondary\nfailover_address 10.0.0.1\nfailover_port 519\nfailover_peer_address 10.0.0.1\n',
  );
  assert.deepEqual(problems, [
    'error 5:1 failover_peer_address 10.0.0.1 is failover_address itself (line 3): the peer must be another server',
  ]);
});

test('failover: no NOT_IMPLEMENTED row (the protocol works); every failover keyword is restart-only', () => {
  const rows = NOT_IMPLEMENTED.filter((row) => 'keyword' in row && row.keyword.startsWith('failover'));
  assert.deepEqual(rows, []);
  for (const key of ['failover', ...FAILOVER_SETTINGS] as Array<keyof Policy>) assert.ok(RESTART_ONLY.has(key), key);
  const running = loaded({ 'server.pcy': SEED_PRIMARY });
  const edited = loaded({
    'server.pcy': SEED_PRIMARY.replace('failover_mclt 3660', 'failover_mclt 600').replace('port 519', 'port 520'),
  });
  assert.deepEqual(settingsNeedingRestart(running, edited), ['failover_port', 'failover_mclt']);
});

test("nets: a range owned by the relationship name is ours, marked with it; other names stay other servers'", () => {
  const { sink, problems } = sinkFor('netmasks');
  const masks = new MaskTable(parseNetmasks(NETMASKS + '10.2.0.0 255.255.255.0\n', problems));
  const self = new SelfMatcher(PRIMARY_SELF, parseHosts(''));
  const nets = (text: string, relationship: string | null) => {
    const { sink: s, problems: p } = sinkFor('nets');
    return { networks: parseNets(text, p, masks, self, relationship), problems: brief(s.items) };
  };
  const text = [
    '192.168.168.0 dhcp_fail 192.168.168.20-192.168.168.254', // 1: the pair's
    'muscat 192.168.168.10-192.168.168.15', // 2: ours alone
    "192.168.168.16 # one more address of muscat, just below the pair's range", // 3
    '10.1.0.0 gamay 10.1.0.100-10.1.0.199', // 4: another server's
    '10.2.0.0 DHCP_FAIL 10.2.0.10-10.2.0.20 10.2.0.21', // 5: the same relationship, other case
    'other-pair 10.2.0.30-10.2.0.40', // 6: a host name that is not us
  ].join('\n');
  const on = nets(text, 'dhcp_fail');
  assert.deepEqual(on.problems, []);
  assert.deepEqual(brief(sink.items), []);
  const [lan, ten, two] = on.networks;
  assert.deepEqual(
    lan!.owners.map((o) => [o.owner, o.ours, o.failover]),
    [
      ['dhcp_fail', true, 'dhcp_fail'],
      ['muscat', true, undefined],
    ],
  );
  assert.deepEqual(
    lan!.ourRanges.map((r) => [ipToString(r.start), ipToString(r.end), r.failover]),
    [
      ['192.168.168.10', '192.168.168.16', undefined],
      ['192.168.168.20', '192.168.168.254', 'dhcp_fail'],
    ],
  );
  assert.deepEqual(
    ten!.owners.map((o) => [o.owner, o.ours, o.failover]),
    [['gamay', false, undefined]],
  );
  assert.deepEqual(ten!.ourRanges, []);
  assert.deepEqual(
    two!.owners.map((o) => [o.owner, o.ours, o.failover]),
    [
      ['DHCP_FAIL', true, 'dhcp_fail'],
      ['other-pair', false, undefined],
    ],
  );
  assert.deepEqual(
    two!.ourRanges.map((r) => [ipToString(r.start), ipToString(r.end), r.failover]),
    [['10.2.0.10', '10.2.0.21', 'dhcp_fail']],
    'ranges of the pair merge with each other',
  );

  // Without failover the same file: the relationship's ranges are nobody's here, and said so.
  const off = nets(text, null);
  assert.deepEqual(off.problems, [
    'warning 1:15 owner dhcp_fail is neither a host name nor an address, so it names a failover relationship, and server.pcy configures no failover: this server does not serve the ranges of dhcp_fail in 192.168.168.0/24',
    'warning 5:10 owner DHCP_FAIL is neither a host name nor an address, so it names a failover relationship, and server.pcy configures no failover: this server does not serve the ranges of DHCP_FAIL in 10.2.0.0/24',
  ]);
  assert.deepEqual(
    off.networks[0]!.ourRanges.map((r) => [ipToString(r.start), ipToString(r.end), r.failover]),
    [['192.168.168.10', '192.168.168.16', undefined]],
  );
  assert.deepEqual(off.networks[2]!.ourRanges, []);
  // Another relationship than ours: another server's, with the same warning naming ours.
  const other = nets('10.2.0.0 pair_b 10.2.0.10-10.2.0.20\n', 'dhcp_fail');
  assert.deepEqual(other.problems, [
    "warning 1:10 owner pair_b is neither a host name nor an address, so it names a failover relationship, and this server's relationship is dhcp_fail: this server does not serve the ranges of pair_b in 10.2.0.0/24",
  ]);
  assert.deepEqual(other.networks[0]!.ourRanges, []);
});

test('nets: a range of the pair must not overlap one this server serves alone', () => {
  const masks = new MaskTable(parseNetmasks(NETMASKS, sinkFor().problems));
  const self = new SelfMatcher(PRIMARY_SELF, parseHosts(''));
  const { sink, problems } = sinkFor('nets');
  parseNets(
    '192.168.168.0 dhcp_fail 192.168.168.20-192.168.168.254\nmuscat 192.168.168.10-192.168.168.20\n',
    problems,
    masks,
    self,
    'dhcp_fail',
  );
  assert.deepEqual(brief(sink.items), [
    'error 2:8 range 192.168.168.10-192.168.168.20 of muscat overlaps range 192.168.168.20-192.168.168.254 of dhcp_fail at nets:1:25; a range of the failover relationship dhcp_fail must not overlap a range this server serves alone',
  ]);
});

test("load: both units of the pair read the same nets: the pair's range is ours on both, the own ranges on one each", () => {
  const primary = loaded({ 'server.pcy': SEED_PRIMARY }, PRIMARY_SELF);
  const secondary = loaded({ 'server.pcy': SEED_SECONDARY }, SECONDARY_SELF);
  const ours = (c: Config) =>
    c.networks.flatMap((n) => n.ourRanges.map((r) => `${ipToString(r.start)}-${ipToString(r.end)} ${r.failover ?? 'alone'}`));
  assert.deepEqual(ours(primary), ['192.168.168.10-192.168.168.15 alone', '192.168.168.20-192.168.168.254 dhcp_fail']);
  assert.deepEqual(ours(secondary), ['192.168.168.20-192.168.168.254 dhcp_fail', '10.1.0.100-10.1.0.199 alone']);
  assert.deepEqual(located(load({ 'server.pcy': SEED_PRIMARY })), []);
});

test('load: failover_address that is not an address of this host is a warning only', () => {
  const result = load({ 'server.pcy': SEED_PRIMARY }, { hostname: 'muscat', addresses: [ip('10.9.9.9')] });
  assert.ok(result.ok);
  assert.deepEqual(located(result), [
    'server.pcy:3:1 warning failover_address 192.168.168.8 is not an address of this host (10.9.9.9): the failover link can be set up only once it is',
  ]);
});

test('load: a relationship that owns no range of nets, or that is a name of this server, is an error at failover', () => {
  const none = load({ 'server.pcy': SEED_PRIMARY, nets: '192.168.168.0 muscat 192.168.168.10-192.168.168.15\n' });
  assert.ok(!none.ok);
  const netsFile = path.join(path.dirname(none.problems[0]!.file), 'nets');
  assert.deepEqual(located(none), [
    `server.pcy:1:1 error failover dhcp_fail: no range of ${netsFile} is owned by dhcp_fail, so the relationship would serve nothing (dhcpd refuses a failover peer without a pool); give the pair's ranges the owner dhcp_fail in nets`,
  ]);
  const mine = load({
    'server.pcy': SEED_PRIMARY.replace('dhcp_fail', 'muscat'),
    nets: '192.168.168.0 muscat 192.168.168.10-192.168.168.15\n',
  });
  assert.ok(!mine.ok);
  assert.equal(mine.problems.filter((p) => p.severity === 'error').length, 1);
  assert.match(
    located(mine).find((p) => p.includes(' error '))!,
    /^server\.pcy:1:1 error failover muscat: muscat is also a name of this server \(its host name, canonical_name or \/etc\/hosts\), so .*nets could not tell the pair's ranges from those this server serves alone; choose another relationship name$/,
  );
});

test("load: dynamic BOOTP on while a range is the pair's is an error at the keyword, naming the nets line", () => {
  for (const word of ['dynamic_bootp', 'bootp_addr_from_pool']) {
    const result = load({ 'server.pcy': `${SEED_PRIMARY}\n# BOOTP\n  ${word} on\n` });
    assert.ok(!result.ok, word);
    const netsFile = path.join(path.dirname(result.problems[0]!.file), 'nets');
    assert.deepEqual(located(result), [
      `server.pcy:13:3 error ${word} is not allowed with failover: ${netsFile}:1 gives 192.168.168.20-192.168.168.254 of 192.168.168.0/24 to the relationship dhcp_fail, and a BOOTP client neither renews nor releases, so its allocation cannot follow the pair's lease rules (dhcpd: deny dynamic bootp clients); switch ${word} off or give those ranges another owner`,
    ]);
  }
  assert.ok(load({ 'server.pcy': `${SEED_PRIMARY}\ndynamic_bootp off\n` }).ok, 'off is fine');
  assert.ok(load({ 'server.pcy': 'dynamic_bootp on\n', nets: NETS.replace('dhcp_fail', 'muscat') }).ok, 'no failover: fine');
});

/** The exported dhcpd.conf of the seed primary, exactly. */
const EXPORT_PRIMARY = `# A joind configuration (server.pcy, nets, netmasks, dhcpcap) in the form of dhcpd.conf(5), written by
# joind export. What dhcpd cannot say as joind does is a comment "# joind: …".
default-lease-time 86400;
authoritative;
ping-check true;
ping-timeout 1;
ddns-update-style none;

failover peer "dhcp_fail" {
  primary;
  address 192.168.168.8;
  port 519;
  peer address 192.168.168.9;
  peer port 519;
  max-response-delay 60;
  max-unacked-updates 10;
  load balance max seconds 3;
  mclt 3660;
  split 128;
}

subnet 192.168.168.0 netmask 255.255.255.0 {
  range 192.168.168.10 192.168.168.15;
  pool {
    failover peer "dhcp_fail";
    deny dynamic bootp clients;
    range 192.168.168.20 192.168.168.254;
  }
}
subnet 10.1.0.0 netmask 255.255.255.0 {
  # joind: 10.1.0.100-10.1.0.199 is gamay's (nets:3), not this host's
}
`;

test("export: the failover peer statement and the pair's pool, exactly, for a primary and for a secondary", () => {
  assert.equal(formatDhcpdConf(loaded({ 'server.pcy': SEED_PRIMARY })), EXPORT_PRIMARY);
  const secondary = formatDhcpdConf(loaded({ 'server.pcy': `${SEED_SECONDARY}\ndefault_ttl 300\n` }, SECONDARY_SELF));
  assert.equal(
    secondary,
    `# A joind configuration (server.pcy, nets, netmasks, dhcpcap) in the form of dhcpd.conf(5), written by
# joind export. What dhcpd cannot say as joind does is a comment "# joind: …".
default-lease-time 300;
authoritative;
ping-check true;
ping-timeout 1;
ddns-update-style none;

failover peer "dhcp_fail" {
  secondary;
  address 192.168.168.9;
  port 519;
  peer address 192.168.168.8;
  peer port 519;
  max-response-delay 60;
  max-unacked-updates 10;
  load balance max seconds 3;
}

subnet 192.168.168.0 netmask 255.255.255.0 {
  pool {
    failover peer "dhcp_fail";
    deny dynamic bootp clients;
    range 192.168.168.20 192.168.168.254;
  }
  # joind: 192.168.168.10-192.168.168.15 is muscat's (nets:2), not this host's
}
subnet 10.1.0.0 netmask 255.255.255.0 {
  range 10.1.0.100 10.1.0.199;
}
`,
  );
  // Without failover: plain ranges, no failover statement and no pool.
  const plain = formatDhcpdConf(loaded({ nets: NETS.replace('dhcp_fail', 'muscat') }));
  assert.doesNotMatch(plain, /failover|pool \{/);
  assert.match(
    plain,
    /^subnet 192\.168\.168\.0 netmask 255\.255\.255\.0 \{\n {2}range 192\.168\.168\.10 192\.168\.168\.15;\n {2}range 192\.168\.168\.20 192\.168\.168\.254;\n\}$/m,
  );
});

test('export: dhcpd -t accepts the exported dhcpd.conf of either unit (and refuses a broken one)', (t) => {
  const dhcpd = findDhcpd();
  if (!dhcpd) {
    t.skip('dhcpd not installed');
    return;
  }
  const primary = formatDhcpdConf(loaded({ 'server.pcy': SEED_PRIMARY }));
  let r = dhcpdTest(dhcpd, primary);
  assert.ok(r.ok, r.output);
  assert.doesNotMatch(r.output, /WARNING: load balancing will be disabled/, 'load balance max seconds 3 is written');
  r = dhcpdTest(dhcpd, formatDhcpdConf(loaded({ 'server.pcy': SEED_SECONDARY }, SECONDARY_SELF)));
  assert.ok(r.ok, r.output);
  // The defaults written out too: a minimal secondary (load balancing off, which dhcpd reports).
  r = dhcpdTest(
    dhcpd,
    formatDhcpdConf(
      loaded(
        {
          'server.pcy':
            'failover dhcp_fail\nfailover_role secondary\nfailover_address 192.168.168.9\nfailover_peer_address 192.168.168.8\n',
        },
        SECONDARY_SELF,
      ),
    ),
  );
  assert.ok(r.ok, r.output);
  assert.match(r.output, /load balancing will be disabled for failover peer, dhcp_fail/);
  // The check is a real one: dhcpd refuses a primary without split, and a split on a secondary.
  r = dhcpdTest(dhcpd, primary.replace('  split 128;\n', ''));
  assert.ok(!r.ok);
  assert.match(r.output, /primary failover server must have hba or split/);
  r = dhcpdTest(dhcpd, primary.replace('  primary;', '  secondary;'));
  assert.ok(!r.ok);
  assert.match(r.output, /secondary may not define load balance settings/);
});

test('joind --check: the failover settings with their sources, the owners with their relationship', () => {
  const dir = configDir({ 'server.pcy': SEED_PRIMARY, netmasks: NETMASKS, nets: NETS });
  const r = spawnSync(process.execPath, [MAIN, '--check', '--config-dir', dir], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  const described = JSON.parse(r.stdout) as {
    policy: Record<string, { value: unknown; source: string }>;
    restartOnly: string[];
    networks: Array<{ network: string; owners: Array<{ owner: string; ours: boolean; failover: string | null }> }>;
  };
  const pcy = path.join(dir, 'server.pcy');
  assert.deepEqual(described.policy.failover, { value: 'dhcp_fail', source: `${pcy}:1` });
  assert.deepEqual(described.policy.failover_role, { value: 'primary', source: `${pcy}:2` });
  assert.deepEqual(described.policy.failover_address, { value: '192.168.168.8', source: `${pcy}:3` });
  assert.deepEqual(described.policy.failover_mclt, { value: 3660, source: `${pcy}:9` });
  assert.deepEqual(described.policy.failover_split, { value: 128, source: `${pcy}:10` });
  assert.deepEqual(described.policy.failover_load_balance_max_secs, { value: 3, source: `${pcy}:11` });
  for (const key of ['failover', ...FAILOVER_SETTINGS]) assert.ok(described.restartOnly.includes(key), key);
  assert.deepEqual(
    described.networks[0]!.owners.map((o) => [o.owner, o.ours, o.failover]),
    [
      ['dhcp_fail', true, 'dhcp_fail'],
      ['muscat', false, null],
    ],
    "this host is not muscat here: only the pair's range is ours",
  );
  assert.doesNotMatch(r.stderr, /failover dhcp_fail is accepted but has no effect/, 'failover works: no warning');

  // And the defaults, through describeConfig, when only the required keywords are written.
  const minimal = describeConfig(
    loaded(
      {
        'server.pcy':
          'failover dhcp_fail\nfailover_role secondary\nfailover_address 192.168.168.9\nfailover_peer_address 192.168.168.8\n',
      },
      SECONDARY_SELF,
    ),
  ) as { policy: Record<string, { value: unknown; source: string }> };
  assert.deepEqual(minimal.policy.failover_port, { value: 647, source: 'default' });
  assert.deepEqual(minimal.policy.failover_peer_port, { value: 647, source: 'default' });
  assert.deepEqual(minimal.policy.failover_max_response_delay, { value: 20, source: 'default' });
  assert.deepEqual(minimal.policy.failover_max_unacked_updates, { value: 100, source: 'default' });
  assert.deepEqual(minimal.policy.failover_mclt, { value: null, source: 'default' });
  assert.deepEqual(minimal.policy.failover_split, { value: null, source: 'default' });
  assert.deepEqual(minimal.policy.failover_load_balance_max_secs, { value: 0, source: 'default' });
  assert.equal(DEFAULT_POLICY.failover, null);
});
