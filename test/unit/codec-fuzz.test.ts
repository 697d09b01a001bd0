// Fuzzing the decoder with a million hostile packets: random bytes, and the real clients' requests mutated
// (bit flips, truncation, changed length bytes, zero-length options, option loops through overload, giant
// hlen, bogus option 82, repeated and split options, missing END). For each: decode never throws and gives
// either a packet or a well-formed error; a decoded packet re-encodes and decodes again to the same header
// and options. The PRNG is seeded: a failure names its seed and iteration, and the packet's bytes.
//
//   JCODEC_FUZZ_SEED=<n> JCODEC_FUZZ_ITERATIONS=<n> node --test <out>/test/unit/codec-fuzz.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode } from '../../src/codec/decode';
import { encode } from '../../src/codec/encode';
import type { DecodeErrorKind, DecodeResult, DhcpPacket } from '../../src/codec/types';
import { makeRandom, type Random } from '../helpers/random';

const SEED = Number(process.env.JCODEC_FUZZ_SEED ?? 0x6a636f64) >>> 0;
const ITERATIONS = Number(process.env.JCODEC_FUZZ_ITERATIONS ?? 1_000_000);

const KINDS: ReadonlySet<DecodeErrorKind> = new Set<DecodeErrorKind>([
  'too-short',
  'bad-op',
  'bad-hlen',
  'option-truncated',
  'missing-end',
  'bad-overload',
  'bad-option-length',
  'bad-message-type',
]);

function loadFixtures(): Buffer[] {
  const dirs = [path.resolve(__dirname, '../../../test/fixtures/packets'), path.resolve(process.cwd(), 'test/fixtures/packets')];
  const dir = dirs.find((d) => fs.existsSync(d));
  assert.ok(dir, 'fixtures folder not found');
  const list = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f)));
  assert.ok(list.length > 0);
  return list;
}

/** Offsets of the length bytes of the options field (best effort on a possibly damaged packet). */
function lengthBytes(buf: Buffer): number[] {
  const out: number[] = [];
  for (let i = 240; i + 1 < buf.length && out.length < 64;) {
    const code = buf[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) break;
    out.push(i + 1);
    i += 2 + buf[i + 1]!;
  }
  return out;
}

/** Options of the packet as whole TLVs [start, end) in the options field. */
function optionSpans(buf: Buffer): Array<[number, number]> {
  return lengthBytes(buf).map((at) => [at - 1, Math.min(buf.length, at + 1 + buf[at]!)]);
}

/** A random but well-framed TLV stream, codes biased to the ones the decoder checks. */
function randomOptions(r: Random, maxBytes: number): Buffer {
  const parts: Buffer[] = [];
  const interesting = [53, 50, 51, 52, 54, 55, 57, 58, 59, 61, 82, 118, 12, 81, 119, 121, 0, 255];
  let size = 0;
  while (size < maxBytes && !r.chance(0.1)) {
    if (r.chance(0.03)) {
      // a long value split into 255-byte instances (RFC 3396), so re-encoding has to split it again
      const code = 224 + r.int(30);
      const value = r.bytes(200 + r.int(600));
      for (let at = 0; at < value.length; at += 255) {
        const part = value.subarray(at, at + 255);
        parts.push(Buffer.from([code, part.length]), part);
      }
      size += value.length;
      continue;
    }
    const code = r.chance(0.6) ? interesting[r.int(interesting.length)]! : r.int(256);
    if (code === 0 || code === 255) {
      parts.push(Buffer.from([code]));
      size += 1;
      continue;
    }
    const length = r.chance(0.5) ? [0, 1, 2, 4][r.int(4)]! : r.int(40);
    const value = code === 53 && length === 1 && r.chance(0.8) ? Buffer.from([1 + r.int(8)]) : r.bytes(length);
    parts.push(Buffer.from([code, length]), value);
    size += 2 + length;
  }
  return Buffer.concat(parts);
}

function splice(buf: Buffer, at: number, remove: number, insert: Buffer): Buffer {
  return Buffer.concat([buf.subarray(0, at), insert, buf.subarray(Math.min(buf.length, at + remove))]);
}

