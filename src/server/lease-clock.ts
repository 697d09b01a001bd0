// The time leases are judged by. An appliance without a battery-backed clock boots at its firmware's
// build date (or 1970) and NTP steps the wall clock by months a few minutes later; clocks also step
// back. Lease ends are absolute times in the store, so a server that read the wall clock directly would
// see every lease expire at a step forward (and give addresses in use to others) or hold leases for the
// size of a step back.
//
// The lease clock runs on the monotonic clock, which a step does not move, anchored to the wall clock.
// Once a second the daemon compares the two (check): a difference of STEP_MS or more is a step. The
// store's times are then moved by the step in one transaction (server.shiftTime), so every lease keeps
// the time it had left, and only then does the lease clock take the wall clock's new reading. Between a
// step and its check (at most a second) the lease clock still agrees with the store.
//
// NTP's slewing (at most 0.5 ms per second) moves the monotonic clock as it moves the wall clock, so the
// two part only at a step.

/** A difference between the wall clock and the lease clock of at least this much is a step. */
export const STEP_MS = 2_000;

export interface ClockSources {
  /** The wall clock: milliseconds since 1970. */
  wall: () => number;
  /** A monotonic clock in milliseconds, from any origin. */
  monotonic: () => number;
}

const SYSTEM: ClockSources = { wall: Date.now, monotonic: () => performance.now() };

export class LeaseClock {
  private wallAtAnchor: number;
  private monotonicAtAnchor: number;

  constructor(private readonly sources: ClockSources = SYSTEM) {
    this.wallAtAnchor = sources.wall();
    this.monotonicAtAnchor = sources.monotonic();
  }

  /** Milliseconds since 1970 by the lease clock. */
  readonly now = (): number => this.wallAtAnchor + (this.sources.monotonic() - this.monotonicAtAnchor);

  /**
   * The wall clock's step since the last check, in milliseconds (positive: forward), or 0 when it did
   * not step. Does not take the new reading: the caller moves the store's times first, then calls
   * adopt().
   */
  check(): number {
    const step = this.sources.wall() - this.now();
    return Math.abs(step) >= STEP_MS ? step : 0;
  }

  /** Takes the wall clock's reading again (after a step whose times were moved). */
  adopt(): void {
    this.wallAtAnchor = this.sources.wall();
    this.monotonicAtAnchor = this.sources.monotonic();
  }
}
