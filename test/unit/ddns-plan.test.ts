// The RFC 4703 sequences (src/ddns/plan.ts) as RFC 2136 records: each prerequisite and update with the
// class that carries its meaning (RFC 2136 2.4, 2.5), checked through the encoder and decoder; the
// reverse name and the TTL rule. And the DNS exchange (src/io/dns-client.ts) with servers on loopback:
// an answer over UDP, a truncated one asked again over TCP, a refused port and a timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { DnsClass as C, DnsType as T, decodeMessage, encodeUpdate, type UpdateRequest } from '../../src/dns/message';
import {
  addName,
  recordTtl,
  removeAddress,
  removeName,
  removeReverse,
  replaceName,
  reverseName,
  setReverse,
  type LeaseName,
} from '../../src/ddns/plan';
import { dnsExchange } from '../../src/io/dns-client';
import { ip } from '../../src/util/ipv4';

const NAME: LeaseName = {
  fqdn: 'host1.example.com',
  address: ip('10.77.1.100'),
  guard: { type: T.DHCID, rdata: Buffer.from('000001aa', 'hex') },
  ttl: 300,
};
const A = '0a4d0164';
const PTR = '05686f737431076578616d706c6503636f6d00';

/** Each record of a request as "name TYPE CLASS ttl rdata-hex", through the wire and back. */
function sections(request: UpdateRequest): { zone: string; pre: string[]; upd: string[] } {
  const decoded = decodeMessage(encodeUpdate(request));
  assert.ok(decoded.ok);
  const show = (r: { name: string; type: number; class: number; ttl: number; rdata: Buffer }): string =>
    `${r.name} ${r.type} ${r.class} ${r.ttl} ${r.rdata.toString('hex')}`.trimEnd();
  return { zone: decoded.value.questions[0]!.name, pre: decoded.value.answers.map(show), upd: decoded.value.authority.map(show) };
}

test('add: name not in use (NONE ANY), then A and DHCID added', () => {
  assert.deepEqual(sections(addName(1, 'example.com', NAME)), {
    zone: 'example.com',
    pre: [`host1.example.com ${T.ANY} ${C.NONE} 0`],
    upd: [`host1.example.com ${T.A} ${C.IN} 300 ${A}`, `host1.example.com ${T.DHCID} ${C.IN} 300 000001aa`],
  });
});

test('replace: name in use (ANY ANY) and our DHCID (IN DHCID rdata), then the A RRset replaced', () => {
  assert.deepEqual(sections(replaceName(1, 'example.com', NAME)), {
    zone: 'example.com',
    pre: [`host1.example.com ${T.ANY} ${C.ANY} 0`, `host1.example.com ${T.DHCID} ${C.IN} 0 000001aa`],
    upd: [`host1.example.com ${T.A} ${C.ANY} 0`, `host1.example.com ${T.A} ${C.IN} 300 ${A}`],
  });
});

test('reverse: PTR and DHCID RRsets replaced, no prerequisite; interim style has no DHCID there', () => {
  const owner = '100.1.77.10.in-addr.arpa';
  assert.equal(reverseName(ip('10.77.1.100')), owner);
  assert.deepEqual(sections(setReverse(1, '1.77.10.in-addr.arpa', NAME)), {
    zone: '1.77.10.in-addr.arpa',
    pre: [],
    upd: [
      `${owner} ${T.PTR} ${C.ANY} 0`,
      `${owner} ${T.DHCID} ${C.ANY} 0`,
      `${owner} ${T.PTR} ${C.IN} 300 ${PTR}`,
      `${owner} ${T.DHCID} ${C.IN} 300 000001aa`,
    ],
  });
  const interim = { ...NAME, guard: { type: T.TXT, rdata: Buffer.from('0431323334', 'hex') } };
  assert.deepEqual(sections(setReverse(1, '1.77.10.in-addr.arpa', interim)).upd, [
    `${owner} ${T.PTR} ${C.ANY} 0`,
    `${owner} ${T.PTR} ${C.IN} 300 ${PTR}`,
  ]);
});

