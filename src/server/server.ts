// The DHCP/BOOTP server: decodes what the transport hands it, finds the client's network and
// parameters, runs the handler of the message type, and sends the reply once what it depends on is on
// disk. One handler per message type (src/server/handlers); no policy here beyond the dispatch.
import { clientIdentifier, decode, encode, hardwareAddress, messageType, requestedAddress, vendorClass } from '../codec';
import { BOOTREQUEST, DhcpPacket, MessageType } from '../codec/types';
import type { Config } from '../config/types';
import { findBindingsByHardware, resolveClientParams, staticBindings } from '../config/lookup';
import { Allocator, PingChecker } from '../alloc/allocator';
import { clientKeyOf } from '../alloc/client-key';
import { NetworkPool } from '../alloc/pool';
import type { Destination, Inbound, Transport } from '../io/transport';
import { eventEnabled, logEvent, Logger } from '../log/logger';
import { ForwardLookup, Namer, ReverseLookup } from '../naming/namer';
import type { Store } from '../store/store';
import { inNetwork, ipToString, hexColons } from '../util/ipv4';
import type { ClientParams, Handler, Reply, RequestContext, Services } from './context';
import { handleBootp } from './handlers/bootp';
import { handleDecline } from './handlers/decline';
import { handleDiscover } from './handlers/discover';
import { handleInform } from './handlers/inform';
import { handleRelease } from './handlers/release';
import { handleRequest } from './handlers/request';
import { configuredOptions } from './options';
import { RateLimiter } from './rate-limit';
import { selectNetwork } from './subnet';

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
  transport: Transport;
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

export class DhcpServer {
  readonly counters: ServerCounters = {
    received: 0,
    receivedByType: {},
    parseFailed: {},
    dropped: {},
    sent: {},
    sendFailed: 0,
    handlerErrors: 0,
  };
  readonly allocator: Allocator;
  private readonly namer: Namer;
  private config!: Config;
  private pools = new Map<number, NetworkPool>();
  private ourServerIds = new Set<number>();
  private readonly clock: () => number;
  private readonly services: Services;
  private readonly limiter = new RateLimiter(0, 0);
  /** Per network: when POOL_EXHAUSTED was last logged and how many since (a flood must not flood the log). */
  private readonly exhaustedLog = new Map<number, { at: number; suppressed: number }>();

  constructor(private readonly opts: ServerOptions) {
    this.clock = opts.clock ?? Date.now;
    this.allocator = new Allocator(
      opts.store,
      opts.pinger,
      opts.config.policy.ping_timeout,
      this.clock,
      () => this.config.policy.auto_release,
    );
    this.allocator.onEvent = (event, detail) => {
      const fields = {
        network: ipToString(detail.network),
        ...(detail.address !== undefined ? { address: ipToString(detail.address) } : {}),
      };
      if (event === 'ping-conflict') return logEvent(opts.log, 'PING_CONFLICT', fields);
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
    opts.store.onRollback = (err) => {
      logEvent(opts.log, 'STORE_COMMIT_FAILED', { err: err.message });
      for (const pool of this.pools.values()) pool.reset();
    };
    opts.store.onCheckpointError = (message) => logEvent(opts.log, 'STORE_CHECKPOINT_FAILED', { err: message });
    opts.store.onFaultChange = (err) => {
      if (err) logEvent(opts.log, 'STORE_UNWRITABLE', { err: err.message, code: (err as { code?: string }).code });
      else logEvent(opts.log, 'STORE_WRITABLE', {});
    };
    const pingEnabled = (): boolean => opts.pinger !== null && this.config.policy.ping_timeout > 0;
    this.services = {
      store: opts.store,
      allocator: this.allocator,
      namer: this.namer,
      log: opts.log,
      directUnicast: opts.transport.directUnicast,
      get pingEnabled() {
        return pingEnabled();
      },
      isOurServerId: (address) => this.ourServerIds.has(address),
    };
    this.applyConfig(opts.config);
  }

  get currentConfig(): Config {
    return this.config;
  }

  poolOf(network: number): NetworkPool | undefined {
    return this.pools.get(network);
  }

  /** Puts a new configuration in force. Pools of networks whose ranges did not change keep their state. */
  applyConfig(config: Config): void {
    const settings = { freeListSize: config.policy.free_list_size, provisionalTtlMs: config.policy.provisional_ttl * 1000 };
    const reservedByNet = new Map<number, Set<number>>();
    const serverIds = new Set<number>(config.self.addresses);
    for (const binding of staticBindings(config.dhcpcap)) {
      for (const net of config.networks) {
        if (inNetwork(binding.address, net.address, net.mask)) {
          if (!reservedByNet.has(net.address)) reservedByNet.set(net.address, new Set());
          reservedByNet.get(net.address)!.add(binding.address);
        }
      }
    }
    for (const entry of config.dhcpcap.entries) {
      const sv = entry.tags.get('sv');
      if (typeof sv === 'number') serverIds.add(sv);
    }
    const pools = new Map<number, NetworkPool>();
    for (const net of config.networks) {
      if (net.ourRanges.length === 0) continue;
      const reserved = reservedByNet.get(net.address) ?? new Set<number>();
      reserved.add(net.address);
      reserved.add((net.address | ~net.mask) >>> 0);
      for (const own of config.self.addresses) if (inNetwork(own, net.address, net.mask)) reserved.add(own);
      const old = this.pools.get(net.address);
      if (old && old.mask === net.mask && sameRanges(old.ranges, net.ourRanges) && sameSet(old.reservedSet, reserved)) {
        old.updateSettings(settings);
        pools.set(net.address, old);
      } else {
        pools.set(net.address, new NetworkPool(net.address, net.mask, net.ourRanges, reserved, settings, this.opts.store));
      }
    }
    this.pools = pools;
    this.ourServerIds = serverIds;
    this.config = config;
    this.allocator.setPing(this.opts.pinger, config.policy.ping_timeout);
    this.limiter.setLimits(config.policy.rate_limit_per_interface, config.policy.rate_limit_per_relay);
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
      const reply = await this.process(inbound);
      if (reply) this.send(reply);
    } catch (err) {
      this.counters.handlerErrors++;
      logEvent(
        this.opts.log,
        'PACKET_DROP_HANDLER_ERROR',
        { reason: 'handler-error', err: (err as Error).stack },
        'a packet handler failed',
      );
    }
  }

