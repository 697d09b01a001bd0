// The allocator on its own: which address a client is offered and in what order, the ping check, whether
// an address may be granted, and what grant, decline, release, the expiry sweep and bp_auto_extension
// leave in the store and the pools. No server and no packets: the lease owner, the pools and a real store
// (in a temp directory) under a fake clock and a fake pinger (test/helpers/alloc.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientContext, GrantTerms, OfferChoice } from '../../src/alloc/allocator';
import { PingGate } from '../../src/alloc/ping-gate';
import { LeaseState } from '../../src/store';
import { ip, ipToString } from '../../src/util/ipv4';
import {
  AllocBed,
  clientOn,
  FakePinger,
  FIXED,
  keyOf,
  keyStringOf,
  makeAllocBed,
  NET_A,
  NET_B,
  recordFor,
  seed,
  TINY_NETS,
} from '../helpers/alloc';

const A = (last: number) => ip(`10.9.1.${last}`);
const B = (last: number) => ip(`10.9.2.${last}`);

/** An offer as text, for readable assertions. */
function shown(choice: OfferChoice | undefined): string | undefined {
  return choice && `${ipToString(choice.address)} ${choice.reason}`;
}

function terms(address: number, leaseSeconds: number | null = 600, state = LeaseState.ACTIVE): GrantTerms {
  return { address, leaseSeconds, state: state as GrantTerms['state'], clientHostname: null, hostname: null };
}

/** The DISCOVER then REQUEST of client n on pool A: offered, then granted. */
async function dora(bed: AllocBed, n: number, extra: Partial<ClientContext> = {}): Promise<number> {
  const ctx = clientOn(bed.poolA, n, extra);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice, `client ${n} is offered an address`);
  bed.allocator.grant(ctx, terms(choice.address));
  return choice.address;
}

// ---- chooseOffer: the order of the candidates ----

test('chooseOffer: the static address comes before a hold, a record and the requested address', async () => {
  const bed = makeAllocBed();
  const old = bed.nowSec() - 5000;
  seed(bed.store, recordFor(0x63, A(14), NET_A, LeaseState.EXPIRED, old, old + 600));
  const ctx = clientOn(bed.poolA, 0x63, { staticAddress: FIXED, requested: A(13) });
  assert.equal(shown(await bed.allocator.chooseOffer(ctx)), '10.9.1.12 static');
  assert.equal(bed.poolA.heldFor(keyStringOf(0x63), bed.clock.now), undefined, 'a static address needs no hold');
  bed.close();
});

test('chooseOffer: a retransmitted DISCOVER gets the address it holds, and renews the hold', async () => {
  const bed = makeAllocBed(); // provisional_ttl 60
  const c1 = clientOn(bed.poolA, 1);
  assert.equal(shown(await bed.allocator.chooseOffer(c1)), '10.9.1.10 free-list');
  bed.clock.now += 50_000;
  // Even when it now asks for another free address by name.
  assert.equal(shown(await bed.allocator.chooseOffer({ ...c1, requested: A(13) })), '10.9.1.10 provisional');
  bed.clock.now += 50_000; // 100 s after the first offer, 50 s after the renewal
  assert.equal(shown(await bed.allocator.chooseOffer(c1)), '10.9.1.10 provisional', 'the hold was renewed');
  assert.equal(bed.poolA.holderOf(A(10), bed.clock.now), keyStringOf(1));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 2))), '10.9.1.11 free-list', 'not offered twice');
  bed.close();
});

test("chooseOffer: the client's own record comes before the requested address and the free list", async () => {
  const bed = makeAllocBed();
  const old = bed.nowSec() - 5000;
  seed(
    bed.store,
    recordFor(1, A(14), NET_A, LeaseState.EXPIRED, old, old + 600),
    recordFor(2, A(15), NET_A, LeaseState.RELEASED, old, old),
    recordFor(3, A(13), NET_A, LeaseState.ACTIVE, bed.nowSec(), bed.nowSec() + 600),
  );
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1, { requested: A(11) }))), '10.9.1.14 record');
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 2))), '10.9.1.15 record');
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 3))), '10.9.1.13 record');
  assert.equal(bed.poolA.heldFor(keyStringOf(1), bed.clock.now), A(14), 'the record address is held for its client');
  bed.close();
});

