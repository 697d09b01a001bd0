// The one owner of lease state. Every change of a lease record goes through here: grants, releases,
// declines and ping conflicts, the expiry sweep, the control API, `joind load` and `joind import`, and
// (later) the failover peer and DNS jobs. A lease lives twice: in the store (the truth) and in its
// network's pool (a cache: the free list, the never-used cursors, the provisional holds). Writers used to
// keep the two in step by hand, and one that forgot left addresses that were never offered again. Here
// the rule is kept by construction: each change is written in the store's current batch and then told
// to the pool that owns the address (`recordChanged`), and a rolled-back batch resets every pool.
//
// Reads (get, findByClient, …) stay on `store.leases`; only writes must come through here. The lint
// configuration forbids calling the repository's writers anywhere else (eslint.config.mjs).
import type { Config } from '../config/types';
import { staticBindings } from '../config/lookup';
import type { Store } from '../store/store';
import { ClientKey, LeaseRecord, LeaseState } from '../store/types';
import { inNetwork } from '../util/ipv4';
import { keyString, sameClient } from './client-key';
import { NetworkPool } from './pool';

/** What a grant writes (the rest of the record comes from the client and the clock). */
export interface LeaseGrant {
  address: number;
  network: number;
  client: ClientKey;
  htype: number;
  hwaddr: Buffer;
  clientId: Buffer | null;
  /** Seconds; null = no end (permanent). */
  leaseSeconds: number | null;
  state: LeaseState.ACTIVE | LeaseState.BOOTP;
  clientHostname: string | null;
  hostname: string | null;
}

/** Why a release was refused, in the words an administrator reads. */
export type ReleaseRefusal = 'no-record' | 'not-active' | 'other-client';

export class LeaseOwner {
  private pools = new Map<number, NetworkPool>();
  /** Told after a batch was rolled back and the pools were reset (the server logs it). */
  onRollback: ((err: Error) => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly autoRelease: () => boolean = () => false,
  ) {
    // A rolled-back batch took back writes the pools were told of: nothing cached can be trusted.
    store.onRollback = (err) => {
      for (const pool of this.pools.values()) pool.reset();
      this.onRollback?.(err);
    };
  }

  /** The pool of a network we allocate in (undefined for networks without a range of ours). */
  poolOf(network: number): NetworkPool | undefined {
    return this.pools.get(network);
  }

  /** Every pool, by network. */
  get allPools(): ReadonlyMap<number, NetworkPool> {
    return this.pools;
  }

