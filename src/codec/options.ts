// The DHCP option table (RFC 2132 and the later RFCs the server meets) and the typed conversion of option
// values both ways. The packet codec itself (decode.ts / encode.ts) only moves raw bytes; this module is
// what turns them into numbers, addresses, strings and structures, and back. The config uses the table to
// check that a dhcpcap tag's value has the type of the option it maps to.

import { decodeDomainList, decodeWireName, encodeDomainList, encodeWireName } from './dnsname';

/** The wire type of an option value; the comment gives the JS type it converts to. */
export type OptionValueType =
  | 'ip' // number (uint32 address)
  | 'ip-list' // number[]
  | 'ip-pairs' // Array<[number, number]> (address + mask, or destination + router)
  | 'u8' // number
  | 'u16' // number
  | 'u32' // number
  | 'i32' // number (signed, e.g. time offset)
  | 'u8-list' // number[] (parameter request list)
  | 'u16-list' // number[] (MTU plateau table, client architectures)
  | 'bool' // boolean (one byte, 0 or 1)
  | 'string' // string (latin1 on the wire, no NUL terminator)
  | 'bytes' // Buffer (opaque)
  | 'client-fqdn' // ClientFqdn (option 81)
  | 'relay-agent' // RelayAgentSubOption[] (option 82)
  | 'domain-list' // string[] (option 119)
  | 'classless-routes'; // ClasslessRoute[] (option 121)

export interface OptionDef {
  code: number;
  /** Lower-case, hyphenated name, as Kea and ISC dhcpd spell most of them. */
  name: string;
  type: OptionValueType;
  /** Fewest value bytes the RFC allows, when it says more than the type implies (e.g. 61: 2). */
  minLength?: number;
  /** Numeric bounds the RFC sets (e.g. 57 and 22: at least 576; 26: at least 68). */
  min?: number;
  max?: number;
}

/** Option 81 (RFC 4702). */
export interface ClientFqdn {
  /** Bit field: S 0x01 (server updates A), O 0x02 (server override), E 0x04 (wire-format name), N 0x08. */
  flags: number;
  rcode1: number;
  rcode2: number;
  /**
   * With E set: the wire-format name in text form, fully qualified names ending with '.', partial names
   * (no root label) without it, "" for no name. Without E: the ASCII bytes as sent (latin1).
   */
  name: string;
}

export const FQDN_FLAG_S = 0x01;
export const FQDN_FLAG_O = 0x02;
export const FQDN_FLAG_E = 0x04;
export const FQDN_FLAG_N = 0x08;

/** One sub-option of option 82 (RFC 3046), in the order the relay wrote them. */
export interface RelayAgentSubOption {
  code: number;
  data: Buffer;
}

export const RAI_CIRCUIT_ID = 1; // RFC 3046
export const RAI_REMOTE_ID = 2; // RFC 3046
export const RAI_LINK_SELECTION = 5; // RFC 3527
export const RAI_SERVER_ID_OVERRIDE = 11; // RFC 5107

/** One route of option 121 (RFC 3442). */
export interface ClasslessRoute {
  destination: number;
  prefixLength: number;
  router: number;
}

/** Every JS value an option converts to. */
export type OptionValue =
  | number
  | number[]
  | Array<[number, number]>
  | boolean
  | string
  | Buffer
  | ClientFqdn
  | RelayAgentSubOption[]
  | string[]
  | ClasslessRoute[];

export type DecodedOptionValue = { ok: true; value: OptionValue } | { ok: false; message: string };

