// The Transport interface as the rest of joind sees it: the UDP transport answers stats, interfaces,
// port and refreshInterfaces like the raw one; socket errors reach the log as SOCKET_ERROR through the
// callbacks joind passes to openTransport; and nothing outside src/io asks which transport runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';

import { openTransport, transportErrorLogging } from '../../src/io/choose-transport';
import type { Transport, TransportStats } from '../../src/io/transport';
import { RawTransport } from '../../src/io/raw';
import { createLogger } from '../../src/log/logger';
import { ip, maskFromPrefix } from '../../src/util/ipv4';
import { until } from '../helpers/wait';

/** A pino logger (joind's) whose JSON lines are kept, parsed. */
function bufferLogger(): { log: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

const ZERO_STATS: TransportStats = {
  broadcastsReceived: 0,
  unicastReceived: 0,
  datagramsReceived: 0,
  framesLeftToKernel: 0,
  catchAllDiscarded: 0,
  badFrames: 0,
  framesSent: 0,
  udpSent: 0,
  sendErrors: 0,
  kernelDrops: 0,
};

test('UDP transport through the interface: port, no interfaces of its own, its counters, a refresh that says it did nothing', async (t) => {
  const { log, lines } = bufferLogger();
  const opened = openTransport('udp', [], { log, port: 0, bindAddress: '127.0.0.1', ...transportErrorLogging(log) });
  const transport: Transport = opened.transport;
  assert.equal(transport.port, 0, 'no port before start');
  assert.deepEqual(transport.stats(), ZERO_STATS);

  const received: Buffer[] = [];
  await transport.start((packet) => received.push(packet.data));
  const client = dgram.createSocket('udp4');
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  const got: string[] = [];
  client.on('message', (data) => got.push(data.toString()));
  t.after(async () => {
    client.close();
    await transport.close();
  });

  assert.ok(transport.port > 0);
  assert.deepEqual(transport.interfaces, []);
  client.send(Buffer.from('one'), transport.port, '127.0.0.1');
  client.send(Buffer.from('two'), transport.port, '127.0.0.1');
  await until(() => received.length >= 2, 'two datagrams');
  transport.send(Buffer.from('reply'), { kind: 'relay', ip: ip('127.0.0.1'), port: client.address().port }, 0);
  await until(() => got.length >= 1, 'the reply');
  transport.send(Buffer.alloc(70000), { kind: 'relay', ip: ip('127.0.0.1'), port: client.address().port }, 0);
  await until(() => transport.stats().sendErrors >= 1, 'the failed send');
  assert.deepEqual(transport.stats(), { ...ZERO_STATS, datagramsReceived: 2, udpSent: 1, sendErrors: 1 });
  const sendFailed = lines.filter((l) => l['msgId'] === 'SEND_FAILED');
  assert.equal(sendFailed.length, 1);
  assert.equal(sendFailed[0]!['code'], 'EMSGSIZE');
  assert.equal(sendFailed[0]!['level'], 40, 'warn, as catalogued');

  const served = [{ name: 'jt-none0', ifindex: 0, mac: null, addresses: [] }];
  assert.deepEqual(await transport.refreshInterfaces(served), { refreshed: false, failures: [] });
  const portBefore = transport.port;
  client.send(Buffer.from('three'), portBefore, '127.0.0.1');
  await until(() => received.length >= 3, 'a datagram after the refresh');
  assert.equal(transport.port, portBefore, 'the socket was kept');
});

test('an error on the UDP socket is logged as SOCKET_ERROR through the callbacks joind passes', async (t) => {
  const { log, lines } = bufferLogger();
  const opened = openTransport('udp', [], { log, port: 0, bindAddress: '127.0.0.1', ...transportErrorLogging(log) });
  await opened.transport.start(() => undefined);
  t.after(() => opened.transport.close());
  // The dgram socket inside, as its owner would see an asynchronous error.
  const socket = (opened.transport as unknown as { socket: dgram.Socket }).socket;
  const error = Object.assign(new Error('recvmsg ENOBUFS'), { code: 'ENOBUFS' });
  assert.doesNotThrow(() => socket.emit('error', error));
  const logged = lines.filter((l) => l['msgId'] === 'SOCKET_ERROR');
  assert.equal(logged.length, 1, JSON.stringify(lines));
  assert.equal(logged[0]!['err'], 'recvmsg ENOBUFS');
  assert.equal(logged[0]!['code'], 'ENOBUFS');
  assert.equal(logged[0]!['level'], 40, 'warn, as catalogued');
});

test("the raw transport's socket problems reach SOCKET_ERROR through the same callbacks", async () => {
  const { log, lines } = bufferLogger();
  // 192.0.2.77 (TEST-NET-1) is not on this host: its UDP socket cannot be bound (not fatal: not served).
  const transport: Transport = new RawTransport([], {
    port: 0,
    hostAddresses: () => [
      { address: ip('127.0.0.1'), prefixLength: 8, netmask: maskFromPrefix(8) },
      { address: ip('192.0.2.77'), prefixLength: 24, netmask: maskFromPrefix(24) },
    ],
    ...transportErrorLogging(log),
  });
  await transport.start(() => undefined);
  try {
    const logged = lines.filter((l) => l['msgId'] === 'SOCKET_ERROR');
    assert.equal(logged.length, 1, JSON.stringify(lines));
    assert.match(String(logged[0]!['err']), /cannot bind UDP 192\.0\.2\.77/);
    assert.equal(logged[0]!['code'], 'EADDRNOTAVAIL');
    assert.deepEqual(transport.interfaces, []);
    assert.equal(transport.stats().datagramsReceived, 0, 'the raw transport delivers as broadcasts or unicast');
  } finally {
    await transport.close();
  }
});

test('nothing under src/ outside src/io asks which concrete transport runs', () => {
  // Tests run from dist/test/unit; the sources are at the repository root.
  const src = path.resolve(__dirname, '../../../src');
  const io = path.join(src, 'io');
  const concrete =
    /\binstanceof\s+(RawTransport|UdpTransport)\b|\bas\s+(RawTransport|UdpTransport)\b|from\s+'[^']*\/io\/(raw|udp)'/;
  const scanned: string[] = [];
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (full !== io) walk(full);
      } else if (entry.name.endsWith('.ts')) {
        scanned.push(path.relative(src, full));
        const text = fs.readFileSync(full, 'utf8');
        text.split('\n').forEach((line, i) => {
          if (concrete.test(line)) offenders.push(`src/${path.relative(src, full)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
  };
  walk(src);
  assert.ok(scanned.includes(path.join('server', 'daemon.ts')), `the scan found the sources (${scanned.length} files)`);
  assert.ok(!scanned.some((f) => f.startsWith(`io${path.sep}`)), 'src/io itself may know its transports');
  assert.deepEqual(offenders, [], 'use the Transport interface (src/io/transport.ts) instead');
});
