// Failover pool balance (draft-12 section 5.4; dhcpd's dhcp_failover_pool_dobalance): the free addresses
// of each failover range are split between the primary's free state (FREE) and the secondary's
// (BACKUP). A server that holds more than half gives the difference to its peer, one binding update per
// address, through the lease owner (which queues them to the peer). dhcpd waits until the imbalance
// passes max-lease-misbalance (15 %); joind balances to halves whenever it is asked (on entering normal
// and on POOLREQ), which is what an administrator comparing the two servers' counts expects.
import type { LeaseOwner } from '../alloc/lease-owner';
import type { Store } from '../store/store';
import { LeaseState } from '../store/types';

/** Moves own free addresses to the peer until each side holds half (±1). Returns how many moved. */
export function balancePools(owner: LeaseOwner, store: Store, role: 'primary' | 'secondary', nowMs: number): number {
  const own = role === 'primary' ? LeaseState.FREE : LeaseState.BACKUP;
  const theirs = role === 'primary' ? LeaseState.BACKUP : LeaseState.FREE;
  let moved = 0;
  for (const range of owner.pairedRanges) {
    const mine: number[] = [];
    let peers = 0;
    for (const record of store.leases.inRange(range.start, range.end)) {
      if (record.state === own) mine.push(record.address);
      else if (record.state === theirs) peers++;
    }
    let give = Math.floor((mine.length - peers) / 2);
    // From the top of the range down: each side then holds a contiguous run, easy to read in a dump.
    for (let i = mine.length - 1; i >= 0 && give > 0; i--) {
      if (owner.moveFree(mine[i]!, theirs, nowMs)) {
        give--;
        moved++;
      }
    }
  }
  return moved;
}
