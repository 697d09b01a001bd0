// Which of our addresses a peer sees us as: the source address the kernel would pick towards a destination
// (a relay's giaddr, a client's network). The server puts it in the server identifier option, so it must
// be an address the peer can reach us at. Shared by the transports (udp.ts, raw.ts).

import dgram from 'node:dgram';
import os from 'node:os';

import { inNetwork, ipToString, maskFromPrefix, parseIp } from '../util/ipv4';
import type { InterfaceAddressV4 } from './interfaces';

/** Every IPv4 address of this host, loopback included, each once (os.networkInterfaces order). */
export function hostIpv4Addresses(): InterfaceAddressV4[] {
  const seen = new Set<number>();
  const result: InterfaceAddressV4[] = [];
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) {
      // Node 18.0-18.3 reported family as the number 4.
      if (entry.family !== 'IPv4' && (entry.family as unknown) !== 4) continue;
      const address = parseIp(entry.address);
      const prefixLength = entry.cidr === null ? 32 : Number(entry.cidr.split('/')[1]);
      if (address === undefined || seen.has(address) || !(prefixLength >= 0 && prefixLength <= 32)) continue;
      seen.add(address);
      result.push({ address, prefixLength, netmask: maskFromPrefix(prefixLength) });
    }
  }
  return result;
}

/** The address among `addresses` whose subnet holds `to`, or undefined. */
export function addressOnSubnetOf(
  to: number,
  addresses: readonly { address: number; prefixLength: number }[],
): number | undefined {
  for (const a of addresses) if (inNetwork(to, a.address, maskFromPrefix(a.prefixLength))) return a.address;
  return undefined;
}

interface Learnt {
  /** The kernel's source address towards the destination, or undefined when it has no route there. */
  address: number | undefined;
  learntAt: number;
}

export interface KernelSourceAddressOptions {
  /** How long an answer is trusted before it is checked again in the background (routes change). */
  ttlMs?: number;
  /** Bound on the remembered destinations (a flood of spoofed giaddrs must not grow memory forever). */
  maxEntries?: number;
  /** Port the probe connects to; it only selects a route, nothing is sent. */
  probePort?: number;
}

/**
 * The kernel's choice of source address towards each destination, learnt by connecting an unbound UDP
 * socket (a route lookup; no packet is sent) and reading its local address. Learning is asynchronous in
 * Node, so the first question about a destination answers undefined and the next ones the learnt address.
 * One probe at a time per destination; answers older than ttlMs are kept while a fresh probe runs.
 */
export class KernelSourceAddresses {
  private readonly learnt = new Map<number, Learnt>();
  private readonly probing = new Map<number, Array<(address: number | undefined) => void>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly probePort: number;
  private closed = false;

  constructor(options: KernelSourceAddressOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 4096;
    this.probePort = options.probePort ?? 67;
  }

  /** The learnt source address towards `to`; undefined while it is being learnt or when unreachable. */
  get(to: number): number | undefined {
    const known = this.learnt.get(to);
    if (known === undefined || Date.now() - known.learntAt > this.ttlMs) this.probe(to);
    return known?.address;
  }

  /** Resolves once the source address towards `to` is known (for tests and start-up warm-up). */
  learn(to: number): Promise<number | undefined> {
    return new Promise((resolve) => this.probe(to, resolve));
  }

  /**
   * What get() would answer, waiting for the first probe when `to` is new. A known answer, even "no
   * route", comes at once: a flood from an unreachable giaddr costs no probe per packet (get() refreshes).
   */
  answer(to: number): Promise<number | undefined> {
    const known = this.learnt.get(to);
    return known !== undefined ? Promise.resolve(this.get(to)) : this.learn(to);
  }

  /** Stops learning; answers already learnt stay readable. */
  close(): void {
    this.closed = true;
  }

  private probe(to: number, done?: (address: number | undefined) => void): void {
    if (this.closed) {
      done?.(this.learnt.get(to)?.address);
      return;
    }
    const waiting = this.probing.get(to);
    if (waiting !== undefined) {
      if (done) waiting.push(done);
      return;
    }
    const waiters: Array<(address: number | undefined) => void> = done ? [done] : [];
    this.probing.set(to, waiters);
    const socket = dgram.createSocket('udp4');
    let finished = false;
    const finish = (address: number | undefined): void => {
      if (finished) return;
      finished = true;
      this.probing.delete(to);
      if (!this.closed) {
        if (this.learnt.size >= this.maxEntries && !this.learnt.has(to)) this.learnt.clear();
        this.learnt.set(to, { address, learntAt: Date.now() });
      }
      socket.close();
      for (const waiter of waiters) waiter(address);
    };
    socket.on('error', () => finish(undefined));
    // No route (ENETUNREACH) comes to the callback as an error: "unreachable" until the next check.
    socket.connect(this.probePort, ipToString(to), (error?: Error) => {
      if (error) return finish(undefined);
      const local = parseIp(socket.address().address);
      finish(local === undefined || local === 0 ? undefined : local);
    });
  }
}
