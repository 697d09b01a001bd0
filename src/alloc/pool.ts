// One network's pool, as joind keeps it (joind-spec.md section 3): a small free list of addresses ready
// to offer, a provisional list of addresses offered and awaiting a REQUEST, and the permanent store
// behind them. The free list is only a cache: it is refilled from the store when it runs dry, so memory
// does not depend on the size of the ranges (a never-used address has no row and no entry anywhere;
// a cursor per range remembers how far the search for never-used addresses has gone).
//
// Ranges with a rule (dhcpcap range entries: who may be given their addresses, dhcpd's pool permits)
// have a free list of their own per rule, so a client is offered only what it may have and never
// waits behind addresses it may not.
import type { AddressRange, RangeRule } from '../config/types';
import type { Store } from '../store/store';
import { LeaseRecord, LeaseState } from '../store/types';
import { inRanges, rangeAt } from './ranges';

export interface PoolSettings {
  freeListSize: number;
  provisionalTtlMs: number;
}

/**
 * A range of the pool, the failover relationship that serves it (undefined: this server alone), and the
 * rule of who may be given its addresses (undefined: every client).
 */
export type PoolRange = AddressRange & { failover?: string | undefined; rule?: RangeRule | undefined };

/** Whether the client asking may be given a new address from ranges of this rule. */
export type Admits = (rule: RangeRule) => boolean;

/** For a pool without rules, or a caller that does not filter. */
export const ADMITS_ALL: Admits = () => true;

/** Whether a client is admitted to the range holding an address (true outside ranges with a rule). */
export function admitted(pool: NetworkPool, address: number, admits: Admits): boolean {
  const rule = pool.ruleOf(address);
  return rule === undefined || admits(rule);
}

/**
 * Failover ranges: every address has a record, and which of them this server may allocate is the failover
 * engine's to say: its own free state (the primary FREE, the secondary BACKUP) while its state lets it
 * serve, and in partner-down also the peer's free and the ended records, once the MCLT has passed.
 */
export interface PairedPolicy {
  /** The binding states in which free addresses are looked for now, best first (empty: none). */
  freeStates(): readonly LeaseState[];
  /** Whether a record of a failover range is this server's to allocate now. */
  mayTake(record: LeaseRecord, nowSec: number): boolean;
}

const NO_PAIR: PairedPolicy = { freeStates: () => [], mayTake: () => false };

/** Addresses the never-used search looks at per step (see loadNeverUsed). */
const NEVER_USED_WINDOW = 4096;

interface Provisional {
  client: string;
  expiresAt: number;
}

interface RangeCursor {
  start: number;
  end: number;
  /** Lowest address of the range not yet looked at by the never-used search. */
  next: number;
}

/** The ranges of one rule (or of none), with their own free list. */
interface RangeGroup {
  rule: RangeRule | undefined;
  ranges: PoolRange[];
  free: number[];
  cursors: RangeCursor[];
}

/** Whether a record still holds its address at time now (seconds): an unexpired lease or a binding. */
export function holdsAddress(record: LeaseRecord, nowSec: number): boolean {
  switch (record.state) {
    case LeaseState.ACTIVE:
    case LeaseState.STATIC:
    case LeaseState.BOOTP:
      return record.ends === null || record.ends > nowSec;
    default:
      return false;
  }
}

export interface PoolCounters {
  refills: number;
  neverUsedLoaded: number;
  reusedLoaded: number;
  abandonedLoaded: number;
  provisionalReclaimed: number;
  exhausted: number;
  /** Ping checks of this network's candidates, and those that answered (then abandoned). */
  pingChecks: number;
  pingConflicts: number;
}

export class NetworkPool {
  /** The ranges by rule: those with a rule first (a client they admit is given theirs first), then the open ones. */
  private readonly groups: RangeGroup[];
  private readonly onFree = new Set<number>();
  private readonly provisional = new Map<number, Provisional>();
  private readonly provisionalOf = new Map<string, number>();
  readonly counters: PoolCounters = {
    refills: 0,
    neverUsedLoaded: 0,
    reusedLoaded: 0,
    abandonedLoaded: 0,
    provisionalReclaimed: 0,
    exhausted: 0,
    pingChecks: 0,
    pingConflicts: 0,
  };

  /** The failover ranges of the network (empty without failover). */
  private readonly paired: readonly PoolRange[];

