// Typed option values: every table entry round-trips, RFC examples give the RFC bytes, bad bytes are
// refused with a reason, and hostile names (pointer loops) terminate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OPTIONS,
  OPTIONS_BY_NAME,
  type OptionDef,
  type OptionValue,
  checkOptionValue,
  circuitId,
  decodeOptionValue,
  encodeOptionValue,
  linkSelection,
  optionType,
  relayAgentSubOption,
  remoteId,
  serverIdOverride,
  FQDN_FLAG_E,
  FQDN_FLAG_S,
} from '../../src/codec/options';
import { ip } from '../../src/util/ipv4';

const hex = (text: string): Buffer => Buffer.from(text.replace(/[\s:]/g, ''), 'hex');

function clamp(def: OptionDef, value: number): number {
  return Math.min(def.max ?? Infinity, Math.max(def.min ?? -Infinity, value));
}

/** Sample values of an option's type (several when the type has distinct shapes). */
function samples(def: OptionDef): OptionValue[] {
  switch (def.type) {
    case 'ip':
      return [ip('10.1.2.3'), 0, 0xffffffff];
    case 'ip-list':
      return def.minLength === 0 ? [[], [ip('10.0.0.1')]] : [[ip('10.0.0.1')], [ip('10.0.0.1'), ip('192.168.255.254')]];
    case 'ip-pairs':
      return [
        [
          [ip('10.0.0.0'), ip('255.0.0.0')],
          [ip('192.168.1.0'), ip('192.168.1.1')],
        ],
      ];
    case 'u8':
      return [clamp(def, 0), clamp(def, 200)];
    case 'u16':
      return [clamp(def, 0), clamp(def, 1500), clamp(def, 65535)];
    case 'u32':
      return [0, 86400, 0xffffffff];
    case 'i32':
      return [-3600, 0, 0x7fffffff, -0x80000000];
    case 'u8-list':
      return [[1, 3, 6, 15, 255]];
    case 'u16-list':
      return [[clamp(def, 0), clamp(def, 1500)]];
    case 'bool':
      return [true, false];
    case 'string':
      return ['example', 'caf\u00e9 latin1'];
    case 'bytes':
      return def.minLength === undefined ? [Buffer.alloc(0), hex('0102030405')] : [hex('0102030405')];
    case 'client-fqdn':
      return [
        { flags: FQDN_FLAG_S | FQDN_FLAG_E, rcode1: 0, rcode2: 0, name: 'host.example.com.' },
        { flags: FQDN_FLAG_E, rcode1: 255, rcode2: 255, name: 'host' },
        { flags: FQDN_FLAG_E, rcode1: 0, rcode2: 0, name: '' },
        { flags: 0, rcode1: 0, rcode2: 0, name: 'host.example.com' },
      ];
    case 'relay-agent':
      return [
        [
          { code: 1, data: Buffer.from('eth0:7') },
          { code: 2, data: hex('0011223344') },
          { code: 5, data: hex('0a010000') },
          { code: 9, data: Buffer.alloc(0) },
        ],
      ];
    case 'domain-list':
      return [['example.com', 'eng.example.com', 'example.org', 'a\\.b.example.com']];
    case 'classless-routes':
      return [
        [
          { destination: 0, prefixLength: 0, router: ip('10.0.0.1') },
          { destination: ip('10.229.0.128'), prefixLength: 25, router: ip('10.0.0.2') },
          { destination: ip('10.198.122.47'), prefixLength: 32, router: ip('10.0.0.3') },
        ],
      ];
  }
}

test('every option of the table round-trips through bytes for every sample of its type', () => {
  assert.ok(OPTIONS.size >= 90);
  for (const def of OPTIONS.values()) {
    for (const value of samples(def)) {
      const bytes = encodeOptionValue(def.code, value);
      const decoded = decodeOptionValue(def.code, bytes);
      assert.ok(decoded.ok, `option ${def.code} (${def.name}): ${!decoded.ok && decoded.message}`);
      assert.deepEqual(decoded.value, value, `option ${def.code} (${def.name})`);
      assert.equal(checkOptionValue(def.code, value), undefined);
    }
  }
});

