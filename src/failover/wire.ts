// Failover messages ⇄ bytes, and the framer that cuts a TCP byte stream into messages. Pure: no sockets.
// Bytes come from the network and are hostile: decodeMessage and FailoverFramer.feed never throw; every
// read is preceded by a bounds check (the fuzz test in test/unit/failover-wire.test.ts feeds them junk).
// encodeMessage takes our own messages and throws FailoverEncodeError on a value that cannot be sent.
//
// Interop facts encoded here (ISC DHCP 4.4.3, server/failover.c):
// - Header (dhcp_failover_put_message; read by dhcp_failover_link_signal): u16 message length including
//   the header, u8 message type, u8 payload offset, u32 time (the sender's clock, seconds since 1970),
//   u32 xid; all big-endian. dhcpd writes a payload offset of 12 (draft-12 section 6.1 says 8, which
//   cannot be right with a 12-byte header), and so do we. On receipt bytes between 12 and the payload
//   offset are skipped, as dhcpd does; an offset below 12 or past the end is an error (dhcpd misreads
//   the stream after either).
// - A length below 12 or above 2048 is fatal: dhcpd drops the link as soon as it reads the two length
//   bytes (FailoverFramer reports it; the link must close the connection).
// - Options (do_a_failover_option): u16 code, u16 length, data. An option whose header or data runs
//   past the message end is a protocol error; so is a second instance of an option the message type
//   carries. Unknown codes are skipped; known options the message type does not carry (fto_allowed,
//   options.ts ALLOWED) are skipped, repeats included. A fixed-size option (u8, u16, u32, ip) of
//   another length is a protocol error. DDNS in a BNDUPD or BNDACK is a protocol error (options.ts).
//   Every protocol error drops the link in dhcpd; decodeMessage reports it and the link decides.
// - message-digest (17) is skipped wherever it is: ISC's table gives it the plain bytes type, so its
//   "digest must be the last option" check never runs, and no message type carries it.
// - A message type outside 1..12 is reported as 'unknown-type'. dhcpd ignores such a message when it has
//   no options and drops the link when it has one (the type is checked per option); draft-12 says to
//   drop on 0..127 and ignore 128..255. The link chooses.
// - encodeMessage writes the options in the order dhcpd writes them for each type (options.ts ALLOWED),
//   so a message decoded from dhcpd's bytes encodes back to the same bytes: header fields are kept, the
//   payload offset is always 12, skipped options are not in the model (and dhcpd sends none; a golden
//   test should also check that `skipped` is empty), and text is UTF-8 (dhcpd's messages are ASCII).

import type { FailoverMessage, MessageTypeName, OptionField, OptionInfo, OptionValues } from './options';
import { ALLOWED, ALLOWED_CODES, MESSAGE_TYPES, messageTypeName, optionInfo, optionOfField } from './options';
import { HBA_SIZE, HEADER_SIZE, MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE } from './names';

/** What went wrong with bytes received from the peer. Every kind is a protocol error to dhcpd. */
export type WireErrorKind =
  | 'too-short' // fewer bytes than the 12-byte header
  | 'bad-length' // the length field is below 12 or above 2048 (framing: the link must drop)
  | 'length-mismatch' // decodeMessage was given more or fewer bytes than the length field says
  | 'unknown-type' // the message type is outside 1..12
  | 'bad-payload-offset' // the payload offset is below 12 or beyond the message length
  | 'option-overflow' // an option's code, length or data runs past the end of the message
  | 'duplicate-option' // an option the message type carries appears twice
  | 'bad-option-size' // a fixed-size option (u8, u16, u32, IP address) with another length
  | 'unsupported-option'; // DDNS in a BNDUPD or BNDACK, which dhcpd cannot read

export interface WireError {
  kind: WireErrorKind;
  /** Human-readable explanation, e.g. "option 15 (MCLT) length 2 at offset 24, expected 4". */
  message: string;
  /** Byte offset in the message (for the framer: in the stream) where the problem was found. */
  offset: number;
}

/** An option decodeMessage left out of the model: an unknown code, or one the type does not carry. */
export interface SkippedOption {
  code: number;
  /** Offset of the option's code in the message. */
  offset: number;
  length: number;
  reason: 'unknown-code' | 'not-carried';
}

export type DecodeResult = { ok: true; message: FailoverMessage; skipped: SkippedOption[] } | { ok: false; error: WireError };

/** Thrown by encodeMessage for a message that cannot be put on the wire. */
export class FailoverEncodeError extends Error {
  override name = 'FailoverEncodeError';
}

const FIXED_SIZE: Partial<Record<OptionInfo['type'], number>> = { u8: 1, u16: 2, u32: 4, ip: 4 };

function describe(info: OptionInfo): string {
  return `option ${info.code} (${info.name})`;
}

function failure(kind: WireErrorKind, offset: number, message: string): { ok: false; error: WireError } {
  return { ok: false, error: { kind, offset, message } };
}

