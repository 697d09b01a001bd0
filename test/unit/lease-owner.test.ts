// The lease owner on its own: the pools a configuration gives, each write it makes (grant, release,
// abandon, extend, expireDue, put, delete) and what the owning pool is told of it, and the reset of
// every pool when the store rolls a batch back. No server and no packets (test/helpers/alloc.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LeaseGrant } from '../../src/alloc/lease-owner';
import { LeaseState } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import {
  BASE_FILES,
  configOf,
  FIXED,
  keyOf,
  keyStringOf,
  macOf,
  makeAllocBed,
  NET_A,
  NET_B,
  NET_C,
  recordFor,
  seed,
  TINY_NETS,
} from '../helpers/alloc';

const A = (last: number) => ip(`10.9.1.${last}`);
const B = (last: number) => ip(`10.9.2.${last}`);

function grantOf(n: number, address: number, network = NET_A, extra: Partial<LeaseGrant> = {}): LeaseGrant {
  return {
    address,
    network,
    client: keyOf(n),
    htype: 1,
    hwaddr: macOf(n),
    clientId: null,
    leaseSeconds: 600,
    state: LeaseState.ACTIVE,
    clientHostname: null,
    hostname: null,
    ...extra,
  };
}

// ---- configure ----

test('configure: a pool per network with ranges of ours, with its reserved addresses', () => {
  const bed = makeAllocBed();
  assert.deepEqual([...bed.owner.allPools.keys()].sort(), [NET_A, NET_B].sort());
  assert.equal(bed.owner.poolOf(NET_C), undefined, "another server's network");
  assert.deepEqual(bed.poolA.ranges, [{ start: A(10), end: A(15), failover: undefined }], 'ours alone, not a failover range');
  assert.deepEqual([...bed.poolA.reservedSet].sort(), [NET_A, A(1), FIXED, A(255)].sort());
  assert.deepEqual([...bed.poolB.reservedSet].sort(), [NET_B, B(1), B(255)].sort());
  assert.equal(bed.poolA.allocatable(FIXED), false);
  assert.equal(bed.poolA.allocatable(A(13)), true);
  bed.close();
});

test('configure: an unchanged network keeps its pool (and holds); a changed one gets a new pool', () => {
  const bed = makeAllocBed();
  const now = bed.clock.now;
  assert.equal(bed.poolB.take(now), B(10));
  bed.poolB.hold(B(10), keyStringOf(1), now);
  const policy = 'ping_timeout 0\nprovisional_ttl 10\nfree_list_size 2\n';
  // Network A's range changes; B's does not; only the policy changes for B.
  bed.owner.configure(
    configOf({
      'server.pcy': policy,
      nets: BASE_FILES.nets!.replace('10.9.1.10-10.9.1.15', '10.9.1.10-10.9.1.13'),
    }),
  );
  assert.equal(bed.owner.poolOf(NET_B), bed.poolB, 'B kept');
  assert.equal(bed.poolB.heldFor(keyStringOf(1), now), B(10), 'with its hold');
  const newA = bed.owner.poolOf(NET_A)!;
  assert.notEqual(newA, bed.poolA, 'A replaced');
  assert.deepEqual(newA.ranges, [{ start: A(10), end: A(13), failover: undefined }]);
  // The kept pool runs on the new settings: a new hold lasts provisional_ttl 10.
  assert.equal(bed.poolB.take(now), B(11));
  bed.poolB.hold(B(11), keyStringOf(2), now);
  assert.equal(bed.poolB.heldFor(keyStringOf(2), now + 11_000), undefined);

  // A changed reservation (the dhcpcap host moves to .13) replaces the pool too, ranges unchanged.
  bed.owner.configure(configOf({ 'server.pcy': policy, dhcpcap: BASE_FILES.dhcpcap!.replace('ip=10.9.1.12', 'ip=10.9.1.13') }));
  assert.notEqual(bed.owner.poolOf(NET_A), newA);
  assert.equal(bed.owner.poolOf(NET_A)!.allocatable(FIXED), true);
  assert.equal(bed.owner.poolOf(NET_B), bed.poolB, 'B kept again');

  // A network that is gone loses its pool.
  bed.owner.configure(configOf({ nets: '10.9.1.0 10.9.1.1 10.9.1.10-10.9.1.15\n' }));
  assert.equal(bed.owner.poolOf(NET_B), undefined);
  bed.close();
});

