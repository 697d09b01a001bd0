// The failover wire codec (src/failover/wire.ts): byte-exact encodings hand-built from draft-12 and ISC
// dhcpd 4.4.3's writers (CONNECT, BNDUPD, BNDACK), round trips of every message type with the options
// dhcpd sends, the receive rules of dhcpd's do_a_failover_option (unknown and not-carried options
// skipped, duplicates, overflow, fixed sizes, payload offset), the encoder's checks, the stream framer,
// and a seeded fuzz run: decode never throws, and the framer always returns.
//
//   JFO_FUZZ_SEED=<n> JFO_FUZZ_ITERATIONS=<n> node --test <out>/test/unit/failover-wire.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  ALLOWED,
  FailoverEncodeError,
  FailoverFramer,
  MESSAGE_TYPES,
  OPTIONS,
  OPTION_CODES as O,
  chaddrOption,
  decodeMessage,
  encodeMessage,
  hbaFromSplit,
  splitChaddr,
  type DecodeResult,
  type FailoverMessage,
  type MessageTypeName,
  type WireErrorKind,
} from '../../src/failover';
import { ip } from '../../src/util/ipv4';
import { rawFailoverMessage } from '../helpers/failover-bytes';
import { makeRandom } from '../helpers/random';

/** Hex digits to bytes; spaces and colons are ignored, and so is the rest of a line after '|' (a comment). */
function hex(text: string): Buffer {
  const digits = text.replace(/\|[^\n]*/g, '').replace(/[\s:]/g, '');
  assert.match(digits, /^([0-9a-f]{2})*$/i, `bad hex: ${digits}`);
  return Buffer.from(digits, 'hex');
}

const raw = rawFailoverMessage;

const u8 = (v: number): Buffer => Buffer.from([v]);
const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};

function decoded(buf: Buffer): FailoverMessage {
  const result = decodeMessage(buf);
  assert.ok(result.ok, result.ok ? '' : `${result.error.kind}: ${result.error.message}`);
  return result.message;
}

function decodeError(buf: Buffer, kind: WireErrorKind, offset?: number): void {
  const result = decodeMessage(buf);
  assert.equal(result.ok, false, 'expected a decode error');
  if (result.ok) return;
  assert.equal(result.error.kind, kind, result.error.message);
  if (offset !== undefined) assert.equal(result.error.offset, offset, result.error.message);
}

// ---- Byte-exact encodings, hand-built from draft-12 section 6/12 and dhcpd's writers ----

const CONNECT_BYTES = hex(`
  006f 05 0c 65a0b1c2 00000001                       | length 111, CONNECT, payload offset 12, time, xid 1
  0016 0009 646863705f6661696c                       | relationship-name "dhcp_fail"
  000e 0004 0000000a                                 | max-unacked-bndupd 10
  0013 0004 0000003c                                 | receive-timer 60
  001c 000c 6973632d342e342e332d5031                 | vendor-class-identifier "isc-4.4.3-P1"
  0014 0001 01                                       | protocol-version 1
  001b 0001 00                                       | TLS-request 0
  000f 0004 00000e4c                                 | MCLT 3660
  000b 0020 ffffffffffffffffffffffffffffffff 00000000000000000000000000000000 | HBA, split 128
`);

const CONNECT: FailoverMessage = {
  type: 'CONNECT',
  time: 0x65a0b1c2,
  xid: 1,
  relationshipName: Buffer.from('dhcp_fail'),
  maxUnacked: 10,
  receiveTimer: 60,
  vendorClass: Buffer.from('isc-4.4.3-P1'),
  protocolVersion: 1,
  tlsRequest: 0,
  mclt: 3660,
  hba: hbaFromSplit(128),
};

test('CONNECT as dhcpd 4.4.3 writes it, byte for byte', () => {
  assert.equal(CONNECT_BYTES.length, 111);
  assert.deepEqual(encodeMessage(CONNECT), CONNECT_BYTES);
  assert.deepEqual(decoded(CONNECT_BYTES), CONNECT);
});

const BNDUPD_BYTES = hex(`
  004f 03 0c 6553f164 0000002a                       | length 79, BNDUPD, time, xid 42
  0002 0004 0a4d010a                                 | assigned-IP-address 10.77.1.10
  0003 0001 02                                       | binding-status active
  0004 0007 01525400123456                           | client-identifier (option 61's bytes)
  0005 0007 01525400123456                           | client-hardware-address: htype 1 + MAC
  000d 0004 6553ff4c                                 | lease-expiration-time
  0012 0004 65540672                                 | potential-expiration-time
  0019 0004 6553f100                                 | start-time-of-state
  0006 0004 6553f100                                 | client-last-transaction-time
`);

