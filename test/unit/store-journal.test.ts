// The store in journal mode (src/store/store.ts, issue 17): a batch's durable record is a frame of the
// lease journal, SQLite is committed only at a publish, and whatever the journal holds beyond the
// database's last publish is replayed by the next open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { Store, LeaseState, DB_FILE_NAME } from '../../src/store';
import { BatchEncoder, DEFINE, JOURNAL_HEADER, decodeJournal } from '../../src/store/journal';
import { JOURNAL_FILE_NAME } from '../../src/store/store';
import { ip } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';
import { leaseRecord } from '../helpers/lease';

const lease = leaseRecord;

const durable = (store: Store): Promise<void> =>
  new Promise((resolve, reject) => store.whenDurable((err) => (err ? reject(err) : resolve())));
const published = (store: Store): Promise<void> =>
  new Promise((resolve, reject) => store.whenPublished((err) => (err ? reject(err) : resolve())));

/** What another process reading the database file sees. */
function committedAddresses(dir: string): number[] {
  const reader = new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
  try {
    return (reader.prepare('SELECT address FROM leases ORDER BY address').all() as Array<{ address: number }>).map(
      (r) => r.address,
    );
  } finally {
    reader.close();
  }
}

/** The files as a crash would leave them now (the process gone, nothing closed). */
function crashCopy(dir: string): string {
  const copy = tempDir();
  for (const name of [DB_FILE_NAME, `${DB_FILE_NAME}-wal`, JOURNAL_FILE_NAME]) {
    const from = path.join(dir, name);
    if (fs.existsSync(from)) fs.copyFileSync(from, path.join(copy, name));
  }
  return copy;
}

const journalBatches = (dir: string) => decodeJournal(fs.readFileSync(path.join(dir, JOURNAL_FILE_NAME))).batches;

test('journal mode: a durable batch is in the journal, not yet in SQLite; a crash then replays it', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true, journal: true });
  store.write(() => store.leases.put(lease('10.1.0.10', 1)));
  await durable(store);
  store.write(() => store.leases.put(lease('10.1.0.11', 2)));
  await durable(store);
  assert.equal(store.stats.publishes, 0);
  assert.deepEqual(committedAddresses(dir), [], 'no other process sees the batches before a publish');
  const batches = journalBatches(dir);
  assert.deepEqual(
    batches.map((b) => b.sequence),
    [0, 1, 2],
    'the DEFINE frame, then one frame per batch',
  );
  assert.ok(batches[0]!.entries.every((e) => e.statement === DEFINE));
  assert.equal(store.leases.get(ip('10.1.0.11'))?.state, LeaseState.ACTIVE, 'the server itself reads its own batches');

  const after = Store.open({ spoolDir: crashCopy(dir), durable: true, journal: true });
  assert.equal(after.replayedBatches, 2);
  assert.equal(after.leases.get(ip('10.1.0.10'))?.client?.id.toString('hex'), '020000000001');
  assert.equal(after.leases.get(ip('10.1.0.11'))?.state, LeaseState.ACTIVE);
  after.close();
  store.close();
});

test('journal mode: what a batch waits for is the fdatasync of the journal, on the loop and on the pool', async () => {
  const dir = tempDir();
  const synced: string[] = [];
  const name = (fd: number) => path.basename(fs.readlinkSync(`/proc/self/fd/${fd}`));
  const store = Store.open({
    spoolDir: dir,
    durable: true,
    journal: true,
    fsyncSync: (fd) => synced.push(`loop ${name(fd)}`),
    fsync: (fd, done) => {
      synced.push(`pool ${name(fd)}`);
      done(null);
    },
  });
  store.write(() => store.leases.put(lease('10.1.0.60', 1)));
  await durable(store);
  // A batch many replies wait on goes to the pool (INLINE_SYNC_BELOW).
  store.write(() => store.leases.put(lease('10.1.0.61', 2)));
  await Promise.all([durable(store), durable(store), durable(store), durable(store)]);
  assert.deepEqual(synced, [`loop ${JOURNAL_FILE_NAME}`, `pool ${JOURNAL_FILE_NAME}`]);
  await published(store);
  assert.equal(synced[2], `loop ${DB_FILE_NAME}-wal`, 'a publish syncs the WAL');
  store.close();
});

