// Ethernet II + IPv4 + UDP framing for the packet-socket path: what the kernel's UDP stack would do for
// us if a DHCP server could use it (it cannot: a client without an address must be reached by MAC).
// Pure functions over Buffers. The parser never throws and never trusts a length field: a bad frame
// comes back as a FrameError string, which the caller counts and drops.

export const ETHERNET_HEADER_LENGTH = 14;
export const IPV4_MIN_HEADER_LENGTH = 20;
export const UDP_HEADER_LENGTH = 8;
/** Ethernet + option-less IPv4 + UDP headers: where the payload starts in a frame we build. */
export const UDP_FRAME_HEADERS_LENGTH = ETHERNET_HEADER_LENGTH + IPV4_MIN_HEADER_LENGTH + UDP_HEADER_LENGTH;
export const ETHERTYPE_IPV4 = 0x0800;
export const IPPROTO_UDP = 17;
const DEFAULT_TTL = 64;

/** A parsed Ethernet/IPv4/UDP frame. The Buffers are views into the frame, not copies. */
export interface UdpFrame {
  dstMac: Buffer;
  srcMac: Buffer;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  ttl: number;
  /** The UDP payload, exactly UDP length - 8 bytes (Ethernet padding excluded). */
  payload: Buffer;
}

export type FrameError =
  | 'short-frame'
  | 'not-ipv4'
  | 'bad-ip-version'
  | 'bad-ip-header-length'
  | 'bad-ip-total-length'
  | 'ip-fragment'
  | 'not-udp'
  | 'bad-ip-checksum'
  | 'bad-udp-length'
  | 'bad-udp-checksum';

/** What buildUdpFrame needs. MACs are 6 bytes; addresses are uint32 host order. */
export interface UdpFrameSpec {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  /** IPv4 identification; by default a per-process counter (the header has DF clear, so it must vary). */
  ipId?: number;
}

/**
 * One's complement sum of bytes[start, end) as 16-bit big-endian words (an odd last byte is padded with
 * zero), added to `initial`, folded to 16 bits. Not complemented: see internetChecksum.
 */
export function onesComplementSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  // Plain number arithmetic cannot overflow here: 2^53 is far beyond any frame's word total.
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** RFC 1071 Internet checksum of bytes[start, end). */
export function internetChecksum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  return ~onesComplementSum(bytes, start, end, initial) & 0xffff;
}

/** Sum of the UDP pseudo-header (source, destination, zero + protocol, UDP length). */
function pseudoHeaderSum(srcIp: number, dstIp: number, udpLength: number): number {
  return (srcIp >>> 16) + (srcIp & 0xffff) + (dstIp >>> 16) + (dstIp & 0xffff) + IPPROTO_UDP + udpLength;
}

/**
 * Parses an Ethernet II frame carrying IPv4/UDP. The IPv4 header checksum is always verified (it is always
 * computed in software by senders). The UDP checksum is verified only on request: frames from a local
 * sender with checksum offload carry a partial checksum that is only completed by the NIC, so a packet
 * socket can see a "wrong" one from a perfectly good sender.
 */
export function parseUdpFrame(frame: Buffer, verifyUdpChecksum = false): UdpFrame | FrameError {
  if (frame.length < ETHERNET_HEADER_LENGTH + IPV4_MIN_HEADER_LENGTH + UDP_HEADER_LENGTH) return 'short-frame';
  if (((frame[12]! << 8) | frame[13]!) !== ETHERTYPE_IPV4) return 'not-ipv4';
  const ip = ETHERNET_HEADER_LENGTH;
  const versionAndLength = frame[ip]!;
  if (versionAndLength >>> 4 !== 4) return 'bad-ip-version';
  const ipHeaderLength = (versionAndLength & 0x0f) * 4;
  if (ipHeaderLength < IPV4_MIN_HEADER_LENGTH) return 'bad-ip-header-length';
  const totalLength = (frame[ip + 2]! << 8) | frame[ip + 3]!;
  // The frame may be longer (Ethernet pads to 60 bytes) but never shorter than the IP datagram.
  if (totalLength < ipHeaderLength + UDP_HEADER_LENGTH || ip + totalLength > frame.length) return 'bad-ip-total-length';
  if ((((frame[ip + 6]! << 8) | frame[ip + 7]!) & 0x3fff) !== 0) return 'ip-fragment';
  if (frame[ip + 9] !== IPPROTO_UDP) return 'not-udp';
  if (onesComplementSum(frame, ip, ip + ipHeaderLength) !== 0xffff) return 'bad-ip-checksum';

  const udp = ip + ipHeaderLength;
  const udpLength = (frame[udp + 4]! << 8) | frame[udp + 5]!;
  if (udpLength < UDP_HEADER_LENGTH || udp + udpLength > ip + totalLength) return 'bad-udp-length';
  const srcIp = frame.readUInt32BE(ip + 12);
  const dstIp = frame.readUInt32BE(ip + 16);
  if (verifyUdpChecksum) {
    const checksum = (frame[udp + 6]! << 8) | frame[udp + 7]!;
    // Zero means "no checksum" in UDP over IPv4.
    if (checksum !== 0 && onesComplementSum(frame, udp, udp + udpLength, pseudoHeaderSum(srcIp, dstIp, udpLength)) !== 0xffff) {
      return 'bad-udp-checksum';
    }
  }
  return {
    dstMac: frame.subarray(0, 6),
    srcMac: frame.subarray(6, 12),
    srcIp,
    dstIp,
    srcPort: (frame[udp]! << 8) | frame[udp + 1]!,
    dstPort: (frame[udp + 2]! << 8) | frame[udp + 3]!,
    ttl: frame[ip + 8]!,
    payload: frame.subarray(udp + UDP_HEADER_LENGTH, udp + udpLength),
  };
}

