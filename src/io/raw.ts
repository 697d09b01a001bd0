// The raw transport: a Linux packet socket per served interface, for on-link clients, plus UDP sockets
// for everything sent to one of our own addresses (relays, renewing clients). This is how ISC dhcpd (LPF)
// and Kea (dhcp-socket-type raw) reach clients that have no address yet: the arrival interface of every
// broadcast is known, and a reply can go straight to a client's MAC without ARP (RFC 2131 section 4.1).
//
// Who delivers what (each datagram must reach the server exactly once):
//
//  - A packet socket sees the frames for port 67 on its interface. Its kernel filter already keeps out
//    frames to our own MAC unless they go to 255.255.255.255 (native/joind_net.c), and of the rest it
//    delivers only those whose destination IP is a broadcast (255.255.255.255, or the directed broadcast
//    of one of the interface's subnets), with the interface's name and addresses. Frames unicast to one of
//    our addresses are left alone: the kernel's UDP stack demultiplexes them to a socket at no cost to us,
//    so relayed traffic (and perfdhcp, which poses as a relay) is never copied into JavaScript twice and
//    needs no served interface at all. The test is on the IP destination, not the link-layer packet
//    type, because that is what the kernel's IP stack decides on: a broadcast-MAC frame to our unicast
//    address goes to the UDP socket, and a unicast-MAC frame to 255.255.255.255 does not.
//  - One UDP socket per IPv4 address of the host (loopback included), bound to address:port (the
//    addon's, not dgram's: see bindUdp; a relayed exchange is four of these datagrams). Linux
//    hands a unicast datagram to the socket bound to its destination address and never hands it a
//    broadcast, so these sockets see exactly the unicast half. A single socket on 0.0.0.0 would not do:
//    it also receives every broadcast, and Node cannot tell which datagrams were broadcasts (no
//    IP_PKTINFO), so each DISCOVER would be handled twice (once without its interface), and broadcasts on
//    interfaces we do not serve would be answered.
//  - One more UDP socket on 0.0.0.0:port catches the rest (broadcasts, and unicast to an address that
//    appeared since the addresses were last read). What it reads is discarded: the broadcasts are the
//    packet sockets' job (or not ours to serve), and a unicast there means a new address, so it triggers
//    a (rate-limited) re-read of the host's addresses. It also keeps the kernel from answering "port
//    unreachable" for such an address.
//
// Our own frames never come back: the packet sockets' kernel filter drops outgoing frames, and replies go
// to port 68 (clients) or to another host (relays).

import { inNetwork, ipToString, maskFromPrefix } from '../util/ipv4';
import { UDP_FRAME_HEADERS_LENGTH, writeUdpFrameHeaders, type UdpFrame } from './frame';
import type { InterfaceAddressV4, NetworkInterfaceV4 } from './interfaces';
import { addressOnSubnetOf, hostIpv4Addresses, KernelSourceAddresses } from './local-address';
import { errnoName, loadNative, SOCKET_UDP, type NativeSocket } from './native';
import { PacketSocket } from './packet-socket';
import type { Destination, Inbound, InterfaceRefresh, Transport, TransportStats } from './transport';

const LIMITED_BROADCAST = 0xffffffff;
const BROADCAST_MAC = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** Least time between two re-reads of the host's addresses triggered by the catch-all socket. */
const ADDRESS_REREAD_INTERVAL_MS = 5_000;

export interface RawTransportOptions {
  /** Server UDP port (default 67). 0 picks a free port for every socket (tests). */
  port?: number;
  /** Receive buffer of each packet socket and UDP socket, in bytes (default: the system's). */
  rcvbufBytes?: number;
  /** Verify UDP checksums of broadcast frames (default off; see parseUdpFrame). */
  verifyUdpChecksum?: boolean;
  /** Told about every send that failed (the reply is lost); never thrown. */
  onSendError?: (err: Error, dest: Destination) => void;
  /**
   * Told about socket problems that do not stop the transport: an address that could not be bound (once
   * per address until it binds or leaves the host), the host's addresses that could not be read. Frames
   * that fail parsing are only counted (stats().badFrames): they come off the wire at any rate.
   * Interfaces that cannot be opened on a refresh are in refreshInterfaces' answer instead.
   */
  onSocketError?: (err: Error) => void;
  /** The host's IPv4 addresses, each of which gets a unicast UDP socket (default: hostIpv4Addresses). */
  hostAddresses?: () => InterfaceAddressV4[];
}