test('chooseOffer: an own record another client holds provisionally is passed over', async () => {
  const bed = makeAllocBed();
  const old = bed.nowSec() - 5000;
  seed(bed.store, recordFor(1, A(14), NET_A, LeaseState.EXPIRED, old, old + 600));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 2, { requested: A(14) }))), '10.9.1.14 requested');
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1))), '10.9.1.10 free-list');
  bed.close();
});

test('chooseOffer: the requested address when available (pinged first), else the free list', async () => {
  const bed = makeAllocBed({ pingTimeoutMs: 200 });
  const now = bed.nowSec();
  seed(bed.store, recordFor(3, A(15), NET_A, LeaseState.ACTIVE, now, now + 600));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1, { requested: A(13) }))), '10.9.1.13 requested');
  assert.deepEqual(bed.pinger.checked, [{ address: A(13), timeoutMs: 200 }]);
  assert.equal(bed.poolA.heldFor(keyStringOf(1), bed.clock.now), A(13));
  // Another client's unexpired lease, another client's hold, a reserved address, one outside our ranges:
  // none of them is given; the free list is.
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 4, { requested: A(15) }))), '10.9.1.10 free-list');
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 5, { requested: A(13) }))), '10.9.1.11 free-list');
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 6, { requested: FIXED }))), '10.9.1.14 free-list');
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 7, { requested: A(50) }))), undefined);
  bed.close();
});

test('chooseOffer: an abandoned address asked for by name is given without a ping', async () => {
  const bed = makeAllocBed({ pingTimeoutMs: 200 });
  seed(bed.store, recordFor(null, A(14), NET_A, LeaseState.ABANDONED, bed.nowSec() - 100, null));
  bed.pinger.alive.add(A(14)); // it would answer: the asker most likely is the one that answered
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1, { requested: A(14) }))), '10.9.1.14 requested');
  assert.deepEqual(bed.pinger.addresses, [], 'not pinged');
  assert.equal(bed.allocator.counters.pingChecks, 0);
  bed.close();
});

test('chooseOffer: the free list in order, then exhaustion counted once per DISCOVER', async () => {
  const bed = makeAllocBed(); // A: .10-.15, .12 reserved (dhcpcap `fixed`)
  const offered: Array<string | undefined> = [];
  for (let n = 1; n <= 6; n++) offered.push(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, n))));
  assert.deepEqual(offered, [
    '10.9.1.10 free-list',
    '10.9.1.11 free-list',
    '10.9.1.13 free-list',
    '10.9.1.14 free-list',
    '10.9.1.15 free-list',
    undefined,
  ]);
  assert.equal(bed.allocator.counters.offersWithoutAddress, 1);
  assert.deepEqual(bed.events, [{ event: 'pool-exhausted', network: NET_A }]);
  assert.equal(await bed.allocator.chooseOffer(clientOn(bed.poolA, 7)), undefined);
  assert.equal(bed.allocator.counters.offersWithoutAddress, 2);
  bed.close();
});

test('chooseOffer: concurrent calls for one client share one promise; other clients do not', async () => {
  const bed = makeAllocBed({ pingTimeoutMs: 200 });
  bed.pinger.hold();
  const first = bed.allocator.chooseOffer(clientOn(bed.poolA, 1));
  const again = bed.allocator.chooseOffer(clientOn(bed.poolA, 1, { requested: A(14) }));
  const other = bed.allocator.chooseOffer(clientOn(bed.poolA, 2));
  assert.equal(again, first, 'the retransmitted DISCOVER joins the first');
  assert.notEqual(other, first);
  bed.pinger.release();
  assert.equal(shown(await first), '10.9.1.10 free-list');
  assert.equal(shown(await again), '10.9.1.10 free-list');
  assert.equal(shown(await other), '10.9.1.11 free-list');
  assert.deepEqual(bed.pinger.addresses, [A(10), A(11)], 'one ping per client');
  // Once settled, a new DISCOVER is a new question.
  const later = bed.allocator.chooseOffer(clientOn(bed.poolA, 1));
  assert.notEqual(later, first);
  assert.equal(shown(await later), '10.9.1.10 provisional');
  bed.close();
});

// ---- the ping check ----

