import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import path from 'node:path';
import { Store, LeaseState, LeaseRecord, DB_FILE_NAME } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';

function lease(address: string, mac: number, extra: Partial<LeaseRecord> = {}): LeaseRecord {
  const hw = Buffer.from([2, 0, 0, 0, 0, mac]);
  return {
    address: ip(address), network: ip('10.1.0.0'), client: { type: 1, id: hw }, htype: 1, hwaddr: hw,
    clientId: null, starts: 1000, ends: 2000, cltt: 1000, state: LeaseState.ACTIVE,
    clientHostname: null, hostname: null, ...extra,
  };
}

const flushTurn = () => new Promise((resolve) => setImmediate(resolve));

test('store: schema is created, records round-trip, one record per client and network', () => {
  const dir = tempDir();
  const store = Store.open({ spoolDir: path.join(dir, 'spool'), durable: true });
  assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(store.db.pragma('synchronous', { simple: true }), 2); // FULL
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
  assert.deepEqual(events, ['durable:2'], 'callbacks run after the commit, which another reader already sees');
  assert.equal(store.stats.commits, 1, 'two writes, one commit');
  reader.close();
  store.close();
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
