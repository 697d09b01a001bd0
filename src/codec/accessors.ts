// Typed readers of a decoded packet's options, for the server. Each returns undefined when the option is
// absent or its value does not fit its type (decode() already refused packets whose 53, 50, 51, 54, 55,
// 57-59, 61, 82 and 118 have the wrong length; the others are checked here, when read).

import type { DhcpPacket } from './types';
import {
  type ClientFqdn,
  type RelayAgentSubOption,
  decodeOptionValue,
  OPT_CLIENT_FQDN,
  OPT_CLIENT_ID,
  OPT_HOST_NAME,
  OPT_LEASE_TIME,
  OPT_MAX_MESSAGE_SIZE,
  OPT_MESSAGE_TYPE,
  OPT_PARAMETER_REQUEST_LIST,
  OPT_RELAY_AGENT_INFO,
  OPT_REQUESTED_ADDRESS,
  OPT_SERVER_ID,
  OPT_SUBNET_SELECTION,
  OPT_USER_CLASS,
  OPT_VENDOR_CLASS,
} from './options';

/** Minimum legal value of option 57 (RFC 2132 9.10). */
const MIN_MAX_MESSAGE_SIZE = 576;

function u32(pkt: DhcpPacket, code: number): number | undefined {
  const value = pkt.options.get(code);
  return value !== undefined && value.length === 4 ? value.readUInt32BE(0) : undefined;
}

/** Option 53, 1..8 (see MessageType); undefined for BOOTP. */
export function messageType(pkt: DhcpPacket): number | undefined {
  const value = pkt.options.get(OPT_MESSAGE_TYPE);
  return value !== undefined && value.length === 1 && value[0]! >= 1 && value[0]! <= 8 ? value[0] : undefined;
}

/** Option 50. */
export function requestedAddress(pkt: DhcpPacket): number | undefined {
  return u32(pkt, OPT_REQUESTED_ADDRESS);
}

/** Option 54. */
export function serverIdentifier(pkt: DhcpPacket): number | undefined {
  return u32(pkt, OPT_SERVER_ID);
}

/** Option 51, seconds (0xffffffff = infinite). */
export function leaseTime(pkt: DhcpPacket): number | undefined {
  return u32(pkt, OPT_LEASE_TIME);
}

/** Option 57; a value below the legal minimum 576 counts as absent (the server then uses 576). */
export function maxMessageSize(pkt: DhcpPacket): number | undefined {
  const value = pkt.options.get(OPT_MAX_MESSAGE_SIZE);
  if (value === undefined || value.length !== 2) return undefined;
  const size = value.readUInt16BE(0);
  return size >= MIN_MAX_MESSAGE_SIZE ? size : undefined;
}

/** Option 61, type byte included (a view into the packet: copy it to keep it beyond the packet). */
export function clientIdentifier(pkt: DhcpPacket): Buffer | undefined {
  const value = pkt.options.get(OPT_CLIENT_ID);
  return value !== undefined && value.length >= 2 ? value : undefined;
}

function text(pkt: DhcpPacket, code: number): string | undefined {
  const value = pkt.options.get(code);
  if (value === undefined) return undefined;
  const decoded = decodeOptionValue(code, value);
  return decoded.ok ? (decoded.value as string) : undefined;
}

/** Option 12, latin1, trailing NULs dropped. */
export function hostName(pkt: DhcpPacket): string | undefined {
  return text(pkt, OPT_HOST_NAME);
}

/** Option 60, latin1, trailing NULs dropped. */
export function vendorClass(pkt: DhcpPacket): string | undefined {
  return text(pkt, OPT_VENDOR_CLASS);
}

/** Option 55 as option codes, in the client's order. */
export function parameterRequestList(pkt: DhcpPacket): number[] | undefined {
  const value = pkt.options.get(OPT_PARAMETER_REQUEST_LIST);
  if (value === undefined || value.length === 0) return undefined;
  const codes = new Array<number>(value.length);
  for (let i = 0; i < value.length; i++) codes[i] = value[i]!;
  return codes;
}

/** Option 77, opaque: RFC 3004 length-prefixed classes from some clients, plain text from others. */
export function userClass(pkt: DhcpPacket): Buffer | undefined {
  const value = pkt.options.get(OPT_USER_CLASS);
  return value !== undefined && value.length >= 1 ? value : undefined;
}

/** Option 81 (RFC 4702). */
export function clientFqdn(pkt: DhcpPacket): ClientFqdn | undefined {
  const value = pkt.options.get(OPT_CLIENT_FQDN);
  if (value === undefined) return undefined;
  const decoded = decodeOptionValue(OPT_CLIENT_FQDN, value);
  return decoded.ok ? (decoded.value as ClientFqdn) : undefined;
}

/** Option 82 sub-options in order (see circuitId, remoteId, linkSelection, serverIdOverride). */
export function relayAgentInfo(pkt: DhcpPacket): RelayAgentSubOption[] | undefined {
  const value = pkt.options.get(OPT_RELAY_AGENT_INFO);
  if (value === undefined) return undefined;
  const decoded = decodeOptionValue(OPT_RELAY_AGENT_INFO, value);
  return decoded.ok ? (decoded.value as RelayAgentSubOption[]) : undefined;
}

/** Option 118 (RFC 3011). */
export function subnetSelection(pkt: DhcpPacket): number | undefined {
  return u32(pkt, OPT_SUBNET_SELECTION);
}

/** The hardware address: the first hlen bytes of chaddr (a view into the packet). */
export function hardwareAddress(pkt: DhcpPacket): Buffer {
  return pkt.chaddr.subarray(0, Math.min(pkt.hlen, pkt.chaddr.length));
}