test('journal mode: a publish commits SQLite and empties the journal; close publishes too', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true, journal: true });
  store.write(() => store.leases.put(lease('10.1.0.20', 1)));
  await durable(store);
  await published(store);
  assert.equal(store.stats.publishes, 1);
  assert.deepEqual(committedAddresses(dir), [ip('10.1.0.20')]);
  assert.equal(fs.statSync(path.join(dir, JOURNAL_FILE_NAME)).size, JOURNAL_HEADER.length);
  // After a publish the next batch starts a new journal, with its DEFINE frame again.
  store.write(() => store.leases.put(lease('10.1.0.21', 2)));
  await durable(store);
  assert.deepEqual(
    journalBatches(dir).map((b) => b.sequence),
    [0, 2],
  );
  store.close();
  assert.deepEqual(committedAddresses(dir), [ip('10.1.0.20'), ip('10.1.0.21')]);
  assert.equal(fs.statSync(path.join(dir, JOURNAL_FILE_NAME)).size, JOURNAL_HEADER.length);
  // A crash copy taken after the publish replays nothing: the database says it holds batch 1.
  const reopened = Store.open({ spoolDir: dir, durable: true, journal: true });
  assert.equal(reopened.replayedBatches, 0);
  assert.equal(reopened.leases.get(ip('10.1.0.21'))?.state, LeaseState.ACTIVE);
  reopened.close();
});

test('journal mode: a failed write undoes its own batch only; the journal never holds it', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true, journal: true });
  store.write(() => store.leases.put(lease('10.1.0.30', 1)));
  await durable(store);
  assert.throws(() =>
    store.write(() => {
      store.leases.put(lease('10.1.0.31', 2));
      throw new Error('a write that fails half-way');
    }),
  );
  store.write(() => store.leases.put(lease('10.1.0.32', 3)));
  await durable(store);
  assert.equal(store.leases.get(ip('10.1.0.30'))?.state, LeaseState.ACTIVE, 'the batch before stays');
  assert.equal(store.leases.get(ip('10.1.0.31')), undefined, 'the failed batch is undone');
  const after = Store.open({ spoolDir: crashCopy(dir), durable: true });
  assert.deepEqual(
    [...after.leases.all()].map((l) => l.address),
    [ip('10.1.0.30'), ip('10.1.0.32')],
  );
  after.close();
  store.close();
});

test('journal mode: a write statement run outside write() is journaled all the same', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true, journal: true });
  store.registered.register(1, Buffer.from('020000000009', 'hex'));
  store.write(() => store.leases.put(lease('10.1.0.40', 1)));
  await durable(store);
  const after = Store.open({ spoolDir: crashCopy(dir), durable: true });
  assert.equal(after.registered.isRegistered(1, Buffer.from('020000000009', 'hex')), true);
  after.close();
  store.close();
});

test('journal mode: replay runs the statements the journal defines, and stops at a torn frame', () => {
  const dir = tempDir();
  Store.open({ spoolDir: dir, durable: true }).close();
  // A journal written by another numbering of the statements (another version of joind).
  const defines = new BatchEncoder();
  defines.add(DEFINE, [7, 'INSERT OR IGNORE INTO registered (htype, hwaddr) VALUES (?, ?)']);
  const one = new BatchEncoder();
  one.add(7, [1, Buffer.from('0200000000aa', 'hex')]);
  const two = new BatchEncoder();
  two.add(7, [1, Buffer.from('0200000000bb', 'hex')]);
  const whole = two.frame(2);
  fs.writeFileSync(
    path.join(dir, JOURNAL_FILE_NAME),
    Buffer.concat([JOURNAL_HEADER, defines.frame(0), one.frame(1), whole.subarray(0, whole.length - 3)]),
  );
  assert.equal(Store.journalPending(dir), true);
  const store = Store.open({ spoolDir: dir, durable: true });
  assert.equal(store.replayedBatches, 1, 'the torn frame (a batch whose fsync never completed) is not replayed');
  assert.equal(store.registered.isRegistered(1, Buffer.from('0200000000aa', 'hex')), true);
  assert.equal(store.registered.isRegistered(1, Buffer.from('0200000000bb', 'hex')), false);
  store.close();
  assert.equal(Store.journalPending(dir), false, 'replayed and emptied');
});

