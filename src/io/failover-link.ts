// The TCP link of the ISC DHCP failover protocol, as dhcpd 4.4.3 runs it (server/failover.c): both
// peers listen on their own address and port and both connect to the peer's, the outgoing socket bound
// to our address (dhcp_failover_link_initiate), so that the peer's listener, which accepts only the
// configured peer address (dhcp_failover_listener_signal), takes it. The link cuts the byte stream into
// messages and decodes them; it knows nothing of states or leases. What it does own are the timers
// that are about the connection itself: a new connection must deliver a message within 15 s, a CONTACT
// goes out whenever nothing was sent for a while, and a silent connection is dropped. Which of several
// open connections to keep is the engine's decision.
//
// The bytes come from the network: a framing or decode error drops that connection (as dhcpd does on
// every protocol error), never the process, and socket errors end in onClose, never in a throw.
import net from 'node:net';
// src/failover is pure protocol code (it imports only util); the link is its only socket-side user.
import { FailoverFramer, decodeMessage, encodeMessage, type FailoverMessage } from '../failover';

export interface FailoverLinkOptions {
  /** Our address: the listener binds it, and so does every outgoing socket (the peer accepts only it). */
  localAddress: string;
  /** We listen here (0: any free port, see FailoverLink.port). */
  localPort: number;
  /** Where we connect, and the only remote address accepted inbound. */
  peerAddress: string;
  peerPort: number;
  /** A new connection must deliver a whole message within this, else it is dropped (dhcpd: 15 s). */
  firstMessageMs?: number;
  /** After an established connection closed, the next outbound attempt (dhcpd: 5 s). */
  reconnectAfterDropMs?: number;
  /**
   * After outbound attempts failed, the longest wait for the next one (dhcpd: always 90 s). joind starts
   * at reconnectAfterDropMs and doubles up to this, so that a short partition costs seconds, not 90.
   */
  reconnectAfterFailMs?: number;
  /** An outbound attempt not connected within this fails (default 10000). */
  connectTimeoutMs?: number;
}

export interface FailoverConnection {
  /** Increasing per link, from 1. */
  readonly id: number;
  readonly direction: 'inbound' | 'outbound';
  /** The peer's end, "addr:port". */
  readonly remote: string;
  /** True until the connection closed (either end). */
  readonly open: boolean;
  /**
   * Encodes and writes a message. False when the connection is closed or the message cannot be encoded
   * (reported through onError; the connection stays open). Never throws.
   */
  send(msg: FailoverMessage): boolean;
  /** Arms keep-alives: a CONTACT whenever nothing was sent for intervalMs (re-armed by every send). 0 disarms. */
  keepAlive(intervalMs: number): void;
  /** Drops the connection when no message was received for ms (re-armed by every received message). 0 disarms. */
  silenceLimit(ms: number): void;
  /** A transaction id for a message we start (CONTACT uses them too): one sequence per link. */
  nextXid(): number;
  /** Closes the connection; onClose reports 'local: <reason>'. Idempotent: onClose fires once. */
  close(reason: string): void;
}

export interface FailoverLinkEvents {
  /** A TCP connection was established (either direction) with the peer's address. */
  onConnection(conn: FailoverConnection): void;
  /** A whole message, decoded; options the codec skipped (unknown, not carried) are simply absent. */
  onMessage(conn: FailoverConnection, msg: FailoverMessage): void;
  /** A framing or decode error; the link closes the connection right after ('bad message'). */
  onBadMessage(conn: FailoverConnection, why: string): void;
  /**
   * The connection closed: 'peer closed', 'socket error: <message>', 'silence <n> ms',
   * 'no message within <n> ms', 'bad message', 'send buffer full', 'local: <reason>'.
   */
  onClose(conn: FailoverConnection, reason: string): void;
  /** An inbound connection from another address, destroyed at once. */
  onRefused?(remote: string): void;
  /** For logs: 'listen' (listener errors after start), 'connect' (outbound attempts), 'encode' (send). */
  onError?(what: 'listen' | 'connect' | 'encode', err: Error): void;
}

