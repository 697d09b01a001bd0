// encode(): header, option order, RFC 3396 splitting, maximum message size with overload into file and
// sname, the drop order, BOOTP sizes. Outputs are checked byte by byte where the layout matters, and
// decoded back to check nothing was lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/codec/decode';
import { encode } from '../../src/codec/encode';
import { encodeOptionValue } from '../../src/codec/options';
import type { DhcpPacket, OptionMap } from '../../src/codec/types';
import { ip } from '../../src/util/ipv4';

const hex = (text: string): Buffer => Buffer.from(text.replace(/[\s:]/g, ''), 'hex');

function reply(options: Array<[number, Buffer]>, extra: Partial<DhcpPacket> = {}): DhcpPacket {
  return {
    op: 2,
    htype: 1,
    hlen: 6,
    hops: 1,
    xid: 0x01020304,
    secs: 3,
    flags: 0x8000,
    ciaddr: 0,
    yiaddr: ip('10.0.0.50'),
    siaddr: ip('10.0.0.1'),
    giaddr: ip('10.0.9.1'),
    chaddr: Buffer.concat([hex('020000aabbcc'), Buffer.alloc(10)]),
    sname: '',
    file: '',
    options: new Map(options),
    hasMagicCookie: true,
    ...extra,
  };
}

function decoded(buf: Buffer): DhcpPacket {
  const result = decode(buf, { requireEnd: true });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.packet;
}

function sameOptions(actual: OptionMap, expected: OptionMap): void {
  const norm = (m: OptionMap) => new Map([...m].map(([k, v]) => [k, v.toString('hex')]));
  assert.deepEqual(norm(actual), norm(expected));
}

/** Options area [start, end) as a list of [code, length] up to END, pads skipped. */
function layout(buf: Buffer, start: number, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = start; i < end;) {
    if (buf[i] === 0) {
      i++;
      continue;
    }
    if (buf[i] === 255) {
      out.push([255, 0]);
      break;
    }
    out.push([buf[i]!, buf[i + 1]!]);
    i += 2 + buf[i + 1]!;
  }
  return out;
}

const u32 = (v: number) => encodeOptionValue(51, v);
const ESSENTIALS: Array<[number, Buffer]> = [
  [53, hex('02')],
  [54, u32(ip('10.0.0.1'))],
  [51, u32(3600)],
  [1, u32(0xffffff00)],
  [3, u32(ip('10.0.0.1'))],
  [58, u32(1800)],
  [59, u32(3150)],
];

test('header and options go out as given, 53 moved first, END last, and decode back the same', () => {
  const pkt = reply(
    [
      [1, u32(0xffffff00)],
      [53, hex('05')],
      [3, u32(ip('10.0.0.1'))],
    ],
    { sname: 'srv', file: 'boot' },
  );
  const buf = encode(pkt);
  assert.equal(buf.length, 240 + 3 + 6 + 6 + 1);
  assert.deepEqual(layout(buf, 240, buf.length), [
    [53, 1],
    [1, 4],
    [3, 4],
    [255, 0],
  ]);
  assert.deepEqual(buf.subarray(0, 12), hex('02 01 06 01 01020304 0003 8000'));
  assert.deepEqual(buf.subarray(12, 28), hex('00000000 0a000032 0a000001 0a000901'));
  assert.deepEqual(buf.subarray(236, 240), hex('63825363'));
  const back = decoded(buf);
  const { options, ...header } = back;
  const { options: sent, ...sentHeader } = pkt;
  assert.deepEqual(
    { ...header, chaddr: header.chaddr.toString('hex') },
    { ...sentHeader, chaddr: sentHeader.chaddr.toString('hex') },
  );
  sameOptions(options, sent);
});

test('codes 0, 52, 255 and out-of-range keys in the Map are ignored', () => {
  const buf = encode(
    reply([
      [53, hex('05')],
      [0, hex('01')],
      [52, hex('03')],
      [255, hex('')],
      [300, hex('01')],
      [12, Buffer.from('h')],
    ]),
  );
  assert.deepEqual(layout(buf, 240, buf.length), [
    [53, 1],
    [12, 1],
    [255, 0],
  ]);
});

test('RFC 3396: a value longer than 255 bytes goes out as consecutive instances and joins back', () => {
  const big = Buffer.alloc(600);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  const buf = encode(
    reply([
      [53, hex('05')],
      [43, big],
      [12, Buffer.from('h')],
    ]),
    { maxMessageSize: 1500 },
  );
  assert.deepEqual(layout(buf, 240, buf.length), [
    [53, 1],
    [43, 255],
    [43, 255],
    [43, 90],
    [12, 1],
    [255, 0],
  ]);
  assert.deepEqual(decoded(buf).options.get(43), big);
  // The boundaries: 255 is one instance, 256 two, 510 two, 511 three.
  for (const [length, instances] of [
    [255, [255]],
    [256, [255, 1]],
    [510, [255, 255]],
    [511, [255, 255, 1]],
  ] as const) {
    const value = Buffer.alloc(length, 0x5a);
    const out = encode(reply([[43, value]]), { maxMessageSize: 1500 });
    assert.deepEqual(layout(out, 240, out.length), [...instances.map((n): [number, number] => [43, n]), [255, 0]]);
    assert.equal(out.length, 240 + length + 2 * instances.length + 1, `length ${length}`);
    assert.deepEqual(decoded(out).options.get(43), value);
  }
  // Zero-length options stay one zero-length instance.
  const empty = encode(reply([[80, Buffer.alloc(0)]]));
  assert.deepEqual(layout(empty, 240, empty.length), [
    [80, 0],
    [255, 0],
  ]);
});

