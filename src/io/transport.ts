// What the server needs from a transport, whichever it is (raw packet sockets or plain UDP).

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

export interface Transport {
  /** Whether it can unicast to a client without an address (chaddr + yiaddr, no ARP): RFC 2131 4.1. */
  readonly directUnicast: boolean;
  start(onPacket: (packet: Inbound) => void): Promise<void>;
  send(data: Buffer, dest: Destination, serverIp: number): void;
  /** Our address as seen from a relay or client at `to` (the server identifier to use). */
  localAddressFor(to: number, inbound: Inbound): number | undefined;
  /**
   * The same when localAddressFor does not know it yet: waits for the kernel's source address towards
   * `to` (Node learns it asynchronously), undefined when there is no route.
   */
  learnLocalAddressFor?(to: number): Promise<number | undefined>;
  close(): Promise<void>;
}