/** Reads one option value of a known size (checked by the caller) from buf[start, start + length). */
function readValue(info: OptionInfo, buf: Buffer, start: number, length: number): number | string | Buffer {
  switch (info.type) {
    case 'u8':
      return buf[start]!;
    case 'u16':
      return buf.readUInt16BE(start);
    case 'u32':
    case 'ip':
      return buf.readUInt32BE(start);
    case 'text':
      return buf.toString('utf8', start, start + length);
    default:
      // bytes, hba: a copy, so the model does not pin or alias the receive buffer.
      return Buffer.from(buf.subarray(start, start + length));
  }
}

function decodeUnchecked(buf: Buffer): DecodeResult {
  if (buf.length < HEADER_SIZE) {
    return failure('too-short', buf.length, `${buf.length} bytes, shorter than the ${HEADER_SIZE}-byte header`);
  }
  const length = buf.readUInt16BE(0);
  if (length < MIN_MESSAGE_SIZE || length > MAX_MESSAGE_SIZE) {
    return failure('bad-length', 0, `message length ${length} outside ${MIN_MESSAGE_SIZE}..${MAX_MESSAGE_SIZE}`);
  }
  if (length !== buf.length) {
    return failure('length-mismatch', 0, `message length ${length} but ${buf.length} bytes given`);
  }
  const typeCode = buf[2]!;
  const type = messageTypeName(typeCode);
  if (type === undefined) return failure('unknown-type', 2, `unknown message type ${typeCode}`);
  const payloadOffset = buf[3]!;
  if (payloadOffset < HEADER_SIZE || payloadOffset > length) {
    return failure('bad-payload-offset', 3, `payload offset ${payloadOffset} outside ${HEADER_SIZE}..${length}`);
  }
  const allowed = ALLOWED_CODES.get(typeCode)!;
  const values: Partial<Record<OptionField, unknown>> = {};
  const seen = new Set<number>();
  const skipped: SkippedOption[] = [];

  let pos = payloadOffset;
  while (pos < length) {
    const at = pos;
    if (pos + 2 > length) return failure('option-overflow', at, `option code at offset ${at} runs past the end (${length})`);
    const code = buf.readUInt16BE(pos);
    pos += 2;
    if (pos + 2 > length) {
      return failure('option-overflow', at, `option ${code} at offset ${at}: its length runs past the end (${length})`);
    }
    const optionLength = buf.readUInt16BE(pos);
    pos += 2;
    if (pos + optionLength > length) {
      return failure(
        'option-overflow',
        at,
        `option ${code} at offset ${at}: length ${optionLength} runs past the end of the message (${length})`,
      );
    }
    const start = pos;
    pos += optionLength;

    const info = optionInfo(code);
    if (info === undefined) {
      skipped.push({ code, offset: at, length: optionLength, reason: 'unknown-code' });
      continue;
    }
    if (!allowed.has(code)) {
      skipped.push({ code, offset: at, length: optionLength, reason: 'not-carried' });
      continue;
    }
    if (seen.has(code)) return failure('duplicate-option', at, `${describe(info)} repeated at offset ${at} in a ${type}`);
    seen.add(code);
    if (info.type === 'ddns') {
      return failure('unsupported-option', at, `${describe(info)} at offset ${at} in a ${type}: dhcpd 4.4.3 cannot read it`);
    }
    const size = FIXED_SIZE[info.type];
    if (size !== undefined && optionLength !== size) {
      return failure('bad-option-size', at, `${describe(info)} length ${optionLength} at offset ${at}, expected ${size}`);
    }
    values[info.field!] = readValue(info, buf, start, optionLength);
  }
  const message = { type, time: buf.readUInt32BE(4), xid: buf.readUInt32BE(8), ...values } as FailoverMessage;
  return { ok: true, message, skipped };
}

/**
 * Decodes exactly one message (its length field must equal buf.length; FailoverFramer cuts them).
 * Never throws. Values of bytes options are copies; text is read as UTF-8.
 */
