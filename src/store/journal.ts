// The lease journal (issue 17, writes per lease): an append-only file of the store's write statements,
// batch by batch: the record that is fsynced before an ACK leaves, as dhcpd's lease file is: one page of
// the file per fsync, where a fsynced SQLite commit writes the row and each of its index pages
// (bench/RESULTS.md, "Appliance"). SQLite is committed far less often, and a start replays the batches
// SQLite does not have yet.
//
// The Store (store.ts, journal mode) records every write statement it runs into a BatchEncoder, appends
// the batch here at the end of the turn and fdatasyncs this file, not SQLite's WAL, before the replies.
//
// Format: a header line, then one frame per batch:
//   u32 length of the body, u32 CRC-32 of the body, body
// body: u32 batch sequence (low half), u32 batch sequence (high half), u32 entry count, entries;
// entry: varint statement id, u8 form (0: positional parameters, 1: named), varint parameter count, and
// per parameter (named: a u8-length name first) a tagged value:
//   0 null, 1 integer ≥ 0 (varint), 4 integer < 0 (varint of its magnitude), 5 any other number (f64),
//   2 text (varint length, UTF-8), 3 bytes (varint length).
// A varint is 7 bits per byte, least significant first, the high bit set on every byte but the last. A
// lease is one entry of about 60 bytes: every byte counts, since a frame that crosses into the next page
// of the file makes the fsync write two pages (dhcpd's lease file pays the same).
// Statement ids are the store's numbering of its write statements in this process. So that a journal
// written by one version of joind can be replayed by another, every journal that holds batches begins
// with a batch of DEFINE entries (id, SQL text) naming the statements it uses.
// A frame cut short or whose CRC does not match ends the journal there: it is a batch whose fsync never
// completed, so no ACK depended on it; what follows it is never read.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncPath } from './backup';

export const JOURNAL_HEADER = Buffer.from('joind journal 1\n');

/** A parameter of a write statement, as better-sqlite3 binds it. */
export type JournalValue = number | string | Buffer | null;

/** One executed write statement: its id (the store's numbering) and what was bound to it. */
export interface JournalEntry {
  statement: number;
  params: JournalValue[] | Record<string, JournalValue>;
}

export interface JournalBatch {
  sequence: number;
  entries: JournalEntry[];
}

/** The statement id of an entry that defines an id: parameters [id, SQL text]. */
export const DEFINE = 0xffff;
/** The statement id of a probe's entry (JournalFile.probe): never defined, never run. */
const PROBE = 0xfffe;
/** The storage page: frames are placed so that one that fits in a page never crosses into the next. */
const PAGE = 4096;
/** The smallest frame: length, CRC, sequence, entry count. */
const MIN_FRAME = 20;

const NULL = 0;
const INTEGER = 1;
const TEXT = 2;
const BYTES = 3;
const NEGATIVE = 4;
const REAL = 5;

class Writer {
  private buf = Buffer.alloc(256);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  u8(v: number): void {
    this.room(1);
    this.buf.writeUInt8(v, this.at);
    this.at += 1;
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
  }

  varint(v: number): void {
    while (v >= 0x80) {
      this.u8((v % 0x80) + 0x80);
      v = Math.floor(v / 0x80);
    }
    this.u8(v);
  }

  value(v: JournalValue): void {
    if (v === null) return this.u8(NULL);
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) {
        this.u8(v < 0 ? NEGATIVE : INTEGER);
        this.varint(Math.abs(v));
        return;
      }
      // Any other number read back bit for bit binds exactly as the original did.
      this.u8(REAL);
      this.room(8);
      this.buf.writeDoubleBE(v, this.at);
      this.at += 8;
      return;
    }
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    this.u8(typeof v === 'string' ? TEXT : BYTES);
    this.varint(bytes.length);
    this.bytes(bytes);
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  get capacity(): number {
    return this.buf.length;
  }

  reset(): void {
    this.at = 0;
  }
}

/**
 * A batch being recorded: entries are encoded as they are added (so a parameter's buffer may be reused
 * by its owner at once), and the frame is finished with its sequence when the batch ends.
 */
export class BatchEncoder {
  private w = new Writer();
  private n = 0;

  get count(): number {
    return this.n;
  }

