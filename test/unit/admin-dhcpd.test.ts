import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLeaseFile, parseLeaseFile } from '../../src/admin/dhcpd-leases';
import { LeaseRecord, LeaseState } from '../../src/store';
import { ip } from '../../src/util/ipv4';

// What ISC dhcpd 4.4 writes, with the parts joind does not keep (server-duid, failover state, events,
// agent options, a backup lease) and an address declared twice.
const DHCPD_FILE = `# The format of this file is documented in the dhcpd.leases(5) manual page.
# This lease file was written by isc-dhcp-4.4.3-P1

# authoring-byte-order entry is generated, DO NOT DELETE
authoring-byte-order little-endian;

server-duid "\\000\\001\\000\\001+\\231\\034\\210\\002\\000\\000\\000\\000\\001";

failover peer "pair" state {
  my state normal at 1 2026/11/23 10:00:00;
  partner state normal at 1 2026/11/23 10:00:00;
}
lease 10.1.0.50 {
  starts 1 2026/11/23 10:00:00;
  ends 1 2026/11/23 12:00:00;
  tstp 1 2026/11/23 12:00:00;
  cltt 1 2026/11/23 10:00:00;
  binding state active;
  next binding state free;
  rewind binding state free;
  hardware ethernet 52:54:00:aa:bb:01;
  uid "\\001RT\\000\\252\\273\\001";
  option agent.circuit-id "eth0";
  set vendor-class-identifier = "MSFT 5.0";
  client-hostname "desk \\"one\\"";
  on expiry { set ClientIP = "x"; }
}
lease 10.1.0.51 {
  starts 1 2026/11/23 09:00:00;
  ends 1 2026/11/23 09:30:00;
  binding state free;
  hardware ethernet 52:54:00:aa:bb:02;
}
lease 10.1.0.52 {
  starts 1 2026/11/23 09:00:00;
  ends 1 2026/11/23 09:30:00;
  binding state backup;
}
lease 10.1.0.53 {
  starts 1 2026/11/23 08:00:00;
  ends 1 2026/11/23 09:00:00;
  binding state abandoned;
  abandoned;
}
lease 10.1.0.51 {
  starts 1 2026/11/23 11:00:00;
  ends epoch 1795435200; # Mon Nov 23 13:20:00 2026
  cltt 1 2026/11/23 11:00:00;
  binding state active;
  hardware ethernet 52:54:00:aa:bb:03;
}
`;

test('dhcpd.leases: a file as dhcpd writes it imports; the last declaration of an address wins', () => {
  const { leases, problems } = parseLeaseFile(DHCPD_FILE, 0);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    leases.map((l) => l.lease.address),
    [ip('10.1.0.50'), ip('10.1.0.51'), ip('10.1.0.53')],
    'backup lease left out',
  );
  const [a, b, c] = leases.map((l) => l.lease) as [LeaseRecord, LeaseRecord, LeaseRecord];
  assert.equal(a.state, LeaseState.ACTIVE);
  assert.equal(a.starts, Date.UTC(2026, 10, 23, 10) / 1000);
  assert.equal(a.ends, Date.UTC(2026, 10, 23, 12) / 1000);
  assert.deepEqual(a.hwaddr, Buffer.from('525400aabb01', 'hex'));
  assert.deepEqual(a.clientId, Buffer.from('01525400aabb01', 'hex'), 'octal escapes of a uid string');
  assert.deepEqual(a.client, { type: 0, id: a.clientId }, 'a uid is the client key, as option 61 is');
  assert.equal(a.clientHostname, 'desk "one"');
  assert.equal(a.network, 0, 'nets will tell the network');
  assert.deepEqual(b.hwaddr, Buffer.from('525400aabb03', 'hex'), 'the later block of 10.1.0.51 wins');
  assert.equal(b.ends, 1795435200);
  assert.deepEqual(b.client, { type: 1, id: b.hwaddr });
  assert.equal(c.state, LeaseState.ABANDONED);
  assert.equal(c.client, null);
});

