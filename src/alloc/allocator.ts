// joind's allocation over the pools and the permanent store: which address a client is offered, whether
// an address may be granted to it, and the records that a grant, a decline or a release leave behind.
// The RFC 2131 message rules (which REQUEST state, NAK or silence) live in src/server; this module only
// answers questions about addresses.
import type { Store } from '../store/store';
import { ClientKey, LeaseRecord, LeaseState } from '../store/types';
import { keyString, sameClient } from './client-key';
import { holdsAddress, NetworkPool } from './pool';

/** The ICMP echo check, as the allocator needs it (src/io/ping.ts implements it). */
export interface PingChecker {
  /** true when the address answered within the timeout (it is in use). */
  check(address: number, timeoutMs: number): Promise<boolean>;
}

/** What the allocator needs to know of a client on one network. */
export interface ClientContext {
  pool: NetworkPool;
  key: ClientKey;
  htype: number;
  hwaddr: Buffer;
  clientId: Buffer | null;
  /** Option 50, when sent. */
  requested?: number;
  /** The address of the client's dhcpcap host entry (`ip`), when it lies on this network. */
  staticAddress?: number;
}

export interface OfferChoice {
  address: number;
  /** Why this address: for the log. */
  reason: 'static' | 'provisional' | 'record' | 'requested' | 'free-list';
}

export interface AllocatorCounters {
  pingChecks: number;
  pingConflicts: number;
  abandoned: number;
  declined: number;
  offersWithoutAddress: number;
}

export interface LeaseGrant {
  address: number;
  /** Seconds; null = no end (permanent). */
  leaseSeconds: number | null;
  state: LeaseState.ACTIVE | LeaseState.BOOTP;
  clientHostname: string | null;
  hostname: string | null;
}

/** How many candidates one DISCOVER may try (each may be found in use by a ping) before giving up. */
const MAX_CANDIDATES = 8;

export class Allocator {
  readonly counters: AllocatorCounters = {
    pingChecks: 0,
    pingConflicts: 0,
    abandoned: 0,
    declined: 0,
    offersWithoutAddress: 0,
  };
  /** Offers being prepared (waiting on a ping), by client: a retransmitted DISCOVER joins the first one. */
  private readonly inFlight = new Map<string, Promise<OfferChoice | undefined>>();
  /** Log hook for conflicts and exhaustion; the server sets it. */
  onEvent: ((event: 'ping-conflict' | 'pool-exhausted', detail: { network: number; address?: number }) => void) | null = null;

  constructor(
    private readonly store: Store,
    private pinger: PingChecker | null,
    private pingTimeoutMs: number,
    private readonly now: () => number,
    private readonly autoRelease: () => boolean,
  ) {}

  setPing(pinger: PingChecker | null, timeoutMs: number): void {
    this.pinger = pinger;
    this.pingTimeoutMs = timeoutMs;
  }