  constructor(
    readonly network: number,
    readonly mask: number,
    readonly ranges: readonly PoolRange[],
    /** Addresses never handed out dynamically: static bindings, the network and broadcast addresses, ours. */
    private readonly reserved: ReadonlySet<number>,
    private settings: PoolSettings,
    private readonly store: Store,
    private readonly pairedPolicy: PairedPolicy = NO_PAIR,
  ) {
    this.paired = ranges.filter((r) => r.failover !== undefined);
    const byRule = new Map<string, RangeGroup>();
    for (const range of ranges) {
      const key = range.rule?.label ?? '';
      let group = byRule.get(key);
      if (!group) byRule.set(key, (group = { rule: range.rule, ranges: [], free: [], cursors: [] }));
      group.ranges.push(range);
      // Failover ranges have a record for every address: the never-used search is for the others only.
      if (range.failover === undefined) group.cursors.push({ start: range.start, end: range.end, next: range.start });
    }
    const open = byRule.get('');
    byRule.delete('');
    this.groups = [...byRule.values()];
    if (open || this.groups.length === 0) this.groups.push(open ?? { rule: undefined, ranges: [], free: [], cursors: [] });
  }

  /** Whether some of the ranges have a rule (a range entry): then who asks matters. */
  get hasRules(): boolean {
    return this.groups.length > 1 || this.groups[0]!.rule !== undefined;
  }

  /** The rule of the range holding the address (undefined: none, or not in our ranges). */
  ruleOf(address: number): RangeRule | undefined {
    return this.hasRules ? rangeAt(this.ranges, address)?.rule : undefined;
  }

  /** The group of the range holding the address (with one group, that one: callers check the ranges). */
  private groupOf(address: number): RangeGroup | undefined {
    if (this.groups.length === 1) return this.groups[0];
    const range = rangeAt(this.ranges, address);
    return range && this.groups.find((g) => g.rule === range.rule);
  }

  /** Whether the address lies in a failover range of this network. */
  isPaired(address: number): boolean {
    return this.paired.length > 0 && inRanges(this.paired, address);
  }

  /**
   * Whether a new client may be given the address, its record being `record`: outside failover, when no
   * one holds it; in a failover range, only from this server's own free state, while it may allocate.
   */
  freeToAllocate(address: number, record: LeaseRecord | undefined, nowSec: number): boolean {
    if (this.isPaired(address)) return record !== undefined && this.pairedPolicy.mayTake(record, nowSec);
    return !record || !holdsAddress(record, nowSec);
  }

  get reservedSet(): ReadonlySet<number> {
    return this.reserved;
  }

  updateSettings(settings: PoolSettings): void {
    this.settings = settings;
  }

  /** Whether the address is one this pool may allocate dynamically. */
  allocatable(address: number): boolean {
    return inRanges(this.ranges, address) && !this.reserved.has(address);
  }

  /** The address provisionally held for a client, if its hold has not expired. */
  heldFor(client: string, nowMs: number): number | undefined {
    const address = this.provisionalOf.get(client);
    if (address === undefined) return undefined;
    const hold = this.provisional.get(address);
    if (!hold || hold.expiresAt <= nowMs) return undefined;
    return address;
  }

  /** The client holding the address provisionally, if the hold has not expired. */
  holderOf(address: number, nowMs: number): string | undefined {
    const hold = this.provisional.get(address);
    if (!hold || hold.expiresAt <= nowMs) return undefined;
    return hold.client;
  }

  /** Puts the address on the provisional list for the client (replacing the client's earlier hold). */
  hold(address: number, client: string, nowMs: number): void {
    const previous = this.provisionalOf.get(client);
    if (previous !== undefined && previous !== address) this.dropHold(previous, true);
    const other = this.provisional.get(address);
    if (other && other.client !== client) this.provisionalOf.delete(other.client);
    this.removeFromFree(address);
    this.provisional.set(address, { client, expiresAt: nowMs + this.settings.provisionalTtlMs });
    this.provisionalOf.set(client, address);
  }

  /** Ends the client's hold, e.g. once its lease is committed or it chose another server. */
  releaseHoldOf(client: string, backToFreeList: boolean): void {
    const address = this.provisionalOf.get(client);
    if (address !== undefined) this.dropHold(address, backToFreeList);
  }

  /** Ends any hold on the address. */
  releaseHold(address: number, backToFreeList: boolean): void {
    this.dropHold(address, backToFreeList);
  }

  /** Number of unexpired provisional holds (for the status page and metrics). */
  provisionalCount(nowMs: number): number {
    let n = 0;
    for (const hold of this.provisional.values()) if (hold.expiresAt > nowMs) n++;
    return n;
  }

  freeListLength(): number {
    let n = 0;
    for (const group of this.groups) n += group.free.length;
    return n;
  }

