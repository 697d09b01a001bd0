// The DHCP/BOOTP server. A packet goes through four named stages (process):
//   admit        decode it, check it is a client message we serve, apply the rate limits and the
//                registered-clients rule, pick the handler of its message type;
//   locate       find the client's network (subnet.ts) and the pool of our ranges in it;
//   contextualise build the client's context: its key, dhcpcap parameters, static address, server id;
//   dispatch     run the handler (src/server/handlers, one per message type).
// Every stage and handler ends in an Outcome: a reply (sent once what it depends on is on disk), a
// drop with its reason (counted by reason, joind_pkt4_dropped_total, and logged as PACKET_DROP), or no
// reply because the protocol wants none (DHCPRELEASE, DHCPDECLINE). This file holds no policy beyond
// the dispatch. It owns the running configuration: applyConfig puts one in force, currentConfig reads it.
import { clientIdentifier, decode, encode, hardwareAddress, messageType, requestedAddress, vendorClass } from '../codec';
import { BOOTREQUEST, DhcpPacket, MessageType } from '../codec/types';
import type { ClientQuery, Config, NetworkConfig } from '../config/types';
import { findBindingsByHardware, findStaticBinding, isClassMember, resolveClientParams } from '../config/lookup';
import { Allocator } from '../alloc/allocator';
import { clientKeyOf } from '../alloc/client-key';
import { LeaseOwner } from '../alloc/lease-owner';
import { DdnsQueue } from '../ddns/queue';
import { ddnsPolicyOf } from '../ddns/names';
import { PingChecker, PingGate } from '../alloc/ping-gate';
import type { Admits, NetworkPool } from '../alloc/pool';
import type { Destination, Inbound, ReplyTransport } from '../io/transport';
import { eventEnabled, logEvent, Logger } from '../log/logger';
import { ForwardLookup, Namer, ReverseLookup } from '../naming/namer';
import type { ShiftedRows } from '../store/clock';
import type { Store } from '../store/store';
import { LeaseState, type ClientKey } from '../store/types';
import { inNetwork, ipToString, hexColons } from '../util/ipv4';
import {
  admitsClient,
  drop,
  Drop,
  isReply,
  type ClientParams,
  type Handler,
  type PairGate,
  type Outcome,
  type RangeClaimant,
  type Reply,
  type RequestContext,
  type Services,
} from './context';
import { handleBootp } from './handlers/bootp';
import { handleDecline } from './handlers/decline';
import { handleDiscover } from './handlers/discover';
import { handleInform } from './handlers/inform';
import { handleRelease } from './handlers/release';
import { handleRequest } from './handlers/request';
import { configuredOptions } from './options';
import { RateLimiter } from './rate-limit';
import { NetworkChoice, selectNetwork } from './subnet';

const HANDLERS: Partial<Record<MessageType, Handler>> = {
  [MessageType.DISCOVER]: handleDiscover,
  [MessageType.REQUEST]: handleRequest,
  [MessageType.DECLINE]: handleDecline,
  [MessageType.RELEASE]: handleRelease,
  [MessageType.INFORM]: handleInform,
};

const TYPE_NAMES: Record<number, string> = {
  1: 'discover',
  2: 'offer',
  3: 'request',
  4: 'decline',
  5: 'ack',
  6: 'nak',
  7: 'release',
  8: 'inform',
};

export interface ServerOptions {
  config: Config;
  store: Store;
  transport: ReplyTransport;
  pinger: PingChecker | null;
  log: Logger;
  /** Milliseconds since the epoch; a fake clock in tests. */
  clock?: () => number;
  reverseLookup: ReverseLookup;
  forwardLookup: ForwardLookup;
}

/** Counters named after Kea's statistics (pkt4-received, pkt4-parse-failed, …). */
export interface ServerCounters {
  received: number;
  receivedByType: Record<string, number>;
  parseFailed: Record<string, number>;
  dropped: Record<string, number>;
  sent: Record<string, number>;
  sendFailed: number;
  handlerErrors: number;
}