let nextIpId = (Math.random() * 0x10000) >>> 0;

/**
 * Writes the Ethernet, IPv4 (TTL 64, DF clear, no options) and UDP headers into frame[0, 42) for a payload
 * already in place at frame[42, 42 + payloadLength), with both checksums. Lets an encoder write straight
 * into the frame and skip a copy.
 */
export function writeUdpFrameHeaders(frame: Buffer, spec: Omit<UdpFrameSpec, 'payload'>, payloadLength: number): void {
  const udpLength = UDP_HEADER_LENGTH + payloadLength;
  const totalLength = IPV4_MIN_HEADER_LENGTH + udpLength;
  if (totalLength > 0xffff) throw new RangeError(`UDP payload too large for IPv4: ${payloadLength} bytes`);
  if (frame.length < ETHERNET_HEADER_LENGTH + totalLength) throw new RangeError('frame buffer too small');
  if (spec.dstMac.length !== 6 || spec.srcMac.length !== 6) throw new RangeError('MAC addresses must be 6 bytes');

  frame.set(spec.dstMac, 0);
  frame.set(spec.srcMac, 6);
  frame[12] = ETHERTYPE_IPV4 >>> 8;
  frame[13] = ETHERTYPE_IPV4 & 0xff;

  const ip = ETHERNET_HEADER_LENGTH;
  let ipId = spec.ipId;
  if (ipId === undefined) {
    ipId = nextIpId;
    nextIpId = (nextIpId + 1) & 0xffff;
  }
  frame[ip] = 0x45; // version 4, 5 words
  frame[ip + 1] = 0; // DSCP/ECN
  frame.writeUInt16BE(totalLength, ip + 2);
  frame.writeUInt16BE(ipId & 0xffff, ip + 4);
  frame.writeUInt16BE(0, ip + 6); // flags (DF clear) and fragment offset
  frame[ip + 8] = DEFAULT_TTL;
  frame[ip + 9] = IPPROTO_UDP;
  frame.writeUInt16BE(0, ip + 10);
  frame.writeUInt32BE(spec.srcIp >>> 0, ip + 12);
  frame.writeUInt32BE(spec.dstIp >>> 0, ip + 16);
  frame.writeUInt16BE(internetChecksum(frame, ip, ip + IPV4_MIN_HEADER_LENGTH), ip + 10);

  const udp = ip + IPV4_MIN_HEADER_LENGTH;
  frame.writeUInt16BE(spec.srcPort, udp);
  frame.writeUInt16BE(spec.dstPort, udp + 2);
  frame.writeUInt16BE(udpLength, udp + 4);
  frame.writeUInt16BE(0, udp + 6);
  let checksum = internetChecksum(frame, udp, udp + udpLength, pseudoHeaderSum(spec.srcIp >>> 0, spec.dstIp >>> 0, udpLength));
  if (checksum === 0) checksum = 0xffff; // 0 would mean "no checksum" (RFC 768)
  frame.writeUInt16BE(checksum, udp + 6);
}

/** A complete Ethernet/IPv4/UDP frame around spec.payload (one allocation, one copy of the payload). */
export function buildUdpFrame(spec: UdpFrameSpec): Buffer {
  const frame = Buffer.allocUnsafe(UDP_FRAME_HEADERS_LENGTH + spec.payload.length);
  frame.set(spec.payload, UDP_FRAME_HEADERS_LENGTH);
  writeUdpFrameHeaders(frame, spec, spec.payload.length);
  return frame;
}
