// Where a reply goes: RFC 2131 section 4.1 (and RFC 1542 for BOOTP), in one pure function.
import { messageType } from '../codec/accessors';
import type { DhcpPacket } from '../codec/types';
import { FLAG_BROADCAST, MessageType } from '../codec/types';
import type { Destination } from '../io/transport';

export const SERVER_PORT = 67;
export const CLIENT_PORT = 68;

export interface AddressingOptions {
  /** force_broadcast_reply: ignore the client's broadcast flag and always broadcast. */
  forceBroadcast: boolean;
  /** The transport can unicast to a client without an address (chaddr + yiaddr, no ARP). */
  directUnicast: boolean;
  /** The interface the request arrived on, when known. */
  ifname?: string;
  /** The client link's broadcast address (for transports that send through the IP stack). */
  directed?: number;
}

/**
 * The destination of a reply to `request`. `replyType` is the DHCP message type of the reply, or
 * undefined for a BOOTREPLY.
 */
export function replyDestination(
  request: DhcpPacket,
  replyType: MessageType | undefined,
  yiaddr: number,
  opts: AddressingOptions,
): Destination {
  // A DHCPINFORM's ACK goes directly to ciaddr, relayed or not (RFC 2131 4.3.5). Through the relay it has
  // no yiaddr to be delivered to (RFC 1542 4.1.2): the client is reached by routing, not on our link.
  if (request.ciaddr !== 0 && messageType(request) === MessageType.INFORM) {
    return { kind: 'unicast', ip: request.ciaddr, port: CLIENT_PORT, ...(request.giaddr === 0 ? ifnameOf(opts) : {}) };
  }
  // Through a relay: always to the relay's server port; it delivers to the client.
  if (request.giaddr !== 0) return { kind: 'relay', ip: request.giaddr, port: SERVER_PORT };
  const broadcast: Destination = { kind: 'broadcast', port: CLIENT_PORT, ...ifnameOf(opts), ...directedOf(opts) };
  // A NAK goes to everyone: the client may not be able to receive at the address it thinks it has.
  if (replyType === MessageType.NAK) return broadcast;
  // A client that has an address and said so (RENEWING, REBINDING, INFORM) gets a normal unicast.
  if (request.ciaddr !== 0) return { kind: 'unicast', ip: request.ciaddr, port: CLIENT_PORT, ...ifnameOf(opts) };
  if ((request.flags & FLAG_BROADCAST) !== 0 || opts.forceBroadcast) return broadcast;
  // No address yet and no broadcast flag: unicast to its hardware address and the address we give it.
  if (opts.directUnicast && yiaddr !== 0) {
    return {
      kind: 'unicast',
      ip: yiaddr,
      port: CLIENT_PORT,
      mac: request.chaddr.subarray(0, Math.min(request.hlen, 16)),
      ...ifnameOf(opts),
    };
  }
  return broadcast;
}

function ifnameOf(opts: AddressingOptions): { ifname?: string } {
  return opts.ifname === undefined ? {} : { ifname: opts.ifname };
}

function directedOf(opts: AddressingOptions): { directed?: number } {
  return opts.directed === undefined ? {} : { directed: opts.directed };
}
