// Bytes → DhcpPacket. Packets come from the network and are hostile: every read below is preceded by a
// bounds check, so decode() cannot throw on any input (the fuzz test feeds it millions of bad packets);
// the try/catch at the top is only a last line of defence that turns a bug into a decode error.
//
// Choices made where the RFCs leave room:
// - A missing END option is tolerated (udhcpc, some embedded and PXE clients end the options area with
//   padding or simply at the end of the packet): the options read so far are kept. Pass requireEnd to
//   get a 'missing-end' error instead (diagnostic tools, strict tests).
// - Option 57 (maximum message size) of length 2 but below 576 is not an error: the packet is served and
//   the accessor maxMessageSize() reports the option as absent, so replies use the RFC 2131 default 576.
// - Option 53 outside 1..8 is 'bad-message-type'; the other length checks are 'bad-option-length'. When
//   several options are bad, the one that appears first in the packet is reported.
// - Error offsets point at the option's code byte (its first instance when RFC 3396 joined several);
//   'too-short' points at the end of the packet, 'missing-end' at the end of the area without END.
// - Option values are views into `buf` (no copy) except those RFC 3396 joined: a caller that keeps a
//   value beyond the packet's life, or reuses the receive buffer, must copy it. chaddr is a view too.
// - Without the magic cookie (at offset 236), the vendor area is not RFC 1048 and is not read: BOOTP.

import type { DecodeError, DecodeErrorKind, DecodeResult, DhcpPacket, OptionMap } from './types';
import { BOOTREPLY, BOOTREQUEST, MAGIC_COOKIE } from './types';

/** Size of the fixed BOOTP header, up to and including `file`. */
export const HEADER_SIZE = 236;
/** Offset of the options (right after the magic cookie). */
export const OPTIONS_OFFSET = 240;
export const SNAME_OFFSET = 44;
export const SNAME_SIZE = 64;
export const FILE_OFFSET = 108;
export const FILE_SIZE = 128;
export const CHADDR_OFFSET = 28;
export const CHADDR_SIZE = 16;

export interface DecodeOptions {
  /** Refuse an options area that ends without the END option ('missing-end'); default false: tolerated. */
  requireEnd?: boolean;
}

const OPT_PAD = 0;
const OPT_END = 255;
const OPT_OVERLOAD = 52;
const OPT_MESSAGE_TYPE = 53;

function failure(kind: DecodeErrorKind, offset: number, message: string): DecodeResult {
  const error: DecodeError = { kind, offset, message };
  return { ok: false, error };
}

/**
 * Collects the options of the areas in order. Parts of a repeated option (RFC 3396) are gathered and
 * joined once at the end, so a hostile packet with thousands of repeats costs linear time.
 */
class OptionCollector {
  readonly options: OptionMap = new Map();
  private parts: Map<number, Buffer[]> | undefined;

  add(code: number, value: Buffer): void {
    const existing = this.options.get(code);
    if (existing === undefined) {
      this.options.set(code, value);
      return;
    }
    this.parts ??= new Map();
    const list = this.parts.get(code);
    if (list === undefined) this.parts.set(code, [existing, value]);
    else list.push(value);
  }

  finish(): OptionMap {
    if (this.parts !== undefined) {
      for (const [code, list] of this.parts) this.options.set(code, Buffer.concat(list));
    }
    return this.options;
  }
}

/**
 * Walks one options area [start, end). Returns undefined when the area is well framed, else the error.
 * `overload` receives option 52's value when `allowOverload` (options field only).
 */