/** One served interface and its packet socket. */
interface Link {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: Buffer;
  addresses: readonly InterfaceAddressV4[];
  /** Directed broadcast addresses of the interface's subnets. */
  directed: readonly number[];
  readonly socket: PacketSocket;
}

/** Directed broadcast addresses of a set of interface addresses (none for /31 and /32). */
export function directedBroadcasts(addresses: readonly { address: number; prefixLength: number }[]): number[] {
  const result: number[] = [];
  for (const a of addresses) {
    if (a.prefixLength >= 31) continue;
    const broadcast = (a.address | ~maskFromPrefix(a.prefixLength)) >>> 0;
    if (!result.includes(broadcast)) result.push(broadcast);
  }
  return result;
}

/** Whether a frame to dstIp is a broadcast on a link with these directed broadcasts (packet socket's half). */
export function isLinkBroadcast(dstIp: number, directed: readonly number[]): boolean {
  return dstIp === LIMITED_BROADCAST || directed.includes(dstIp);
}

/**
 * Source address of a frame sent out of an interface: the server identifier when it is one of the
 * interface's addresses (what the client will talk to next), else the interface's first address.
 */
export function frameSourceAddress(serverIp: number, addresses: readonly { address: number }[]): number {
  if (serverIp !== 0 && addresses.some((a) => a.address === serverIp)) return serverIp;
  return addresses.length > 0 ? addresses[0]!.address : serverIp;
}

export class RawTransport implements Transport {
  readonly directUnicast = true;

  private readonly options: RawTransportOptions;
  private served: NetworkInterfaceV4[];
  private readonly links = new Map<string, Link>();
  /** Unicast UDP sockets by the address they are bound to. */
  private readonly unicastSockets = new Map<number, NativeSocket>();
  private catchAll: NativeSocket | null = null;
  /** Host addresses whose UDP socket could not be bound, already told to onSocketError (once each). */
  private readonly unbindable = new Set<number>();
  private hostAddresses: InterfaceAddressV4[] = [];
  private readonly kernelSources = new KernelSourceAddresses();
  private onPacket: ((packet: Inbound) => void) | null = null;
  private boundPort = 0;
  private lastAddressReread = 0;
  private addressRereading: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Reused for every frame sent: sendFrame copies it synchronously. */
  private frameBuffer = Buffer.alloc(UDP_FRAME_HEADERS_LENGTH + 1500);
  private readonly counters = {
    broadcastsReceived: 0,
    unicastReceived: 0,
    datagramsReceived: 0,
    framesLeftToKernel: 0,
    catchAllDiscarded: 0,
    framesSent: 0,
    udpSent: 0,
    sendErrors: 0,
  };
  /** Bad-frame and kernel-drop counts of packet sockets already closed. */
  private closedBadFrames = 0;
  private closedKernelDrops = 0;

  constructor(interfaces: readonly NetworkInterfaceV4[], options: RawTransportOptions = {}) {
    this.served = [...interfaces];
    this.options = options;
  }

  /** The UDP port the sockets are bound to (after start). */
  get port(): number {
    return this.boundPort;
  }

  /** Names of the interfaces with an open packet socket. */
  get interfaces(): string[] {
    return [...this.links.keys()];
  }

  /** Addresses with a unicast UDP socket. */
  get boundAddresses(): number[] {
    return [...this.unicastSockets.keys()];
  }

