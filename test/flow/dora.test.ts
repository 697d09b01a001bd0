import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import { LeaseState } from '../../src/store';
import { ip, ipToString } from '../../src/util/ipv4';
import { FakeClient, makeBed, msgType, optU32, SERVER_A } from './harness';

test('DORA: offer from the head of the free list, ACK with the network entry parameters, lease on disk', async () => {
  const bed = makeBed();
  const c = FakeClient.withMac(bed, 1);
  const offer = await c.discover([[55, [1, 3, 6, 15, 51, 58, 59]]]);
  assert.equal(msgType(offer), MessageType.OFFER);
  assert.equal(ipToString(offer!.yiaddr), '10.77.1.100', 'first never-used address of the range');
  assert.equal(optU32(offer, 54), SERVER_A);
  const ack = await c.select(offer!, [[55, [1, 3, 6, 15, 51, 58, 59]]]);
  assert.equal(msgType(ack), MessageType.ACK);
  assert.equal(ack!.yiaddr, offer!.yiaddr);
  assert.equal(optU32(ack, 1), ip('255.255.255.0'));
  assert.equal(optU32(ack, 3), ip('10.77.1.1'));
  assert.deepEqual([optU32(ack, 51), optU32(ack, 58), optU32(ack, 59)], [600, 300, 525]);
  assert.equal(ack!.options.get(15)?.toString(), 'lab.example');
  const dns = ack!.options.get(6)!;
  assert.deepEqual([dns.readUInt32BE(0), dns.readUInt32BE(4)], [ip('10.77.1.1'), ip('10.77.1.2')]);
  // The options came in the order the client asked for them, after the lease-defining ones.
  assert.deepEqual([...ack!.options.keys()], [53, 54, 51, 58, 59, 1, 3, 6, 15]);
  const record = bed.store.leases.get(ack!.yiaddr);
  assert.equal(record?.state, LeaseState.ACTIVE);
  assert.equal(record?.ends, Math.floor(bed.clock.now / 1000) + 600);
  bed.close();
});