// Option codes the server and the codec name in code.
export const OPT_PAD = 0;
export const OPT_SUBNET_MASK = 1;
export const OPT_ROUTER = 3;
export const OPT_HOST_NAME = 12;
export const OPT_DOMAIN_NAME = 15;
export const OPT_REQUESTED_ADDRESS = 50;
export const OPT_LEASE_TIME = 51;
export const OPT_OVERLOAD = 52;
export const OPT_MESSAGE_TYPE = 53;
export const OPT_SERVER_ID = 54;
export const OPT_PARAMETER_REQUEST_LIST = 55;
export const OPT_MESSAGE = 56;
export const OPT_MAX_MESSAGE_SIZE = 57;
export const OPT_RENEWAL_TIME = 58;
export const OPT_REBINDING_TIME = 59;
export const OPT_VENDOR_CLASS = 60;
export const OPT_CLIENT_ID = 61;
export const OPT_TFTP_SERVER_NAME = 66;
export const OPT_BOOTFILE_NAME = 67;
export const OPT_USER_CLASS = 77;
export const OPT_CLIENT_FQDN = 81;
export const OPT_RELAY_AGENT_INFO = 82;
export const OPT_SUBNET_SELECTION = 118;
export const OPT_DOMAIN_SEARCH = 119;
export const OPT_CLASSLESS_ROUTES = 121;
export const OPT_CLIENT_UUID = 97;
export const OPT_VENDOR_SPECIFIC = 43;
export const OPT_END = 255;

type Row = [code: number, name: string, type: OptionValueType, extra?: Partial<Pick<OptionDef, 'minLength' | 'min' | 'max'>>];