const BNDUPD: FailoverMessage = {
  type: 'BNDUPD',
  time: 1700000100,
  xid: 42,
  assignedIpAddress: ip('10.77.1.10'),
  bindingStatus: 2,
  clientIdentifier: hex('01525400123456'),
  chaddr: chaddrOption(1, hex('525400123456')),
  leaseExpiry: 1700003660,
  potentialExpiry: 1700005490,
  stos: 1700000000,
  cltt: 1700000000,
};

const BNDACK_BYTES = hex(`
  0014 04 0c 6553f165 0000002a                       | length 20, BNDACK, time, xid 42 = the BNDUPD's
  0002 0004 0a4d010a                                 | assigned-IP-address 10.77.1.10
`);

test('BNDUPD and its BNDACK as dhcpd writes them, byte for byte', () => {
  assert.deepEqual(encodeMessage(BNDUPD), BNDUPD_BYTES);
  assert.deepEqual(decoded(BNDUPD_BYTES), BNDUPD);
  const ack: FailoverMessage = { type: 'BNDACK', time: 1700000101, xid: 42, assignedIpAddress: ip('10.77.1.10') };
  assert.deepEqual(encodeMessage(ack), BNDACK_BYTES);
  assert.deepEqual(decoded(BNDACK_BYTES), ack);
});

test('a refusing BNDACK: reject-reason then message, after the address', () => {
  const bytes = hex(`
    002a 04 0c 6553f165 0000002b
    0002 0004 0a4d010a
    0015 0001 0f                                     | reject-reason 15 (outdated binding information)
    0010 000d 6f7574646174656420 62696e64           | message "outdated bind"
  `);
  const ack: FailoverMessage = {
    type: 'BNDACK',
    time: 1700000101,
    xid: 43,
    assignedIpAddress: ip('10.77.1.10'),
    rejectReason: 15,
    message: 'outdated bind',
  };
  assert.deepEqual(encodeMessage(ack), bytes);
  assert.deepEqual(decoded(bytes), ack);
});

test('a BNDUPD of a reserved BOOTP lease ends with IP-flags (2 bytes); CLTT is left out when unknown', () => {
  const msg: FailoverMessage = {
    type: 'BNDUPD',
    time: 5,
    xid: 6,
    assignedIpAddress: ip('10.0.0.9'),
    bindingStatus: 7,
    leaseExpiry: 0,
    potentialExpiry: 0,
    stos: 100,
    ipFlags: 3,
  };
  assert.deepEqual(
    encodeMessage(msg),
    raw(
      3,
      [
        [O.ASSIGNED_IP_ADDRESS, hex('0a000009')],
        [O.BINDING_STATUS, u8(7)],
        [O.LEASE_EXPIRY, u32(0)],
        [O.POTENTIAL_EXPIRY, u32(0)],
        [O.STOS, u32(100)],
        [O.IP_FLAGS, u16(3)],
      ],
      { time: 5, xid: 6 },
    ),
  );
});

// ---- Round trips of every message type, with the options dhcpd sends ----

const SAMPLES: FailoverMessage[] = [
  { type: 'POOLREQ', time: 1, xid: 2 },
  { type: 'POOLRESP', time: 1, xid: 2, addressesTransferred: 17 },
  BNDUPD,
  {
    type: 'BNDUPD',
    time: 3,
    xid: 4,
    assignedIpAddress: ip('10.1.2.3'),
    bindingStatus: 1,
    leaseExpiry: 9,
    potentialExpiry: 9,
    stos: 8,
  },
  { type: 'BNDACK', time: 3, xid: 4, assignedIpAddress: ip('10.1.2.3') },
  { type: 'BNDACK', time: 3, xid: 4, assignedIpAddress: ip('10.1.2.3'), rejectReason: 1, message: 'Illegal IP address' },
  CONNECT,
  { ...CONNECT, type: 'CONNECT', hba: undefined },
  {
    type: 'CONNECTACK',
    time: 0xffffffff,
    xid: 1,
    relationshipName: Buffer.from('dhcp_fail'),
    maxUnacked: 10,
    receiveTimer: 60,
    vendorClass: Buffer.from('isc-4.4.3-P1'),
    protocolVersion: 1,
    tlsReply: 0,
  },
  {
    type: 'CONNECTACK',
    time: 0,
    xid: 1,
    relationshipName: Buffer.from('other'),
    vendorClass: Buffer.from('isc-4.4.3-P1'),
    protocolVersion: 1,
    rejectReason: 8,
    message: 'unknown failover relationship name',
  },
  { type: 'UPDREQALL', time: 1, xid: 2 },
  { type: 'UPDDONE', time: 1, xid: 2 },
  { type: 'UPDREQ', time: 1, xid: 2 },
  { type: 'STATE', time: 1, xid: 2, serverState: 254, serverFlags: 0, stos: 1700000000 },
  { type: 'STATE', time: 1, xid: 2, serverState: 6, serverFlags: 1, stos: 0 },
  { type: 'CONTACT', time: 1, xid: 0xfffffffe },
  { type: 'DISCONNECT', time: 1, xid: 2, rejectReason: 4, message: 'time offset too large' },
];