test('ping: a candidate that answers is abandoned and the next one is offered', async () => {
  const bed = makeAllocBed({ pingTimeoutMs: 200 });
  bed.pinger.alive.add(A(10));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1))), '10.9.1.11 free-list');
  const abandoned = bed.store.leases.get(A(10))!;
  assert.equal(abandoned.state, LeaseState.ABANDONED);
  assert.equal(abandoned.client, null);
  assert.equal(abandoned.ends, null);
  assert.equal(abandoned.cltt, bed.nowSec());
  assert.equal(bed.poolA.holderOf(A(10), bed.clock.now), undefined, 'its hold ended');
  const c = bed.allocator.counters;
  assert.deepEqual([c.pingChecks, c.pingConflicts, c.abandoned], [2, 1, 1]);
  assert.deepEqual([bed.poolA.counters.pingChecks, bed.poolA.counters.pingConflicts], [2, 1]);
  assert.deepEqual(bed.events, [{ event: 'ping-conflict', network: NET_A, address: A(10) }]);
  bed.close();
});

test('ping: a requested address that answers is abandoned, and the free list is offered', async () => {
  const bed = makeAllocBed({ pingTimeoutMs: 200 });
  bed.pinger.alive.add(A(13));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1, { requested: A(13) }))), '10.9.1.10 free-list');
  assert.equal(bed.store.leases.get(A(13))?.state, LeaseState.ABANDONED);
  assert.deepEqual(bed.pinger.addresses, [A(13), A(10)]);
  bed.close();
});

test('ping: when every candidate answers, the DISCOVER gets nothing and the next one starts over', async () => {
  const bed = makeAllocBed({ pingTimeoutMs: 200 });
  for (const last of [10, 11, 13, 14, 15]) bed.pinger.alive.add(A(last));
  assert.equal(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1)), undefined);
  assert.deepEqual(bed.pinger.addresses, [A(10), A(11), A(13), A(14), A(15)], 'each pinged once');
  for (const last of [10, 11, 13, 14, 15]) assert.equal(bed.store.leases.get(A(last))?.state, LeaseState.ABANDONED);
  assert.equal(bed.allocator.counters.offersWithoutAddress, 1);
  assert.equal(bed.allocator.counters.abandoned, 5);
  bed.pinger.alive.clear();
  // Abandoned addresses are reused when nothing else is left, oldest first.
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 2))), '10.9.1.10 free-list');
  bed.close();
});

test('ping: nothing is pinged with ping_timeout 0, without a pinger, or when the caller asks for no check', async () => {
  const off = makeAllocBed({ pingTimeoutMs: 0 });
  off.pinger.alive.add(A(10));
  assert.equal(off.allocator.counters.pingChecks, 0);
  assert.equal(shown(await off.allocator.chooseOffer(clientOn(off.poolA, 1))), '10.9.1.10 free-list');
  assert.equal(await off.allocator.probe(A(10)), false);
  assert.deepEqual(off.pinger.checked, []);
  off.close();

  const none = makeAllocBed({ pingTimeoutMs: 500, pinger: false });
  assert.equal(none.ping.enabled, false);
  assert.equal(shown(await none.allocator.chooseOffer(clientOn(none.poolA, 1))), '10.9.1.10 free-list');
  assert.equal(none.allocator.counters.pingChecks, 0);
  none.close();

  const unchecked = makeAllocBed({ pingTimeoutMs: 200 });
  unchecked.pinger.alive.add(A(10));
  assert.equal(shown(await unchecked.allocator.chooseOffer(clientOn(unchecked.poolA, 1), false)), '10.9.1.10 free-list');
  assert.deepEqual(unchecked.pinger.checked, []);
  unchecked.close();
});

test('ping: the timeout is read at each check, so changing it turns the check on and off', async () => {
  const bed = makeAllocBed({ pingTimeoutMs: 0 });
  assert.equal(bed.ping.enabled, false);
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1))), '10.9.1.10 free-list');
  bed.knobs.pingTimeoutMs = 300;
  assert.equal(bed.ping.enabled, true);
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 2))), '10.9.1.11 free-list');
  assert.deepEqual(bed.pinger.checked, [{ address: A(11), timeoutMs: 300 }], 'pinged, with the timeout read now');
  bed.knobs.pingTimeoutMs = 450;
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 3))), '10.9.1.13 free-list');
  assert.deepEqual(bed.pinger.checked[1], { address: A(13), timeoutMs: 450 }, 'the new timeout');
  bed.knobs.pingTimeoutMs = 0;
  bed.pinger.alive.add(A(14));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 4))), '10.9.1.14 free-list', 'off again');
  assert.equal(bed.pinger.checked.length, 2);
  bed.close();
});

