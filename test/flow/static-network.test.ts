// A network of static bindings only (issue 16: "a subnet of fixed hosts only needs a dummy range"):
// nets names the network and its owner with no range; its host entries get their addresses, and any
// other client gets nothing (no free address) rather than "not our network".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import { ip } from '../../src/util/ipv4';
import { BASE_FILES, FakeClient, makeBed, msgType } from './harness';

test('a network with no range serves its static bindings, and only them', async () => {
  const bed = makeBed({
    nets: BASE_FILES.nets.replace('10.77.2.0 10.77.1.1 10.77.2.100-10.77.2.109', '10.77.2.0 10.77.1.1'),
    dhcpcap: `${BASE_FILES.dhcpcap}printer:ht=1:ha=027700000150:ip=10.77.2.50:\n`,
  });
  const onB = { link: ip('10.77.2.1') };
  const printer = FakeClient.withMac(bed, 0x50);
  const ack = await printer.dora([], onB);
  assert.equal(msgType(ack), MessageType.ACK);
  assert.equal(ack!.yiaddr, ip('10.77.2.50'));
  const stranger = FakeClient.withMac(bed, 0x51);
  await stranger.expectDrop(stranger.packet(MessageType.DISCOVER), 'no-free-address', onB);
  bed.close();
});
