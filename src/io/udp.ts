// The UDP transport: one socket on port 67 for every interface. It cannot tell on which interface a
// broadcast arrived, nor unicast to a client that has no address yet, so such replies are broadcast
// (to the client link's directed broadcast address, which also picks the right interface without a
// route for 255.255.255.255). For relay-only or unprivileged deployments, and as the fallback.
import dgram from 'node:dgram';
import { ipToString, parseIp } from '../util/ipv4';
import { literalLookup } from './literal-lookup';
import { KernelSourceAddresses } from './local-address';
import type { Destination, Inbound, InterfaceRefresh, Transport, TransportStats } from './transport';

export interface UdpTransportOptions {
  port?: number;
  /** Address to bind; 0.0.0.0 hears broadcasts. */
  address?: string;
  /** Receive buffer in bytes (default: the system's; the kernel caps it at net.core.rmem_max). */
  rcvbufBytes?: number;
  onSendError?: (err: Error, dest: Destination) => void;
  /** Told about errors the socket reports after it is bound (a send's own error goes to onSendError). */
  onSocketError?: (err: Error) => void;
}

export class UdpTransport implements Transport {
  readonly directUnicast = false;
  private socket: dgram.Socket | null = null;
  /** Our source address towards each relay, learnt from the kernel's routing. */
  private readonly kernelSources = new KernelSourceAddresses();
  private boundPort = 0;
  private readonly counters = { datagramsReceived: 0, udpSent: 0, sendErrors: 0 };

  constructor(private readonly options: UdpTransportOptions = {}) {}

  get port(): number {
    return this.boundPort;
  }

  /** None: one socket serves every interface, and it cannot tell on which one a datagram arrived. */
  get interfaces(): readonly string[] {
    return [];
  }

  /** Its own counters; those of packet sockets (frames, bad frames, kernel drops) and the raw transport's split are 0. */
  stats(): TransportStats {
    return {
      broadcastsReceived: 0,
      unicastReceived: 0,
      datagramsReceived: this.counters.datagramsReceived,
      framesLeftToKernel: 0,
      catchAllDiscarded: 0,
      badFrames: 0,
      framesSent: 0,
      udpSent: this.counters.udpSent,
      sendErrors: this.counters.sendErrors,
      kernelDrops: 0,
    };
  }

  /**
   * Nothing to do, and says so (refreshed: false): bound to the wildcard address, the socket hears every
   * interface and every address, including those that appear later (bound to one address, it keeps that
   * one whatever the interfaces do). Rebinding would only open a window in which requests are lost, and
   * could fail once the privilege to bind port 67 has been dropped (--user).
   */
  refreshInterfaces(): Promise<InterfaceRefresh> {
    return Promise.resolve({ refreshed: false, failures: [] });
  }

  start(onPacket: (packet: Inbound) => void): Promise<void> {
    const rcvbuf = this.options.rcvbufBytes;
    const socket = dgram.createSocket({
      type: 'udp4',
      reuseAddr: true,
      lookup: literalLookup,
      ...(rcvbuf ? { recvBufferSize: rcvbuf } : {}),
    });
    this.socket = socket;
    socket.on('message', (data, rinfo) => {
      this.counters.datagramsReceived++;
      onPacket({ data, srcIp: parseIp(rinfo.address) ?? 0, srcPort: rinfo.port });
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port ?? 67, this.options.address ?? '0.0.0.0', () => {
        socket.off('error', reject);
        // Errors of individual sends are reported per send (their callback), anything else here.
        socket.on('error', (err) => this.options.onSocketError?.(err));
        socket.setBroadcast(true);
        this.boundPort = socket.address().port;
        resolve();
      });
    });
  }

  send(data: Buffer, dest: Destination): void {
    if (!this.socket) return;
    let ip: number;
    if (dest.kind === 'broadcast') ip = dest.directed ?? 0xffffffff;
    else ip = dest.ip;
    this.socket.send(data, dest.port, ipToString(ip), (err) => {
      if (err) {
        this.counters.sendErrors++;
        this.options.onSendError?.(err, dest);
      } else {
        this.counters.udpSent++;
      }
    });
  }

  /** The socket's receive buffer as the kernel granted it (bytes; 0 before start). */
  receiveBufferBytes(): number {
    return this.socket ? this.socket.getRecvBufferSize() : 0;
  }

  localAddressFor(to: number): number | undefined {
    return this.kernelSources.get(to);
  }

  learnLocalAddressFor(to: number): Promise<number | undefined> {
    return this.kernelSources.answer(to);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    this.kernelSources.close();
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