test('PingGate: enabled and inUse follow the timeout at each call, and need a pinger', async () => {
  const pinger = new FakePinger();
  pinger.alive.add(A(10));
  let timeoutMs = 0;
  const gate = new PingGate(null, () => timeoutMs);
  assert.deepEqual([gate.enabled, gate.hasPinger, await gate.inUse(A(10))], [false, false, false]);
  timeoutMs = 100;
  assert.deepEqual([gate.enabled, await gate.inUse(A(10))], [false, false], 'no pinger');
  gate.setPinger(pinger);
  assert.deepEqual([gate.enabled, gate.hasPinger, await gate.inUse(A(10)), await gate.inUse(A(11))], [true, true, true, false]);
  timeoutMs = 0;
  assert.deepEqual([gate.enabled, await gate.inUse(A(10))], [false, false]);
  assert.deepEqual(pinger.checked, [
    { address: A(10), timeoutMs: 100 },
    { address: A(11), timeoutMs: 100 },
  ]);
});

test('probe: counts a check and a conflict when pinging is on', async () => {
  const bed = makeAllocBed({ pingTimeoutMs: 200 });
  bed.pinger.alive.add(FIXED);
  assert.equal(await bed.allocator.probe(FIXED), true);
  assert.equal(await bed.allocator.probe(A(13)), false);
  assert.deepEqual([bed.allocator.counters.pingChecks, bed.allocator.counters.pingConflicts], [2, 1]);
  assert.equal(bed.store.leases.get(FIXED), undefined, 'a probe abandons nothing');
  bed.close();
});

// ---- ownAddress, recordOf, availableFor ----

test('ownAddress: static address, own record in our ranges, bindings anywhere; not abandoned or out-of-range leases', () => {
  const bed = makeAllocBed();
  const now = bed.nowSec();
  assert.equal(bed.allocator.ownAddress(clientOn(bed.poolA, 1)), undefined, 'no record');
  assert.equal(bed.allocator.ownAddress(clientOn(bed.poolA, 1, { staticAddress: FIXED })), FIXED);
  seed(
    bed.store,
    recordFor(1, A(14), NET_A, LeaseState.EXPIRED, now - 5000, now - 4400),
    recordFor(2, A(50), NET_A, LeaseState.ACTIVE, now, now + 600), // out of our ranges (since a reload)
    recordFor(3, A(51), NET_A, LeaseState.STATIC, now, null),
    recordFor(4, A(52), NET_A, LeaseState.BOOTP, now, null),
    recordFor(5, A(13), NET_A, LeaseState.ABANDONED, now, null),
  );
  assert.equal(bed.allocator.ownAddress(clientOn(bed.poolA, 1)), A(14));
  assert.equal(bed.allocator.ownAddress(clientOn(bed.poolA, 2)), undefined);
  assert.equal(bed.allocator.ownAddress(clientOn(bed.poolA, 3)), A(51));
  assert.equal(bed.allocator.ownAddress(clientOn(bed.poolA, 4)), A(52));
  assert.equal(bed.allocator.ownAddress(clientOn(bed.poolA, 5)), undefined);
  assert.equal(bed.allocator.ownAddress(clientOn(bed.poolB, 1)), undefined, 'records are per network');
  assert.equal(bed.allocator.recordOf(clientOn(bed.poolA, 5))?.state, LeaseState.ABANDONED, 'recordOf: whatever its state');
  assert.equal(bed.allocator.recordOf(clientOn(bed.poolA, 2))?.address, A(50));
  bed.close();
});

