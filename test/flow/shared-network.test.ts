// Shared networks (issue 16, part 3): two networks on one link (dhcpcap sh, dhcpd's shared-network).
// Link A carries 10.77.1.0/24 (two addresses) and 10.77.4.0/24: once the first is full, new clients get
// addresses of the second with its own parameters; a client of the second is renewed, rebooted and
// rediscovered there, and one of the first stays there; an address of neither is still NAKed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import { loadConfig } from '../../src/config';
import { ip, ipToString } from '../../src/util/ipv4';
import { BASE_FILES, FakeClient, makeBed, msgType, optU32, writeConfig } from './harness';

const SHARED = {
  netmasks: `${BASE_FILES.netmasks}10.77.4.0 255.255.255.0\n`,
  nets:
    BASE_FILES.nets.replace('10.77.1.100-10.77.1.109', '10.77.1.100-10.77.1.101') +
    '10.77.4.0 10.77.1.1 10.77.4.100-10.77.4.109\n',
  dhcpcap:
    BASE_FILES.dhcpcap.replace('neta:nw=10.77.1.0:', 'neta:nw=10.77.1.0:sh=link-a:') +
    'netd:nw=10.77.4.0:sm=255.255.255.0:gw=10.77.4.1:lt=900:sh=link-a:tc=.site:\n',
};

test('shared network: the first network full, new clients get the second, with its parameters', async () => {
  const bed = makeBed(SHARED);
  const first = [FakeClient.withMac(bed, 1), FakeClient.withMac(bed, 2)];
  for (const c of first)
    assert.equal(ipToString((await c.dora())!.yiaddr).startsWith('10.77.1.'), true, 'the link network first');
  const third = FakeClient.withMac(bed, 3);
  const ack = await third.dora([[55, [1, 3, 51]]]);
  assert.equal(msgType(ack), MessageType.ACK);
  assert.equal(ipToString(ack!.yiaddr), '10.77.4.100');
  assert.equal(optU32(ack, 3), ip('10.77.4.1'), "the second network's router");
  assert.equal(optU32(ack, 1), ip('255.255.255.0'));
  assert.equal(optU32(ack, 51), 900, 'and its lease time');
  assert.equal(bed.store.leases.get(ack!.yiaddr)?.network, ip('10.77.4.0'), 'the lease is on the second network');

  // Renewal (unicast, ciaddr), reboot (option 50) and a new DISCOVER keep it there.
  let r = await third.send(third.packet(MessageType.REQUEST), { unicast: true });
  assert.equal(msgType(r[0]?.packet), MessageType.ACK, 'renewal');
  assert.equal(r[0]!.packet.yiaddr, ack!.yiaddr);
  third.ciaddr = 0;
  r = await third.send(third.packet(MessageType.REQUEST, [[50, ack!.yiaddr]]));
  assert.equal(msgType(r[0]?.packet), MessageType.ACK, 'reboot');
  assert.equal((await third.discover())!.yiaddr, ack!.yiaddr, 'rediscover: its own address');
  // A client of the first network keeps its address there, though the first is full.
  assert.equal(ipToString((await first[0]!.discover())!.yiaddr).startsWith('10.77.1.'), true);
  // An address of another link is still not this link's.
  r = await third.send(third.packet(MessageType.REQUEST, [[50, ip('10.77.2.100')]]));
  assert.equal(msgType(r[0]?.packet), MessageType.NAK);
  bed.close();
});

test('shared network: sh belongs on a network entry; a group of one warns', () => {
  const bad = loadConfig(writeConfig({ ...SHARED, dhcpcap: SHARED.dhcpcap + 'host9:ht=1:ha=020000000009:sh=link-a:\n' }), {
    self: { hostname: 'joind-test', addresses: [ip('10.77.1.1')] },
  });
  assert.equal(bad.ok, false);
  assert.ok(
    !bad.ok && bad.problems.some((p) => /host9: sh=link-a belongs on a network's own entry/.test(p.message)),
    JSON.stringify(!bad.ok && bad.problems),
  );
  const alone = loadConfig(writeConfig({ ...SHARED, dhcpcap: SHARED.dhcpcap.replace('sh=link-a:tc', 'sh=link-d:tc') }), {
    self: { hostname: 'joind-test', addresses: [ip('10.77.1.1')] },
  });
  assert.ok(alone.ok);
  assert.deepEqual(alone.ok && alone.warnings.filter((p) => /shared network/.test(p.message)).map((p) => p.message), [
    'shared network link-a has one network (10.77.1.0): it shares its link with none',
    'shared network link-d has one network (10.77.4.0): it shares its link with none',
  ]);
});
