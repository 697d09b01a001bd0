// Storage faults of the permanent store: a full or failing disk (simulated with max_page_count, which
// makes SQLite answer SQLITE_FULL exactly as a full file system does), the integrity check at open, and
// the backup copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Store, StoreError, LeaseState, DB_FILE_NAME } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';
import { leaseRecord } from '../helpers/lease';

const lease = (n: number) => leaseRecord(ip('10.1.0.0') + n, n, { clientHostname: 'x'.repeat(200) });
/** Resolves with 'ok' or 'failed' once everything written so far is durable or rolled back. */
const durable = (store: Store) => new Promise<string>((resolve) => store.whenDurable((err) => resolve(err ? 'failed' : 'ok')));

test('store faults: SQLITE_FULL sets the fault once, fails the waiters, and a probe clears it when space returns', async () => {
  const store = Store.open({ spoolDir: tempDir(), durable: true });
  const changes: Array<string | null> = [];
  store.onFaultChange = (err) => changes.push(err ? ((err as { code?: string }).code ?? 'error') : null);
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  store.db.pragma(`max_page_count = ${pages}`); // "the disk is full"
  const results: string[] = [];
  for (let round = 0; round < 3; round++) {
    try {
      for (let i = 0; i < 50; i++) store.write(() => store.leases.put(lease(round * 50 + i + 1)));
      results.push(await durable(store));
    } catch (err) {
      results.push(`threw ${(err as { code?: string }).code}`);
    }
  }
  assert.equal(results.length, 3);
  assert.ok(
    results.every((r) => r !== 'ok'),
    `nothing is acknowledged while full: ${results.join(',')}`,
  );
  assert.deepEqual(changes, ['SQLITE_FULL'], 'the fault is reported once, not per batch');
  // (max_page_count stops growth only: the probe, which rewrites page 1, would pass here. On a real full
  // disk it fails, as rel-storage.test.sh shows: it needs a new WAL frame.)
  store.db.pragma('max_page_count = 1000000'); // space returns
  assert.equal(store.probe(), true);
  assert.deepEqual(changes, ['SQLITE_FULL', null]);
  store.write(() => store.leases.put(lease(7)));
  assert.equal(await durable(store), 'ok', 'writes succeed again');
  store.close();
});

test('store faults: a corrupt or truncated database is refused at open with a restore hint', () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true });
  for (let i = 1; i <= 300; i++) store.write(() => store.leases.put(lease(i)));
  store.flush();
  store.close();
  const file = path.join(dir, DB_FILE_NAME);
  const size = fs.statSync(file).size;
  assert.ok(size > 8192);

  const damaged = tempDir();
  const bytes = fs.readFileSync(file);
  // Overwrite the middle pages (not the header): SQLite opens it, quick_check finds the damage.
  bytes.fill(0x5a, 4096, Math.min(size, 4096 * 4));
  fs.writeFileSync(path.join(damaged, DB_FILE_NAME), bytes);
  assert.throws(
    () => Store.open({ spoolDir: damaged, durable: true }),
    (err: unknown) => err instanceof StoreError && err.code === 'CORRUPT' && /restore .*joind\.db\.bak/.test(err.message),
  );

  const truncated = tempDir();
  fs.writeFileSync(path.join(truncated, DB_FILE_NAME), fs.readFileSync(file).subarray(0, 4096 + 100));
  assert.throws(
    () => Store.open({ spoolDir: truncated, durable: true }),
    (err: unknown) => err instanceof StoreError && err.code === 'CORRUPT',
  );

  const garbage = tempDir();
  fs.writeFileSync(path.join(garbage, DB_FILE_NAME), Buffer.alloc(10000, 0x41));
  assert.throws(
    () => Store.open({ spoolDir: garbage, durable: true }),
    (err: unknown) => err instanceof StoreError && err.code === 'CORRUPT',
  );
});

test('store faults: backups hold the committed leases, rotate, and restore by copying', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true });
  store.write(() => store.leases.put(lease(1)));
  store.flush();
  const first = await store.backup();
  assert.equal(first, path.join(dir, `${DB_FILE_NAME}.bak`));
  store.write(() => store.leases.put(lease(2)));
  store.flush();
  const second = await store.backup();
  assert.ok(fs.existsSync(`${first}.1`), 'the previous copy is kept');
  assert.ok(!fs.existsSync(`${first}.tmp`));
  const count = (file: string) => {
    const db = new Database(file, { readonly: true });
    const n = (db.prepare('SELECT count(*) AS n FROM leases').get() as { n: number }).n;
    db.close();
    return n;
  };
  assert.equal(count(second), 2);
  assert.equal(count(`${first}.1`), 1);
  store.close();
  // The README's procedure: the copy becomes the database.
  const restored = tempDir();
  fs.copyFileSync(second, path.join(restored, DB_FILE_NAME));
  const back = Store.open({ spoolDir: restored, durable: true });
  assert.equal(back.leases.get(ip('10.1.0.2'))?.state, LeaseState.ACTIVE);
  back.close();
});

test('store faults: leftovers of a backup killed half-way are not replayed into the next copy', async () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: dir, durable: true });
  store.write(() => store.leases.put(lease(3)));
  await durable(store);
  const latest = path.join(dir, `${DB_FILE_NAME}.bak`);
  fs.writeFileSync(`${latest}.tmp`, Buffer.alloc(5000, 0x33));
  fs.writeFileSync(`${latest}.tmp-journal`, Buffer.alloc(5000, 0x44));
  assert.equal(await store.backup(), latest);
  for (const suffix of ['', '-journal', '-wal', '-shm']) assert.ok(!fs.existsSync(`${latest}.tmp${suffix}`), suffix);
  const copy = new Database(latest, { readonly: true });
  assert.equal((copy.prepare('SELECT count(*) AS n FROM leases').get() as { n: number }).n, 1);
  copy.close();
  store.close();
});

test('store faults: a turn that only read (an empty commit) does not clear a fault; only a real write or the probe does', async () => {
  const store = Store.open({ spoolDir: tempDir(), durable: true });
  const changes: Array<string | null> = [];
  store.onFaultChange = (err) => changes.push(err ? ((err as { code?: string }).code ?? 'error') : null);
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  store.db.pragma(`max_page_count = ${pages}`);
  try {
    for (let i = 0; i < 50; i++) store.write(() => store.leases.put(lease(i + 1)));
    await durable(store);
  } catch {
    // the write that hit the limit throws; the fault is what matters
  }
  assert.deepEqual(changes, ['SQLITE_FULL']);
  store.beginTurn();
  assert.equal(store.leases.get(ip('10.1.0.1')), undefined);
  assert.equal(await durable(store), 'ok', 'a reader waits for nothing');
  assert.deepEqual(changes, ['SQLITE_FULL'], 'still faulty after the empty commit');
  assert.notEqual(store.fault, null);
  store.close();
});