// Strings of RFC 2132 have "minimum length 1"; lists of addresses at least one address unless noted.
const ROWS: Row[] = [
  // RFC 2132 section 3: vendor extensions
  [1, 'subnet-mask', 'ip'],
  [2, 'time-offset', 'i32'],
  [3, 'routers', 'ip-list'],
  [4, 'time-servers', 'ip-list'],
  [5, 'name-servers', 'ip-list'],
  [6, 'domain-name-servers', 'ip-list'],
  [7, 'log-servers', 'ip-list'],
  [8, 'cookie-servers', 'ip-list'],
  [9, 'lpr-servers', 'ip-list'],
  [10, 'impress-servers', 'ip-list'],
  [11, 'resource-location-servers', 'ip-list'],
  [12, 'host-name', 'string'],
  [13, 'boot-size', 'u16'],
  [14, 'merit-dump', 'string'],
  [15, 'domain-name', 'string'],
  [16, 'swap-server', 'ip'],
  [17, 'root-path', 'string'],
  [18, 'extensions-path', 'string'],
  // section 4: IP layer parameters per host
  [19, 'ip-forwarding', 'bool'],
  [20, 'non-local-source-routing', 'bool'],
  [21, 'policy-filter', 'ip-pairs'],
  [22, 'max-dgram-reassembly', 'u16', { min: 576 }],
  [23, 'default-ip-ttl', 'u8', { min: 1 }],
  [24, 'path-mtu-aging-timeout', 'u32'],
  [25, 'path-mtu-plateau-table', 'u16-list', { min: 68 }],
  // section 5: IP layer parameters per interface
  [26, 'interface-mtu', 'u16', { min: 68 }],
  [27, 'all-subnets-local', 'bool'],
  [28, 'broadcast-address', 'ip'],
  [29, 'perform-mask-discovery', 'bool'],
  [30, 'mask-supplier', 'bool'],
  [31, 'router-discovery', 'bool'],
  [32, 'router-solicitation-address', 'ip'],
  [33, 'static-routes', 'ip-pairs'],
  // section 6: link layer parameters per interface
  [34, 'trailer-encapsulation', 'bool'],
  [35, 'arp-cache-timeout', 'u32'],
  [36, 'ieee802-3-encapsulation', 'bool'],
  // section 7: TCP parameters
  [37, 'default-tcp-ttl', 'u8', { min: 1 }],
  [38, 'tcp-keepalive-interval', 'u32'],
  [39, 'tcp-keepalive-garbage', 'bool'],
  // section 8: application and service parameters
  [40, 'nis-domain', 'string'],
  [41, 'nis-servers', 'ip-list'],
  [42, 'ntp-servers', 'ip-list'],
  [43, 'vendor-encapsulated-options', 'bytes', { minLength: 1 }],
  [44, 'netbios-name-servers', 'ip-list'],
  [45, 'netbios-dd-server', 'ip-list'],
  [46, 'netbios-node-type', 'u8', { min: 1, max: 8 }],
  [47, 'netbios-scope', 'string'],
  [48, 'font-servers', 'ip-list'],
  [49, 'x-display-manager', 'ip-list'],
  // section 9: DHCP extensions
  [50, 'dhcp-requested-address', 'ip'],
  [51, 'dhcp-lease-time', 'u32'],
  [52, 'dhcp-option-overload', 'u8', { min: 1, max: 3 }],
  [53, 'dhcp-message-type', 'u8', { min: 1, max: 8 }],
  [54, 'dhcp-server-identifier', 'ip'],
  [55, 'dhcp-parameter-request-list', 'u8-list'],
  [56, 'dhcp-message', 'string'],
  [57, 'dhcp-max-message-size', 'u16', { min: 576 }],
  [58, 'dhcp-renewal-time', 'u32'],
  [59, 'dhcp-rebinding-time', 'u32'],
  [60, 'vendor-class-identifier', 'string'],
  [61, 'dhcp-client-identifier', 'bytes', { minLength: 2 }],
  [62, 'nwip-domain-name', 'string'], // RFC 2242
  [63, 'nwip-suboptions', 'bytes', { minLength: 1 }], // RFC 2242
  [64, 'nisplus-domain-name', 'string'],
  [65, 'nisplus-servers', 'ip-list'],
  [66, 'tftp-server-name', 'string'],
  [67, 'boot-file-name', 'string'],
  [68, 'mobile-ip-home-agent', 'ip-list', { minLength: 0 }],
  [69, 'smtp-server', 'ip-list'],
  [70, 'pop-server', 'ip-list'],
  [71, 'nntp-server', 'ip-list'],
  [72, 'www-server', 'ip-list'],
  [73, 'finger-server', 'ip-list'],
  [74, 'irc-server', 'ip-list'],
  [75, 'streettalk-server', 'ip-list'],
  [76, 'streettalk-directory-assistance-server', 'ip-list'],
  // later RFCs
  [77, 'user-class', 'bytes', { minLength: 1 }], // RFC 3004 (many clients send plain text: kept opaque)
  [78, 'slp-directory-agent', 'bytes', { minLength: 1 }], // RFC 2610
  [79, 'slp-service-scope', 'bytes', { minLength: 1 }], // RFC 2610
  [80, 'rapid-commit', 'bytes'], // RFC 4039: zero-length flag
  [81, 'fqdn', 'client-fqdn'], // RFC 4702
  [82, 'dhcp-agent-options', 'relay-agent'], // RFC 3046
  [85, 'nds-servers', 'ip-list'], // RFC 2241
  [86, 'nds-tree-name', 'string'], // RFC 2241
  [87, 'nds-context', 'string'], // RFC 2241
  [90, 'authenticate', 'bytes', { minLength: 3 }], // RFC 3118
  [91, 'client-last-transaction-time', 'u32'], // RFC 4388
  [92, 'associated-ip', 'ip-list'], // RFC 4388
  [93, 'client-system', 'u16-list'], // RFC 4578: client architecture types
  [94, 'client-ndi', 'bytes', { minLength: 3 }], // RFC 4578: type, major, minor
  [97, 'uuid-guid', 'bytes', { minLength: 1 }], // RFC 4578: type 0 + 16-byte UUID
  [100, 'pcode', 'string'], // RFC 4833
  [101, 'tcode', 'string'], // RFC 4833
  [108, 'v6-only-preferred', 'u32'], // RFC 8925
  [114, 'captive-portal', 'string'], // RFC 8910
  [116, 'auto-config', 'u8'], // RFC 2563
  [118, 'subnet-selection', 'ip'], // RFC 3011
  [119, 'domain-search', 'domain-list'], // RFC 3397
  [121, 'classless-static-route', 'classless-routes'], // RFC 3442
  [124, 'vivco-suboptions', 'bytes', { minLength: 5 }], // RFC 3925
  [125, 'vivso-suboptions', 'bytes', { minLength: 5 }], // RFC 3925
  [150, 'tftp-server-address', 'ip-list'], // RFC 5859
  [252, 'wpad', 'string'], // web proxy auto-discovery URL (site-specific range, as every server spells it)
];