/** Counters before the first packet. */
export function emptyServerCounters(): ServerCounters {
  return { received: 0, receivedByType: {}, parseFailed: {}, dropped: {}, sent: {}, sendFailed: 0, handlerErrors: 0 };
}

/** What admit() hands on: the decoded request and the handler of its message type. */
interface Admitted {
  request: DhcpPacket;
  type: number | undefined;
  typeName: string;
  handler: Handler;
  hwaddr: Buffer;
}

/** What locate() hands on: the client's network, and the pool of our ranges in it. */
interface Located {
  choice: NetworkChoice & { ok: true };
  pool: NetworkPool;
}

export class DhcpServer {
  readonly counters: ServerCounters = emptyServerCounters();
  /** The one writer of lease records, and the owner of the pools that cache them. */
  readonly leases: LeaseOwner;
  /** Dynamic DNS jobs, written with the leases they follow (the daemon's worker sends them). */
  readonly ddns: DdnsQueue;
  readonly allocator: Allocator;
  private readonly ping: PingGate;
  private readonly namer: Namer;
  private config!: Config;
  private ourServerIds = new Set<number>();
  private readonly clock: () => number;
  private readonly services: Services;
  private readonly pairHolder: { gate: PairGate | null } = { gate: null };
  private readonly limiter = new RateLimiter(0, 0);
  /** Per network: when POOL_EXHAUSTED was last logged and how many since (a flood must not flood the log). */
  private readonly exhaustedLog = new Map<number, { at: number; suppressed: number }>();

  constructor(private readonly opts: ServerOptions) {
    this.clock = opts.clock ?? Date.now;
    this.leases = new LeaseOwner(opts.store, () => this.config.policy.auto_release);
    this.leases.onRollback = (err) => logEvent(opts.log, 'STORE_COMMIT_FAILED', { err: err.message });
    this.ddns = new DdnsQueue(opts.store, () => ddnsPolicyOf(this.config), this.clock);
    this.leases.attachDns(this.ddns);
    this.ping = new PingGate(opts.pinger, () => this.config.policy.ping_timeout);
    this.allocator = new Allocator(opts.store, this.leases, this.ping, this.clock, () => this.config.policy.bp_auto_extension);
    this.allocator.onEvent = (event, detail) => {
      const fields = {
        network: ipToString(detail.network),
        ...(detail.address !== undefined ? { address: ipToString(detail.address) } : {}),
      };
      if (event === 'ping-conflict') return logEvent(opts.log, 'PING_CONFLICT', fields);
      if (event === 'bootp-extended') {
        return logEvent(opts.log, 'BOOTP_EXTENDED', { ...fields, seconds: this.config.policy.bp_auto_extension });
      }
      // At most one line per network every 10 s, with the number of clients turned away meanwhile.
      const now = this.clock();
      const last = this.exhaustedLog.get(detail.network);
      if (last && now - last.at < 10_000) {
        last.suppressed++;
        return;
      }
      logEvent(opts.log, 'POOL_EXHAUSTED', { ...fields, alsoSince: last?.suppressed ?? 0 });
      this.exhaustedLog.set(detail.network, { at: now, suppressed: 0 });
    };
    this.namer = new Namer(opts.store, opts.reverseLookup, opts.forwardLookup);
    opts.store.onCheckpointError = (message) => logEvent(opts.log, 'STORE_CHECKPOINT_FAILED', { err: message });
    opts.store.onFaultChange = (err) => {
      if (err) logEvent(opts.log, 'STORE_UNWRITABLE', { err: err.message, code: (err as { code?: string }).code });
      else logEvent(opts.log, 'STORE_WRITABLE', {});
    };
    const ping = this.ping;
    const pair = this.pairHolder;
    this.services = {
      store: opts.store,
      allocator: this.allocator,
      namer: this.namer,
      log: opts.log,
      directUnicast: opts.transport.directUnicast,
      get pingEnabled() {
        return ping.enabled;
      },
      isOurServerId: (address) => this.ourServerIds.has(address),
      get pair() {
        return pair.gate;
      },
    };
    this.applyConfig(opts.config);
  }