// ---- grant ----

test('grant: writes the lease, ends the hold on the address and the client', () => {
  const bed = makeAllocBed();
  const now = bed.clock.now;
  bed.poolA.hold(A(13), keyStringOf(1), now);
  bed.poolA.hold(A(14), keyStringOf(2), now);
  const record = bed.owner.grant(grantOf(1, A(14), NET_A, { hostname: 'h1' }), 1000);
  assert.deepEqual(bed.store.leases.get(A(14)), record);
  assert.deepEqual(
    [record.starts, record.ends, record.cltt, record.state, record.hostname],
    [1000, 1600, 1000, LeaseState.ACTIVE, 'h1'],
  );
  assert.equal(bed.poolA.heldFor(keyStringOf(1), now), undefined, "the client's hold");
  assert.equal(bed.poolA.holderOf(A(14), now), undefined, 'any hold on the address');
  assert.equal(bed.owner.grant(grantOf(3, A(15), NET_A, { leaseSeconds: null }), 1000).ends, null);
  bed.close();
});

test("grant: a client's static binding stays static; another client's grant elsewhere does not touch it", () => {
  const bed = makeAllocBed();
  seed(bed.store, recordFor(1, A(50), NET_A, LeaseState.STATIC, 500, null));
  const record = bed.owner.grant(grantOf(1, A(50), NET_A, { state: LeaseState.BOOTP }), 1000);
  assert.deepEqual([record.state, record.ends, record.starts], [LeaseState.STATIC, null, 1000]);
  bed.owner.grant(grantOf(2, A(10)), 1000);
  assert.equal(bed.store.leases.get(A(50))?.state, LeaseState.STATIC);
  bed.close();
});

test('grant with auto_release: records on other networks go, and their pool is told', () => {
  const bed = makeAllocBed({ files: { nets: TINY_NETS }, autoRelease: true });
  const now = bed.clock.now;
  bed.owner.grant(grantOf(1, A(10)), bed.nowSec());
  bed.owner.grant(grantOf(2, A(11)), bed.nowSec());
  assert.equal(bed.poolA.take(now), undefined, 'A is full');
  bed.owner.grant(grantOf(1, B(11), NET_B), bed.nowSec());
  assert.equal(bed.store.leases.get(A(10)), undefined);
  assert.equal(bed.store.leases.get(A(11))?.state, LeaseState.ACTIVE, "another client's record stays");
  assert.equal(bed.poolA.take(now), A(10), "A's pool offers it again");
  bed.close();
});

// ---- release, abandon, extend, expireDue ----

test('release: the release rule, and its refusals change nothing', () => {
  const bed = makeAllocBed();
  seed(
    bed.store,
    recordFor(1, A(10), NET_A, LeaseState.ACTIVE, 900, 1600),
    recordFor(2, A(11), NET_A, LeaseState.RELEASED, 900, 950),
    recordFor(3, A(13), NET_A, LeaseState.STATIC, 900, null),
  );
  const before = [...bed.store.leases.all()];
  assert.equal(bed.owner.release(A(14), 1000), 'no-record');
  assert.equal(bed.owner.release(A(10), 1000, keyOf(9)), 'other-client');
  assert.equal(bed.owner.release(A(11), 1000, keyOf(9)), 'other-client');
  assert.equal(bed.owner.release(A(11), 1000, keyOf(2)), 'not-active');
  assert.equal(bed.owner.release(A(11), 1000), 'not-active');
  assert.equal(bed.owner.release(A(13), 1000), 'not-active');
  assert.deepEqual([...bed.store.leases.all()], before, 'nothing changed');
  const released = bed.owner.release(A(10), 1000, keyOf(1));
  assert.notEqual(typeof released, 'string');
  assert.deepEqual(bed.store.leases.get(A(10)), { ...before[0], state: LeaseState.RELEASED, ends: 1000, cltt: 1000 });
  assert.deepEqual(released, bed.store.leases.get(A(10)));
  // Without a client (joind ctl release), any active lease.
  bed.owner.grant(grantOf(4, A(14)), 1000);
  assert.equal(typeof bed.owner.release(A(14), 1001), 'object');
  assert.equal(bed.store.leases.get(A(14))?.state, LeaseState.RELEASED);
  bed.close();
});