test("availableFor: another client's unexpired lease is not; an ended or released one is", () => {
  const bed = makeAllocBed();
  const now = bed.nowSec();
  seed(
    bed.store,
    recordFor(1, A(10), NET_A, LeaseState.ACTIVE, now, now + 600),
    recordFor(2, A(11), NET_A, LeaseState.EXPIRED, now - 5000, now - 4400),
    recordFor(3, A(13), NET_A, LeaseState.RELEASED, now - 100, now - 100),
    recordFor(4, A(14), NET_A, LeaseState.BOOTP, now, null),
  );
  const other = clientOn(bed.poolA, 9);
  assert.equal(bed.allocator.availableFor(other, A(10)), false);
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 1), A(10)), true, 'its holder may have it');
  assert.equal(bed.allocator.availableFor(other, A(11)), true);
  assert.equal(bed.allocator.availableFor(other, A(13)), true);
  assert.equal(bed.allocator.availableFor(other, A(14)), false, 'a permanent BOOTP allocation');
  assert.equal(bed.allocator.availableFor(other, A(15)), true, 'never used');
  bed.clock.now += 601_000; // the lease has ended, though the sweep has not marked it yet
  assert.equal(bed.allocator.availableFor(other, A(10)), true);
  bed.close();
});

test("availableFor: another client's provisional hold is not, until it lapses", async () => {
  const bed = makeAllocBed(); // provisional_ttl 60
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 1))), '10.9.1.10 free-list');
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 2), A(10)), false);
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 1), A(10)), true, 'the holder may have it');
  bed.clock.now += 61_000;
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 2), A(10)), true);
  bed.close();
});

test("availableFor: outside our ranges or reserved is not, unless it is the client's static or BOOTP record", () => {
  const bed = makeAllocBed();
  const now = bed.nowSec();
  const c9 = clientOn(bed.poolA, 9);
  assert.equal(bed.allocator.availableFor(c9, A(50)), false, 'outside the range');
  assert.equal(bed.allocator.availableFor(c9, FIXED), false, 'reserved for a dhcpcap host');
  assert.equal(bed.allocator.availableFor(c9, NET_A), false, 'the network address');
  assert.equal(bed.allocator.availableFor(c9, A(1)), false, 'our own address');
  assert.equal(
    bed.allocator.availableFor(clientOn(bed.poolA, 0x63, { staticAddress: FIXED }), FIXED),
    true,
    'its dhcpcap address',
  );
  seed(
    bed.store,
    recordFor(1, A(50), NET_A, LeaseState.STATIC, now, null),
    recordFor(2, A(51), NET_A, LeaseState.BOOTP, now, null),
    recordFor(3, A(52), NET_A, LeaseState.ACTIVE, now, now + 600),
    recordFor(4, A(53), NET_A, LeaseState.EXPIRED, now - 5000, now - 4400),
    recordFor(5, FIXED, NET_A, LeaseState.STATIC, now, null),
  );
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 1), A(50)), true);
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 2), A(51)), true);
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 3), A(52)), false, 'a lease out of our ranges');
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 4), A(53)), false);
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 5), FIXED), true, 'a binding on a reserved address');
  assert.equal(bed.allocator.availableFor(c9, A(50)), false, "someone else's binding");
  bed.close();
});

// ---- grant, dropOffer ----

test('grant: writes the record (ends = now + seconds, or none) and ends the hold', async () => {
  const bed = makeAllocBed();
  const c1 = clientOn(bed.poolA, 1);
  const choice = (await bed.allocator.chooseOffer(c1))!;
  bed.clock.now += 2_500;
  const granted = bed.allocator.grant(c1, { ...terms(choice.address, 600), clientHostname: 'pc1', hostname: 'host1' });
  const now = bed.nowSec();
  assert.deepEqual(bed.store.leases.get(A(10)), granted);
  assert.deepEqual(
    { ...granted, hwaddr: granted.hwaddr?.toString('hex') },
    {
      address: A(10),
      network: NET_A,
      client: keyOf(1),
      htype: 1,
      hwaddr: '020900000101',
      clientId: null,
      starts: now,
      ends: now + 600,
      cltt: now,
      state: LeaseState.ACTIVE,
      clientHostname: 'pc1',
      hostname: 'host1',
    },
  );
  assert.equal(bed.poolA.heldFor(keyStringOf(1), bed.clock.now), undefined, 'the hold ended');
  assert.equal(bed.poolA.provisionalCount(bed.clock.now), 0);
  const c2 = clientOn(bed.poolA, 2);
  const permanent = bed.allocator.grant(c2, terms(A(11), null, LeaseState.BOOTP));
  assert.equal(permanent.ends, null);
  assert.equal(permanent.state, LeaseState.BOOTP);
  bed.close();
});