const MUTATORS: Array<(r: Random, buf: Buffer) => Buffer> = [
  // bit flips, mostly in the options where the decoder has more to check
  (r, buf) => {
    for (let n = 1 + r.int(8); n > 0; n--) {
      const at = r.chance(0.7) && buf.length > 240 ? 240 + r.int(buf.length - 240) : r.int(buf.length || 1);
      if (at < buf.length) buf[at]! ^= 1 << r.int(8);
    }
    return buf;
  },
  // truncation
  (r, buf) => buf.subarray(0, r.int(buf.length + 1)),
  // a length byte changed: any value, or off by one
  (r, buf) => {
    const at = lengthBytes(buf);
    if (at.length > 0) {
      const i = at[r.int(at.length)]!;
      buf[i] = r.chance(0.5) ? r.int(256) : (buf[i]! + (r.chance(0.5) ? 1 : 255)) & 0xff;
    }
    return buf;
  },
  // a zero-length option
  (r, buf) => {
    const spans = optionSpans(buf);
    if (spans.length === 0) return buf;
    const [start, end] = spans[r.int(spans.length)]!;
    return splice(buf, start + 1, end - start - 1, Buffer.from([0]));
  },
  // giant (or any) hlen
  (r, buf) => {
    if (buf.length > 2) buf[2] = r.chance(0.7) ? 17 + r.int(239) : r.int(17);
    return buf;
  },
  // option overload, with file/sname full of options, themselves possibly holding 52 again (loops)
  (r, buf) => {
    if (buf.length < 240) return buf;
    const out = splice(buf, 240, 0, Buffer.from([52, r.chance(0.9) ? 1 : r.int(4), r.chance(0.9) ? 1 + r.int(3) : r.int(256)]));
    if (r.chance(0.8)) randomOptions(r, 128).copy(out, 108, 0, 128);
    if (r.chance(0.8)) randomOptions(r, 64).copy(out, 44, 0, 64);
    if (r.chance(0.2)) Buffer.from([52, 1, 1 + r.int(3)]).copy(out, r.chance(0.5) ? 108 + r.int(120) : 44 + r.int(60));
    return out;
  },
  // a bogus (or, sometimes, well-framed) relay agent option
  (r, buf) => {
    if (buf.length < 240) return buf;
    const data = r.chance(0.5) ? r.bytes(r.int(40)) : Buffer.concat([Buffer.from([1 + r.int(12), 3]), r.bytes(3)]);
    return splice(buf, 240 + r.int(Math.min(8, buf.length - 239)), 0, Buffer.concat([Buffer.from([82, data.length]), data]));
  },
  // an option repeated (RFC 3396 joining), or split in two parts
  (r, buf) => {
    const spans = optionSpans(buf);
    if (spans.length === 0) return buf;
    const [start, end] = spans[r.int(spans.length)]!;
    const tlv = Buffer.from(buf.subarray(start, end));
    if (r.chance(0.5) || tlv.length < 4) return splice(buf, end, 0, tlv);
    const cut = 1 + r.int(tlv.length - 3);
    const first = Buffer.concat([Buffer.from([tlv[0]!, cut]), tlv.subarray(2, 2 + cut)]);
    const second = Buffer.concat([Buffer.from([tlv[0]!, tlv.length - 2 - cut]), tlv.subarray(2 + cut)]);
    return splice(buf, start, end - start, Buffer.concat([first, randomOptions(r, 6), second]));
  },
  // END removed (pad instead, or cut right after the last option)
  (r, buf) => {
    const end = buf.indexOf(255, 240);
    if (end < 0) return buf;
    if (r.chance(0.5)) buf[end] = 0;
    else return buf.subarray(0, end);
    return buf;
  },
  // garbage appended, or random options inserted at the start of the options field
  (r, buf) =>
    r.chance(0.5) || buf.length < 240 ? Buffer.concat([buf, r.bytes(r.int(64))]) : splice(buf, 240, 0, randomOptions(r, 80)),
  // magic cookie damaged or removed
  (r, buf) => {
    if (buf.length > 236 + 3) buf[236 + r.int(4)] = r.int(256);
    return buf;
  },
];

function generate(r: Random, fixtures: Buffer[]): Buffer {
  const kind = r.int(10);
  if (kind === 0) {
    // pure noise, half the time with a header that gets past the first checks
    const buf = r.bytes(r.int(600));
    if (r.chance(0.5) && buf.length >= 240) {
      buf[0] = 1 + r.int(2);
      buf[2] = r.int(17);
      buf.writeUInt32BE(0x63825363, 236);
    }
    return buf;
  }
  if (kind === 1) {
    // a real header, then a random but well-framed options stream
    const base = fixtures[r.int(fixtures.length)]!;
    return Buffer.concat([base.subarray(0, 240), randomOptions(r, 300)]);
  }
  let buf: Buffer = Buffer.from(fixtures[r.int(fixtures.length)]!);
  for (let n = 1 + r.int(3); n > 0; n--) buf = MUTATORS[r.int(MUTATORS.length)]!(r, buf);
  return buf;
}

