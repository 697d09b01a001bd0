import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkPool } from '../../src/alloc/pool';
import type { RangeRule } from '../../src/config/types';
import { Store, LeaseState, LeaseRecord } from '../../src/store';
import { ip, ipToString } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';

const NET = ip('10.1.0.0');
const MASK = ip('255.255.255.0');

function record(address: string, state: LeaseState, cltt: number, mac: number): LeaseRecord {
  const hw = Buffer.from([2, 0, 0, 0, 1, mac]);
  return {
    address: ip(address),
    network: NET,
    client: { type: 1, id: hw },
    htype: 1,
    hwaddr: hw,
    clientId: null,
    starts: cltt,
    ends: cltt + 10,
    cltt,
    state,
    clientHostname: null,
    hostname: null,
  };
}

/** A store whose first `count` addresses of 10.0.0.0/8 (from 10.0.0.1) have active leases, but for `holes`. */
function storeUsing(count: number, holes = new Set<number>()): Store {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  store.write(() => {
    for (let i = 1; i <= count; i++) {
      const a = ip('10.0.0.0') + i;
      if (holes.has(a)) continue;
      store.leases.put({
        ...record('10.0.0.1', LeaseState.ACTIVE, 1_000_000_000, 0),
        address: a,
        network: ip('10.0.0.0'),
        ends: 4_000_000_000,
        client: { type: 1, id: Buffer.from(a.toString(16).padStart(8, '0'), 'hex') },
      });
    }
  });
  store.flush();
  return store;
}

function drain(pool: NetworkPool, nowMs: number, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = pool.take(nowMs);
    if (a === undefined) break;
    pool.hold(a, `c${i}-${nowMs}`, nowMs);
    out.push(ipToString(a));
  }
  return out;
}

test('pool: refill order is never-used ascending, then expired/released LRU, then abandoned oldest first', () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  store.write(() => {
    store.leases.put({ ...record('10.1.0.11', LeaseState.ACTIVE, 1_000_000_000, 1), ends: 3_000_000_000 }); // held: never offered
    store.leases.put(record('10.1.0.13', LeaseState.EXPIRED, 300, 2));
    store.leases.put(record('10.1.0.14', LeaseState.RELEASED, 100, 3));
    store.leases.put(record('10.1.0.15', LeaseState.EXPIRED, 200, 4));
    store.leases.put({ ...record('10.1.0.16', LeaseState.ABANDONED, 500, 5), client: null });
    store.leases.put({ ...record('10.1.0.17', LeaseState.ABANDONED, 400, 6), client: null });
  });
  store.flush();
  const reserved = new Set([ip('10.1.0.12')]); // a static binding
  const pool = new NetworkPool(
    NET,
    MASK,
    [{ start: ip('10.1.0.10'), end: ip('10.1.0.17') }],
    reserved,
    { freeListSize: 2, provisionalTtlMs: 60_000 },
    store,
  );
  const now = 2_000_000_000_000;
  assert.deepEqual(drain(pool, now, 10), [
    '10.1.0.10', // never used
    '10.1.0.14',
    '10.1.0.15',
    '10.1.0.13', // released/expired, least recently used first
    '10.1.0.17',
    '10.1.0.16', // abandoned, oldest first
  ]);
  assert.equal(pool.take(now), undefined, 'everything is held now: exhausted');
  assert.ok(pool.counters.exhausted >= 1);
  // After provisional_ttl the holds lapse and are reclaimed before anything else.
  const later = now + 61_000;
  const again = pool.take(later);
  assert.ok(again !== undefined);
  assert.ok(pool.counters.provisionalReclaimed >= 6);
  store.close();
});

test('pool: a /8 range costs nothing until used, and the search skips used addresses', () => {
  const store = storeUsing(1000);
  const before = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  const pool = new NetworkPool(
    ip('10.0.0.0'),
    ip('255.0.0.0'),
    [{ start: ip('10.0.0.1'), end: ip('10.255.255.254') }],
    new Set(),
    { freeListSize: 8, provisionalTtlMs: 60_000 },
    store,
  );
  const first = pool.take(Date.now());
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(first !== undefined && ipToString(first), '10.0.3.233', 'first never-used after 1000 used');
  assert.ok(pool.freeListLength() <= 8);
  assert.ok(process.memoryUsage().heapUsed - before < 5_000_000, 'no per-address memory');
  assert.ok(ms < 1000, `took ${ms} ms`);
  store.close();
});