export function decodeMessage(buf: Buffer): DecodeResult {
  try {
    return decodeUnchecked(buf);
  } catch (err) {
    // Not reachable by design (every read is bounds-checked); a bug becomes a decode error, not a crash.
    return failure('option-overflow', 0, `decoder fault: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const HEADER_FIELDS: ReadonlySet<string> = new Set(['type', 'time', 'xid']);

function checkInteger(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new FailoverEncodeError(`${what}: ${String(value)} is not an integer in 0..${max}`);
  }
  return value;
}

function encodeValue(info: OptionInfo, value: unknown): Buffer {
  const what = describe(info);
  switch (info.type) {
    case 'u8':
      return Buffer.from([checkInteger(value, 0xff, what)]);
    case 'u16': {
      const out = Buffer.alloc(2);
      out.writeUInt16BE(checkInteger(value, 0xffff, what));
      return out;
    }
    case 'u32':
    case 'ip': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(checkInteger(value, 0xffffffff, what));
      return out;
    }
    case 'text':
      if (typeof value !== 'string') throw new FailoverEncodeError(`${what}: not a string`);
      return Buffer.from(value, 'utf8');
    case 'bytes':
    case 'hba':
      if (!(value instanceof Uint8Array)) throw new FailoverEncodeError(`${what}: not a Buffer`);
      if (info.type === 'hba' && value.length !== HBA_SIZE) {
        throw new FailoverEncodeError(`${what}: ${value.length} bytes, must be ${HBA_SIZE}`);
      }
      return Buffer.from(value);
    default:
      throw new FailoverEncodeError(`${what} cannot be sent`);
  }
}

/**
 * The bytes of a message: the 12-byte header (payload offset 12) and the options present in the
 * message, in the order dhcpd writes them for its type. Throws FailoverEncodeError for a field the
 * message type does not carry (ALLOWED, as dhcpd's fto_allowed), a value out of range, an HBA that is not
 * 32 bytes, or a message longer than 2048 bytes.
 */
export function encodeMessage(msg: FailoverMessage): Buffer {
  const type: MessageTypeName = msg.type;
  const typeCode = MESSAGE_TYPES[type] as number | undefined;
  if (typeCode === undefined) throw new FailoverEncodeError(`unknown message type ${String(type)}`);
  const time = checkInteger(msg.time, 0xffffffff, 'time');
  const xid = checkInteger(msg.xid, 0xffffffff, 'xid');

  const fields = ALLOWED[type] as readonly (OptionField | 'ddns')[];
  const record = msg as unknown as Partial<Record<string, unknown>>;
  for (const key of Object.keys(record)) {
    if (HEADER_FIELDS.has(key) || record[key] === undefined) continue;
    // 'ddns' is in dhcpd's table for BNDUPD and BNDACK but dhcpd cannot read it: never sent.
    if (key === 'ddns' || !(fields as readonly string[]).includes(key)) {
      throw new FailoverEncodeError(`a ${type} does not carry ${key}`);
    }
  }

  const parts: Buffer[] = [];
  let length = HEADER_SIZE;
  for (const field of fields) {
    if (field === 'ddns') continue;
    const value = (msg as Partial<OptionValues>)[field];
    if (value === undefined) continue;
    const info = optionOfField(field);
    const data = encodeValue(info, value);
    length += 4 + data.length;
    if (length > MAX_MESSAGE_SIZE) {
      throw new FailoverEncodeError(`a ${type} with ${describe(info)} is longer than ${MAX_MESSAGE_SIZE} bytes`);
    }
    const head = Buffer.alloc(4);
    head.writeUInt16BE(info.code, 0);
    head.writeUInt16BE(data.length, 2);
    parts.push(head, data);
  }

  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt16BE(length, 0);
  header[2] = typeCode;
  header[3] = HEADER_SIZE;
  header.writeUInt32BE(time, 4);
  header.writeUInt32BE(xid, 8);
  return Buffer.concat([header, ...parts], length);
}

/** What FailoverFramer.feed found: the whole messages completed, and a framing error if there was one. */
export interface FrameResult {
  /** Whole messages (copies), each ready for decodeMessage. */
  frames: Buffer[];
  /** Set when a length field was below 12 or above 2048: the link must drop the connection. */
  error?: WireError;
}

const EMPTY = Buffer.alloc(0);

/**
 * Cuts the TCP byte stream of one failover connection into messages by their length fields. Holds at
 * most one incomplete message (< 2048 bytes). After a framing error it stays failed: every later feed
 * returns the same error and no frames, because nothing after a bad length can be trusted.
 */
export class FailoverFramer {
  private pending: Buffer = EMPTY;
  private consumed = 0;
  private failure: WireError | undefined;

  /** Adds the bytes of one TCP read; returns the messages it completed. Never throws. */
  feed(chunk: Buffer): FrameResult {
    if (this.failure !== undefined) return { frames: [], error: this.failure };
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let pos = 0;
    while (buf.length - pos >= 2) {
      const length = buf.readUInt16BE(pos);
      if (length < MIN_MESSAGE_SIZE || length > MAX_MESSAGE_SIZE) {
        this.failure = {
          kind: 'bad-length',
          offset: this.consumed + pos,
          message: `message length ${length} at stream offset ${this.consumed + pos} outside ${MIN_MESSAGE_SIZE}..${MAX_MESSAGE_SIZE}`,
        };
        this.pending = EMPTY;
        return { frames, error: this.failure };
      }
      if (buf.length - pos < length) break;
      frames.push(Buffer.from(buf.subarray(pos, pos + length)));
      pos += length;
    }
    this.consumed += pos;
    this.pending = pos === buf.length ? EMPTY : Buffer.from(buf.subarray(pos));
    return { frames };
  }

  /** Bytes held of an incomplete message. */
  get buffered(): number {
    return this.pending.length;
  }

  /** The framing error, once there was one. */
  get error(): WireError | undefined {
    return this.failure;
  }
}

/** client-hardware-address from a packet's htype and hardware address: htype first (draft-12 12.5). */
export function chaddrOption(htype: number, hardwareAddress: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([htype & 0xff]), hardwareAddress]);
}

/** The htype and hardware address in a client-hardware-address value (undefined when empty). */
export function splitChaddr(chaddr: Buffer): { htype: number; address: Buffer } | undefined {
  if (chaddr.length === 0) return undefined;
  return { htype: chaddr[0]!, address: chaddr.subarray(1) };
}