function buildTable(): ReadonlyMap<number, OptionDef> {
  const table = new Map<number, OptionDef>();
  for (const [code, name, type, extra] of ROWS) table.set(code, { code, name, type, ...extra });
  return table;
}

/** Every option the codec knows, by code. A code not in it is opaque bytes. */
export const OPTIONS: ReadonlyMap<number, OptionDef> = buildTable();

/** Known options by name (e.g. "routers" → 3). */
export const OPTIONS_BY_NAME: ReadonlyMap<string, OptionDef> = new Map([...OPTIONS.values()].map((d) => [d.name, d]));

/** The value type of an option: 'bytes' for a code not in the table. */
export function optionType(code: number): OptionValueType {
  return OPTIONS.get(code)?.type ?? 'bytes';
}

// Decoding ------------------------------------------------------------------------------------------

const fail = (message: string): DecodedOptionValue => ({ ok: false, message });

function checkBounds(def: OptionDef | undefined, value: number): string | undefined {
  if (def?.min !== undefined && value < def.min) return `value ${value} below the minimum ${def.min}`;
  if (def?.max !== undefined && value > def.max) return `value ${value} above the maximum ${def.max}`;
  return undefined;
}

/**
 * Converts an option's value bytes (already joined per RFC 3396) into its JS value. Never throws; a value
 * whose length or content does not fit the option's type is { ok: false } with a reason.
 */
export function decodeOptionValue(code: number, bytes: Buffer): DecodedOptionValue {
  const def = OPTIONS.get(code);
  const length = bytes.length;
  if (def === undefined) return { ok: true, value: bytes };
  if (def.minLength !== undefined && length < def.minLength) {
    return fail(`length ${length}, at least ${def.minLength} expected`);
  }
  switch (def.type) {
    case 'ip':
    case 'u32':
      if (length !== 4) return fail(`length ${length}, 4 expected`);
      return { ok: true, value: bytes.readUInt32BE(0) };
    case 'i32':
      if (length !== 4) return fail(`length ${length}, 4 expected`);
      return { ok: true, value: bytes.readInt32BE(0) };
    case 'u16': {
      if (length !== 2) return fail(`length ${length}, 2 expected`);
      const value = bytes.readUInt16BE(0);
      const bad = checkBounds(def, value);
      return bad === undefined ? { ok: true, value } : fail(bad);
    }
    case 'u8': {
      if (length !== 1) return fail(`length ${length}, 1 expected`);
      const value = bytes[0]!;
      const bad = checkBounds(def, value);
      return bad === undefined ? { ok: true, value } : fail(bad);
    }
    case 'bool':
      if (length !== 1) return fail(`length ${length}, 1 expected`);
      if (bytes[0]! > 1) return fail(`Boolean value ${bytes[0]}, 0 or 1 expected`);
      return { ok: true, value: bytes[0] === 1 };
    case 'ip-list': {
      const min = def.minLength ?? 4;
      if (length % 4 !== 0 || length < min) return fail(`length ${length}, a multiple of 4 (at least ${min}) expected`);
      const list = new Array<number>(length / 4);
      for (let i = 0; i < list.length; i++) list[i] = bytes.readUInt32BE(i * 4);
      return { ok: true, value: list };
    }
    case 'ip-pairs': {
      if (length % 8 !== 0 || length === 0) return fail(`length ${length}, a multiple of 8 expected`);
      const pairs: Array<[number, number]> = [];
      for (let i = 0; i < length; i += 8) pairs.push([bytes.readUInt32BE(i), bytes.readUInt32BE(i + 4)]);
      return { ok: true, value: pairs };
    }
    case 'u8-list': {
      if (length === 0) return fail('empty list');
      const list = new Array<number>(length);
      for (let i = 0; i < length; i++) list[i] = bytes[i]!;
      return { ok: true, value: list };
    }
    case 'u16-list': {
      if (length % 2 !== 0 || length === 0) return fail(`length ${length}, a multiple of 2 expected`);
      const list = new Array<number>(length / 2);
      for (let i = 0; i < list.length; i++) {
        list[i] = bytes.readUInt16BE(i * 2);
        const bad = checkBounds(def, list[i]!);
        if (bad !== undefined) return fail(bad);
      }
      return { ok: true, value: list };
    }
    case 'string':
      return decodeString(bytes);
    case 'bytes':
      return { ok: true, value: bytes };
    case 'client-fqdn':
      return decodeClientFqdn(bytes);
    case 'relay-agent':
      return decodeRelayAgentInfo(bytes);
    case 'domain-list': {
      if (length === 0) return fail('empty list');
      const names = decodeDomainList(bytes);
      return names.ok ? names : fail(names.message);
    }
    case 'classless-routes':
      return decodeClasslessRoutes(bytes);
  }
}

