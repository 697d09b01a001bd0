// DECLINE and abandoned addresses, RELEASE and the old-address preference, provisional expiry, expiry,
// the ping check, lease times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import { LeaseState } from '../../src/store';
import { ip, ipToString } from '../../src/util/ipv4';
import { FakeClient, makeBed, msgType, optU32 } from './harness';

const SMALL_NETS =
  '10.77.1.0 10.77.1.1 10.77.1.100-10.77.1.103\n10.77.2.0 10.77.1.1 10.77.2.100-10.77.2.109\n10.77.3.0 10.77.1.1 10.77.3.100\n';

test('DECLINE abandons the address; it is reused only when nothing else is free, and given at once to a client asking for it', async () => {
  const bed = makeBed({ nets: SMALL_NETS });
  const a = FakeClient.withMac(bed, 1);
  const ack = await a.dora();
  const declined = ack!.yiaddr;
  await a.send(
    a.packet(MessageType.DECLINE, [
      [50, declined],
      [54, optU32(ack, 54)!],
    ]),
  );
  const rec = bed.store.leases.get(declined)!;
  assert.equal(rec.state, LeaseState.ABANDONED);
  assert.equal(rec.cltt, Math.floor(bed.clock.now / 1000), 'abandoned with the time');
  assert.equal(rec.client, null);
  // Three other clients take the three other addresses; only then is the abandoned one offered.
  const got: string[] = [];
  for (let i = 2; i <= 5; i++) {
    const c = FakeClient.withMac(bed, i);
    const ackC = await c.dora();
    got.push(ipToString(ackC!.yiaddr));
  }
  assert.deepEqual(got, ['10.77.1.101', '10.77.1.102', '10.77.1.103', ipToString(declined)]);
  bed.close();
});

test('a client that asks for an abandoned address by name gets it at once, without a ping', async () => {
  const bed = makeBed({ 'server.pcy': 'ping_timeout 200\n', nets: SMALL_NETS });
  const a = FakeClient.withMac(bed, 1);
  bed.pinger.alive.add(ip('10.77.1.100'));
  const offer = await a.discover();
  assert.equal(ipToString(offer!.yiaddr), '10.77.1.101', 'the first candidate answered the ping');
  assert.equal(bed.store.leases.get(ip('10.77.1.100'))!.state, LeaseState.ABANDONED);
  assert.equal(bed.server.allocator.counters.pingConflicts, 1);
  const b = FakeClient.withMac(bed, 2);
  bed.pinger.checked.length = 0;
  const offerB = await b.discover([[50, ip('10.77.1.100')]]);
  assert.equal(ipToString(offerB!.yiaddr), '10.77.1.100');
  assert.deepEqual(bed.pinger.checked, [], 'no ping for the abandoned address the client asked for');
  bed.close();
});

test('when every address answers the ping, one DISCOVER pings each once and gets no offer', async () => {
  // Seen with real clients: an address left on a released client's interface answered, was abandoned,
  // and, being the only one, was taken and pinged again up to MAX_CANDIDATES times in one DISCOVER.
  const bed = makeBed({ 'server.pcy': 'ping_timeout 200\n', nets: SMALL_NETS });
  for (const a of ['10.77.1.100', '10.77.1.101', '10.77.1.102', '10.77.1.103']) bed.pinger.alive.add(ip(a));
  const a = FakeClient.withMac(bed, 1);
  assert.equal(await a.discover(), undefined, 'no offer: every address is in use');
  assert.deepEqual(bed.pinger.checked.map(ipToString).sort(), ['10.77.1.100', '10.77.1.101', '10.77.1.102', '10.77.1.103']);
  assert.equal(bed.server.allocator.counters.pingConflicts, 4);
  // A later DISCOVER tries again (the hosts may have gone): one ping per address, oldest abandoned first.
  bed.pinger.checked.length = 0;
  bed.pinger.alive.delete(ip('10.77.1.100'));
  const again = await a.discover();
  assert.equal(ipToString(again!.yiaddr), '10.77.1.100');
  assert.deepEqual(bed.pinger.checked.map(ipToString), ['10.77.1.100']);
  bed.close();
});