test('the default maximum (576) keeps the message within 548 bytes, spilling into file then sname', () => {
  // 7 essentials (31 bytes) + 6 options of 52 bytes = 343 > 307 bytes of options field.
  const extra: Array<[number, Buffer]> = [];
  for (let i = 0; i < 6; i++) extra.push([224 + i, Buffer.alloc(50, 0x61 + i)]);
  const pkt = reply([...ESSENTIALS, ...extra]);
  const buf = encode(pkt);
  assert.ok(buf.length <= 548, `length ${buf.length}`);
  const main = layout(buf, 240, buf.length);
  assert.deepEqual(
    main.slice(0, 2),
    [
      [53, 1],
      [52, 1],
    ],
    '53 first, then the overload option',
  );
  assert.equal(buf[245], 1, 'overload = file only: the options fit in the field and file');
  assert.deepEqual(layout(buf, 108, 236).at(-1), [255, 0], 'END in file');
  const back = decoded(buf);
  sameOptions(back.options, pkt.options);
  assert.equal(back.file, '');
  assert.equal(back.sname, '', 'sname unused: still empty text');

  // More: file and sname both.
  const more = reply([...ESSENTIALS, ...extra, [230, Buffer.alloc(50, 0x7a)], [231, Buffer.alloc(40, 0x79)]]);
  const buf2 = encode(more);
  assert.ok(buf2.length <= 548);
  assert.equal(buf2[245], 3, 'overload = file and sname');
  assert.deepEqual(layout(buf2, 44, 108).at(-1), [255, 0], 'END in sname');
  sameOptions(decoded(buf2).options, more.options);
  // A larger maximum from the client: everything in the options field, no overload.
  const big = encode(more, { maxMessageSize: 1500 });
  assert.equal(
    layout(big, 240, big.length).some(([code]) => code === 52),
    false,
  );
  sameOptions(decoded(big).options, more.options);
});

test('a non-empty file or sname is kept and not overloaded', () => {
  const extra: Array<[number, Buffer]> = [];
  for (let i = 0; i < 6; i++) extra.push([224 + i, Buffer.alloc(50, 0x61 + i)]);
  const withFile = reply([...ESSENTIALS, ...extra], { file: 'pxelinux.0' });
  const buf = encode(withFile);
  assert.equal(buf[245], 2, 'overload = sname only');
  const back = decoded(buf);
  assert.equal(back.file, 'pxelinux.0');
  sameOptions(back.options, withFile.options);

  const withBoth = reply([...ESSENTIALS, ...extra], { file: 'pxelinux.0', sname: 'tftp' });
  const buf2 = encode(withBoth);
  assert.ok(buf2.length <= 548);
  const back2 = decoded(buf2);
  assert.equal(back2.sname, 'tftp');
  assert.equal(back2.file, 'pxelinux.0');
  assert.deepEqual([...back2.options.keys()], [53, 54, 51, 1, 3, 58, 59, 224, 225, 226, 227, 228], 'the last option dropped');
});

test('options are dropped from the end of the Map, never 53, 54, 51, 1, 3, 58, 59', () => {
  // Essentials last in the Map: the droppable options before them go, from the end.
  const droppable: Array<[number, Buffer]> = [];
  for (let i = 0; i < 8; i++) droppable.push([224 + i, Buffer.alloc(100, i)]);
  const pkt = reply([...droppable, ...ESSENTIALS.slice(1), [53, hex('02')]], { file: 'f', sname: 's' });
  const buf = encode(pkt);
  assert.ok(buf.length <= 548);
  const keys = [...decoded(buf).options.keys()];
  assert.deepEqual(keys, [53, 224, 225, 54, 51, 1, 3, 58, 59]);
  // With an absurd maximum only the essentials remain, sent over the limit rather than not at all.
  const tiny = encode(pkt, { maxMessageSize: 280 });
  assert.deepEqual([...decoded(tiny).options.keys()], [53, 54, 51, 1, 3, 58, 59]);
  assert.ok(tiny.length > 280 - 28);
});

test('minSize pads with zeros after END: BOOTP replies of 300 bytes', () => {
  const buf = encode(reply([[1, u32(0xffffff00)]]), { minSize: 300 });
  assert.equal(buf.length, 300);
  assert.equal(buf[246], 255);
  assert.ok(buf.subarray(247).every((b) => b === 0));
  assert.equal(encode(reply([[1, u32(0xffffff00)]]), { minSize: 548 }).length, 548);
  assert.equal(encode(reply([])).length, 241, 'no padding without minSize');
});

test('without the magic cookie: a zeroed 64-byte vendor area, no options', () => {
  const pkt = reply([[1, u32(0xffffff00)]], { hasMagicCookie: false, file: '/tftpboot/vmunix' });
  const buf = encode(pkt);
  assert.equal(buf.length, 300);
  assert.ok(buf.subarray(236).every((b) => b === 0));
  const back = decoded(buf);
  assert.equal(back.hasMagicCookie, false);
  assert.equal(back.file, '/tftpboot/vmunix');
  assert.equal(encode(pkt, { minSize: 548 }).length, 548);
});

test('sname/file fill at most their field; a 64-byte sname goes out without NUL and reads back', () => {
  const buf = encode(reply([], { sname: 'x'.repeat(70), file: 'y'.repeat(128) }));
  const back = decoded(buf);
  assert.equal(back.sname, 'x'.repeat(64));
  assert.equal(back.file, 'y'.repeat(128));
  assert.equal(buf[236], 0x63, 'the cookie was not overwritten');
});

test('a chaddr shorter than 16 bytes is zero-filled', () => {
  const buf = encode(reply([], { chaddr: hex('020000aabbcc') }));
  assert.deepEqual(buf.subarray(28, 44), Buffer.concat([hex('020000aabbcc'), Buffer.alloc(10)]));
});
