// Lease length and renewal times (joind-spec.md 3.1 item 8, RFC 2131 4.4.5).

/** The "infinite" lease time of RFC 2132 (option 51 = 0xffffffff). */
export const INFINITE = 0xffffffff;

export interface LeaseTimes {
  /** Seconds, or INFINITE. */
  lease: number;
  /** Renewal (T1) and rebinding (T2) times in seconds; absent for an infinite lease. */
  t1?: number;
  t2?: number;
}

/**
 * The lease to grant: the most specific entry's `lt` (else default_ttl), or what the client asked for
 * (option 51) within `ln`..`lx` (dhcpd's min-lease-time and max-lease-time; `lx` defaults to the lease
 * time, so without it a client gets at most `lt`, and without `ln` as little as it asks). T1 and T2 come
 * from `t1`/`t2` when they fit inside the lease, else 50 % and 87.5 % of it, as RFC 2131 suggests.
 */
export function leaseTimes(
  configured: { lt?: number; t1?: number; t2?: number; ln?: number; lx?: number },
  defaultTtl: number,
  requested?: number,
): LeaseTimes {
  const base = configured.lt ?? defaultTtl;
  let lease = base;
  if (requested !== undefined && requested > 0) {
    const longest = configured.lx ?? base;
    const shortest = Math.min(configured.ln ?? 0, longest);
    if (longest !== INFINITE && requested > longest) lease = longest;
    else lease = Math.max(requested, shortest);
  }
  if (lease === INFINITE) return { lease };
  let t1 = configured.t1 !== undefined && configured.t1 < lease ? configured.t1 : Math.floor(lease * 0.5);
  let t2 = configured.t2 !== undefined && configured.t2 < lease ? configured.t2 : Math.floor(lease * 0.875);
  if (t2 <= t1) {
    t1 = Math.floor(lease * 0.5);
    t2 = Math.floor(lease * 0.875);
  }
  return { lease, t1, t2 };
}
