import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { Store, LeaseState, DB_FILE_NAME } from '../../src/store';
import { SCHEMA_VERSION } from '../../src/store/schema';
import { ip } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';
import { leaseRecord } from '../helpers/lease';

const lease = leaseRecord;

const flushTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Polls cond every 5 ms for up to `ms` (a loaded machine, as CI's can be, is slow to get there). */
async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; waited < ms && !cond(); waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('store: schema is created, records round-trip, one record per client and network', () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: path.join(dir, 'spool'), durable: true });
  assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  // NORMAL: the store fsyncs the WAL itself after each commit, off the event loop (see the tests below).
  assert.equal(store.db.pragma('synchronous', { simple: true }), 1);
  store.write(() => store.leases.put(lease('10.1.0.10', 1)));
  const freed = store.write(() => store.leases.put(lease('10.1.0.11', 1)));
  assert.deepEqual(freed, [ip('10.1.0.10')], 'the client moved: its other record on the network goes');
  assert.equal(store.leases.get(ip('10.1.0.10')), undefined);
  const got = store.leases.findByClient(ip('10.1.0.0'), { type: 1, id: Buffer.from([2, 0, 0, 0, 0, 1]) });
  assert.equal(got?.address, ip('10.1.0.11'));
  assert.equal(got?.state, LeaseState.ACTIVE);
  store.flush();
  store.close();
});

test('store: a batch is invisible to other connections until the group commit, then durable callbacks run', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true });
  const reader = new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
  const count = () => (reader.prepare('SELECT count(*) AS n FROM leases').get() as { n: number }).n;
  const events: string[] = [];
  store.write(() => store.leases.put(lease('10.1.0.20', 2)));
  store.write(() => store.leases.put(lease('10.1.0.21', 3)));
  store.whenDurable((err) => events.push(err ? 'failed' : `durable:${count()}`));
  assert.equal(count(), 0, 'nothing visible before the commit');
  assert.deepEqual(events, []);
  await flushTurn();
  await waitFor(() => events.length > 0);
  assert.deepEqual(events, ['durable:2'], 'callbacks run after the commit, which another reader already sees');
  assert.equal(store.stats.commits, 1, 'two writes, one commit');
  assert.equal(store.stats.syncs, 1, 'and one fsync');
  reader.close();
  store.close();
});

/** A fake fsync that holds each sync until the test releases it (with or without an error). */
function heldFsync() {
  const held: Array<{ fd: number; done: (err: NodeJS.ErrnoException | null) => void }> = [];
  const fsync = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => held.push({ fd, done });
  return { held, fsync };
}

test('store: durable replies wait for the fsync of the WAL; writes made meanwhile gather in the next batch', async () => {
  const dir = tempDir();
  const { held, fsync } = heldFsync();
  const store = Store.open({ spoolDir: dir, durable: true, fsync });
  const events: string[] = [];
  store.write(() => store.leases.put(lease('10.1.0.60', 10)));
  store.whenDurable((err) => events.push(err ? 'failed' : 'first'));
  await flushTurn();
  assert.equal(store.stats.commits, 1, 'the first batch is committed');
  assert.equal(held.length, 1, 'and its fsync started');
  assert.ok(fs.fstatSync(held[0]!.fd).ino === fs.statSync(path.join(dir, `${DB_FILE_NAME}-wal`)).ino, 'on the WAL file');
  assert.equal(events.length, 0, 'no reply before the fsync has completed');

  store.write(() => store.leases.put(lease('10.1.0.61', 11)));
  store.whenDurable((err) => events.push(err ? 'failed' : 'second'));
  store.write(() => store.leases.put(lease('10.1.0.62', 12)));
  await flushTurn();
  await flushTurn();
  assert.equal(store.stats.commits, 1, 'nothing is committed while an fsync is in flight');
  assert.equal(held.length, 1);

  held[0]!.done(null);
  assert.deepEqual(events, ['first'], 'the first batch is released once synced, the second not yet');
  assert.equal(store.stats.commits, 2, 'what gathered meanwhile is committed at once, as one batch');
  assert.equal(held.length, 2, 'and synced');
  held[1]!.done(null);
  assert.deepEqual(events, ['first', 'second']);
  store.close();
});