test('every message type round-trips, and every model field of every type', () => {
  const seen = new Set<MessageTypeName>();
  for (const sample of SAMPLES) {
    const clean = Object.fromEntries(Object.entries(sample).filter(([, v]) => v !== undefined)) as FailoverMessage;
    const bytes = encodeMessage(sample);
    assert.equal(bytes.readUInt16BE(0), bytes.length);
    assert.equal(bytes[2], MESSAGE_TYPES[sample.type]);
    assert.equal(bytes[3], 12);
    assert.deepEqual(decoded(bytes), clean, sample.type);
    seen.add(sample.type);
  }
  assert.equal(seen.size, 12);

  // Each type with every field it may carry (ddns excepted): nothing lost, order as ALLOWED.
  const values: Record<string, unknown> = {
    addressesTransferred: 3,
    assignedIpAddress: ip('192.0.2.1'),
    bindingStatus: 5,
    clientIdentifier: hex('00'),
    chaddr: hex('01aabbccddeeff'),
    cltt: 11,
    replyOptions: hex('63825363 3304 00000e10'),
    requestOptions: hex('63825363'),
    hba: hbaFromSplit(3),
    ipFlags: 0xffff,
    leaseExpiry: 12,
    maxUnacked: 0xffffffff,
    mclt: 13,
    message: 'héllo',
    potentialExpiry: 14,
    receiveTimer: 15,
    protocolVersion: 255,
    rejectReason: 254,
    relationshipName: Buffer.alloc(0),
    serverFlags: 1,
    serverState: 9,
    stos: 16,
    tlsReply: 0,
    tlsRequest: 2,
    vendorClass: Buffer.from('joind'),
  };
  for (const type of Object.keys(ALLOWED) as MessageTypeName[]) {
    const fields = (ALLOWED[type] as readonly string[]).filter((f) => f !== 'ddns');
    const msg = { type, time: 100, xid: 200, ...Object.fromEntries(fields.map((f) => [f, values[f]])) } as FailoverMessage;
    const bytes = encodeMessage(msg);
    assert.deepEqual(decoded(bytes), msg, type);
    // Options come out in ALLOWED's order.
    const codes: number[] = [];
    for (let pos = 12; pos < bytes.length; pos += 4 + bytes.readUInt16BE(pos + 2)) codes.push(bytes.readUInt16BE(pos));
    const expected = fields.map((f) => OPTIONS.find((o) => o.field === f)!.code);
    assert.deepEqual(codes, expected, type);
  }
});

test('the model covers every option of the table; each has its ISC wire type', () => {
  assert.equal(OPTIONS.length, 29);
  OPTIONS.forEach((o, i) => assert.equal(o.code, i + 1));
  const types = Object.fromEntries(OPTIONS.map((o) => [o.code, o.type]));
  assert.deepEqual(types, {
    1: 'u32', 2: 'ip', 3: 'u8', 4: 'bytes', 5: 'bytes', 6: 'u32', 7: 'bytes', 8: 'bytes', 9: 'ddns', 10: 'unused',
    11: 'hba', 12: 'u16', 13: 'u32', 14: 'u32', 15: 'u32', 16: 'text', 17: 'unused', 18: 'u32', 19: 'u32', 20: 'u8',
    21: 'u8', 22: 'bytes', 23: 'u8', 24: 'u8', 25: 'u32', 26: 'u8', 27: 'u8', 28: 'bytes', 29: 'unused',
  }); // prettier-ignore
});