  add(statement: number, params: JournalEntry['params']): void {
    const w = this.w;
    this.n++;
    w.varint(statement);
    if (Array.isArray(params)) {
      w.u8(0);
      w.varint(params.length);
      for (const v of params) w.value(v);
      return;
    }
    let named = 0;
    for (const name in params) if (Object.hasOwn(params, name)) named++;
    w.u8(1);
    w.varint(named);
    for (const name in params) {
      if (!Object.hasOwn(params, name)) continue;
      const key = Buffer.from(name, 'utf8');
      w.u8(key.length);
      w.bytes(key);
      w.value(params[name]!);
    }
  }

  /** The frame of the entries added so far as batch `sequence`; the encoder is empty again. */
  frame(sequence: number): Buffer {
    const entries = this.w.done();
    const bodyLength = 12 + entries.length;
    const frame = Buffer.allocUnsafe(8 + bodyLength);
    frame.writeUInt32BE(bodyLength, 0);
    frame.writeUInt32BE(sequence % 0x1_0000_0000, 8);
    frame.writeUInt32BE(Math.floor(sequence / 0x1_0000_0000), 12);
    frame.writeUInt32BE(this.n, 16);
    entries.copy(frame, 20);
    frame.writeUInt32BE(crc32(frame.subarray(8)), 4);
    this.clear();
    return frame;
  }

  clear(): void {
    // The buffer is kept for the next batch, unless a big one (a refill of many records) grew it.
    if (this.w.capacity > 65_536) this.w = new Writer();
    else this.w.reset();
    this.n = 0;
  }
}

/** One batch as a frame of the file. */
export function encodeBatch(batch: JournalBatch): Buffer {
  const encoder = new BatchEncoder();
  for (const entry of batch.entries) encoder.add(entry.statement, entry.params);
  return encoder.frame(batch.sequence);
}

/** Reads a body; throws RangeError when it is shorter than it says (a CRC-valid body never is). */
function decodeBody(body: Buffer): JournalBatch {
  let at = 0;
  const take = (n: number): number => {
    if (at + n > body.length) throw new RangeError('journal: a body shorter than its contents');
    const start = at;
    at += n;
    return start;
  };
  const varint = (): number => {
    let result = 0;
    for (let scale = 1; scale <= 0x80 ** 7; scale *= 0x80) {
      const byte = body.readUInt8(take(1));
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
    }
    throw new RangeError('journal: a varint longer than 8 bytes');
  };
  const value = (): JournalValue => {
    const tag = body.readUInt8(take(1));
    if (tag === NULL) return null;
    if (tag === INTEGER) return varint();
    if (tag === NEGATIVE) return -varint();
    if (tag === REAL) return body.readDoubleBE(take(8));
    const length = varint();
    const bytes = body.subarray(take(length), at);
    if (tag === TEXT) return bytes.toString('utf8');
    if (tag === BYTES) return Buffer.from(bytes);
    throw new RangeError(`journal: unknown value tag ${tag}`);
  };
  const low = body.readUInt32BE(take(4));
  const high = body.readUInt32BE(take(4));
  const count = body.readUInt32BE(take(4));
  const entries: JournalEntry[] = [];
  for (let i = 0; i < count; i++) {
    const statement = varint();
    const form = body.readUInt8(take(1));
    const n = varint();
    if (form === 0) {
      const params: JournalValue[] = [];
      for (let j = 0; j < n; j++) params.push(value());
      entries.push({ statement, params });
    } else {
      const params: Record<string, JournalValue> = {};
      for (let j = 0; j < n; j++) {
        const length = body.readUInt8(take(1));
        const name = body.subarray(take(length), at).toString('utf8');
        params[name] = value();
      }
      entries.push({ statement, params });
    }
  }
  return { sequence: high * 0x1_0000_0000 + low, entries };
}

/** What a journal file holds: its whole batches, and where the valid part ends (the rest is a torn tail). */
export interface JournalContents {
  batches: JournalBatch[];
  validBytes: number;
}

