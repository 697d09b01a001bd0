// The dhcpcap tag table (joind-spec.md 5.3) and the parsing of each kind of tag value. The parser is
// driven by this table: adding a tag is adding a row. Each value is stored in the JS type the codec's
// option encoder takes for the tag's option (see TagValue in types.ts).
//
// Beyond the table, any option can be written by its code, as CMU bootptab's generic tags: `T150=…`
// takes the value type the codec's option table gives code 150 (addresses here), a code the codec does
// not know takes hex bytes or a quoted text; `T43.1=…` is sub-option 1 of the vendor-specific option 43
// (hex bytes or a quoted text), the sub-options of an entry sent together as one option 43.

import { OPTIONS, checkOptionValue, type ClasslessRoute, type OptionValueType } from '../codec';
import type { TagValue } from './types';
import { inetAddr } from './inetaddr';
import { hardwareLength, hardwareTypeName, parseHardwareType, parseHexBytes, parseUnsigned } from './hwaddr';
import { hexColons, ipToString } from '../util/ipv4';

export type TagKind =
  | 'ip' // one address → number
  | 'ip-list' // addresses → number[]
  | 'ip-pairs' // pairs of addresses → Array<[number, number]>
  | 'int' // unsigned integer in [min, max] → number
  | 'int-or-auto' // integer or `auto` → number | 'auto'
  | 'int-list' // integers → number[]
  | 'bool' // stands alone (`:hn:`) → true
  | 'switch' // 0 or 1 → boolean
  | 'string' // → string
  | 'opaque' // hex bytes (or a quoted text) → Buffer
  | 'text-bytes' // text sent as its bytes → Buffer
  | 'htype' // hardware type name or number → number
  | 'haddr' // hardware address → Buffer
  | 'label' // the label of another entry (tc) → string
  | 'domain-list' // domain names → string[] (option 119)
  | 'routes' // DEST/PREFIX ROUTER pairs → ClasslessRoute[] (option 121)
  | 'ranges' // address ranges FIRST-LAST (or one address) → Array<[number, number]>
  | 'labels'; // labels of other entries → string[]

/** Where a tag's value goes in a reply, when it is not (only) a DHCP option. */
export type TagPlace = 'scope' | 'yiaddr' | 'siaddr' | 'file' | 'sname' | 'template' | 'server';

export interface TagSpec {
  tag: string;
  meaning: string;
  kind: TagKind;
  /** The DHCP option (RFC 2132 code) the value is sent as, when it is one. */
  option?: number;
  /** With option 43: the vendor-specific sub-option the value is (T43.N). */
  suboption?: number;
  /** Other uses: scope keys (ht ha ck nw ct), BOOTP header fields, templates, server-side only (hd). */
  place?: TagPlace;
  min?: number;
  max?: number;
}

const U32 = 0xffffffff;

function t(tag: string, kind: TagKind, meaning: string, extra: Omit<TagSpec, 'tag' | 'kind' | 'meaning'> = {}): TagSpec {
  return { tag, kind, meaning, ...extra };
}

