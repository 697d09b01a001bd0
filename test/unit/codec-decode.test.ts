// decode(): the header, the options areas (overload, RFC 3396 joining), and every DecodeErrorKind with
// the offset it reports. Packets are built byte by byte here, independent of encode().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/codec/decode';
import type { DecodeErrorKind, DecodeResult, DhcpPacket } from '../../src/codec/types';
import * as acc from '../../src/codec/accessors';
import { ip } from '../../src/util/ipv4';

const hex = (text: string): Buffer => Buffer.from(text.replace(/[\s:]/g, ''), 'hex');
const COOKIE = hex('63825363');

interface RawSpec {
  op?: number;
  hlen?: number;
  cookie?: Buffer | null; // null: no cookie at all
  options?: Buffer;
  sname?: Buffer;
  file?: Buffer;
}

/** A request with distinct header values, the given areas, and the options right after the cookie. */
function raw(spec: RawSpec = {}): Buffer {
  const header = Buffer.alloc(236);
  header[0] = spec.op ?? 1;
  header[1] = 1;
  header[2] = spec.hlen ?? 6;
  header[3] = 2;
  header.writeUInt32BE(0xdeadbeef, 4);
  header.writeUInt16BE(7, 8);
  header.writeUInt16BE(0x8000, 10);
  header.writeUInt32BE(ip('10.0.0.11'), 12);
  header.writeUInt32BE(ip('10.0.0.12'), 16);
  header.writeUInt32BE(ip('10.0.0.13'), 20);
  header.writeUInt32BE(ip('10.0.0.14'), 24);
  hex('020000aabbcc').copy(header, 28);
  spec.sname?.copy(header, 44);
  spec.file?.copy(header, 108);
  const cookie = spec.cookie === undefined ? COOKIE : (spec.cookie ?? Buffer.alloc(0));
  return Buffer.concat([header, cookie, spec.options ?? hex('ff')]);
}

function ok(result: DecodeResult): DhcpPacket {
  assert.ok(result.ok, result.ok ? '' : `${result.error.kind} at ${result.error.offset}: ${result.error.message}`);
  return result.packet;
}

function fails(result: DecodeResult, kind: DecodeErrorKind, offset: number): void {
  assert.equal(result.ok, false, `expected ${kind}`);
  if (result.ok) return;
  assert.equal(result.error.kind, kind, result.error.message);
  assert.equal(result.error.offset, offset, result.error.message);
  assert.ok(result.error.message.length > 0);
}

test('the fixed header decodes field by field', () => {
  const pkt = ok(decode(raw({ sname: Buffer.from('server1'), file: Buffer.from('boot/vmunix\0junk') })));
  assert.equal(pkt.op, 1);
  assert.equal(pkt.htype, 1);
  assert.equal(pkt.hlen, 6);
  assert.equal(pkt.hops, 2);
  assert.equal(pkt.xid, 0xdeadbeef);
  assert.equal(pkt.secs, 7);
  assert.equal(pkt.flags, 0x8000);
  assert.equal(pkt.ciaddr, ip('10.0.0.11'));
  assert.equal(pkt.yiaddr, ip('10.0.0.12'));
  assert.equal(pkt.siaddr, ip('10.0.0.13'));
  assert.equal(pkt.giaddr, ip('10.0.0.14'));
  assert.equal(pkt.chaddr.length, 16);
  assert.deepEqual(acc.hardwareAddress(pkt), hex('020000aabbcc'));
  assert.equal(pkt.sname, 'server1');
  assert.equal(pkt.file, 'boot/vmunix', 'text up to the first NUL');
  assert.equal(pkt.hasMagicCookie, true);
  assert.equal(pkt.options.size, 0);
});

test('sname and file that fill their whole field have no NUL and are read whole', () => {
  const pkt = ok(decode(raw({ sname: Buffer.alloc(64, 0x73), file: Buffer.alloc(128, 0xe9) })));
  assert.equal(pkt.sname, 's'.repeat(64));
  assert.equal(pkt.file, '\u00e9'.repeat(128), 'latin1');
});

test('too-short: fewer bytes than the 236-byte header', () => {
  fails(decode(Buffer.alloc(0)), 'too-short', 0);
  fails(decode(raw().subarray(0, 235)), 'too-short', 235);
});

test('bad-op and bad-hlen point at their header byte', () => {
  fails(decode(raw({ op: 0 })), 'bad-op', 0);
  fails(decode(raw({ op: 3 })), 'bad-op', 0);
  fails(decode(raw({ hlen: 17 })), 'bad-hlen', 2);
  fails(decode(raw({ hlen: 255 })), 'bad-hlen', 2);
  assert.equal(acc.hardwareAddress(ok(decode(raw({ hlen: 16 })))).length, 16);
  assert.equal(ok(decode(raw({ op: 2 }))).op, 2);
});

