// What the server can tell about itself, for the metrics endpoint, the control API and the status page:
// the use of each network's pool, counted from the store and the in-memory lists at the moment asked.
// Nothing here is on the packet path.
import { rangeSize } from '../alloc/ranges';
import type { NetworkConfig } from '../config/types';
import type { Store } from '../store/store';
import { LeaseState } from '../store/types';
import { ipToString } from '../util/ipv4';
import type { DhcpServer } from './server';

export interface NetworkUse {
  network: string;
  prefixLength: number;
  ranges: string[];
  /** Addresses this server may hand out (its ranges, less reserved addresses in them). */
  total: number;
  /** Held now: unexpired leases, bindings, BOOTP allocations. */
  assigned: number;
  /** On the provisional list: offered, awaiting the REQUEST. */
  offered: number;
  /** Abandoned (answered a ping or declined). */
  abandoned: number;
  free: number;
  /** Addresses ready on the in-memory free list, and how often it was refilled or ran dry. */
  freeList: number;
  refills: number;
  exhausted: number;
  /** Ping checks of offered candidates in this network, and the addresses that answered. */
  pingChecks: number;
  pingConflicts: number;
}

function holding(state: LeaseState, current: boolean): boolean {
  return (state === LeaseState.ACTIVE || state === LeaseState.STATIC || state === LeaseState.BOOTP) && current;
}

export function networkUse(networks: readonly NetworkConfig[], server: DhcpServer, store: Store, nowMs: number): NetworkUse[] {
  const nowSec = Math.floor(nowMs / 1000);
  const out: NetworkUse[] = [];
  for (const net of networks) {
    const pool = server.poolOf(net.address);
    if (!pool) continue;
    let reservedInRanges = 0;
    for (const address of pool.reservedSet)
      if (pool.ranges.some((r) => address >= r.start && address <= r.end)) reservedInRanges++;
    let assigned = 0;
    let abandoned = 0;
    for (const r of pool.ranges) {
      for (const c of store.leases.countStates(r.start, r.end, nowSec)) {
        if (holding(c.state, c.current)) assigned += c.count;
        else if (c.state === LeaseState.ABANDONED) abandoned += c.count;
      }
    }
    const total = rangeSize(pool.ranges) - reservedInRanges;
    const offered = pool.provisionalCount(nowMs);
    out.push({
      network: ipToString(net.address),
      prefixLength: net.prefixLength,
      ranges: pool.ranges.map((r) => (r.start === r.end ? ipToString(r.start) : `${ipToString(r.start)}-${ipToString(r.end)}`)),
      total,
      assigned,
      offered,
      abandoned,
      free: Math.max(0, total - assigned - offered - abandoned),
      freeList: pool.freeListLength(),
      refills: pool.counters.refills,
      exhausted: pool.counters.exhausted,
      pingChecks: pool.counters.pingChecks,
      pingConflicts: pool.counters.pingConflicts,
    });
  }
  return out;
}
