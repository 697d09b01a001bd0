// What every message handler gets: the decoded request, where it came from, the client's network, pool
// and parameters, and the services it may use. Handlers return an Outcome: the reply to send, a drop
// with its reason (silence the metrics count), or NO_REPLY where the protocol wants none. They never
// touch sockets.
import type { DhcpPacket } from '../codec/types';
import type { CapEntry, Config, NetworkConfig, RangeRule, TagValue } from '../config/types';
import type { Inbound, Destination } from '../io/transport';
import type { Allocator, ClientContext } from '../alloc/allocator';
import type { NetworkPool } from '../alloc/pool';
import type { Namer } from '../naming/namer';
import type { Store } from '../store/store';
import type { Logger } from '../log/logger';

export interface ClientParams {
  /** Merged dhcpcap tags for this client on this network. */
  tags: ReadonlyMap<string, TagValue>;
  /** Option code → value, derived from tags. */
  options: ReadonlyMap<number, TagValue>;
  /** The client's own host entry, when it has one. */
  hostEntry?: CapEntry;
}

export interface RequestContext {
  request: DhcpPacket;
  inbound: Inbound;
  /** Message type (option 53), or undefined for a BOOTP request. */
  type: number | undefined;
  nowMs: number;
  config: Config;
  network: NetworkConfig;
  pool: NetworkPool;
  client: ClientContext;
  params: ClientParams;
  /** Our address as the client should see it (option 54). */
  serverId: number;
  /** Whether the request came through a relay (giaddr set). */
  relayed: boolean;
}

export interface Services {
  store: Store;
  allocator: Allocator;
  namer: Namer;
  log: Logger;
  /** Whether the transport can unicast to a client that has no address yet. */
  directUnicast: boolean;
  /** Whether addresses are pinged before an offer (a pinger is available and ping_timeout > 0). */
  pingEnabled: boolean;
  /** Whether the address is one of our server identifiers. */
  isOurServerId(address: number): boolean;
  /** The failover relationship's say over clients of its ranges (null: no failover). */
  readonly pair: PairGate | null;
}

/** What the packet path asks of the failover engine (src/pair/engine.ts). */
export interface PairGate {
  /** Which clients this server serves now ('none': it may not allocate in the pair's ranges). */
  service(): 'cooperating' | 'own-free' | 'all' | 'none';
  /** Whether this server, not its peer, answers a client with this load-balancing key and secs. */
  answersClient(key: Uint8Array, secs: number): boolean;
  /** A client the peer is not serving (REBINDING: secs null; or still asking for the peer's offer). */
  peerNotServing(key: Uint8Array, secs: number | null): void;
  /** The maximum client lead time in force, seconds. */
  mclt(): number;
  /** How long a first lease may wait for the peer's acknowledgement, milliseconds (0: never). */
  ackWaitMs(): number;
  /** Resolves whether the peer acknowledged the address up to `tstp` within `ms`. */
  awaitAck(address: number, tstp: number, ms: number): Promise<boolean>;
}

export interface Reply {
  packet: DhcpPacket;
  dest: Destination;
  /** Our address as the client sees it (option 54): the transport sends from it. */
  serverId: number;
  /** The reply may leave only once the batch it depends on is on disk. */
  durable: boolean;
  /** Encode with this minimum size (BOOTP) and maximum (option 57). */
  minSize?: number;
  maxSize?: number;
  /** For the log line. */
  event: 'DHCP_OFFER' | 'DHCP_ACK' | 'DHCP_NAK' | 'BOOTP_REPLY' | 'DHCP_INFORM';
  detail?: Record<string, unknown>;
}

/** A request left unanswered, and why: counted by reason (joind_pkt4_dropped_total) and logged. */
export interface Drop {
  readonly dropped: string;
  readonly fields?: Record<string, unknown>;
}

export function drop(reason: string, fields?: Record<string, unknown>): Drop {
  return fields === undefined ? { dropped: reason } : { dropped: reason, fields };
}

/**
 * Whether a client may be given a new address on its network: always, unless its entries say `kn`
 * (known clients only, dhcpd's deny unknown-clients), and then only with a dhcpcap host entry or a
 * registration (joind register). A lease it holds already is its own either way.
 */
export function mayAllocate(ctx: RequestContext, svc: Services): boolean {
  if (ctx.params.tags.get('kn') !== true || ctx.params.hostEntry) return true;
  return svc.store.registered.isRegistered(ctx.client.htype, ctx.client.hwaddr);
}

/** What a range rule asks of a client, each part answered only when a rule asks it. */
export interface RangeClaimant {
  /** A dhcpcap host entry or a registration (joind register): dhcpd's known client. */
  known(): boolean;
  /** A BOOTP request (no DHCP message type): an allocation for it is dynamic BOOTP. */
  bootp: boolean;
  /** Whether the client is a member of the class entry with this label. */
  member(label: string): boolean;
}

/**
 * Whether a client may be given a new address from the ranges of a rule (a dhcpcap range entry), as
 * dhcpd's pool permits: kn/ku known or unknown clients only, nb no dynamic BOOTP, am members of one of
 * the classes only, dm no member of any.
 */
export function admitsClient(rule: RangeRule, who: RangeClaimant): boolean {
  if (rule.noDynamicBootp && who.bootp) return false;
  if ((rule.knownOnly || rule.unknownOnly) && who.known() !== rule.knownOnly) return false;
  if (rule.allowMembers.length > 0 && !rule.allowMembers.some((label) => who.member(label))) return false;
  return !rule.denyMembers.some((label) => who.member(label));
}

/** Handled, and the protocol wants no reply (DHCPRELEASE, DHCPDECLINE): neither sent nor dropped. */
export const NO_REPLY = Object.freeze({ noReply: true as const });

export type Outcome = Reply | Drop | typeof NO_REPLY;

export function isReply(outcome: Outcome | null): outcome is Reply {
  return outcome !== null && 'packet' in outcome;
}

export type Handler = (ctx: RequestContext, svc: Services) => Outcome | Promise<Outcome>;
