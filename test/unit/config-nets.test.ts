import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MaskTable, parseNetmasks } from '../../src/config/netmasks';
import { parseNets } from '../../src/config/nets';
import { parseNamepool } from '../../src/config/namepool';
import { SelfMatcher, parseHosts, readHosts, sameHostName } from '../../src/config/identity';
import type { NetworkConfig } from '../../src/config/types';
import { ip, ipToString } from '../../src/util/ipv4';
import { brief, sinkFor, tempFile } from '../fixtures/config/helpers';

const SELF = new SelfMatcher(
  { hostname: 'dhcphost.lab.example', addresses: [ip('10.1.0.2'), ip('192.168.5.1')] },
  parseHosts('127.0.0.1 localhost\n192.168.5.1 dhcp-alias  other-alias # comment\n10.9.9.9 stranger\n'),
);

function masks(text: string): MaskTable {
  const { sink, problems } = sinkFor('netmasks');
  const table = new MaskTable(parseNetmasks(text, problems));
  assert.deepEqual(brief(sink.items), []);
  return table;
}

function nets(text: string, netmasks = '') {
  const { sink, problems } = sinkFor('nets');
  const networks = parseNets(text, problems, masks(netmasks), SELF);
  return { networks, problems: sink.items };
}

function ranges(net: NetworkConfig | undefined, owner: string): string[] {
  const o = net?.owners.find((x) => x.owner === owner);
  return (o?.ranges ?? []).map((r) => `${ipToString(r.start)}-${ipToString(r.end)}`);
}

test('identity: host names match short/FQDN both ways, addresses, and /etc/hosts names', () => {
  assert.ok(sameHostName('dhcphost', 'DHCPHOST.lab.example'));
  assert.ok(sameHostName('dhcphost.lab.example.', 'dhcphost'));
  assert.ok(!sameHostName('dhcphost.lab.example', 'dhcphost.other.example'));
  assert.ok(!sameHostName('dhcphost', 'otherhost'));
  assert.ok(SELF.isSelf('dhcphost'));
  assert.ok(SELF.isSelf('DhcpHost.Lab.Example'));
  assert.ok(SELF.isSelf('10.1.0.2'));
  assert.ok(SELF.isSelf('10.1.2'), 'inet_addr short form of 10.1.0.2');
  assert.ok(!SELF.isSelf('10.1.0.3'));
  assert.ok(SELF.isSelf('dhcp-alias'), '/etc/hosts maps it to 192.168.5.1, one of ours');
  assert.ok(SELF.isSelf('other-alias'));
  assert.ok(!SELF.isSelf('stranger'));
  assert.ok(!SELF.isSelf('otherhost'));
  const hosts = readHosts(tempFile('hosts', '10.1.0.2 file-name\n::1 ip6-name\n'));
  assert.deepEqual([...hosts.keys()], ['file-name']);
  assert.equal(readHosts('/nonexistent/hosts').size, 0);
});

test('netmasks: longest covering entry wins, sub-subnets, classful fallback', () => {
  const table = masks(
    '# comment\n172.20.0.0 255.255.255.0\n172.20.8.0   255.255.255.240 # sub-subnets of 172.20.8.0\n10.77.1.0 255.255.255.0\n0x0a.0x4e.0.0 0xffff0000\n',
  );
  const m = (a: string) => ipToString(table.maskFor(ip(a)).mask);
  assert.equal(m('172.20.5.0'), '255.255.255.0');
  assert.equal(m('172.20.8.16'), '255.255.255.240');
  assert.equal(m('10.77.1.0'), '255.255.255.0');
  assert.equal(m('10.77.2.0'), '255.0.0.0', 'no entry covers it: classful A');
  assert.equal(m('10.78.3.0'), '255.255.0.0', 'hex/inet_addr forms accepted');
  assert.equal(m('192.168.1.0'), '255.255.255.0', 'classful C');
  assert.equal(table.maskFor(ip('172.20.5.0')).entry?.source, 'netmasks:2');
  assert.equal(table.maskFor(ip('192.168.1.0')).entry, undefined);
});