test('chaddr helpers: htype first', () => {
  assert.deepEqual(chaddrOption(1, hex('525400123456')), hex('01525400123456'));
  assert.deepEqual(splitChaddr(hex('06aabb')), { htype: 6, address: hex('aabb') });
  assert.equal(splitChaddr(Buffer.alloc(0)), undefined);
});

// ---- Receive rules (dhcpd's do_a_failover_option) ----

test('unknown option codes are skipped, wherever they are', () => {
  const msg = raw(10, [
    [0, hex('0102')],
    [O.SERVER_STATE, u8(2)],
    [30, Buffer.alloc(0)],
    [0xffff, hex('ff'.repeat(40))],
    [O.SERVER_FLAGS, u8(0)],
    [O.STOS, u32(99)],
    [1234, hex('00')],
  ]);
  const result = decodeMessage(msg);
  assert.ok(result.ok);
  assert.deepEqual(result.message, { type: 'STATE', time: 1700000000, xid: 7, serverState: 2, serverFlags: 0, stos: 99 });
  assert.deepEqual(
    result.skipped.map((s) => [s.code, s.reason]),
    [
      [0, 'unknown-code'],
      [30, 'unknown-code'],
      [0xffff, 'unknown-code'],
      [1234, 'unknown-code'],
    ],
  );
});

test('known options the message type does not carry are skipped, even repeated or of a wrong size', () => {
  const msg = raw(3, [
    [O.ASSIGNED_IP_ADDRESS, hex('0a000001')],
    [O.MCLT, u32(3600)], // CONNECT's
    [O.MCLT, hex('01')], // again, and of a bad size: still skipped
    [O.BINDING_STATUS, u8(1)],
    [O.SERVER_STATE, hex('0102')],
    [O.DELAYED_SERVICE, u8(3)], // carried by no type
    [O.VENDOR_OPTIONS, hex('00010000')], // carried by no type
    [O.REJECT_REASON, u8(1)], // BNDACK's, not BNDUPD's
  ]);
  const result = decodeMessage(msg);
  assert.ok(result.ok);
  assert.deepEqual(result.message, {
    type: 'BNDUPD',
    time: 1700000000,
    xid: 7,
    assignedIpAddress: ip('10.0.0.1'),
    bindingStatus: 1,
  });
  assert.deepEqual(
    result.skipped.map((s) => s.code),
    [O.MCLT, O.MCLT, O.SERVER_STATE, O.DELAYED_SERVICE, O.VENDOR_OPTIONS, O.REJECT_REASON],
  );
  assert.ok(result.skipped.every((s) => s.reason === 'not-carried'));
  // Messages that carry nothing skip everything.
  const contact = decodeMessage(
    raw(11, [
      [O.MCLT, u32(1)],
      [O.HBA, Buffer.alloc(32)],
    ]),
  );
  assert.ok(contact.ok);
  assert.deepEqual(contact.message, { type: 'CONTACT', time: 1700000000, xid: 7 });
});

test('message-digest is skipped first, in the middle or last (dhcpd never checks it)', () => {
  const digest = hex('01' + '00'.repeat(16));
  for (const at of [0, 1, 2]) {
    const options: Array<[number, Buffer]> = [
      [O.REJECT_REASON, u8(7)],
      [O.MESSAGE, Buffer.from('dup')],
    ];
    options.splice(at, 0, [O.MESSAGE_DIGEST, digest]);
    assert.deepEqual(decoded(raw(12, options)), {
      type: 'DISCONNECT',
      time: 1700000000,
      xid: 7,
      rejectReason: 7,
      message: 'dup',
    });
  }
});

test('a second instance of a carried option is a protocol error', () => {
  decodeError(
    raw(5, [
      [O.MCLT, u32(1)],
      [O.RELATIONSHIP_NAME, hex('61')],
      [O.MCLT, u32(1)],
    ]),
    'duplicate-option',
    12 + 8 + 5,
  );
  decodeError(
    raw(5, [
      [O.HBA, Buffer.alloc(32)],
      [O.HBA, Buffer.alloc(32)],
    ]),
    'duplicate-option',
    12 + 36,
  );
  // A bad size in the second instance: the repeat is found first, as in dhcpd.
  decodeError(
    raw(10, [
      [O.STOS, u32(1)],
      [O.STOS, u8(1)],
    ]),
    'duplicate-option',
  );
});