  /** The address to offer a DISCOVERing client, after a ping check where one is due; undefined if none. */
  chooseOffer(ctx: ClientContext, pingCheck = true): Promise<OfferChoice | undefined> {
    const key = keyString(ctx.key);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const choice = this.findOffer(ctx, key, pingCheck).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, choice);
    return choice;
  }

  /**
   * The record that makes an address the client's own on this network: its current or expired lease
   * (unless the address went to someone else), or its static binding. Undefined when it has none.
   */
  ownAddress(ctx: ClientContext): number | undefined {
    if (ctx.staticAddress !== undefined) return ctx.staticAddress;
    const record = this.store.leases.findByClient(ctx.pool.network, ctx.key);
    if (!record || record.state === LeaseState.ABANDONED) return undefined;
    if (!ctx.pool.allocatable(record.address) && record.state !== LeaseState.STATIC && record.state !== LeaseState.BOOTP) {
      return undefined; // out of our ranges since the configuration changed
    }
    return record.address;
  }

  /** The client's record on its network, whatever its state. */
  recordOf(ctx: ClientContext): LeaseRecord | undefined {
    return this.store.leases.findByClient(ctx.pool.network, ctx.key);
  }

  /**
   * Whether the address may be granted to this client now: its own address, or a free address of our
   * ranges that nobody else holds (provisionally or by lease).
   */
  availableFor(ctx: ClientContext, address: number): boolean {
    const nowMs = this.now();
    if (address === ctx.staticAddress) return true;
    const holder = ctx.pool.holderOf(address, nowMs);
    if (holder !== undefined && holder !== keyString(ctx.key)) return false;
    const record = this.store.leases.get(address);
    if (record && sameClient(record.client, ctx.key) && record.state !== LeaseState.ABANDONED) {
      return ctx.pool.allocatable(address) || record.state === LeaseState.STATIC || record.state === LeaseState.BOOTP;
    }
    if (!ctx.pool.allocatable(address)) return false;
    return !record || !holdsAddress(record, Math.floor(nowMs / 1000));
  }

  /** Writes the lease into the current batch (durable at the next group commit). */
  grant(ctx: ClientContext, grant: LeaseGrant): LeaseRecord {
    const nowMs = this.now();
    const nowSec = Math.floor(nowMs / 1000);
    // A binding an administrator loaded (joind load, joind ctl bind) stays a binding when its client
    // takes it: renewing must not turn it into a lease that can end and be given to someone else.
    const existing = this.store.leases.get(grant.address);
    const binding = existing?.state === LeaseState.STATIC && sameClient(existing.client, ctx.key);
    const record: LeaseRecord = {
      address: grant.address,
      network: ctx.pool.network,
      client: ctx.key,
      htype: ctx.htype,
      hwaddr: ctx.hwaddr,
      clientId: ctx.clientId,
      starts: nowSec,
      ends: binding || grant.leaseSeconds === null ? null : nowSec + grant.leaseSeconds,
      cltt: nowSec,
      state: binding ? LeaseState.STATIC : grant.state,
      clientHostname: grant.clientHostname,
      hostname: grant.hostname,
    };
    const freed = this.store.write(() => {
      const freedHere = this.store.leases.put(record);
      if (this.autoRelease()) {
        // auto_release: a client that appears on this network gives up its leases on every other one.
        for (const other of this.store.leases.findAllOfClient(ctx.key)) {
          if (other.network !== record.network) this.store.leases.delete(other.address);
        }
      }
      return freedHere;
    });
    for (const address of freed) ctx.pool.forgetRecord(address);
    ctx.pool.releaseHoldOf(keyString(ctx.key), false);
    ctx.pool.releaseHold(grant.address, false);
    return record;
  }

  /** The client chose another server (or its offer lapsed): its provisional address goes back. */
  dropOffer(ctx: ClientContext): void {
    ctx.pool.releaseHoldOf(keyString(ctx.key), true);
  }

  /** DHCPDECLINE: the address is in use by someone else; it becomes abandoned. */
  decline(ctx: ClientContext, address: number): boolean {
    const record = this.store.leases.get(address);
    const mine = record ? sameClient(record.client, ctx.key) : ctx.pool.heldFor(keyString(ctx.key), this.now()) === address;
    if (!mine) return false;
    this.counters.declined++;
    this.abandon(ctx.pool, address);
    ctx.pool.releaseHoldOf(keyString(ctx.key), false);
    return true;
  }

  /** DHCPRELEASE: the lease ends now; the record stays, so the client may get the address back later. */
  release(ctx: ClientContext, address: number): boolean {
    const record = this.store.leases.get(address);
    if (!record || !sameClient(record.client, ctx.key) || record.state !== LeaseState.ACTIVE) return false;
    const nowSec = Math.floor(this.now() / 1000);
    this.store.write(() => this.store.leases.put({ ...record, state: LeaseState.RELEASED, ends: nowSec, cltt: nowSec }));
    return true;
  }

  /** Marks an address abandoned (it answered a ping or was declined), with the time. */
  abandon(pool: NetworkPool, address: number): void {
    const nowSec = Math.floor(this.now() / 1000);
    this.counters.abandoned++;
    this.store.write(() =>
      this.store.leases.put({
        address,
        network: pool.network,
        client: null,
        htype: 0,
        hwaddr: null,
        clientId: null,
        starts: nowSec,
        ends: null,
        cltt: nowSec,
        state: LeaseState.ABANDONED,
        clientHostname: null,
        hostname: null,
      }),
    );
    pool.releaseHold(address, false);
  }

  /** Marks leases whose end has passed as expired (the records stay). Returns how many. */
  sweepExpired(): number {
    const nowSec = Math.floor(this.now() / 1000);
    return this.store.write(() => this.store.leases.expireDue(nowSec)).length;
  }

  private async findOffer(ctx: ClientContext, key: string, pingCheck: boolean): Promise<OfferChoice | undefined> {
    const pool = ctx.pool;
    const nowMs = this.now();

    if (ctx.staticAddress !== undefined) return { address: ctx.staticAddress, reason: 'static' };

    const held = pool.heldFor(key, nowMs);
    if (held !== undefined) {
      pool.hold(held, key, nowMs); // a retransmitted DISCOVER renews the hold
      return { address: held, reason: 'provisional' };
    }

    const own = this.ownAddress(ctx);
    if (own !== undefined && this.availableFor(ctx, own)) {
      pool.hold(own, key, nowMs);
      return { address: own, reason: 'record' };
    }

    if (ctx.requested !== undefined && this.availableFor(ctx, ctx.requested)) {
      const requested = ctx.requested;
      const record = this.store.leases.get(requested);
      pool.hold(requested, key, nowMs);
      // An abandoned address asked for by name is given at once: the asker was most likely the one
      // that answered the ping (dhcpd.leases(5)).
      if (record?.state === LeaseState.ABANDONED || !pingCheck || (await this.isFree(pool, requested))) {
        pool.hold(requested, key, this.now()); // the hold may have aged while the ping was out
        return { address: requested, reason: 'requested' };
      }
    }

    // An address that answered this DISCOVER's ping comes back from the free list when it is the last
    // (abandoned ones are reused when nothing else is free): meeting it again means nothing is left.
    const tried = new Set<number>();
    for (let attempt = 0; attempt < MAX_CANDIDATES; attempt++) {
      const candidate = pool.take(this.now());
      if (candidate === undefined || tried.has(candidate)) {
        if (candidate !== undefined) pool.giveBack(candidate); // first in line for the next DISCOVER
        this.counters.offersWithoutAddress++;
        this.onEvent?.('pool-exhausted', { network: pool.network });
        return undefined;
      }
      tried.add(candidate);
      pool.hold(candidate, key, this.now());
      if (!pingCheck || (await this.isFree(pool, candidate))) {
        pool.hold(candidate, key, this.now()); // the hold may have aged while the ping was out
        return { address: candidate, reason: 'free-list' };
      }
    }
    this.counters.offersWithoutAddress++;
    return undefined;
  }

  /** Whether the address answers a ping (false when pinging is off): for static BOOTP bindings. */
  async probe(address: number): Promise<boolean> {
    if (!this.pinger || this.pingTimeoutMs <= 0) return false;
    this.counters.pingChecks++;
    const inUse = await this.pinger.check(address, this.pingTimeoutMs);
    if (inUse) this.counters.pingConflicts++;
    return inUse;
  }

  /** Pings the address when pinging is on; an answer abandons it. */
  private async isFree(pool: NetworkPool, address: number): Promise<boolean> {
    if (!this.pinger || this.pingTimeoutMs <= 0) return true;
    this.counters.pingChecks++;
    pool.counters.pingChecks++;
    const inUse = await this.pinger.check(address, this.pingTimeoutMs);
    if (!inUse) return true;
    this.counters.pingConflicts++;
    pool.counters.pingConflicts++;
    this.onEvent?.('ping-conflict', { network: pool.network, address });
    this.abandon(pool, address);
    return false;
  }
}
