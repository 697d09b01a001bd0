// The packet path's two questions to the failover engine (src/server/pair-gate.ts), with a stand-in gate
// on a real server: while the failover state serves nobody every request about the pair's addresses goes
// unanswered, renewals included (failover-not-serving: dhcpd's "not responding (recovering)"); in normal
// a DISCOVER or INIT-REBOOT of the peer's hash bucket is the peer's (failover-peer-bucket), while a
// renewal is answered by whichever server the client reaches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import type { PairGate } from '../../src/server/context';
import { ip } from '../../src/util/ipv4';
import { BASE_FILES, FakeClient, makeBed, msgType } from './harness';

class StandInGate implements PairGate {
  serving: ReturnType<PairGate['service']> = 'cooperating';
  ours = true;
  /** What the packet path reported as clients the peer is not serving: [key, secs]. */
  readonly evidence: Array<[string, number | null]> = [];
  service() {
    return this.serving;
  }
  answersClient(): boolean {
    return this.ours;
  }
  peerNotServing(key: Uint8Array, secs: number | null): void {
    this.evidence.push([Buffer.from(key).toString('hex'), secs]);
  }
  mclt(): number {
    return 3600;
  }
  ackWaitMs(): number {
    return 0;
  }
  awaitAck(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

function pairBed() {
  const bed = makeBed({
    'server.pcy':
      BASE_FILES['server.pcy'] +
      'failover pair\nfailover_role primary\nfailover_address 10.99.0.1\nfailover_peer_address 10.99.0.2\n' +
      'failover_mclt 3600\nfailover_split 128\n',
    nets: BASE_FILES.nets.replace('10.77.1.0 10.77.1.1 10.77.1.100-10.77.1.109', '10.77.1.0 pair 10.77.1.100-10.77.1.109'),
  });
  const gate = new StandInGate();
  bed.server.setPair(gate);
  return { bed, gate };
}

test('failover gate: a state that serves nobody answers no request about the pair, renewals included', async () => {
  const { bed, gate } = pairBed();
  const client = FakeClient.withMac(bed, 1);
  const ack = await client.dora();
  assert.equal(msgType(ack), MessageType.ACK, 'cooperating: served');

  gate.serving = 'none'; // e.g. recover-wait after a restart
  // RENEWING: ciaddr, no requested address, unicast.
  await client.expectDrop(client.packet(MessageType.REQUEST), 'failover-not-serving');
  // INIT-REBOOT.
  const reboot = FakeClient.withMac(bed, 1);
  await reboot.expectDrop(reboot.packet(MessageType.REQUEST, [[50, ack!.yiaddr]]), 'failover-not-serving');
  // A new client.
  const other = FakeClient.withMac(bed, 2);
  await other.expectDrop(other.packet(MessageType.DISCOVER), 'failover-not-serving');
  // A network without failover ranges is served as ever.
  const onB = FakeClient.withMac(bed, 3);
  assert.equal(msgType(await onB.dora([], { link: ip('10.77.2.1') })), MessageType.ACK);
  bed.close();
});

test("failover gate: in normal the peer's bucket is the peer's to offer, but a renewal is answered", async () => {
  const { bed, gate } = pairBed();
  const client = FakeClient.withMac(bed, 1);
  const ack = await client.dora();
  assert.equal(msgType(ack), MessageType.ACK);
  gate.ours = false;
  const other = FakeClient.withMac(bed, 2);
  await other.expectDrop(other.packet(MessageType.DISCOVER), 'failover-peer-bucket');
  const reboot = FakeClient.withMac(bed, 1);
  await reboot.expectDrop(reboot.packet(MessageType.REQUEST, [[50, ack!.yiaddr]]), 'failover-peer-bucket');
  const renewal = await client.send(client.packet(MessageType.REQUEST));
  assert.equal(msgType(renewal[0]?.packet), MessageType.ACK, 'the client renews with whichever server it reaches');
  bed.close();
});

test("failover gate: REBINDING, and a REQUEST for another server's offer, are reported as the peer's failure", async () => {
  const { bed, gate } = pairBed();
  const client = FakeClient.withMac(bed, 1);
  const ack = await client.dora();
  assert.equal(msgType(ack), MessageType.ACK);
  const key = client.mac.toString('hex'); // no client identifier: chaddr, as the hash takes it
  client.ciaddr = ack!.yiaddr;
  // RENEWING: unicast to us, who granted the lease. No evidence.
  assert.equal(msgType((await client.send(client.packet(MessageType.REQUEST), { unicast: true }))[0]?.packet), MessageType.ACK);
  assert.deepEqual(gate.evidence, []);
  // REBINDING: broadcast, because the server that granted it did not answer the renewals.
  assert.equal(msgType((await client.send(client.packet(MessageType.REQUEST)))[0]?.packet), MessageType.ACK);
  assert.deepEqual(gate.evidence, [[key, null]]);
  // SELECTING another server's offer of a pair address, with its secs; outside the pair: nothing.
  const other = FakeClient.withMac(bed, 2);
  const pkt = other.packet(MessageType.REQUEST, [
    [50, ip('10.77.1.105')],
    [54, ip('10.77.1.2')],
  ]);
  pkt.secs = 12;
  await other.expectDrop(pkt, 'for-another-server');
  assert.deepEqual(gate.evidence.at(-1), [other.mac.toString('hex'), 12]);
  pkt.secs = 0x0c00; // 12 s written in the wrong byte order, as dhcpd's SECS_BYTEORDER reads it
  await other.expectDrop(pkt, 'for-another-server');
  assert.deepEqual(gate.evidence.at(-1), [other.mac.toString('hex'), 12]);
  const foreign = other.packet(MessageType.REQUEST, [
    [50, ip('10.77.1.50')],
    [54, ip('10.77.1.2')],
  ]);
  await other.expectDrop(foreign, 'for-another-server');
  assert.equal(gate.evidence.length, 3, 'an address outside the pair ranges is no evidence');
  bed.close();
});