  /**
   * Opens the catch-all UDP socket, a packet socket on every served interface, then a UDP socket on each
   * of the host's addresses. Rejects (with everything opened so far closed again) when one of them cannot
   * be opened: EPERM without root or CAP_NET_RAW, ENODEV for a missing interface, EADDRINUSE / EACCES for
   * the UDP port. Only an address outside the served interfaces that cannot be bound is not fatal: it is
   * reported through onSocketError (and retried when the addresses are re-read).
   */
  async start(onPacket: (packet: Inbound) => void): Promise<void> {
    if (this.onPacket !== null || this.closing !== null) throw new Error('RawTransport.start: already started or closed');
    this.onPacket = onPacket;
    try {
      this.catchAll = this.bindUdp(0, this.options.port ?? 67, (_data, srcIp) => this.onCatchAll(srcIp));
      this.boundPort = this.catchAll.localPort();
      for (const info of this.served) this.openLink(info);
      this.hostAddresses = this.readHostAddresses();
      for (const a of this.hostAddresses) {
        try {
          await this.bindUnicast(a.address);
        } catch (error) {
          // Another server may hold an address we do not serve (dnsmasq on a VM bridge): say so and go on.
          // An address of a served interface is one our clients renew at: that one must be ours.
          if (this.served.some((info) => info.addresses.some((own) => own.address === a.address))) throw error;
          this.bindFailed(a.address, error as Error);
        }
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  send(data: Buffer, dest: Destination, serverIp: number): void {
    if (this.catchAll === null) return; // not started, or closed
    try {
      switch (dest.kind) {
        case 'relay':
          this.sendUdp(data, dest.ip, dest.port, serverIp, dest);
          return;
        case 'unicast': {
          if (dest.mac === undefined) {
            // The client has an address (ciaddr) and answers ARP: the kernel's routing is right.
            this.sendUdp(data, dest.ip, dest.port, serverIp, dest);
            return;
          }
          const link = dest.ifname !== undefined ? this.links.get(dest.ifname) : this.linkOnSubnetOf(dest.ip);
          if (link === undefined) {
            this.sendUdp(data, dest.ip, dest.port, serverIp, dest);
          } else if (dest.mac.length === 6) {
            this.sendFrame(link, data, dest.mac, dest.ip, dest.port, serverIp, dest);
          } else {
            // Not an Ethernet address: no way to reach it directly, so everyone on the link hears it.
            this.sendFrame(link, data, BROADCAST_MAC, LIMITED_BROADCAST, dest.port, serverIp, dest);
          }
          return;
        }
        case 'broadcast': {
          const link = dest.ifname !== undefined ? this.links.get(dest.ifname) : undefined;
          if (link !== undefined) this.sendFrame(link, data, BROADCAST_MAC, LIMITED_BROADCAST, dest.port, serverIp, dest);
          else this.sendUdp(data, dest.directed ?? LIMITED_BROADCAST, dest.port, serverIp, dest);
          return;
        }
      }
    } catch (error) {
      // The addon throws synchronously for a bad argument (a port out of range, say): a lost reply, like any other.
      this.sendFailed(error instanceof Error ? error : new Error(String(error)), dest);
    }
  }

  /**
   * The address a peer at `to` knows us by. For a packet that came in on a served interface: that
   * interface's address on the same subnet as `to`, else its first address. Otherwise: one of the host's
   * addresses on the same subnet as `to`, else the kernel's choice of source address towards `to`
   * (learnt in the background: undefined the first time).
   */
  localAddressFor(to: number, inbound: Inbound): number | undefined {
    if (inbound.ifname !== undefined) {
      const addresses = this.links.get(inbound.ifname)?.addresses ?? inbound.interfaceAddresses;
      if (addresses !== undefined && addresses.length > 0) return addressOnSubnetOf(to, addresses) ?? addresses[0]!.address;
    }
    return addressOnSubnetOf(to, this.hostAddresses) ?? this.kernelSources.get(to);
  }

  learnLocalAddressFor(to: number): Promise<number | undefined> {
    return this.kernelSources.answer(to);
  }

  /**
   * Follows a change of the served interfaces (SIGHUP re-detection): opens packet sockets for new ones,
   * closes those of removed ones, reopens an interface whose index or MAC changed, takes the new addresses
   * of kept ones, then re-reads the host's addresses for the unicast sockets. Interfaces that cannot be
   * opened are returned as failures (and left out); the others keep working.
   */
  async refreshInterfaces(interfaces: readonly NetworkInterfaceV4[]): Promise<InterfaceRefresh> {
    this.served = [...interfaces];
    if (this.onPacket === null || this.closing !== null) return { refreshed: true, failures: [] };
    const failures: Array<{ name: string; error: Error }> = [];
    const wanted = new Map(interfaces.map((info) => [info.name, info]));
    for (const [name, link] of this.links) {
      const info = wanted.get(name);
      if (info === undefined || info.ifindex !== link.ifindex || info.mac === null || !info.mac.equals(link.mac)) {
        this.closeLink(link);
      } else {
        link.addresses = info.addresses;
        link.directed = directedBroadcasts(info.addresses);
      }
    }
    for (const info of interfaces) {
      if (this.links.has(info.name)) continue;
      try {
        this.openLink(info);
      } catch (error) {
        failures.push({ name: info.name, error: error as Error });
      }
    }
    await this.rereadHostAddresses();
    return { refreshed: true, failures };
  }

  stats(): TransportStats {
    let badFrames = this.closedBadFrames;
    let kernelDrops = this.closedKernelDrops;
    for (const link of this.links.values()) {
      badFrames += link.socket.badFrames;
      kernelDrops += link.socket.stats().kernelDrops;
    }
    return { ...this.counters, badFrames, kernelDrops };
  }

  /** Closes every socket. Safe to call more than once; later calls return the same promise. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.kernelSources.close();
    for (const link of [...this.links.values()]) this.closeLink(link);
    const sockets = [...this.unicastSockets.values()];
    this.unicastSockets.clear();
    if (this.catchAll !== null) sockets.push(this.catchAll);
    this.catchAll = null;
    for (const socket of sockets) socket.close();
    this.closing = Promise.resolve();
    return this.closing;
  }

  // --- receiving ------------------------------------------------------------------------------------

  private openLink(info: NetworkInterfaceV4): void {
    // Set once the socket is open: the frame handler is created before it.
    let link: Link | undefined = undefined;
    const socket = PacketSocket.open(
      info.name,
      (frame) => {
        if (link !== undefined) this.onFrame(link, frame);
      },
      {
        udpPort: this.boundPort,
        ...(this.options.rcvbufBytes !== undefined ? { rcvbufBytes: this.options.rcvbufBytes } : {}),
        ...(this.options.verifyUdpChecksum !== undefined ? { verifyUdpChecksum: this.options.verifyUdpChecksum } : {}),
      },
    );
    // Index and MAC as the kernel has them now (the list may be older than a recreated interface).
    link = {
      name: info.name,
      ifindex: socket.ifindex,
      mac: socket.mac,
      addresses: info.addresses,
      directed: directedBroadcasts(info.addresses),
      socket,
    };
    this.links.set(info.name, link);
  }

  private closeLink(link: Link): void {
    this.closedBadFrames += link.socket.badFrames;
    this.closedKernelDrops += link.socket.stats().kernelDrops;
    link.socket.close();
    this.links.delete(link.name);
  }

  private onFrame(link: Link, frame: UdpFrame): void {
    if (!isLinkBroadcast(frame.dstIp, link.directed)) {
      this.counters.framesLeftToKernel++;
      return;
    }
    this.counters.broadcastsReceived++;
    this.onPacket?.({
      data: frame.payload,
      srcIp: frame.srcIp,
      srcPort: frame.srcPort,
      ifname: link.name,
      interfaceAddresses: link.addresses,
      dstIp: frame.dstIp,
    });
  }

  private onCatchAll(srcIp: number): void {
    this.counters.catchAllDiscarded++;
    // A client without an address (source 0.0.0.0) broadcasts; anything else may be a unicast to an
    // address we have no socket for yet.
    if (srcIp !== 0 && Date.now() - this.lastAddressReread >= ADDRESS_REREAD_INTERVAL_MS) {
      void this.rereadHostAddresses();
    }
  }

  private readHostAddresses(): InterfaceAddressV4[] {
    return (this.options.hostAddresses ?? hostIpv4Addresses)();
  }

  /** Binds sockets for new host addresses and closes those of vanished ones. Never rejects. */
  private rereadHostAddresses(): Promise<void> {
    if (this.addressRereading !== null) return this.addressRereading;
    this.lastAddressReread = Date.now();
    const run = async (): Promise<void> => {
      let current: InterfaceAddressV4[];
      try {
        current = this.readHostAddresses();
      } catch (error) {
        this.options.onSocketError?.(error as Error);
        return;
      }
      this.hostAddresses = current;
      const wanted = new Set(current.map((a) => a.address));
      for (const [address, socket] of this.unicastSockets) {
        if (!wanted.has(address)) {
          this.unicastSockets.delete(address);
          socket.close();
        }
      }
      for (const address of this.unbindable) if (!wanted.has(address)) this.unbindable.delete(address);
      for (const a of current) {
        if (this.unicastSockets.has(a.address) || this.closing !== null) continue;
        try {
          await this.bindUnicast(a.address);
        } catch (error) {
          this.bindFailed(a.address, error as Error);
        }
      }
    };
    this.addressRereading = run().finally(() => {
      this.addressRereading = null;
    });
    return this.addressRereading;
  }

  /** Binds the UDP socket of one host address. The addon binds at once; a throw rejects the promise. */
  private bindUnicast(address: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const socket = this.bindUdp(address, this.boundPort, (data, srcIp, srcPort) => {
        this.counters.unicastReceived++;
        this.onPacket?.({ data, srcIp, srcPort, dstIp: address });
      });
      if (this.closing !== null) {
        socket.close();
        resolve();
        return;
      }
      const previous = this.unicastSockets.get(address);
      this.unicastSockets.set(address, socket);
      this.unbindable.delete(address);
      if (previous !== undefined) previous.close();
      resolve();
    });
  }

  /** Tells onSocketError that `address` could not be bound, unless it was told already and nothing changed since. */
  private bindFailed(address: number, error: Error): void {
    if (this.unbindable.has(address)) return;
    this.unbindable.add(address);
    this.options.onSocketError?.(error);
  }

  /**
   * A UDP socket of the addon bound to address:port (SO_REUSEADDR and SO_BROADCAST, as dgram's reuseAddr
   * gave): the sender's address arrives as a number and sends go out synchronously, without dgram's
   * per-datagram text formatting, events and send requests. Throws an Error with `code` (EADDRINUSE…).
   */
  private bindUdp(
    address: number,
    port: number,
    onMessage: (data: Buffer, srcIp: number, srcPort: number) => void,
  ): NativeSocket {
    const addon = loadNative();
    try {
      return new addon.Socket(SOCKET_UDP, address, port, this.options.rcvbufBytes ?? 0, (data, srcIp, srcPort) =>
        onMessage(data, srcIp, srcPort),
      );
    } catch (error) {
      const wrapped = new Error(`cannot bind UDP ${ipToString(address)}:${port}: ${(error as Error).message}`, {
        cause: error,
      }) as NodeJS.ErrnoException;
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined) wrapped.code = code;
      throw wrapped;
    }
  }

