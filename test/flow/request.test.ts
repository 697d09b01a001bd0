// REQUEST in each client state (RFC 2131 4.3.2), NAKs and their addressing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import { ip, ipToString } from '../../src/util/ipv4';
import { FakeClient, makeBed, msgType, optU32 } from './harness';

test('SELECTING for another server: no reply, and our offer goes back to the free list at once', async () => {
  const bed = makeBed();
  const a = FakeClient.withMac(bed, 1);
  const offer = await a.discover();
  await a.expectDrop(
    a.packet(MessageType.REQUEST, [
      [50, offer!.yiaddr],
      [54, ip('10.77.1.250')],
    ]),
    'for-another-server',
  );
  const b = FakeClient.withMac(bed, 2);
  const offerB = await b.discover();
  assert.equal(offerB!.yiaddr, offer!.yiaddr, 'the address a declined to take is offered to the next client');
  bed.close();
});

test('SELECTING for an address held for someone else: NAK, broadcast', async () => {
  const bed = makeBed();
  const a = FakeClient.withMac(bed, 1);
  const b = FakeClient.withMac(bed, 2);
  const offerA = await a.discover();
  const replies = await b.send(
    b.packet(MessageType.REQUEST, [
      [50, offerA!.yiaddr],
      [54, optU32(offerA, 54)!],
    ]),
  );
  assert.equal(msgType(replies[0]?.packet), MessageType.NAK);
  assert.equal(replies[0]!.dest.kind, 'broadcast');
  assert.equal(replies[0]!.packet.yiaddr, 0);
  bed.close();
});

test("INIT-REBOOT: ACK for the client's own address, NAK for another or the wrong network, silence when unknown", async () => {
  const bed = makeBed();
  const a = FakeClient.withMac(bed, 1);
  const ack = await a.dora();
  const own = ack!.yiaddr;
  a.ciaddr = 0;
  let r = await a.send(a.packet(MessageType.REQUEST, [[50, own]]));
  assert.equal(msgType(r[0]?.packet), MessageType.ACK, 'reboot with its own address');
  r = await a.send(a.packet(MessageType.REQUEST, [[50, own + 5]]));
  assert.equal(msgType(r[0]?.packet), MessageType.NAK, 'reboot asking for an address that is not its own');
  r = await a.send(a.packet(MessageType.REQUEST, [[50, ip('10.77.2.100')]]));
  assert.equal(msgType(r[0]?.packet), MessageType.NAK, 'an address of another network');
  assert.match(r[0]!.packet.options.get(56)!.toString(), /network/);
  const stranger = FakeClient.withMac(bed, 9);
  // No record of this client: it MUST remain silent (RFC 2131 4.3.2).
  await stranger.expectDrop(stranger.packet(MessageType.REQUEST, [[50, ip('10.77.1.105')]]), 'init-reboot-unknown-client');
  bed.close();
});

test('RENEWING is answered by unicast to ciaddr and extends the lease; REBINDING too; a foreign lease is NAKed', async () => {
  const bed = makeBed();
  const a = FakeClient.withMac(bed, 1);
  const ack = await a.dora();
  const first = bed.store.leases.get(ack!.yiaddr)!;
  bed.clock.now += 300_000; // T1
  let r = await a.send(a.packet(MessageType.REQUEST));
  assert.equal(msgType(r[0]?.packet), MessageType.ACK);
  assert.deepEqual(r[0]!.dest, { kind: 'unicast', ip: ack!.yiaddr, port: 68, ifname: 'veth-a' });
  assert.equal(r[0]!.packet.ciaddr, ack!.yiaddr);
  assert.equal(bed.store.leases.get(ack!.yiaddr)!.ends, first.ends! + 300, 'lease extended from now');
  a.broadcastFlag(true);
  r = await a.send(a.packet(MessageType.REQUEST));
  assert.equal(msgType(r[0]?.packet), MessageType.ACK, 'REBINDING');
  const b = FakeClient.withMac(bed, 2);
  b.ciaddr = ack!.yiaddr; // claims a's address
  r = await b.send(b.packet(MessageType.REQUEST));
  assert.equal(msgType(r[0]?.packet), MessageType.NAK);
  bed.close();
});

test('reply addressing: broadcast flag set → broadcast, clear → unicast to chaddr/yiaddr, force_broadcast_reply', async () => {
  let bed = makeBed();
  const a = FakeClient.withMac(bed, 1);
  let r = await a.send(a.packet(MessageType.DISCOVER));
  assert.equal(r[0]!.dest.kind, 'unicast');
  assert.deepEqual((r[0]!.dest as { mac: Buffer }).mac, a.mac);
  assert.equal((r[0]!.dest as { ip: number }).ip, r[0]!.packet.yiaddr);
  a.broadcastFlag(true);
  r = await a.send(a.packet(MessageType.DISCOVER));
  assert.equal(r[0]!.dest.kind, 'broadcast');
  bed.close();
  bed = makeBed({ 'server.pcy': 'ping_timeout 0\nforce_broadcast_reply\n' });
  const c = FakeClient.withMac(bed, 3);
  const forced = (await c.send(c.packet(MessageType.DISCOVER)))[0]!.dest;
  assert.equal(forced.kind, 'broadcast');
  assert.equal(ipToString((forced as { directed: number }).directed), '10.77.1.255');
  bed.close();
});

test('a REQUEST without option 53 server id, requested address or ciaddr is dropped', async () => {
  const bed = makeBed();
  const a = FakeClient.withMac(bed, 1);
  await a.expectDrop(a.packet(MessageType.REQUEST), 'request-state-unknown');
  bed.close();
});
