import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { NetworkConfig } from '../../src/config/types';
import type { NetworkInterfaceV4 } from '../../src/io/interfaces';
import { chooseServedInterfaces, networksForServing } from '../../src/io/served-interfaces';
import { ip, maskFromPrefix } from '../../src/util/ipv4';

function iface(
  name: string,
  ifindex: number,
  addresses: string[],
  mac: Buffer | null = Buffer.from([2, 0, 0, 0, 0, ifindex]),
): NetworkInterfaceV4 {
  return {
    name,
    ifindex,
    mac,
    addresses: addresses.map((text) => {
      const [address, prefix] = text.split('/');
      return { address: ip(address!), prefixLength: Number(prefix), netmask: maskFromPrefix(Number(prefix)) };
    }),
  };
}

const lo = iface('lo', 1, ['127.0.0.1/8'], null);
const eth0 = iface('eth0', 2, ['10.1.0.1/24']); // a network of ours
const eth1 = iface('eth1', 3, ['10.9.0.1/24']); // a network with no ranges of ours (relay transit)
const eth2 = iface('eth2', 4, ['192.168.5.1/24']); // in no configured network
const eth3 = iface('eth3', 5, ['10.9.0.2/24', '10.2.0.1/16']); // second address in a network of ours
const tun0 = iface('tun0', 6, ['10.1.0.200/32'], null); // no hardware address
const lo2 = iface('dummylo', 7, ['127.0.0.2/8']); // loopback addresses under another name

const networks = [
  { address: ip('10.1.0.0'), mask: maskFromPrefix(24), ours: true },
  { address: ip('10.9.0.0'), mask: maskFromPrefix(24), ours: false },
  { address: ip('10.2.0.0'), mask: maskFromPrefix(16), ours: true },
];

test('without names: interfaces attached to a network of ours, in the given order', () => {
  const { served, ignored } = chooseServedInterfaces([lo, eth0, eth1, eth2, eth3, tun0, lo2], networks, []);
  assert.deepEqual(
    served.map((i) => i.name),
    ['eth0', 'eth3'],
  );
  assert.equal(served[0], eth0, 'the interface objects themselves, not copies');
  const reasons = new Map(ignored.map((i) => [i.name, i.reason]));
  assert.deepEqual([...reasons.keys()], ['lo', 'eth1', 'eth2', 'tun0', 'dummylo']);
  assert.equal(reasons.get('lo'), 'loopback');
  assert.equal(reasons.get('dummylo'), 'loopback');
  assert.match(reasons.get('eth1')!, /10\.9\.0\.0\/24.*no address ranges of ours/);
  assert.match(reasons.get('eth2')!, /no address \(192\.168\.5\.1\/24\) in a configured network/);
  assert.match(reasons.get('tun0')!, /no Ethernet hardware address/);
});

test('without names and without networks of ours: nothing is served, each with its reason', () => {
  const { served, ignored } = chooseServedInterfaces([eth0, eth1], [{ ...networks[0]!, ours: false }], []);
  assert.deepEqual(served, []);
  assert.equal(ignored.length, 2);
  assert.match(ignored[0]!.reason, /10\.1\.0\.0\/24/);
});

test('a network with a non-contiguous mask is named by its mask', () => {
  const odd = [{ address: ip('10.9.0.0'), mask: ip('255.255.0.255'), ours: false }];
  const { ignored } = chooseServedInterfaces([iface('x', 9, ['10.9.0.0/24'])], odd, []);
  assert.match(ignored[0]!.reason, /10\.9\.0\.0 mask 255\.255\.0\.255/);
});

test('with names: exactly those, in the order named, whatever their networks', () => {
  const { served, ignored } = chooseServedInterfaces([lo, eth0, eth1, eth2], networks, ['eth2', 'eth1', 'eth2', 'nope0']);
  assert.deepEqual(
    served.map((i) => i.name),
    ['eth2', 'eth1'],
  );
  assert.deepEqual(ignored, [
    { name: 'nope0', reason: 'named but no such interface with an IPv4 address' },
    { name: 'lo', reason: 'not named with -i' },
    { name: 'eth0', reason: 'not named with -i' },
  ]);
});

test('networksForServing: ours means the network is served by us', () => {
  const base = { prefixLength: 24, owners: [], source: 'nets:1' };
  const configs = [
    {
      ...base,
      address: ip('10.1.0.0'),
      mask: maskFromPrefix(24),
      ourRanges: [{ start: ip('10.1.0.10'), end: ip('10.1.0.20') }],
      served: true,
    },
    { ...base, address: ip('10.9.0.0'), mask: maskFromPrefix(24), ourRanges: [], served: false },
  ] as unknown as NetworkConfig[];
  assert.deepEqual(networksForServing(configs), [
    { address: ip('10.1.0.0'), mask: maskFromPrefix(24), ours: true },
    { address: ip('10.9.0.0'), mask: maskFromPrefix(24), ours: false },
  ]);
});