test('journal mode: a second process cannot take the journal of a server that has unpublished batches', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true, journal: true });
  store.write(() => store.leases.put(lease('10.1.0.50', 1)));
  await durable(store);
  // SQLite's write lock is held by the server's open transaction: another open of the store (as an admin
  // command's, which would replay the journal) waits for it, then fails busy, and the journal is left as
  // it was.
  const before = fs.readFileSync(path.join(dir, JOURNAL_FILE_NAME));
  const other = new Database(path.join(dir, DB_FILE_NAME));
  other.pragma('busy_timeout = 0');
  assert.throws(() => other.exec('BEGIN IMMEDIATE'), /locked|busy/i);
  other.close();
  assert.throws(() => Store.open({ spoolDir: dir, durable: true }), /locked|busy/i);
  assert.deepEqual(fs.readFileSync(path.join(dir, JOURNAL_FILE_NAME)), before);
  assert.equal(store.leases.get(ip('10.1.0.50'))?.state, LeaseState.ACTIVE, 'the server goes on');
  store.close();
});

test('journal mode: a journal that continues a newer database (a backup put back) is set aside, not replayed', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true, journal: true });
  store.write(() => store.leases.put(lease('10.1.0.70', 1)));
  await durable(store);
  await published(store);
  const backup = crashCopy(dir); // the database as of batch 1, an empty journal
  store.write(() => store.leases.put(lease('10.1.0.71', 2)));
  await durable(store);
  await published(store);
  store.write(() => store.leases.put(lease('10.1.0.72', 3)));
  await durable(store);
  // The backup with today's journal, which begins at batch 3: batch 2 is in neither.
  fs.copyFileSync(path.join(dir, JOURNAL_FILE_NAME), path.join(backup, JOURNAL_FILE_NAME));
  const restored = Store.open({ spoolDir: backup, durable: true, journal: true });
  assert.deepEqual(restored.journalSetAside, {
    file: path.join(backup, `${JOURNAL_FILE_NAME}.unused`),
    firstBatch: 3,
    databaseHolds: 1,
  });
  assert.equal(restored.replayedBatches, 0);
  assert.deepEqual(
    [...restored.leases.all()].map((l) => l.address),
    [ip('10.1.0.70')],
    'the copy as it was, not mixed with a later batch',
  );
  assert.equal(decodeJournal(fs.readFileSync(path.join(backup, `${JOURNAL_FILE_NAME}.unused`))).batches.at(-1)?.sequence, 3);
  restored.close();
  store.close();
});

test('journal mode: the WAL starts over after each publish, also when the next batch follows at once', async () => {
  const dir = tempDir();
  // As the server opens it: the checkpoint thread is asked for, and journal mode does without it.
  const store = Store.open({ spoolDir: dir, durable: true, journal: true, backgroundCheckpoint: true });
  const walBytes = () => fs.statSync(path.join(dir, `${DB_FILE_NAME}-wal`)).size;
  const sizes: number[] = [];
  for (let round = 0; round < 12; round++) {
    for (let i = 0; i < 200; i++) {
      const n = round * 200 + i;
      store.write(() => store.leases.put(lease(`10.1.${10 + (n >> 8)}.${n & 255}`, n & 255)));
    }
    await durable(store);
    await published(store);
    // The next batch begins right away, as the next packet's would.
    store.write(() => store.registered.register(1, Buffer.from([2, 0, 0, 0, 1, round])));
    await durable(store);
    sizes.push(walBytes());
  }
  assert.equal(store.backgroundCheckpoints, 0);
  assert.ok(sizes.at(-1)! <= sizes[2]! * 1.5, `the WAL grew with every publish: ${sizes.join(' ')}`);
  store.close();
});
