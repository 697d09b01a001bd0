// joind's allocation over the pools and the permanent store: which address a client is offered, and
// whether an address may be granted to it. The RFC 2131 message rules (which REQUEST state, NAK or
// silence) live in src/server; this module only answers questions about addresses. What a grant, a
// decline or a release leaves behind is written by the lease owner (lease-owner.ts), never here.
import type { Store } from '../store/store';
import { ClientKey, LeaseRecord, LeaseState } from '../store/types';
import { keyString, sameClient } from './client-key';
import type { LeaseOwner } from './lease-owner';
import type { PingGate } from './ping-gate';
import { admitted, holdsAddress, NetworkPool, type Admits } from './pool';

export type { PingChecker } from './ping-gate';

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
  /**
   * Whether the client may be given addresses of ranges with a rule (dhcpcap range entries); absent:
   * the rules are not asked (every client admitted). A lease in a range it may no longer have is not its
   * own any more: dhcpd's pool permits, which NAK such a renewal.
   */
  admits?: Admits;
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
  /** Ended BOOTP allocations whose client still answered a ping, extended (bp_auto_extension). */
  bootpExtended: number;
}

/** What a grant needs beyond the client: the address, how long, and the names. */
export interface GrantTerms {
  address: number;
  /** Seconds; null = no end (permanent). */
  leaseSeconds: number | null;
  state: LeaseState.ACTIVE | LeaseState.BOOTP;
  clientHostname: string | null;
  hostname: string | null;
  /** The FQDN dynamic DNS should give the address (absent or null: none). */
  dnsName?: string | null;
  /** false: the client writes its own A record (option 81 S=0), DNS gets our PTR only. Default true. */
  dnsForward?: boolean;
}

export type AllocatorEvent = 'ping-conflict' | 'pool-exhausted' | 'bootp-extended';

/** How many candidates one DISCOVER may try (each may be found in use by a ping) before giving up. */
const MAX_CANDIDATES = 8;

