// RawTransport's pure parts, and its UDP half on loopback with real sockets (no served interface, so no
// packet socket and no privileges needed). The packet-socket half is tested in namespaces by
// test/system/io-raw.test.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { once } from 'node:events';

import type { InterfaceAddressV4 } from '../../src/io/interfaces';
import { openTransport } from '../../src/io/choose-transport';
import { directedBroadcasts, frameSourceAddress, isLinkBroadcast, RawTransport } from '../../src/io/raw';
import type { Destination, Inbound } from '../../src/io/transport';
import { UdpTransport } from '../../src/io/udp';
import { ip, maskFromPrefix } from '../../src/util/ipv4';
import { sleep, until } from '../helpers/wait';

function addr(text: string): InterfaceAddressV4 {
  const [address, prefix] = text.split('/');
  return { address: ip(address!), prefixLength: Number(prefix), netmask: maskFromPrefix(Number(prefix)) };
}

test('directed broadcasts of interface addresses', () => {
  assert.deepEqual(directedBroadcasts([addr('10.77.1.1/24'), addr('10.78.0.1/16'), addr('10.77.1.9/24')]), [
    ip('10.77.1.255'),
    ip('10.78.255.255'),
  ]);
  assert.deepEqual(
    directedBroadcasts([addr('10.0.0.0/31'), addr('10.0.0.5/32')]),
    [],
    'point-to-point and host routes have none',
  );
});

test("the packet socket keeps only broadcasts; unicast is the kernel UDP sockets' half", () => {
  const directed = [ip('10.77.1.255')];
  assert.equal(isLinkBroadcast(0xffffffff, directed), true);
  assert.equal(isLinkBroadcast(ip('10.77.1.255'), directed), true);
  assert.equal(isLinkBroadcast(ip('10.77.1.1'), directed), false, 'our own address');
  assert.equal(isLinkBroadcast(ip('10.77.2.255'), directed), false, "another link's broadcast");
  assert.equal(isLinkBroadcast(ip('10.77.1.0'), directed), false);
});

test('frame source address: the server identifier if it is on the interface, else its first address', () => {
  const addresses = [addr('10.77.1.1/24'), addr('10.78.1.1/24')];
  assert.equal(frameSourceAddress(ip('10.78.1.1'), addresses), ip('10.78.1.1'));
  assert.equal(frameSourceAddress(ip('10.99.0.1'), addresses), ip('10.77.1.1'));
  assert.equal(frameSourceAddress(0, addresses), ip('10.77.1.1'));
  assert.equal(frameSourceAddress(ip('10.99.0.1'), []), ip('10.99.0.1'));
});

/** A client socket on 127.0.0.1 that records what it receives. */
async function openClient(): Promise<{
  socket: dgram.Socket;
  port: number;
  got: Array<{ data: Buffer; from: string; port: number }>;
}> {
  const socket = dgram.createSocket('udp4');
  const got: Array<{ data: Buffer; from: string; port: number }> = [];
  socket.on('message', (data, rinfo) => got.push({ data, from: rinfo.address, port: rinfo.port }));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port, got };
}

function sendTo(socket: dgram.Socket, text: string, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => socket.send(Buffer.from(text), port, address, (e) => (e ? reject(e) : resolve())));
}

