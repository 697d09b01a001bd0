// In-process flow tests: a fake client drives the real server (real codec, real configuration files,
// real SQLite store in a temp directory) through a transport that records what would have been sent,
// with a fake clock. Kea's Dhcp4Client (doDORA, doRequest, …) is the model.
import { ddnsStatus } from '../../src/ddns/status';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { decode, encode } from '../../src/codec';
import { encodeOptionValue } from '../../src/codec/options';
import { BOOTREQUEST, DhcpPacket, FLAG_BROADCAST, MessageType } from '../../src/codec/types';
import { networkLookupOf } from '../../src/admin/load';
import { loadConfig } from '../../src/config/load';
import { ControlApi } from '../../src/control/api';
import { networkUse } from '../../src/server/status';
import type { Config } from '../../src/config/types';
import type { PingChecker } from '../../src/alloc/allocator';
import type { Destination, Inbound, ReplyTransport } from '../../src/io/transport';
import { DhcpServer } from '../../src/server/server';
import { Store } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';

export const SERVER_A = ip('10.77.1.1');
export const SERVER_B = ip('10.77.2.1');
export const RELAY_SIDE = ip('10.77.9.1');

/** A configuration directory written from strings (file name → content). */
export function writeConfig(files: Record<string, string>): string {
  const dir = tempDir('joind-flow-config-');
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

/** The standard test configuration: two on-link networks and one behind a relay. */
export const BASE_FILES = {
  'server.pcy': 'ping_timeout 0\nprovisional_ttl 60\nfree_list_size 4\ndefault_ttl 3600\n',
  netmasks: '10.77.1.0 255.255.255.0\n10.77.2.0 255.255.255.0\n10.77.3.0 255.255.255.0\n10.77.9.0 255.255.255.0\n',
  nets: '10.77.1.0 10.77.1.1 10.77.1.100-10.77.1.109\n10.77.2.0 10.77.1.1 10.77.2.100-10.77.2.109\n10.77.3.0 10.77.1.1 10.77.3.100-10.77.3.109\n',
  dhcpcap: [
    '.site:dn=lab.example:ds=10.77.1.1 10.77.1.2:',
    'neta:nw=10.77.1.0:sm=255.255.255.0:gw=10.77.1.1:lt=600:t1=300:t2=525:tc=.site:',
    'netb:nw=10.77.2.0:sm=255.255.255.0:gw=10.77.2.1:tc=.site:',
    'netc:nw=10.77.3.0:sm=255.255.255.0:gw=10.77.3.1:lt=1200:tc=.site:',
    '',
  ].join('\n'),
} satisfies Record<string, string>;

export class RecordingTransport implements ReplyTransport {
  readonly sent: Array<{ packet: DhcpPacket; bytes: Buffer; dest: Destination }> = [];
  constructor(readonly directUnicast = true) {}
  async start(): Promise<void> {}
  send(data: Buffer, dest: Destination): void {
    const decoded = decode(data);
    if (!decoded.ok) throw new Error(`server sent an undecodable packet: ${decoded.error.message}`);
    this.sent.push({ packet: decoded.packet, bytes: data, dest });
  }
  localAddressFor(): number | undefined {
    return RELAY_SIDE;
  }
  async close(): Promise<void> {}
  take(): Array<{ packet: DhcpPacket; bytes: Buffer; dest: Destination }> {
    return this.sent.splice(0, this.sent.length);
  }
}

/** Addresses that "answer" the ping check. */
export class FakePinger implements PingChecker {
  readonly alive = new Set<number>();
  readonly checked: number[] = [];
  check(address: number): Promise<boolean> {
    this.checked.push(address);
    return Promise.resolve(this.alive.has(address));
  }
}

export interface Bed {
  server: DhcpServer;
  store: Store;
  transport: RecordingTransport;
  pinger: FakePinger;
  config: Config;
  clock: { now: number };
  configDir: string;
  spoolDir: string;
  names: Map<number, string>;
  close(): void;
}

export function makeBed(overrides: Record<string, string> = {}, opts: { pinger?: boolean } = {}): Bed {
  const configDir = writeConfig({ ...BASE_FILES, ...overrides });
  const loaded = loadConfig(configDir, { self: { hostname: 'joind-test', addresses: [SERVER_A, SERVER_B, RELAY_SIDE] } });
  if (!loaded.ok) throw new Error(`test configuration invalid: ${JSON.stringify(loaded.problems)}`);
  const spoolDir = tempDir('joind-flow-spool-');
  const store = Store.open({ spoolDir, durable: false });
  const transport = new RecordingTransport();
  const pinger = new FakePinger();
  const clock = { now: Date.UTC(2026, 10, 23, 12, 0, 0) };
  const names = new Map<number, string>();
  const server = new DhcpServer({
    config: loaded.config,
    store,
    transport,
    pinger: opts.pinger === false ? null : pinger,
    log: pino({ level: 'silent' }),
    clock: () => clock.now,
    reverseLookup: (a) => Promise.resolve(names.get(a) ?? null),
    forwardLookup: (n) => Promise.resolve([...names.entries()].filter(([, v]) => v === n.split('.')[0]).map(([k]) => k)),
  });
  return {
    server,
    store,
    transport,
    pinger,
    config: loaded.config,
    clock,
    configDir,
    spoolDir,
    names,
    close: () => store.close(),
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

export interface SendOptions {
  /** Interface the request arrives on: link A (10.77.1.1) unless relayed or set. */
  link?: number;
  broadcast?: boolean;
  /** Sent to the server's own address (a renewal), not broadcast. */
  unicast?: boolean;
}

/** A DHCP client, as Kea's Dhcp4Client: builds requests and sends them through the bed's server. */
export class FakeClient {
  xid = Math.floor(Math.random() * 0xffffffff) >>> 0;
  ciaddr = 0;
  giaddr = 0;
  flags = 0;
  extraOptions = new Map<number, Buffer>();
  constructor(
    readonly bed: Bed,
    readonly mac: Buffer,
    readonly clientId?: Buffer,
  ) {}

  static withMac(bed: Bed, last: number, clientId?: Buffer): FakeClient {
    return new FakeClient(bed, Buffer.from([0x02, 0x77, 0, 0, 1, last]), clientId);
  }

  packet(type: MessageType | undefined, options: Array<[number, unknown]> = []): DhcpPacket {
    const opts = new Map<number, Buffer>();
    if (type !== undefined) opts.set(53, Buffer.from([type]));
    if (this.clientId) opts.set(61, this.clientId);
    for (const [code, value] of options) opts.set(code, encodeOptionValue(code, value as never));
    for (const [code, value] of this.extraOptions) opts.set(code, value);
    const chaddr = Buffer.alloc(16);
    this.mac.copy(chaddr);
    return {
      op: BOOTREQUEST,
      htype: 1,
      hlen: 6,
      hops: this.giaddr ? 1 : 0,
      xid: this.xid,
      secs: 0,
      flags: this.flags,
      ciaddr: this.ciaddr,
      yiaddr: 0,
      siaddr: 0,
      giaddr: this.giaddr,
      chaddr,
      sname: '',
      file: '',
      options: opts,
      hasMagicCookie: true,
    };
  }

  /** Sends a request and returns what the server sent back (after the group commit). */
  async send(pkt: DhcpPacket, opts: SendOptions = {}): Promise<Array<{ packet: DhcpPacket; bytes: Buffer; dest: Destination }>> {
    const link = opts.link ?? SERVER_A;
    const inbound: Inbound = pkt.giaddr
      ? {
          data: encode(pkt),
          srcIp: pkt.giaddr,
          srcPort: 67,
          dstIp: RELAY_SIDE,
          ifname: 'veth-r',
          interfaceAddresses: [{ address: RELAY_SIDE, prefixLength: 24 }],
        }
      : {
          data: encode(pkt, { minSize: 300 }),
          srcIp: this.ciaddr,
          srcPort: 68,
          dstIp: opts.unicast ? link : 0xffffffff,
          ifname: link === SERVER_A ? 'veth-a' : 'veth-b',
          interfaceAddresses: [{ address: link, prefixLength: 24 }],
        };
    await this.bed.server.handle(inbound);
    await turn();
    await turn();
    return this.bed.transport.take();
  }

  /**
   * Sends a request that must go unanswered, and checks why: exactly one more drop, for `reason`
   * (a test that expects silence says why the packet was dropped).
   */
  async expectDrop(pkt: DhcpPacket, reason: string, opts: SendOptions = {}): Promise<void> {
    const before = { ...this.bed.server.counters.dropped };
    const replies = await this.send(pkt, opts);
    assert.equal(replies.length, 0, `expected no reply (${reason})`);
    const grown: Record<string, number> = {};
    for (const [r, n] of Object.entries(this.bed.server.counters.dropped))
      if (n !== (before[r] ?? 0)) grown[r] = n - (before[r] ?? 0);
    assert.deepEqual(grown, { [reason]: 1 }, 'dropped for this reason, once');
  }

  async discover(options: Array<[number, unknown]> = [], opts: SendOptions = {}): Promise<DhcpPacket | undefined> {
    const replies = await this.send(this.packet(MessageType.DISCOVER, options), opts);
    return replies[0]?.packet;
  }

  /** REQUEST in SELECTING state for an offer. */
  async select(
    offer: DhcpPacket,
    options: Array<[number, unknown]> = [],
    opts: SendOptions = {},
  ): Promise<DhcpPacket | undefined> {
    const serverId = offer.options.get(54)!.readUInt32BE(0);
    const replies = await this.send(this.packet(MessageType.REQUEST, [[50, offer.yiaddr], [54, serverId], ...options]), opts);
    return replies[0]?.packet;
  }

  async dora(options: Array<[number, unknown]> = [], opts: SendOptions = {}): Promise<DhcpPacket | undefined> {
    const offer = await this.discover(options, opts);
    if (!offer) return undefined;
    const ack = await this.select(offer, options, opts);
    if (ack && ack.options.get(53)?.[0] === MessageType.ACK) this.ciaddr = ack.yiaddr;
    return ack;
  }

  broadcastFlag(on: boolean): void {
    this.flags = on ? FLAG_BROADCAST : 0;
  }
}

export function optU32(p: DhcpPacket | undefined, code: number): number | undefined {
  const v = p?.options.get(code);
  return v && v.length >= 4 ? v.readUInt32BE(0) : undefined;
}

export function msgType(p: DhcpPacket | undefined): number | undefined {
  return p?.options.get(53)?.[0];
}

/** The control API over a bed's server and store, as the daemon wires it. */
export function apiOf(bed: Bed): ControlApi {
  return new ControlApi({
    version: 'test',
    log: pino({ level: 'silent' }),
    nowMs: () => bed.clock.now,
    server: () => bed.server,
    store: () => bed.store,
    networks: () => networkUse(bed.config.networks, bed.server, bed.store, bed.clock.now),
    networkLookup: () => networkLookupOf(bed.config),
    status: () => ({}),
    failover: () => null,
    ddns: (limit) => ddnsStatus(bed.store, null, null, limit),
    failoverPartnerDown: () => null,
    reload: () => {
      const loaded = loadConfig(bed.configDir);
      return loaded.ok ? { ok: true, needsRestart: [] } : { ok: false, problems: loaded.problems };
    },
    history: () => [],
  });
}

/** One control API call, with its JSON answer. */
export async function callApi(
  api: ControlApi,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const reply = await api.handle({
    method,
    url: new URL(url, 'http://joind'),
    body: body === undefined ? '' : JSON.stringify(body),
  });
  return { status: reply.status, json: JSON.parse(reply.body.toString()) as Record<string, unknown> };
}