test('netmasks: errors with line and column', () => {
  const { sink, problems } = sinkFor('netmasks');
  parseNetmasks(
    [
      '10.1.0.0',
      '10.1.0.0 255.0.255.0',
      '10.1.1.5 255.255.255.0',
      '10.2.0.0 255.255.0.0 extra',
      '10.3.0.0 255.255.0.0',
      '10.3.0.0 255.255.255.0',
      '10.x.0.0 255.0.0.0',
      '10.4.0.0 255.255.0.0',
      '10.4.0.0 255.255.0.0',
    ].join('\n'),
    problems,
  );
  assert.deepEqual(brief(sink.items), [
    'error 1:9 expected a mask after the network: "network mask", e.g. 172.20.0.0 255.255.255.0',
    'error 2:10 mask 255.0.255.0 is not contiguous; expected leading one bits then zero bits',
    'error 3:1 network 10.1.1.5 has host bits set under mask 255.255.255.0; expected 10.1.1.0',
    'error 4:22 unexpected "extra": a netmasks line is "network mask"',
    'error 6:10 network 10.3.0.0 was given mask 255.255.0.0 at netmasks:5; a network has one mask',
    'error 7:1 "10.x.0.0" is not an address: field "x" is not a decimal, octal (0…) or hex (0x…) number; expected a network number',
    'warning 9:1 network 10.4.0.0 repeats line 8',
  ]);
});

test('nets: full lines, continuation lines with one and two fields, several ranges and owners', () => {
  const text = [
    '# network  owner      range(s)',
    '10.1.0.0   dhcphost   10.1.0.50-10.1.0.99   10.1.0.120-10.1.0.140',
    '10.1.0.200', // 1 field: another range of 10.1.0.0 / dhcphost
    'otherhost  10.1.0.150-10.1.0.199', // 2 fields, host name: another owner
    '  10.1.0.210-10.1.0.220 10.1.0.230', // ranges of otherhost (a range first)
    '10.2.0.0   10.1.0.5   10.2.0.10-10.2.0.60',
    '192.168.7.1 10.2.0.70-10.2.0.80', // 2 fields, address outside the network: owner
    '10.3.0.0 10.1.2 10.3.0.1-10.3.0.9', // owner in inet_addr short form (10.1.0.2 = us)
    '',
  ].join('\n');
  const { networks, problems } = nets(text, '10.1.0.0 255.255.255.0\n10.2.0.0 255.255.255.0\n10.3.0.0 255.255.255.0\n');
  assert.deepEqual(brief(problems), []);
  assert.equal(networks.length, 3);
  const [n1, n2, n3] = networks;
  assert.equal(ipToString(n1!.address), '10.1.0.0');
  assert.equal(n1!.prefixLength, 24);
  assert.equal(n1!.source, 'nets:2');
  assert.deepEqual(ranges(n1, 'dhcphost'), ['10.1.0.50-10.1.0.99', '10.1.0.120-10.1.0.140', '10.1.0.200-10.1.0.200']);
  assert.deepEqual(ranges(n1, 'otherhost'), ['10.1.0.150-10.1.0.199', '10.1.0.210-10.1.0.220', '10.1.0.230-10.1.0.230']);
  assert.equal(n1!.owners.find((o) => o.owner === 'dhcphost')!.ours, true);
  assert.equal(n1!.owners.find((o) => o.owner === 'otherhost')!.ours, false);
  assert.equal(n1!.owners.find((o) => o.owner === 'otherhost')!.source, 'nets:4');
  assert.deepEqual(
    n1!.ourRanges.map((r) => [ipToString(r.start), ipToString(r.end)]),
    [
      ['10.1.0.50', '10.1.0.99'],
      ['10.1.0.120', '10.1.0.140'],
      ['10.1.0.200', '10.1.0.200'],
    ],
  );
  assert.deepEqual(
    n2!.owners.map((o) => [o.owner, o.ours]),
    [
      ['10.1.0.5', false],
      ['192.168.7.1', false],
    ],
  );
  assert.deepEqual(ranges(n2, '192.168.7.1'), ['10.2.0.70-10.2.0.80']);
  assert.deepEqual(n2!.ourRanges, [], 'neither owner of 10.2.0.0 is us');
  assert.equal(n3!.owners[0]!.ours, true);
  assert.deepEqual(
    n3!.ourRanges.map((r) => ipToString(r.end)),
    ['10.3.0.9'],
  );
});

test('nets: an owner written as an address outside the network still needs ranges inside it', () => {
  const { problems } = nets(
    '10.2.0.0 10.1.0.5 10.2.0.10-10.2.0.60\n192.168.7.1 192.168.7.10-192.168.7.20\n',
    '10.2.0.0 255.255.255.0\n',
  );
  assert.deepEqual(brief(problems), [
    'error 2:13 192.168.7.10 lies outside network 10.2.0.0/24 (mask 255.255.255.0, from netmasks:1)',
  ]);
});

test('nets: a single address inside the network at the start of a line is a range, with a warning', () => {
  const { networks, problems } = nets(
    '10.1.0.0 dhcphost 10.1.0.50-10.1.0.60\n10.1.0.7 10.1.0.70-10.1.0.80\n',
    '10.1.0.0 255.255.255.0',
  );
  assert.deepEqual(brief(problems), [
    'warning 2:1 10.1.0.7 lies in network 10.1.0.0/24, so this line is read as 2 ranges of dhcphost; to name an owner here, write it as a host name or repeat the network: "10.1.0.0 10.1.0.7 …"',
  ]);
  assert.deepEqual(ranges(networks[0], 'dhcphost'), ['10.1.0.7-10.1.0.7', '10.1.0.50-10.1.0.60', '10.1.0.70-10.1.0.80']);
});

