// A step of the wall clock (issue 17): the daemon's LeaseClock sees it and the server moves the stored
// times and the offer holds with it (server.shiftTime), before the clock takes the new reading. Here the
// bed's fake clock is stepped and shiftTime called as the daemon calls it: a lease keeps its address and
// the time it had left, its renewal is an ordinary one, and nobody else is given its address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import { ip } from '../../src/util/ipv4';
import { FakeClient, makeBed, msgType, type Bed } from './harness';

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;

/** Seconds the lease of address has left by the bed's clock. */
function left(bed: Bed, address: number): number {
  return bed.store.leases.get(address)!.ends! - Math.floor(bed.clock.now / 1000);
}

/** Steps the bed's wall clock by ms as the daemon handles it; returns the lease rows moved. */
function step(bed: Bed, ms: number): number {
  bed.clock.now += ms;
  return bed.server.shiftTime(ms).leases;
}

test('a clock step forward, then back: the lease keeps its address and what it had left; renewals are ordinary', async () => {
  const bed = makeBed();
  const a = FakeClient.withMac(bed, 1);
  const ack = await a.dora();
  const mine = ack!.yiaddr;
  assert.equal(left(bed, mine), 600);
  bed.clock.now += 100_000;

  assert.equal(step(bed, YEAR_MS), 1); // NTP corrects a clock that was a year behind
  assert.equal(left(bed, mine), 500, 'not expired by the step, and no longer either');
  assert.equal(bed.server.sweep(), 0, 'the sweep finds nothing ended');
  for (let i = 0; i < 12; i++) {
    const offer = await FakeClient.withMac(bed, 10 + i).discover();
    assert.notEqual(offer?.yiaddr, mine, 'the address of a valid lease is offered to nobody else');
  }
  const renewal = await a.send(a.packet(MessageType.REQUEST), { unicast: true });
  assert.equal(msgType(renewal[0]?.packet), MessageType.ACK);
  assert.equal(renewal[0]!.packet.yiaddr, mine);
  assert.equal(left(bed, mine), 600, 'renewed for its own time from now, not grown by the step');

  bed.clock.now += 50_000;
  assert.equal(step(bed, -2 * YEAR_MS), 1); // and back
  assert.equal(left(bed, mine), 550, 'not held for two years more');
  const back = await a.send(a.packet(MessageType.REQUEST), { unicast: true });
  assert.equal(msgType(back[0]?.packet), MessageType.ACK);
  assert.equal(back[0]!.packet.yiaddr, mine);
  assert.equal(left(bed, mine), 600);
  // The lease ends when it should by the new clock, and only then.
  bed.clock.now += 599_000;
  assert.equal(bed.server.sweep(), 0);
  bed.clock.now += 2_000;
  assert.equal(bed.server.sweep(), 1);
  bed.close();
});

test('an offer held across a step back is held for its own time only (provisional_ttl 60)', async () => {
  const bed = makeBed();
  const a = FakeClient.withMac(bed, 1);
  const offer = await a.discover();
  const held = offer!.yiaddr;
  const pool = bed.server.poolOf(ip('10.77.1.0'))!;
  assert.equal(step(bed, -DAY_MS), 0, 'no lease: only the hold moves');
  bed.clock.now += 59_000;
  assert.notEqual(pool.holderOf(held, bed.clock.now), undefined, 'still held');
  bed.clock.now += 2_000;
  assert.equal(pool.holderOf(held, bed.clock.now), undefined, 'released after 60 s, not after a day');
  bed.close();
});
