// Every way a lease record changes goes through the lease owner, which keeps the pools in step: after
// each of them the freed address is offered again to a new client, with no restart. Each test fills a
// tiny range first, so that the freed address is the only one a new client could get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import { LeaseState } from '../../src/store';
import { ip, ipToString } from '../../src/util/ipv4';
import { apiOf, Bed, callApi, FakeClient, makeBed } from './harness';

const LINK_B = { link: ip('10.77.2.1') };

/** Networks A and B of the standard bed, A with a range of `sizeA` addresses from .100. */
function tinyNets(sizeA: number): string {
  const last = `10.77.1.${100 + sizeA - 1}`;
  return `10.77.1.0 10.77.1.1 10.77.1.100-${last}\n10.77.2.0 10.77.1.1 10.77.2.100-10.77.2.109\n`;
}

/** A new client on link A is offered `address`, and can take it. */
async function offeredToNewcomer(bed: Bed, mac: number, address: string): Promise<void> {
  const newcomer = FakeClient.withMac(bed, mac);
  const offer = await newcomer.discover();
  assert.equal(offer && ipToString(offer.yiaddr), address, `${address} is offered again to a new client`);
  const ack = await newcomer.select(offer!);
  assert.equal(ack?.options.get(53)?.[0], MessageType.ACK);
}

/** Fills range A (one address) with client 1's lease, and shows the pool is then exhausted. */
async function fullRange(bed: Bed): Promise<FakeClient> {
  const holder = FakeClient.withMac(bed, 1);
  assert.equal(ipToString((await holder.dora())!.yiaddr), '10.77.1.100');
  const other = FakeClient.withMac(bed, 2);
  await other.expectDrop(other.packet(MessageType.DISCOVER), 'no-free-address');
  return holder;
}

test('auto_release: the lease a client leaves behind on network A is offered again on A', async () => {
  // The defect: only the pool of network B was told, so A never offered the address until a restart.
  const bed = makeBed({ 'server.pcy': 'ping_timeout 0\nauto_release\n', nets: tinyNets(2) });
  const a = FakeClient.withMac(bed, 1);
  assert.equal(ipToString((await a.dora())!.yiaddr), '10.77.1.100');
  const b = FakeClient.withMac(bed, 2);
  assert.equal(ipToString((await b.dora())!.yiaddr), '10.77.1.101');
  a.ciaddr = 0;
  assert.equal(ipToString((await a.dora([], LINK_B))!.yiaddr), '10.77.2.100');
  assert.equal(bed.store.leases.get(ip('10.77.1.100')), undefined, 'its lease on A is gone');
  await offeredToNewcomer(bed, 3, '10.77.1.100');
  bed.close();
});

test('DHCPRELEASE: the released address is offered again', async () => {
  const bed = makeBed({ nets: tinyNets(1) });
  const holder = await fullRange(bed);
  await holder.send(holder.packet(MessageType.RELEASE, [[54, ip('10.77.1.1')]]));
  assert.equal(bed.store.leases.get(ip('10.77.1.100'))?.state, LeaseState.RELEASED);
  await offeredToNewcomer(bed, 3, '10.77.1.100');
  bed.close();
});

test('ctl release: the released address is offered again', async () => {
  const bed = makeBed({ nets: tinyNets(1) });
  await fullRange(bed);
  const r = await callApi(apiOf(bed), 'POST', '/v1/leases/10.77.1.100/release');
  assert.equal(r.status, 200);
  assert.equal(r.json.state, 'released');
  await offeredToNewcomer(bed, 3, '10.77.1.100');
  bed.close();
});

test('ctl release refuses what is not an active lease, and changes nothing', async () => {
  const bed = makeBed({ nets: tinyNets(1) });
  const api = apiOf(bed);
  assert.equal((await callApi(api, 'POST', '/v1/leases/10.77.1.100/release')).status, 404);
  await fullRange(bed);
  assert.equal((await callApi(api, 'POST', '/v1/leases/10.77.1.100/release')).status, 200);
  const again = await callApi(api, 'POST', '/v1/leases/10.77.1.100/release');
  assert.equal(again.status, 409);
  assert.match(String(again.json.error), /is released, not an active lease/);
  bed.close();
});

test('ctl delete: the deleted address is offered again', async () => {
  const bed = makeBed({ nets: tinyNets(1) });
  await fullRange(bed);
  assert.equal((await callApi(apiOf(bed), 'DELETE', '/v1/leases/10.77.1.100')).status, 200);
  await offeredToNewcomer(bed, 3, '10.77.1.100');
  bed.close();
});

test('load -d: the deleted address is offered again', async () => {
  const bed = makeBed({ nets: tinyNets(1) });
  await fullRange(bed);
  const r = await callApi(apiOf(bed), 'POST', '/v1/load', { text: '|||10.77.1.100\n', options: { delete: true } });
  assert.equal(r.status, 200);
  assert.equal(r.json.deleted, 1);
  await offeredToNewcomer(bed, 3, '10.77.1.100');
  bed.close();
});