test('nets: classful masks, sub-subnets from netmasks, repeated network lines merge', () => {
  const { networks, problems } = nets(
    '172.20.8.16 dhcphost 172.20.8.17-172.20.8.30\n10.0.0.0 dhcphost 10.0.0.1-10.0.0.9\n172.20.8.16 otherhost 172.20.8.17\n',
    '172.20.0.0 255.255.255.0\n172.20.8.0 255.255.255.240\n',
  );
  assert.deepEqual(brief(problems), [
    'error 3:23 range 172.20.8.17 of otherhost overlaps range 172.20.8.17-172.20.8.30 of dhcphost at nets:1:22; ranges of different servers must not overlap',
  ]);
  assert.equal(networks.length, 2);
  assert.equal(networks[0]!.prefixLength, 28);
  assert.equal(networks[0]!.owners.length, 2);
  assert.equal(networks[1]!.prefixLength, 8, '10.0.0.0 without a netmasks entry is class A');
});

test('nets: every kind of error, with line and column', () => {
  const text = [
    '10.1.0.0 dhcphost 10.1.0.60-10.1.0.50', // 1: start above end
    '10.1.0.0 dhcphost 10.1.1.5', // 2: outside the network
    '10.1.0.0 dhcphost 10.1.0.5 - 10.1.0.9', // 3: blanks round the dash
    '10.1.0.0 dhcphost 10.1.0.0-10.1.0.9', // 4: includes the network number
    '10.1.0.0 dhcphost 10.1.0.250-10.1.0.255', // 5: includes the broadcast address
    '10.1.0.5 dhcphost 10.1.0.6', // 6: network with host bits
    '10.1.0.0 dhcphost 10.1.0.20-10.1.0.3x', // 7: bad end
    'otherhost 10.1.0.100-10.1.0.110', // 8: fine
    'thirdhost 10.1.0.105-10.1.0.120', // 9: overlaps otherhost
    'otherhost 10.1.0.108', // 10: same owner overlap: warning
    '10.1.0.0 dhcphost', // 11: no range: fine since issue 16 (a network of static bindings)
    '  10.1.0.77', // 12: and a range for it on the next line
    '224.0.0.0 dhcphost 224.0.0.1', // 13: not class A/B/C
    '10.1.0.0 10.1.0.0-10.1.0.9 10.1.0.20', // 14: a range where the owner belongs
  ].join('\n');
  const { problems, networks } = nets(text, '10.1.0.0 255.255.255.0\n');
  assert.deepEqual(brief(problems), [
    'error 1:19 range start 10.1.0.60 is above its end 10.1.0.50',
    'error 2:19 10.1.1.5 lies outside network 10.1.0.0/24 (mask 255.255.255.0, from netmasks:1)',
    'error 3:28 "-" is not a range: expected a range like 10.1.0.50-10.1.0.99 (no blanks round the dash) or a single address',
    "error 4:19 range 10.1.0.0-10.1.0.9 includes the network's own number 10.1.0.0",
    'error 5:19 range 10.1.0.250-10.1.0.255 includes the broadcast address 10.1.0.255 of 10.1.0.0/24',
    'error 6:1 network 10.1.0.5 has host bits set under mask 255.255.255.0 (from netmasks:1); expected 10.1.0.0 or a netmasks entry for it',
    'error 7:29 "10.1.0.3x" is not an address: field "3x" is not a decimal, octal (0…) or hex (0x…) number; expected a range like 10.1.0.50-10.1.0.99 (no blanks round the dash) or a single address',
    'error 9:11 range 10.1.0.105-10.1.0.120 of thirdhost overlaps range 10.1.0.100-10.1.0.110 of otherhost at nets:8:11; ranges of different servers must not overlap',
    'warning 10:11 range 10.1.0.108 overlaps range 10.1.0.100-10.1.0.110 of the same owner at nets:8:11; they are merged',
    'error 10:11 range 10.1.0.108 of otherhost overlaps range 10.1.0.105-10.1.0.120 of thirdhost at nets:9:11; ranges of different servers must not overlap',
    'error 13:1 224.0.0.0 is not a class A, B or C network; give its mask in netmasks',
    'error 14:10 "10.1.0.0-10.1.0.9" looks like a range where the owner belongs: expected "network owner range…"',
  ]);
  assert.deepEqual(ranges(networks[0], 'otherhost'), ['10.1.0.100-10.1.0.110']);
});