const DEFAULT_FIRST_MESSAGE_MS = 15_000;
const DEFAULT_RECONNECT_AFTER_DROP_MS = 5_000;
const DEFAULT_RECONNECT_AFTER_FAIL_MS = 90_000;
/**
 * An outbound attempt that neither connects nor fails within this is given up (as a failure): a peer
 * whose SYNs are dropped would otherwise hold it for the kernel's ~2 minutes of SYN retries.
 */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * Unsent bytes beyond which the peer is taken to have stopped reading. Messages are at most 2048 bytes
 * and the engine keeps few unacked, so only a stuck or hostile peer gets here; without a cap the queue
 * would grow without bound.
 */
const MAX_UNSENT_BYTES = 1 << 20;

/** "1.2.3.4" from an IPv4-mapped IPv6 address as a dual-stack socket reports it. */
function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/i, '');
}

function remoteOf(socket: net.Socket): string {
  return `${plainAddress(socket.remoteAddress)}:${socket.remotePort ?? 0}`;
}

/** The link's side of a connection: what it needs beyond the engine's FailoverConnection. */
interface LinkHooks {
  readonly events: FailoverLinkEvents;
  nextXid(): number;
  closed(conn: Connection): void;
}

class Connection implements FailoverConnection {
  private readonly framer = new FailoverFramer();
  private closed = false;
  private firstMessageTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  readonly remote: string;

  constructor(
    readonly id: number,
    readonly direction: 'inbound' | 'outbound',
    private readonly socket: net.Socket,
    private readonly hooks: LinkHooks,
    firstMessageMs: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.drop(`socket error: ${err.message}`));
    socket.on('close', () => this.drop('peer closed'));
    this.remote = remoteOf(socket);
    this.firstMessageTimer = setTimeout(() => this.drop(`no message within ${firstMessageMs} ms`), firstMessageMs);
  }

  get open(): boolean {
    return !this.closed;
  }

  nextXid(): number {
    return this.hooks.nextXid();
  }

  send(msg: FailoverMessage): boolean {
    if (this.closed) return false;
    let bytes: Buffer;
    try {
      bytes = encodeMessage(msg);
    } catch (err) {
      this.hooks.events.onError?.('encode', err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    if (this.socket.writableLength + bytes.length > MAX_UNSENT_BYTES) {
      this.drop('send buffer full');
      return false;
    }
    this.socket.write(bytes);
    this.keepAliveTimer?.refresh();
    return true;
  }

  keepAlive(intervalMs: number): void {
    clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    if (this.closed || intervalMs <= 0) return;
    // send() refreshes the timer, so the CONTACT goes out only after intervalMs without any send.
    this.keepAliveTimer = setTimeout(() => {
      this.send({ type: 'CONTACT', time: Math.floor(Date.now() / 1000) >>> 0, xid: this.nextXid() });
    }, intervalMs);
  }

  silenceLimit(ms: number): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    if (this.closed || ms <= 0) return;
    this.silenceTimer = setTimeout(() => this.drop(`silence ${ms} ms`), ms);
  }

  close(reason: string): void {
    this.drop(`local: ${reason}`);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    const { frames, error } = this.framer.feed(chunk);
    // Messages before a framing error were whole and are delivered first, in order.
    for (const frame of frames) {
      const result = decodeMessage(frame);
      if (!result.ok) return this.bad(`${result.error.kind}: ${result.error.message}`);
      clearTimeout(this.firstMessageTimer);
      this.silenceTimer?.refresh();
      this.hooks.events.onMessage(this, result.message);
      // The engine may have closed the connection (a duplicate, a rejected CONNECT): read no further.
      if (this.closed) return;
    }
    if (error !== undefined) this.bad(`${error.kind}: ${error.message}`);
  }

  private bad(why: string): void {
    this.hooks.events.onBadMessage(this, why);
    this.drop('bad message');
  }

  /** The one way a connection ends, whoever ends it: timers cleared, socket destroyed, onClose once. */
  drop(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.firstMessageTimer);
    clearTimeout(this.keepAliveTimer);
    clearTimeout(this.silenceTimer);
    this.socket.destroy();
    this.hooks.closed(this);
    this.hooks.events.onClose(this, reason);
  }
}