const TABLE: TagSpec[] = [
  t('ht', 'htype', 'hardware type', { place: 'scope' }),
  t('ha', 'haddr', 'hardware address', { place: 'scope' }),
  t('ck', 'opaque', 'client identifier', { option: 61, place: 'scope', min: 2 }),
  t('ct', 'string', 'vendor class identifier', { option: 60, place: 'scope' }),
  t('uc', 'text-bytes', 'user class (option 77, whole or one of its classes)', { option: 77, place: 'scope' }),
  t('ca', 'int-list', 'client system architecture (option 93: any of these)', { place: 'scope', min: 0, max: 0xffff }),
  t('ci', 'opaque', "relay agent circuit id (option 82's sub-option 1)", { place: 'scope' }),
  t('ri', 'opaque', "relay agent remote id (option 82's sub-option 2)", { place: 'scope' }),
  t('nw', 'ip', 'network this entry applies to', { place: 'scope' }),
  t('ip', 'ip', 'client address (static binding)', { place: 'yiaddr' }),
  t('sm', 'ip', 'subnet mask', { option: 1 }),
  t('to', 'int-or-auto', 'time offset (seconds east of UTC, may be negative)', { option: 2, min: -0x80000000, max: 0x7fffffff }),
  t('gw', 'ip-list', 'routers', { option: 3 }),
  t('ts', 'ip-list', 'time servers', { option: 4 }),
  t('ns', 'ip-list', 'IEN-116 name servers', { option: 5 }),
  t('ds', 'ip-list', 'domain name servers', { option: 6 }),
  t('lg', 'ip-list', 'log servers', { option: 7 }),
  t('cs', 'ip-list', 'cookie servers', { option: 8 }),
  t('lp', 'ip-list', 'LPR servers', { option: 9 }),
  t('im', 'ip-list', 'Impress servers', { option: 10 }),
  t('rl', 'ip-list', 'resource location servers', { option: 11 }),
  t('ho', 'string', 'host name', { option: 12 }),
  t('hn', 'bool', 'send the host name in the reply', { option: 12 }),
  t('bs', 'int-or-auto', 'boot file size in 512-byte blocks', { option: 13, min: 0, max: 0xffff }),
  t('df', 'string', 'merit dump file', { option: 14 }),
  t('dn', 'string', 'domain name', { option: 15 }),
  t('sw', 'ip', 'swap server', { option: 16 }),
  t('rp', 'string', 'root path', { option: 17 }),
  t('ef', 'string', 'extensions path', { option: 18 }),
  t('hr', 'switch', 'IP forwarding', { option: 19 }),
  t('fn', 'switch', 'non-local source routing', { option: 20 }),
  t('pf', 'ip-pairs', 'policy filter (address/mask pairs)', { option: 21 }),
  t('as', 'int', 'maximum datagram reassembly size', { option: 22, min: 576, max: 0xffff }),
  t('it', 'int', 'default IP time-to-live', { option: 23, min: 1, max: 255 }),
  t('pt', 'int', 'path MTU aging timeout (seconds)', { option: 24, min: 0, max: U32 }),
  t('pl', 'int-list', 'path MTU plateau table', { option: 25, min: 68, max: 0xffff }),
  t('tu', 'int', 'interface MTU', { option: 26, min: 68, max: 0xffff }),
  t('sl', 'switch', 'all subnets are local', { option: 27 }),
  t('ba', 'ip', 'broadcast address', { option: 28 }),
  t('md', 'switch', 'perform mask discovery', { option: 29 }),
  t('ms', 'switch', 'mask supplier', { option: 30 }),
  t('rd', 'switch', 'perform router discovery', { option: 31 }),
  t('rs', 'ip', 'router solicitation address', { option: 32 }),
  t('sr', 'ip-pairs', 'static routes (destination/router pairs)', { option: 33 }),
  t('tr', 'switch', 'trailer encapsulation', { option: 34 }),
  t('at', 'int', 'ARP cache timeout (seconds)', { option: 35, min: 0, max: U32 }),
  t('ec', 'switch', 'Ethernet encapsulation (0 = RFC 894, 1 = RFC 1042)', { option: 36 }),
  t('tt', 'int', 'TCP default time-to-live', { option: 37, min: 1, max: 255 }),
  t('ki', 'int', 'TCP keepalive interval (seconds)', { option: 38, min: 0, max: U32 }),
  t('ko', 'switch', 'TCP keepalive garbage', { option: 39 }),
  t('yd', 'string', 'NIS domain', { option: 40 }),
  t('ys', 'ip-list', 'NIS servers', { option: 41 }),
  t('nt', 'ip-list', 'NTP servers', { option: 42 }),
  t('bw', 'ip-list', 'NetBIOS name servers', { option: 44 }),
  t('bx', 'ip-list', 'NetBIOS datagram distribution servers', { option: 45 }),
  t('by', 'int', 'NetBIOS node type (1 B, 2 P, 4 M, 8 H)', { option: 46, min: 1, max: 8 }),
  t('bz', 'string', 'NetBIOS scope', { option: 47 }),
  t('lt', 'int', 'lease time (seconds; 4294967295 = infinite)', { option: 51, min: 0, max: U32 }),
  t('ln', 'int', 'shortest lease a client asking for less gets (seconds)', { min: 0, max: U32 }),
  t('lx', 'int', 'longest lease a client may ask for (seconds; default lt)', { min: 0, max: U32 }),
  t('ov', 'int', 'option overload (decided by the encoder; ignored)', { option: 52, min: 1, max: 3 }),
  t('sv', 'ip', 'server identifier', { option: 54 }),
  t('mm', 'int', 'maximum DHCP message size', { option: 57, min: 576, max: 0xffff }),
  t('t1', 'int', 'renewal time T1 (seconds)', { option: 58, min: 0, max: U32 }),
  t('t2', 'int', 'rebinding time T2 (seconds)', { option: 59, min: 0, max: U32 }),
  t('no', 'opaque', 'NetWare/IP options', { option: 63 }),
  t('sp', 'ip-list', 'SMTP servers', { option: 69 }),
  t('nn', 'ip-list', 'NNTP servers', { option: 71 }),
  t('st', 'ip-list', 'StreetTalk servers', { option: 75 }),
  t('da', 'ip-list', 'StreetTalk directory assistance servers', { option: 76 }),
  t('vs', 'opaque', 'vendor-specific information (hex bytes, or T43.N= per sub-option)', { option: 43 }),
  t('sd', 'domain-list', 'domain search list', { option: 119 }),
  t('cr', 'routes', 'classless static routes (DEST/PREFIX ROUTER pairs)', { option: 121 }),
  t('tf', 'ip-list', 'TFTP server addresses', { option: 150 }),
  t('wp', 'string', 'web proxy auto-discovery (WPAD) URL', { option: 252 }),
  t('kn', 'bool', 'known clients only: new addresses only for clients with a host entry or registered', { place: 'server' }),
  t('sh', 'string', 'shared network: the networks whose entries name the same one share a link', { place: 'server' }),
  // A range entry (ra=, with nw=): who may get a new address from its ranges, as dhcpd's pool permits.
  t('ra', 'ranges', 'address ranges this entry sets permits for (FIRST-LAST …): a range entry', { place: 'server' }),
  t('ku', 'bool', "unknown clients only, in a range entry's ranges (no host entry, not registered)", { place: 'server' }),
  t('nb', 'bool', "no dynamic BOOTP in a range entry's ranges", { place: 'server' }),
  t('am', 'labels', "only members of these class entries, in a range entry's ranges", { place: 'server' }),
  t('dm', 'labels', "never members of these class entries, in a range entry's ranges", { place: 'server' }),
  t('fo', 'int-list', 'codes of options sent even when the client does not ask for them', { min: 1, max: 254 }),
  t('bf', 'string', 'boot file', { option: 67, place: 'file' }),
  t('sn', 'string', 'boot server host name', { option: 66, place: 'sname' }),
  t('sa', 'ip', 'boot (TFTP) server address', { place: 'siaddr' }),
  t('hd', 'string', 'home directory put before bf', { place: 'server' }),
  t('tc', 'label', 'include the tags of another entry', { place: 'template' }),
];

