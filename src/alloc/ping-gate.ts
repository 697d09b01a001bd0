// Whether an address is pinged before it is given, decided in one place: a ping socket must be open
// and the running configuration's ping_timeout above 0. The timeout is read at each check, so a reload
// turns the check on or off; the daemon hands over a socket opened later (setPinger) when a reload
// turns it on and none was open.

/** The ICMP echo check (src/io/ping.ts implements it). */
export interface PingChecker {
  /** true when the address answered within the timeout (it is in use). */
  check(address: number, timeoutMs: number): Promise<boolean>;
}

export class PingGate {
  constructor(
    private pinger: PingChecker | null,
    /** The running ping_timeout, in milliseconds. */
    private readonly timeoutMs: () => number,
  ) {}

  /** Whether addresses are pinged now. */
  get enabled(): boolean {
    return this.pinger !== null && this.timeoutMs() > 0;
  }

  /** Whether a ping socket is open (a reload may need to open one). */
  get hasPinger(): boolean {
    return this.pinger !== null;
  }

  setPinger(pinger: PingChecker | null): void {
    this.pinger = pinger;
  }

  /** true when the address answered (in use); false when it did not or when pinging is off. */
  async inUse(address: number): Promise<boolean> {
    const timeout = this.timeoutMs();
    if (this.pinger === null || timeout <= 0) return false;
    return this.pinger.check(address, timeout);
  }
}