test('dhcpd.leases: our export reads back to the same records, every state', () => {
  const hw = (n: number) => Buffer.from([2, 0, 0, 0, 0, n]);
  const base = {
    network: ip('10.1.0.0'),
    htype: 1,
    clientId: null,
    starts: 1700000000,
    cltt: 1700000100,
    clientHostname: null,
    hostname: null,
  };
  const records: LeaseRecord[] = [
    {
      ...base,
      address: ip('10.1.0.1'),
      client: { type: 1, id: hw(1) },
      hwaddr: hw(1),
      ends: 1700003600,
      state: LeaseState.ACTIVE,
      hostname: 'a\\b',
      clientHostname: 'é"',
    },
    {
      ...base,
      address: ip('10.1.0.2'),
      client: { type: 0, id: Buffer.from([1, 2, 3]) },
      clientId: Buffer.from([1, 2, 3]),
      hwaddr: hw(2),
      ends: 1700003600,
      state: LeaseState.EXPIRED,
    },
    {
      ...base,
      address: ip('10.1.0.3'),
      client: { type: 1, id: hw(3) },
      hwaddr: hw(3),
      ends: 1700000100,
      state: LeaseState.RELEASED,
    },
    { ...base, address: ip('10.1.0.4'), client: null, hwaddr: null, htype: 0, ends: null, state: LeaseState.ABANDONED },
    { ...base, address: ip('10.1.0.5'), client: { type: 1, id: hw(5) }, hwaddr: hw(5), ends: null, state: LeaseState.STATIC },
    { ...base, address: ip('10.1.0.6'), client: { type: 1, id: hw(6) }, hwaddr: hw(6), ends: null, state: LeaseState.BOOTP },
    {
      ...base,
      address: ip('10.1.0.7'),
      client: { type: 0, id: hw(7) },
      hwaddr: hw(7),
      ends: 1700003600,
      state: LeaseState.ACTIVE,
    },
  ];
  const text = formatLeaseFile(records, 0);
  const { leases, problems } = parseLeaseFile(text, 0);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    leases.map((l) => l.lease),
    records,
  );
});

test("dhcpd.leases: dhcpd's set ddns-… variables say what it wrote to DNS (interim TXT, standard DHCID)", () => {
  const text = [
    'lease 10.77.1.100 {',
    '  starts 0 2026/12/06 10:00:00;',
    '  ends 0 2026/12/06 11:00:00;',
    '  binding state active;',
    '  hardware ethernet 02:77:00:00:01:01;',
    '  set ddns-rev-name = "100.1.77.10.in-addr.arpa.";',
    '  set ddns-txt = "0046b6cacea62dc1d4567b068175d1f808";',
    '  set ddns-fwd-name = "dclient.lab.example";',
    '}',
    'lease 10.77.1.101 {',
    '  starts 0 2026/12/06 10:00:00;',
    '  ends 0 2026/12/06 11:00:00;',
    '  binding state active;',
    '  hardware ethernet 02:77:00:00:01:02;',
    '  set ddns-dhcid = "\\001\\001abc";',
    '  set ddns-fwd-name = "other.lab.example.";',
    '}',
    'lease 10.77.1.102 {',
    '  starts 0 2026/12/06 10:00:00;',
    '  ends 0 2026/12/06 11:00:00;',
    '  binding state active;',
    '  hardware ethernet 02:77:00:00:01:03;',
    '  set ddns-rev-name = "102.1.77.10.in-addr.arpa.";',
    '}',
  ].join('\n');
  const { leases, problems } = parseLeaseFile(text, Date.UTC(2026, 11, 6, 10, 30) / 1000);
  assert.deepEqual(problems, []);
  const [a, b, c] = leases;
  assert.equal(a?.dns?.fqdn, 'dclient.lab.example');
  assert.equal(a?.dns?.guardType, 16, 'TXT');
  assert.equal(
    a?.dns?.guard.toString('latin1'),
    '\x220046b6cacea62dc1d4567b068175d1f808',
    'the string with its length octet, as DNS holds it',
  );
  assert.deepEqual([a?.dns?.forward, a?.dns?.reverse], [true, true]);
  assert.equal(b?.dns?.fqdn, 'other.lab.example', 'the trailing dot goes');
  assert.equal(b?.dns?.guardType, 49, 'DHCID');
  assert.deepEqual(b?.dns?.guard, Buffer.from([0, 1, 1, 0x61, 0x62, 0x63]), 'the first octet dhcpd leaves out (0) is back');
  assert.equal(b?.dns?.reverse, false, 'no ddns-rev-name: no PTR of dhcpd');
  assert.equal(c?.dns, undefined, 'a PTR alone, with no name and guard, is nothing joind can remove safely');
});