test('UDP half on loopback: unicast delivered once with its destination, replies leave from the server address', async (t) => {
  const host = [addr('127.0.0.1/8')];
  const sendErrors: Array<{ err: Error; dest: Destination }> = [];
  const transport = new RawTransport([], {
    port: 0,
    hostAddresses: () => host,
    onSendError: (err, dest) => sendErrors.push({ err, dest }),
  });
  const inbound: Inbound[] = [];
  await transport.start((packet) => inbound.push(packet));
  const client = await openClient();
  t.after(async () => {
    client.socket.close();
    await transport.close();
  });
  assert.ok(transport.port > 0);
  assert.deepEqual(transport.boundAddresses, [ip('127.0.0.1')]);
  assert.deepEqual(transport.interfaces, []);
  assert.equal(transport.directUnicast, true);

  await sendTo(client.socket, 'hello', transport.port, '127.0.0.1');
  await until(() => inbound.length >= 1, 'the unicast datagram');
  await sleep(100); // a second copy would have arrived by now
  assert.equal(inbound.length, 1, 'exactly once');
  const first = inbound[0]!;
  assert.equal(first.data.toString(), 'hello');
  assert.equal(first.srcIp, ip('127.0.0.1'));
  assert.equal(first.srcPort, client.port);
  assert.equal(first.dstIp, ip('127.0.0.1'));
  assert.equal(first.ifname, undefined, 'the UDP half cannot tell the interface');
  assert.equal(first.interfaceAddresses, undefined);

  // Every kind of destination that ends up in the kernel's UDP stack.
  const server = ip('127.0.0.1');
  const clientIp = ip('127.0.0.1');
  transport.send(Buffer.from('relay'), { kind: 'relay', ip: clientIp, port: client.port }, server);
  transport.send(Buffer.from('ciaddr'), { kind: 'unicast', ip: clientIp, port: client.port }, server);
  transport.send(
    Buffer.from('gone-if'),
    { kind: 'unicast', ip: clientIp, port: client.port, mac: Buffer.alloc(6, 2), ifname: 'jraw-none0' },
    server,
  );
  transport.send(Buffer.from('no-if'), { kind: 'unicast', ip: clientIp, port: client.port, mac: Buffer.alloc(6, 2) }, server);
  transport.send(Buffer.from('bcast'), { kind: 'broadcast', port: client.port, directed: clientIp }, server);
  transport.send(
    Buffer.from('bcast-gone-if'),
    { kind: 'broadcast', port: client.port, ifname: 'jraw-none0', directed: clientIp },
    server,
  );
  await until(() => client.got.length >= 6, 'six replies');
  assert.deepEqual(client.got.map((g) => g.data.toString()).sort(), [
    'bcast',
    'bcast-gone-if',
    'ciaddr',
    'gone-if',
    'no-if',
    'relay',
  ]);
  for (const g of client.got) {
    assert.equal(g.from, '127.0.0.1');
    assert.equal(g.port, transport.port, 'from the server port');
  }

  // Failures are reported, never thrown.
  assert.doesNotThrow(() => transport.send(Buffer.from('x'), { kind: 'relay', ip: clientIp, port: 0 }, server));
  transport.send(Buffer.alloc(70000), { kind: 'relay', ip: clientIp, port: client.port }, server);
  await until(() => sendErrors.length >= 2, 'two send errors');
  assert.equal(sendErrors[0]!.dest.kind, 'relay');
  assert.match(sendErrors.map((e) => `${(e.err as NodeJS.ErrnoException).code} ${e.err.message}`).join('\n'), /EMSGSIZE/);
  const stats = transport.stats();
  assert.equal(stats.unicastReceived, 1);
  assert.equal(stats.udpSent, 6);
  assert.equal(stats.sendErrors, 2);
  assert.equal(stats.broadcastsReceived, 0);
});

test('a unicast to an address without a socket is not delivered; it makes the transport bind the new address', async (t) => {
  const host = [addr('127.0.0.1/8')];
  const transport = new RawTransport([], { port: 0, hostAddresses: () => host });
  const inbound: Inbound[] = [];
  await transport.start((packet) => inbound.push(packet));
  const client = await openClient();
  t.after(async () => {
    client.socket.close();
    await transport.close();
  });

  host.push(addr('127.0.0.3/8')); // an address that appears after start
  await sendTo(client.socket, 'early', transport.port, '127.0.0.3');
  await until(() => transport.boundAddresses.includes(ip('127.0.0.3')), 'the new address to be bound');
  assert.equal(inbound.length, 0, 'what the catch-all socket reads is never delivered');
  assert.equal(transport.stats().catchAllDiscarded, 1);

  await sendTo(client.socket, 'later', transport.port, '127.0.0.3');
  await until(() => inbound.length >= 1, 'the datagram to the new address');
  assert.equal(inbound[0]!.dstIp, ip('127.0.0.3'));
  assert.equal(inbound[0]!.data.toString(), 'later');

  // An address that goes away loses its socket (re-read by refreshInterfaces, as on SIGHUP).
  host.splice(1, 1);
  assert.deepEqual(await transport.refreshInterfaces([]), { refreshed: true, failures: [] });
  assert.deepEqual(transport.boundAddresses, [ip('127.0.0.1')]);
  await sendTo(client.socket, 'after', transport.port, '127.0.0.3');
  await until(() => transport.stats().catchAllDiscarded >= 2, 'the catch-all to read it');
  assert.equal(inbound.length, 1);
});

test('localAddressFor: arrival interface first, then a host address on the subnet, then the kernel', async (t) => {
  const transport = new RawTransport([], { port: 0, hostAddresses: () => [addr('127.0.0.1/8')] });
  await transport.start(() => undefined);
  t.after(() => transport.close());
  const viaInterface: Inbound = {
    data: Buffer.alloc(0),
    srcIp: 0,
    srcPort: 68,
    ifname: 'jraw-x',
    interfaceAddresses: [addr('10.77.1.1/24'), addr('10.78.1.1/24')],
  };
  assert.equal(transport.localAddressFor(ip('10.78.1.0'), viaInterface), ip('10.78.1.1'), 'same subnet as the network');
  assert.equal(transport.localAddressFor(ip('10.99.0.7'), viaInterface), ip('10.77.1.1'), 'else the first address');
  const viaUdp: Inbound = { data: Buffer.alloc(0), srcIp: ip('127.0.0.5'), srcPort: 67 };
  assert.equal(transport.localAddressFor(ip('127.0.0.5'), viaUdp), ip('127.0.0.1'), 'a host address on the subnet');
});

