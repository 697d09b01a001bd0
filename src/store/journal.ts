// The lease journal (issue 17, writes per lease): an append-only file of the store's write statements,
// batch by batch, meant to become the record that is fsynced before an ACK leaves, as dhcpd's lease
// file is: one page of the file per fsync, where a fsynced SQLite commit writes the row and each of its
// index pages (bench/RESULTS.md, "Appliance"). SQLite would then be committed durably far less often,
// and a start replays the batches SQLite does not have yet.
//
// Not yet wired into the Store: this module is the file format and its reading and writing.
//
// Format: a header line, then one frame per batch:
//   u32 length of the body, u32 CRC-32 of the body, body
// body: u32 batch sequence (low half), u32 batch sequence (high half), u16 entry count, entries;
// entry: u16 statement id, u8 form (0: positional parameters, 1: named), u16 parameter count, and per
// parameter (named: a u8-length name first) a tagged value:
//   0 null, 1 integer (f64: every integer the store writes fits its 53 bits), 2 text (u32 length, UTF-8),
//   3 bytes (u32 length).
// A frame cut short or whose CRC does not match ends the journal there: it is a batch whose fsync never
// completed, so no ACK depended on it; what follows it is never read.
import fs from 'node:fs';
import { crc32 } from 'node:zlib';

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

const NULL = 0;
const INTEGER = 1;
const TEXT = 2;
const BYTES = 3;

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

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.at);
    this.at += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.at);
    this.at += 4;
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
  }

  value(v: JournalValue): void {
    if (v === null) return this.u8(NULL);
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new RangeError(`journal: ${v} is not an integer the store writes`);
      this.u8(INTEGER);
      this.room(8);
      this.buf.writeDoubleBE(v, this.at);
      this.at += 8;
      return;
    }
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    this.u8(typeof v === 'string' ? TEXT : BYTES);
    this.u32(bytes.length);
    this.bytes(bytes);
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** One batch as a frame of the file. */
export function encodeBatch(batch: JournalBatch): Buffer {
  const w = new Writer();
  w.u32(batch.sequence % 0x1_0000_0000);
  w.u32(Math.floor(batch.sequence / 0x1_0000_0000));
  w.u16(batch.entries.length);
  for (const entry of batch.entries) {
    w.u16(entry.statement);
    if (Array.isArray(entry.params)) {
      w.u8(0);
      w.u16(entry.params.length);
      for (const v of entry.params) w.value(v);
    } else {
      const named = Object.entries(entry.params);
      w.u8(1);
      w.u16(named.length);
      for (const [name, v] of named) {
        const key = Buffer.from(name, 'utf8');
        w.u8(key.length);
        w.bytes(key);
        w.value(v);
      }
    }
  }
  const body = w.done();
  const frame = Buffer.alloc(8 + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.writeUInt32BE(crc32(body), 4);
  body.copy(frame, 8);
  return frame;
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
  const value = (): JournalValue => {
    const tag = body.readUInt8(take(1));
    if (tag === NULL) return null;
    if (tag === INTEGER) return body.readDoubleBE(take(8));
    const length = body.readUInt32BE(take(4));
    const bytes = body.subarray(take(length), at);
    if (tag === TEXT) return bytes.toString('utf8');
    if (tag === BYTES) return Buffer.from(bytes);
    throw new RangeError(`journal: unknown value tag ${tag}`);
  };
  const low = body.readUInt32BE(take(4));
  const high = body.readUInt32BE(take(4));
  const count = body.readUInt16BE(take(2));
  const entries: JournalEntry[] = [];
  for (let i = 0; i < count; i++) {
    const statement = body.readUInt16BE(take(2));
    const form = body.readUInt8(take(1));
    const n = body.readUInt16BE(take(2));
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
  while (at + 8 <= data.length) {
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
  }
  return { batches, validBytes: at };
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
    const data = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
    const contents = decodeJournal(data);
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o640);
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
    const frame = encodeBatch(batch);
    fs.writeSync(this.fd, frame, 0, frame.length, this.size);
    this.size += frame.length;
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
