// The failover TCP link (src/io/failover-link.ts) over loopback: two links find each other in either
// direction, bound to their own addresses (127.0.0.21 and 127.0.0.22; any 127.x works on Linux), and
// exchange messages; a connection from another address is refused; garbage, a late first message and
// silence drop the connection but not the link; keep-alives; reassembly of 1-byte writes; reconnects;
// and stop() leaves no handle behind. Timers are small so the file runs in about two seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';

import { FailoverFramer, decodeMessage, encodeMessage, type FailoverMessage } from '../../src/failover';
import {
  FailoverLink,
  type FailoverConnection,
  type FailoverLinkEvents,
  type FailoverLinkOptions,
} from '../../src/io/failover-link';
import { rawFailoverMessage } from '../helpers/failover-bytes';

const A = '127.0.0.21';
const B = '127.0.0.22';
const STRANGER = '127.0.0.23';

const CONNECT: FailoverMessage = {
  type: 'CONNECT',
  time: 1700000000,
  xid: 1,
  relationshipName: Buffer.from('dhcp_fail'),
  maxUnacked: 3,
  receiveTimer: 60,
  vendorClass: Buffer.from('joind'),
  protocolVersion: 1,
  tlsRequest: 0,
  mclt: 3600,
  hba: Buffer.alloc(32, 0xf0),
};
const CONTACT: FailoverMessage = { type: 'CONTACT', time: 1700000001, xid: 2 };

