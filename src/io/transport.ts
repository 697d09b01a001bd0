// What the server needs from a transport, whichever it is (raw packet sockets or plain UDP). Nothing
// outside src/io needs to know which one runs: what differs is answered through this interface.

import type { NetworkInterfaceV4 } from './interfaces';

/** A datagram received on port 67. */
export interface Inbound {
  data: Buffer;
  srcIp: number;
  srcPort: number;
  /** The interface it arrived on, when the transport can tell (raw sockets can; UDP cannot). */
  ifname?: string;
  /** IPv4 addresses of that interface. */
  interfaceAddresses?: readonly { address: number; prefixLength: number }[];
  /** The address it was sent to (one of ours, or a broadcast), when known. */
  dstIp?: number;
}

export type Destination =
  /** To a relay agent's giaddr, port 67. */
  | { kind: 'relay'; ip: number; port: number }
  /** To a client that has an address (ciaddr), or directly to chaddr at yiaddr without ARP (raw only). */
  | { kind: 'unicast'; ip: number; port: number; mac?: Buffer; ifname?: string }
  /** To everyone on the client's link; `directed` is the link's broadcast address (for UDP sockets). */
  | { kind: 'broadcast'; port: number; ifname?: string; directed?: number };

/**
 * A transport's counters, cumulative since start: the same shape for every transport, 0 where an event
 * cannot happen in it (the UDP transport has no packet socket, so no frames; the raw transport delivers
 * through broadcastsReceived and unicastReceived, never datagramsReceived).
 */
export interface TransportStats {
  /** Raw: broadcast frames delivered from packet sockets. */
  broadcastsReceived: number;
  /** Raw: datagrams delivered from the per-address UDP sockets. */
  unicastReceived: number;
  /** UDP: datagrams delivered from its one socket, which cannot tell broadcast from unicast. */
  datagramsReceived: number;
  /** Raw: frames a packet socket saw but left to the UDP sockets (not to a broadcast address). */
  framesLeftToKernel: number;
  /** Raw: datagrams read and dropped by the catch-all 0.0.0.0 socket. */
  catchAllDiscarded: number;
  /** Raw: frames that failed parsing, over all packet sockets. */
  badFrames: number;
  /** Raw: frames sent out of a packet socket. */
  framesSent: number;
  /** Datagrams sent through the kernel's UDP stack (every send of the UDP transport). */
  udpSent: number;
  /** Sends that failed (the reply is lost); each one was also told to onSendError. */
  sendErrors: number;
  /** Raw: frames the kernel dropped because a packet socket's receive buffer was full. */
  kernelDrops: number;
}

/** What a transport did when asked to follow a change of the served interfaces (refreshInterfaces). */
export interface InterfaceRefresh {
  /**
   * false when the transport does not depend on the interfaces and nothing was done: the UDP transport's
   * one socket hears every interface (and every address, old or new) already.
   */
  refreshed: boolean;
  /** Interfaces that could not be opened: left out, the others keep working. */
  failures: Array<{ name: string; error: Error }>;
}

/**
 * The part of a transport the DHCP server answers through (src/server/server.ts). The server neither
 * starts, closes nor watches it, so a stand-in (the warm-up's collector, the flow tests' recorder) needs
 * no more than this.
 */
export interface ReplyTransport {
  /** Whether it can unicast to a client without an address (chaddr + yiaddr, no ARP): RFC 2131 4.1. */
  readonly directUnicast: boolean;
  send(data: Buffer, dest: Destination, serverIp: number): void;
  /** Our address as seen from a relay or client at `to` (the server identifier to use). */
  localAddressFor(to: number, inbound: Inbound): number | undefined;
  /**
   * The same when localAddressFor does not know it yet: waits for the kernel's source address towards
   * `to` (Node learns it asynchronously), undefined when there is no route.
   */
  learnLocalAddressFor?(to: number): Promise<number | undefined>;
}

/** A transport: all that joind asks of one, whichever it is; nothing outside src/io needs to know which. */
export interface Transport extends ReplyTransport {
  start(onPacket: (packet: Inbound) => void): Promise<void>;
  /** The UDP port it listens on (after start; 0 before). */
  readonly port: number;
  /**
   * Names of the interfaces it serves directly, with a socket of their own (the raw transport's packet
   * sockets); empty for a transport that cannot tell interfaces apart (UDP).
   */
  readonly interfaces: readonly string[];
  /** Its counters (a copy). */
  stats(): TransportStats;
  /**
   * Follows a change of the served interfaces and of the host's addresses (SIGHUP re-detects them).
   * Never rejects: interfaces that could not be opened are in the answer's failures, addresses that could
   * not be bound go to onSocketError.
   */
  refreshInterfaces(served: readonly NetworkInterfaceV4[]): Promise<InterfaceRefresh>;
  close(): Promise<void>;
}
