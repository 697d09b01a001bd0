// The lease journal's file (src/store/journal.ts): batches of write statements read back exactly, and a
// batch whose write was cut short or damaged ends the journal there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { JOURNAL_HEADER, JournalFile, decodeJournal, encodeBatch, type JournalBatch } from '../../src/store/journal';
import { tempDir } from '../helpers/tmp';

const BATCHES: JournalBatch[] = [
  {
    sequence: 1,
    entries: [
      { statement: 3, params: [0x0a4d0164, 0x0a4d0100, 1, Buffer.from('020000000001', 'hex'), null, 'pc-1', 1_800_003_600] },
      { statement: 7, params: { address: 0x0a4d0164, fqdn: 'pc-1.lab.example.', due: 1_800_000_000_123 } },
    ],
  },
  { sequence: 2 ** 40 + 5, entries: [{ statement: 65_535, params: [] }] },
  { sequence: 3, entries: [] },
];

const journal = (batches: JournalBatch[]): Buffer => Buffer.concat([JOURNAL_HEADER, ...batches.map(encodeBatch)]);

test('journal: batches read back exactly (positional and named parameters, every kind of value)', () => {
  const data = journal(BATCHES);
  assert.deepEqual(decodeJournal(data), { batches: BATCHES, validBytes: data.length });
  // A number that is not an integer is read back bit for bit too (it binds as SQLite's REAL, as it did).
  const real = { sequence: 1, entries: [{ statement: 1, params: [0.5, -1e300] }] };
  assert.deepEqual(decodeJournal(journal([real])).batches, [real]);
  // Integers at every varint length, both signs, the limits of the safe range; long texts and bytes.
  const integers = {
    sequence: 4,
    entries: [
      {
        statement: 300,
        params: [0, 127, 128, 16_383, 16_384, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -128, Number.MIN_SAFE_INTEGER],
      },
      { statement: 1, params: [Buffer.alloc(300, 7), 'é'.repeat(200)] },
    ],
  };
  assert.deepEqual(decodeJournal(journal([integers])).batches, [integers]);
  assert.deepEqual(decodeJournal(Buffer.from('not a journal\n')), { batches: [], validBytes: 0 });
});

test('journal: a frame cut short or damaged ends it there; open cuts the tail off and appends after', () => {
  const whole = journal(BATCHES);
  const twoFrames = JOURNAL_HEADER.length + encodeBatch(BATCHES[0]!).length + encodeBatch(BATCHES[1]!).length;
  for (const cut of [1, 5, 9]) {
    const torn = whole.subarray(0, whole.length - cut);
    assert.deepEqual(decodeJournal(torn).batches, BATCHES.slice(0, 2), `cut ${cut} bytes`);
  }
  const damaged = Buffer.from(whole);
  damaged[JOURNAL_HEADER.length + encodeBatch(BATCHES[0]!).length + 12]! ^= 0x40; // inside the second body
  assert.deepEqual(decodeJournal(damaged), {
    batches: BATCHES.slice(0, 1),
    validBytes: twoFrames - encodeBatch(BATCHES[1]!).length,
  });

  const file = path.join(tempDir(), 'joind.journal');
  fs.writeFileSync(file, whole.subarray(0, whole.length - 3));
  const j = JournalFile.open(file);
  assert.deepEqual(j.found, BATCHES.slice(0, 2));
  assert.equal(fs.statSync(file).size, twoFrames, 'the torn tail is cut off');
  j.append({ sequence: 4, entries: [{ statement: 1, params: ['after'] }] });
  j.sync();
  j.close();
  const again = JournalFile.open(file);
  assert.deepEqual(
    again.found.map((b) => b.sequence),
    [1, 2 ** 40 + 5, 4],
  );
  again.reset();
  assert.equal(again.bytes, JOURNAL_HEADER.length);
  again.close();
  const empty = JournalFile.open(file);
  assert.deepEqual(empty.found, []);
  empty.close();
});

test('journal: a new file, or one whose header is damaged, starts empty', () => {
  const dir = tempDir();
  const fresh = JournalFile.open(path.join(dir, 'new.journal'));
  assert.deepEqual(fresh.found, []);
  assert.deepEqual(fs.readFileSync(fresh.file), JOURNAL_HEADER);
  fresh.close();
  const bad = path.join(dir, 'bad.journal');
  fs.writeFileSync(bad, Buffer.from('joind jour'));
  const reopened = JournalFile.open(bad);
  assert.deepEqual(reopened.found, []);
  assert.deepEqual(fs.readFileSync(bad), JOURNAL_HEADER);
  reopened.close();
});

test('journal: a frame that would cross into the next page starts on it; the gap reads back as nothing', () => {
  const file = path.join(tempDir(), 'joind.journal');
  const j = JournalFile.open(file);
  // Frames of 1,000 bytes: the fifth does not fit after the header and four of them.
  const frame = (sequence: number) => ({ sequence, entries: [{ statement: 1, params: [Buffer.alloc(1000 - 26, sequence)] }] });
  assert.equal(encodeBatch(frame(1)).length, 1000);
  for (let sequence = 1; sequence <= 6; sequence++) j.append(frame(sequence));
  assert.equal(j.bytes, 4096 + 2 * 1000, 'the fifth frame begins at 4096');
  // A frame that leaves less room than the smallest frame: the next one goes to the next page too.
  j.append({ sequence: 7, entries: [{ statement: 1, params: [Buffer.alloc(4096 - 2000 - 10 - 26)] }] });
  assert.equal(j.bytes, 8192 - 10);
  j.append({ sequence: 8, entries: [] });
  assert.equal(j.bytes, 8192 + 20);
  j.close();
  const data = fs.readFileSync(file);
  assert.equal(data.length, 8192 + 20);
  assert.ok(
    data.subarray(16 + 4000, 4096).every((b) => b === 0),
    'the gap was never written',
  );
  const read = decodeJournal(data);
  assert.deepEqual(
    read.batches.map((b) => b.sequence),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.equal(read.validBytes, data.length);
  // A torn frame at the start of a page still ends the journal there.
  assert.deepEqual(
    decodeJournal(data.subarray(0, 8192 + 10)).batches.map((b) => b.sequence),
    [1, 2, 3, 4, 5, 6, 7],
  );
});
