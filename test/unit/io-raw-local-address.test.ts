import { test } from 'node:test';
import assert from 'node:assert/strict';

import { addressOnSubnetOf, hostIpv4Addresses, KernelSourceAddresses } from '../../src/io/local-address';
import { ip, maskFromPrefix } from '../../src/util/ipv4';

test('hostIpv4Addresses includes loopback, each address once, with its prefix', () => {
  const all = hostIpv4Addresses();
  const loopback = all.find((a) => a.address === ip('127.0.0.1'));
  assert.ok(loopback, '127.0.0.1 is listed');
  assert.equal(loopback.prefixLength, 8);
  assert.equal(loopback.netmask, maskFromPrefix(8));
  assert.equal(new Set(all.map((a) => a.address)).size, all.length);
});

test('addressOnSubnetOf', () => {
  const addresses = [
    { address: ip('10.77.1.1'), prefixLength: 24 },
    { address: ip('10.78.0.1'), prefixLength: 16 },
  ];
  assert.equal(addressOnSubnetOf(ip('10.78.200.3'), addresses), ip('10.78.0.1'));
  assert.equal(addressOnSubnetOf(ip('10.77.1.0'), addresses), ip('10.77.1.1'));
  assert.equal(addressOnSubnetOf(ip('10.79.0.1'), addresses), undefined);
});

test("KernelSourceAddresses learns the kernel's source address in the background", async () => {
  const sources = new KernelSourceAddresses();
  const to = ip('127.0.0.9');
  assert.equal(sources.get(to), undefined, 'unknown the first time');
  // Concurrent questions share the probe that get() started.
  const [a, b] = await Promise.all([sources.learn(to), sources.learn(to)]);
  assert.equal(a, ip('127.0.0.1'));
  assert.equal(b, ip('127.0.0.1'));
  assert.equal(sources.get(to), ip('127.0.0.1'));
  sources.close();
  assert.equal(await sources.learn(ip('127.0.0.10')), undefined, 'closed: nothing more is learnt');
});

test('KernelSourceAddresses.answer waits for a new destination only, and probes a known one no more', async () => {
  const sources = new KernelSourceAddresses();
  const internal = sources as unknown as { probing: Map<number, unknown> };
  const to = ip('127.0.0.14');
  assert.equal(await sources.answer(to), ip('127.0.0.1'), 'a new destination: waits for the probe');
  const again = sources.answer(to);
  assert.equal(internal.probing.size, 0, 'a known destination: no new probe');
  assert.equal(await again, ip('127.0.0.1'));
  sources.close();
});

test('KernelSourceAddresses forgets everything rather than grow past its bound', async () => {
  const sources = new KernelSourceAddresses({ maxEntries: 2 });
  await sources.learn(ip('127.0.0.11'));
  await sources.learn(ip('127.0.0.12'));
  await sources.learn(ip('127.0.0.13'));
  const internal = sources as unknown as { learnt: Map<number, unknown> };
  assert.ok(internal.learnt.size <= 2);
  assert.ok(internal.learnt.has(ip('127.0.0.13')));
});
