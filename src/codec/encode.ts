// DhcpPacket → bytes. The server decides which options a reply carries and in which order (the Map's
// insertion order); this module decides where they go and what has to be left out:
//
// - Option 53 goes first when present: some clients (old PXE ROMs, embedded stacks) look for the message
//   type only at the start of the options. The rest follow in Map order. 0, 52 and 255 in the Map are
//   ignored (the codec writes pad, overload and end itself), as are codes outside 1..254.
// - A value longer than 255 bytes is written as several consecutive instances (RFC 3396).
// - The message is kept within maxMessageSize − 28 (IP + UDP headers; default 576 per RFC 2131). When the
//   options field would overflow, options are moved whole into `file`, then `sname`, when those fields are
//   empty (option 52 = 1, 2 or 3; END in each area used), first fit in Map order. An option is never split
//   across areas: clients that implement overload do not all implement RFC 3396 joining across areas.
// - If the options still do not fit, options are dropped from the end of the Map (lowest priority
//   first), except 53, 54, 51, 1, 3, 58 and 59, without which a client cannot bind or use its lease. If
//   those alone do not fit (only with an absurdly small maximum), they are sent anyway, over the limit.
// - sname/file are written as latin1, cut at their field size (64/128); a value that fills the whole
//   field goes out without a NUL, as some servers and clients do. The config keeps them shorter.
// - minSize pads with zeros after END (BOOTP: 300 bytes, RFC 951/1542).
// - A packet without the magic cookie (a reply to a BOOTP client that sent none) gets a zeroed 64-byte
//   vendor area and no options.

import type { DhcpPacket, EncodeOptions } from './types';
import { MAGIC_COOKIE } from './types';
import {
  CHADDR_OFFSET,
  CHADDR_SIZE,
  FILE_OFFSET,
  FILE_SIZE,
  HEADER_SIZE,
  OPTIONS_OFFSET,
  SNAME_OFFSET,
  SNAME_SIZE,
} from './decode';

/** The RFC 2131 minimum every client must accept, and the default. */
export const DEFAULT_MAX_MESSAGE_SIZE = 576;
/** IPv4 header (no options) + UDP header, counted in the maximum message size (RFC 2132 9.10). */
export const IP_UDP_OVERHEAD = 28;
/** Classic BOOTP message: header + 64-byte vendor area. */
export const BOOTP_MIN_SIZE = 300;
const VENDOR_AREA_SIZE = 64;

/** Options never dropped to make a reply fit. */
export const NEVER_DROPPED: ReadonlySet<number> = new Set([53, 54, 51, 1, 3, 58, 59]);

const OPT_END = 255;
const OPT_OVERLOAD = 52;
const OPT_MESSAGE_TYPE = 53;

/** Bytes an option takes on the wire, with its RFC 3396 split into 255-byte instances. */
function wireSize(valueLength: number): number {
  return valueLength === 0 ? 2 : valueLength + 2 * Math.ceil(valueLength / 255);
}

function isWritable(code: number): boolean {
  return Number.isInteger(code) && code > 0 && code < 255 && code !== OPT_OVERLOAD;
}

/** Writes one option (split at 255) at offset; returns the offset after it. */
function writeOption(out: Buffer, offset: number, code: number, value: Buffer): number {
  if (value.length === 0) {
    out[offset] = code;
    out[offset + 1] = 0;
    return offset + 2;
  }
  for (let start = 0; start < value.length; start += 255) {
    const length = Math.min(255, value.length - start);
    out[offset] = code;
    out[offset + 1] = length;
    value.copy(out, offset + 2, start, start + length);
    offset += 2 + length;
  }
  return offset;
}

/**
 * A zero-filled buffer. allocUnsafe takes small buffers from Node's shared pool, which is much cheaper
 * than Buffer.alloc's own allocation; the explicit fill keeps every byte we do not write at zero.
 */
function zeroed(size: number): Buffer {
  return Buffer.allocUnsafe(size).fill(0);
}

function writeHeader(out: Buffer, pkt: DhcpPacket): void {
  out[0] = pkt.op;
  out[1] = pkt.htype;
  out[2] = pkt.hlen;
  out[3] = pkt.hops;
  out.writeUInt32BE(pkt.xid >>> 0, 4);
  out.writeUInt16BE(pkt.secs & 0xffff, 8);
  out.writeUInt16BE(pkt.flags & 0xffff, 10);
  out.writeUInt32BE(pkt.ciaddr >>> 0, 12);
  out.writeUInt32BE(pkt.yiaddr >>> 0, 16);
  out.writeUInt32BE(pkt.siaddr >>> 0, 20);
  out.writeUInt32BE(pkt.giaddr >>> 0, 24);
  pkt.chaddr.copy(out, CHADDR_OFFSET, 0, Math.min(pkt.chaddr.length, CHADDR_SIZE));
  // The two fields are written even when empty strings: the buffer is zeroed, so nothing to do then.
  if (pkt.sname !== '') out.write(pkt.sname, SNAME_OFFSET, SNAME_SIZE, 'latin1');
  if (pkt.file !== '') out.write(pkt.file, FILE_OFFSET, FILE_SIZE, 'latin1');
}

/** Area numbers used by the layout. */
const MAIN = 0;
const FILE = 1;
const SNAME = 2;

interface Entry {
  code: number;
  value: Buffer;
  size: number;
  area: number;
}