/** Every known tag, keyed by its two letters (case-sensitive, as the original). */
export const CAP_TAGS: ReadonlyMap<string, TagSpec> = byTag(TABLE);

/** The table by tag; a tag written twice is a mistake in this file that would silently hide a row. */
function byTag(table: readonly TagSpec[]): Map<string, TagSpec> {
  const map = new Map<string, TagSpec>();
  for (const spec of table) {
    if (map.has(spec.tag)) throw new Error(`dhcpcap tag ${spec.tag} is in the tag table twice`);
    map.set(spec.tag, spec);
  }
  return map;
}

/** Other spellings of a tag: `br` is the older name of `hr` (IP forwarding). */
export const TAG_ALIASES: ReadonlyMap<string, string> = new Map([['br', 'hr']]);

/**
 * Options a generic tag may not write, and what to write instead: the server fills them in itself for
 * every reply (from other tags or from the client's own), so a configured value would contradict it.
 */
const SERVER_WRITTEN: ReadonlyMap<number, string> = new Map([
  [0, 'pad is not an option'],
  [1, 'the subnet mask: write sm='],
  [12, 'the host name: write ho= (and hn)'],
  [50, "the requested address is the client's"],
  [51, 'the lease time: write lt='],
  [52, 'option overload is decided by the encoder'],
  [53, "the message type is the server's"],
  [54, 'the server identifier: write sv='],
  [55, "the parameter request list is the client's"],
  [57, "the maximum message size is the client's"],
  [58, 'the renewal time: write t1='],
  [59, 'the rebinding time: write t2='],
  [61, 'the client identifier is echoed from the client (RFC 6842)'],
  [66, 'the TFTP server name: write sn='],
  [67, 'the boot file: write bf='],
  [81, 'the client FQDN is answered by the server (RFC 4702)'],
  [82, 'the relay agent information is echoed from the relay (RFC 3046)'],
  [118, 'the subnet selection is echoed from the client (RFC 3011)'],
  [255, 'end is not an option'],
]);

