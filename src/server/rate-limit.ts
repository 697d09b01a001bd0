// Flood control: server.pcy's rate_limit_per_interface and rate_limit_per_relay (extensions of joind-TS).
//
// A token bucket per interface (packets that came straight from clients) and per relay (giaddr): each
// holds one second's worth of packets and refills continuously. A packet that finds its bucket empty is
// dropped, unless it comes from a known client (a dhcpcap host entry or a registered hardware address):
// those get a small bucket per hardware address instead, so a flood of unknown MACs cannot lock out the
// machines the administrator named, and one spoofed known MAC cannot flood either. Relayed packets count
// against their relay only, so one busy relay does not starve the others behind the same interface.
//
// Cost on the packet path: nothing when both limits are 0 (the default); otherwise one Map lookup and a
// little arithmetic. "Known" is asked only for packets already over the limit.

/** Packets per second, and burst, allowed to each known client once its interface or relay is over. */
const KNOWN_CLIENT_RATE = 5;
/** Buckets kept at most per kind: keys come from the wire (giaddr, chaddr), so the maps must be bounded. */
const MAX_BUCKETS = 4096;

class TokenBuckets<K> {
  private readonly buckets = new Map<K, { tokens: number; at: number }>();

  constructor(private rate: number) {}

  setRate(rate: number): void {
    this.rate = rate;
  }

  /** Takes a token from key's bucket at time nowMs; false when the bucket is empty. */
  take(key: K, nowMs: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.prune(nowMs);
      bucket = { tokens: this.rate, at: nowMs };
      this.buckets.set(key, bucket);
    } else {
      // Never less than nothing: after the clock stepped back (src/server/lease-clock.ts) a bucket's time
      // is ahead of now, and a negative refill would empty it for the size of the step.
      bucket.tokens = Math.min(this.rate, bucket.tokens + (Math.max(0, nowMs - bucket.at) * this.rate) / 1000);
      bucket.at = nowMs;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets buckets that have refilled (idle for a second or more): they hold no state worth keeping. */
  private prune(nowMs: number): void {
    for (const [key, bucket] of this.buckets) if (nowMs - bucket.at >= 1000) this.buckets.delete(key);
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
  }
}

export type RateVerdict = 'ok' | 'rate-limit-interface' | 'rate-limit-relay';

export class RateLimiter {
  private perInterface: TokenBuckets<string> | null = null;
  private perRelay: TokenBuckets<number> | null = null;
  private readonly knownClients = new TokenBuckets<string>(KNOWN_CLIENT_RATE);

  constructor(perInterface: number, perRelay: number) {
    this.setLimits(perInterface, perRelay);
  }

  /** Whether any limit is in force (the packet path skips the limiter otherwise). */
  get active(): boolean {
    return this.perInterface !== null || this.perRelay !== null;
  }

  /** New limits (SIGHUP); 0 switches a limit off. Buckets of a limit that stays on keep their state. */
  setLimits(perInterface: number, perRelay: number): void {
    this.perInterface = perInterface > 0 ? (this.perInterface ?? new TokenBuckets<string>(perInterface)) : null;
    this.perInterface?.setRate(perInterface);
    this.perRelay = perRelay > 0 ? (this.perRelay ?? new TokenBuckets<number>(perRelay)) : null;
    this.perRelay?.setRate(perRelay);
  }

  /**
   * Whether a packet may be handled. `ifname` is where it arrived (undefined: the transport cannot tell),
   * `giaddr` its relay (0: none); `knownClient` answers, only when asked, by the hardware address it is
   * keyed on, or null when the client is unknown.
   */
  admit(ifname: string | undefined, giaddr: number, nowMs: number, knownClient: () => string | null): RateVerdict {
    let verdict: RateVerdict;
    if (giaddr !== 0) {
      if (this.perRelay === null || this.perRelay.take(giaddr, nowMs)) return 'ok';
      verdict = 'rate-limit-relay';
    } else {
      if (this.perInterface === null || this.perInterface.take(ifname ?? '', nowMs)) return 'ok';
      verdict = 'rate-limit-interface';
    }
    const known = knownClient();
    return known !== null && this.knownClients.take(known, nowMs) ? 'ok' : verdict;
  }
}
