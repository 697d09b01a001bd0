// IPv4 addresses are carried everywhere inside joind as unsigned 32-bit numbers in host order
// (10.0.0.1 === 0x0a000001). Numbers are cheap to compare, sort and do range arithmetic on, and the
// hot packet path never allocates strings for them. Text forms exist only at the edges (logs, files).

/** Dotted-quad text of an address. */
export function ipToString(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/**
 * Strict dotted-quad parse (exactly four decimal fields 0-255), as used by DHCP-facing code and tests.
 * The configuration files accept the wider inet_addr forms; see src/config/inetaddr.ts.
 */
export function parseIp(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let ip = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    ip = ip * 256 + octet;
  }
  return ip >>> 0;
}

/** Like parseIp but throws: for literals in code and tests that are known to be valid. */
export function ip(text: string): number {
  const value = parseIp(text);
  if (value === undefined) throw new Error(`not a dotted-quad IPv4 address: ${text}`);
  return value;
}

/** Netmask with the given number of leading one bits. */
export function maskFromPrefix(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** Prefix length of a contiguous netmask, or undefined when the mask has holes. */
export function prefixFromMask(mask: number): number | undefined {
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  let length = 0;
  for (let m = mask >>> 0; m & 0x80000000; m = (m << 1) >>> 0) length++;
  return length;
}

/** Whether ip lies in the network network/mask. */
export function inNetwork(address: number, network: number, mask: number): boolean {
  return (address & mask) >>> 0 === (network & mask) >>> 0;
}

/** The classful (RFC 791) mask of an address: used when `netmasks` names no mask for a network. */
export function classfulMask(address: number): number {
  if (address >>> 31 === 0) return 0xff000000; // class A
  if (address >>> 30 === 2) return 0xffff0000; // class B
  if (address >>> 29 === 6) return 0xffffff00; // class C
  return 0xffffffff; // class D/E: no network part to speak of
}

/** Colon-separated lower-case hex of a byte string (hardware addresses, client identifiers). */
export function hexColons(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) text += ':';
    text += bytes[i]!.toString(16).padStart(2, '0');
  }
  return text;
}
