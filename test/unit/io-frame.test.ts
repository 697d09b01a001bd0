import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  buildUdpFrame,
  internetChecksum,
  parseUdpFrame,
  UDP_FRAME_HEADERS_LENGTH,
  writeUdpFrameHeaders,
  type UdpFrame,
} from '../../src/io/frame';
import { ip } from '../../src/util/ipv4';

// A DHCPDISCOVER as busybox udhcpc 1.35 put it on the wire (captured with tcpdump on a veth, which said
// "udp sum ok"): 0.0.0.0:68 -> 255.255.255.255:67 from 02:77:00:00:00:02, IP id 0, TTL 64, no DF.
const UDHCPC_DISCOVER = Buffer.from(
  'ffffffffffff02770000000208004500014800000000401179a600000000ffffffff00440043013419b901010600614a627e' +
    '00'.repeat(20) +
    '027700000002' +
    '00'.repeat(202) +
    '638253633501013902024037070103060c0f1c2a0c04636170743c0c756468637020312e33352e303d0701027700000002ff0000000000000000000000000000',
  'hex',
);

function parsed(frame: Buffer, verifyUdp = true): UdpFrame {
  const result = parseUdpFrame(frame, verifyUdp);
  if (typeof result === 'string') assert.fail(`parse failed: ${result}`);
  return result;
}

test('internet checksum of the RFC 1071 style textbook IPv4 header', () => {
  // 192.168.0.1 -> 192.168.0.199, total length 0x73, DF, TTL 64, UDP: checksum 0xb861.
  const header = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
  assert.equal(internetChecksum(header, 0, header.length), 0xb861);
  // Odd length: the last byte is padded with zero.
  assert.equal(internetChecksum(Buffer.from([0x01]), 0, 1), ~0x0100 & 0xffff);
});

test('parses a real udhcpc DISCOVER frame and verifies both checksums', () => {
  assert.equal(UDHCPC_DISCOVER.length, 342);
  const frame = parsed(UDHCPC_DISCOVER);
  assert.equal(frame.dstMac.toString('hex'), 'ffffffffffff');
  assert.equal(frame.srcMac.toString('hex'), '027700000002');
  assert.equal(frame.srcIp, 0);
  assert.equal(frame.dstIp, 0xffffffff);
  assert.equal(frame.srcPort, 68);
  assert.equal(frame.dstPort, 67);
  assert.equal(frame.ttl, 64);
  assert.equal(frame.payload.length, 300);
  assert.equal(frame.payload[0], 1); // BOOTREQUEST
  assert.equal(frame.payload.readUInt32BE(236), 0x63825363); // magic cookie
  // Views, not copies.
  assert.equal(frame.payload.buffer, UDHCPC_DISCOVER.buffer);
});

test('builds the udhcpc DISCOVER byte for byte from its parts', () => {
  const frame = parsed(UDHCPC_DISCOVER);
  const built = buildUdpFrame({
    dstMac: frame.dstMac,
    srcMac: frame.srcMac,
    srcIp: frame.srcIp,
    dstIp: frame.dstIp,
    srcPort: frame.srcPort,
    dstPort: frame.dstPort,
    payload: frame.payload,
    ipId: 0,
  });
  assert.equal(built.toString('hex'), UDHCPC_DISCOVER.toString('hex'));
});

test('build then parse round trip with odd payload length and addresses above 2^31', () => {
  const payload = Buffer.from('hello, joind!'); // 13 bytes: odd, exercises checksum padding
  const spec = {
    dstMac: Buffer.from('027700000002', 'hex'),
    srcMac: Buffer.from('027700000001', 'hex'),
    srcIp: ip('192.168.77.1'),
    dstIp: ip('255.255.255.255'),
    srcPort: 67,
    dstPort: 68,
    payload,
  };
  const built = buildUdpFrame(spec);
  assert.equal(built.length, UDP_FRAME_HEADERS_LENGTH + payload.length);
  assert.equal(built[14 + 6]! & 0x40, 0, 'DF must be clear');
  assert.equal(built[14 + 8], 64, 'TTL 64');
  const frame = parsed(built);
  assert.equal(frame.srcIp, spec.srcIp);
  assert.equal(frame.dstIp, spec.dstIp);
  assert.equal(frame.srcPort, 67);
  assert.equal(frame.dstPort, 68);
  assert.deepEqual(Buffer.from(frame.payload), payload);
  // Successive frames get different IP identifications.
  assert.notEqual(buildUdpFrame(spec).readUInt16BE(18), buildUdpFrame(spec).readUInt16BE(18));
});