  /**
   * Builds the pools of a configuration. A network whose ranges, mask and reserved addresses did not
   * change keeps its pool (free list, holds, counters); the others start afresh from the store.
   */
  configure(config: Config): void {
    const settings = { freeListSize: config.policy.free_list_size, provisionalTtlMs: config.policy.provisional_ttl * 1000 };
    const reservedByNet = new Map<number, Set<number>>();
    for (const binding of staticBindings(config.dhcpcap)) {
      for (const net of config.networks) {
        if (!inNetwork(binding.address, net.address, net.mask)) continue;
        let reserved = reservedByNet.get(net.address);
        if (!reserved) reservedByNet.set(net.address, (reserved = new Set()));
        reserved.add(binding.address);
      }
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
        pools.set(net.address, new NetworkPool(net.address, net.mask, net.ourRanges, reserved, settings, this.store));
      }
    }
    this.pools = pools;
  }

  /**
   * Makes the address the client's lease (or BOOTP allocation) and ends its provisional hold. A binding
   * an administrator loaded (joind load, joind ctl bind) stays a binding when its client takes it:
   * renewing must not turn it into a lease that can end and be given to someone else. With auto_release,
   * the client gives up its records on every other network.
   */
  grant(grant: LeaseGrant, nowSec: number): LeaseRecord {
    const existing = this.store.leases.get(grant.address);
    const binding = existing?.state === LeaseState.STATIC && sameClient(existing.client, grant.client);
    const record: LeaseRecord = {
      address: grant.address,
      network: grant.network,
      client: grant.client,
      htype: grant.htype,
      hwaddr: grant.hwaddr,
      clientId: grant.clientId,
      starts: nowSec,
      ends: binding || grant.leaseSeconds === null ? null : nowSec + grant.leaseSeconds,
      cltt: nowSec,
      state: binding ? LeaseState.STATIC : grant.state,
      clientHostname: grant.clientHostname,
      hostname: grant.hostname,
    };
    this.put(record);
    if (this.autoRelease()) {
      // auto_release: a client that appears on this network gives up its leases on every other one.
      for (const other of this.store.leases.findAllOfClient(grant.client)) {
        if (other.network !== record.network) this.delete(other.address);
      }
    }
    const pool = this.pools.get(record.network);
    pool?.releaseHoldOf(keyString(grant.client), false);
    pool?.releaseHold(record.address, false);
    return record;
  }

  /**
   * The release rule, for DHCPRELEASE and `joind ctl release` alike: an active lease ends now; the
   * record stays (state released), so its client may get the address back later, and the pool reuses it
   * once no never-used address is left. `client` (for DHCPRELEASE) must be the lease's holder.
   */
  release(address: number, nowSec: number, client?: ClientKey): LeaseRecord | ReleaseRefusal {
    const record = this.store.leases.get(address);
    if (!record) return 'no-record';
    if (client && !sameClient(record.client, client)) return 'other-client';
    if (record.state !== LeaseState.ACTIVE) return 'not-active';
    const released: LeaseRecord = { ...record, state: LeaseState.RELEASED, ends: nowSec, cltt: nowSec };
    this.put(released);
    return released;
  }

  /** Marks an address abandoned (it answered a ping or was declined), with the time; no client holds it. */
  abandon(network: number, address: number, nowSec: number): void {
    this.put({
      address,
      network,
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
    });
    this.pools.get(network)?.releaseHold(address, false);
  }

  /** bp_auto_extension: a BOOTP client still uses its ended allocation; it is its own for `seconds` more. */
  extend(record: LeaseRecord, seconds: number, nowSec: number): LeaseRecord {
    const extended: LeaseRecord = { ...record, ends: nowSec + seconds, cltt: nowSec };
    this.put(extended);
    return extended;
  }

  /**
   * Marks active leases whose end has passed as expired (the records stay, for the client's return).
   * BOOTP allocations whose end has passed keep their state: at reuse they are pinged first, and a
   * client still using one gets an extension (bp_auto_extension). Returns how many were marked.
   */
  expireDue(nowSec: number): number {
    const expired = this.store.write(() => this.store.leases.expireDue(nowSec));
    // An expired record frees its address; the pools find it by their reuse query, nothing is cached.
    return expired.length;
  }

  /**
   * Writes a record as given (an administrator's load or binding). A record the client had for another
   * address of the same network is removed (one record per client and network).
   */
  put(record: LeaseRecord): void {
    const freed = this.store.write(() => this.store.leases.put(record));
    for (const address of freed) this.recordChanged(record.network, address, undefined);
    this.recordChanged(record.network, record.address, record);
  }

  /** Removes the record of an address: it becomes never-used again. Returns whether there was one. */
  delete(address: number): boolean {
    const record = this.store.leases.get(address);
    if (!record) return false;
    this.store.write(() => this.store.leases.delete(address));
    this.recordChanged(record.network, address, undefined);
    return true;
  }

  /** Tells the pool that owns the address what its record now is (undefined: it has none). */
  private recordChanged(network: number, address: number, record: LeaseRecord | undefined): void {
    const pool = this.pools.get(network) ?? this.poolContaining(address);
    pool?.recordChanged(address, record);
  }

  /** A record loaded with no network (or another one) may still lie in one of our pools. */
  private poolContaining(address: number): NetworkPool | undefined {
    for (const pool of this.pools.values()) if (inNetwork(address, pool.network, pool.mask)) return pool;
    return undefined;
  }
}

function sameRanges(a: readonly { start: number; end: number }[], b: readonly { start: number; end: number }[]): boolean {
  return a.length === b.length && a.every((r, i) => r.start === b[i]?.start && r.end === b[i]?.end);
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