function checkError(result: DecodeResult & { ok: false }, buf: Buffer): string | undefined {
  const { kind, offset, message } = result.error;
  if (!KINDS.has(kind)) return `unknown error kind ${kind}`;
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) return `offset ${offset} outside the packet`;
  if (typeof message !== 'string' || message.length === 0) return 'empty message';
  if (message.startsWith('internal decode error')) return message; // an exception caught by decode()
  return undefined;
}

function checkPacket(pkt: DhcpPacket): string | undefined {
  if (pkt.hlen > 16 || pkt.chaddr.length !== 16) return `hlen ${pkt.hlen} / chaddr ${pkt.chaddr.length}`;
  for (const [code, value] of pkt.options) {
    if (code === 0 || code === 255 || code === 52) return `option ${code} in the map`;
    if (!Buffer.isBuffer(value)) return `option ${code} is not a Buffer`;
  }
  if (!pkt.hasMagicCookie && pkt.options.size > 0) return 'options without magic cookie';
  return undefined;
}

// An independent, deliberately plain re-statement of the decoding rules (decode.ts documents them):
// differential testing catches what "does not throw" cannot, e.g. an off-by-one that lets an option run
// one byte past its area. Outcomes must agree: the same error kind and offset, or the same options.
type Reference =
  | { ok: true; options: Map<number, string>; sname: string; file: string; hasMagicCookie: boolean }
  | { ok: false; kind: DecodeErrorKind; offset: number };

function referenceDecode(buf: Buffer, requireEnd: boolean): Reference {
  const failed = (kind: DecodeErrorKind, offset: number): Reference => ({ ok: false, kind, offset });
  if (buf.length < 236) return failed('too-short', buf.length);
  if (buf[0] !== 1 && buf[0] !== 2) return failed('bad-op', 0);
  if (buf[2]! > 16) return failed('bad-hlen', 2);
  const text = (start: number, size: number): string => {
    const bytes: number[] = [];
    for (let i = start; i < start + size && buf[i] !== 0; i++) bytes.push(buf[i]!);
    return Buffer.from(bytes).toString('latin1');
  };
  const cookie = buf.length >= 240 && buf[236] === 0x63 && buf[237] === 0x82 && buf[238] === 0x53 && buf[239] === 0x63;
  if (!cookie) return { ok: true, options: new Map(), sname: text(44, 64), file: text(108, 128), hasMagicCookie: false };

  const found: Array<{ code: number; offset: number; value: number[] }> = [];
  let overload = 0;
  const areas: Array<[number, number, boolean]> = [[240, buf.length, true]];
  for (let a = 0; a < areas.length; a++) {
    const [start, end, isMain] = areas[a]!;
    let i = start;
    let ended = false;
    while (i < end) {
      const code = buf[i]!;
      if (code === 0) {
        i += 1;
        continue;
      }
      if (code === 255) {
        ended = true;
        break;
      }
      if (i + 1 === end) return failed('option-truncated', i);
      const length = buf[i + 1]!;
      if (i + 2 + length > end) return failed('option-truncated', i);
      const value = [...buf.subarray(i + 2, i + 2 + length)];
      if (code === 52) {
        if (!isMain || overload !== 0 || length !== 1 || value[0]! < 1 || value[0]! > 3) return failed('bad-overload', i);
        overload = value[0]!;
      } else {
        found.push({ code, offset: i, value });
      }
      i += 2 + length;
    }
    if (!ended && requireEnd) return failed('missing-end', end);
    if (isMain) {
      if (overload & 1) areas.push([108, 236, false]);
      if (overload & 2) areas.push([44, 108, false]);
    }
  }
  const joined = new Map<number, number[]>();
  const firstOffset = new Map<number, number>();
  for (const { code, offset, value } of found) {
    if (!joined.has(code)) {
      joined.set(code, []);
      firstOffset.set(code, offset);
    }
    joined.get(code)!.push(...value);
  }
  const exact: Record<number, number> = { 50: 4, 51: 4, 54: 4, 57: 2, 58: 4, 59: 4, 118: 4, 53: 1 };
  const least: Record<number, number> = { 55: 1, 61: 2 };
  for (const [code, data] of joined) {
    const at = firstOffset.get(code)!;
    if (exact[code] !== undefined && data.length !== exact[code]) return failed('bad-option-length', at);
    if (least[code] !== undefined && data.length < least[code]) return failed('bad-option-length', at);
    if (code === 53 && (data[0]! < 1 || data[0]! > 8)) return failed('bad-message-type', at);
    if (code === 82) {
      let i = 0;
      let framed = data.length > 0;
      while (framed && i < data.length) {
        if (i + 1 >= data.length || i + 2 + data[i + 1]! > data.length) framed = false;
        else i += 2 + data[i + 1]!;
      }
      if (!framed) return failed('bad-option-length', at);
    }
  }
  const options = new Map([...joined].map(([code, value]) => [code, Buffer.from(value).toString('hex')]));
  return {
    ok: true,
    options,
    hasMagicCookie: true,
    sname: overload & 2 ? '' : text(44, 64),
    file: overload & 1 ? '' : text(108, 128),
  };
}