test('writeUdpFrameHeaders around a payload already in place equals buildUdpFrame', () => {
  const payload = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const spec = {
    dstMac: Buffer.from('0a0b0c0d0e0f', 'hex'),
    srcMac: Buffer.from('020000000001', 'hex'),
    srcIp: ip('10.0.0.1'),
    dstIp: ip('10.0.0.2'),
    srcPort: 67,
    dstPort: 67,
    ipId: 0x1234,
  };
  const inPlace = Buffer.alloc(UDP_FRAME_HEADERS_LENGTH + payload.length);
  payload.copy(inPlace, UDP_FRAME_HEADERS_LENGTH);
  writeUdpFrameHeaders(inPlace, spec, payload.length);
  assert.deepEqual(inPlace, buildUdpFrame({ ...spec, payload }));
});

test('a zero UDP checksum is sent as 0xffff', () => {
  // Find a payload whose UDP checksum computes to 0 by solving for its last 16-bit word.
  const spec = {
    dstMac: Buffer.alloc(6, 0xff),
    srcMac: Buffer.from('020000000001', 'hex'),
    srcIp: ip('10.0.0.1'),
    dstIp: ip('10.0.0.2'),
    srcPort: 67,
    dstPort: 68,
    ipId: 1,
  };
  const payload = Buffer.alloc(4);
  const probe = buildUdpFrame({ ...spec, payload });
  // With the last word 0 the checksum is c; setting the word to c makes the sum 0xffff, checksum 0.
  const c = probe.readUInt16BE(40);
  payload.writeUInt16BE(c, 2);
  const frame = buildUdpFrame({ ...spec, payload });
  assert.equal(frame.readUInt16BE(40), 0xffff);
  parsed(frame); // and it still verifies
});

test('Ethernet padding after the IP datagram is not part of the payload', () => {
  const built = buildUdpFrame({
    dstMac: Buffer.alloc(6, 0xff),
    srcMac: Buffer.from('020000000001', 'hex'),
    srcIp: 1,
    dstIp: 2,
    srcPort: 1,
    dstPort: 2,
    payload: Buffer.from([0xaa, 0xbb]),
  });
  const padded = Buffer.concat([built, Buffer.alloc(60 - built.length, 0x55)]);
  assert.deepEqual([...parsed(padded).payload], [0xaa, 0xbb]);
});

test('rejects malformed frames with a reason, never an exception', () => {
  const good = Buffer.from(UDHCPC_DISCOVER);
  const broken = (mutate: (frame: Buffer) => void, length = good.length): Buffer => {
    const copy = Buffer.from(good.subarray(0, length));
    mutate(copy);
    return copy;
  };
  const cases: Array<[string, Buffer]> = [
    ['short-frame', good.subarray(0, 41)],
    ['not-ipv4', broken((f) => f.writeUInt16BE(0x86dd, 12))],
    ['bad-ip-version', broken((f) => (f[14] = 0x65))],
    ['bad-ip-header-length', broken((f) => (f[14] = 0x44))],
    ['bad-ip-total-length', broken(() => undefined, 300)], // frame cut short of the total length
    ['bad-ip-total-length', broken((f) => f.writeUInt16BE(20, 16))], // too small to hold UDP
    ['ip-fragment', broken((f) => f.writeUInt16BE(0x2000, 20))], // MF set
    ['ip-fragment', broken((f) => f.writeUInt16BE(0x0001, 20))], // offset 8
    ['not-udp', broken((f) => (f[23] = 6))],
    ['bad-ip-checksum', broken((f) => (f[22] = 63))], // TTL changed, checksum not updated
    ['bad-udp-length', broken((f) => f.writeUInt16BE(7, 38))],
    ['bad-udp-length', broken((f) => f.writeUInt16BE(309, 38))], // beyond the IP datagram
    ['bad-udp-checksum', broken((f) => (f[100]! ^= 1))],
  ];
  for (const [reason, frame] of cases) {
    assert.equal(parseUdpFrame(frame, true), reason, reason);
  }
  // The UDP checksum is only checked on request, and a zero checksum means "none".
  assert.notEqual(
    typeof parseUdpFrame(
      broken((f) => (f[100]! ^= 1)),
      false,
    ),
    'string',
  );
  assert.notEqual(
    typeof parseUdpFrame(
      broken((f) => f.writeUInt16BE(0, 40)),
      true,
    ),
    'string',
  );
});

test('an IPv4 header with options moves the UDP header', () => {
  // Re-frame the capture with a 4-byte NOP option block (IHL 6) and recompute the IP checksum.
  const src = UDHCPC_DISCOVER;
  const withOptions = Buffer.concat([src.subarray(0, 34), Buffer.from([1, 1, 1, 0]), src.subarray(34)]);
  withOptions[14] = 0x46;
  withOptions.writeUInt16BE(withOptions.readUInt16BE(16) + 4, 16);
  withOptions.writeUInt16BE(0, 24);
  withOptions.writeUInt16BE(internetChecksum(withOptions, 14, 38), 24);
  const frame = parsed(withOptions);
  assert.equal(frame.srcPort, 68);
  assert.equal(frame.dstPort, 67);
  assert.equal(frame.payload.length, 300);
});