/** The tag kind that holds a value of an option's wire type, with the type's bounds. */
function kindOf(type: OptionValueType): Pick<TagSpec, 'kind' | 'min' | 'max'> | undefined {
  switch (type) {
    case 'ip':
    case 'ip-list':
    case 'ip-pairs':
    case 'domain-list':
      return { kind: type };
    case 'u8':
      return { kind: 'int', min: 0, max: 0xff };
    case 'u16':
      return { kind: 'int', min: 0, max: 0xffff };
    case 'u32':
      return { kind: 'int', min: 0, max: U32 };
    case 'i32':
      return { kind: 'int', min: -0x80000000, max: 0x7fffffff };
    case 'u8-list':
      return { kind: 'int-list', min: 0, max: 0xff };
    case 'u16-list':
      return { kind: 'int-list', min: 0, max: 0xffff };
    case 'bool':
      return { kind: 'switch' };
    case 'string':
      return { kind: 'string' };
    case 'bytes':
      return { kind: 'opaque' };
    case 'classless-routes':
      return { kind: 'routes' };
    case 'client-fqdn':
    case 'relay-agent':
      return undefined;
  }
}

const GENERIC = /^T(\d{1,3})(?:\.(\d{1,3}))?$/;

/**
 * A generic tag (`T<code>` or `T43.<sub-option>`): its spec, or why it cannot be written (a string);
 * undefined when the tag is not of the generic form.
 */
export function genericTag(tag: string): TagSpec | string | undefined {
  const match = GENERIC.exec(tag);
  if (!match) return undefined;
  const code = Number(match[1]);
  if (code > 255) return `${tag}: option codes go from 1 to 254`;
  const written = SERVER_WRITTEN.get(code);
  if (written !== undefined) return `${tag} cannot be configured: ${written}`;
  const def = OPTIONS.get(code);
  const name = def ? def.name : `option ${code}`;
  if (match[2] !== undefined) {
    const sub = Number(match[2]);
    if (code !== 43) return `${tag}: only the vendor-specific option 43 takes sub-options (T43.N)`;
    if (sub < 1 || sub > 254) return `${tag}: sub-option codes go from 1 to 254`;
    return { tag, kind: 'opaque', meaning: `sub-option ${sub} of ${name}`, option: 43, suboption: sub };
  }
  const kind = kindOf(def?.type ?? 'bytes');
  if (!kind) return `${tag} cannot be configured: ${name} is the server's`;
  const bounds = {
    ...(def?.min !== undefined ? { min: def.min } : {}),
    ...(def?.max !== undefined ? { max: def.max } : {}),
  };
  return { tag, meaning: name, option: code, ...kind, ...bounds };
}

/** The spec of any tag: the table's, or a generic tag's; undefined for an unknown or refused tag. */
export function tagSpecOf(tag: string): TagSpec | undefined {
  const spec = CAP_TAGS.get(tag) ?? genericTag(tag);
  return typeof spec === 'object' ? spec : undefined;
}

/** Tags that say which clients an entry applies to; they are not client parameters. */
export const SCOPE_TAGS: ReadonlySet<string> = new Set(['ht', 'ha', 'ck', 'nw', 'ct', 'uc', 'ca', 'ci', 'ri']);

export type ValueParse = { ok: true; value: TagValue } | { ok: false; reason: string; offset: number };