test('fixed-size options of the wrong length are protocol errors', () => {
  const cases: Array<[number, number, Buffer]> = [
    [3, O.ASSIGNED_IP_ADDRESS, hex('0a0000')],
    [3, O.ASSIGNED_IP_ADDRESS, hex('0a00000100')],
    [3, O.BINDING_STATUS, hex('0001')],
    [3, O.BINDING_STATUS, Buffer.alloc(0)],
    [3, O.IP_FLAGS, hex('01')],
    [3, O.IP_FLAGS, hex('000001')],
    [3, O.CLTT, hex('000000')],
    [2, O.ADDRESSES_TRANSFERRED, hex('0000000001')],
    [5, O.TLS_REQUEST, hex('0000')], // ISC 3.0.x sent 2 bytes here
    [5, O.MAX_UNACKED, hex('0a')],
    [6, O.TLS_REPLY, hex('0000')],
    [10, O.SERVER_STATE, hex('0002')],
    [12, O.REJECT_REASON, Buffer.alloc(0)],
  ];
  for (const [type, code, data] of cases) decodeError(raw(type, [[code, data]]), 'bad-option-size', 12);
});

test('variable-length options take any length, zero included; the HBA is not sized by the codec', () => {
  const m = decoded(
    raw(5, [
      [O.RELATIONSHIP_NAME, Buffer.alloc(0)],
      [O.VENDOR_CLASS, Buffer.alloc(0)],
      [O.HBA, hex('ff')],
    ]),
  );
  assert.deepEqual(m, {
    type: 'CONNECT',
    time: 1700000000,
    xid: 7,
    relationshipName: Buffer.alloc(0),
    vendorClass: Buffer.alloc(0),
    hba: hex('ff'),
  });
});

test('DDNS in a BNDUPD or BNDACK is refused as dhcpd refuses it; elsewhere it is skipped', () => {
  const ddns = hex('0003 0474657374 00');
  decodeError(
    raw(3, [
      [O.ASSIGNED_IP_ADDRESS, hex('0a000001')],
      [O.DDNS, ddns],
    ]),
    'unsupported-option',
    20,
  );
  decodeError(raw(4, [[O.DDNS, Buffer.alloc(0)]]), 'unsupported-option', 12);
  assert.deepEqual(decoded(raw(10, [[O.DDNS, ddns]])), { type: 'STATE', time: 1700000000, xid: 7 });
});

test('options that run past the end of the message', () => {
  const base = raw(12, [[O.REJECT_REASON, u8(1)]]);
  // One stray byte: no room for a code.
  const oneByte = Buffer.concat([base, hex('00')]);
  oneByte.writeUInt16BE(oneByte.length, 0);
  decodeError(oneByte, 'option-overflow', base.length);
  // A code but no length.
  const codeOnly = Buffer.concat([base, hex('0010')]);
  codeOnly.writeUInt16BE(codeOnly.length, 0);
  decodeError(codeOnly, 'option-overflow', base.length);
  // A length with one byte too few.
  const short = Buffer.concat([base, hex('0010 0005 61626364')]);
  short.writeUInt16BE(short.length, 0);
  decodeError(short, 'option-overflow', base.length);
  // Even an unknown option is checked before it is skipped.
  const unknown = Buffer.concat([base, hex('0099 0002 61')]);
  unknown.writeUInt16BE(unknown.length, 0);
  decodeError(unknown, 'option-overflow', base.length);
  // An option exactly to the end is fine.
  const exact = Buffer.concat([base, hex('0010 0004 61626364')]);
  exact.writeUInt16BE(exact.length, 0);
  assert.deepEqual(decoded(exact), { type: 'DISCONNECT', time: 1700000000, xid: 7, rejectReason: 1, message: 'abcd' });
});