  /** The configuration in force: the one place every part of the running daemon reads it from. */
  get currentConfig(): Config {
    return this.config;
  }

  poolOf(network: number): NetworkPool | undefined {
    return this.leases.poolOf(network);
  }

  /** Whether addresses are pinged now (a ping socket is open and ping_timeout is above 0). */
  get pingEnabled(): boolean {
    return this.ping.enabled;
  }

  /** Whether a ping socket is open: a reload that turns the check on needs one. */
  get hasPinger(): boolean {
    return this.ping.hasPinger;
  }

  /** Hands over a ping socket opened after the start (a reload turned the check on). */
  setPinger(pinger: PingChecker | null): void {
    this.ping.setPinger(pinger);
  }

  /** Connects the failover engine's gate to the packet path (null: none). */
  setPair(gate: PairGate | null): void {
    this.pairHolder.gate = gate;
  }

  /**
   * Puts a new configuration in force, all of it that can change while running: networks and pools
   * (pools of networks whose ranges did not change keep their state), dhcpcap, policy, ping, limits.
   */
  applyConfig(config: Config): void {
    const serverIds = new Set<number>(config.self.addresses);
    for (const entry of config.dhcpcap.entries) {
      const sv = entry.tags.get('sv');
      if (typeof sv === 'number') serverIds.add(sv);
    }
    this.leases.configure(config);
    this.ourServerIds = serverIds;
    this.config = config;
    this.limiter.setLimits(config.policy.rate_limit_per_interface, config.policy.rate_limit_per_relay);
  }

  /**
   * The wall clock stepped by stepMs (the daemon's LeaseClock saw it): the stored times and the offer
   * holds move with it (the lease owner), before the clock takes the new reading. Returns the rows moved.
   */
  shiftTime(stepMs: number): ShiftedRows {
    this.exhaustedLog.clear();
    return this.leases.shiftTime(stepMs);
  }

  /** Marks ended leases expired. Called periodically by the daemon. */
  sweep(): number {
    const n = this.allocator.sweepExpired();
    if (n > 0) logEvent(this.opts.log, 'LEASES_EXPIRED', { count: n });
    return n;
  }

  /** Handles one datagram; resolves when it has been answered (or dropped). Never rejects. */
  async handle(inbound: Inbound): Promise<void> {
    this.counters.received++;
    try {
      const outcome = await this.process(inbound);
      if (isReply(outcome)) this.send(outcome);
      else if (outcome !== null && 'dropped' in outcome) this.countDrop(outcome);
    } catch (err) {
      this.counters.handlerErrors++;
      this.countDrop(drop('handler-error', { err: (err as Error).stack }));
    }
  }

  private countDrop(dropped: Drop): void {
    const reason = dropped.dropped;
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    if (reason === 'handler-error') return logEvent(this.opts.log, 'PACKET_HANDLER_FAILED', dropped.fields);
    logEvent(this.opts.log, 'PACKET_DROP', { reason, ...dropped.fields });
  }

  /** The four stages; null when the packet was dealt with already (a decode failure, counted apart). */
  private process(inbound: Inbound): Outcome | null | Promise<Outcome> {
    const admitted = this.admit(inbound);
    if (admitted === null || 'dropped' in admitted) return admitted;
    const located = this.locate(admitted, inbound);
    if ('dropped' in located) return located;
    return this.dispatch(admitted, located, inbound);
  }