/** Reads a journal's bytes up to the first frame cut short or damaged. */
export function decodeJournal(data: Buffer): JournalContents {
  if (data.length < JOURNAL_HEADER.length || !data.subarray(0, JOURNAL_HEADER.length).equals(JOURNAL_HEADER))
    return { batches: [], validBytes: 0 };
  const batches: JournalBatch[] = [];
  let at = JOURNAL_HEADER.length;
  let validBytes = at;
  while (at + 8 <= data.length) {
    // A frame that fits in a page never starts where it would cross into the next (see appendFrame):
    // too little room for any frame, or a zero length (unwritten bytes), means the next one is on the
    // next page.
    const room = PAGE - (at % PAGE);
    if (room < MIN_FRAME || data.readUInt32BE(at) === 0) {
      at += room;
      continue;
    }
    const length = data.readUInt32BE(at);
    const crc = data.readUInt32BE(at + 4);
    if (at + 8 + length > data.length) break;
    const body = data.subarray(at + 8, at + 8 + length);
    if (crc32(body) !== crc) break;
    try {
      batches.push(decodeBody(body));
    } catch {
      break;
    }
    at += 8 + length;
    validBytes = at;
  }
  return { batches, validBytes };
}

/**
 * The journal file: opened for appending after whatever valid batches it holds (a torn tail is cut
 * off first), appended to one batch at a time, emptied when everything in it is durable elsewhere.
 */
export class JournalFile {
  private fd: number;
  private size: number;

  private constructor(
    readonly file: string,
    fd: number,
    size: number,
    /** The batches found at open, oldest first: what a start replays. */
    readonly found: JournalBatch[],
  ) {
    this.fd = fd;
    this.size = size;
  }

  static open(file: string): JournalFile {
    const existed = fs.existsSync(file);
    const data = existed ? fs.readFileSync(file) : Buffer.alloc(0);
    const contents = decodeJournal(data);
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o640);
    if (!existed) fsyncPath(path.dirname(file)); // a new file's directory entry must be on disk too
    let size = contents.validBytes;
    if (size === 0) {
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, JOURNAL_HEADER, 0, JOURNAL_HEADER.length, 0);
      size = JOURNAL_HEADER.length;
    } else if (size < data.length) {
      fs.ftruncateSync(fd, size); // the torn tail of a batch whose fsync never completed
    }
    fs.fdatasyncSync(fd);
    return new JournalFile(file, fd, size, contents.batches);
  }

  /** Appends a batch (not yet synced: call sync, or let the caller's fsync of fd do it). */
  append(batch: JournalBatch): void {
    this.appendFrame(encodeBatch(batch));
  }

  /** Appends a frame made by BatchEncoder.frame. */
  appendFrame(frame: Buffer): void {
    // A frame that would cross into the next page starts on that page instead, the rest of this one left
    // unwritten (read back as zeros: decodeJournal skips them). An fsync then writes one page, not two:
    // with a frame per lease at an appliance's pace, that is a page's worth of storage writes for every
    // 4096 / frame-length leases (dhcpd's lease file pays it).
    const room = PAGE - (this.size % PAGE);
    const at = frame.length <= PAGE && frame.length > room ? this.size + room : this.size;
    let written: number;
    try {
      written = fs.writeSync(this.fd, frame, 0, frame.length, at);
    } catch (err) {
      this.cutTo(this.size);
      throw err;
    }
    if (written !== frame.length) {
      // The batch is not in the journal: what part of it was written is cut off again.
      this.cutTo(this.size);
      throw Object.assign(new Error(`short write to the journal (${written} of ${frame.length} bytes)`), { code: 'ENOSPC' });
    }
    this.size = at + frame.length;
  }

  /**
   * Appends and syncs a frame that nothing replays (sequence 0, a statement never defined), long enough
   * to need a new page of storage: whether the journal takes writes again after a fault. Throws if not.
   */
  probe(): void {
    const pad = PAGE - (this.size % PAGE) + 1; // with the frame's own bytes, past the next page's start
    const encoder = new BatchEncoder();
    encoder.add(PROBE, [Buffer.alloc(pad)]);
    this.appendFrame(encoder.frame(0));
    this.sync();
  }

  private cutTo(size: number): void {
    try {
      fs.ftruncateSync(this.fd, size);
    } catch {
      // The next open cuts a torn tail anyway (a frame whose CRC does not match ends the journal).
    }
  }

  /** The descriptor to fdatasync before the replies that depend on the appended batches leave. */
  get descriptor(): number {
    return this.fd;
  }

  sync(): void {
    fs.fdatasyncSync(this.fd);
  }

  /** Empties the journal: everything in it is durable in the database. */
  reset(): void {
    fs.ftruncateSync(this.fd, JOURNAL_HEADER.length);
    this.size = JOURNAL_HEADER.length;
    fs.fdatasyncSync(this.fd);
  }

  /** Bytes in the file (header included). */
  get bytes(): number {
    return this.size;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
