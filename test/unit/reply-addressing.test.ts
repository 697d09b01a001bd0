// Where a reply goes (src/server/addressing.ts, through buildReply in src/server/reply.ts): the table of
// RFC 2131 section 4.1 for DHCP, RFC 2131 4.3.5 for DHCPINFORM, RFC 951 / RFC 1542 section 5.4 for BOOTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ClientContext, Allocator } from '../../src/alloc/allocator';
import type { NetworkPool } from '../../src/alloc/pool';
import { BOOTREQUEST, DhcpPacket, FLAG_BROADCAST, MessageType } from '../../src/codec/types';
import { loadConfig } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import type { Destination, Inbound } from '../../src/io/transport';
import type { Namer } from '../../src/naming/namer';
import type { RequestContext, Services } from '../../src/server/context';
import { buildReply } from '../../src/server/reply';
import { networkOf } from '../../src/server/subnet';
import type { Store } from '../../src/store/store';
import { ip, ipToString } from '../../src/util/ipv4';
import { BASE_FILES, RELAY_SIDE, SERVER_A, SERVER_B, writeConfig } from '../flow/harness';

const CONFIG: Config = (() => {
  const loaded = loadConfig(writeConfig(BASE_FILES), {
    self: { hostname: 'joind-test', addresses: [SERVER_A, SERVER_B, RELAY_SIDE] },
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.config;
})();

const MAC = Buffer.from('027700000101', 'hex');
const LINK = 'eth-a'; // the interface an unrelayed request arrives on
const RELAY_LINK = 'eth-r'; // the interface the relays' packets arrive on
const RELAY = ip('10.77.3.1'); // a relay agent (giaddr) on network C
const CLIENT = ip('10.77.1.20'); // a client of network A that has its address (ciaddr)
const REMOTE_CLIENT = ip('10.77.3.20'); // the same behind the relay
const OFFERED = ip('10.77.1.100');
const LINK_BROADCAST = ip('10.77.1.255'); // network A's broadcast address: where UDP sockets broadcast

interface Row {
  name: string;
  /** The request's option 53, or undefined for a BOOTREQUEST without one. */
  request: MessageType | undefined;
  /** The reply's message type, or undefined for a BOOTREPLY. */
  reply: MessageType | undefined;
  yiaddr: number;
  giaddr?: number;
  ciaddr?: number;
  /** The client's broadcast bit. */
  broadcast?: boolean;
  /** The transport can unicast to a client without an address (raw sockets); default yes. */
  directUnicast?: boolean;
  /** The transport can tell the interface the request came in on (raw sockets); default yes. */
  knowsInterface?: boolean;
  forceBroadcastReply?: boolean;
  dest: Destination;
  /** The reply's flags field. */
  flags: number;
}

const toRelay: Destination = { kind: 'relay', ip: RELAY, port: 67 };
const toLink: Destination = { kind: 'broadcast', port: 68, ifname: LINK, directed: LINK_BROADCAST };
const toClient: Destination = { kind: 'unicast', ip: CLIENT, port: 68, ifname: LINK };
const toHardware = (yiaddr: number): Destination => ({ kind: 'unicast', ip: yiaddr, port: 68, mac: MAC, ifname: LINK });
const B = FLAG_BROADCAST;
const [DISCOVER, OFFER, REQUEST, ACK, NAK, INFORM] = [
  MessageType.DISCOVER,
  MessageType.OFFER,
  MessageType.REQUEST,
  MessageType.ACK,
  MessageType.NAK,
  MessageType.INFORM,
];

const ROWS: Row[] = [
  // giaddr non-zero: every reply to the relay's server port (RFC 2131 4.1, first rule).
  {
    name: 'relay: OFFER to giaddr:67',
    request: DISCOVER,
    reply: OFFER,
    yiaddr: ip('10.77.3.100'),
    giaddr: RELAY,
    dest: toRelay,
    flags: 0,
  },
  {
    name: 'relay, broadcast bit: still giaddr:67, the bit passed on for the relay',
    request: DISCOVER,
    reply: OFFER,
    yiaddr: ip('10.77.3.100'),
    giaddr: RELAY,
    broadcast: true,
    dest: toRelay,
    flags: B,
  },
  {
    name: 'relay with ciaddr (REBINDING through a relay): giaddr wins over ciaddr',
    request: REQUEST,
    reply: ACK,
    yiaddr: REMOTE_CLIENT,
    giaddr: RELAY,
    ciaddr: REMOTE_CLIENT,
    dest: toRelay,
    flags: 0,
  },
  // A DHCPNAK through a relay: to the relay, with the broadcast bit set (RFC 2131 4.3.2).
  {
    name: 'relay + NAK: giaddr:67, broadcast bit set',
    request: REQUEST,
    reply: NAK,
    yiaddr: 0,
    giaddr: RELAY,
    dest: toRelay,
    flags: B,
  },
  {
    name: 'relay + NAK with ciaddr: giaddr:67, broadcast bit set',
    request: REQUEST,
    reply: NAK,
    yiaddr: 0,
    giaddr: RELAY,
    ciaddr: REMOTE_CLIENT,
    dest: toRelay,
    flags: B,
  },
  // giaddr zero, ciaddr non-zero: unicast to ciaddr (the client answers ARP), whatever the broadcast bit.
  {
    name: 'ciaddr: ACK unicast to ciaddr:68',
    request: REQUEST,
    reply: ACK,
    yiaddr: CLIENT,
    ciaddr: CLIENT,
    dest: toClient,
    flags: 0,
  },
  {
    name: 'ciaddr with the broadcast bit: still ciaddr',
    request: REQUEST,
    reply: ACK,
    yiaddr: CLIENT,
    ciaddr: CLIENT,
    broadcast: true,
    dest: toClient,
    flags: B,
  },
  {
    name: 'ciaddr with force_broadcast_reply: still ciaddr',
    request: REQUEST,
    reply: ACK,
    yiaddr: CLIENT,
    ciaddr: CLIENT,
    forceBroadcastReply: true,
    dest: toClient,
    flags: 0,
  },
  // giaddr zero: every DHCPNAK broadcast (RFC 2131 4.1, last rule), ciaddr or not.
  { name: 'ciaddr + NAK: broadcast', request: REQUEST, reply: NAK, yiaddr: 0, ciaddr: CLIENT, dest: toLink, flags: 0 },
  { name: 'NAK without ciaddr (INIT-REBOOT): broadcast', request: REQUEST, reply: NAK, yiaddr: 0, dest: toLink, flags: 0 },
  // giaddr and ciaddr zero.
  {
    name: 'broadcast bit: OFFER broadcast',
    request: DISCOVER,
    reply: OFFER,
    yiaddr: OFFERED,
    broadcast: true,
    dest: toLink,
    flags: B,
  },
  {
    name: 'broadcast bit: ACK broadcast',
    request: REQUEST,
    reply: ACK,
    yiaddr: OFFERED,
    broadcast: true,
    dest: toLink,
    flags: B,
  },
  {
    name: 'no broadcast bit, direct unicast possible: OFFER to chaddr at yiaddr',
    request: DISCOVER,
    reply: OFFER,
    yiaddr: OFFERED,
    dest: toHardware(OFFERED),
    flags: 0,
  },
  {
    name: 'no broadcast bit, direct unicast possible: ACK to chaddr at yiaddr',
    request: REQUEST,
    reply: ACK,
    yiaddr: OFFERED,
    dest: toHardware(OFFERED),
    flags: 0,
  },
  {
    name: 'no broadcast bit, no direct unicast: broadcast',
    request: DISCOVER,
    reply: OFFER,
    yiaddr: OFFERED,
    directUnicast: false,
    dest: toLink,
    flags: 0,
  },
  {
    name: 'no broadcast bit, no direct unicast, interface unknown (UDP): to the link broadcast address',
    request: DISCOVER,
    reply: OFFER,
    yiaddr: OFFERED,
    directUnicast: false,
    knowsInterface: false,
    dest: { kind: 'broadcast', port: 68, directed: LINK_BROADCAST },
    flags: 0,
  },
  {
    name: 'no broadcast bit, force_broadcast_reply: broadcast',
    request: DISCOVER,
    reply: OFFER,
    yiaddr: OFFERED,
    forceBroadcastReply: true,
    dest: toLink,
    flags: 0,
  },
  // DHCPINFORM: the ACK goes directly to ciaddr (RFC 2131 4.3.5).
  { name: 'INFORM: ACK unicast to ciaddr', request: INFORM, reply: ACK, yiaddr: 0, ciaddr: CLIENT, dest: toClient, flags: 0 },
  {
    name: 'INFORM with the broadcast bit: still ciaddr',
    request: INFORM,
    reply: ACK,
    yiaddr: 0,
    ciaddr: CLIENT,
    broadcast: true,
    dest: toClient,
    flags: B,
  },
  {
    name: 'INFORM through a relay: directly to ciaddr, not through the relay',
    request: INFORM,
    reply: ACK,
    yiaddr: 0,
    giaddr: RELAY,
    ciaddr: REMOTE_CLIENT,
    dest: { kind: 'unicast', ip: REMOTE_CLIENT, port: 68 },
    flags: 0,
  },
  {
    name: 'INFORM through a relay without ciaddr: to the relay, broadcast bit set so it can deliver',
    request: INFORM,
    reply: ACK,
    yiaddr: 0,
    giaddr: RELAY,
    dest: toRelay,
    flags: B,
  },
  // BOOTP (RFC 951 section 7.2, RFC 1542 section 5.4).
  {
    name: 'BOOTP: to chaddr at yiaddr',
    request: undefined,
    reply: undefined,
    yiaddr: OFFERED,
    dest: toHardware(OFFERED),
    flags: 0,
  },
  {
    name: 'BOOTP, broadcast bit: broadcast',
    request: undefined,
    reply: undefined,
    yiaddr: OFFERED,
    broadcast: true,
    dest: toLink,
    flags: B,
  },
  {
    name: 'BOOTP, no direct unicast: broadcast',
    request: undefined,
    reply: undefined,
    yiaddr: OFFERED,
    directUnicast: false,
    dest: toLink,
    flags: 0,
  },
  {
    name: 'BOOTP, ciaddr: unicast to ciaddr',
    request: undefined,
    reply: undefined,
    yiaddr: CLIENT,
    ciaddr: CLIENT,
    dest: toClient,
    flags: 0,
  },
  {
    name: 'BOOTP, giaddr: the relay',
    request: undefined,
    reply: undefined,
    yiaddr: ip('10.77.3.100'),
    giaddr: RELAY,
    dest: toRelay,
    flags: 0,
  },
  {
    // RFC 1542 5.4: the server MAY ignore ciaddr and go on to giaddr.
    name: 'BOOTP, giaddr and ciaddr: the relay',
    request: undefined,
    reply: undefined,
    yiaddr: REMOTE_CLIENT,
    giaddr: RELAY,
    ciaddr: REMOTE_CLIENT,
    dest: toRelay,
    flags: 0,
  },
];

function requestOf(row: Row): DhcpPacket {
  const chaddr = Buffer.alloc(16);
  MAC.copy(chaddr);
  const options = new Map<number, Buffer>();
  if (row.request !== undefined) options.set(53, Buffer.from([row.request]));
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: row.giaddr ? 1 : 0,
    xid: 0x1234,
    secs: 0,
    flags: row.broadcast ? FLAG_BROADCAST : 0,
    ciaddr: row.ciaddr ?? 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: row.giaddr ?? 0,
    chaddr,
    sname: '',
    file: '',
    options,
    hasMagicCookie: row.request !== undefined,
  };
}

function inboundOf(row: Row, request: DhcpPacket): Inbound {
  const relayed = request.giaddr !== 0;
  return {
    data: Buffer.alloc(0), // buildReply works on the decoded request
    srcIp: relayed ? request.giaddr : request.ciaddr,
    srcPort: relayed ? 67 : 68,
    ...(row.knowsInterface === false ? {} : { ifname: relayed ? RELAY_LINK : LINK }),
  };
}

function reply(row: Row) {
  const request = requestOf(row);
  const config: Config = { ...CONFIG, policy: { ...CONFIG.policy, force_broadcast_reply: row.forceBroadcastReply ?? false } };
  const network = networkOf(config, request.giaddr || SERVER_A);
  assert.ok(network);
  const ctx: RequestContext = {
    request,
    inbound: inboundOf(row, request),
    type: row.request,
    nowMs: 0,
    config,
    network,
    // buildReply reads neither: they are the allocator's.
    pool: {} as NetworkPool,
    client: {} as ClientContext,
    params: { tags: new Map(), options: new Map() },
    serverId: SERVER_A,
    relayed: request.giaddr !== 0,
  };
  const svc: Services = {
    store: {} as Store,
    allocator: {} as Allocator,
    namer: {} as Namer,
    log: pino({ level: 'silent' }),
    pair: null,
    directUnicast: row.directUnicast ?? true,
    pingEnabled: false,
    isOurServerId: () => false,
  };
  return buildReply(ctx, svc, {
    type: row.reply,
    yiaddr: row.yiaddr,
    includeConfigured: false,
    durable: false,
    event: 'DHCP_ACK',
  });
}

/** "name: kind ip=a.b.c.d port=67 … flags=0x8000", with every field of the destination. */
function line(name: string, dest: Destination, flags: number): string {
  const fields = Object.entries(dest)
    .filter(([key]) => key !== 'kind')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => {
      if (Buffer.isBuffer(value)) return `${key}=${value.toString('hex')}`;
      if (key === 'ip' || key === 'directed') return `${key}=${ipToString(value as number)}`;
      return `${key}=${String(value)}`;
    });
  return `${name}: ${[dest.kind, ...fields].join(' ')} flags=0x${flags.toString(16).padStart(4, '0')}`;
}

test('reply addressing: RFC 2131 4.1 (and 4.3.2, 4.3.5), RFC 951 / RFC 1542 5.4, row by row', () => {
  // Every row at once, one line each, so that a failure names each row that differs.
  assert.deepEqual(
    ROWS.map((row) => {
      const r = reply(row);
      return line(row.name, r.dest, r.packet.flags);
    }),
    ROWS.map((row) => line(row.name, row.dest, row.flags)),
  );
  // The lines hold every field; the objects themselves too, to be sure of it.
  for (const row of ROWS) assert.deepEqual(reply(row).dest, row.dest, row.name);
});
