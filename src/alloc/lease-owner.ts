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
import type { Config, RangeRule } from '../config/types';
import { staticBindings } from '../config/lookup';
import type { Store } from '../store/store';
import type { ShiftedRows } from '../store/clock';
import { ClientKey, LeaseRecord, LeaseState } from '../store/types';
import { inNetwork } from '../util/ipv4';
import { keyString, sameClient } from './client-key';
import { holdsAddress, NetworkPool, type PairedPolicy, type PoolRange } from './pool';
import { inRanges } from './ranges';

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
  /** The FQDN dynamic DNS should give the address (absent or null: none). */
  dnsName?: string | null;
  /** false: the client writes its own A record (option 81 S=0), DNS gets our PTR only. Default true. */
  dnsForward?: boolean;
}

/**
 * Dynamic DNS, as the owner sees it (src/ddns/queue.ts): told of each change that matters to DNS, in
 * the batch of the change, so the job it queues is written with the lease.
 */
export interface DnsJobs {
  granted(record: LeaseRecord, fqdn: string | null, leaseSeconds: number | null, forward: boolean): void;
  ended(address: number, reason: 'released' | 'expired' | 'abandoned' | 'deleted' | 'moved'): void;
}

/**
 * The failover engine, as the owner sees it: a record of a failover range changed here must reach the
 * peer, the MCLT bounds the leases given, and the engine's state says whether we may allocate.
 */
export interface PeerSync {
  readonly role: 'primary' | 'secondary';
  /** The maximum client lead time in force, seconds. */
  mclt(): number;
  /** A record of a failover range was written here and waits for the peer (told after the write). */
  queued(address: number): void;
  /** The binding states this server finds free addresses in now, best first (see PairedPolicy). */
  freeStates(): readonly LeaseState[];
  /** Whether a record of a failover range is this server's to allocate now. */
  mayTake(record: LeaseRecord, nowSec: number): boolean;
  /**
   * Milliseconds a first lease may wait for the peer's acknowledgement (failover_ack_wait); 0: never.
   * When it may, a grant writes the full lease and the packet path waits before telling the client.
   */
  ackWaitMs(): number;
}

/** What the peer's BNDUPD did to our record. */
export type PeerUpdateResult = { accepted: true; record: LeaseRecord } | { accepted: false; why: 'less-critical' };

/** Why a release was refused, in the words an administrator reads. */
export type ReleaseRefusal = 'no-record' | 'not-active' | 'other-client';

export class LeaseOwner {
  private pools = new Map<number, NetworkPool>();
  /** The failover ranges of the running configuration, and the engine that serves them. */
  private paired: readonly { start: number; end: number }[] = [];
  private peer: PeerSync | null = null;
  private dns: DnsJobs | null = null;
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