test('dhcpd.leases: broken files are reported with their line', () => {
  let r = parseLeaseFile('lease 10.1.0.1 {\n  starts 1 2026/13/01 00:00:00;\n}\n', 0);
  assert.equal(r.problems[0]?.line, 2);
  assert.match(r.problems[0].message, /expected a date/);
  r = parseLeaseFile('lease 10.1.0.1 {\n  starts 1 2026/11/01 00:00:00;\n', 0);
  assert.match(r.problems[0]!.message, /not closed/);
  r = parseLeaseFile('lease 10.1.0.1 {\n  hardware ethernet zz;\n}\n', 0);
  assert.match(r.problems[0]!.message, /hardware ethernet/);
});

test('dhcpd.leases in a failover range: free and backup say who allocates, tstp and tsfp are kept', () => {
  const text = `failover peer "dhcp_fail" state {
  my state normal at 4 2026/12/03 10:00:00;
  partner state communications-interrupted at 4 2026/12/03 11:00:00;
  mclt 3600;
}
failover peer "other" state {
  my state partner-down;
}
lease 10.1.0.150 {
  starts 4 2026/12/03 10:00:00;
  ends 4 2026/12/03 12:00:00;
  tstp 4 2026/12/03 13:00:00;
  tsfp 4 2026/12/03 12:30:00;
  cltt 4 2026/12/03 10:00:00;
  binding state active;
  hardware ethernet 52:54:00:aa:bb:10;
}
lease 10.1.0.151 {
  starts 4 2026/12/03 09:00:00;
  tstp 4 2026/12/03 09:00:00;
  tsfp 4 2026/12/03 09:00:00;
  binding state backup;
}
lease 10.1.0.152 {
  starts 4 2026/12/03 09:00:00;
  ends 4 2026/12/03 09:30:00;
  binding state free;
  hardware ethernet 52:54:00:aa:bb:12;
}
lease 10.1.0.153 {
  starts 4 2026/12/03 09:00:00;
  binding state free;
}
lease 10.1.0.20 {
  starts 4 2026/12/03 09:00:00;
  ends 4 2026/12/03 09:30:00;
  tstp 4 2026/12/03 09:30:00;
  binding state free;
  hardware ethernet 52:54:00:aa:bb:20;
}
`;
  const at = (h: number, m = 0) => Date.UTC(2026, 11, 3, h, m) / 1000;
  const paired = (a: number) => a >= ip('10.1.0.100') && a <= ip('10.1.0.199');
  const { leases, failover, problems } = parseLeaseFile(text, 0, paired);
  assert.deepEqual(problems, []);
  const by = new Map(leases.map((l) => [l.lease.address, l.lease]));
  const active = by.get(ip('10.1.0.150'))!;
  assert.equal(active.state, LeaseState.ACTIVE);
  assert.equal(active.tstp, at(13));
  assert.equal(active.tsfp, at(12, 30));
  assert.equal(active.peerPending, true, 'tstp past tsfp: the peer has not acknowledged it');
  const backup = by.get(ip('10.1.0.151'))!;
  assert.equal(backup.state, LeaseState.BACKUP, "the secondary's to allocate, nobody behind it");
  assert.equal(backup.client, null);
  assert.equal(backup.peerPending, false);
  assert.equal(by.get(ip('10.1.0.152'))?.state, LeaseState.FREE, 'an ended lease in a pair range is free, its client kept');
  assert.deepEqual(by.get(ip('10.1.0.152'))?.client, { type: 1, id: Buffer.from('525400aabb12', 'hex') });
  assert.equal(by.get(ip('10.1.0.153'))?.state, LeaseState.FREE, 'a free address with nobody behind it is kept');
  const outside = by.get(ip('10.1.0.20'))!;
  assert.equal(outside.state, LeaseState.EXPIRED, 'outside the pair ranges free is an ended lease, as ever');
  assert.equal(outside.tstp, undefined, 'and carries no failover times');
  assert.deepEqual(failover, [
    {
      line: 1,
      name: 'dhcp_fail',
      myState: 'normal',
      myStos: at(10),
      partnerState: 'communications-interrupted',
      partnerStos: at(11),
      mclt: 3600,
    },
    { line: 6, name: 'other', myState: 'partner-down', myStos: 0, partnerState: null, partnerStos: null, mclt: null },
  ]);
  // The export writes the times back where dhcpd does.
  const again = formatLeaseFile([active], 0);
  assert.match(
    again,
    /ends 4 2026\/12\/03 12:00:00;\n {2}tstp 4 2026\/12\/03 13:00:00;\n {2}tsfp 4 2026\/12\/03 12:30:00;\n {2}cltt /,
  );
  assert.deepEqual(parseLeaseFile(again, 0, paired).leases[0]?.lease, active);
});