test('store: a small batch is synced on the event loop, a large one on the thread pool; both before their replies', async () => {
  const { held, fsync } = heldFsync();
  const inline: number[] = [];
  const store = Store.open({ spoolDir: tempDir(), durable: true, fsync, fsyncSync: (fd) => inline.push(fd), inlineSyncBelow: 3 });
  const events: string[] = [];
  store.write(() => store.leases.put(lease('10.1.0.64', 20)));
  store.whenDurable((err) => events.push(err ? 'failed' : `small:${inline.length}`));
  store.whenDurable((err) => events.push(err ? 'failed' : `small:${inline.length}`));
  await flushTurn();
  assert.deepEqual(events, ['small:1', 'small:1'], 'two replies waiting: synced inline, once, before they are released');
  assert.equal(held.length, 0, 'no pool sync');

  store.write(() => store.leases.put(lease('10.1.0.65', 21)));
  for (let i = 0; i < 3; i++) store.whenDurable((err) => events.push(err ? 'failed' : 'large'));
  await flushTurn();
  assert.equal(held.length, 1, 'three replies waiting: the sync goes to the pool');
  assert.equal(events.length, 2, 'and they wait for it');
  held[0]!.done(null);
  assert.deepEqual(events.slice(2), ['large', 'large', 'large']);
  assert.deepEqual(store.stats.syncs, 2);
  assert.deepEqual(store.stats.inlineSyncs, 1);

  const failing = Store.open({
    spoolDir: tempDir(),
    durable: true,
    fsync,
    fsyncSync: () => {
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    },
  });
  const outcome: string[] = [];
  failing.write(() => failing.leases.put(lease('10.1.0.66', 22)));
  failing.whenDurable((err) => outcome.push(err ? `failed:${(err as { code?: string }).code}` : 'ok'));
  await flushTurn();
  assert.deepEqual(outcome, ['failed:SYNC'], 'a failed inline sync sends nothing');
  assert.equal(failing.fault?.message.includes('fsync'), true, 'and is a storage fault');
  failing.close();
  store.close();
});

test('store: a failed fsync fails its waiters (no ACK for a batch that may not be on disk)', async () => {
  const { held, fsync } = heldFsync();
  const store = Store.open({ spoolDir: tempDir(), durable: true, fsync });
  const events: string[] = [];
  store.write(() => store.leases.put(lease('10.1.0.70', 13)));
  store.whenDurable((err) => events.push(err ? `failed:${(err as { code?: string }).code}` : 'ok'));
  await flushTurn();
  held[0]!.done(Object.assign(new Error('EIO'), { code: 'EIO' }));
  assert.deepEqual(events, ['failed:SYNC']);
  assert.equal(store.stats.syncFailures, 1);
  store.close();
});

test('store: close() syncs and releases what waits on an fsync in flight; a non-durable store never syncs', async () => {
  const { held, fsync } = heldFsync();
  const store = Store.open({ spoolDir: tempDir(), durable: true, fsync });
  const events: string[] = [];
  store.write(() => store.leases.put(lease('10.1.0.80', 14)));
  store.whenDurable((err) => events.push(err ? 'failed' : 'a'));
  await flushTurn();
  store.write(() => store.leases.put(lease('10.1.0.81', 15)));
  store.whenDurable((err) => events.push(err ? 'failed' : 'b'));
  store.close();
  assert.deepEqual(events, ['a', 'b']);
  held[0]!.done(null); // the late completion of the sync in flight changes nothing
  assert.deepEqual(events, ['a', 'b']);

  const loose = heldFsync();
  const fast = Store.open({ spoolDir: tempDir(), durable: false, fsync: loose.fsync });
  const done: string[] = [];
  fast.write(() => fast.leases.put(lease('10.1.0.90', 16)));
  fast.whenDurable(() => done.push('ok'));
  await flushTurn();
  assert.deepEqual(done, ['ok']);
  assert.equal(loose.held.length, 0);
  fast.close();
});