test('option-truncated: a length past the end of the area, or no length byte at all', () => {
  fails(decode(raw({ options: hex('350101 0c05 6162') })), 'option-truncated', 243);
  fails(decode(raw({ options: hex('350101 0c') })), 'option-truncated', 243);
  // Inside file (overloaded): the area ends at 236, not at the end of the packet.
  const file = Buffer.alloc(128);
  file[126] = 12;
  file[127] = 5;
  fails(decode(raw({ file, options: hex('350101 340101 ff 0000000000') })), 'option-truncated', 108 + 126);
});

test('missing-end: tolerated by default, refused with requireEnd', () => {
  const buf = raw({ options: hex('350101 0c0161') });
  const pkt = ok(decode(buf));
  assert.equal(acc.messageType(pkt), 1);
  assert.equal(acc.hostName(pkt), 'a');
  fails(decode(buf, { requireEnd: true }), 'missing-end', buf.length);
  ok(decode(raw({ options: hex('350101 ff') }), { requireEnd: true }));
  // A cookie and nothing else: no options, no error by default.
  assert.equal(ok(decode(raw({ options: Buffer.alloc(0) }))).options.size, 0);
});

test('bad-overload: wrong length, wrong value, repeated, or inside file/sname', () => {
  fails(decode(raw({ options: hex('350101 34020101 ff') })), 'bad-overload', 243);
  fails(decode(raw({ options: hex('350101 340104 ff') })), 'bad-overload', 243);
  fails(decode(raw({ options: hex('350101 340100 ff') })), 'bad-overload', 243);
  fails(decode(raw({ options: hex('340101 340101 ff') })), 'bad-overload', 243);
  // Option 52 inside the file field that it overloads: the loop of "file says look at file".
  fails(decode(raw({ options: hex('340101 ff'), file: hex('340103 ff') })), 'bad-overload', 108);
  fails(decode(raw({ options: hex('340102 ff'), sname: hex('00 340101 ff') })), 'bad-overload', 45);
});

test('bad-option-length: the options the server relies on have their RFC length', () => {
  const cases: Array<[string, number]> = [
    ['3502 0101', 240], // 53 of length 2
    ['350101 3203 0a0000', 243], // 50
    ['350101 3605 0a00000100', 243], // 54
    ['350101 3302 0001', 243], // 51
    ['350101 3903 05dc00', 243], // 57
    ['350101 3a00', 243], // 58
    ['350101 3b08 0000000000000000', 243], // 59
    ['350101 7602 0a00', 243], // 118
    ['350101 3d01 01', 243], // 61 needs type + at least one byte
    ['350101 3700', 243], // 55 empty
    ['350101 5203 010561', 243], // 82 sub-option past its end
    ['350101 5203 010002', 243], // 82: second sub-option without length byte
    ['350101 5200', 243], // 82 empty
  ];
  for (const [options, offset] of cases) fails(decode(raw({ options: hex(options + 'ff') })), 'bad-option-length', offset);
});

test('bad-message-type: option 53 outside 1..8', () => {
  fails(decode(raw({ options: hex('350100 ff') })), 'bad-message-type', 240);
  fails(decode(raw({ options: hex('0000 350109 ff') })), 'bad-message-type', 242);
  for (let type = 1; type <= 8; type++)
    assert.equal(acc.messageType(ok(decode(raw({ options: hex(`3501${type.toString(16).padStart(2, '0')}ff`) })))), type);
});

test('RFC 3396: repeated options are joined in order, lengths are checked on the joined value', () => {
  const pkt = ok(decode(raw({ options: hex('350101 0c026162 3202 0a00 0c0163 3202 0001 ff') })));
  assert.equal(acc.hostName(pkt), 'abc');
  assert.equal(acc.requestedAddress(pkt), ip('10.0.0.1'));
  assert.deepEqual([...pkt.options.keys()], [53, 12, 50], 'first-appearance order');
  // 53 in two parts of one byte each is a 53 of length 2, reported at its first part.
  fails(decode(raw({ options: hex('0c0161 350101 350101 ff') })), 'bad-option-length', 243);
});