test('header: lengths, types and payload offsets', () => {
  decodeError(Buffer.alloc(0), 'too-short');
  decodeError(hex('000c 0b0c 00000000 000000'), 'too-short', 11);
  const contact = raw(11, []);
  assert.deepEqual(decoded(contact), { type: 'CONTACT', time: 1700000000, xid: 7 });

  const lengthIs = (n: number): Buffer => {
    const b = Buffer.from(contact);
    b.writeUInt16BE(n, 0);
    return b;
  };
  decodeError(lengthIs(11), 'bad-length', 0);
  decodeError(lengthIs(0), 'bad-length', 0);
  decodeError(lengthIs(2049), 'bad-length', 0);
  decodeError(lengthIs(13), 'length-mismatch', 0);
  decodeError(Buffer.concat([contact, hex('00')]), 'length-mismatch', 0);

  // The largest message there can be.
  const biggest = raw(12, [[O.MESSAGE, Buffer.alloc(2048 - 16, 0x61)]]);
  assert.equal(biggest.length, 2048);
  assert.equal((decoded(biggest) as { message?: string }).message?.length, 2032);

  for (const type of [0, 13, 127, 128, 255]) decodeError(raw(type, []), 'unknown-type', 2);

  // Payload offset: below 12 (the draft's 8) or beyond the end is an error; above 12 skips header bytes.
  decodeError(raw(11, [], { payoff: 8 }), 'bad-payload-offset', 3);
  decodeError(raw(11, [], { payoff: 11 }), 'bad-payload-offset', 3);
  decodeError(raw(11, [], { payoff: 13 }), 'bad-payload-offset', 3);
  decodeError(raw(12, [[O.REJECT_REASON, u8(1)]], { payoff: 18 }), 'bad-payload-offset', 3);
  const extended = raw(12, [[O.REJECT_REASON, u8(6)]], { extraHeader: hex('deadbeef') });
  assert.equal(extended[3], 16);
  assert.deepEqual(decoded(extended), { type: 'DISCONNECT', time: 1700000000, xid: 7, rejectReason: 6 });
  // Payload offset = length: no options.
  assert.deepEqual(decoded(raw(12, [], { extraHeader: hex('0000') })), { type: 'DISCONNECT', time: 1700000000, xid: 7 });
});

test('decoded values do not alias the receive buffer', () => {
  const bytes = Buffer.from(BNDUPD_BYTES);
  const m = decoded(bytes) as { chaddr?: Buffer };
  bytes.fill(0);
  assert.deepEqual(m.chaddr, hex('01525400123456'));
});

// ---- The encoder's checks ----

test('encode refuses what dhcpd would not carry or cannot be sent', () => {
  const bad = (msg: unknown, pattern: RegExp): void => {
    assert.throws(
      () => encodeMessage(msg as FailoverMessage),
      (err: unknown) => err instanceof FailoverEncodeError && pattern.test(err.message),
    );
  };
  bad({ type: 'BNDUPD', time: 0, xid: 0, mclt: 5 }, /does not carry mclt/);
  bad({ type: 'CONTACT', time: 0, xid: 0, message: 'x' }, /does not carry message/);
  bad({ type: 'STATE', time: 0, xid: 0, bogus: 1 }, /does not carry bogus/);
  bad({ type: 'BNDUPD', time: 0, xid: 0, ddns: Buffer.alloc(2) }, /does not carry ddns/);
  bad({ type: 'HELLO', time: 0, xid: 0 }, /unknown message type/);
  bad({ type: 'CONTACT', time: -1, xid: 0 }, /time/);
  bad({ type: 'CONTACT', time: 0, xid: 2 ** 32 }, /xid/);
  bad({ type: 'CONTACT', time: 1.5, xid: 0 }, /time/);
  bad({ type: 'STATE', time: 0, xid: 0, serverState: 256 }, /server-state/);
  bad({ type: 'BNDUPD', time: 0, xid: 0, ipFlags: 0x10000 }, /IP-flags/);
  bad({ type: 'BNDUPD', time: 0, xid: 0, assignedIpAddress: -1 }, /assigned-IP-address/);
  bad({ type: 'BNDUPD', time: 0, xid: 0, chaddr: 'aa' }, /not a Buffer/);
  bad({ type: 'DISCONNECT', time: 0, xid: 0, message: 5 }, /not a string/);
  bad({ type: 'CONNECT', time: 0, xid: 0, hba: Buffer.alloc(31) }, /must be 32/);
  bad({ type: 'CONNECT', time: 0, xid: 0, hba: Buffer.alloc(33) }, /must be 32/);
  bad({ type: 'DISCONNECT', time: 0, xid: 0, message: 'x'.repeat(2048 - 16 + 1) }, /longer than 2048/);
  // At the limit it goes.
  assert.equal(encodeMessage({ type: 'DISCONNECT', time: 0, xid: 0, message: 'x'.repeat(2048 - 16) }).length, 2048);
  // undefined fields are absent fields.
  assert.equal(encodeMessage({ type: 'CONTACT', time: 0, xid: 0, mclt: undefined } as unknown as FailoverMessage).length, 12);
});