test('the table covers RFC 2132 1..76 and the later options the server meets, with the brief types', () => {
  for (let code = 1; code <= 76; code++) assert.ok(OPTIONS.has(code), `option ${code} missing`);
  for (const code of [77, 81, 82, 93, 97, 118, 119, 121]) assert.ok(OPTIONS.has(code), `option ${code} missing`);
  const expected: Record<number, string> = {
    1: 'ip',
    2: 'i32',
    3: 'ip-list',
    12: 'string',
    13: 'u16',
    19: 'bool',
    20: 'bool',
    21: 'ip-pairs',
    25: 'u16-list',
    27: 'bool',
    29: 'bool',
    30: 'bool',
    31: 'bool',
    33: 'ip-pairs',
    34: 'bool',
    36: 'bool',
    39: 'bool',
    43: 'bytes',
    51: 'u32',
    55: 'u8-list',
    61: 'bytes',
    66: 'string',
    67: 'string',
    77: 'bytes',
    81: 'client-fqdn',
    82: 'relay-agent',
    118: 'ip',
    119: 'domain-list',
    121: 'classless-routes',
  };
  for (const [code, type] of Object.entries(expected)) assert.equal(optionType(Number(code)), type, `option ${code}`);
  assert.equal(optionType(224), 'bytes');
  assert.equal(OPTIONS_BY_NAME.get('routers')?.code, 3);
  assert.equal(OPTIONS_BY_NAME.get('dhcp-client-identifier')?.code, 61);
});

test('an option not in the table is opaque bytes both ways', () => {
  const bytes = hex('deadbeef');
  assert.deepEqual(decodeOptionValue(224, bytes), { ok: true, value: bytes });
  assert.equal(encodeOptionValue(224, bytes), bytes);
  assert.match(checkOptionValue(224, 'text') ?? '', /expected bytes/);
});

test('values give the exact RFC bytes', () => {
  assert.deepEqual(encodeOptionValue(1, ip('255.255.255.0')), hex('ffffff00'));
  assert.deepEqual(encodeOptionValue(2, -3600), hex('fffff1f0'));
  assert.deepEqual(encodeOptionValue(3, [ip('10.0.0.1'), ip('10.0.0.2')]), hex('0a000001 0a000002'));
  assert.deepEqual(encodeOptionValue(19, true), hex('01'));
  assert.deepEqual(encodeOptionValue(33, [[ip('10.1.0.0'), ip('10.0.0.1')]]), hex('0a010000 0a000001'));
  assert.deepEqual(encodeOptionValue(57, 1500), hex('05dc'));
  assert.deepEqual(encodeOptionValue(15, 'example.com'), Buffer.from('example.com'));
  // RFC 3397 section 3 example: the second name points back at "apple.com".
  assert.deepEqual(
    encodeOptionValue(119, ['eng.apple.com.', 'marketing.apple.com']),
    Buffer.concat([
      hex('03'),
      Buffer.from('eng'),
      hex('05'),
      Buffer.from('apple'),
      hex('03'),
      Buffer.from('com'),
      hex('00 09'),
      Buffer.from('marketing'),
      hex('c004'),
    ]),
  );
  // RFC 3442 section 1 table of destination encodings.
  const route = (dest: string, prefixLength: number) =>
    encodeOptionValue(121, [{ destination: ip(dest), prefixLength, router: ip('10.0.0.1') }]);
  assert.deepEqual(route('0.0.0.0', 0), hex('00 0a000001'));
  assert.deepEqual(route('10.0.0.0', 8), hex('08 0a 0a000001'));
  assert.deepEqual(route('10.17.0.0', 16), hex('10 0a11 0a000001'));
  assert.deepEqual(route('10.27.129.0', 24), hex('18 0a1b81 0a000001'));
  assert.deepEqual(route('10.229.0.128', 25), hex('19 0ae50080 0a000001'));
  assert.deepEqual(route('10.198.122.47', 32), hex('20 0ac67a2f 0a000001'));
});