test('expiry: an ended lease is offered again once the sweep marks it', async () => {
  const bed = makeBed({ nets: tinyNets(1) });
  await fullRange(bed);
  bed.clock.now += 601_000; // network A's lt is 600 s
  assert.equal(bed.server.sweep(), 1);
  assert.equal(bed.store.leases.get(ip('10.77.1.100'))?.state, LeaseState.EXPIRED);
  await offeredToNewcomer(bed, 3, '10.77.1.100');
  bed.close();
});

test('expiry: an ended lease is offered again even before the sweep marks it', async () => {
  const bed = makeBed({ nets: tinyNets(1) });
  await fullRange(bed);
  bed.clock.now += 601_000;
  assert.equal(bed.store.leases.get(ip('10.77.1.100'))?.state, LeaseState.ACTIVE, 'not swept yet');
  await offeredToNewcomer(bed, 3, '10.77.1.100');
  bed.close();
});

test('a lease loaded while the address waits on the free list is not offered to anyone else', async () => {
  const bed = makeBed({ nets: tinyNets(2) });
  const a = FakeClient.withMac(bed, 1);
  assert.equal(ipToString((await a.dora())!.yiaddr), '10.77.1.100'); // .101 now waits on the free list
  const r = await callApi(apiOf(bed), 'POST', '/v1/load', { text: '02:77:00:00:01:09|1|6|10.77.1.101\n' });
  assert.equal(r.status, 200);
  const b = FakeClient.withMac(bed, 2);
  await b.expectDrop(b.packet(MessageType.DISCOVER), 'no-free-address');
  bed.close();
});

const BOOTP_POLICY = 'ping_timeout 200\ndynamic_bootp\nbp_auto_extension 3600\n';

test('bp_auto_extension: a finite BOOTP allocation ends, and is reused once its client no longer answers', async () => {
  const bed = makeBed({ 'server.pcy': BOOTP_POLICY, nets: tinyNets(1) });
  const x = FakeClient.withMac(bed, 0x31);
  const first = (await x.send(x.packet(undefined)))[0]!.packet;
  assert.equal(ipToString(first.yiaddr), '10.77.1.100');
  const record = bed.store.leases.get(first.yiaddr)!;
  assert.equal(record.state, LeaseState.BOOTP);
  assert.equal(record.ends, record.starts + 600, "finite: network A's lt");
  const y = FakeClient.withMac(bed, 0x32);
  await y.expectDrop(y.packet(undefined), 'no-free-address');
  bed.clock.now += 601_000;
  // Its client is gone (no answer to the ping): the address goes to the next client.
  const second = (await y.send(y.packet(undefined)))[0]!.packet;
  assert.equal(ipToString(second.yiaddr), '10.77.1.100');
  assert.ok(bed.pinger.checked.includes(first.yiaddr), 'pinged before reuse');
  assert.deepEqual(bed.store.leases.get(first.yiaddr)!.client?.id, y.mac);
  bed.close();
});

test('bp_auto_extension: an ended BOOTP allocation whose client still answers is extended, not reused', async () => {
  const bed = makeBed({ 'server.pcy': BOOTP_POLICY, nets: tinyNets(1) });
  const x = FakeClient.withMac(bed, 0x31);
  const first = (await x.send(x.packet(undefined)))[0]!.packet;
  bed.clock.now += 601_000;
  bed.pinger.alive.add(first.yiaddr);
  const y = FakeClient.withMac(bed, 0x32);
  await y.expectDrop(y.packet(undefined), 'no-free-address');
  const extended = bed.store.leases.get(first.yiaddr)!;
  assert.deepEqual(extended.client?.id, x.mac, 'still the first client');
  assert.equal(extended.state, LeaseState.BOOTP);
  assert.equal(extended.ends, Math.floor(bed.clock.now / 1000) + 3600, 'extended by bp_auto_extension');
  assert.equal(bed.server.allocator.counters.bootpExtended, 1);
  // A DHCP client is not offered it either, until the extension too has ended.
  const d = FakeClient.withMac(bed, 0x33);
  await d.expectDrop(d.packet(MessageType.DISCOVER), 'no-free-address');
  bed.close();
});

test('bp_auto_extension 0: dynamic BOOTP allocations stay permanent', async () => {
  const bed = makeBed({ 'server.pcy': 'ping_timeout 200\ndynamic_bootp\n', nets: tinyNets(1) });
  const x = FakeClient.withMac(bed, 0x31);
  const first = (await x.send(x.packet(undefined)))[0]!.packet;
  assert.equal(bed.store.leases.get(first.yiaddr)!.ends, null);
  bed.clock.now += 10 * 365 * 86_400_000;
  const y = FakeClient.withMac(bed, 0x32);
  await y.expectDrop(y.packet(undefined), 'no-free-address');
  bed.close();
});