test('store: a failed write rolls back the whole batch and fails its waiters', async () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  let rolledBack = 0;
  store.onRollback = () => rolledBack++;
  store.write(() => store.leases.put(lease('10.1.0.30', 4)));
  const results: Array<string> = [];
  store.whenDurable((err) => results.push(err ? 'failed' : 'ok'));
  assert.throws(() => store.write(() => store.db.exec('INSERT INTO no_such_table VALUES (1)')));
  assert.deepEqual(results, ['failed']);
  assert.equal(rolledBack, 1);
  await flushTurn();
  assert.equal(store.leases.get(ip('10.1.0.30')), undefined, 'the earlier write of the batch is gone too');
  store.close();
});

test('store: expiry sweep marks ended active leases expired and keeps the record', () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  store.write(() => {
    store.leases.put(lease('10.1.0.40', 5, { ends: 1500 }));
    store.leases.put(lease('10.1.0.41', 6, { ends: 2500 }));
    store.leases.put(lease('10.1.0.42', 7, { ends: null, state: LeaseState.BOOTP }));
  });
  const expired = store.write(() => store.leases.expireDue(2000));
  assert.deepEqual(expired, [ip('10.1.0.40')]);
  assert.equal(store.leases.get(ip('10.1.0.40'))?.state, LeaseState.EXPIRED);
  assert.equal(store.leases.get(ip('10.1.0.42'))?.state, LeaseState.BOOTP);
  store.close();
});

test('store: reopening an existing database keeps its records; a newer schema is refused', () => {
  const dir = tempDir();
  const a = Store.open({ spoolDir: dir, durable: true });
  a.write(() => a.leases.put(lease('10.1.0.50', 8)));
  a.close();
  const b = Store.open({ spoolDir: dir, durable: true });
  assert.equal(b.leases.get(ip('10.1.0.50'))?.address, ip('10.1.0.50'));
  b.db.pragma('user_version = 99');
  b.close();
  assert.throws(() => Store.open({ spoolDir: dir, durable: true }), /schema version 99/);
});

test('store: a domain first seen without names finds the one bound later (the per-domain shortcut learns)', () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: false });
  const owner = { type: 1, id: Buffer.from('0a0b0c0d0e0f', 'hex') };
  assert.equal(store.names.findByOwner(owner, 'lab.example'), undefined, 'nothing bound yet');
  store.write(() => store.names.bind({ domain: 'lab.example', name: 'pc1', owner, address: ip('10.1.0.5'), boundAt: 1 }));
  assert.equal(store.names.findByOwner(owner, 'lab.example')?.name, 'pc1', 'found once bound');
  assert.equal(store.names.findByOwner(owner, 'other.example'), undefined);
  store.close();
  // A binding already on disk is found by a fresh process, whose shortcut starts empty.
  const again = Store.open({ spoolDir: dir, durable: false });
  assert.equal(again.names.findByOwner(owner, 'lab.example')?.name, 'pc1');
  again.close();
});