test('RELEASE keeps the record: new clients get never-used addresses, the returning client its old one', async () => {
  const bed = makeBed({ nets: SMALL_NETS });
  const a = FakeClient.withMac(bed, 1);
  const ack = await a.dora();
  await a.send(a.packet(MessageType.RELEASE, [[54, optU32(ack, 54)!]]));
  assert.equal(bed.store.leases.get(ack!.yiaddr)!.state, LeaseState.RELEASED);
  const b = FakeClient.withMac(bed, 2);
  const offerB = await b.discover();
  assert.notEqual(offerB!.yiaddr, ack!.yiaddr, 'a new client gets a never-used address first');
  a.ciaddr = 0;
  const again = await a.discover();
  assert.equal(again!.yiaddr, ack!.yiaddr, 'the returning client gets its old address back');
  bed.close();
});

test('an offer not taken up within provisional_ttl goes back to the pool when the free list runs dry', async () => {
  const bed = makeBed({ nets: SMALL_NETS.replace('10.77.1.100-10.77.1.103', '10.77.1.100') });
  const a = FakeClient.withMac(bed, 1);
  const offer = await a.discover();
  assert.equal(ipToString(offer!.yiaddr), '10.77.1.100');
  const b = FakeClient.withMac(bed, 2);
  assert.equal(await b.discover(), undefined, 'held for a: nothing for b');
  bed.clock.now += 61_000;
  const offerB = await b.discover();
  assert.equal(ipToString(offerB!.yiaddr), '10.77.1.100', 'the lapsed offer is reclaimed');
  bed.close();
});

test('expiry: the sweep marks ended leases expired and keeps the record', async () => {
  const bed = makeBed();
  const a = FakeClient.withMac(bed, 1);
  const ack = await a.dora();
  assert.equal(bed.server.sweep(), 0);
  bed.clock.now += 601_000;
  assert.equal(bed.server.sweep(), 1);
  const rec = bed.store.leases.get(ack!.yiaddr)!;
  assert.equal(rec.state, LeaseState.EXPIRED);
  assert.deepEqual(rec.hwaddr, a.mac);
  bed.close();
});

test('lease time: lt is the most granted, a shorter request is honoured, T1/T2 default to 50 % and 87.5 %', async () => {
  const bed = makeBed();
  const onB = { link: ip('10.77.2.1') };
  const a = FakeClient.withMac(bed, 1);
  let ack = await a.dora([[51, 100000]], onB); // net B has no lt: default_ttl 3600
  assert.deepEqual([optU32(ack, 51), optU32(ack, 58), optU32(ack, 59)], [3600, 1800, 3150]);
  const b = FakeClient.withMac(bed, 2);
  ack = await b.dora([[51, 1000]], onB);
  assert.deepEqual([optU32(ack, 51), optU32(ack, 58), optU32(ack, 59)], [1000, 500, 875]);
  bed.close();
});

test('registered_clients_only serves registered hardware addresses only', async () => {
  const bed = makeBed({ 'server.pcy': 'ping_timeout 0\nregistered_hosts_only\n' });
  const a = FakeClient.withMac(bed, 1);
  await a.expectDrop(a.packet(MessageType.DISCOVER), 'not-registered');
  bed.store.registered.register(1, a.mac);
  assert.equal(msgType(await a.discover()), MessageType.OFFER);
  assert.equal(bed.server.counters.dropped['not-registered'], 1);
  bed.close();
});

test('auto_release: a client that appears on another network loses its leases elsewhere', async () => {
  const bed = makeBed({ 'server.pcy': 'ping_timeout 0\nauto_release\n' });
  const a = FakeClient.withMac(bed, 1);
  const ackA = await a.dora();
  a.ciaddr = 0;
  const ackB = await a.dora([], { link: ip('10.77.2.1') });
  assert.equal(ipToString(ackB!.yiaddr), '10.77.2.100');
  assert.equal(bed.store.leases.get(ackA!.yiaddr), undefined, 'the lease on network A is gone');
  bed.close();
});

test('pool exhaustion: no offer, counted', async () => {
  const bed = makeBed({ nets: SMALL_NETS.replace('10.77.1.100-10.77.1.103', '10.77.1.100') });
  await FakeClient.withMac(bed, 1).dora();
  const late = FakeClient.withMac(bed, 2);
  await late.expectDrop(late.packet(MessageType.DISCOVER), 'no-free-address');
  assert.equal(bed.server.allocator.counters.offersWithoutAddress, 1);
  bed.close();
});
