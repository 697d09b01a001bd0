// Membership tests over a network's sorted, disjoint address ranges.
import type { AddressRange } from '../config/types';

/** The range of the sorted, disjoint ranges that holds the address (binary search), if any. */
export function rangeAt<R extends AddressRange>(ranges: readonly R[], address: number): R | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const range = ranges[mid]!;
    if (address < range.start) hi = mid - 1;
    else if (address > range.end) lo = mid + 1;
    else return range;
  }
  return undefined;
}

/** Whether address lies in one of the sorted, disjoint ranges. */
export function inRanges(ranges: readonly AddressRange[], address: number): boolean {
  return rangeAt(ranges, address) !== undefined;
}

/** Number of addresses in the ranges. */
export function rangeSize(ranges: readonly AddressRange[]): number {
  let total = 0;
  for (const r of ranges) total += r.end - r.start + 1;
  return total;
}
