// The lease owner, pools and allocator in a failover range (issue 13, points 3 and 4), without the
// protocol engine: a fake PeerSync stands for it. Every address of a failover range has a record (FREE
// at first); each server allocates only from its own free state; a grant is bounded by the MCLT until
// the peer acknowledges; changes made here wait for the peer (peerPending) and are queued to it; the
// peer's updates are written as it says and evict the address from every cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GrantTerms } from '../../src/alloc/allocator';
import type { PeerSync } from '../../src/alloc/lease-owner';
import { type LeaseRecord, LeaseState } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import { type AllocBed, clientOn, FIXED, makeAllocBed, NET_A, pairFiles, recordFor } from '../helpers/alloc';

const A = (last: number) => ip(`10.9.1.${last}`);
const MCLT = 300;

class FakePeer implements PeerSync {
  serving = true;
  readonly queue: number[] = [];
  constructor(readonly role: 'primary' | 'secondary') {}
  freeStates(): readonly LeaseState[] {
    return this.serving ? [this.own] : [];
  }
  mayTake(record: LeaseRecord): boolean {
    return this.serving && record.state === this.own;
  }
  private get own(): LeaseState {
    return this.role === 'primary' ? LeaseState.FREE : LeaseState.BACKUP;
  }
  mclt(): number {
    return MCLT;
  }
  queued(address: number): void {
    this.queue.push(address);
  }
  waitMs = 0;
  ackWaitMs(): number {
    return this.waitMs;
  }
}

function pairBed(role: 'primary' | 'secondary' = 'primary'): { bed: AllocBed; peer: FakePeer } {
  const bed = makeAllocBed({ files: pairFiles(role, MCLT) });
  const peer = new FakePeer(role);
  bed.owner.attachPeer(peer);
  return { bed, peer };
}

function terms(address: number, leaseSeconds: number | null = 3600): GrantTerms {
  return { address, leaseSeconds, state: LeaseState.ACTIVE, clientHostname: null, hostname: null };
}

const RANGE = [10, 11, 13, 14, 15].map(A);

/** What a BNDUPD of the record carried (the engine remembers it until the BNDACK). */
function sentOf(record: LeaseRecord): Pick<LeaseRecord, 'state' | 'ends' | 'cltt'> & { tstp: number | null } {
  return { state: record.state, ends: record.ends, cltt: record.cltt, tstp: record.tstp ?? null };
}

test('configure: every address of a failover range gets a FREE record, reserved ones none', () => {
  const { bed } = pairBed();
  for (const address of RANGE) {
    const record = bed.store.leases.get(address);
    assert.equal(record?.state, LeaseState.FREE, `${address}`);
    assert.equal(record?.client, null);
    assert.ok(!record?.peerPending, 'nothing to tell the peer');
  }
  assert.equal(bed.store.leases.get(FIXED), undefined, 'the static binding is not in the pool');
  assert.equal(bed.store.leases.get(ip('10.9.2.10')), undefined, 'network B is ours alone: no records');
  assert.equal(bed.owner.isPaired(A(10)), true);
  assert.equal(bed.owner.isPaired(ip('10.9.2.10')), false);
  // Configuring again keeps what is there (INSERT OR IGNORE): a record the peer made stays.
  bed.owner.moveFree(A(15), LeaseState.BACKUP, bed.clock.now);
  bed.owner.configure(bed.config);
  assert.equal(bed.store.leases.get(A(15))?.state, LeaseState.BACKUP);
  bed.close();
});

test('allocation: nothing from a failover range while the engine does not allow it', async () => {
  const { bed, peer } = pairBed();
  peer.serving = false;
  assert.equal(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1)), undefined);
  peer.serving = true;
  const choice = await bed.allocator.chooseOffer(clientOn(bed.poolA, 1));
  assert.ok(choice && RANGE.includes(choice.address));
  bed.close();
});

test('allocation: the primary takes FREE addresses only, the secondary BACKUP ones only', async () => {
  for (const role of ['primary', 'secondary'] as const) {
    const { bed } = pairBed(role);
    for (const address of [A(10), A(11), A(13)]) assert.ok(bed.owner.moveFree(address, LeaseState.BACKUP, bed.clock.now));
    const own = role === 'primary' ? [A(14), A(15)] : [A(10), A(11), A(13)];
    const got: number[] = [];
    for (let n = 1; n <= 6; n++) {
      const ctx = clientOn(bed.poolA, n);
      const choice = await bed.allocator.chooseOffer(ctx);
      if (!choice) break;
      bed.allocator.grant(ctx, terms(choice.address));
      got.push(choice.address);
    }
    assert.deepEqual(got.sort(), own.sort(), role);
    bed.close();
  }
});

