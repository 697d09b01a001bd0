import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDhcpdDate, formatHumanDate, parseDate, parseDhcpdDate } from '../../src/admin/dates';
import { badKey, selects } from '../../src/admin/select';
import { formatLease, formatName, parseRecords, parseRegistration } from '../../src/admin/records';
import { LeaseRecord, LeaseState } from '../../src/store';
import { ip } from '../../src/util/ipv4';

const hw = Buffer.from([8, 0, 0x2b, 0x12, 0x34, 0x56]);
const lease: LeaseRecord = {
  address: ip('10.1.0.7'),
  network: ip('10.1.0.0'),
  client: { type: 0, id: Buffer.from([1, 8, 0, 0x2b, 0x12, 0x34, 0x56]) },
  htype: 1,
  hwaddr: hw,
  clientId: Buffer.from([1, 8, 0, 0x2b, 0x12, 0x34, 0x56]),
  starts: 789645600,
  ends: 789732000,
  cltt: 789650000,
  state: LeaseState.ACTIVE,
  clientHostname: 'odd|name\\with\nstuff é',
  hostname: 'pc7',
};

test('dates: seconds, the human forms of jdbmod and ISO all read as UTC', () => {
  assert.equal(parseDate('789645600'), 789645600);
  assert.equal(parseDate('Mon Jan 09 1995 10:00'), 789645600);
  assert.equal(parseDate('Jan 09 1995 10:00:00'), 789645600);
  assert.equal(parseDate('01/09/1995 10:00:00'), 789645600);
  assert.equal(parseDate('1995-01-09T10:00:00Z'), 789645600);
  assert.equal(parseDate('1995-01-09'), 789609600);
  assert.equal(formatHumanDate(789645600), 'Mon Jan 09 1995 10:00:00');
  assert.equal(parseDate(formatHumanDate(1795465636)), 1795465636);
  for (const bad of ['Feb 30 1995', '13/01/1995', 'yesterday', '1995-01-09 25:00', ''])
    assert.equal(parseDate(bad), undefined, bad);
});

test('dates: dhcpd.leases(5) form, weekday and UTC', () => {
  assert.equal(formatDhcpdDate(789645600), '1 1995/01/09 10:00:00');
  assert.equal(parseDhcpdDate('1 1995/01/09 10:00:00'), 789645600);
  assert.equal(parseDhcpdDate('epoch 789645600'), 789645600);
  assert.equal(parseDhcpdDate('1995/01/09 10:00:00'), undefined);
});

test('records: a lease and a name survive format → parse, with separator and escapes, in both date forms', () => {
  for (const humanDates of [false, true]) {
    for (const separator of ['|', ',']) {
      const text = `${formatLease(lease, { separator, humanDates })}\n${formatName(
        { domain: 'lab.example', name: 'amber', owner: lease.client, address: lease.address, boundAt: 789645600 },
        { separator, humanDates },
      )}\n`;
      assert.equal(text.split('\n').length, 3, 'one record per line, whatever the host name holds');
      const { records, problems } = parseRecords(text, separator, 0);
      assert.deepEqual(problems, []);
      assert.deepEqual(records[0], { kind: 'lease', line: 1, lease });
      assert.deepEqual(records[1], {
        kind: 'name',
        line: 2,
        name: { domain: 'lab.example', name: 'amber', owner: lease.client, address: lease.address, boundAt: 789645600 },
      });
    }
  }
});

test('records: a bare jdbmod line (MAC, type, length, IP, start, expiry) is a binding of that MAC', () => {
  const { records, problems } = parseRecords('08:00:2b:12:34:56|1|6|10.1.0.9|Mon Jan 09 1995 10:00|\n', '|', 5);
  assert.deepEqual(problems, []);
  const got = records[0]!;
  assert.equal(got.kind, 'lease');
  if (got.kind !== 'lease') return;
  assert.equal(got.lease.state, LeaseState.STATIC);
  assert.equal(got.lease.ends, null);
  assert.deepEqual(got.lease.client, { type: 1, id: hw });
  assert.equal(got.lease.network, 0, 'the network comes from nets at load time');
});

test('records: every bad line is reported with its number and what was expected', () => {
  const text = [
    '# comment',
    '',
    'zz:00|1|6|10.1.0.1',
    '08:00:2b:12:34:56|1|5|10.1.0.1',
    '08:00:2b:12:34:56|1|6|10.1.0.256',
    '08:00:2b:12:34:56|1|6|10.1.0.1|100|50',
    '08:00:2b:12:34:56|1|6|10.1.0.1|||||||||bogus',
    '08:00:2b:12:34:56|1|6|10.1.0.1|||||wobbly',
    'just one field',
    'name|lab.example',
    '08:00:2b:12:34:56|1|6|10.1.0.1',
  ].join('\n');
  const { records, problems } = parseRecords(text, '|', 0);
  assert.deepEqual(
    problems.map((p) => p.line),
    [3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.match(problems[0]!.message, /MAC address: "zz:00"/);
  assert.match(problems[1]!.message, /MAC length: 5 does not match the 6 bytes/);
  assert.match(problems[2]!.message, /IP address/);
  assert.match(problems[3]!.message, /before its start/);
  assert.match(problems[4]!.message, /client id: "bogus" is not hex bytes/);
  assert.match(problems[5]!.message, /state: "wobbly" is not one of active/);
  assert.match(problems[6]!.message, /at least 4 fields/);
  assert.match(problems[7]!.message, /needs a domain and a name/);
  assert.equal(records.length, 1, 'line 11 only');
});

test('records: registration lines', () => {
  assert.deepEqual(parseRegistration('08:00:2b:12:34:56|1|6', '|'), { htype: 1, hwaddr: hw });
  assert.deepEqual(parseRegistration('08002b123456', '|'), { htype: 1, hwaddr: hw });
  assert.match(parseRegistration('08:00:2b:12:34:56|1|4', '|') as string, /MAC length/);
  assert.match(parseRegistration('nope', '|') as string, /MAC address/);
});

test('dump -k: an address, hex bytes, or jdbdump\'s own key "htype hwaddr subnet"', () => {
  const now = 789650000;
  assert.equal(selects(lease, { key: '10.1.0.7' }, now), true);
  assert.equal(selects(lease, { key: '08002b123456' }, now), true);
  assert.equal(selects(lease, { key: '1 08002b123456 10.1.0.0' }, now), true, "jdbdump's key");
  assert.equal(selects(lease, { key: '1 08:00:2b:12:34:56 10.1.0.0' }, now), true, 'with colons');
  assert.equal(selects(lease, { key: '1 08002b123456 10.2.0.0' }, now), false, 'another network');
  assert.equal(selects(lease, { key: '6 08002b123456 10.1.0.0' }, now), false, 'another hardware type');
  assert.equal(badKey('1 08002b123456 10.1.0.0'), undefined);
  assert.match(badKey('1 08002b123456') ?? '', /expected an IP address, a hardware address .* or "htype hwaddr subnet"/);
});