/** Options in the order they go out: 53 first, then Map order. */
function orderedEntries(options: ReadonlyMap<number, Buffer>): Entry[] {
  const entries: Entry[] = [];
  const messageType = options.get(OPT_MESSAGE_TYPE);
  if (messageType !== undefined) {
    entries.push({ code: OPT_MESSAGE_TYPE, value: messageType, size: wireSize(messageType.length), area: MAIN });
  }
  for (const [code, value] of options) {
    if (code === OPT_MESSAGE_TYPE || !isWritable(code)) continue;
    entries.push({ code, value, size: wireSize(value.length), area: MAIN });
  }
  return entries;
}

/**
 * First-fit of the entries into the areas with the given capacities (END already deducted). Returns the
 * overload value (bit 1 file, bit 2 sname), or -1 when something does not fit.
 */
function place(entries: Entry[], mainCapacity: number, fileCapacity: number, snameCapacity: number): number {
  const room = [mainCapacity, fileCapacity, snameCapacity];
  let used = 0;
  for (const entry of entries) {
    let area = MAIN;
    while (area <= SNAME && room[area]! < entry.size) area++;
    if (area > SNAME) return -1;
    room[area]! -= entry.size;
    entry.area = area;
    used |= area === FILE ? 1 : area === SNAME ? 2 : 0;
  }
  return used;
}

/** Encodes a packet. Throws only on a programming error (e.g. chaddr not a Buffer). */
export function encode(pkt: DhcpPacket, opts?: EncodeOptions): Buffer {
  const minSize = opts?.minSize ?? 0;
  if (!pkt.hasMagicCookie) {
    const out = zeroed(Math.max(HEADER_SIZE + VENDOR_AREA_SIZE, minSize));
    writeHeader(out, pkt);
    return out;
  }

  const requested = opts?.maxMessageSize;
  const maxMessage =
    requested !== undefined && Number.isFinite(requested) ? Math.min(requested, 65535) : DEFAULT_MAX_MESSAGE_SIZE;
  const mainCapacity = maxMessage - IP_UDP_OVERHEAD - OPTIONS_OFFSET - 1; // − END

  // Fast path: everything fits in the options field, in order, no overload.
  let total = 0;
  for (const [code, value] of pkt.options) if (isWritable(code)) total += wireSize(value.length);
  if (total <= mainCapacity) {
    const out = zeroed(Math.max(OPTIONS_OFFSET + total + 1, minSize));
    writeHeader(out, pkt);
    out.writeUInt32BE(MAGIC_COOKIE, HEADER_SIZE);
    let offset = OPTIONS_OFFSET;
    const messageType = pkt.options.get(OPT_MESSAGE_TYPE);
    if (messageType !== undefined) offset = writeOption(out, offset, OPT_MESSAGE_TYPE, messageType);
    for (const [code, value] of pkt.options) {
      if (code !== OPT_MESSAGE_TYPE && isWritable(code)) offset = writeOption(out, offset, code, value);
    }
    out[offset] = OPT_END;
    return out;
  }
  return encodeOverflowing(pkt, orderedEntries(pkt.options), mainCapacity, minSize);
}

function encodeOverflowing(pkt: DhcpPacket, entries: Entry[], mainCapacity: number, minSize: number): Buffer {
  const fileCapacity = pkt.file === '' ? FILE_SIZE - 1 : -1;
  const snameCapacity = pkt.sname === '' ? SNAME_SIZE - 1 : -1;
  let overload: number;
  for (;;) {
    const total = entries.reduce((sum, e) => sum + e.size, 0);
    if (total <= mainCapacity) {
      overload = place(entries, mainCapacity, -1, -1); // 0: all in the options field
      break;
    }
    if (fileCapacity >= 0 || snameCapacity >= 0) {
      overload = place(entries, mainCapacity - 3, fileCapacity, snameCapacity); // − option 52
      if (overload >= 0) break;
    }
    let drop = entries.length - 1;
    while (drop >= 0 && NEVER_DROPPED.has(entries[drop]!.code)) drop--;
    if (drop < 0) {
      overload = place(entries, Number.MAX_SAFE_INTEGER, -1, -1); // only essentials left: over the limit
      break;
    }
    entries.splice(drop, 1);
  }

  let mainUsed = overload > 0 ? 3 : 0;
  for (const entry of entries) if (entry.area === MAIN) mainUsed += entry.size;
  const out = zeroed(Math.max(OPTIONS_OFFSET + mainUsed + 1, minSize));
  writeHeader(out, pkt);
  out.writeUInt32BE(MAGIC_COOKIE, HEADER_SIZE);

  // 53 first when it is in the options field, then 52: a client must know about the other areas before
  // it reads them, and some look for 53 only at the very start.
  let main = OPTIONS_OFFSET;
  let first = 0;
  if (entries.length > 0 && entries[0]!.code === OPT_MESSAGE_TYPE && entries[0]!.area === MAIN) {
    main = writeOption(out, main, OPT_MESSAGE_TYPE, entries[0]!.value);
    first = 1;
  }
  if (overload > 0) main = writeOption(out, main, OPT_OVERLOAD, Buffer.from([overload]));
  const offsets = [main, FILE_OFFSET, SNAME_OFFSET];
  for (let i = first; i < entries.length; i++) {
    const entry = entries[i]!;
    offsets[entry.area] = writeOption(out, offsets[entry.area]!, entry.code, entry.value);
  }
  out[offsets[MAIN]!] = OPT_END;
  if (overload & 1) out[offsets[FILE]!] = OPT_END;
  if (overload & 2) out[offsets[SNAME]!] = OPT_END;
  return out;
}