test('pool: the never-used search crosses windows of used addresses and finds the gaps inside one', () => {
  // 10.0.0.1 … 10.0.39.16 (10,000 addresses, more than two windows of 4,096) used, but for two holes.
  const store = storeUsing(10_000, new Set([ip('10.0.20.1'), ip('10.0.30.7')]));
  const pool = new NetworkPool(
    ip('10.0.0.0'),
    ip('255.0.0.0'),
    [{ start: ip('10.0.0.1'), end: ip('10.255.255.254') }],
    new Set(),
    { freeListSize: 3, provisionalTtlMs: 60_000 },
    store,
  );
  assert.deepEqual(drain(pool, Date.now(), 3), ['10.0.20.1', '10.0.30.7', '10.0.39.17']);
  store.close();
});

test('pool: a record deleted behind the cursor becomes never-used again', () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  const pool = new NetworkPool(
    NET,
    MASK,
    [{ start: ip('10.1.0.10'), end: ip('10.1.0.12') }],
    new Set(),
    { freeListSize: 8, provisionalTtlMs: 60_000 },
    store,
  );
  const now = Date.now();
  const got = drain(pool, now, 3);
  assert.deepEqual(got, ['10.1.0.10', '10.1.0.11', '10.1.0.12']);
  store.write(() => store.leases.put(record('10.1.0.11', LeaseState.ACTIVE, Math.floor(now / 1000), 9)));
  pool.releaseHold(ip('10.1.0.11'), false);
  store.write(() => store.leases.delete(ip('10.1.0.11')));
  pool.recordChanged(ip('10.1.0.11'), undefined);
  assert.equal(ipToString(pool.take(now)!), '10.1.0.11');
  store.close();
});

test('pool: ranges with a rule have free lists of their own; a client takes only from those it is admitted to', () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  const staff: RangeRule = {
    label: 'staff',
    source: 'dhcpcap:2',
    knownOnly: true,
    unknownOnly: false,
    noDynamicBootp: false,
    allowMembers: [],
    denyMembers: [],
  };
  // 25 expired records in the staff range, all older than the one expired record of the open range: a
  // query of the whole network (limit free_list_size + 16) would see only staff's, and the open range none.
  store.write(() => {
    for (let i = 0; i < 25; i++) store.leases.put(record(`10.1.0.${100 + i}`, LeaseState.EXPIRED, 100 + i, i));
    store.leases.put(record('10.1.0.200', LeaseState.EXPIRED, 5_000, 99));
  });
  store.flush();
  const pool = new NetworkPool(
    NET,
    MASK,
    [
      { start: ip('10.1.0.100'), end: ip('10.1.0.124'), rule: staff },
      { start: ip('10.1.0.200'), end: ip('10.1.0.200') },
    ],
    new Set(),
    { freeListSize: 2, provisionalTtlMs: 60_000 },
    store,
  );
  assert.equal(pool.hasRules, true);
  assert.equal(pool.ruleOf(ip('10.1.0.110')), staff);
  assert.equal(pool.ruleOf(ip('10.1.0.200')), undefined);
  const now = 2_000_000_000_000;
  const unknown = (rule: RangeRule): boolean => !rule.knownOnly;
  assert.equal(ipToString(pool.take(now, unknown)!), '10.1.0.200', "the open range's own record, not crowded out");
  pool.hold(ip('10.1.0.200'), 'u1', now);
  assert.equal(pool.take(now, unknown), undefined, 'nothing left that an unknown client may have');
  assert.equal(pool.mayOffer(now, unknown), false);
  assert.equal(pool.mayOffer(now), true, 'though staff has free addresses');
  // A known client is given staff's first (ranges with a rule before the open ones), LRU first.
  assert.equal(ipToString(pool.take(now, () => true)!), '10.1.0.100');
  // Given back, an address returns to its own range's list.
  pool.giveBack(ip('10.1.0.100'));
  assert.equal(pool.take(now, unknown), undefined);
  assert.equal(ipToString(pool.take(now)!), '10.1.0.100');
  store.close();
});