/**
 * RFC 2132 strings are not NUL-terminated, but some clients (older Windows among them) add one or more
 * NULs: they are dropped from the end so that "host\0" is the name "host". A string that is empty after
 * that is invalid (minimum length 1).
 */
function decodeString(bytes: Buffer): DecodedOptionValue {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0) return fail(bytes.length === 0 ? 'empty string' : 'string of NUL bytes only');
  return { ok: true, value: bytes.toString('latin1', 0, end) };
}

function decodeClientFqdn(bytes: Buffer): DecodedOptionValue {
  if (bytes.length < 3) return fail(`length ${bytes.length}, at least 3 expected`);
  const flags = bytes[0]!;
  const rest = bytes.subarray(3);
  let name: string;
  if (flags & FQDN_FLAG_E) {
    const decoded = decodeWireName(rest);
    if (!decoded.ok) return fail(decoded.message);
    name = decoded.value;
  } else {
    name = rest.toString('latin1');
  }
  return { ok: true, value: { flags, rcode1: bytes[1]!, rcode2: bytes[2]!, name } };
}

/** Option 82 sub-options (RFC 3046: code, length, data, repeated); framing errors are { ok: false }. */
export function decodeRelayAgentInfo(bytes: Buffer): DecodedOptionValue {
  if (bytes.length === 0) return fail('empty relay agent information');
  const list: RelayAgentSubOption[] = [];
  for (let offset = 0; offset < bytes.length;) {
    if (offset + 2 > bytes.length) return fail(`sub-option at ${offset} has no length byte`);
    const length = bytes[offset + 1]!;
    if (offset + 2 + length > bytes.length) {
      return fail(`sub-option ${bytes[offset]} at ${offset} of length ${length} runs past the end`);
    }
    list.push({ code: bytes[offset]!, data: bytes.subarray(offset + 2, offset + 2 + length) });
    offset += 2 + length;
  }
  return { ok: true, value: list };
}