/** Splits a list value on blanks (and commas) keeping each item's offset. */
function items(text: string): Array<{ text: string; offset: number }> {
  const found: Array<{ text: string; offset: number }> = [];
  const pattern = /[^\s,]+/g;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) found.push({ text: m[0], offset: m.index });
  return found;
}

function fail(reason: string, offset = 0): ValueParse {
  return { ok: false, reason, offset };
}

function parseAddresses(spec: TagSpec, text: string): number[] | ValueParse {
  const list = items(text);
  if (list.length === 0) return fail(`${spec.tag} needs at least one address`);
  const values: number[] = [];
  for (const item of list) {
    const parsed = inetAddr(item.text);
    if (!parsed.ok) return fail(parsed.reason, item.offset);
    values.push(parsed.value);
  }
  return values;
}

function parseInteger(spec: TagSpec, text: string, offset: number): number | ValueParse {
  const negative = spec.min !== undefined && spec.min < 0 && text.startsWith('-');
  const magnitude = parseUnsigned(negative ? text.slice(1) : text);
  const min = spec.min ?? 0;
  const max = spec.max ?? U32;
  if (magnitude === undefined) return fail(`"${text}" is not an integer (decimal, 0… octal or 0x… hex)`, offset);
  const value = negative ? -magnitude : magnitude;
  if (value < min || value > max)
    return fail(`${value} is out of range for ${spec.tag} (${spec.meaning}): expected ${min} to ${max}`, offset);
  return value;
}

/** Domain names, blank- or comma-separated; a trailing dot is allowed (every name is absolute). */
function parseDomainList(spec: TagSpec, text: string): ValueParse {
  const list = items(text);
  if (list.length === 0) return fail(`${spec.tag} needs at least one domain name`);
  const names: string[] = [];
  for (const item of list) {
    const name = item.text.replace(/\.$/, '');
    const problem =
      name === '' || !/^[A-Za-z0-9_.-]+$/.test(name) ? 'expected letters, digits, "-" and dots' : checkOptionValue(119, [name]);
    if (problem !== undefined) return fail(`"${item.text}" is not a domain name: ${problem}`, item.offset);
    names.push(name);
  }
  return { ok: true, value: names };
}

/** Classless routes (RFC 3442) as DEST/PREFIX ROUTER pairs, e.g. 10.0.0.0/8 10.1.0.1, 0.0.0.0/0 10.1.0.1. */
function parseRoutes(spec: TagSpec, text: string): ValueParse {
  const list = items(text);
  const example = 'e.g. 10.0.0.0/8 10.1.0.1, 0.0.0.0/0 10.1.0.1';
  if (list.length === 0 || list.length % 2 !== 0)
    return fail(
      `${spec.tag} takes DEST/PREFIX ROUTER pairs (${example}); found ${list.length} item${list.length === 1 ? '' : 's'}`,
    );
  const routes: ClasslessRoute[] = [];
  for (let i = 0; i < list.length; i += 2) {
    const dest = list[i]!;
    const router = list[i + 1]!;
    const slash = dest.text.indexOf('/');
    if (slash < 0) return fail(`"${dest.text}" is not DEST/PREFIX (${example})`, dest.offset);
    const destination = inetAddr(dest.text.slice(0, slash));
    if (!destination.ok) return fail(destination.reason, dest.offset);
    const prefixText = dest.text.slice(slash + 1);
    const prefixLength = /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefixLength <= 32)) return fail(`"/${prefixText}" is not a prefix length 0 to 32`, dest.offset + slash + 1);
    const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
    if ((destination.value & ~mask) >>> 0 !== 0)
      return fail(
        `${dest.text} has bits set beyond its /${prefixLength}: did you mean ${ipToString((destination.value & mask) >>> 0)}/${prefixLength}?`,
        dest.offset,
      );
    const gateway = inetAddr(router.text);
    if (!gateway.ok) return fail(gateway.reason, router.offset);
    routes.push({ destination: destination.value, prefixLength, router: gateway.value });
  }
  return { ok: true, value: routes };
}

