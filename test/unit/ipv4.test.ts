import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classfulMask, inNetwork, ip, ipToString, maskFromPrefix, parseIp, prefixFromMask } from '../../src/util/ipv4';

test('ipv4 text round trip', () => {
  assert.equal(ipToString(ip('10.1.0.255')), '10.1.0.255');
  assert.equal(ip('255.255.255.255'), 0xffffffff);
  assert.equal(parseIp('10.1.0'), undefined);
  assert.equal(parseIp('10.1.0.256'), undefined);
  assert.equal(parseIp('10.1.0.x'), undefined);
});

test('masks and networks', () => {
  assert.equal(maskFromPrefix(24), ip('255.255.255.0'));
  assert.equal(maskFromPrefix(0), 0);
  assert.equal(prefixFromMask(ip('255.255.240.0')), 20);
  assert.equal(prefixFromMask(ip('255.0.255.0')), undefined);
  assert.ok(inNetwork(ip('10.1.2.3'), ip('10.1.0.0'), maskFromPrefix(16)));
  assert.ok(!inNetwork(ip('10.2.2.3'), ip('10.1.0.0'), maskFromPrefix(16)));
  assert.equal(classfulMask(ip('10.1.2.3')), ip('255.0.0.0'));
  assert.equal(classfulMask(ip('172.20.1.1')), ip('255.255.0.0'));
  assert.equal(classfulMask(ip('192.168.1.1')), ip('255.255.255.0'));
});