  /**
   * Whether take() would likely find an address for a client the rules admit as `admits` says: a free
   * list holds one, or a refill finds one (the lists' addresses are checked again when taken). For
   * choosing among the networks of a shared link.
   */
  mayOffer(nowMs: number, admits: Admits = ADMITS_ALL): boolean {
    return this.groups.some((g) => this.admits(g, admits) && (g.free.length > 0 || this.refill(g, nowMs)));
  }

  /**
   * The next address to offer a new client: the head of the first free list of ranges it is admitted
   * to, refilled when empty. The address is checked against the store again (a client may have asked
   * for it by name since it was loaded). Returns undefined when nothing it may have is free.
   */
  take(nowMs: number, admits: Admits = ADMITS_ALL): number | undefined {
    for (const group of this.groups) {
      if (!this.admits(group, admits)) continue;
      const address = this.takeFrom(group, nowMs);
      if (address !== undefined) return address;
    }
    this.counters.exhausted++;
    return undefined;
  }

  private admits(group: RangeGroup, admits: Admits): boolean {
    return group.rule === undefined || admits(group.rule);
  }

  private takeFrom(group: RangeGroup, nowMs: number): number | undefined {
    const nowSec = Math.floor(nowMs / 1000);
    for (let round = 0; round < 2; round++) {
      while (group.free.length > 0) {
        const address = group.free.shift()!;
        this.onFree.delete(address);
        if (!this.allocatable(address) || this.holderOf(address, nowMs) !== undefined) continue;
        if (!this.freeToAllocate(address, this.store.leases.get(address), nowSec)) continue;
        return address;
      }
      if (round === 0 && !this.refill(group, nowMs)) break;
    }
    return undefined;
  }

  /** Gives an address back to the free list (it was taken but not offered). */
  giveBack(address: number): void {
    const group = this.groupOf(address);
    if (group && !this.onFree.has(address) && this.allocatable(address)) {
      group.free.unshift(address);
      this.onFree.add(address);
    }
  }

  /**
   * The lease owner tells the pool of every record it writes or removes (undefined: the address has no
   * record any more). An address someone now holds leaves the free list; one that lost its record is
   * never-used again, so the never-used search must look at it once more. A record that no longer holds
   * its address (released, expired, abandoned) needs nothing: the reuse search finds it in the store.
   */
  recordChanged(address: number, record: LeaseRecord | undefined): void {
    if (record === undefined) this.forgetRecord(address);
    // Whatever its end: take() checks the end against the store before offering anyway.
    else if (holdsAddress(record, 0)) this.removeFromFree(address);
    // A failover address that left our free state (the peer's update, a pool balance) is not ours to offer.
    else if (this.isPaired(address) && !this.pairedPolicy.freeStates().includes(record.state)) this.removeFromFree(address);
  }

  /**
   * The failover peer changed the address's record: it leaves the free list, and an offer of it is
   * withdrawn (a REQUEST for it then finds it taken, and gets a NAK).
   */
  peerChanged(address: number, record: LeaseRecord): void {
    this.dropHold(address, false);
    this.recordChanged(address, record);
  }

  /**
   * The store no longer has a record for this address (deleted, or rolled back): the never-used search
   * must look at it again.
   */
  private forgetRecord(address: number): void {
    for (const cursor of this.groupOf(address)?.cursors ?? []) {
      if (address >= cursor.start && address <= cursor.end && address < cursor.next) cursor.next = address;
    }
  }

  /** The clock stepped by stepMs (src/server/lease-clock.ts): each hold keeps the time it had left. */
  shiftTime(stepMs: number): void {
    for (const hold of this.provisional.values()) hold.expiresAt += stepMs;
  }

  /** After a rolled-back batch: nothing in memory can be trusted beyond the store. */
  reset(): void {
    this.onFree.clear();
    for (const group of this.groups) {
      group.free = [];
      for (const cursor of group.cursors) cursor.next = cursor.start;
    }
  }