test('release: the released address is reused once nothing never-used is left', () => {
  const bed = makeAllocBed({ files: { nets: TINY_NETS } });
  const now = bed.clock.now;
  bed.owner.grant(grantOf(1, A(10)), bed.nowSec());
  bed.owner.grant(grantOf(2, A(11)), bed.nowSec());
  assert.equal(bed.poolA.take(now), undefined);
  bed.owner.release(A(10), bed.nowSec(), keyOf(1));
  assert.equal(bed.poolA.take(now), A(10));
  bed.close();
});

test('abandon: no client, no end, the time, and the hold on the address ends', () => {
  const bed = makeAllocBed();
  bed.poolA.hold(A(13), keyStringOf(1), bed.clock.now);
  seed(bed.store, recordFor(1, A(13), NET_A, LeaseState.ACTIVE, 900, 1600));
  bed.owner.abandon(NET_A, A(13), 1000);
  const record = bed.store.leases.get(A(13))!;
  assert.deepEqual(
    [record.state, record.client, record.hwaddr, record.ends, record.starts, record.cltt],
    [LeaseState.ABANDONED, null, null, null, 1000, 1000],
  );
  assert.equal(bed.poolA.holderOf(A(13), bed.clock.now), undefined);
  assert.equal(bed.store.leases.findByClient(NET_A, keyOf(1)), undefined, "no longer the client's record");
  bed.close();
});

test('extend: the same record, its end moved to now + seconds', () => {
  const bed = makeAllocBed();
  const original = recordFor(1, A(13), NET_A, LeaseState.BOOTP, 900, 1500);
  seed(bed.store, original);
  const extended = bed.owner.extend(original, 3600, 2000);
  assert.deepEqual(extended, { ...original, ends: 5600, cltt: 2000 });
  assert.deepEqual(bed.store.leases.get(A(13)), extended);
  bed.close();
});

test('expireDue: active leases past their end become expired; BOOTP ones stay as they are', () => {
  const bed = makeAllocBed();
  seed(
    bed.store,
    recordFor(1, A(10), NET_A, LeaseState.ACTIVE, 400, 1000),
    recordFor(2, A(11), NET_A, LeaseState.ACTIVE, 400, 1001),
    recordFor(3, A(13), NET_A, LeaseState.BOOTP, 400, 999),
    recordFor(4, A(14), NET_A, LeaseState.RELEASED, 400, 500),
  );
  assert.equal(bed.owner.expireDue(1000), 1);
  assert.deepEqual(
    [A(10), A(11), A(13), A(14)].map((a) => bed.store.leases.get(a)!.state),
    [LeaseState.EXPIRED, LeaseState.ACTIVE, LeaseState.BOOTP, LeaseState.RELEASED],
  );
  assert.equal(bed.store.leases.get(A(13))!.ends, 999);
  bed.close();
});

// ---- put, delete, and the pool that owns the address ----