test('grant: bounded by the MCLT until the peer acknowledged; tstp is the full lease plus half', async () => {
  const { bed, peer } = pairBed();
  const ctx = clientOn(bed.poolA, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice);
  const now = bed.nowSec();
  const first = bed.allocator.grant(ctx, terms(choice.address, 3600));
  assert.equal(first.ends, now + MCLT, 'first lease: MCLT long (nothing acknowledged yet)');
  assert.equal(first.tstp, now + 3600 + MCLT / 2);
  assert.equal(first.peerPending, true);
  assert.deepEqual(peer.queue, [choice.address], 'the engine was told');
  assert.equal(bed.store.leases.get(choice.address)?.peerPending, true, 'pending on disk too');

  const acked = bed.owner.peerAcknowledged(choice.address, { ...first, tstp: first.tstp ?? null });
  assert.ok(!acked?.peerPending);
  assert.equal(acked?.tsfp, first.tstp);
  bed.clock.now += 100_000; // renewal at 100 s: tsfp - now + MCLT is far beyond the lease wanted
  const renewed = bed.allocator.grant(ctx, terms(choice.address, 3600));
  assert.equal(renewed.ends, bed.nowSec() + 3600, 'after the acknowledgement: the full lease');
  // A lease no longer than the MCLT is never clamped.
  const short = bed.allocator.grant(ctx, terms(choice.address, 120));
  assert.equal(short.ends, bed.nowSec() + 120);
  bed.close();
});

test('grant: outside a failover range nothing is bounded, pending or queued', async () => {
  const { bed, peer } = pairBed();
  const ctx = clientOn(bed.poolB, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice);
  const record = bed.allocator.grant(ctx, terms(choice.address, 3600));
  assert.equal(record.ends, bed.nowSec() + 3600);
  assert.ok(!record.peerPending);
  assert.deepEqual(peer.queue, []);
  bed.close();
});

test("peer update: the peer's lease is written and the address leaves our free list at once", async () => {
  const { bed } = pairBed();
  const ctx = clientOn(bed.poolA, 1);
  const offered = await bed.allocator.chooseOffer(ctx);
  assert.ok(offered);
  bed.allocator.dropOffer(ctx);
  const now = bed.nowSec();
  const theirs = { ...recordFor(9, offered.address, NET_A, LeaseState.ACTIVE, now, now + 600), tstp: now + 900, tsfp: null };
  const result = bed.owner.applyPeerUpdate(theirs, now);
  assert.equal(result.accepted, true);
  assert.equal(bed.store.leases.get(offered.address)?.state, LeaseState.ACTIVE);
  assert.ok(!bed.store.leases.get(offered.address)?.peerPending, "the peer's change needs no acknowledgement");
  const next = await bed.allocator.chooseOffer(clientOn(bed.poolA, 2));
  assert.notEqual(next?.address, offered.address, "the peer's client keeps its address");
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 2), offered.address), false);
  bed.close();
});

test('peer update: refused when our unacknowledged lease holds the address and theirs would free it', async () => {
  const { bed } = pairBed();
  const ctx = clientOn(bed.poolA, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice);
  bed.allocator.grant(ctx, terms(choice.address));
  const now = bed.nowSec();
  const result = bed.owner.applyPeerUpdate(recordFor(null, choice.address, NET_A, LeaseState.FREE, now, null), now);
  assert.deepEqual(result, { accepted: false, why: 'less-critical' });
  assert.equal(bed.store.leases.get(choice.address)?.state, LeaseState.ACTIVE);
  // Once acknowledged, the peer's word counts again (e.g. its release of our client's lease).
  bed.owner.peerAcknowledged(choice.address, sentOf(bed.store.leases.get(choice.address)!));
  const released = bed.owner.applyPeerUpdate(recordFor(1, choice.address, NET_A, LeaseState.RELEASED, now, now), now);
  assert.equal(released.accepted, true);
  assert.equal(bed.store.leases.get(choice.address)?.state, LeaseState.FREE, 'a release the peer made is free at once');
  bed.close();
});