test('remove: our A (NONE A rdata) if the DHCID is ours; the name if no A or AAAA is left; the PTR if it names us', () => {
  assert.deepEqual(sections(removeAddress(1, 'example.com', NAME)), {
    zone: 'example.com',
    pre: [`host1.example.com ${T.DHCID} ${C.IN} 0 000001aa`],
    upd: [`host1.example.com ${T.A} ${C.NONE} 0 ${A}`],
  });
  assert.deepEqual(sections(removeName(1, 'example.com', NAME)), {
    zone: 'example.com',
    pre: [
      `host1.example.com ${T.DHCID} ${C.IN} 0 000001aa`,
      `host1.example.com ${T.A} ${C.NONE} 0`,
      `host1.example.com ${T.AAAA} ${C.NONE} 0`,
    ],
    upd: [`host1.example.com ${T.ANY} ${C.ANY} 0`],
  });
  assert.deepEqual(sections(removeReverse(1, '1.77.10.in-addr.arpa', NAME)), {
    zone: '1.77.10.in-addr.arpa',
    pre: [`100.1.77.10.in-addr.arpa ${T.PTR} ${C.IN} 0 ${PTR}`],
    upd: [`100.1.77.10.in-addr.arpa ${T.ANY} ${C.ANY} 0`],
  });
});

test('TTL: a third of the lease, from 60 s to an hour', () => {
  assert.equal(recordTtl(40), 60);
  assert.equal(recordTtl(900), 300);
  assert.equal(recordTtl(86400), 3600);
  assert.equal(recordTtl(null), 3600);
});

/** A UDP server on loopback that answers with `reply(request)` (nothing when it returns null). */
async function udpServer(reply: (request: Buffer) => Buffer | null): Promise<{ port: number; close: () => void }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, from) => {
    const answer = reply(msg);
    if (answer) socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => socket.close() };
}

/** The request turned into an answer: QR set, and the given flags (TC 0x0200). */
function answerTo(request: Buffer, flags = 0): Buffer {
  const answer = Buffer.from(request);
  answer.writeUInt16BE(0x8000 | flags | (request.readUInt16BE(2) & 0x7800), 2);
  return answer;
}

test('exchange: UDP answer matched by ID; a truncated one asked again over TCP', async () => {
  const request = encodeUpdate(addName(0x5151, 'example.com', NAME));
  const stray = Buffer.from(request);
  stray.writeUInt16BE(0x1111, 0); // another ID first: ignored
  const udp = await udpServer((msg) => answerTo(msg));
  try {
    const result = await dnsExchange({ address: '127.0.0.1', port: udp.port }, request, 1000);
    assert.ok(result.ok);
    assert.equal(result.tcp, false);
    assert.equal(result.answer.readUInt16BE(0), 0x5151);
  } finally {
    udp.close();
  }
  // TC over UDP, the whole answer over TCP on the same port.
  let tcpRequests = 0;
  const tcp = net.createServer((conn) => {
    let got = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        tcpRequests++;
        const answer = answerTo(got.subarray(2));
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(answer.length, 0);
        // In two pieces: the reader must join them.
        conn.write(Buffer.concat([prefix, answer.subarray(0, 5)]));
        setTimeout(() => conn.end(answer.subarray(5)), 20);
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as AddressInfo).port;
  const truncating = dgram.createSocket('udp4');
  truncating.on('message', (msg, from) => {
    truncating.send(stray.subarray(0, 12), from.port, from.address);
    truncating.send(answerTo(msg, 0x0200).subarray(0, 12), from.port, from.address);
  });
  await new Promise<void>((resolve) => truncating.bind(port, '127.0.0.1', resolve));
  try {
    const result = await dnsExchange({ address: '127.0.0.1', port }, request, 1000);
    assert.ok(result.ok, !result.ok ? result.message : '');
    assert.equal(result.tcp, true);
    assert.equal(tcpRequests, 1);
    assert.deepEqual(result.answer.subarray(12), request.subarray(12));
  } finally {
    truncating.close();
    tcp.close();
  }
});

test('exchange: a refused port and a silent server are results, not exceptions', async () => {
  const request = encodeUpdate(addName(7, 'example.com', NAME));
  // A port nobody listens on: the kernel's ICMP port unreachable.
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const closedPort = probe.address().port;
  probe.close();
  const refused = await dnsExchange({ address: '127.0.0.1', port: closedPort }, request, 1000);
  assert.deepEqual(refused, { ok: false, error: 'refused', message: 'ECONNREFUSED' });
  const silent = await udpServer(() => null);
  try {
    const started = Date.now();
    const timeout = await dnsExchange({ address: '127.0.0.1', port: silent.port }, request, 200);
    assert.equal(timeout.ok, false);
    assert.equal(!timeout.ok && timeout.error, 'timeout');
    assert.ok(Date.now() - started >= 190);
  } finally {
    silent.close();
  }
});
