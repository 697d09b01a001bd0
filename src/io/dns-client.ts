// One DNS exchange with one server: the request over UDP from a fresh socket (a random source port,
// RFC 5452), the answer matched by source and ID; a truncated answer (TC) is asked again over TCP, with
// the two-octet length prefix (RFC 1035 4.2.2). A refused port (ICMP) and a timeout are results, not
// exceptions: the DNS job that asked retries later.
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';

export interface DnsServer {
  address: string;
  port: number;
}

export type ExchangeResult =
  { ok: true; answer: Buffer; tcp: boolean } | { ok: false; error: 'timeout' | 'refused' | 'network'; message: string };

/** Sends `request` (whose first two octets are its ID) and waits at most `timeoutMs` for the answer. */
export async function dnsExchange(server: DnsServer, request: Buffer, timeoutMs: number): Promise<ExchangeResult> {
  const udp = await exchangeUdp(server, request, timeoutMs);
  if (!udp.ok || (udp.answer.readUInt16BE(2) & 0x0200) === 0) return udp;
  return exchangeTcp(server, request, timeoutMs);
}

function failure(err: NodeJS.ErrnoException): ExchangeResult {
  const refused = err.code === 'ECONNREFUSED';
  return { ok: false, error: refused ? 'refused' : 'network', message: err.code ?? err.message };
}

function exchangeUdp(server: DnsServer, request: Buffer, timeoutMs: number): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const id = request.readUInt16BE(0);
    let done = false;
    const finish = (result: ExchangeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout', message: `no answer in ${timeoutMs} ms` }), timeoutMs);
    socket.on('error', (err) => finish(failure(err)));
    // Connected: only the server's datagrams arrive, and its ICMP port unreachable comes back as an error.
    socket.on('message', (answer) => {
      if (answer.length >= 12 && answer.readUInt16BE(0) === id) finish({ ok: true, answer, tcp: false });
    });
    socket.connect(server.port, server.address, () => socket.send(request));
  });
}

function exchangeTcp(server: DnsServer, request: Buffer, timeoutMs: number): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: server.address, port: server.port });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (result: ExchangeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, error: 'timeout', message: `no answer over TCP in ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on('error', (err) => finish(failure(err)));
    socket.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(request.length, 0);
      socket.write(Buffer.concat([prefix, request]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length >= 2 + length) finish({ ok: true, answer: received.subarray(2, 2 + length), tcp: true });
    });
    socket.on('end', () =>
      finish({ ok: false, error: 'network', message: 'the server closed the TCP connection before answering' }),
    );
  });
}

/**
 * The first IPv4 name server of the system's resolver (resolv.conf, as node reads it): whom joind asks
 * for a zone's SOA when no ddns_server is configured. Null when there is none.
 */
export function systemNameServer(): DnsServer | null {
  for (const entry of dns.getServers()) {
    // "a.b.c.d" or "a.b.c.d:port"; IPv6 entries ("::1", "[::1]:53") are left out: the worker speaks IPv4.
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(entry);
    if (m) return { address: m[1]!, port: m[2] ? Number(m[2]) : 53 };
  }
  return null;
}

/** An IPv4 address of a host name through the system resolver (the SOA's primary master), or null. */
export async function lookupIpv4(name: string): Promise<string | null> {
  try {
    return (await dns.promises.lookup(name, { family: 4 })).address;
  } catch {
    return null;
  }
}
