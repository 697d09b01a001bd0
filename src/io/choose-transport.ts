// Picks the transport joind runs on. Raw packet sockets are what on-link clients need (arrival interface,
// unicast to a MAC) but require root or CAP_NET_RAW and the native addon; plain UDP works anywhere but can
// only broadcast to clients without an address and cannot tell interfaces apart, which is fine behind
// relays. 'auto' takes raw when it can and says clearly, once, when it cannot.

import { logEvent, logEventTo, type Logger } from '../log/logger';
import type { NetworkInterfaceV4 } from './interfaces';
import { PacketSocket } from './packet-socket';
import { RawTransport } from './raw';
import type { Destination, Transport } from './transport';
import { UdpTransport } from './udp';

export type TransportKind = 'raw' | 'udp';

/** The part of a (pino) logger used here, for the catalogued TRANSPORT_FALLBACK and SEND_FAILED (both warn). */
export interface TransportLog {
  warn(fields: object, message: string): void;
}

export interface OpenTransportOptions {
  /** Server UDP port (default 67). */
  port?: number;
  log: TransportLog;
  /** Failed sends; by default each one is logged as a SEND_FAILED warning. */
  onSendError?: (err: Error, dest: Destination) => void;
  /**
   * Socket problems that do not stop the transport: an address that could not be bound, an error a
   * socket reported. Required, so that no caller leaves them unheard: joind logs them as SOCKET_ERROR
   * (transportErrorLogging).
   */
  onSocketError: (err: Error) => void;
  /** UDP transport only: the address to bind (default 0.0.0.0). */
  bindAddress?: string;
  /** Receive buffer of every socket that hears requests, in bytes (default RECEIVE_BUFFER_BYTES). */
  rcvbufBytes?: number;
}

/**
 * 4 MiB per socket. The system default (about 200 kB, a few hundred requests) overflows whenever the
 * event loop is held up for a moment under load: at start-up, before V8 has compiled the packet path,
 * a server that wakes into a storm of clients (after a power cut) fell behind for a few hundred ms and
 * the kernel dropped a fifth of the first second's requests. A larger buffer turns that into a short
 * wait. Memory is charged only while datagrams are queued. The kernel caps the request at
 * net.core.rmem_max unless joind may pass it: the addon's sockets (packet sockets, and the raw transport's
 * UDP sockets) use SO_RCVBUFFORCE, which works with CAP_NET_ADMIN (as root before the privilege drop).
 */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * The error callbacks for openTransport that log catalogued events: SEND_FAILED for each reply lost,
 * SOCKET_ERROR for each socket problem.
 */
export function transportErrorLogging(log: Logger): Required<Pick<OpenTransportOptions, 'onSendError' | 'onSocketError'>> {
  return {
    onSendError: (err, dest) =>
      logEvent(log, 'SEND_FAILED', { err: err.message, code: (err as NodeJS.ErrnoException).code, dest: dest.kind }),
    onSocketError: (err) => logEvent(log, 'SOCKET_ERROR', { err: err.message, code: (err as NodeJS.ErrnoException).code }),
  };
}

export interface OpenedTransport {
  /** Not started yet: call start(onPacket). */
  transport: Transport;
  kind: TransportKind;
  /** Why 'auto' fell back to UDP; already logged once through opts.log. */
  warning?: string;
}

/**
 * Builds the transport of the requested kind for the served interfaces. 'auto': raw when a packet socket
 * can be opened on a served interface, else UDP with one warning. 'raw': throws an Error (with `code`)
 * when that is impossible, e.g. "... needs root or CAP_NET_RAW". 'udp': the UDP transport.
 */
export function openTransport(
  kind: TransportKind | 'auto',
  served: readonly NetworkInterfaceV4[],
  opts: OpenTransportOptions,
): OpenedTransport {
  const onSendError =
    opts.onSendError ??
    ((err: Error, dest: Destination): void =>
      logEventTo(opts.log, 'SEND_FAILED', { err: err.message, code: (err as NodeJS.ErrnoException).code, dest: dest.kind }));
  const rcvbufBytes = opts.rcvbufBytes ?? RECEIVE_BUFFER_BYTES;
  const udp = (): Transport =>
    new UdpTransport({
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.bindAddress !== undefined ? { address: opts.bindAddress } : {}),
      rcvbufBytes,
      onSendError,
      onSocketError: opts.onSocketError,
    });
  if (kind === 'udp') return { transport: udp(), kind: 'udp' };

  const problem = rawProblem(served, opts.port ?? 67);
  if (problem === undefined) {
    const transport = new RawTransport(served, {
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      rcvbufBytes,
      onSendError,
      onSocketError: opts.onSocketError,
    });
    return { transport, kind: 'raw' };
  }
  if (kind === 'raw') {
    const error = new Error(`raw transport unavailable: ${problem.message}`, { cause: problem.cause }) as NodeJS.ErrnoException;
    if (problem.code !== undefined) error.code = problem.code;
    throw error;
  }
  const warning =
    `raw packet sockets unavailable (${problem.message}): using the UDP transport, which cannot tell on ` +
    'which interface a request arrived and broadcasts replies to clients that have no address yet';
  logEventTo(opts.log, 'TRANSPORT_FALLBACK', { requested: kind, using: 'udp', code: problem.code }, warning);
  return { transport: udp(), kind: 'udp', warning };
}

interface RawProblem {
  message: string;
  code?: string;
  cause?: unknown;
}

/**
 * Why raw packet sockets cannot serve these interfaces, or undefined when they can: opens (and closes at
 * once) a packet socket on each served interface until one opens. Every interface is tried so that a
 * vanished interface is not mistaken for missing privileges; the first error explains.
 */
function rawProblem(served: readonly NetworkInterfaceV4[], port: number): RawProblem | undefined {
  if (served.length === 0) return { message: 'no interface to serve directly', code: 'ENODEV' };
  let first: RawProblem | undefined;
  for (const info of served) {
    try {
      PacketSocket.open(info.name, () => undefined, { udpPort: port }).close();
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const needsPrivilege = code === 'EPERM' || code === 'EACCES';
      const base = (error as Error).message;
      // PacketSocket's message already names the interface; make the privilege case unmistakable.
      const message = needsPrivilege && !/CAP_NET_RAW/.test(base) ? `${base}: needs root or CAP_NET_RAW` : base;
      first ??= { message, ...(code !== undefined ? { code } : {}), cause: error };
      if (needsPrivilege) break; // the same for every interface
    }
  }
  return first;
}
