// The ping check before an OFFER (dhcpd's and Kea's conflict detection): send one ICMP echo to the
// candidate address and wait, without blocking anything else, for a reply or a timeout. A reply means
// the address is in use by someone the server does not know about.
//
// All checks share one raw ICMP socket. Echoes carry this Pinger's random identifier, a sequence number
// that names the check, and a random cookie; a reply counts only when all three match and it comes from
// the pinged address. Concurrent checks of one address share one echo.

import { logEventTo } from '../log/logger';
import { internetChecksum } from './frame';
import { errnoName, loadNative, SOCKET_ICMP, type NativeSocket } from './native';

/** The part of a pino logger the Pinger uses (one warning, when the ICMP socket cannot be opened). */
export interface PingLogger {
  warn(fields: object, msg: string): void;
}

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const ICMP_HEADER_LENGTH = 8;
/** Echo payload: a 4-byte cookie and 4 bytes of marker text (visible in a capture as "JOIN"). */
const ECHO_PAYLOAD_LENGTH = 8;
const ECHO_LENGTH = ICMP_HEADER_LENGTH + ECHO_PAYLOAD_LENGTH;

interface Waiter {
  resolve: (inUse: boolean) => void;
  timer: NodeJS.Timeout | undefined;
}

/** One echo on the wire and the checks waiting for its answer. */
interface Echo {
  address: number;
  sequence: number;
  waiters: Waiter[];
}

export class Pinger {
  /** Echo requests sent. */
  sent = 0;
  /** Checks answered by a matching echo reply (address in use). */
  replies = 0;
  /** Checks that ended without a reply. */
  timeouts = 0;
  /** Checks that ended at once because the echo could not be sent (ENOBUFS from a full neighbour table, ...). */
  sendErrors = 0;
  /** Checks that joined an echo already in flight to the same address. */
  shared = 0;
  /** errno name of the last failed send, for logs. */
  lastSendError: string | undefined;

  private socket: NativeSocket | null = null;
  private readonly identifier = (Math.random() * 0x10000) >>> 0;
  private readonly cookie = (Math.random() * 0x100000000) >>> 0;
  private nextSequence = (Math.random() * 0x10000) >>> 0;
  private readonly bySequence = new Map<number, Echo>();
  private readonly byAddress = new Map<number, Echo>();
  /** Reused for every echo: sendto copies it synchronously. */
  private readonly request = Buffer.alloc(ECHO_LENGTH);

  private constructor() {
    this.request[0] = ICMP_ECHO_REQUEST;
    this.request[1] = 0;
    this.request.writeUInt16BE(this.identifier, 4);
    this.request.writeUInt32BE(this.cookie, ICMP_HEADER_LENGTH);
    this.request.write('JOIN', ICMP_HEADER_LENGTH + 4, 'latin1');
  }

  /**
   * Opens the shared raw ICMP socket. Returns null, after one warning, when that is impossible (no root or
   * CAP_NET_RAW, addon missing): the server then offers addresses without a ping check.
   */
  static open(log?: PingLogger): Pinger | null {
    const pinger = new Pinger();
    try {
      const addon = loadNative();
      pinger.socket = new addon.Socket(SOCKET_ICMP, 0, 0, 0, (data, source) => pinger.onDatagram(data, source));
      return pinger;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const cause = (error as Error).message;
      const hint = code === 'EPERM' || code === 'EACCES' ? ' (run as root or grant CAP_NET_RAW)' : '';
      const detail = `ping checks are off: cannot open a raw ICMP socket${hint}; addresses are offered without checking (${cause})`;
      // Logged as the catalogue has it (src/log/messages.ts); the text says what to do about it.
      if (log) logEventTo(log, 'PING_UNAVAILABLE', { code }, detail);
      else process.emitWarning(detail, { code: 'PING_UNAVAILABLE' });
      return null;
    }
  }

  /** Checks waiting for an answer. */
  get inFlight(): number {
    let count = 0;
    for (const echo of this.byAddress.values()) count += echo.waiters.length;
    return count;
  }

  /**
   * Resolves true when an echo reply comes from `address` within timeoutMs (the address is in use), false
   * on timeout, on a failed send, or when the Pinger is closed. Never rejects.
   */
  check(address: number, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const target = address >>> 0;
      if (this.socket === null) {
        resolve(false);
        return;
      }
      let echo = this.byAddress.get(target);
      if (echo === undefined) {
        const sequence = this.freeSequence();
        const error = sequence < 0 ? 0 : this.sendEcho(target, sequence);
        if (sequence < 0 || error !== 0) {
          this.sendErrors++;
          this.lastSendError = sequence < 0 ? 'no free sequence number' : errnoName(error);
          resolve(false);
          return;
        }
        this.sent++;
        echo = { address: target, sequence, waiters: [] };
        this.byAddress.set(target, echo);
        this.bySequence.set(sequence, echo);
      } else {
        this.shared++;
      }
      const waiter: Waiter = { resolve, timer: undefined };
      const owner = echo;
      waiter.timer = setTimeout(() => this.expire(owner, waiter), Math.max(0, timeoutMs));
      echo.waiters.push(waiter);
    });
  }

  /** Closes the socket; checks still waiting resolve false. */
  close(): void {
    if (this.socket !== null) {
      this.socket.close();
      this.socket = null;
    }
    for (const echo of this.byAddress.values()) {
      for (const waiter of echo.waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(false);
      }
    }
    this.byAddress.clear();
    this.bySequence.clear();
  }

  /** Next sequence number not used by an echo in flight, or -1 when all 65536 are. */
  private freeSequence(): number {
    for (let tries = 0; tries < 0x10000; tries++) {
      const sequence = this.nextSequence;
      this.nextSequence = (this.nextSequence + 1) & 0xffff;
      if (!this.bySequence.has(sequence)) return sequence;
    }
    return -1;
  }

  private sendEcho(address: number, sequence: number): number {
    const request = this.request;
    request.writeUInt16BE(sequence, 6);
    request.writeUInt16BE(0, 2);
    request.writeUInt16BE(internetChecksum(request, 0, ECHO_LENGTH), 2);
    return this.socket!.sendTo(request, address);
  }

  private expire(echo: Echo, waiter: Waiter): void {
    const index = echo.waiters.indexOf(waiter);
    if (index < 0) return;
    echo.waiters.splice(index, 1);
    if (echo.waiters.length === 0) this.forget(echo);
    this.timeouts++;
    waiter.resolve(false);
  }

  private forget(echo: Echo): void {
    if (this.byAddress.get(echo.address) === echo) this.byAddress.delete(echo.address);
    if (this.bySequence.get(echo.sequence) === echo) this.bySequence.delete(echo.sequence);
  }

  /** Every echo reply the host receives comes here (the kernel filter passes only echo replies). */
  private onDatagram(data: Buffer, source: number): void {
    if (data.length < 20) return;
    const icmp = (data[0]! & 0x0f) * 4;
    if (data.length < icmp + ECHO_LENGTH) return;
    if (data[icmp] !== ICMP_ECHO_REPLY || data[icmp + 1] !== 0) return;
    if (data.readUInt16BE(icmp + 4) !== this.identifier) return; // someone else's ping
    const echo = this.bySequence.get(data.readUInt16BE(icmp + 6));
    if (echo === undefined || echo.address !== source) return; // late, or not from the pinged address
    if (data.readUInt32BE(icmp + ICMP_HEADER_LENGTH) !== this.cookie) return;
    this.forget(echo);
    for (const waiter of echo.waiters) {
      clearTimeout(waiter.timer);
      this.replies++;
      waiter.resolve(true);
    }
  }
}
