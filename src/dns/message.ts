// DNS messages as the dynamic-update client needs them: RFC 2136 UPDATE requests and SOA queries out,
// any answer in. The encoder writes names uncompressed (an UPDATE is small, and TSIG hashes the bytes
// as sent, so the simplest form is the safest); the decoder follows compression pointers, as servers
// use them in answers.
//
// Answers come from the network: every read is bounded by the message length, counts are checked
// against the bytes actually present, and a malformed message is an error result, never an exception.
import { encodeWireName, readMessageName } from '../codec/dnsname';

export const DnsType = {
  A: 1,
  NS: 2,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  DHCID: 49,
  TSIG: 250,
  ANY: 255,
} as const;

/** CLASS values; in an UPDATE the class carries the meaning (RFC 2136 2.4 and 2.5). */
export const DnsClass = { IN: 1, NONE: 254, ANY: 255 } as const;

export const Opcode = { QUERY: 0, UPDATE: 5 } as const;

/** RCODEs, with the TSIG errors of RFC 8945 (carried in the TSIG RR's error field, not the header). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADSIG: 16,
  BADKEY: 17,
  BADTIME: 18,
} as const;

const RCODE_NAMES = new Map<number, string>(Object.entries(Rcode).map(([name, code]) => [code, name]));

/** "NXRRSET", or "RCODE 42" for one without a name. */
export function rcodeName(code: number): string {
  return RCODE_NAMES.get(code) ?? `RCODE ${code}`;
}

/** One resource record. Names are absolute, written without the trailing dot ("host.example.com"). */
export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  rdata: Buffer;
}

/** An RFC 2136 UPDATE: the zone, the prerequisites that must hold, and the changes. */
export interface UpdateRequest {
  id: number;
  zone: string;
  prerequisites: readonly ResourceRecord[];
  updates: readonly ResourceRecord[];
}

export class DnsEncodeError extends Error {}

const HEADER_OCTETS = 12;

/** The wire form of an absolute name (trailing dot optional in `name`). */
export function nameBytes(name: string): Buffer {
  const text = name === '' || name === '.' ? '.' : name.endsWith('.') ? name : name + '.';
  const encoded = encodeWireName(text);
  if (!encoded.ok) throw new DnsEncodeError(`name "${name}": ${encoded.message}`);
  return encoded.value;
}

function header(id: number, flags: number, counts: readonly [number, number, number, number]): Buffer {
  const out = Buffer.alloc(HEADER_OCTETS);
  out.writeUInt16BE(id & 0xffff, 0);
  out.writeUInt16BE(flags, 2);
  for (let i = 0; i < 4; i++) out.writeUInt16BE(counts[i]!, 4 + 2 * i);
  return out;
}

function question(name: string, type: number, klass: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(klass, 2);
  return Buffer.concat([nameBytes(name), tail]);
}

/** One RR in wire form (owner uncompressed). */
export function recordBytes(rr: ResourceRecord): Buffer {
  if (rr.rdata.length > 0xffff) throw new DnsEncodeError(`rdata of ${rr.name} longer than 65535 octets`);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(rr.type, 0);
  fixed.writeUInt16BE(rr.class, 2);
  fixed.writeUInt32BE(rr.ttl >>> 0, 4);
  fixed.writeUInt16BE(rr.rdata.length, 8);
  return Buffer.concat([nameBytes(rr.name), fixed, rr.rdata]);
}

/** An UPDATE message (opcode 5), unsigned: ZOCOUNT 1, PRCOUNT, UPCOUNT, ADCOUNT 0. */
export function encodeUpdate(request: UpdateRequest): Buffer {
  const { prerequisites, updates } = request;
  if (prerequisites.length > 0xffff || updates.length > 0xffff) throw new DnsEncodeError('too many records');
  return Buffer.concat([
    header(request.id, Opcode.UPDATE << 11, [1, prerequisites.length, updates.length, 0]),
    question(request.zone, DnsType.SOA, DnsClass.IN),
    ...prerequisites.map(recordBytes),
    ...updates.map(recordBytes),
  ]);
}