function decodeClasslessRoutes(bytes: Buffer): DecodedOptionValue {
  if (bytes.length === 0) return fail('empty route list');
  const routes: ClasslessRoute[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const prefixLength = bytes[offset]!;
    if (prefixLength > 32) return fail(`prefix length ${prefixLength} at ${offset}, at most 32 expected`);
    const significant = (prefixLength + 7) >> 3;
    if (offset + 1 + significant + 4 > bytes.length) return fail(`route at ${offset} runs past the end`);
    let destination = 0;
    for (let i = 0; i < 4; i++) destination = destination * 256 + (i < significant ? bytes[offset + 1 + i]! : 0);
    destination = (destination & maskOf(prefixLength)) >>> 0;
    const router = bytes.readUInt32BE(offset + 1 + significant);
    routes.push({ destination, prefixLength, router });
    offset += 1 + significant + 4;
  }
  return { ok: true, value: routes };
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

// Encoding ------------------------------------------------------------------------------------------

type Encoded = { ok: true; bytes: Buffer } | { ok: false; message: string };
const bad = (message: string): Encoded => ({ ok: false, message });

const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const isAddress = (v: unknown): v is number => isUint(v, 0xffffffff);

function encodeNumber(def: OptionDef, value: unknown, size: 1 | 2 | 4, signed: boolean): Encoded {
  const ok = signed
    ? typeof value === 'number' && Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff
    : isUint(value, size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff);
  if (!ok) return bad(`expected ${signed ? 'a signed 32-bit' : `an unsigned ${size * 8}-bit`} integer, got ${describe(value)}`);
  const boundsProblem = checkBounds(def, value as number);
  if (boundsProblem !== undefined) return bad(boundsProblem);
  const out = Buffer.allocUnsafe(size);
  if (size === 1) out[0] = value as number;
  else if (size === 2) out.writeUInt16BE(value as number, 0);
  else if (signed) out.writeInt32BE(value as number, 0);
  else out.writeUInt32BE(value as number, 0);
  return { ok: true, bytes: out };
}

function describe(value: unknown): string {
  if (Buffer.isBuffer(value)) return `bytes of length ${value.length}`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function encodeWithDef(def: OptionDef | undefined, value: unknown): Encoded {
  if (def === undefined) {
    return Buffer.isBuffer(value)
      ? { ok: true, bytes: value }
      : bad(`expected bytes for an unknown option, got ${describe(value)}`);
  }
  const encoded = encodeByType(def, value);
  if (encoded.ok && def.minLength !== undefined && encoded.bytes.length < def.minLength) {
    return bad(`value of ${encoded.bytes.length} bytes, at least ${def.minLength} expected`);
  }
  return encoded;
}

function encodeByType(def: OptionDef, value: unknown): Encoded {
  switch (def.type) {
    case 'ip':
      if (!isAddress(value)) return bad(`expected an IPv4 address (uint32), got ${describe(value)}`);
      return encodeNumber(def, value, 4, false);
    case 'u32':
      return encodeNumber(def, value, 4, false);
    case 'i32':
      return encodeNumber(def, value, 4, true);
    case 'u16':
      return encodeNumber(def, value, 2, false);
    case 'u8':
      return encodeNumber(def, value, 1, false);
    case 'bool':
      if (typeof value !== 'boolean') return bad(`expected a Boolean, got ${describe(value)}`);
      return { ok: true, bytes: Buffer.from([value ? 1 : 0]) };
    case 'ip-list': {
      const min = def.minLength === 0 ? 0 : 1;
      if (!Array.isArray(value) || value.length < min || !value.every(isAddress)) {
        return bad(`expected a list of ${min === 0 ? 'zero or more' : 'one or more'} IPv4 addresses, got ${describe(value)}`);
      }
      const out = Buffer.allocUnsafe(value.length * 4);
      value.forEach((address, i) => out.writeUInt32BE(address, i * 4));
      return { ok: true, bytes: out };
    }
    case 'ip-pairs': {
      const isPair = (p: unknown): p is [number, number] =>
        Array.isArray(p) && p.length === 2 && isAddress(p[0]) && isAddress(p[1]);
      if (!Array.isArray(value) || value.length === 0 || !value.every(isPair)) {
        return bad(`expected a list of one or more address pairs, got ${describe(value)}`);
      }
      const out = Buffer.allocUnsafe(value.length * 8);
      value.forEach(([a, b], i) => {
        out.writeUInt32BE(a, i * 8);
        out.writeUInt32BE(b, i * 8 + 4);
      });
      return { ok: true, bytes: out };
    }
    case 'u8-list':
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => isUint(v, 0xff))) {
        return bad(`expected a list of one or more integers 0-255, got ${describe(value)}`);
      }
      return { ok: true, bytes: Buffer.from(value) };
    case 'u16-list': {
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => isUint(v, 0xffff))) {
        return bad(`expected a list of one or more integers 0-65535, got ${describe(value)}`);
      }
      for (const v of value) {
        const problem = checkBounds(def, v);
        if (problem !== undefined) return bad(problem);
      }
      const out = Buffer.allocUnsafe(value.length * 2);
      value.forEach((v, i) => out.writeUInt16BE(v, i * 2));
      return { ok: true, bytes: out };
    }
    case 'string':
      if (typeof value !== 'string' || value.length === 0) return bad(`expected a non-empty string, got ${describe(value)}`);
      if (!isLatin1(value)) return bad(`string ${JSON.stringify(value)} has characters outside latin1`);
      return { ok: true, bytes: Buffer.from(value, 'latin1') };
    case 'bytes':
      if (!Buffer.isBuffer(value)) return bad(`expected bytes, got ${describe(value)}`);
      return { ok: true, bytes: value };
    case 'client-fqdn':
      return encodeClientFqdn(value);
    case 'relay-agent':
      return encodeRelayAgentInfo(value);
    case 'domain-list': {
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
        return bad(`expected a list of one or more domain names, got ${describe(value)}`);
      }
      const encoded = encodeDomainList(value);
      return encoded.ok ? { ok: true, bytes: encoded.value } : bad(encoded.message);
    }
    case 'classless-routes':
      return encodeClasslessRoutes(value);
  }
}