test('expiry and delete: pending for the peer, free only once it acknowledges', async () => {
  const { bed, peer } = pairBed();
  const ctx = clientOn(bed.poolA, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice);
  const granted = bed.allocator.grant(ctx, terms(choice.address, 60));
  bed.owner.peerAcknowledged(choice.address, sentOf(granted));
  peer.queue.length = 0;
  bed.clock.now += 61_000;
  assert.equal(bed.owner.expireDue(bed.nowSec()), 1);
  const expired = bed.store.leases.get(choice.address);
  assert.equal(expired?.state, LeaseState.EXPIRED);
  assert.equal(expired?.peerPending, true);
  assert.deepEqual(peer.queue, [choice.address]);
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 2), choice.address), false, 'not free before the BNDACK');
  bed.owner.peerAcknowledged(choice.address, sentOf(expired));
  assert.equal(bed.store.leases.get(choice.address)?.state, LeaseState.FREE);
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 2), choice.address), true);

  assert.equal(bed.owner.delete(A(15)), true);
  const deleted = bed.store.leases.get(A(15));
  assert.equal(deleted?.state, LeaseState.FREE, 'a failover address keeps a record');
  assert.equal(deleted?.peerPending, true);
  bed.close();
});

test('moveFree: pool balance moves a free address between FREE and BACKUP, never a held one', async () => {
  const { bed, peer } = pairBed();
  const ctx = clientOn(bed.poolA, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice);
  assert.equal(bed.owner.moveFree(choice.address, LeaseState.BACKUP, bed.clock.now), false, 'held for an offer');
  const other = RANGE.find((a) => a !== choice.address)!;
  assert.equal(bed.owner.moveFree(other, LeaseState.BACKUP, bed.clock.now), true);
  assert.equal(bed.owner.moveFree(other, LeaseState.BACKUP, bed.clock.now), false, 'already there');
  assert.equal(bed.store.leases.get(other)?.state, LeaseState.BACKUP);
  assert.ok(peer.queue.includes(other));
  bed.close();
});

test('without an engine attached the range is served alone, from FREE, unbounded', async () => {
  const bed = makeAllocBed({ files: pairFiles('primary', MCLT) });
  const ctx = clientOn(bed.poolA, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice && RANGE.includes(choice.address));
  const record = bed.allocator.grant(ctx, terms(choice.address, 3600));
  assert.equal(record.ends, bed.nowSec() + 3600);
  bed.close();
});

test('peerAcknowledged: an acknowledgement of an older update keeps the newer change pending', async () => {
  const { bed } = pairBed();
  const ctx = clientOn(bed.poolA, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice);
  const first = bed.allocator.grant(ctx, terms(choice.address, 3600));
  const sent = sentOf(first);
  bed.clock.now += 5_000;
  bed.allocator.grant(ctx, terms(choice.address, 3600)); // renewed before the BNDACK came
  const after = bed.owner.peerAcknowledged(choice.address, sent);
  assert.equal(after?.peerPending, true, 'the renewal still waits for the peer');
  assert.equal(after?.tsfp, first.tstp, 'but what the peer acknowledged counts');
  bed.close();
});

test('grant with failover_ack_wait: the full lease is written and sent, for the packet path to wait on', async () => {
  const { bed, peer } = pairBed();
  peer.waitMs = 500;
  const ctx = clientOn(bed.poolA, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice);
  const now = bed.nowSec();
  const lease = bed.allocator.grant(ctx, terms(choice.address, 3600));
  assert.equal(lease.ends, now + 3600);
  assert.equal(lease.tstp, now + 3600 + 1800, 'the renewal at half the lease finds the acknowledgement far enough ahead');
  assert.equal(lease.peerPending, true);
  bed.close();
});

test('peerRefused: a refused update is not sent again until the record changes', async () => {
  const { bed } = pairBed();
  const ctx = clientOn(bed.poolA, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice);
  const lease = bed.allocator.grant(ctx, terms(choice.address));
  bed.owner.peerRefused(choice.address, sentOf(lease));
  const after = bed.store.leases.get(choice.address);
  assert.ok(!after?.peerPending, 'off the queue');
  assert.equal(after?.tsfp ?? null, null, 'nothing acknowledged');
  assert.equal(after?.state, LeaseState.ACTIVE);
  assert.deepEqual(bed.store.leases.peerPending(0, 10), []);
  bed.close();
});