function compareWithReference(result: DecodeResult, expected: Reference): string | undefined {
  if (!result.ok) {
    if (expected.ok) return `decode says ${result.error.kind} at ${result.error.offset}, the reference decodes it`;
    if (result.error.kind !== expected.kind || result.error.offset !== expected.offset) {
      return `decode says ${result.error.kind} at ${result.error.offset}, the reference ${expected.kind} at ${expected.offset}`;
    }
    return undefined;
  }
  if (!expected.ok) return `decode accepts it, the reference says ${expected.kind} at ${expected.offset}`;
  const pkt = result.packet;
  if (pkt.sname !== expected.sname || pkt.file !== expected.file) return 'sname/file differ from the reference';
  if (pkt.hasMagicCookie !== expected.hasMagicCookie) return 'hasMagicCookie differs from the reference';
  const actual = [...pkt.options].map(([code, value]) => `${code}=${value.toString('hex')}`).join(' ');
  const wanted = [...expected.options].map(([code, value]) => `${code}=${value}`).join(' ');
  return actual === wanted ? undefined : `options differ from the reference:\n  ${actual}\n  ${wanted}`;
}

const HEADER_FIELDS = [
  'op',
  'htype',
  'hlen',
  'hops',
  'xid',
  'secs',
  'flags',
  'ciaddr',
  'yiaddr',
  'siaddr',
  'giaddr',
  'sname',
  'file',
  'hasMagicCookie',
] as const;

function checkRoundTrip(pkt: DhcpPacket): string | undefined {
  const again = decode(encode(pkt, { maxMessageSize: 65535 }));
  if (!again.ok) return `re-encoded packet does not decode: ${again.error.kind} ${again.error.message}`;
  const back = again.packet;
  for (const field of HEADER_FIELDS)
    if (back[field] !== pkt[field]) return `${field} ${String(pkt[field])} → ${String(back[field])}`;
  if (!back.chaddr.equals(pkt.chaddr)) return 'chaddr changed';
  if (back.options.size !== pkt.options.size) return `${pkt.options.size} options → ${back.options.size}`;
  for (const [code, value] of pkt.options) {
    const other = back.options.get(code);
    if (other === undefined || !other.equals(value)) return `option ${code} changed`;
  }
  return undefined;
}

function checkDecoded(pkt: DhcpPacket): string | undefined {
  try {
    return checkPacket(pkt) ?? checkRoundTrip(pkt);
  } catch (err) {
    return `encode threw ${(err as Error).message}`;
  }
}

test(`fuzz: ${ITERATIONS} random and mutated packets (seed ${SEED})`, (t) => {
  const fixtures = loadFixtures();
  const r = makeRandom(SEED);
  const seen = new Map<string, number>();
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) {
    const buf = generate(r, fixtures);
    const strict = (i & 7) === 0;
    let result: DecodeResult;
    try {
      result = decode(buf, { requireEnd: strict });
    } catch (err) {
      assert.fail(`seed ${SEED} iteration ${i}: decode threw ${(err as Error).message}\n${buf.toString('hex')}`);
    }
    let problem = compareWithReference(result, referenceDecode(buf, strict));
    if (problem === undefined) problem = result.ok ? checkDecoded(result.packet) : checkError(result, buf);
    const outcome = result.ok ? 'ok' : result.error.kind;
    seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    if (problem !== undefined)
      assert.fail(`seed ${SEED} iteration ${i}${strict ? ' (requireEnd)' : ''}: ${problem}\n${buf.toString('hex')}`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  t.diagnostic(`${ITERATIONS} packets in ${seconds.toFixed(1)} s; outcomes ${JSON.stringify(Object.fromEntries(seen))}`);
  // The generators must reach every outcome, or the fuzzing has quietly stopped testing something.
  for (const kind of [...KINDS, 'ok']) assert.ok((seen.get(kind) ?? 0) > 0, `no packet gave ${kind}`);
  assert.ok((seen.get('ok') ?? 0) > ITERATIONS / 10, 'too few packets decode: round trips barely tested');
});