test("store: a client's name is found through names_by_owner, not by scanning the domain", () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  store.write(() => {
    for (let i = 0; i < 3000; i++) {
      const owner = { type: 1, id: Buffer.from([2, 0, 0, 0, i >> 8, i & 0xff]) };
      store.names.bind({ domain: 'lab.example', name: `pc${i}`, owner, address: ip('10.1.0.5') + i, boundAt: i });
    }
  });
  const owner = { type: 1, id: Buffer.from([2, 0, 0, 0, 2984 >> 8, 2984 & 0xff]) };
  assert.equal(store.names.findByOwner(owner, 'lab.example')?.name, 'pc2984');
  // The statement itself: SQLite's planner, without statistics, chose the primary key's domain=? and
  // read every name of the domain (bench/ddns.sh: 67 % of joind's CPU). The plan must name the index.
  const sql = (store.names as unknown as { byOwner: Database.Statement }).byOwner.source;
  const plan = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(1, owner.id, 'lab.example') as Array<{ detail: string }>;
  assert.ok(
    plan.some((step) => /USING INDEX names_by_owner \(cid_type=\? AND cid=\? AND domain=\?\)/.test(step.detail)),
    JSON.stringify(plan),
  );
  store.close();
});

test('store: with backgroundCheckpoint the worker thread checkpoints the WAL, and the main connection does not', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true, backgroundCheckpoint: true });
  assert.equal(
    store.db.pragma('wal_autocheckpoint', { simple: true }),
    10_000,
    "the main connection's own checkpoint is only a safety valve",
  );
  // A failed assertion must still close the store: its checkpoint thread would keep the test alive.
  let written: number;
  try {
    // One checkpoint asked per 100 commits, one at a time: a slow thread (a loaded machine) answers
    // the first after more of them, so commit on until the second has come, within 1,000 commits.
    let commits = 0;
    while (commits < 250 || (store.backgroundCheckpoints < 2 && commits < 1000)) {
      const i = commits++;
      store.write(() => store.leases.put(lease(`10.1.${Math.floor(i / 200)}.${i % 200}`, i % 250)));
      await new Promise<void>((resolve, reject) => store.whenDurable((err) => (err ? reject(err) : resolve())));
      if (commits >= 250 && store.backgroundCheckpoints < 2) await waitFor(() => store.backgroundCheckpoints >= 2, 20);
    }
    assert.ok(
      store.backgroundCheckpoints >= 2,
      `${store.backgroundCheckpoints} checkpoints by the worker after ${commits} commits`,
    );
    written = [...store.leases.all()].length;
  } finally {
    store.close();
  }
  // Everything committed is there after a reopen, whichever connection checkpointed it.
  const again = Store.open({ spoolDir: dir, durable: false });
  assert.equal([...again.leases.all()].length, written);
  again.close();
});

test('store: unsynced writes alone, with nobody waiting, commit without an fsync; the next synced batch covers them', async () => {
  const inline: number[] = [];
  const dir = tempDir();
  const store = Store.open({
    spoolDir: dir,
    durable: true,
    fsync: () => assert.fail('no pool sync'),
    fsyncSync: (fd) => inline.push(fd),
  });
  store.writeUnsynced(() => store.leases.put(lease('10.1.0.80', 40)));
  await flushTurn();
  assert.equal(store.stats.commits, 1, 'committed at the end of the turn');
  assert.equal(inline.length, 0, 'but not synced: nobody waits, and a crash may undo it');
  // Someone waits: synced, unsynced write or not.
  store.writeUnsynced(() => store.leases.put(lease('10.1.0.81', 41)));
  let durable = false;
  store.whenDurable(() => (durable = true));
  await flushTurn();
  assert.deepEqual([inline.length, durable], [1, true]);
  // An ordinary write in the batch: synced as always.
  store.writeUnsynced(() => store.leases.put(lease('10.1.0.82', 42)));
  store.write(() => store.leases.put(lease('10.1.0.83', 43)));
  await flushTurn();
  assert.equal(inline.length, 2);
  store.close();
  const again = Store.open({ spoolDir: dir, durable: false });
  assert.equal([...again.leases.all()].length, 4, 'all four committed');
  again.close();
});