  // --- sending --------------------------------------------------------------------------------------

  /** The served interface with an address on the subnet of `ip`. */
  private linkOnSubnetOf(ip: number): Link | undefined {
    for (const link of this.links.values()) {
      for (const a of link.addresses) if (inNetwork(ip, a.address, a.netmask)) return link;
    }
    return undefined;
  }

  private sendFrame(
    link: Link,
    data: Buffer,
    dstMac: Uint8Array,
    dstIp: number,
    dstPort: number,
    serverIp: number,
    dest: Destination,
  ): void {
    const length = UDP_FRAME_HEADERS_LENGTH + data.length;
    if (this.frameBuffer.length < length) this.frameBuffer = Buffer.alloc(Math.max(length, this.frameBuffer.length * 2));
    const frame = this.frameBuffer;
    frame.set(data, UDP_FRAME_HEADERS_LENGTH);
    writeUdpFrameHeaders(
      frame,
      { dstMac, srcMac: link.mac, srcIp: frameSourceAddress(serverIp, link.addresses), dstIp, srcPort: this.boundPort, dstPort },
      data.length,
    );
    const errno = link.socket.sendFrame(frame.subarray(0, length));
    if (errno === 0) {
      this.counters.framesSent++;
    } else {
      const name = errnoName(errno);
      const error = new Error(`cannot send a frame out of ${link.name}: ${name}`) as NodeJS.ErrnoException;
      error.code = name;
      error.errno = errno;
      this.sendFailed(error, dest);
    }
  }

  /** Through the kernel's IP stack, from the socket bound to the server identifier when there is one. */
  private sendUdp(data: Buffer, ip: number, port: number, serverIp: number, dest: Destination): void {
    const socket = this.unicastSockets.get(serverIp) ?? this.catchAll;
    if (socket === null) return;
    const errno = socket.sendTo(data, ip, port);
    if (errno === 0) {
      this.counters.udpSent++;
      return;
    }
    const name = errnoName(errno);
    const error = new Error(`cannot send to ${ipToString(ip)}:${port}: ${name}`) as NodeJS.ErrnoException;
    error.code = name;
    error.errno = errno;
    this.sendFailed(error, dest);
  }

  private sendFailed(error: Error, dest: Destination): void {
    this.counters.sendErrors++;
    this.options.onSendError?.(error, dest);
  }
}