/** A standard query for one name and type (RD clear: the client asks the server it was given). */
export function encodeQuery(id: number, name: string, type: number): Buffer {
  return Buffer.concat([header(id, Opcode.QUERY << 11, [1, 0, 0, 0]), question(name, type, DnsClass.IN)]);
}

// ---- rdata ---------------------------------------------------------------------------------------

/** A: four octets. */
export function aRdata(address: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(address >>> 0, 0);
  return out;
}

/** PTR (and any rdata that is one name): the name uncompressed. */
export function nameRdata(name: string): Buffer {
  return nameBytes(name);
}

/** TXT with one character-string (at most 255 octets). */
export function txtRdata(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length > 255) throw new DnsEncodeError('TXT string longer than 255 octets');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

// ---- decoding ------------------------------------------------------------------------------------

/** A decoded RR; `offset` is where it starts in the message (TSIG verification needs it). */
export interface DecodedRecord extends ResourceRecord {
  offset: number;
  /** Where the rdata starts in the message, for rdata holding compressed names (SOA, NS, PTR). */
  rdataOffset: number;
}

export interface DecodedMessage {
  id: number;
  response: boolean;
  opcode: number;
  /** Header RCODE (4 bits; no EDNS is sent, so no extended RCODE comes back). */
  rcode: number;
  truncated: boolean;
  authoritative: boolean;
  questions: { name: string; type: number; class: number }[];
  answers: DecodedRecord[];
  authority: DecodedRecord[];
  additional: DecodedRecord[];
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; message: string };

function readRecord(bytes: Buffer, offset: number): DecodeResult<{ rr: DecodedRecord; next: number }> {
  const owner = readMessageName(bytes, offset);
  if (!owner.ok) return owner;
  let at = owner.value.next;
  if (at + 10 > bytes.length) return { ok: false, message: `record at ${offset} is truncated` };
  const type = bytes.readUInt16BE(at);
  const klass = bytes.readUInt16BE(at + 2);
  const ttl = bytes.readUInt32BE(at + 4);
  const length = bytes.readUInt16BE(at + 8);
  at += 10;
  if (at + length > bytes.length) return { ok: false, message: `rdata of the record at ${offset} runs past the end` };
  const rr = { name: owner.value.name, type, class: klass, ttl, rdata: bytes.subarray(at, at + length), offset, rdataOffset: at };
  return { ok: true, value: { rr, next: at + length } };
}

/** Decodes a whole message; bytes after the last counted record are an error (a damaged answer). */
export function decodeMessage(bytes: Buffer): DecodeResult<DecodedMessage> {
  if (bytes.length < HEADER_OCTETS) return { ok: false, message: `${bytes.length} octets: shorter than a DNS header` };
  const flags = bytes.readUInt16BE(2);
  const counts = [0, 1, 2, 3].map((i) => bytes.readUInt16BE(4 + 2 * i));
  const message: DecodedMessage = {
    id: bytes.readUInt16BE(0),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
    authority: [],
    additional: [],
  };
  let offset = HEADER_OCTETS;
  for (let i = 0; i < counts[0]!; i++) {
    const name = readMessageName(bytes, offset);
    if (!name.ok) return name;
    offset = name.value.next;
    if (offset + 4 > bytes.length) return { ok: false, message: `question ${i + 1} is truncated` };
    message.questions.push({ name: name.value.name, type: bytes.readUInt16BE(offset), class: bytes.readUInt16BE(offset + 2) });
    offset += 4;
  }
  const sections = [message.answers, message.authority, message.additional];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const read = readRecord(bytes, offset);
      if (!read.ok) return read;
      sections[s]!.push(read.value.rr);
      offset = read.value.next;
    }
  }
  if (offset !== bytes.length) return { ok: false, message: `${bytes.length - offset} octets after the last record` };
  return { ok: true, value: message };
}

/** The primary master (MNAME) of an SOA record's rdata, read in its message (names may be compressed). */
export function soaPrimary(message: Buffer, rr: DecodedRecord): DecodeResult<string> {
  const name = readMessageName(message, rr.rdataOffset);
  if (!name.ok) return name;
  if (name.value.next > rr.rdataOffset + rr.rdata.length) return { ok: false, message: 'SOA MNAME runs past its rdata' };
  return { ok: true, value: name.value.name };
}