  /**
   * Stage 1: decode, and decide whether we answer this packet at all and with which handler. Decode
   * failures are counted by kind (joind_pkt4_parse_failed_total), not as drops: null.
   */
  private admit(inbound: Inbound): Admitted | Drop | null {
    const decoded = decode(inbound.data);
    if (!decoded.ok) {
      const kind = decoded.error.kind;
      this.counters.parseFailed[kind] = (this.counters.parseFailed[kind] ?? 0) + 1;
      logEvent(this.opts.log, 'PACKET_DROP_PARSE', {
        kind,
        offset: decoded.error.offset,
        error: decoded.error.message,
        from: ipToString(inbound.srcIp),
      });
      return null;
    }
    const request = decoded.packet;
    if (request.op !== BOOTREQUEST) return drop('not-a-request');
    const policy = this.config.policy;
    if (this.limiter.active) {
      const verdict = this.limiter.admit(inbound.ifname, request.giaddr, this.clock(), () => this.knownClientKey(request));
      if (verdict !== 'ok') return drop(verdict);
    }
    const type = messageType(request);
    const typeName = type === undefined ? 'bootp' : (TYPE_NAMES[type] ?? `type-${type}`);
    this.counters.receivedByType[typeName] = (this.counters.receivedByType[typeName] ?? 0) + 1;

    let handler: Handler | undefined;
    if (type === undefined) {
      if (!policy.support_bootp) return drop('bootp-not-supported');
      if (inbound.data.length < policy.min_bootp_packet_size) return drop('bootp-too-short');
      handler = handleBootp;
    } else {
      handler = HANDLERS[type as MessageType];
      if (!handler) return drop('not-a-client-message', { type });
    }
    // While the store refuses writes nothing new can be granted: no OFFER that no ACK could follow.
    // Silence (not NAK) lets the client keep retrying, or take another server's offer.
    if (type === MessageType.DISCOVER && this.opts.store.fault) return drop('store-unwritable');
    // From here on the store is read (and maybe written): one transaction for the whole turn.
    this.opts.store.beginTurn();
    const hwaddr = hardwareAddress(request);
    if (policy.registered_clients_only && !this.opts.store.registered.isRegistered(request.htype, hwaddr)) {
      return drop('not-registered', { hwaddr: hexColons(hwaddr) });
    }
    return { request, type, typeName, handler, hwaddr };
  }

  /** Stage 2: the client's network (relay, link, option 82/118) and the pool of our ranges in it. */
  private locate(admitted: Admitted, inbound: Inbound): Located | Drop {
    const selected = selectNetwork(this.config, admitted.request, inbound);
    if (!selected.ok) return drop(selected.reason, { giaddr: ipToString(admitted.request.giaddr) });
    const group = this.config.sharedNetworks.get(selected.network.address);
    const choice = group ? { ...selected, network: this.sharedMember(admitted, selected.network, group) } : selected;
    const pool = this.leases.poolOf(choice.network.address);
    if (!pool) return drop('network-not-ours', { network: ipToString(choice.network.address) });
    return { choice, pool };
  }

  /**
   * On a shared link (dhcpcap sh, dhcpd's shared-network), the network the client is on: the one of the
   * address it names (ciaddr, or option 50), else of its static binding, else of its lease, else the
   * first with a free address, the link's own network first. The rest of the path then sees one
   * network, with its own parameters, as for a link of its own.
   */
  private sharedMember(admitted: Admitted, linked: NetworkConfig, group: readonly NetworkConfig[]): NetworkConfig {
    const request = admitted.request;
    const named = request.ciaddr || (requestedAddress(request) ?? 0);
    const holding = (address: number): NetworkConfig | undefined =>
      group.find((net) => inNetwork(address, net.address, net.mask));
    if (named !== 0) {
      const net = holding(named);
      if (net) return net;
    }
    const members = [linked, ...group.filter((net) => net !== linked)];
    const clientId = clientIdentifier(request);
    for (const net of members) {
      const binding = findStaticBinding(this.config.dhcpcap, this.clientQuery(net, admitted, clientId));
      if (binding && inNetwork(binding.address, net.address, net.mask)) return net;
    }
    const key = this.clientKey(admitted, clientId);
    for (const net of members) {
      const record = this.opts.store.leases.findByClient(net.address, key);
      if (record && record.state !== LeaseState.ABANDONED) return net;
    }
    const nowMs = this.clock();
    return (
      members.find((net) => {
        const pool = this.leases.poolOf(net.address);
        if (!pool?.hasRules) return pool?.mayOffer(nowMs);
        const hostEntry = resolveClientParams(this.config.dhcpcap, this.clientQuery(net, admitted, clientId)).hostEntry;
        return pool.mayOffer(nowMs, this.admitsOn(net, admitted, clientId, hostEntry !== undefined));
      }) ?? linked
    );
  }