  /**
   * Fills a group's free list when it is empty: first expired provisional holds come back (to their own
   * groups), then never-used addresses in increasing order, then expired and released records least
   * recently used first (so a returning client keeps its old address as long as possible), then
   * abandoned ones, oldest first.
   */
  private refill(group: RangeGroup, nowMs: number): boolean {
    this.counters.refills++;
    const want = Math.max(1, this.settings.freeListSize);
    for (const [address, hold] of this.provisional) {
      if (hold.expiresAt > nowMs) continue;
      this.dropHold(address, false);
      this.counters.provisionalReclaimed++;
      this.pushFree(address);
    }
    if (group.free.length > 0) return true;

    this.loadNeverUsed(group, want, nowMs);
    if (group.free.length > 0) return true;

    const nowSec = Math.floor(nowMs / 1000);
    // Active leases past their end that the sweep has not marked yet count as expired, and so do ended
    // BOOTP allocations (bp_auto_extension; the allocator pings them before reuse).
    // In failover ranges, our own free state is what is free (expired and released records wait for
    // the peer's acknowledgement, which makes them FREE).
    const states = [LeaseState.EXPIRED, LeaseState.RELEASED, LeaseState.ACTIVE, LeaseState.BOOTP];
    if (this.paired.length > 0) states.unshift(...this.pairedPolicy.freeStates().filter((s) => !states.includes(s)));
    this.loadReusable(group, states, want, nowSec, nowMs);
    if (group.free.length > 0) {
      this.counters.reusedLoaded += group.free.length;
      return true;
    }
    this.loadReusable(group, [LeaseState.ABANDONED], want, nowSec, nowMs);
    this.counters.abandonedLoaded += group.free.length;
    return group.free.length > 0;
  }

  private loadNeverUsed(group: RangeGroup, want: number, nowMs: number): void {
    const free = group.free;
    for (const cursor of group.cursors) {
      let next = cursor.next;
      while (next <= cursor.end && free.length < want) {
        // A window whose every address has a record is skipped by one count inside SQLite: a store of a
        // million leases given low-first is a million used addresses before the first never-used one,
        // which walked row by row held the first DISCOVER for half a second.
        const last = Math.min(cursor.end, next + NEVER_USED_WINDOW - 1);
        if (this.store.leases.usedCount(next, last) === last - next + 1) {
          next = last + 1;
          continue;
        }
        // Walk the window's used addresses in order; the gaps between them are never-used addresses.
        for (const used of this.store.leases.usedAddresses(next, last)) {
          while (next < used && free.length < want) {
            this.considerNeverUsed(next, nowMs);
            next++;
          }
          if (free.length >= want) break;
          next = used + 1;
        }
        while (next <= last && free.length < want) {
          this.considerNeverUsed(next, nowMs);
          next++;
        }
      }
      cursor.next = next;
      if (free.length >= want) break;
    }
  }

  private considerNeverUsed(address: number, nowMs: number): void {
    if (this.reserved.has(address) || this.holderOf(address, nowMs) !== undefined) return;
    if (this.pushFree(address)) this.counters.neverUsedLoaded++;
  }

  /**
   * Loads records in the given states, least recently used first, that are in the group's ranges and
   * unheld. With one group the network is asked at once; with rules, each range of the group on its own,
   * so another rule's records never crowd the group's out of the query's limit.
   */
  private loadReusable(group: RangeGroup, states: LeaseState[], want: number, nowSec: number, nowMs: number): void {
    const found: Array<{ address: number; cltt: number }> = [];
    const limit = want + this.provisional.size + 16;
    const spans = this.groups.length === 1 ? [{ start: 0, end: 0xffffffff }] : group.ranges;
    for (const state of states) {
      for (const span of spans) {
        for (const address of this.store.leases.reusableAddresses(this.network, state, nowSec, limit, span.start, span.end)) {
          if (!this.allocatable(address) || this.holderOf(address, nowMs) !== undefined) continue;
          const record = this.store.leases.get(address);
          if (!record || !this.freeToAllocate(address, record, nowSec)) continue;
          found.push({ address, cltt: record.cltt });
        }
      }
    }
    found.sort((a, b) => a.cltt - b.cltt || a.address - b.address);
    for (const { address } of found) {
      if (group.free.length >= want) break;
      this.pushFree(address);
    }
  }

  /** Puts the address on its group's free list (false: it is there, or in none of our ranges). */
  private pushFree(address: number): boolean {
    if (this.onFree.has(address)) return false;
    const group = this.groupOf(address);
    if (!group) return false;
    group.free.push(address);
    this.onFree.add(address);
    return true;
  }

  private removeFromFree(address: number): void {
    if (!this.onFree.delete(address)) return;
    const free = this.groupOf(address)?.free;
    const i = free ? free.indexOf(address) : -1;
    if (i >= 0) free!.splice(i, 1);
  }

  private dropHold(address: number, backToFreeList: boolean): void {
    const hold = this.provisional.get(address);
    if (!hold) return;
    this.provisional.delete(address);
    if (this.provisionalOf.get(hold.client) === address) this.provisionalOf.delete(hold.client);
    if (backToFreeList) this.giveBack(address);
  }
}