function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

function encodeClientFqdn(value: unknown): Encoded {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
    return bad(`expected {flags, rcode1, rcode2, name}, got ${describe(value)}`);
  }
  const { flags, rcode1, rcode2, name } = value as Partial<ClientFqdn>;
  if (!isUint(flags, 0xff) || !isUint(rcode1, 0xff) || !isUint(rcode2, 0xff) || typeof name !== 'string') {
    return bad('expected flags, rcode1, rcode2 as integers 0-255 and name as a string');
  }
  let nameBytes: Buffer;
  if (flags & FQDN_FLAG_E) {
    const encoded = encodeWireName(name);
    if (!encoded.ok) return bad(encoded.message);
    nameBytes = encoded.value;
  } else {
    if (!isLatin1(name)) return bad(`name ${JSON.stringify(name)} has characters outside latin1`);
    nameBytes = Buffer.from(name, 'latin1');
  }
  const out = Buffer.allocUnsafe(3 + nameBytes.length);
  out[0] = flags;
  out[1] = rcode1;
  out[2] = rcode2;
  nameBytes.copy(out, 3);
  return { ok: true, bytes: out };
}

function encodeRelayAgentInfo(value: unknown): Encoded {
  const isSub = (s: unknown): s is RelayAgentSubOption =>
    typeof s === 'object' &&
    s !== null &&
    isUint((s as RelayAgentSubOption).code, 0xff) &&
    Buffer.isBuffer((s as RelayAgentSubOption).data) &&
    (s as RelayAgentSubOption).data.length <= 255;
  if (!Array.isArray(value) || value.length === 0 || !value.every(isSub)) {
    return bad('expected a list of one or more {code 0-255, data of at most 255 bytes}');
  }
  const parts: Buffer[] = [];
  for (const sub of value) parts.push(Buffer.from([sub.code, sub.data.length]), sub.data);
  return { ok: true, bytes: Buffer.concat(parts) };
}

