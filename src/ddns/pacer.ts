// How fast the dynamic DNS worker may start jobs: DNS updates share the event loop (and, on an
// appliance, the one core) with the packet path, and a DNS update costs several times a DORA (two
// signed exchanges and their bookkeeping). So under a DHCP load that fills the loop, DNS takes what is
// left and no more: the queue is durable, a record that appears later loses nothing, a dropped DHCP
// packet does.
//
// Judged per window on the loop's utilization: while DHCP packets arrive and the loop is busier than
// BUSY, the worker's allowance of job starts per window falls to a trickle at once (never to none, so
// DNS keeps moving): one window, not several, before the packet path has its loop back, since a burst
// of DNS work at the start of a load is what drops DHCP packets. When the loop has room again, or no
// DHCP packet came (a drain after an outage: DNS may have the whole loop), the allowance doubles back
// up to unlimited. A worker starts at the trickle too, so a load that meets a fresh start (or a queue
// left by the previous run) is not met by a burst either; a drain is unlimited within a second.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export const WINDOW_MS = 100;
/** Loop utilization above which a DHCP load makes the worker back off. */
export const BUSY = 0.8;
/** Below this the allowance grows again. */
export const ROOM = 0.65;
/** Job starts per window at the least (10/s): the trickle that keeps DNS moving under any load. */
export const MIN_STARTS = 1;
/** At or above this the allowance is unlimited (the worker's in-flight cap rules alone). */
export const MAX_STARTS = 256;

/** The loop's utilization since the previous call (0..1). */
export type LoopUtilization = () => number;

/** performance.eventLoopUtilization as a since-last-call reading. */
export function eventLoopUtilization(): LoopUtilization {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    return delta.utilization;
  };
}

export class DdnsPacer {
  /** Job starts allowed per window. */
  private allowance = MIN_STARTS;
  /** Job starts taken in this window. */
  private started = 0;
  private windowStart: number;
  private packetsAtWindowStart: number;

  constructor(
    /** How many DHCP packets have arrived so far (a counter that only grows). */
    private readonly packetsSeen: () => number,
    private readonly loopUtilization: LoopUtilization = eventLoopUtilization(),
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.windowStart = nowMs();
    this.packetsAtWindowStart = packetsSeen();
  }

  /** Job starts allowed per second while a DHCP load holds DNS back; null when not held back. */
  get pacedPerSecond(): number | null {
    return this.allowance >= MAX_STARTS ? null : Math.round((this.allowance * 1000) / WINDOW_MS);
  }

  /** Whether a job may start now; when not, try again in waitMs(). */
  mayStart(): boolean {
    this.roll();
    return this.allowance >= MAX_STARTS || this.started < this.allowance;
  }

  /** Takes one job start; false when this window's allowance is spent (see waitMs). */
  take(): boolean {
    if (!this.mayStart()) return false;
    this.started++;
    return true;
  }

  /** How long until the next window, when take() said no. */
  waitMs(): number {
    return Math.max(1, this.windowStart + WINDOW_MS - this.nowMs());
  }

  /** At a window's end: judge it, and open the next. */
  private roll(): void {
    const now = this.nowMs();
    if (now - this.windowStart < WINDOW_MS) return;
    const busy = this.loopUtilization();
    const packets = this.packetsSeen();
    const dhcpLoad = packets > this.packetsAtWindowStart;
    if (dhcpLoad && busy > BUSY) this.allowance = MIN_STARTS;
    else if (!dhcpLoad || busy < ROOM) this.allowance = Math.min(MAX_STARTS, this.allowance * 2);
    this.started = 0;
    this.windowStart = now;
    this.packetsAtWindowStart = packets;
  }
}