/** Address ranges FIRST-LAST (or a single address), blank- or comma-separated, as nets writes them. */
function parseRanges(spec: TagSpec, text: string): ValueParse {
  const list = items(text);
  if (list.length === 0) return fail(`${spec.tag} needs at least one range, e.g. ${spec.tag}=10.0.0.100-10.0.0.199`);
  const ranges: Array<[number, number]> = [];
  for (const item of list) {
    const dash = item.text.indexOf('-');
    const first = inetAddr(dash < 0 ? item.text : item.text.slice(0, dash));
    if (!first.ok) return fail(first.reason, item.offset);
    const last = dash < 0 ? first : inetAddr(item.text.slice(dash + 1));
    if (!last.ok) return fail(last.reason, item.offset + dash + 1);
    if (last.value < first.value) return fail(`${item.text}: the range ends before it starts`, item.offset);
    ranges.push([first.value, last.value]);
  }
  return { ok: true, value: ranges };
}

/** Whether a quoted value was needed: strings with blanks must be quoted (colons cannot appear bare). */
const BLANK = /[ \t]/;
/** Any code point above U+00FF (the complement of Latin-1, written without a control character). */
const NOT_LATIN1 = /[\u0100-\u{10ffff}]/u;

/**
 * Parses the value of a tag. `text` is the value without its quotes; `quoted` says whether it had them.
 * `htype` is the hardware type in force for `ha`. Offsets in failures are relative to `text`.
 */
export function parseTagValue(spec: TagSpec, text: string, quoted: boolean, htype?: number): ValueParse {
  switch (spec.kind) {
    case 'ip': {
      const parsed = inetAddr(text.trim());
      return parsed.ok ? { ok: true, value: parsed.value } : fail(parsed.reason);
    }
    case 'ip-list': {
      const values = parseAddresses(spec, text);
      return Array.isArray(values) ? { ok: true, value: values } : values;
    }
    case 'ip-pairs': {
      const values = parseAddresses(spec, text);
      if (!Array.isArray(values)) return values;
      if (values.length % 2 !== 0)
        return fail(`${spec.tag} takes pairs of addresses (${spec.meaning}); found ${values.length} addresses`);
      const pairs: Array<[number, number]> = [];
      for (let i = 0; i < values.length; i += 2) pairs.push([values[i]!, values[i + 1]!]);
      return { ok: true, value: pairs };
    }
    case 'int': {
      const value = parseInteger(spec, text.trim(), 0);
      return typeof value === 'number' ? { ok: true, value } : value;
    }
    case 'int-or-auto': {
      if (text.trim().toLowerCase() === 'auto') return { ok: true, value: 'auto' };
      const value = parseInteger(spec, text.trim(), 0);
      return typeof value === 'number' ? { ok: true, value } : value;
    }
    case 'int-list': {
      const list = items(text);
      if (list.length === 0) return fail(`${spec.tag} needs at least one integer`);
      const values: number[] = [];
      for (const item of list) {
        const value = parseInteger(spec, item.text, item.offset);
        if (typeof value !== 'number') return value;
        values.push(value);
      }
      return { ok: true, value: values };
    }
    case 'switch': {
      const word = text.trim();
      if (word === '1') return { ok: true, value: true };
      if (word === '0') return { ok: true, value: false };
      return fail(`${spec.tag} (${spec.meaning}) is a switch: expected 0 or 1`);
    }
    case 'bool':
      return fail(`${spec.tag} (${spec.meaning}) stands alone: write :${spec.tag}: (or :${spec.tag}@: to cancel it)`);
    case 'string':
    case 'text-bytes': {
      if (!quoted && BLANK.test(text)) return fail(`a value with blanks must be double-quoted: ${spec.tag}="${text}"`);
      if (text.length === 0) return fail(`${spec.tag} (${spec.meaning}) needs a value`);
      // Options carry octets: one character, one byte.
      const wide = NOT_LATIN1.exec(text);
      if (wide) return fail(`"${wide[0]}" cannot be sent in an option: expected characters of ISO 8859-1 (latin1)`, wide.index);
      return { ok: true, value: spec.kind === 'string' ? text : Buffer.from(text, 'latin1') };
    }
    case 'domain-list':
      return parseDomainList(spec, text);
    case 'routes':
      return parseRoutes(spec, text);
    case 'label':
      if (text.length === 0 || BLANK.test(text)) return fail(`expected the label of another entry, e.g. tc=.site`);
      return { ok: true, value: text };
    case 'labels': {
      const list = items(text);
      if (list.length === 0) return fail(`${spec.tag} needs the label of at least one entry, e.g. ${spec.tag}=voip`);
      return { ok: true, value: list.map((item) => item.text) };
    }
    case 'ranges':
      return parseRanges(spec, text);
    case 'htype': {
      const htype = parseHardwareType(text.trim());
      return htype === undefined
        ? fail(
            `"${text}" is not a hardware type: expected ethernet, ether, ethernet3, ax.25, pronet, chaos, token-ring, tr, ieee802, arcnet or a number 1-255`,
          )
        : { ok: true, value: htype };
    }
    case 'haddr': {
      if (htype === undefined) return fail('ha must come after ht in the entry (the hardware type says how long the address is)');
      const parsed = parseHexBytes(text, quoted);
      if (!parsed.ok) return fail(`not a hardware address: ${parsed.reason}`, parsed.offset);
      const wanted = hardwareLength(htype);
      const length = parsed.bytes.length;
      if (wanted !== undefined ? length !== wanted : length > 16) {
        const expected =
          wanted !== undefined
            ? `${hardwareTypeName(htype)} (type ${htype}) addresses have ${wanted}`
            : 'at most 16 fit in chaddr';
        return fail(`hardware address has ${length} byte${length === 1 ? '' : 's'}; ${expected}`);
      }
      return { ok: true, value: parsed.bytes };
    }
    case 'opaque': {
      const parsed = parseHexBytes(text, quoted);
      let bytes: Buffer;
      if (parsed.ok) bytes = parsed.bytes;
      // A quoted value that is not hex is taken as text bytes (e.g. ck="printer-7").
      else if (quoted && !NOT_LATIN1.test(text)) bytes = Buffer.from(text, 'latin1');
      else
        return fail(
          `expected hex bytes (e.g. 01:08:00:2b:12:34:56 quoted, or 0108002b123456), or a quoted text: ${parsed.reason}`,
          parsed.offset,
        );
      if (spec.min !== undefined && bytes.length < spec.min)
        return fail(`${spec.tag} (${spec.meaning}) needs at least ${spec.min} bytes; found ${bytes.length}`);
      // A sub-option's length is one byte.
      if (spec.suboption !== undefined && bytes.length > 255)
        return fail(`${spec.tag} (${spec.meaning}) holds at most 255 bytes; found ${bytes.length}`);
      return { ok: true, value: bytes };
    }
  }
}