// ---- The framer ----

test('framer: messages split anywhere and joined in any way come out whole', () => {
  const stream = Buffer.concat(SAMPLES.map((m) => encodeMessage(m)));
  const expected = SAMPLES.map((m) => encodeMessage(m));
  for (const size of [1, 2, 3, 5, 12, 13, 64, 111, 1000, stream.length]) {
    const framer = new FailoverFramer();
    const frames: Buffer[] = [];
    for (let pos = 0; pos < stream.length; pos += size) {
      const out = framer.feed(stream.subarray(pos, pos + size));
      assert.equal(out.error, undefined);
      frames.push(...out.frames);
      assert.ok(framer.buffered < 2048);
    }
    assert.deepEqual(frames, expected, `chunks of ${size}`);
    assert.equal(framer.buffered, 0);
  }
});

test('framer: a length below 12 or above 2048 is a framing error, and it sticks', () => {
  // 0 and 1 are tried in a worker (below): a framer that looped on them would hang this process.
  for (const length of [11, 2049, 0xffff]) {
    const framer = new FailoverFramer();
    const good = encodeMessage({ type: 'CONTACT', time: 1, xid: 1 });
    const badHead = u16(length);
    const out = framer.feed(Buffer.concat([good, good, badHead, Buffer.alloc(20, 0xff)]));
    assert.deepEqual(out.frames, [good, good], `length ${length}`);
    assert.equal(out.error?.kind, 'bad-length');
    assert.equal(out.error?.offset, 24);
    const later = framer.feed(good);
    assert.deepEqual(later.frames, []);
    assert.equal(later.error, out.error);
    assert.equal(framer.error, out.error);
  }
  // Found as soon as the two length bytes are in, split across reads.
  const framer = new FailoverFramer();
  assert.deepEqual(framer.feed(hex('00')), { frames: [] });
  assert.equal(framer.feed(hex('0b')).error?.kind, 'bad-length');
  // 12 and 2048 are fine.
  const edge = new FailoverFramer();
  const big = raw(12, [[O.MESSAGE, Buffer.alloc(2032)]]);
  const out = edge.feed(Buffer.concat([raw(11, []), big]));
  assert.deepEqual(out, { frames: [raw(11, []), big] });
});

test('framer: frames are copies', () => {
  const framer = new FailoverFramer();
  const chunk = encodeMessage({ type: 'CONTACT', time: 1, xid: 1 });
  const [frame] = framer.feed(chunk).frames;
  chunk.fill(0);
  assert.equal(frame?.readUInt16BE(0), 12);
});

// ---- Fuzz ----

const SEED = Number(process.env.JFO_FUZZ_SEED ?? 0x6a666f77) >>> 0;
const ITERATIONS = Number(process.env.JFO_FUZZ_ITERATIONS ?? 30_000);

const KINDS = new Set<WireErrorKind>([
  'too-short',
  'bad-length',
  'length-mismatch',
  'unknown-type',
  'bad-payload-offset',
  'option-overflow',
  'duplicate-option',
  'bad-option-size',
  'unsupported-option',
]);

function checkResult(result: DecodeResult, input: Buffer, context: string): void {
  if (!result.ok) {
    assert.ok(KINDS.has(result.error.kind), context);
    assert.ok(Number.isInteger(result.error.offset) && result.error.offset >= 0 && result.error.offset <= input.length, context);
    assert.equal(typeof result.error.message, 'string');
    return;
  }
  // A decoded message encodes again (unless it holds what we never send) and decodes to itself.
  let again: Buffer;
  try {
    again = encodeMessage(result.message);
  } catch (err) {
    assert.ok(err instanceof FailoverEncodeError, context);
    assert.match(err.message, /must be 32|longer than 2048/, context);
    return;
  }
  assert.ok(again.length <= 2048, context);
  const second = decodeMessage(again);
  assert.ok(second.ok, context);
  assert.deepEqual(encodeMessage(second.message), again, context);
}