function scanArea(
  buf: Buffer,
  start: number,
  end: number,
  collector: OptionCollector,
  areaName: string,
  requireEnd: boolean,
  overloadOut: { value: number; offset: number } | undefined,
): DecodeResult | undefined {
  let offset = start;
  while (offset < end) {
    const code = buf[offset]!;
    if (code === OPT_PAD) {
      offset++;
      continue;
    }
    if (code === OPT_END) return undefined;
    if (offset + 1 >= end) {
      return failure('option-truncated', offset, `option ${code} at offset ${offset} has no length byte (end of ${areaName})`);
    }
    const length = buf[offset + 1]!;
    const valueStart = offset + 2;
    if (valueStart + length > end) {
      return failure(
        'option-truncated',
        offset,
        `option ${code} at offset ${offset} of length ${length} runs past the end of ${areaName} (${end})`,
      );
    }
    if (code === OPT_OVERLOAD) {
      if (overloadOut === undefined) {
        return failure('bad-overload', offset, `option 52 at offset ${offset} inside ${areaName}`);
      }
      if (overloadOut.offset >= 0) return failure('bad-overload', offset, `option 52 repeated at offset ${offset}`);
      if (length !== 1) return failure('bad-overload', offset, `option 52 length ${length} at offset ${offset}, expected 1`);
      const value = buf[valueStart]!;
      if (value < 1 || value > 3) {
        return failure('bad-overload', offset, `option 52 value ${value} at offset ${offset}, expected 1, 2 or 3`);
      }
      overloadOut.value = value;
      overloadOut.offset = offset;
    } else {
      collector.add(code, buf.subarray(valueStart, valueStart + length));
    }
    offset = valueStart + length;
  }
  if (requireEnd) return failure('missing-end', end, `${areaName} ends at offset ${end} without the END option`);
  return undefined;
}

/** Text of sname/file: latin1 up to the first NUL. Most requests leave them zero: that case is fast. */
function fieldText(buf: Buffer, start: number, size: number): string {
  if (buf[start] === 0) return '';
  let end = buf.indexOf(0, start);
  if (end < 0 || end > start + size) end = start + size;
  return buf.toString('latin1', start, end);
}

/** Decodes one BOOTP/DHCP message. Never throws. */
export function decode(buf: Buffer, opts?: DecodeOptions): DecodeResult {
  try {
    return decodeUnchecked(buf, opts?.requireEnd === true);
  } catch (err) {
    // Unreachable by design (every length is checked); kept so that a bug drops a packet, not the server.
    return failure('too-short', 0, `internal decode error: ${(err as Error).message}`);
  }
}

function decodeUnchecked(buf: Buffer, requireEnd: boolean): DecodeResult {
  const size = buf.length;
  if (size < HEADER_SIZE) {
    return failure('too-short', size, `packet of ${size} bytes, the BOOTP header alone is ${HEADER_SIZE}`);
  }
  const op = buf[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) return failure('bad-op', 0, `op ${op}, expected 1 or 2`);
  const hlen = buf[2]!;
  if (hlen > CHADDR_SIZE) return failure('bad-hlen', 2, `hlen ${hlen}, chaddr holds at most ${CHADDR_SIZE}`);

  const hasMagicCookie = size >= OPTIONS_OFFSET && buf.readUInt32BE(HEADER_SIZE) === MAGIC_COOKIE;
  let options: OptionMap;
  let overload = 0;
  if (hasMagicCookie) {
    const collector = new OptionCollector();
    const overloadSeen = { value: 0, offset: -1 };
    let problem = scanArea(buf, OPTIONS_OFFSET, size, collector, 'the options field', requireEnd, overloadSeen);
    if (problem) return problem;
    overload = overloadSeen.value;
    // RFC 2131 4.1 / RFC 3396: the options field, then file, then sname.
    if (overload & 1) {
      problem = scanArea(buf, FILE_OFFSET, FILE_OFFSET + FILE_SIZE, collector, 'the file field', requireEnd, undefined);
      if (problem) return problem;
    }
    if (overload & 2) {
      problem = scanArea(buf, SNAME_OFFSET, SNAME_OFFSET + SNAME_SIZE, collector, 'the sname field', requireEnd, undefined);
      if (problem) return problem;
    }
    options = collector.finish();
    problem = validateOptions(buf, options, overload);
    if (problem) return problem;
  } else {
    options = new Map();
  }

  const packet: DhcpPacket = {
    op,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: buf.readUInt32BE(12),
    yiaddr: buf.readUInt32BE(16),
    siaddr: buf.readUInt32BE(20),
    giaddr: buf.readUInt32BE(24),
    chaddr: buf.subarray(CHADDR_OFFSET, CHADDR_OFFSET + CHADDR_SIZE),
    sname: overload & 2 ? '' : fieldText(buf, SNAME_OFFSET, SNAME_SIZE),
    file: overload & 1 ? '' : fieldText(buf, FILE_OFFSET, FILE_SIZE),
    options,
    hasMagicCookie,
  };
  return { ok: true, packet };
}