/** A port free on the address just now (the system picks it; the listener is closed again). */
async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  server.listen({ host, port: 0 });
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls until the condition holds; fails the test after ms. */
async function waitFor(what: string, condition: () => boolean, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything a link reported, and an optional hook run on each new connection. */
class Recorder implements FailoverLinkEvents {
  readonly connections: FailoverConnection[] = [];
  readonly messages: Array<{ conn: FailoverConnection; msg: FailoverMessage }> = [];
  readonly bad: Array<{ conn: FailoverConnection; why: string }> = [];
  readonly closes: Array<{ conn: FailoverConnection; reason: string }> = [];
  readonly refused: string[] = [];
  readonly errors: Array<{ what: string; err: Error }> = [];

  constructor(private readonly hook?: (conn: FailoverConnection) => void) {}

  onConnection(conn: FailoverConnection): void {
    this.connections.push(conn);
    this.hook?.(conn);
  }
  onMessage(conn: FailoverConnection, msg: FailoverMessage): void {
    this.messages.push({ conn, msg });
  }
  onBadMessage(conn: FailoverConnection, why: string): void {
    this.bad.push({ conn, why });
  }
  onClose(conn: FailoverConnection, reason: string): void {
    this.closes.push({ conn, reason });
  }
  onRefused(remote: string): void {
    this.refused.push(remote);
  }
  onError(what: string, err: Error): void {
    this.errors.push({ what, err });
  }
}

/** Link options A → B with small timers; the peer port need not be listening. */
function options(localPort: number, peerPort: number, extra: Partial<FailoverLinkOptions> = {}): FailoverLinkOptions {
  return {
    localAddress: A,
    localPort,
    peerAddress: B,
    peerPort,
    firstMessageMs: 1000,
    reconnectAfterDropMs: 50,
    reconnectAfterFailMs: 60_000,
    ...extra,
  };
}

/** A hand-driven peer: a plain socket from `from` to the link's port, collecting what it is sent. */
class RawPeer {
  readonly received: FailoverMessage[] = [];
  readonly receivedAt: number[] = [];
  closed = false;
  /** Our end's port, kept: a closed socket forgets it. */
  readonly port: number;
  private readonly framer = new FailoverFramer();

  private constructor(readonly socket: net.Socket) {
    this.port = socket.localPort!;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.framer.feed(chunk).frames) {
        const result = decodeMessage(frame);
        assert.ok(result.ok, 'the link sent a message that does not decode');
        this.received.push(result.message);
        this.receivedAt.push(Date.now());
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  static async connect(from: string, port: number): Promise<RawPeer> {
    const socket = net.connect({ host: A, port, localAddress: from });
    await once(socket, 'connect');
    return new RawPeer(socket);
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

for (const first of ['A', 'B'] as const) {
  test(`two links find each other (${first} listening first, the other connects) and exchange messages`, async () => {
    const [portA, portB] = [await freePort(A), await freePort(B)];
    const ra = new Recorder();
    const rb = new Recorder();
    const a = new FailoverLink(options(portA, portB), ra);
    const b = new FailoverLink({ ...options(portB, portA), localAddress: B, peerAddress: A }, rb);
    try {
      // The first link's attempt fails (nobody listens yet) and its next one is a minute away, so the
      // connection is the second link's outbound one.
      const [early, late] = first === 'A' ? [a, b] : [b, a];
      const [rEarly, rLate] = first === 'A' ? [ra, rb] : [rb, ra];
      await early.start();
      await waitFor('the failed attempt', () => rEarly.errors.length === 1);
      assert.equal(rEarly.errors[0]!.what, 'connect');
      await late.start();
      await waitFor('a connection on both sides', () => ra.connections.length === 1 && rb.connections.length === 1);
      const [inbound, outbound] = [rEarly.connections[0]!, rLate.connections[0]!];
      assert.equal(inbound.direction, 'inbound');
      assert.equal(outbound.direction, 'outbound');
      // The outgoing socket is bound to its link's address: that is what the peer's listener checks.
      assert.match(inbound.remote, new RegExp(`^${first === 'A' ? B : A}:\\d+$`));
      assert.equal(outbound.remote, first === 'A' ? `${A}:${portA}` : `${B}:${portB}`);
      assert.deepEqual(
        early.connections.map((c) => c.id),
        [1],
      );

      const connA = ra.connections[0]!;
      const connB = rb.connections[0]!;
      assert.equal(connA.send(CONNECT), true);
      assert.equal(connB.send(CONTACT), true);
      await waitFor('both messages', () => ra.messages.length === 1 && rb.messages.length === 1);
      assert.deepEqual(rb.messages[0]!.msg, CONNECT);
      assert.equal(rb.messages[0]!.conn, connB);
      assert.deepEqual(ra.messages[0]!.msg, CONTACT);

      // A local close: onClose once on each side, and both links try again after reconnectAfterDropMs.
      connB.close('duplicate');
      connB.close('again');
      assert.equal(connB.open, false);
      assert.equal(connB.send(CONTACT), false);
      await waitFor('the peer to see the close', () => ra.closes.length === 1);
      assert.deepEqual(
        rb.closes.map((c) => c.reason),
        ['local: duplicate'],
      );
      assert.equal(ra.closes[0]!.reason, 'peer closed');
      await waitFor('a new connection', () => a.connections.length > 0 && b.connections.length > 0);
      assert.ok(ra.connections.length >= 2 && ra.connections.every((c, i) => c.id === i + 1));
    } finally {
      await a.stop();
      await b.stop();
    }
    assert.ok(
      ra.closes.every((c, i, all) => all.findIndex((d) => d.conn === c.conn) === i),
      'one onClose per connection',
    );
    assert.ok(ra.connections.every((c) => !c.open));
  });
}

test('an outbound attempt that fails is retried after reconnectAfterFailMs; start rejects on a bound port', async () => {
  const [portA, portB] = [await freePort(A), await freePort(B)];
  const r = new Recorder();
  const a = new FailoverLink(options(portA, portB, { reconnectAfterFailMs: 40 }), r);
  const clash = new FailoverLink(options(portA, portB), new Recorder());
  try {
    await a.start();
    assert.equal(a.port, portA);
    await assert.rejects(clash.start(), /EADDRINUSE/);
    const started = Date.now();
    await waitFor('three failed attempts', () => r.errors.length >= 3);
    assert.ok(Date.now() - started >= 70, 'attempts are spaced by reconnectAfterFailMs');
    assert.ok(r.errors.every((e) => e.what === 'connect'));
  } finally {
    await a.stop();
    await clash.stop();
  }
});

test('failed attempts back off from reconnectAfterDropMs, doubling up to reconnectAfterFailMs', async () => {
  const r = new Recorder();
  const stamps: number[] = [];
  const a = new FailoverLink(
    options(await freePort(A), await freePort(B), { reconnectAfterDropMs: 20, reconnectAfterFailMs: 100 }),
    {
      onConnection: (c) => r.onConnection(c),
      onMessage: (c, m) => r.onMessage(c, m),
      onBadMessage: (c, why) => r.onBadMessage(c, why),
      onClose: (c, reason) => r.onClose(c, reason),
      onError: (what, err) => {
        stamps.push(Date.now());
        r.onError(what, err);
      },
    },
  );
  try {
    await a.start();
    await waitFor('six failed attempts', () => stamps.length >= 6);
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
    // 20, 40, 80, then the cap: 100, 100 (timers are never early; allow them to be late).
    assert.ok(gaps[0]! >= 18 && gaps[0]! < 60, `first gap ${gaps[0]}`);
    assert.ok(gaps[1]! >= 38, `second gap ${gaps[1]}`);
    assert.ok(gaps[2]! >= 78, `third gap ${gaps[2]}`);
    assert.ok(gaps[3]! >= 98 && gaps[3]! < 160 && gaps[4]! < 160, `capped: ${gaps.join(' ')}`);
  } finally {
    await a.stop();
  }
});

test('an inbound connection from another address is refused; the peer address is accepted', async () => {
  const r = new Recorder();
  const a = new FailoverLink(options(0, await freePort(B)), r);
  await a.start();
  const peers: RawPeer[] = [];
  try {
    const stranger = await RawPeer.connect(STRANGER, a.port);
    peers.push(stranger);
    await waitFor('the refusal', () => r.refused.length === 1 && stranger.closed);
    assert.match(r.refused[0]!, new RegExp(`^${STRANGER.replace(/\./g, '\\.')}:${stranger.port}$`));
    assert.equal(r.connections.length, 0);

    const peer = await RawPeer.connect(B, a.port);
    peers.push(peer);
    await waitFor('the connection', () => r.connections.length === 1);
    assert.equal(r.connections[0]!.remote, `${B}:${peer.port}`);
  } finally {
    peers.forEach((p) => p.destroy());
    await a.stop();
  }
});

const GARBAGE: Array<[string, Buffer, RegExp]> = [
  ['a length of 3', Buffer.from([0x00, 0x03, 0x0b, 0x0c]), /bad-length/],
  ['a length of 5000', Buffer.concat([Buffer.from([0x13, 0x88]), Buffer.alloc(100)]), /bad-length/],
  ['MCLT of 2 bytes', rawFailoverMessage(5, [[15, Buffer.from([0x0e, 0x10])]]), /bad-option-size/],
  ['message type 0', rawFailoverMessage(0, []), /unknown-type/],
];

test('garbage drops the connection (onBadMessage, then onClose), the link lives on', async () => {
  const r = new Recorder();
  const a = new FailoverLink(options(0, await freePort(B)), r);
  await a.start();
  const peers: RawPeer[] = [];
  try {
    for (const [what, bytes, why] of GARBAGE) {
      const peer = await RawPeer.connect(B, a.port);
      peers.push(peer);
      // A good message first: it is delivered before the bad one drops the connection.
      peer.write(Buffer.concat([encodeMessage(CONTACT), bytes]));
      await waitFor(`${what} to be dropped`, () => r.closes.length === peers.length && peer.closed);
      const conn = r.connections.at(-1)!;
      assert.equal(r.bad.length, peers.length, what);
      assert.equal(r.bad.at(-1)!.conn, conn);
      assert.match(r.bad.at(-1)!.why, why, what);
      assert.deepEqual(r.closes.at(-1), { conn, reason: 'bad message' }, what);
      assert.deepEqual(r.messages.at(-1), { conn, msg: CONTACT }, what);
    }
    // Later, a good connection works.
    const peer = await RawPeer.connect(B, a.port);
    peers.push(peer);
    peer.write(encodeMessage(CONNECT));
    await waitFor('the good message', () => r.messages.length === GARBAGE.length + 1);
    assert.deepEqual(r.messages.at(-1)!.msg, CONNECT);
    assert.equal(a.connections.length, 1);
  } finally {
    peers.forEach((p) => p.destroy());
    await a.stop();
  }
});

test('unknown and not-carried options are skipped, the message delivered', async () => {
  const r = new Recorder();
  const a = new FailoverLink(options(0, await freePort(B)), r);
  await a.start();
  const peer = await RawPeer.connect(B, a.port);
  try {
    // CONTACT with an unknown option (200) and MCLT, which a CONTACT does not carry.
    peer.write(
      rawFailoverMessage(11, [
        [200, Buffer.from('x')],
        [15, Buffer.alloc(4)],
      ]),
    );
    await waitFor('the message', () => r.messages.length === 1);
    assert.deepEqual(r.messages[0]!.msg, { type: 'CONTACT', time: 1700000000, xid: 7 });
    assert.equal(r.bad.length, 0);
  } finally {
    peer.destroy();
    await a.stop();
  }
});

test('a connection without a whole message within firstMessageMs is dropped', async () => {
  const r = new Recorder();
  const a = new FailoverLink(options(0, await freePort(B), { firstMessageMs: 100 }), r);
  await a.start();
  const peer = await RawPeer.connect(B, a.port);
  try {
    // Half a message does not count.
    peer.write(encodeMessage(CONNECT).subarray(0, 20));
    await waitFor('the drop', () => r.closes.length === 1 && peer.closed);
    assert.equal(r.closes[0]!.reason, 'no message within 100 ms');
    assert.equal(r.messages.length, 0);
  } finally {
    peer.destroy();
    await a.stop();
  }
});

test('silenceLimit drops a connection that went quiet, and each message re-arms it', async () => {
  const r = new Recorder((conn) => conn.silenceLimit(120));
  const a = new FailoverLink(options(0, await freePort(B)), r);
  await a.start();
  const peer = await RawPeer.connect(B, a.port);
  try {
    for (let i = 0; i < 6; i++) {
      peer.write(encodeMessage(CONTACT));
      await sleep(40);
    }
    assert.equal(r.closes.length, 0, 'messages every 40 ms keep it open');
    const quiet = Date.now();
    await waitFor('the drop', () => r.closes.length === 1);
    assert.equal(r.closes[0]!.reason, 'silence 120 ms');
    assert.ok(Date.now() - quiet >= 60);
    // Disarmed, nothing is dropped: a second connection with silenceLimit(0).
    const r2 = new Recorder((conn) => {
      conn.silenceLimit(30);
      conn.silenceLimit(0);
    });
    const b = new FailoverLink(options(0, await freePort(B)), r2);
    await b.start();
    const peer2 = await RawPeer.connect(B, b.port);
    peer2.write(encodeMessage(CONTACT));
    await sleep(100);
    assert.equal(r2.closes.length, 0);
    peer2.destroy();
    await b.stop();
  } finally {
    peer.destroy();
    await a.stop();
  }
});

test('keepAlive sends a CONTACT whenever nothing was sent for the interval', async () => {
  let conn: FailoverConnection | undefined;
  const r = new Recorder((c) => {
    conn = c;
    c.keepAlive(60);
  });
  const a = new FailoverLink(options(0, await freePort(B)), r);
  await a.start();
  const peer = await RawPeer.connect(B, a.port);
  try {
    peer.write(encodeMessage(CONTACT));
    const started = Date.now();
    await sleep(340);
    const contacts = peer.received.filter((m) => m.type === 'CONTACT');
    assert.ok(contacts.length >= 3 && contacts.length <= 6, `${contacts.length} CONTACTs in 340 ms at 60 ms`);
    assert.ok(peer.receivedAt[0]! - started >= 40);
    // xids come from the link's sequence: consecutive.
    contacts.slice(1).forEach((m, i) => assert.equal(m.xid, (contacts[i]!.xid + 1) >>> 0));
    // Sends push the keep-alive back.
    const before = peer.received.length;
    for (let i = 0; i < 5; i++) {
      conn!.send(CONNECT);
      await sleep(30);
    }
    await waitFor('the five CONNECTs', () => peer.received.length >= before + 5);
    assert.deepEqual(
      peer.received.slice(before, before + 5).map((m) => m.type),
      Array<string>(5).fill('CONNECT'),
    );
    conn!.keepAlive(0);
    const disarmed = peer.received.length;
    await sleep(150);
    assert.equal(peer.received.length, disarmed, 'no CONTACT once disarmed');
  } finally {
    peer.destroy();
    await a.stop();
  }
});

test('a message written one byte at a time is reassembled; several in one write come in order', async () => {
  const r = new Recorder();
  const a = new FailoverLink(options(0, await freePort(B)), r);
  await a.start();
  const peer = await RawPeer.connect(B, a.port);
  try {
    const bytes = encodeMessage(CONNECT);
    for (const byte of bytes) {
      peer.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor('the CONNECT', () => r.messages.length === 1);
    assert.deepEqual(r.messages[0]!.msg, CONNECT);

    const burst = [1, 2, 3, 4].map((xid) => ({ ...CONTACT, xid }));
    peer.write(Buffer.concat(burst.map(encodeMessage)));
    await waitFor('the burst', () => r.messages.length === 5);
    assert.deepEqual(
      r.messages.slice(1).map((m) => m.msg),
      burst,
    );
  } finally {
    peer.destroy();
    await a.stop();
  }
});

test('send returns false for a message that cannot be encoded, and the connection stays open', async () => {
  const r = new Recorder();
  const a = new FailoverLink(options(0, await freePort(B)), r);
  await a.start();
  const peer = await RawPeer.connect(B, a.port);
  try {
    await waitFor('the connection', () => r.connections.length === 1);
    const conn = r.connections[0]!;
    assert.equal(conn.send({ ...CONNECT, hba: Buffer.alloc(3) }), false);
    assert.equal(r.errors.at(-1)!.what, 'encode');
    assert.equal(conn.open, true);
    assert.equal(conn.send(CONTACT), true);
    await waitFor('the CONTACT', () => peer.received.length === 1);
  } finally {
    peer.destroy();
    await a.stop();
  }
});

test('stop() closes everything and leaves no handle or timer behind', async () => {
  const count = (): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
    return counts;
  };
  const before = count();
  const [portA, portB] = [await freePort(A), await freePort(B)];
  const busy = (conn: FailoverConnection): void => {
    conn.keepAlive(1000);
    conn.silenceLimit(1000);
  };
  const ra = new Recorder(busy);
  const rb = new Recorder(busy);
  const a = new FailoverLink(options(portA, portB), ra);
  const b = new FailoverLink({ ...options(portB, portA), localAddress: B, peerAddress: A }, rb);
  await a.start();
  await b.start();
  await waitFor('connections', () => a.connections.length > 0 && b.connections.length > 0);
  await a.stop();
  await b.stop();
  await a.stop(); // idempotent
  assert.equal(a.connections.length, 0);
  assert.ok(ra.closes.some((c) => c.reason === 'local: link stopped'));
  await sleep(20);
  const after = count();
  for (const kind of ['TCPServerWrap', 'TCPSocketWrap', 'TCPWRAP', 'Timeout']) {
    assert.ok((after[kind] ?? 0) <= (before[kind] ?? 0), `${kind}: ${after[kind]} left, ${before[kind] ?? 0} before`);
  }
  // And nothing reconnects afterwards.
  await sleep(80);
  assert.equal(a.connections.length + b.connections.length, 0);
});