function encodeClasslessRoutes(value: unknown): Encoded {
  const isRoute = (r: unknown): r is ClasslessRoute =>
    typeof r === 'object' &&
    r !== null &&
    isAddress((r as ClasslessRoute).destination) &&
    isUint((r as ClasslessRoute).prefixLength, 32) &&
    isAddress((r as ClasslessRoute).router);
  if (!Array.isArray(value) || value.length === 0 || !value.every(isRoute)) {
    return bad('expected a list of one or more {destination, prefixLength 0-32, router}');
  }
  let length = 0;
  for (const route of value) {
    if ((route.destination & ~maskOf(route.prefixLength)) >>> 0 !== 0) {
      return bad(
        `destination ${route.destination >>> 24}.${(route.destination >>> 16) & 255}.` +
          `${(route.destination >>> 8) & 255}.${route.destination & 255}/${route.prefixLength} has host bits set`,
      );
    }
    length += 1 + ((route.prefixLength + 7) >> 3) + 4;
  }
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const route of value) {
    const significant = (route.prefixLength + 7) >> 3;
    out[offset++] = route.prefixLength;
    for (let i = 0; i < significant; i++) out[offset++] = (route.destination >>> (24 - 8 * i)) & 0xff;
    out.writeUInt32BE(route.router, offset);
    offset += 4;
  }
  return { ok: true, bytes: out };
}

/**
 * Converts a JS value into an option's value bytes (not yet split at 255: encode() does that). Throws a
 * TypeError when the value does not fit the option's type: the config checks tag values with
 * checkOptionValue() when it loads, so a throw here is a bug, not bad input.
 */
export function encodeOptionValue(code: number, value: OptionValue): Buffer {
  const encoded = encodeWithDef(OPTIONS.get(code), value);
  if (!encoded.ok) throw new TypeError(`option ${code}: ${encoded.message}`);
  return encoded.bytes;
}

/**
 * Whether a value fits an option: undefined when it does, else what is wrong (for config messages, e.g.
 * "expected a list of one or more IPv4 addresses, got 7"). Never throws.
 */
export function checkOptionValue(code: number, value: unknown): string | undefined {
  const encoded = encodeWithDef(OPTIONS.get(code), value);
  return encoded.ok ? undefined : encoded.message;
}

/** Vendor-specific sub-options (T43.N) as option 43's value: code, length, data, by code. */
export function encodeVendorSubOptions(subs: ReadonlyArray<readonly [number, Buffer]>): Buffer {
  const sorted = [...subs].sort((a, b) => a[0] - b[0]);
  return Buffer.concat(sorted.flatMap(([code, data]) => [Buffer.from([code, data.length]), data]));
}

// Option 82 helpers ---------------------------------------------------------------------------------

/** The data of the first sub-option with this code, if any. */
export function relayAgentSubOption(list: readonly RelayAgentSubOption[], code: number): Buffer | undefined {
  for (const sub of list) if (sub.code === code) return sub.data;
  return undefined;
}

export function circuitId(list: readonly RelayAgentSubOption[]): Buffer | undefined {
  return relayAgentSubOption(list, RAI_CIRCUIT_ID);
}

export function remoteId(list: readonly RelayAgentSubOption[]): Buffer | undefined {
  return relayAgentSubOption(list, RAI_REMOTE_ID);
}

/** Link selection (RFC 3527): the address of the client's subnet, when the sub-option is 4 bytes. */
export function linkSelection(list: readonly RelayAgentSubOption[]): number | undefined {
  const data = relayAgentSubOption(list, RAI_LINK_SELECTION);
  return data !== undefined && data.length === 4 ? data.readUInt32BE(0) : undefined;
}

/** Server identifier override (RFC 5107), when the sub-option is 4 bytes. */
export function serverIdOverride(list: readonly RelayAgentSubOption[]): number | undefined {
  const data = relayAgentSubOption(list, RAI_SERVER_ID_OVERRIDE);
  return data !== undefined && data.length === 4 ? data.readUInt32BE(0) : undefined;
}