test('close is idempotent; sending after close is a no-op; a closed transport cannot start again', async () => {
  const transport = new RawTransport([], { port: 0, hostAddresses: () => [addr('127.0.0.1/8')] });
  await transport.start(() => undefined);
  const first = transport.close();
  assert.equal(transport.close(), first);
  await first;
  assert.doesNotThrow(() => transport.send(Buffer.from('x'), { kind: 'relay', ip: ip('127.0.0.1'), port: 9 }, 0));
  await assert.rejects(
    transport.start(() => undefined),
    /already started or closed/,
  );
});

test('start fails cleanly when the port is taken without SO_REUSEADDR, and for a missing interface', async () => {
  const holder = dgram.createSocket('udp4');
  holder.bind(0, '127.0.0.1');
  await once(holder, 'listening');
  const port = holder.address().port;
  try {
    const transport = new RawTransport([], { port, hostAddresses: () => [addr('127.0.0.1/8')] });
    await assert.rejects(
      transport.start(() => undefined),
      new RegExp(`cannot bind UDP [0-9.]+:${port}: .*EADDRINUSE`),
    );
  } finally {
    holder.close();
  }
  const missing = { name: 'jraw-none0', ifindex: 0, mac: Buffer.alloc(6, 2), addresses: [addr('10.77.1.1/24')] };
  const transport = new RawTransport([missing], { port: 0, hostAddresses: () => [] });
  await assert.rejects(
    transport.start(() => undefined),
    (error: NodeJS.ErrnoException) => error.code === 'ENODEV' && /jraw-none0/.test(error.message),
  );
  await transport.close();
});

test('an address outside the served interfaces that cannot be bound is reported once, not fatal', async () => {
  const errors: Error[] = [];
  // 192.0.2.77 (TEST-NET-1) is not on this host: binding it fails with EADDRNOTAVAIL; nothing is sent.
  const host = [addr('127.0.0.1/8'), addr('192.0.2.77/24')];
  const transport = new RawTransport([], {
    port: 0,
    hostAddresses: () => host,
    onSocketError: (error) => errors.push(error),
  });
  await transport.start(() => undefined);
  try {
    assert.deepEqual(transport.boundAddresses, [ip('127.0.0.1')]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /cannot bind UDP 192\.0\.2\.77:\d+: .*EADDRNOTAVAIL/);
    // Every re-read tries again, but says so only once per address while it stays unbindable.
    assert.deepEqual(await transport.refreshInterfaces([]), { refreshed: true, failures: [] });
    assert.equal(errors.length, 1, 'the same failure is not reported again');
    // Once the address has left the host, its return is news again.
    host.pop();
    await transport.refreshInterfaces([]);
    host.push(addr('192.0.2.77/24'));
    await transport.refreshInterfaces([]);
    assert.equal(errors.length, 2);
  } finally {
    await transport.close();
  }
});

test('openTransport: udp on request; auto without an interface to serve falls back with one warning; raw refuses', () => {
  const warnings: Array<{ fields: object; message: string }> = [];
  const log = { warn: (fields: object, message: string) => warnings.push({ fields, message }) };

  const onSocketError = (): void => undefined;
  const udp = openTransport('udp', [], { log, port: 0, onSocketError });
  assert.equal(udp.kind, 'udp');
  assert.ok(udp.transport instanceof UdpTransport);
  assert.equal(udp.warning, undefined);
  assert.equal(warnings.length, 0);

  const auto = openTransport('auto', [], { log, port: 0, onSocketError });
  assert.equal(auto.kind, 'udp');
  assert.ok(auto.transport instanceof UdpTransport);
  assert.match(auto.warning ?? '', /no interface to serve directly.*UDP transport/);
  assert.equal(warnings.length, 1, 'one warning');
  assert.equal((warnings[0]!.fields as { msgId: string }).msgId, 'TRANSPORT_FALLBACK');

  assert.throws(
    () => openTransport('raw', [], { log, port: 0, onSocketError }),
    /raw transport unavailable: no interface to serve directly/,
  );
  const loopback = { name: 'lo', ifindex: 1, mac: null, addresses: [addr('127.0.0.1/8')] };
  assert.throws(() => openTransport('raw', [loopback], { log, port: 0, onSocketError }), /raw transport unavailable: .*lo/);
  assert.equal(warnings.length, 1, 'raw throws, it does not warn');
});

test('the transport asks for a receive buffer larger than the system default', async (t) => {
  const sysctl = (name: string): number => Number(fs.readFileSync(`/proc/sys/net/core/${name}`, 'utf8'));
  const systemDefault = sysctl('rmem_default');
  // The kernel grants min(request, rmem_max) doubled; with rmem_max below the default nothing can grow.
  if (sysctl('rmem_max') * 2 <= systemDefault) {
    t.skip('net.core.rmem_max leaves no room above the default');
    return;
  }
  const log = { warn: (): void => undefined };
  const opened = openTransport('udp', [], { log, port: 0, bindAddress: '127.0.0.1', onSocketError: () => undefined });
  const transport = opened.transport as UdpTransport;
  await transport.start(() => undefined);
  try {
    assert.ok(transport.receiveBufferBytes() > systemDefault, `${transport.receiveBufferBytes()} > ${systemDefault}`);
  } finally {
    await transport.close();
  }
});