test('option overload: options field, then file, then sname; the overloaded fields are not text', () => {
  const file = Buffer.concat([hex('e00162 0f03 6f7267 ff'), Buffer.alloc(10, 0x41)]);
  const sname = hex('00 e00163 1a0205dc');
  const options = hex('350101 340103 e00161 ff');
  const pkt = ok(decode(raw({ options, file, sname })));
  assert.deepEqual(pkt.options.get(224), Buffer.from('abc'), 'joined as options, file, sname');
  assert.equal(pkt.options.get(15)?.toString(), 'org');
  assert.deepEqual(pkt.options.get(26), hex('05dc'), 'sname without END: tolerated');
  assert.equal(pkt.options.has(52), false, '52 is the codec business');
  assert.equal(pkt.file, '');
  assert.equal(pkt.sname, '');
  // Overload 1 uses file only: sname stays text.
  const fileOnly = ok(decode(raw({ options: hex('340101 ff'), file: hex('0c0178 ff'), sname: Buffer.from('srv') })));
  assert.equal(acc.hostName(fileOnly), 'x');
  assert.equal(fileOnly.sname, 'srv');
  assert.equal(fileOnly.file, '');
});

test('without the magic cookie the vendor area is not read: BOOTP, empty options', () => {
  const cmu = raw({ cookie: Buffer.from('CMU\0'), options: hex('350101 ff') });
  const pkt = ok(decode(cmu));
  assert.equal(pkt.hasMagicCookie, false);
  assert.equal(pkt.options.size, 0);
  const headerOnly = ok(decode(raw({ cookie: null, options: Buffer.alloc(0) })));
  assert.equal(headerOnly.hasMagicCookie, false);
  const shortVendor = ok(decode(Buffer.concat([raw({ cookie: null, options: Buffer.alloc(0) }), hex('6382')])));
  assert.equal(shortVendor.hasMagicCookie, false);
});

test('pad before options and anything after END are ignored', () => {
  const pkt = ok(decode(raw({ options: hex('0000 350103 00 3604 0a000001 ff 0c05 garbage'.replace('garbage', 'deadbeef')) })));
  assert.deepEqual([...pkt.options.keys()], [53, 54]);
  assert.equal(acc.serverIdentifier(pkt), ip('10.0.0.1'));
});

test('values are views into the received buffer unless RFC 3396 joined them', () => {
  const buf = raw({ options: hex('350101 0c0161 e00162 e00163 ff') });
  const pkt = ok(decode(buf));
  assert.equal(pkt.options.get(12)!.buffer, buf.buffer);
  assert.equal(pkt.chaddr.buffer, buf.buffer);
  assert.deepEqual(pkt.options.get(224), Buffer.from('bc'));
});

test('accessors read typed values and give undefined for absent or malformed ones', () => {
  const options = hex(
    '350103 3204 0a000005 3604 0a000001 3304 00015180 3902 05dc 3d07 01020000aabbcc 0c05 686f737400' +
      '3703 01030f 3c0a 4d53465420352e300000 4d04 03616263 5109 010000 686f2e6f7267 5206 01020102 0500' +
      '7604 0a010000 ff',
  );
  const pkt = ok(decode(raw({ options })));
  assert.equal(acc.messageType(pkt), 3);
  assert.equal(acc.requestedAddress(pkt), ip('10.0.0.5'));
  assert.equal(acc.serverIdentifier(pkt), ip('10.0.0.1'));
  assert.equal(acc.leaseTime(pkt), 86400);
  assert.equal(acc.maxMessageSize(pkt), 1500);
  assert.deepEqual(acc.clientIdentifier(pkt), hex('01020000aabbcc'));
  assert.equal(acc.hostName(pkt), 'host', 'trailing NUL dropped');
  assert.deepEqual(acc.parameterRequestList(pkt), [1, 3, 15]);
  assert.equal(acc.vendorClass(pkt), 'MSFT 5.0');
  assert.deepEqual(acc.userClass(pkt), hex('03616263'));
  assert.deepEqual(acc.clientFqdn(pkt), { flags: 1, rcode1: 0, rcode2: 0, name: 'ho.org' });
  assert.deepEqual(acc.relayAgentInfo(pkt), [
    { code: 1, data: hex('0102') },
    { code: 5, data: Buffer.alloc(0) },
  ]);
  assert.equal(acc.subnetSelection(pkt), ip('10.1.0.0'));

  const bare = ok(decode(raw({ options: hex('3902 0100 0c00 3c01 00 5102 0400 ff') })));
  assert.equal(acc.messageType(bare), undefined, 'BOOTP-style: no 53');
  assert.equal(acc.maxMessageSize(bare), undefined, '256 is below the legal 576: treated as absent');
  assert.equal(acc.hostName(bare), undefined, 'empty host name');
  assert.equal(acc.vendorClass(bare), undefined, 'vendor class of one NUL');
  assert.equal(acc.clientFqdn(bare), undefined, 'option 81 shorter than 3');
  for (const read of [
    acc.requestedAddress,
    acc.serverIdentifier,
    acc.leaseTime,
    acc.clientIdentifier,
    acc.parameterRequestList,
    acc.userClass,
    acc.relayAgentInfo,
    acc.subnetSelection,
  ]) {
    assert.equal(read(bare), undefined);
  }
});