test("grant: a client's static binding stays a binding, with no end", () => {
  const bed = makeAllocBed();
  const then = bed.nowSec() - 1000;
  seed(bed.store, recordFor(1, A(50), NET_A, LeaseState.STATIC, then, null));
  bed.allocator.grant(clientOn(bed.poolA, 1), terms(A(50), 600));
  const record = bed.store.leases.get(A(50))!;
  assert.equal(record.state, LeaseState.STATIC);
  assert.equal(record.ends, null);
  assert.equal(record.cltt, bed.nowSec());
  bed.close();
});

test('grant with auto_release: the client leaves its other networks, whose pool offers the address again', async () => {
  const bed = makeAllocBed({ files: { nets: TINY_NETS }, autoRelease: true }); // A: .10-.11
  assert.equal(await dora(bed, 1), A(10));
  assert.equal(await dora(bed, 2), A(11));
  assert.equal(await bed.allocator.chooseOffer(clientOn(bed.poolA, 3)), undefined, 'A is full');
  const onB = clientOn(bed.poolB, 1);
  const choice = (await bed.allocator.chooseOffer(onB))!;
  bed.allocator.grant(onB, terms(choice.address));
  assert.equal(bed.store.leases.get(A(10)), undefined, 'its lease on A is gone');
  assert.equal(bed.store.leases.get(B(10))?.state, LeaseState.ACTIVE);
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 3))), '10.9.1.10 free-list');
  bed.close();
});

test('grant without auto_release: the client keeps its records on other networks', async () => {
  const bed = makeAllocBed({ files: { nets: TINY_NETS } });
  assert.equal(await dora(bed, 1), A(10));
  bed.allocator.grant(clientOn(bed.poolB, 1), terms(B(10)));
  assert.equal(bed.store.leases.get(A(10))?.state, LeaseState.ACTIVE);
  bed.close();
});

test("grant: the client's earlier record on the same network goes, and that address is offered again", async () => {
  const bed = makeAllocBed({ files: { nets: TINY_NETS } });
  assert.equal(await dora(bed, 1), A(10));
  bed.allocator.grant(clientOn(bed.poolA, 1), terms(A(11)));
  assert.equal(bed.store.leases.get(A(10)), undefined);
  assert.equal(bed.store.leases.findByClient(NET_A, keyOf(1))?.address, A(11));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 2))), '10.9.1.10 free-list');
  bed.close();
});

test('dropOffer: the held address goes back to the head of the free list', async () => {
  const bed = makeAllocBed();
  const c1 = clientOn(bed.poolA, 1);
  assert.equal(shown(await bed.allocator.chooseOffer(c1)), '10.9.1.10 free-list');
  bed.allocator.dropOffer(c1);
  assert.equal(bed.poolA.heldFor(keyStringOf(1), bed.clock.now), undefined);
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 2))), '10.9.1.10 free-list');
  bed.close();
});

// ---- release, decline, the expiry sweep ----

test('release: only an active lease, only by its holder; refusals change nothing', () => {
  const bed = makeAllocBed();
  const now = bed.nowSec();
  const records = [
    recordFor(1, A(10), NET_A, LeaseState.ACTIVE, now - 10, now + 590),
    recordFor(2, A(11), NET_A, LeaseState.EXPIRED, now - 5000, now - 4400),
    recordFor(3, A(13), NET_A, LeaseState.STATIC, now - 10, null),
    recordFor(4, A(14), NET_A, LeaseState.BOOTP, now - 10, null),
  ];
  seed(bed.store, ...records);
  const before = [...bed.store.leases.all()];
  assert.equal(bed.allocator.release(clientOn(bed.poolA, 9), A(10)), false, 'another client');
  assert.equal(bed.allocator.release(clientOn(bed.poolA, 2), A(11)), false, 'not active');
  assert.equal(bed.allocator.release(clientOn(bed.poolA, 3), A(13)), false, 'a binding');
  assert.equal(bed.allocator.release(clientOn(bed.poolA, 4), A(14)), false, 'a BOOTP allocation');
  assert.equal(bed.allocator.release(clientOn(bed.poolA, 9), A(15)), false, 'no record');
  assert.deepEqual([...bed.store.leases.all()], before, 'nothing changed');
  bed.clock.now += 5_000;
  assert.equal(bed.allocator.release(clientOn(bed.poolA, 1), A(10)), true);
  const released = bed.store.leases.get(A(10))!;
  assert.equal(released.state, LeaseState.RELEASED);
  assert.equal(released.ends, now + 5);
  assert.equal(released.cltt, now + 5);
  assert.deepEqual(released.client, keyOf(1), 'the record stays, for its client to come back');
  bed.close();
});