// Lengths of the options the server relies on; anything else is checked only when read (accessors).
// Indexed by option code: a typed array lookup per option is all the hot path pays.
const EXACT_LENGTH = new Uint8Array(256);
EXACT_LENGTH[50] = 4; // requested address
EXACT_LENGTH[51] = 4; // lease time
EXACT_LENGTH[54] = 4; // server identifier
EXACT_LENGTH[57] = 2; // maximum message size
EXACT_LENGTH[58] = 4; // renewal time
EXACT_LENGTH[59] = 4; // rebinding time
EXACT_LENGTH[118] = 4; // subnet selection
const MIN_LENGTH = new Uint8Array(256);
MIN_LENGTH[55] = 1; // parameter request list
MIN_LENGTH[61] = 2; // client identifier: type + at least one byte
const OPT_RELAY_AGENT = 82;

/** What is wrong with one (joined) option value, or undefined. */
function optionProblem(code: number, value: Buffer): [DecodeErrorKind, string] | undefined {
  const length = value.length;
  const exact = EXACT_LENGTH[code]!;
  if (exact !== 0 && length !== exact) return ['bad-option-length', `length ${length}, expected ${exact}`];
  const least = MIN_LENGTH[code]!;
  if (least !== 0 && length < least) return ['bad-option-length', `length ${length}, expected at least ${least}`];
  if (code === OPT_MESSAGE_TYPE) {
    if (length !== 1) return ['bad-option-length', `length ${length}, expected 1`];
    if (value[0]! < 1 || value[0]! > 8) return ['bad-message-type', `value ${value[0]}, expected 1..8`];
  } else if (code === OPT_RELAY_AGENT) {
    const framing = subOptionFramingProblem(value);
    if (framing !== undefined) return ['bad-option-length', framing];
  }
  return undefined;
}

/** The first option, in packet order, whose value does not fit: checked on the joined values. */
function validateOptions(buf: Buffer, options: OptionMap, overload: number): DecodeResult | undefined {
  for (const code of options.keys()) {
    const problem = optionProblem(code, options.get(code)!);
    if (problem !== undefined) {
      const at = findOption(buf, overload, code);
      return failure(problem[0], at, `option ${code} at offset ${at}: ${problem[1]}`);
    }
  }
  return undefined;
}

/** RFC 3046 framing of option 82 (code, length, data; at least one sub-option), without allocating. */
function subOptionFramingProblem(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return 'empty relay agent information';
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) return `sub-option at ${offset} has no length byte`;
    const next = offset + 2 + bytes[offset + 1]!;
    if (next > bytes.length) return `sub-option ${bytes[offset]} at ${offset} runs past the end`;
    offset = next;
  }
  return undefined;
}

/**
 * Offset of the first instance of an option, for error messages only (the hot path keeps no offsets).
 * The areas were already walked successfully, so the framing is known to be sound.
 */
function findOption(buf: Buffer, overload: number, code: number): number {
  const areas: Array<[number, number]> = [[OPTIONS_OFFSET, buf.length]];
  if (overload & 1) areas.push([FILE_OFFSET, FILE_OFFSET + FILE_SIZE]);
  if (overload & 2) areas.push([SNAME_OFFSET, SNAME_OFFSET + SNAME_SIZE]);
  for (const [start, end] of areas) {
    for (let offset = start; offset + 1 < end;) {
      const c = buf[offset]!;
      if (c === OPT_END) break;
      if (c === OPT_PAD) {
        offset++;
        continue;
      }
      if (c === code) return offset;
      offset += 2 + buf[offset + 1]!;
    }
  }
  return -1;
}