  /** Who the client is to the range rules (dhcpcap range entries) of a network, asked only as needed. */
  private admitsOn(network: NetworkConfig, admitted: Admitted, clientId: Buffer | undefined, hasHostEntry: boolean): Admits {
    const query = this.clientQuery(network, admitted, clientId);
    const store = this.opts.store;
    let known: boolean | undefined;
    const who: RangeClaimant = {
      known: () => (known ??= hasHostEntry || store.registered.isRegistered(admitted.request.htype, admitted.hwaddr)),
      bootp: admitted.type === undefined,
      member: (label) => isClassMember(this.config.dhcpcap, label, query),
    };
    return (rule) => admitsClient(rule, who);
  }

  /** What the dhcpcap lookup needs of the client on a network. */
  private clientQuery(network: NetworkConfig, admitted: Admitted, clientId: Buffer | undefined): ClientQuery {
    const { request, hwaddr } = admitted;
    return {
      network: network.address,
      htype: request.htype,
      chaddr: hwaddr,
      ignoreHardwareType: this.config.policy.ignore_hardware_type,
      clientId,
      vendorClass: vendorClass(request),
      options: request.options,
    };
  }

  /** Who the client is for its leases; ignore_client_uids: its hardware address alone (PXE, then the OS). */
  private clientKey(admitted: Admitted, clientId: Buffer | undefined): ClientKey {
    const policy = this.config.policy;
    return clientKeyOf(
      admitted.request.htype,
      admitted.hwaddr,
      policy.ignore_client_uids ? undefined : clientId,
      policy.ignore_hardware_type,
    );
  }

  /** Stage 3: who the client is on that network, its dhcpcap parameters, and our server id for it. */
  private contextualise(admitted: Admitted, located: Located, inbound: Inbound): RequestContext {
    const config = this.config;
    const { request, type, hwaddr } = admitted;
    const network = located.choice.network;
    const clientId = clientIdentifier(request);
    const resolved = resolveClientParams(config.dhcpcap, this.clientQuery(network, admitted, clientId));
    // Objects on the packet path are built with every field present (unset ones undefined), so that each
    // keeps one shape whatever the packet carries: V8's property accesses stay monomorphic.
    const params: ClientParams = {
      tags: resolved.tags,
      options: configuredOptions(resolved.tags),
      hostEntry: resolved.hostEntry,
    };
    const bound = resolved.hostEntry ? resolved.tags.get('ip') : resolved.portBinding?.address;
    const client = {
      pool: located.pool,
      key: this.clientKey(admitted, clientId),
      htype: request.htype,
      hwaddr,
      clientId: clientId ?? null,
      requested: requestedAddress(request),
      staticAddress: typeof bound === 'number' && inNetwork(bound, network.address, network.mask) ? bound : undefined,
      admits: located.pool.hasRules ? this.admitsOn(network, admitted, clientId, resolved.hostEntry !== undefined) : undefined,
    };
    const serverId = this.serverIdFor(params, inbound, request.giaddr, network.address, network.mask);
    return {
      request,
      inbound,
      type,
      nowMs: this.clock(),
      config,
      network,
      pool: located.pool,
      client,
      params,
      serverId: serverId ?? 0,
      relayed: located.choice.relayed,
    };
  }