test('decline: by the holder of the record, the address becomes abandoned', () => {
  const bed = makeAllocBed();
  const now = bed.nowSec();
  seed(bed.store, recordFor(1, A(10), NET_A, LeaseState.ACTIVE, now, now + 600));
  bed.clock.now += 3_000;
  assert.equal(bed.allocator.decline(clientOn(bed.poolA, 1), A(10)), true);
  const record = bed.store.leases.get(A(10))!;
  assert.equal(record.state, LeaseState.ABANDONED);
  assert.equal(record.client, null);
  assert.equal(record.cltt, now + 3);
  assert.deepEqual([bed.allocator.counters.declined, bed.allocator.counters.abandoned], [1, 1]);
  bed.close();
});

test('decline: by the client holding the address provisionally, the address becomes abandoned', async () => {
  const bed = makeAllocBed();
  const c1 = clientOn(bed.poolA, 1);
  assert.equal(shown(await bed.allocator.chooseOffer(c1)), '10.9.1.10 free-list');
  assert.equal(bed.allocator.decline(c1, A(10)), true);
  assert.equal(bed.store.leases.get(A(10))?.state, LeaseState.ABANDONED);
  assert.equal(bed.poolA.heldFor(keyStringOf(1), bed.clock.now), undefined, 'its hold ended');
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 2))), '10.9.1.11 free-list');
  bed.close();
});

test("decline: a provisional holder may decline an address another client's ended lease left behind", async () => {
  const bed = makeAllocBed();
  const old = bed.nowSec() - 5000;
  seed(bed.store, recordFor(2, A(14), NET_A, LeaseState.EXPIRED, old, old + 600));
  const c1 = clientOn(bed.poolA, 1, { requested: A(14) });
  assert.equal(shown(await bed.allocator.chooseOffer(c1)), '10.9.1.14 requested');
  assert.equal(bed.allocator.decline(c1, A(14)), true);
  assert.equal(bed.store.leases.get(A(14))?.state, LeaseState.ABANDONED);
  bed.close();
});

test('decline: anyone else is refused and nothing changes', async () => {
  const bed = makeAllocBed();
  const now = bed.nowSec();
  seed(bed.store, recordFor(1, A(10), NET_A, LeaseState.ACTIVE, now, now + 600));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 2))), '10.9.1.11 free-list');
  const before = [...bed.store.leases.all()];
  assert.equal(bed.allocator.decline(clientOn(bed.poolA, 9), A(10)), false, "another client's lease");
  assert.equal(bed.allocator.decline(clientOn(bed.poolA, 9), A(11)), false, "another client's hold");
  assert.equal(bed.allocator.decline(clientOn(bed.poolA, 9), A(13)), false, 'nobody holds it');
  assert.deepEqual([...bed.store.leases.all()], before);
  assert.equal(bed.poolA.heldFor(keyStringOf(2), bed.clock.now), A(11), 'the hold stays');
  assert.equal(bed.allocator.counters.declined, 0);
  bed.close();
});

test('sweepExpired: active leases past their end become expired; BOOTP and bindings stay as they are', () => {
  const bed = makeAllocBed();
  const now = bed.nowSec();
  seed(
    bed.store,
    recordFor(1, A(10), NET_A, LeaseState.ACTIVE, now - 600, now),
    recordFor(2, A(11), NET_A, LeaseState.ACTIVE, now - 600, now + 1),
    recordFor(3, A(13), NET_A, LeaseState.BOOTP, now - 600, now - 1),
    recordFor(4, A(14), NET_A, LeaseState.BOOTP, now - 600, null),
    recordFor(5, A(15), NET_A, LeaseState.STATIC, now - 600, null),
    recordFor(6, B(10), NET_B, LeaseState.ACTIVE, now - 700, now - 100),
  );
  assert.equal(bed.allocator.sweepExpired(), 2);
  const states = [A(10), A(11), A(13), A(14), A(15), B(10)].map((a) => bed.store.leases.get(a)!.state);
  assert.deepEqual(states, [
    LeaseState.EXPIRED,
    LeaseState.ACTIVE,
    LeaseState.BOOTP,
    LeaseState.BOOTP,
    LeaseState.STATIC,
    LeaseState.EXPIRED,
  ]);
  assert.equal(bed.store.leases.get(A(10))!.cltt, now - 600, 'the record is otherwise untouched');
  assert.equal(bed.allocator.sweepExpired(), 0);
  bed.close();
});