/** A tag value in the text form dhcpcap would accept (for `joind --check` and logs). */
export function formatTagValue(tag: string, value: TagValue): string {
  const spec = tagSpecOf(tag);
  if (typeof value === 'boolean') return spec?.kind === 'bool' ? (value ? 'on' : 'off') : value ? '1' : '0';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return spec?.kind === 'text-bytes' ? value.toString('latin1') : hexColons(value);
  if (typeof value === 'number') {
    if (spec?.kind === 'ip') return ipToString(value);
    if (spec?.kind === 'htype') return hardwareTypeName(value);
    return String(value);
  }
  if (spec?.kind === 'ip-pairs')
    return (value as Array<[number, number]>).map(([a, b]) => `${ipToString(a)} ${ipToString(b)}`).join(' ');
  if (spec?.kind === 'ranges')
    return (value as Array<[number, number]>)
      .map(([a, b]) => (a === b ? ipToString(a) : `${ipToString(a)}-${ipToString(b)}`))
      .join(' ');
  if (spec?.kind === 'ip-list') return (value as number[]).map(ipToString).join(' ');
  if (spec?.kind === 'domain-list' || spec?.kind === 'labels') return (value as string[]).join(' ');
  if (spec?.kind === 'routes')
    return (value as ClasslessRoute[])
      .map((r) => `${ipToString(r.destination)}/${r.prefixLength} ${ipToString(r.router)}`)
      .join(', ');
  return (value as number[]).join(' ');
}
