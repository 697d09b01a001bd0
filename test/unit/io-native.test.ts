// The native addon and its wrappers on this machine, without namespaces: interface lookups, argument
// checking, and (as root) the ping path over loopback. Namespaced traffic is in
// test/system/io-native.test.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';

import { listIpv4Interfaces } from '../../src/io/interfaces';
import { errnoName, loadNative, SOCKET_ICMP, SOCKET_PACKET, SOCKET_UDP } from '../../src/io/native';
import { PacketSocket } from '../../src/io/packet-socket';
import { Pinger } from '../../src/io/ping';
import { ip } from '../../src/util/ipv4';

const isRoot = process.getuid?.() === 0;

test('addon loads and looks up interfaces', () => {
  const addon = loadNative();
  assert.equal(addon.ifNameToIndex('lo'), Number(fs.readFileSync('/sys/class/net/lo/ifindex', 'latin1')));
  assert.equal(addon.ifNameToIndex('jnat-nonexistent'), 0);
  assert.equal(addon.ifNameToIndex('x'.repeat(40)), 0, 'over-long name is "no such interface"');
  assert.equal(addon.ifHardwareAddress('lo'), null, 'loopback is not Ethernet');
  assert.equal(addon.ifHardwareAddress('jnat-nonexistent'), null);
});

test('errno names for send results', () => {
  assert.equal(errnoName(os.constants.errno.ENOBUFS), 'ENOBUFS');
  assert.equal(errnoName(os.constants.errno.EHOSTUNREACH), 'EHOSTUNREACH');
  assert.equal(errnoName(99999), 'errno 99999');
});

test('Socket rejects bad arguments with TypeError before opening anything', () => {
  const { Socket } = loadNative();
  const noop = (): void => undefined;
  assert.throws(() => new Socket(7, 0, 0, 0, noop), TypeError);
  assert.throws(() => new Socket(SOCKET_PACKET, 0, 67, 0, noop), TypeError);
  assert.throws(() => new Socket(SOCKET_PACKET, 1, 70000, 0, noop), TypeError);
  assert.throws(
    () => new (Socket as unknown as new (...args: unknown[]) => unknown)(SOCKET_ICMP, 0, 0, 0, 'not a function'),
    TypeError,
  );
});

test('UDP socket over loopback: binds port 0, delivers sender address and port as numbers, sends back', async () => {
  const { Socket } = loadNative();
  const noop = (): void => undefined;
  assert.throws(() => new Socket(SOCKET_UDP, ip('127.0.0.1'), 70000, 0, noop), TypeError, 'port out of range');
  const received: Array<{ data: string; srcIp: number; srcPort: number }> = [];
  const server = new Socket(SOCKET_UDP, ip('127.0.0.1'), 0, 1 << 20, (data, srcIp, srcPort, flags) => {
    assert.equal(flags, 0);
    received.push({ data: data.toString(), srcIp, srcPort });
  });
  const peer = dgram.createSocket('udp4');
  try {
    const port = server.localPort();
    assert.ok(port > 0, 'the bound port is known');
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const peerPort = peer.address().port;
    peer.send('hello', port, '127.0.0.1');
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(received, [{ data: 'hello', srcIp: ip('127.0.0.1'), srcPort: peerPort }]);

    const answer = once(peer, 'message');
    assert.equal(server.sendTo(Buffer.from('back'), ip('127.0.0.1'), peerPort), 0, 'sent at once');
    const [message, rinfo] = (await answer) as [Buffer, dgram.RemoteInfo];
    assert.equal(message.toString(), 'back');
    assert.equal(rinfo.port, port, 'from the bound port');
    assert.throws(() => server.sendTo(Buffer.from('x'), ip('127.0.0.1')), TypeError, 'a UDP send needs a port');

    // A second socket on the same port but the wildcard address, as the raw transport's catch-all does.
    const wildcard = new Socket(SOCKET_UDP, 0, port, 0, noop);
    assert.equal(wildcard.localPort(), port);
    wildcard.close();
  } finally {
    peer.close();
    server.close();
  }
  assert.equal(server.sendTo(Buffer.from('x'), ip('127.0.0.1'), 9), os.constants.errno.EBADF, 'closed: EBADF, no throw');
});

test('listIpv4Interfaces: no loopback, indexes and MACs agree with sysfs', () => {
  for (const info of listIpv4Interfaces()) {
    assert.notEqual(info.name, 'lo');
    assert.equal(info.ifindex, Number(fs.readFileSync(`/sys/class/net/${info.name}/ifindex`, 'latin1')));
    const sysMac = fs.readFileSync(`/sys/class/net/${info.name}/address`, 'latin1').trim();
    if (info.mac !== null) assert.equal([...info.mac].map((b) => b.toString(16).padStart(2, '0')).join(':'), sysMac);
    assert.ok(info.addresses.length > 0);
    for (const a of info.addresses)
      assert.equal(a.netmask, a.prefixLength === 0 ? 0 : (0xffffffff << (32 - a.prefixLength)) >>> 0);
  }
});

test('PacketSocket.open on a missing interface throws ENODEV', () => {
  assert.throws(
    () => PacketSocket.open('jnat-nonexistent', () => undefined),
    (error: NodeJS.ErrnoException) => error.code === 'ENODEV' && /jnat-nonexistent/.test(error.message),
  );
});

test(
  'Pinger over loopback: reply, shared echo, close resolves pending checks',
  { skip: !isRoot && 'needs root (raw ICMP socket)' },
  async () => {
    const pinger = Pinger.open({ warn: (_fields, msg) => assert.fail(`unexpected warning ${msg}`) });
    assert.ok(pinger);
    try {
      const [first, second] = await Promise.all([pinger.check(ip('127.0.0.1'), 1000), pinger.check(ip('127.0.0.1'), 1000)]);
      assert.equal(first, true);
      assert.equal(second, true);
      assert.equal(pinger.sent, 1, 'concurrent checks of one address share one echo');
      assert.equal(pinger.replies, 2);
      assert.equal(pinger.shared, 1);
      const { Socket } = loadNative();
      // Wrong-kind calls are programming errors: they throw. Sends on a closed socket are values.
      const icmp = new Socket(SOCKET_ICMP, 0, 0, 0, () => undefined);
      assert.throws(() => icmp.sendFrame(Buffer.alloc(60)), TypeError);
      icmp.close();
      icmp.close();
      assert.equal(icmp.sendTo(Buffer.alloc(8), ip('127.0.0.1')), os.constants.errno.EBADF);
    } finally {
      const pending = pinger.check(ip('127.0.0.2'), 60000);
      pinger.close();
      assert.equal(await pending, false, 'close() resolves pending checks with false');
      assert.equal(await pinger.check(ip('127.0.0.1'), 1000), false, 'a closed Pinger answers false');
    }
  },
);