// ---- bp_auto_extension ----

/**
 * Network A (.10-.11) with client 1's BOOTP allocation on .10 (600 s) and client 2's released lease
 * on .11 (touched later), then the clock past the BOOTP allocation's end: .10 is the first to reuse.
 */
function endedBootpBed(bootpExtension: number): AllocBed {
  const bed = makeAllocBed({ files: { nets: TINY_NETS }, pingTimeoutMs: 200, bootpExtension });
  bed.allocator.grant(clientOn(bed.poolA, 1), terms(A(10), 600, LeaseState.BOOTP));
  bed.clock.now += 10_000;
  bed.allocator.grant(clientOn(bed.poolA, 2), terms(A(11), 600));
  assert.equal(bed.allocator.release(clientOn(bed.poolA, 2), A(11)), true);
  bed.clock.now += 601_000;
  return bed;
}

test('bp_auto_extension: an ended BOOTP allocation that answers is extended, and the next candidate offered', async () => {
  const bed = endedBootpBed(3600);
  bed.pinger.alive.add(A(10));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 3))), '10.9.1.11 free-list');
  assert.deepEqual(bed.pinger.addresses, [A(10), A(11)]);
  const extended = bed.store.leases.get(A(10))!;
  assert.deepEqual(extended.client, keyOf(1), 'still its client');
  assert.equal(extended.state, LeaseState.BOOTP);
  assert.equal(extended.ends, bed.nowSec() + 3600);
  assert.equal(extended.cltt, bed.nowSec());
  const c = bed.allocator.counters;
  assert.deepEqual([c.bootpExtended, c.pingChecks, c.pingConflicts, c.abandoned], [1, 2, 0, 0]);
  assert.deepEqual(bed.events, [{ event: 'bootp-extended', network: NET_A, address: A(10) }]);
  assert.equal(bed.poolA.holderOf(A(10), bed.clock.now), undefined);
  // Extended: no one gets it until the extension has ended too.
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 4), A(10)), false);
  assert.equal(await bed.allocator.chooseOffer(clientOn(bed.poolA, 4)), undefined);
  bed.close();
});

test('bp_auto_extension: an ended BOOTP allocation that is silent is offered', async () => {
  const bed = endedBootpBed(3600);
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 3))), '10.9.1.10 free-list');
  assert.deepEqual(bed.pinger.addresses, [A(10)], 'pinged before reuse');
  assert.equal(bed.allocator.counters.bootpExtended, 0);
  bed.close();
});

test('bp_auto_extension: an ended BOOTP allocation is pinged even when the caller asks for no check', async () => {
  const bed = endedBootpBed(3600);
  bed.pinger.alive.add(A(10));
  assert.equal(shown(await bed.allocator.chooseOffer(clientOn(bed.poolA, 3), false)), '10.9.1.11 free-list');
  assert.deepEqual(bed.pinger.addresses, [A(10)], 'the BOOTP allocation only');
  assert.equal(bed.allocator.counters.bootpExtended, 1);
  bed.close();
});

test('bp_auto_extension 0: a permanent BOOTP allocation is never reused', async () => {
  const bed = makeAllocBed({ files: { nets: TINY_NETS }, pingTimeoutMs: 200, bootpExtension: 0 });
  bed.allocator.grant(clientOn(bed.poolA, 1), terms(A(10), null, LeaseState.BOOTP));
  bed.allocator.grant(clientOn(bed.poolA, 2), terms(A(11), null, LeaseState.BOOTP));
  bed.clock.now += 10 * 365 * 86_400_000;
  assert.equal(bed.allocator.sweepExpired(), 0);
  assert.equal(await bed.allocator.chooseOffer(clientOn(bed.poolA, 3)), undefined);
  assert.deepEqual(bed.pinger.checked, []);
  assert.equal(bed.allocator.availableFor(clientOn(bed.poolA, 3), A(10)), false);
  bed.close();
});