export class FailoverLink {
  private readonly firstMessageMs: number;
  private readonly reconnectAfterDropMs: number;
  private readonly reconnectAfterFailMs: number;
  private server: net.Server | null = null;
  private started = false;
  private readonly open = new Set<Connection>();
  /** The outbound socket while its TCP handshake is under way. */
  private connecting: net.Socket | null = null;
  /** Outbound attempts failed in a row since the last connection (the back-off's exponent). */
  private failedAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastId = 0;
  private xid = (Math.random() * 0x100000000) >>> 0;
  private readonly hooks: LinkHooks;

  constructor(
    private readonly options: FailoverLinkOptions,
    private readonly events: FailoverLinkEvents,
  ) {
    this.firstMessageMs = options.firstMessageMs ?? DEFAULT_FIRST_MESSAGE_MS;
    this.reconnectAfterDropMs = options.reconnectAfterDropMs ?? DEFAULT_RECONNECT_AFTER_DROP_MS;
    this.reconnectAfterFailMs = options.reconnectAfterFailMs ?? DEFAULT_RECONNECT_AFTER_FAIL_MS;
    this.hooks = {
      events,
      nextXid: () => (this.xid = (this.xid + 1) >>> 0),
      closed: (conn) => this.connectionClosed(conn),
    };
  }

  /** The connections still open, oldest first. */
  get connections(): readonly FailoverConnection[] {
    return [...this.open];
  }

  /** The port the listener is bound to (localPort, or the one the system chose for 0); 0 before start. */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Listens (rejects when the address and port cannot be bound), then starts connecting out. */
  async start(): Promise<void> {
    if (this.started) return;
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.localAddress, port: this.options.localPort }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.events.onError?.('listen', err));
    this.server = server;
    this.started = true;
    this.connectOut();
  }

  /** Closes the listener, every connection ('local: link stopped') and every timer; no reconnect after. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.connecting?.destroy();
    this.connecting = null;
    for (const conn of [...this.open]) conn.drop('local: link stopped');
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const address = plainAddress(socket.remoteAddress);
    if (!this.started || address !== this.options.peerAddress) {
      const remote = remoteOf(socket);
      // An error on a socket being destroyed (a reset) must not become an uncaught 'error' event.
      socket.on('error', () => undefined);
      socket.destroy();
      if (this.started) this.events.onRefused?.(remote);
      return;
    }
    this.adopt(socket, 'inbound');
  }

  private adopt(socket: net.Socket, direction: 'inbound' | 'outbound'): void {
    this.failedAttempts = 0;
    // An open connection stops the outbound attempts; connectionClosed restarts them.
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const conn = new Connection(++this.lastId, direction, socket, this.hooks, this.firstMessageMs);
    this.open.add(conn);
    this.events.onConnection(conn);
  }

  /** One outbound attempt, unless one is under way or a connection is open (dhcpd keeps one link). */
  private connectOut(): void {
    if (!this.started || this.connecting !== null || this.open.size > 0) return;
    const { peerAddress, peerPort, localAddress } = this.options;
    const socket = net.connect({ host: peerAddress, port: peerPort, localAddress });
    this.connecting = socket;
    const failed = (err: Error): void => {
      if (this.connecting !== socket) return;
      this.connecting = null;
      socket.destroy();
      this.events.onError?.('connect', err);
      this.retry(Math.min(this.reconnectAfterFailMs, this.reconnectAfterDropMs * 2 ** this.failedAttempts));
      this.failedAttempts = Math.min(this.failedAttempts + 1, 30);
    };
    socket.once('error', failed);
    const connectTimeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer = setTimeout(() => failed(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    socket.once('close', () => clearTimeout(timer));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      if (this.connecting !== socket) return;
      this.connecting = null;
      this.adopt(socket, 'outbound');
    });
  }

  private connectionClosed(conn: Connection): void {
    this.open.delete(conn);
    if (this.open.size === 0) this.retry(this.reconnectAfterDropMs);
  }

  /** (Re)schedules the next outbound attempt; the latest reason wins, as with dhcpd's add_timeout. */
  private retry(ms: number): void {
    if (!this.started) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connectOut();
    }, ms);
  }
}