  /**
   * The wall clock stepped by stepMs (src/server/lease-clock.ts): every stored time that is judged
   * against the clock moves with it, in one batch, and so do the pools' offer holds, so that each lease
   * and hold keeps the time it had left.
   */
  shiftTime(stepMs: number): ShiftedRows {
    const rows = this.store.write(() => this.store.clock.shift(stepMs));
    for (const pool of this.pools.values()) pool.shiftTime(stepMs);
    return rows;
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
      if (!net.served) continue;
      const reserved = reservedByNet.get(net.address) ?? new Set<number>();
      reserved.add(net.address);
      reserved.add((net.address | ~net.mask) >>> 0);
      for (const own of config.self.addresses) if (inNetwork(own, net.address, net.mask)) reserved.add(own);
      const old = this.pools.get(net.address);
      if (old && old.mask === net.mask && sameRanges(old.ranges, net.ourRanges) && sameSet(old.reservedSet, reserved)) {
        old.updateSettings(settings);
        pools.set(net.address, old);
      } else {
        pools.set(
          net.address,
          new NetworkPool(net.address, net.mask, net.ourRanges, reserved, settings, this.store, this.pairedPolicy),
        );
      }
      this.materialise(net.address, net.ourRanges, reserved);
    }
    this.pools = pools;
    this.paired = config.networks.flatMap((n) => n.ourRanges.filter((r) => r.failover !== undefined));
  }

  /** Connects dynamic DNS (null: none). */
  attachDns(dns: DnsJobs | null): void {
    this.dns = dns;
  }

  /** Connects the failover engine (null: none). */
  attachPeer(peer: PeerSync | null): void {
    this.peer = peer;
  }

  /** Whether the address lies in a failover range of the running configuration. */
  isPaired(address: number): boolean {
    return this.paired.length > 0 && inRanges(this.paired, address);
  }

  /** The network of an address of a failover range (undefined: not one of ours). */
  pairedNetworkOf(address: number): number | undefined {
    return this.isPaired(address) ? this.poolContaining(address)?.network : undefined;
  }

  /** The failover ranges of the running configuration. */
  get pairedRanges(): readonly { start: number; end: number }[] {
    return this.paired;
  }

  /**
   * What the pools of failover ranges may allocate: the engine says. With no engine attached (the admin
   * tools, or a test) the range is served alone, from the state every address starts in.
   */
  private readonly pairedPolicy: PairedPolicy = {
    freeStates: () => (this.peer ? this.peer.freeStates() : [LeaseState.FREE]),
    mayTake: (record, nowSec) => (this.peer ? this.peer.mayTake(record, nowSec) : record.state === LeaseState.FREE),
  };

  /** Every address of a failover range has a record, FREE at first (draft-12 section 5.2.1). */
  private materialise(
    network: number,
    ranges: readonly { start: number; end: number; failover: string | undefined }[],
    reserved: ReadonlySet<number>,
  ): void {
    for (const range of ranges) {
      if (range.failover === undefined) continue;
      const addresses = function* () {
        for (let a = range.start; a <= range.end; a++) if (!reserved.has(a)) yield a;
      };
      this.store.write(() => this.store.leases.materialise(network, addresses()));
    }
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
    const leaseSeconds =
      this.peer && this.isPaired(grant.address) && !binding ? this.mcltBounded(grant.leaseSeconds, existing, nowSec) : null;
    const record: LeaseRecord = {
      address: grant.address,
      network: grant.network,
      client: grant.client,
      htype: grant.htype,
      hwaddr: grant.hwaddr,
      clientId: grant.clientId,
      starts: nowSec,
      ends: leaseSeconds
        ? nowSec + leaseSeconds.granted
        : binding || grant.leaseSeconds === null
          ? null
          : nowSec + grant.leaseSeconds,
      cltt: nowSec,
      state: binding ? LeaseState.STATIC : grant.state,
      clientHostname: grant.clientHostname,
      hostname: grant.hostname,
    };
    if (leaseSeconds) {
      record.tstp = leaseSeconds.tstp;
      record.tsfp = existing?.tsfp ?? null;
    }
    this.put(record);
    this.dns?.granted(record, grant.dnsName ?? null, grant.leaseSeconds, grant.dnsForward ?? true);
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
   * The lease a failover server may give (draft-12 section 5.2.4, dhcpd's ack_lease): no longer than
   * the MCLT beyond what the peer has acknowledged (tsfp), so that the peer, which may not have heard of
   * the lease, never hands the address out while the client still uses it. The potential expiry sent to
   * the peer (tstp) is the full lease plus half the one given, so that the client's renewal at half its
   * lease finds the peer's acknowledgement far enough ahead to give it the full length.
   */
  private mcltBounded(
    desired: number | null,
    existing: LeaseRecord | undefined,
    nowSec: number,
  ): { granted: number; tstp: number } {
    const mclt = this.peer!.mclt();
    const wanted = Math.min(desired ?? 0x7fffffff, 0x7fffffff - nowSec);
    const tsfp = existing?.tsfp ?? 0;
    let granted = wanted;
    if (wanted > mclt) granted = tsfp <= nowSec ? mclt : Math.min(wanted, tsfp - nowSec + mclt);
    // joind's improvement: the full lease is written and sent to the peer, and the packet path tells the
    // client only what the peer's acknowledgement covers (server/pair-gate.ts), waiting briefly for it.
    if (granted < wanted && this.peer!.ackWaitMs() > 0) granted = wanted;
    return { granted, tstp: Math.min(nowSec + wanted + Math.floor(granted / 2), 0xffffffff) };
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
    this.dns?.ended(address, 'released');
    return released;
  }

  /** Marks an address abandoned (it answered a ping or was declined), with the time; no client holds it. */
  abandon(network: number, address: number, nowSec: number): void {
    this.put(nobodysRecord(network, address, LeaseState.ABANDONED, nowSec));
    this.dns?.ended(address, 'abandoned');
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
    if (this.dns) this.store.write(() => expired.forEach((address) => this.dns!.ended(address, 'expired')));
    // An expired record frees its address; the pools find it by their reuse query, nothing is cached.
    // In a failover range it is free only once the peer acknowledges the expiry: tell the peer.
    if (this.paired.length > 0) {
      for (const address of expired) {
        const record = this.isPaired(address) ? this.store.leases.get(address) : undefined;
        if (record) this.put(record);
      }
    }
    return expired.length;
  }

  /**
   * Writes a record as given (an administrator's load or binding). A record the client had for another
   * address of the same network is removed (one record per client and network).
   */
  put(record: LeaseRecord): void {
    const paired = this.isPaired(record.address);
    // A change made here in a failover range waits for the peer's acknowledgement.
    if (paired) record.peerPending = true;
    this.write(record);
    if (paired) this.peer?.queued(record.address);
  }

  /**
   * The failover peer's BNDUPD for an address of a failover range. Refused when our own unacknowledged
   * change holds the address for a client and the peer's would free it (dhcpd's reject "incoming update
   * is less critical than outgoing update"); else written as the peer says, and taken off every cache.
   */
  applyPeerUpdate(update: LeaseRecord, nowSec: number): PeerUpdateResult {
    const ours = this.store.leases.get(update.address);
    if (ours?.peerPending && holdsAddress(ours, nowSec) && !holdsAddress(update, nowSec)) {
      return { accepted: false, why: 'less-critical' };
    }
    const record: LeaseRecord = { ...update, peerPending: false, tsfp: update.tsfp ?? ours?.tsfp ?? null };
    // An expiry or a release the peer made frees the address at once: it has been agreed (draft-12 5.2).
    if (record.state === LeaseState.EXPIRED || record.state === LeaseState.RELEASED) record.state = LeaseState.FREE;
    this.write(record);
    (this.pools.get(record.network) ?? this.poolContaining(record.address))?.peerChanged(record.address, record);
    return { accepted: true, record };
  }

  /**
   * The peer acknowledged our update of the address, which carried `sent` (the record as it was then):
   * the record is in step, and an expired or released one is free now. When the record changed again
   * after that update left, only the acknowledged potential expiry is kept: the newer change still
   * waits for the peer.
   */
  peerAcknowledged(
    address: number,
    sent: Pick<LeaseRecord, 'state' | 'ends' | 'cltt'> & { tstp: number | null },
  ): LeaseRecord | undefined {
    const record = this.store.leases.get(address);
    if (!record?.peerPending) return record;
    const unchanged =
      record.state === sent.state &&
      record.ends === sent.ends &&
      record.cltt === sent.cltt &&
      (record.tstp ?? null) === sent.tstp;
    const acked: LeaseRecord = { ...record, peerPending: !unchanged, tsfp: sent.tstp ?? record.tsfp ?? null };
    if (unchanged && (acked.state === LeaseState.EXPIRED || acked.state === LeaseState.RELEASED)) acked.state = LeaseState.FREE;
    this.write(acked);
    return acked;
  }

  /**
   * The peer refused our update of the address (its own binding is more critical, or it does not know
   * the address): the update is not sent again until the record changes here, as dhcpd does; whatever
   * the peer knows better reaches us as its own update.
   */
  peerRefused(address: number, sent: Pick<LeaseRecord, 'state' | 'ends' | 'cltt'> & { tstp: number | null }): void {
    const record = this.store.leases.get(address);
    if (!record?.peerPending) return;
    const unchanged =
      record.state === sent.state &&
      record.ends === sent.ends &&
      record.cltt === sent.cltt &&
      (record.tstp ?? null) === sent.tstp;
    if (unchanged) this.write({ ...record, peerPending: false });
  }

  /** Failover pool balance: gives the address to the other server's free state (or back), and tells it. */
  moveFree(address: number, to: LeaseState.FREE | LeaseState.BACKUP, nowMs: number): boolean {
    const record = this.store.leases.get(address);
    if (!record || (record.state !== LeaseState.FREE && record.state !== LeaseState.BACKUP) || record.state === to) return false;
    const pool = this.pools.get(record.network) ?? this.poolContaining(address);
    if (pool?.holderOf(address, nowMs) !== undefined) return false;
    this.put({ ...record, state: to });
    return true;
  }

  /**
   * Writes a record in the current batch and tells its pool. The store keeps one record per client and
   * network, so the client's record of another address goes; in a failover range that address keeps a
   * record (released, nobody's) and the peer hears of it.
   */
  private write(record: LeaseRecord): void {
    const previous =
      this.paired.length > 0 && record.client ? this.store.leases.findByClient(record.network, record.client) : undefined;
    const freed = this.store.write(() => this.store.leases.put(record));
    for (const address of freed) {
      if (previous?.address === address && this.isPaired(address)) {
        this.put({ ...previous, client: null, state: LeaseState.RELEASED, ends: record.cltt, cltt: record.cltt });
      } else {
        this.recordChanged(record.network, address, undefined);
      }
      this.dns?.ended(address, 'moved');
    }
    this.recordChanged(record.network, record.address, record);
  }

  /**
   * Removes the record of an address: it becomes never-used again. Returns whether there was one. In a
   * failover range every address keeps a record: it becomes free instead, and the peer is told.
   */
  delete(address: number): boolean {
    const record = this.store.leases.get(address);
    if (!record) return false;
    if (this.isPaired(address)) {
      this.put({ ...nobodysRecord(record.network, address, LeaseState.FREE, 0), cltt: record.cltt, tsfp: record.tsfp ?? null });
    } else {
      this.store.write(() => this.store.leases.delete(address));
      this.recordChanged(record.network, address, undefined);
    }
    this.dns?.ended(address, 'deleted');
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

/** The record of an address nobody holds (abandoned, or free in a failover range), as of `at`. */
function nobodysRecord(network: number, address: number, state: LeaseState, at: number): LeaseRecord {
  return {
    address,
    network,
    client: null,
    htype: 0,
    hwaddr: null,
    clientId: null,
    starts: at,
    ends: null,
    cltt: at,
    state,
    clientHostname: null,
    hostname: null,
  };
}

function sameRanges(a: readonly PoolRange[], b: readonly PoolRange[]): boolean {
  return (
    a.length === b.length && a.every((r, i) => r.start === b[i]?.start && r.end === b[i]?.end && sameRule(r.rule, b[i]?.rule))
  );
}

/** Whether two range rules admit the same clients (a changed rule needs a new pool: its free lists). */
function sameRule(a: RangeRule | undefined, b: RangeRule | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.label === b.label &&
    a.knownOnly === b.knownOnly &&
    a.unknownOnly === b.unknownOnly &&
    a.noDynamicBootp === b.noDynamicBootp &&
    a.allowMembers.join(' ') === b.allowMembers.join(' ') &&
    a.denyMembers.join(' ') === b.denyMembers.join(' ')
  );
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