test('nets: continuation before any network, overlapping networks, overlapping ranges of two names for us', () => {
  const first = nets('10.1.0.7\n');
  assert.deepEqual(brief(first.problems), [
    'error 1:1 expected "network owner range…": no network line comes before this continuation line',
  ]);

  const second = nets('10.1.0.0 dhcphost 10.1.0.5\n10.0.0.0 dhcphost 10.0.0.5\n', '10.1.0.0 255.255.255.0');
  assert.deepEqual(brief(second.problems), ['error 2:1 network 10.0.0.0/8 overlaps network 10.1.0.0/24 at nets:1']);

  const third = nets('10.1.0.0 dhcphost 10.1.0.5-10.1.0.9\ndhcp-alias 10.1.0.8-10.1.0.12\n', '10.1.0.0 255.255.255.0');
  assert.deepEqual(brief(third.problems), [
    'warning 2:12 range 10.1.0.8-10.1.0.12 of dhcp-alias overlaps range 10.1.0.5-10.1.0.9 of dhcphost at nets:1:19; both owners are this server, so they are merged',
  ]);
  assert.deepEqual(
    third.networks[0]!.ourRanges.map((r) => ipToString(r.start) + '-' + ipToString(r.end)),
    ['10.1.0.5-10.1.0.12'],
  );
});

function pools(text: string) {
  const { sink, problems } = sinkFor('namepool');
  return { pools: parseNamepool(text, problems, SELF), problems: sink.items };
}

test('namepool: header, names on following lines, names on the header line after the prefix', () => {
  const { pools: list, problems } = pools(
    [
      '# comment',
      'lab.example.com   dhcphost   labpc',
      '\tamber  basalt  cobalt',
      '  dolomite   # trailing comment',
      'acme.com 142.132.3.1 pc alpha bravo',
      '\tcharlie',
      'plain.example dhcphost',
      '\tone two',
      'noprefix.example dhcphost - three four',
    ].join('\n'),
  );
  assert.deepEqual(brief(problems), []);
  assert.deepEqual(
    list.map((p) => [p.domain, p.owner, p.ours, p.prefix, p.names.join(' '), p.source]),
    [
      ['lab.example.com', 'dhcphost', true, 'labpc', 'amber basalt cobalt dolomite', 'namepool:2'],
      ['acme.com', '142.132.3.1', false, 'pc', 'alpha bravo charlie', 'namepool:5'],
      ['plain.example', 'dhcphost', true, null, 'one two', 'namepool:7'],
      ['noprefix.example', 'dhcphost', true, null, 'three four', 'namepool:9'],
    ],
  );
});

test('namepool: duplicates are warnings; malformed lines are errors with their place', () => {
  const { pools: list, problems } = pools(
    [
      '\torphan', // 1
      'lab.example dhcphost labpc', // 2
      '\tamber Amber', // 3
      'lab.example otherhost', // 4
      '\tamber bad_name', // 5
      'lonelydomain', // 6
      '\tignored', // 7
      'lab.example dhcphost 9bad', // 8
      'bad..domain dhcphost', // 9
    ].join('\n'),
  );
  assert.deepEqual(brief(problems), [
    'error 1:2 names before any header: expected a "domain server [prefix]" line starting in column 1 first',
    'warning 3:8 name Amber is already in a pool of lab.example at namepool:3:2; this one is ignored',
    'warning 5:2 name amber is already in a pool of lab.example at namepool:3:2; this one is ignored',
    'error 5:8 "bad_name" is not a host name: expected one label of letters, digits and inner hyphens',
    'error 6:13 expected "domain server [prefix]": the owning server is missing',
    'error 8:22 "9bad" is not a name prefix: expected a letter then up to 49 letters, digits or hyphens',
    'error 9:1 "bad..domain" is not a domain name',
  ]);
  assert.deepEqual(list[0]!.names, ['amber']);
  assert.deepEqual(list[1]!.names, []);
});

test('nets: "network owner" with no range is a network served for its static bindings only', () => {
  const { problems, networks } = nets(
    '10.9.0.0 dhcphost\n10.1.0.0 dhcphost 10.1.0.10-10.1.0.20\n10.2.0.0 otherhost\n',
    '10.9.0.0 255.255.255.0\n10.1.0.0 255.255.255.0\n10.2.0.0 255.255.255.0\n',
  );
  assert.deepEqual(brief(problems), []);
  const [fixed, dynamic, theirs] = networks;
  assert.equal(fixed?.address, ip('10.9.0.0'));
  assert.deepEqual([fixed?.served, fixed?.ourRanges.length], [true, 0]);
  assert.deepEqual([dynamic?.served, dynamic?.ourRanges.length], [true, 1]);
  assert.deepEqual([theirs?.served, theirs?.ourRanges.length], [false, 0], "another server's");
});