test('option 81: wire-format names with the E flag, ASCII without', () => {
  const wire = decodeOptionValue(81, hex('0500000d6a636f6465632d646863706364')); // dhcpcd's
  assert.deepEqual(wire, { ok: true, value: { flags: 5, rcode1: 0, rcode2: 0, name: 'jcodec-dhcpcd' } });
  const full = decodeOptionValue(
    81,
    Buffer.concat([
      hex('040000 04'),
      Buffer.from('host'),
      hex('07'),
      Buffer.from('example'),
      hex('03'),
      Buffer.from('com'),
      hex('00'),
    ]),
  );
  assert.deepEqual(full, { ok: true, value: { flags: 4, rcode1: 0, rcode2: 0, name: 'host.example.com.' } });
  const ascii = decodeOptionValue(81, Buffer.concat([hex('010000'), Buffer.from('host.example.org')]));
  assert.deepEqual(ascii, { ok: true, value: { flags: 1, rcode1: 0, rcode2: 0, name: 'host.example.org' } });
  assert.equal(decodeOptionValue(81, hex('0400')).ok, false, 'shorter than flags + rcodes');
  assert.equal(decodeOptionValue(81, hex('040000 05 6162')).ok, false, 'label past the end');
  assert.equal(decodeOptionValue(81, hex('040000 01 61 c0 00')).ok, false, 'no compression in option 81');
  assert.equal(decodeOptionValue(81, hex('040000 01 61 00 01')).ok, false, 'bytes after the root label');
  // Escapes make odd labels round-trip.
  const odd = { flags: 4, rcode1: 0, rcode2: 0, name: 'a\\.b\\\\c\\000.example.' };
  const bytes = encodeOptionValue(81, odd);
  assert.deepEqual(
    bytes,
    Buffer.concat([hex('040000 06'), Buffer.from('a.b\\c'), hex('00 07'), Buffer.from('example'), hex('00')]),
  );
  assert.deepEqual(decodeOptionValue(81, bytes), { ok: true, value: odd });
  assert.match(checkOptionValue(81, { flags: 4, rcode1: 0, rcode2: 0, name: 'a..b' }) ?? '', /empty label/);
  assert.match(checkOptionValue(81, { flags: 4, rcode1: 0, rcode2: 0, name: 'x'.repeat(64) }) ?? '', /63 octets/);
});

test('option 119: compression pointers are followed, loops and forward pointers refused', () => {
  const list = hex('03 616263 00 01 78 c000 01 79 c005');
  assert.deepEqual(decodeOptionValue(119, list), { ok: true, value: ['abc', 'x.abc', 'y.x.abc'] });
  assert.equal(decodeOptionValue(119, hex('c000')).ok, false, 'pointer to itself');
  assert.equal(decodeOptionValue(119, hex('01 61 c000')).ok, false, 'pointer back into the same name');
  assert.equal(decodeOptionValue(119, hex('01 61 c004 00 00')).ok, false, 'forward pointer');
  assert.equal(decodeOptionValue(119, hex('01 61 c0')).ok, false, 'truncated pointer');
  assert.equal(decodeOptionValue(119, hex('01 61')).ok, false, 'name without root label');
  assert.equal(decodeOptionValue(119, hex('41 61')).ok, false, 'reserved label type 01');
  assert.equal(decodeOptionValue(119, hex('')).ok, false, 'empty list');
  // A chain of backward pointers that never loops still ends: each pointer must go lower than the last.
  const chain = Buffer.alloc(2 + 2 * 300);
  chain[0] = 0; // the root name at offset 0
  for (let i = 1; i <= 300; i++) {
    chain[2 * i] = 0xc0 | ((2 * (i - 1)) >> 8);
    chain[2 * i + 1] = (2 * (i - 1)) & 0xff;
  }
  chain[1] = 0; // offset 1 is a second root name
  const decoded = decodeOptionValue(119, chain);
  assert.ok(decoded.ok);
  assert.equal((decoded.value as string[]).length, 302);
  // Names longer than 255 octets are refused, also when built from pointers.
  const long = Buffer.concat([...Array.from({ length: 5 }, () => Buffer.concat([hex('3f'), Buffer.alloc(63, 0x61)])), hex('00')]);
  assert.equal(decodeOptionValue(119, long).ok, false);
  assert.match(
    checkOptionValue(119, ['a'.repeat(63) + '.' + 'b'.repeat(63) + '.' + 'c'.repeat(63) + '.' + 'd'.repeat(63)]) ?? '',
    /255/,
  );
});

test('option 121: bad widths and truncated routes are refused; host bits are not encoded', () => {
  assert.equal(decodeOptionValue(121, hex('21 0a000000 0a000001')).ok, false, 'prefix 33');
  assert.equal(decodeOptionValue(121, hex('18 0a0000 0a00')).ok, false, 'router truncated');
  assert.deepEqual(decodeOptionValue(121, hex('08 0aff 0a000001')).ok, false);
  // Bits past the prefix inside the last significant octet are masked on decode.
  assert.deepEqual(decodeOptionValue(121, hex('19 0ae500ff 0a000001')), {
    ok: true,
    value: [{ destination: ip('10.229.0.128'), prefixLength: 25, router: ip('10.0.0.1') }],
  });
  assert.match(checkOptionValue(121, [{ destination: ip('10.0.0.1'), prefixLength: 8, router: 1 }]) ?? '', /host bits/);
});