  /** Stage 4: the handler of the message type, once our address towards the client is known. */
  private dispatch(admitted: Admitted, located: Located, inbound: Inbound): Outcome | Promise<Outcome> {
    const ctx = this.contextualise(admitted, located, inbound);
    const received = ctx.type === MessageType.DISCOVER ? 'DHCP_DISCOVER' : 'DHCP_REQUEST';
    if (eventEnabled(this.opts.log, received)) {
      logEvent(this.opts.log, received, {
        type: admitted.typeName,
        hwaddr: hexColons(admitted.hwaddr),
        network: ipToString(ctx.network.address),
        xid: ctx.request.xid,
      });
    }
    if (ctx.serverId !== 0) return admitted.handler(ctx, this.services);
    // Our address towards a new relay (or a routed network) is learnt asynchronously: wait for it once,
    // rather than name a server the relay cannot reach (the host's first address may be loopback).
    const towards = ctx.request.giaddr !== 0 ? ctx.request.giaddr : ctx.network.address;
    return (this.opts.transport.learnLocalAddressFor?.(towards) ?? Promise.resolve(undefined)).then((learnt) =>
      admitted.handler({ ...ctx, serverId: learnt ?? this.config.self.addresses[0] ?? 0 }, this.services),
    );
  }

  /** A dhcpcap host entry or a registered address: its hardware address as a key, else null. */
  private knownClientKey(request: DhcpPacket): string | null {
    const hwaddr = hardwareAddress(request);
    const known =
      findBindingsByHardware(this.config.dhcpcap, request.htype, hwaddr, this.config.policy.ignore_hardware_type).length > 0 ||
      this.opts.store.registered.isRegistered(request.htype, hwaddr);
    return known ? `${request.htype}/${hwaddr.toString('hex')}` : null;
  }

  /** Our address as the client should see it; undefined while the transport is still learning it. */
  private serverIdFor(params: ClientParams, inbound: Inbound, giaddr: number, network: number, mask: number): number | undefined {
    const sv = params.tags.get('sv');
    if (typeof sv === 'number') return sv;
    for (const a of inbound.interfaceAddresses ?? []) if (inNetwork(a.address, network, mask)) return a.address;
    if (giaddr === 0) {
      for (const own of this.config.self.addresses) if (inNetwork(own, network, mask)) return own;
    }
    return this.opts.transport.localAddressFor(giaddr !== 0 ? giaddr : network, inbound);
  }

  private send(reply: Reply): void {
    const transmit = (): void => {
      let data: Buffer;
      try {
        data = encode(reply.packet, { maxMessageSize: reply.maxSize, minSize: reply.minSize });
      } catch (err) {
        this.counters.sendFailed++;
        logEvent(this.opts.log, 'SEND_FAILED', { err: (err as Error).message });
        return;
      }
      this.opts.transport.send(data, reply.dest, reply.serverId);
      const name = reply.event;
      this.counters.sent[name] = (this.counters.sent[name] ?? 0) + 1;
      if (!eventEnabled(this.opts.log, name)) return;
      logEvent(this.opts.log, name, {
        address: ipToString(reply.packet.yiaddr),
        hwaddr: hexColons(reply.packet.chaddr.subarray(0, Math.min(16, reply.packet.hlen))),
        dest: reply.dest.kind,
        via: viaOf(reply.dest),
        xid: reply.packet.xid,
        ...reply.detail,
      });
    };
    if (!reply.durable) return transmit();
    this.opts.store.whenDurable((err) => {
      if (err) {
        this.counters.sendFailed++;
        logEvent(this.opts.log, 'STORE_COMMIT_FAILED', { err: err.message, address: ipToString(reply.packet.yiaddr) });
        return;
      }
      transmit();
    });
  }
}

/** Through which link or relay a reply leaves, for the log: an admin's first question about a lease. */
function viaOf(dest: Destination): string | undefined {
  if (dest.kind === 'relay') return `relay ${ipToString(dest.ip)}`;
  return dest.ifname;
}