  private drop(reason: string, fields: Record<string, unknown> = {}): null {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    logEvent(this.opts.log, 'PACKET_DROP', { reason, ...fields });
    return null;
  }

  private process(inbound: Inbound): Promise<Reply | null> | Reply | null {
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
    if (request.op !== BOOTREQUEST) return this.drop('not-a-request');
    const config = this.config;
    if (this.limiter.active) {
      const verdict = this.limiter.admit(inbound.ifname, request.giaddr, this.clock(), () => this.knownClientKey(request));
      if (verdict !== 'ok') return this.drop(verdict);
    }
    const type = messageType(request);
    const typeName = type === undefined ? 'bootp' : (TYPE_NAMES[type] ?? `type-${type}`);
    this.counters.receivedByType[typeName] = (this.counters.receivedByType[typeName] ?? 0) + 1;

    let handler: Handler | undefined;
    if (type === undefined) {
      if (!config.policy.support_bootp) return this.drop('bootp-not-supported');
      if (inbound.data.length < config.policy.min_bootp_packet_size) return this.drop('bootp-too-short');
      handler = handleBootp;
    } else {
      handler = HANDLERS[type as MessageType];
      if (!handler) return this.drop('not-a-client-message', { type });
    }
    // While the store refuses writes nothing new can be granted: no OFFER that no ACK could follow.
    // Silence (not NAK) lets the client keep retrying, or take another server's offer.
    if (type === MessageType.DISCOVER && this.opts.store.fault) return this.drop('store-unwritable');
    // From here on the store is read (and maybe written): one transaction for the whole turn.
    this.opts.store.beginTurn();
    const hwaddr = hardwareAddress(request);
    if (config.policy.registered_clients_only && !this.opts.store.registered.isRegistered(request.htype, hwaddr)) {
      return this.drop('not-registered', { hwaddr: hexColons(hwaddr) });
    }

    const choice = selectNetwork(config, request, inbound);
    if (!choice.ok) return this.drop(choice.reason, { giaddr: ipToString(request.giaddr) });
    const network = choice.network;
    const pool = this.pools.get(network.address);
    if (!pool) return this.drop('network-not-ours', { network: ipToString(network.address) });

    const clientId = clientIdentifier(request);
    const vendor = vendorClass(request);
    const resolved = resolveClientParams(config.dhcpcap, {
      network: network.address,
      htype: request.htype,
      chaddr: hwaddr,
      ignoreHardwareType: config.policy.ignore_hardware_type,
      clientId,
      vendorClass: vendor,
    });
    // Objects on the packet path are built with every field present (unset ones undefined), so that each
    // keeps one shape whatever the packet carries: V8's property accesses stay monomorphic.
    const params: ClientParams = {
      tags: resolved.tags,
      options: configuredOptions(resolved.tags),
      hostEntry: resolved.hostEntry,
    };
    const bound = resolved.hostEntry ? resolved.tags.get('ip') : undefined;
    const requested = requestedAddress(request);
    const client = {
      pool,
      key: clientKeyOf(request.htype, hwaddr, clientId, config.policy.ignore_hardware_type),
      htype: request.htype,
      hwaddr,
      clientId: clientId ?? null,
      requested,
      staticAddress: typeof bound === 'number' && inNetwork(bound, network.address, network.mask) ? bound : undefined,
    };
    const serverId = this.serverIdFor(params, inbound, request.giaddr, network.address, network.mask);
    const ctx: RequestContext = {
      request,
      inbound,
      type,
      nowMs: this.clock(),
      config,
      network,
      pool,
      client,
      params,
      serverId: serverId ?? 0,
      relayed: choice.relayed,
    };
    const received = type === MessageType.DISCOVER ? 'DHCP_DISCOVER' : 'DHCP_REQUEST';
    if (eventEnabled(this.opts.log, received)) {
      logEvent(this.opts.log, received, {
        type: typeName,
        hwaddr: hexColons(hwaddr),
        network: ipToString(network.address),
        xid: request.xid,
      });
    }
    if (serverId !== undefined) return handler(ctx, this.services);
    // Our address towards a new relay (or a routed network) is learnt asynchronously: wait for it once,
    // rather than name a server the relay cannot reach (the host's first address may be loopback).
    const towards = request.giaddr !== 0 ? request.giaddr : network.address;
    return (this.opts.transport.learnLocalAddressFor?.(towards) ?? Promise.resolve(undefined)).then((learnt) =>
      handler({ ...ctx, serverId: learnt ?? config.self.addresses[0] ?? 0 }, this.services),
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
      const serverId = reply.packet.options.get(54)?.readUInt32BE(0) ?? 0;
      this.opts.transport.send(data, reply.dest, serverId);
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

function sameRanges(a: readonly { start: number; end: number }[], b: readonly { start: number; end: number }[]): boolean {
  return a.length === b.length && a.every((r, i) => r.start === b[i]!.start && r.end === b[i]!.end);
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