test('put: a record that holds an address on the free list takes it off', () => {
  const bed = makeAllocBed();
  assert.equal(bed.poolA.take(bed.clock.now), A(10));
  assert.equal(bed.poolA.freeListLength(), 1, '.11 waits on the free list');
  bed.owner.put(recordFor(5, A(11), NET_A, LeaseState.STATIC, 1000, null));
  assert.equal(bed.poolA.freeListLength(), 0);
  // A record that does not hold its address leaves the free list alone.
  bed.poolA.giveBack(A(13));
  bed.owner.put(recordFor(6, A(13), NET_A, LeaseState.RELEASED, 1000, 1000));
  assert.equal(bed.poolA.freeListLength(), 1);
  bed.close();
});

test("put: the client's record for another address of the network goes, and that address is never-used again", () => {
  const bed = makeAllocBed({ files: { nets: TINY_NETS } });
  bed.owner.grant(grantOf(1, A(10)), bed.nowSec());
  assert.equal(bed.poolA.take(bed.clock.now), A(11));
  bed.owner.put(recordFor(1, A(11), NET_A, LeaseState.ACTIVE, bed.nowSec(), null));
  assert.equal(bed.store.leases.get(A(10)), undefined);
  assert.equal(bed.poolA.take(bed.clock.now), A(10));
  bed.close();
});

test('put: a record without our network number is told to the pool whose network holds the address', () => {
  const bed = makeAllocBed();
  assert.equal(bed.poolB.take(bed.clock.now), B(10));
  assert.equal(bed.poolB.freeListLength(), 1);
  bed.owner.put(recordFor(5, B(11), 0, LeaseState.ACTIVE, 1000, 4_000_000_000));
  assert.equal(bed.poolB.freeListLength(), 0, "B's pool was told");
  bed.close();
});

test('delete: the address becomes never-used again; no record, nothing to do', () => {
  const bed = makeAllocBed({ files: { nets: TINY_NETS } });
  const now = bed.clock.now;
  assert.equal(bed.owner.delete(A(10)), false);
  bed.owner.grant(grantOf(1, A(10)), bed.nowSec());
  bed.owner.grant(grantOf(2, A(11)), bed.nowSec());
  assert.equal(bed.poolA.take(now), undefined);
  assert.equal(bed.owner.delete(A(11)), true);
  assert.equal(bed.store.leases.get(A(11)), undefined);
  assert.equal(bed.poolA.take(now), A(11));
  bed.close();
});

// ---- a rolled-back batch ----

test('a rolled-back batch resets every pool, and the lease owner tells its listener', () => {
  const bed = makeAllocBed({ files: { nets: TINY_NETS } });
  const now = bed.clock.now;
  const told: Error[] = [];
  bed.owner.onRollback = (err) => told.push(err);
  bed.store.flush(); // nothing open: the next write opens the batch the failure takes back
  assert.equal(bed.poolA.take(now), A(10));
  bed.poolA.hold(A(10), keyStringOf(1), now);
  bed.owner.grant(grantOf(1, A(10)), bed.nowSec());
  assert.equal(bed.poolA.freeListLength(), 1, '.11 waits on the free list');
  assert.equal(bed.poolB.take(now), B(10));
  assert.equal(bed.poolB.freeListLength(), 1);
  const boom = new Error('disk on fire');
  assert.throws(
    () =>
      bed.store.write(() => {
        bed.store.leases.put(recordFor(2, A(11), NET_A, LeaseState.ACTIVE, bed.nowSec(), null));
        throw boom;
      }),
    /disk on fire/,
  );
  assert.deepEqual(told, [boom]);
  assert.equal(bed.store.stats.rollbacks, 1);
  assert.equal(bed.store.leases.get(A(10)), undefined, 'the grant was taken back');
  assert.equal(bed.poolA.freeListLength(), 0, 'the free list was emptied');
  assert.equal(bed.poolB.freeListLength(), 0, 'every pool');
  // The never-used search starts over: the address the rolled-back grant took is offered again.
  assert.equal(bed.poolA.take(now), A(10));
  assert.equal(bed.poolB.take(now), B(10));
  bed.close();
});