export class Allocator {
  readonly counters: AllocatorCounters = {
    pingChecks: 0,
    pingConflicts: 0,
    abandoned: 0,
    declined: 0,
    offersWithoutAddress: 0,
    bootpExtended: 0,
  };
  /** Offers being prepared (waiting on a ping), by client: a retransmitted DISCOVER joins the first one. */
  private readonly inFlight = new Map<string, Promise<OfferChoice | undefined>>();
  /** Log hook for conflicts, exhaustion and BOOTP extensions; the server sets it. */
  onEvent: ((event: AllocatorEvent, detail: { network: number; address?: number }) => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly leases: LeaseOwner,
    private readonly ping: PingGate,
    private readonly now: () => number,
    /** The running bp_auto_extension (seconds; 0: BOOTP allocations are not extended). */
    private readonly bootpExtension: () => number,
  ) {}

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
    if (ctx.admits && !admitted(ctx.pool, record.address, ctx.admits)) return undefined;
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
    if (ctx.admits && !admitted(ctx.pool, address, ctx.admits)) return false;
    const holder = ctx.pool.holderOf(address, nowMs);
    if (holder !== undefined && holder !== keyString(ctx.key)) return false;
    const record = this.store.leases.get(address);
    const nowSec = Math.floor(nowMs / 1000);
    // A failover address the client no longer holds is free only in our own free state, like any other.
    const ownRecord =
      record && sameClient(record.client, ctx.key) && (!ctx.pool.isPaired(address) || holdsAddress(record, nowSec));
    if (ownRecord && record.state !== LeaseState.ABANDONED) {
      return ctx.pool.allocatable(address) || record.state === LeaseState.STATIC || record.state === LeaseState.BOOTP;
    }
    if (!ctx.pool.allocatable(address)) return false;
    return ctx.pool.freeToAllocate(address, record, nowSec);
  }

  /** Writes the lease into the current batch (durable at the next group commit); ends the client's hold. */
  grant(ctx: ClientContext, terms: GrantTerms): LeaseRecord {
    return this.leases.grant(
      {
        // Every field written out (no spread): one object shape on the packet path.
        address: terms.address,
        network: ctx.pool.network,
        client: ctx.key,
        htype: ctx.htype,
        hwaddr: ctx.hwaddr,
        clientId: ctx.clientId,
        leaseSeconds: terms.leaseSeconds,
        state: terms.state,
        clientHostname: terms.clientHostname,
        hostname: terms.hostname,
        dnsName: terms.dnsName ?? null,
        dnsForward: terms.dnsForward ?? true,
      },
      Math.floor(this.now() / 1000),
    );
  }

  /** The client chose another server (or its offer lapsed): its provisional address goes back. */
  dropOffer(ctx: ClientContext): void {
    ctx.pool.releaseHoldOf(keyString(ctx.key), true);
  }

  /** DHCPDECLINE: the address is in use by someone else; it becomes abandoned. */
  decline(ctx: ClientContext, address: number): boolean {
    const record = this.store.leases.get(address);
    // The record's client, or the client the address is held for provisionally. The hold counts even
    // when the address still has a record (another client's ended lease, reused): asking the record
    // alone refused the declining client there, though it was accepted for a never-used address.
    const mine =
      (record !== undefined && sameClient(record.client, ctx.key)) ||
      ctx.pool.heldFor(keyString(ctx.key), this.now()) === address;
    if (!mine) return false;
    this.counters.declined++;
    this.abandon(ctx.pool, address);
    ctx.pool.releaseHoldOf(keyString(ctx.key), false);
    return true;
  }

  /** DHCPRELEASE: the client's active lease ends now (the release rule is the lease owner's). */
  release(ctx: ClientContext, address: number): boolean {
    return typeof this.leases.release(address, Math.floor(this.now() / 1000), ctx.key) !== 'string';
  }

  /** Marks an address abandoned (it answered a ping or was declined), with the time. */
  private abandon(pool: NetworkPool, address: number): void {
    this.counters.abandoned++;
    this.leases.abandon(pool.network, address, Math.floor(this.now() / 1000));
  }

  /** Marks leases whose end has passed as expired (the records stay). Returns how many. */
  sweepExpired(): number {
    return this.leases.expireDue(Math.floor(this.now() / 1000));
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
      if (record?.state === LeaseState.ABANDONED || (await this.reusable(pool, requested, pingCheck))) {
        pool.hold(requested, key, this.now()); // the hold may have aged while the ping was out
        return { address: requested, reason: 'requested' };
      }
    }

    // An address that answered this DISCOVER's ping comes back from the free list when it is the last
    // (abandoned ones are reused when nothing else is free): meeting it again means nothing is left.
    const tried = new Set<number>();
    for (let attempt = 0; attempt < MAX_CANDIDATES; attempt++) {
      const candidate = pool.take(this.now(), ctx.admits);
      if (candidate === undefined || tried.has(candidate)) {
        if (candidate !== undefined) pool.giveBack(candidate); // first in line for the next DISCOVER
        this.counters.offersWithoutAddress++;
        // Free addresses in ranges whose rules refuse this client do not make the pool exhausted.
        if (!ctx.admits || !pool.mayOffer(this.now())) this.onEvent?.('pool-exhausted', { network: pool.network });
        return undefined;
      }
      tried.add(candidate);
      pool.hold(candidate, key, this.now());
      if (await this.reusable(pool, candidate, pingCheck)) {
        pool.hold(candidate, key, this.now()); // the hold may have aged while the ping was out
        return { address: candidate, reason: 'free-list' };
      }
    }
    this.counters.offersWithoutAddress++;
    return undefined;
  }

  /**
   * Whether the client got no offer only because the range rules refuse it: addresses are free in
   * ranges it may not have (for the drop reason: a full pool and a refused client look alike otherwise).
   */
  refusedByRules(ctx: ClientContext): boolean {
    return ctx.admits !== undefined && ctx.pool.mayOffer(this.now());
  }

  /** Whether the address answers a ping (false when pinging is off): for static BOOTP bindings. */
  async probe(address: number): Promise<boolean> {
    if (!this.ping.enabled) return false;
    this.counters.pingChecks++;
    const inUse = await this.ping.inUse(address);
    if (inUse) this.counters.pingConflicts++;
    return inUse;
  }

  /**
   * Whether a candidate from the free list may be offered. An ended BOOTP allocation is pinged first
   * whenever bp_auto_extension is set (BOOTP clients never renew: a ping is the only sign of life), and
   * one that answers stays its client's for bp_auto_extension seconds more (joind-spec.md section 2).
   * Any other candidate is pinged when the caller asks for the check.
   */
  private async reusable(pool: NetworkPool, address: number, pingCheck: boolean): Promise<boolean> {
    const extension = this.bootpExtension();
    if (extension > 0 && this.ping.enabled) {
      const record = this.store.leases.get(address);
      if (record?.state === LeaseState.BOOTP && record.ends !== null) {
        this.counters.pingChecks++;
        pool.counters.pingChecks++;
        if (!(await this.ping.inUse(address))) return true;
        // Read again: the record may have changed while the ping was out.
        const now = this.store.leases.get(address);
        if (now?.state === LeaseState.BOOTP && now.ends !== null) {
          this.leases.extend(now, extension, Math.floor(this.now() / 1000));
          this.counters.bootpExtended++;
          this.onEvent?.('bootp-extended', { network: pool.network, address });
        }
        pool.releaseHold(address, false);
        return false;
      }
    }
    return !pingCheck || this.isFree(pool, address);
  }

  /** Pings the address when pinging is on; an answer abandons it. */
  private async isFree(pool: NetworkPool, address: number): Promise<boolean> {
    if (!this.ping.enabled) return true;
    this.counters.pingChecks++;
    pool.counters.pingChecks++;
    const inUse = await this.ping.inUse(address);
    if (!inUse) return true;
    this.counters.pingConflicts++;
    pool.counters.pingConflicts++;
    this.onEvent?.('ping-conflict', { network: pool.network, address });
    this.abandon(pool, address);
    return false;
  }
}