test('option 82: sub-options kept in order with helpers for the well-known ones', () => {
  const decoded = decodeOptionValue(82, hex('01 03 616263  02 02 0102  05 04 0a0b0c00  0b 04 0a000001  01 01 7a'));
  assert.ok(decoded.ok);
  const list = decoded.value as Array<{ code: number; data: Buffer }>;
  assert.deepEqual(
    list.map((s) => s.code),
    [1, 2, 5, 11, 1],
  );
  assert.deepEqual(circuitId(list), Buffer.from('abc'), 'the first circuit id');
  assert.deepEqual(remoteId(list), hex('0102'));
  assert.equal(linkSelection(list), ip('10.11.12.0'));
  assert.equal(serverIdOverride(list), ip('10.0.0.1'));
  assert.equal(relayAgentSubOption(list, 9), undefined);
  assert.equal(linkSelection([{ code: 5, data: hex('0a0b0c') }]), undefined, 'link selection of 3 bytes');
  assert.equal(decodeOptionValue(82, hex('01 05 6162')).ok, false, 'sub-option past the end');
  assert.equal(decodeOptionValue(82, hex('01 01 61 02')).ok, false, 'sub-option without length');
  assert.equal(decodeOptionValue(82, hex('')).ok, false);
  assert.match(checkOptionValue(82, [{ code: 1, data: Buffer.alloc(256) }]) ?? '', /255/);
});

test('decodeOptionValue refuses lengths and values that do not fit the type', () => {
  const refused: Array<[number, string]> = [
    [1, '0a0000'],
    [3, '0a000001 0a'],
    [3, ''],
    [21, '0a000001'],
    [13, '01'],
    [19, '02'],
    [19, '0101'],
    [22, '0100'],
    [26, '0043'],
    [25, '0044 00'],
    [46, '09'],
    [53, '00'],
    [53, '09'],
    [55, ''],
    [57, '0100'],
    [61, '01'],
    [12, ''],
    [12, '0000'],
    [23, '00'],
    [43, ''],
    [2, '000000'],
  ];
  for (const [code, bytes] of refused) {
    const decoded = decodeOptionValue(code, hex(bytes));
    assert.equal(decoded.ok, false, `option ${code} with ${bytes || 'no bytes'}`);
    assert.ok(!decoded.ok && decoded.message.length > 0);
  }
  // Trailing NULs of strings (sent by some Windows versions) are dropped.
  assert.deepEqual(decodeOptionValue(12, Buffer.from('host\0\0')), { ok: true, value: 'host' });
  assert.deepEqual(decodeOptionValue(68, hex('')), { ok: true, value: [] }, 'option 68 may be empty');
});

test('checkOptionValue explains a mismatch and encodeOptionValue throws on it', () => {
  assert.match(checkOptionValue(3, ip('10.0.0.1')) ?? '', /list of one or more IPv4 addresses/);
  assert.equal(checkOptionValue(3, [ip('10.0.0.1')]), undefined);
  assert.match(checkOptionValue(1, -1) ?? '', /IPv4 address/);
  assert.match(checkOptionValue(1, 2 ** 32) ?? '', /IPv4 address/);
  assert.match(checkOptionValue(13, 65536) ?? '', /16-bit/);
  assert.match(checkOptionValue(23, 0) ?? '', /minimum 1/);
  assert.match(checkOptionValue(57, 575) ?? '', /minimum 576/);
  assert.match(checkOptionValue(19, 1) ?? '', /Boolean/);
  assert.match(checkOptionValue(12, '') ?? '', /non-empty string/);
  assert.match(checkOptionValue(12, 'h\u0100st') ?? '', /latin1/);
  assert.match(checkOptionValue(21, [[1, 2, 3]]) ?? '', /address pairs/);
  assert.match(checkOptionValue(61, Buffer.from([1])) ?? '', /at least 2/);
  assert.match(checkOptionValue(43, 'text') ?? '', /expected bytes/);
  assert.match(checkOptionValue(3, 'auto') ?? '', /IPv4/);
  assert.throws(() => encodeOptionValue(3, 7), TypeError);
  assert.throws(() => encodeOptionValue(2, 2 ** 31), /option 2: expected a signed 32-bit integer/);
});