function mutate(random: ReturnType<typeof makeRandom>, seedMessage: Buffer): Buffer {
  const buf = Buffer.from(seedMessage);
  switch (random.int(6)) {
    case 0: // bit flips
      for (let n = 1 + random.int(4); n > 0; n--) buf[random.int(buf.length)]! ^= 1 << random.int(8);
      return buf;
    case 1: // truncation, length field left alone
      return buf.subarray(0, random.int(buf.length + 1));
    case 2: {
      // truncation with the length field fixed up
      const cut = Buffer.from(buf.subarray(0, 12 + random.int(buf.length - 11)));
      cut.writeUInt16BE(cut.length, 0);
      return cut;
    }
    case 3: // an option length byte changed
      if (buf.length > 15) buf[12 + random.int(buf.length - 12)] = random.int(256);
      return buf;
    case 4: {
      // random options appended, length fixed up
      const extra = random.bytes(random.int(40));
      const out = Buffer.concat([buf, extra]);
      if (out.length <= 0xffff) out.writeUInt16BE(out.length, 0);
      return out;
    }
    default: // random type and payload offset
      buf[2] = random.int(16);
      buf[3] = random.int(32);
      return buf;
  }
}

test(`fuzz: decodeMessage never throws (seed ${SEED}, ${ITERATIONS} runs)`, () => {
  const random = makeRandom(SEED);
  const seeds = [...SAMPLES.map((m) => encodeMessage(m)), CONNECT_BYTES, BNDUPD_BYTES, BNDACK_BYTES];
  for (let i = 0; i < ITERATIONS; i++) {
    const input = random.int(4) === 0 ? random.bytes(random.int(80)) : mutate(random, seeds[random.int(seeds.length)]!);
    const context = `seed ${SEED} iteration ${i}: ${input.toString('hex')}`;
    let result: DecodeResult;
    try {
      result = decodeMessage(input);
    } catch (err) {
      assert.fail(`decodeMessage threw (${String(err)}) on ${context}`);
    }
    checkResult(result, input, context);
  }
});

// The framer is fuzzed in a worker that is terminated after a deadline: a framer that looped (on a length
// of 0, say) would otherwise hang the test process instead of failing a test.
test(`fuzz: the framer always returns (in a worker with a deadline; seed ${SEED}, ${ITERATIONS} runs)`, async () => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { FailoverFramer } = require(workerData.wire);
    const problems = [];
    // Every length from 0 to 13 at the head of a stream.
    const lengths = [];
    for (let length = 0; length <= 13; length++) {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(length);
      const out = new FailoverFramer().feed(Buffer.concat([head, Buffer.alloc(length < 12 ? 40 : length - 2)]));
      lengths.push([length, out.frames.length, out.error ? out.error.kind : null]);
    }
    // Random streams: junk, and valid messages with bytes flipped, fed in random chunks.
    let state = workerData.seed >>> 0;
    const next = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    };
    const int = (n) => next() % n;
    const seeds = workerData.seeds.map((h) => Buffer.from(h, 'hex'));
    for (let i = 0; i < workerData.iterations && problems.length < 5; i++) {
      let input;
      if (int(3) === 0) {
        input = Buffer.alloc(int(200));
        for (let k = 0; k < input.length; k++) input[k] = next() & 0xff;
      } else {
        const parts = [];
        for (let n = 1 + int(4); n > 0; n--) parts.push(seeds[int(seeds.length)]);
        input = Buffer.concat(parts);
        for (let n = int(4); n > 0; n--) input[int(input.length)] ^= 1 << int(8);
      }
      const framer = new FailoverFramer();
      let given = 0;
      let framed = 0;
      for (let pos = 0; pos < input.length; ) {
        const size = 1 + int(input.length - pos);
        const out = framer.feed(input.subarray(pos, pos + size));
        pos += size;
        given += size;
        for (const frame of out.frames) {
          if (frame.length < 12 || frame.readUInt16BE(0) !== frame.length) problems.push('bad frame in ' + i);
          framed += frame.length;
        }
        if (out.error) break;
      }
      if (framed + framer.buffered > given) problems.push('more bytes out than in at ' + i);
    }
    parentPort.postMessage({ lengths, problems });
  `;
  const workerData = {
    wire: path.resolve(__dirname, '../../src/failover/wire.js'),
    seed: SEED,
    iterations: ITERATIONS,
    seeds: SAMPLES.map((m) => encodeMessage(m).toString('hex')),
  };
  const worker = new Worker(code, { eval: true, workerData });
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await new Promise<unknown>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('the framer did not return within 30 s')), 30_000);
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.deepEqual(result, {
      lengths: Array.from({ length: 14 }, (_, n) => (n < 12 ? [n, 0, 'bad-length'] : [n, 1, null])),
      problems: [],
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
});