test("store: beginTurn puts the turn's reads and writes in one transaction; a turn that only read is not synced", async () => {
  const inline: number[] = [];
  const store = Store.open({
    spoolDir: tempDir(),
    durable: true,
    fsync: () => assert.fail('no pool sync'),
    fsyncSync: (fd) => inline.push(fd),
  });
  store.beginTurn();
  assert.equal(store.db.inTransaction, true, 'open before the first statement');
  assert.equal(store.leases.get(ip('10.1.0.70')), undefined);
  assert.equal(await new Promise((resolve) => store.whenDurable((err) => resolve(err ? 'failed' : 'ok'))), 'ok');
  assert.equal(store.db.inTransaction, false, 'committed at the end of the turn');
  assert.equal(inline.length, 0, 'nothing written, nothing synced');
  assert.equal(store.stats.commits, 0, 'an empty commit is not a batch');

  store.beginTurn();
  store.beginTurn(); // idempotent
  store.write(() => store.leases.put(lease('10.1.0.71', 30)));
  assert.equal(store.leases.get(ip('10.1.0.71'))?.address, ip('10.1.0.71'), 'the turn reads its own write');
  await new Promise((resolve) => store.whenDurable(resolve));
  assert.equal(inline.length, 1, 'a turn that wrote is synced');
  assert.equal(store.stats.commits, 1);
  store.close();
});

test('store: a version 1 database gains the failover columns and table, its leases kept', () => {
  const dir = tempDir();
  const a = Store.open({ spoolDir: dir, durable: true });
  a.close();
  // Rebuild it as a joind of schema 1 left it: the failover columns and table did not exist.
  const old = new Database(path.join(dir, DB_FILE_NAME));
  old.exec(
    'DROP TABLE failover_state; DROP INDEX leases_peer_pending; DROP TABLE ddns_jobs; DROP TABLE dns_records; DROP TABLE clock; DROP TABLE journal_applied;',
  );
  old.exec(
    'ALTER TABLE leases DROP COLUMN tstp; ALTER TABLE leases DROP COLUMN tsfp; ALTER TABLE leases DROP COLUMN peer_pending;',
  );
  old
    .prepare(
      `INSERT INTO leases (address, network, cid_type, cid, htype, hwaddr, client_id, starts, ends, cltt, state, client_hostname, hostname)
       VALUES (?, ?, 1, ?, 1, ?, NULL, 1000, 2000, 1000, ?, NULL, NULL)`,
    )
    .run(
      ip('10.1.0.60'),
      ip('10.1.0.0'),
      Buffer.from('020000000009', 'hex'),
      Buffer.from('020000000009', 'hex'),
      LeaseState.ACTIVE,
    );
  old.pragma('user_version = 1');
  old.close();
  const b = Store.open({ spoolDir: dir, durable: true });
  const kept = b.leases.get(ip('10.1.0.60'));
  assert.equal(kept?.state, LeaseState.ACTIVE);
  assert.equal(kept?.tstp, undefined, 'a record outside failover carries no failover fields');
  b.write(() => b.leases.put(lease('10.1.0.61', 10, { tstp: 3000, tsfp: 2500, peerPending: true })));
  assert.deepEqual(b.leases.peerPending(0, 10), [ip('10.1.0.61')]);
  const pair = b.leases.get(ip('10.1.0.61'));
  assert.equal(pair?.tstp, 3000);
  assert.equal(pair?.tsfp, 2500);
  assert.equal(b.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  b.write(() =>
    b.failover.put({
      name: 'pair',
      myState: 'normal',
      myStos: 5000,
      partnerState: 'normal',
      partnerStos: 4990,
      mclt: 3600,
      everPaired: true,
      hba: Buffer.alloc(32, 0xf0),
    }),
  );
  b.close();
  const c = Store.open({ spoolDir: dir, durable: true });
  assert.deepEqual(c.failover.get('pair'), {
    name: 'pair',
    myState: 'normal',
    myStos: 5000,
    partnerState: 'normal',
    partnerStos: 4990,
    mclt: 3600,
    everPaired: true,
    hba: Buffer.alloc(32, 0xf0),
  });
  assert.equal(c.failover.get('other'), undefined);
  c.close();
});
