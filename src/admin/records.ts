// The text records of `joind dump` and `joind load` (jdbdump/jdbmod, joind-spec.md 7.4): one record per
// line, fields separated by `|` (or the character of `-f c`). A lease record starts with the fields
// jdbmod documents (MAC address, MAC type, MAC length, IP address, lease start, lease expiry, "may be
// extended", last renewal); joind-TS appends what its store keeps besides. A name record of the name
// database starts with the word `name`. Pure: no store, no files.
import { LEASE_STATE_NAMES, LeaseRecord, LeaseState, NameBinding } from '../store/types';
import { hexColons, ipToString, parseIp } from '../util/ipv4';
import { formatHumanDate, parseDate } from './dates';

export const LEASE_FIELDS = [
  'hwaddr',
  'htype',
  'hlen',
  'address',
  'starts',
  'ends',
  'extend',
  'cltt',
  'state',
  'network',
  'key_type',
  'key',
  'client_id',
  'client_hostname',
  'hostname',
] as const;
export const NAME_FIELDS = ['name', 'domain', 'hostname', 'key_type', 'key', 'address', 'bound_at'] as const;

export interface FormatOptions {
  separator: string;
  humanDates: boolean;
}

export type ParsedRecord =
  { kind: 'lease'; line: number; lease: LeaseRecord } | { kind: 'name'; line: number; name: NameBinding };

export interface RecordProblem {
  line: number;
  message: string;
}

/**
 * Text fields (host names come from clients) may hold anything: the separator, a backslash and
 * anything outside printable ASCII are written as \xNN so that one record stays one line.
 */
function escapeText(text: string, separator: string): string {
  let out = '';
  for (const ch of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(ch);
    out += ch < 0x20 || ch > 0x7e || c === separator || c === '\\' ? `\\x${ch.toString(16).padStart(2, '0')}` : c;
  }
  return out;
}

function unescapeText(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && /^x[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 4))) {
      bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      bytes.push(...Buffer.from(text[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const date = (seconds: number | null, human: boolean): string =>
  seconds === null ? '' : human ? formatHumanDate(seconds) : String(seconds);
const bytes = (b: Buffer | null): string => (b === null ? '' : hexColons(b));

export function formatLease(lease: LeaseRecord, opts: FormatOptions): string {
  return [
    bytes(lease.hwaddr),
    String(lease.htype),
    String(lease.hwaddr?.length ?? 0),
    ipToString(lease.address),
    date(lease.starts, opts.humanDates),
    date(lease.ends, opts.humanDates),
    '', // "time when lease may be extended": joind-TS decides that at renewal, it is not stored
    date(lease.cltt, opts.humanDates),
    LEASE_STATE_NAMES[lease.state],
    ipToString(lease.network),
    lease.client ? String(lease.client.type) : '',
    bytes(lease.client?.id ?? null),
    bytes(lease.clientId),
    escapeText(lease.clientHostname ?? '', opts.separator),
    escapeText(lease.hostname ?? '', opts.separator),
  ].join(opts.separator);
}

export function formatName(name: NameBinding, opts: FormatOptions): string {
  return [
    'name',
    escapeText(name.domain, opts.separator),
    escapeText(name.name, opts.separator),
    name.owner ? String(name.owner.type) : '',
    bytes(name.owner?.id ?? null),
    name.address === null ? '' : ipToString(name.address),
    date(name.boundAt, opts.humanDates),
  ].join(opts.separator);
}

/** The JSON form of `joind dump --json` and of the control API. */
export function leaseToJson(lease: LeaseRecord): Record<string, string | number | null> {
  return {
    address: ipToString(lease.address),
    network: ipToString(lease.network),
    state: LEASE_STATE_NAMES[lease.state],
    hwaddr: lease.hwaddr === null ? null : hexColons(lease.hwaddr),
    htype: lease.htype,
    keyType: lease.client?.type ?? null,
    key: lease.client ? hexColons(lease.client.id) : null,
    clientId: lease.clientId === null ? null : hexColons(lease.clientId),
    starts: lease.starts,
    ends: lease.ends,
    cltt: lease.cltt,
    clientHostname: lease.clientHostname,
    hostname: lease.hostname,
  };
}

export function nameToJson(name: NameBinding): Record<string, string | number | null> {
  return {
    domain: name.domain,
    name: name.name,
    keyType: name.owner?.type ?? null,
    key: name.owner ? hexColons(name.owner.id) : null,
    address: name.address === null ? null : ipToString(name.address),
    boundAt: name.boundAt,
  };
}

/** Colon, dash or dot separated hex, or plain hex; empty is null. */
export function parseHex(text: string): Buffer | null | undefined {
  const t = text.trim();
  if (t === '') return null;
  if (/^[0-9a-fA-F]{1,2}([:.-][0-9a-fA-F]{1,2})*$/.test(t)) {
    return Buffer.from(t.split(/[:.-]/).map((p) => parseInt(p, 16)));
  }
  if (/^([0-9a-fA-F]{2})+$/.test(t)) return Buffer.from(t, 'hex');
  return undefined;
}

const STATE_BY_NAME = new Map<string, LeaseState>(
  Object.entries(LEASE_STATE_NAMES).map(([value, name]) => [name, Number(value) as LeaseState]),
);

class FieldError extends Error {}

function need<T>(value: T | undefined, field: string, text: string, expected: string): T {
  if (value === undefined) throw new FieldError(`${field}: "${text}" is not ${expected}`);
  return value;
}

function parseLeaseFields(f: string[], nowSec: number): LeaseRecord {
  const get = (i: number): string => (f[i] ?? '').trim();
  const hwaddr = need(parseHex(get(0)), 'MAC address', get(0), 'hex bytes like 08:00:2b:12:34:56');
  const htype =
    get(1) === ''
      ? hwaddr
        ? 1
        : 0
      : need(/^\d+$/.test(get(1)) && Number(get(1)) <= 255 ? Number(get(1)) : undefined, 'MAC type', get(1), 'a number 0-255');
  if (get(2) !== '' && Number(get(2)) !== (hwaddr?.length ?? 0)) {
    throw new FieldError(`MAC length: ${get(2)} does not match the ${hwaddr?.length ?? 0} bytes of the MAC address`);
  }
  const address = need(parseIp(get(3)), 'IP address', get(3), 'a dotted-quad address');
  const starts = get(4) === '' ? nowSec : need(parseDate(get(4)), 'lease start', get(4), 'a date');
  const ends =
    get(5) === '' || get(5).toLowerCase() === 'never'
      ? null
      : need(parseDate(get(5)), 'lease expiry', get(5), 'a date (or empty for no end)');
  const cltt = get(7) === '' ? starts : need(parseDate(get(7)), 'last renewal', get(7), 'a date');
  const stateText = get(8).toLowerCase();
  // jdbmod loaded pre-assigned pairs: a record without a state is a binding when it has no end.
  const state =
    stateText === ''
      ? ends === null
        ? LeaseState.STATIC
        : LeaseState.ACTIVE
      : need(STATE_BY_NAME.get(stateText), 'state', get(8), `one of ${[...STATE_BY_NAME.keys()].join(', ')}`);
  const network = get(9) === '' ? 0 : need(parseIp(get(9)), 'network', get(9), 'a dotted-quad network number');
  const keyBytes = need(parseHex(get(11)), 'client key', get(11), 'hex bytes');
  const keyType =
    get(10) === '' ? null : need(/^\d+$/.test(get(10)) ? Number(get(10)) : undefined, 'client key type', get(10), 'a number');
  let client = keyBytes && keyType !== null ? { type: keyType, id: keyBytes } : null;
  // A jdbmod record names only the MAC: the client is then known by its hardware address.
  if (!client && hwaddr && state !== LeaseState.ABANDONED) client = { type: htype, id: hwaddr };
  const clientId = need(parseHex(get(12)), 'client id', get(12), 'hex bytes');
  if (ends !== null && ends < starts) throw new FieldError(`lease expiry ${get(5)} is before its start ${get(4)}`);
  return {
    address,
    network,
    client,
    htype,
    hwaddr,
    clientId,
    starts,
    ends,
    cltt,
    state,
    clientHostname: get(13) === '' ? null : unescapeText(get(13)),
    hostname: get(14) === '' ? null : unescapeText(get(14)),
  };
}

function parseNameFields(f: string[]): NameBinding {
  const get = (i: number): string => (f[i] ?? '').trim();
  if (get(1) === '' || get(2) === '') throw new FieldError('a name record needs a domain and a name');
  const keyBytes = need(parseHex(get(4)), 'owner key', get(4), 'hex bytes');
  const keyType =
    get(3) === '' ? null : need(/^\d+$/.test(get(3)) ? Number(get(3)) : undefined, 'owner key type', get(3), 'a number');
  return {
    domain: unescapeText(get(1)),
    name: unescapeText(get(2)),
    owner: keyBytes && keyType !== null ? { type: keyType, id: keyBytes } : null,
    address: get(5) === '' ? null : need(parseIp(get(5)), 'address', get(5), 'a dotted-quad address'),
    boundAt: get(6) === '' ? 0 : need(parseDate(get(6)), 'bound at', get(6), 'a date'),
  };
}

/**
 * Parses dump text. Blank lines and `#` comments are skipped. Every bad line is reported (with its
 * number); the good ones are returned too, and the caller decides (load applies nothing when any
 * line is bad).
 */
export function parseRecords(
  text: string,
  separator: string,
  nowSec: number,
): { records: ParsedRecord[]; problems: RecordProblem[] } {
  const records: ParsedRecord[] = [];
  const problems: RecordProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const fields = raw.split(separator);
    try {
      if (fields[0]!.trim() === 'name') records.push({ kind: 'name', line, name: parseNameFields(fields) });
      else if (fields.length < 4)
        problems.push({
          line,
          message: `expected at least 4 fields (MAC address${separator}MAC type${separator}MAC length${separator}IP address), found ${fields.length}`,
        });
      else records.push({ kind: 'lease', line, lease: parseLeaseFields(fields, nowSec) });
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      problems.push({ line, message: err.message });
    }
  });
  return { records, problems };
}

/** A registration line of `joind register`: MAC address, MAC type, MAC length (type and length optional). */
export function parseRegistration(raw: string, separator: string): { htype: number; hwaddr: Buffer } | string {
  const f = raw.split(separator).map((s) => s.trim());
  const hwaddr = parseHex(f[0] ?? '');
  if (!hwaddr) return `MAC address: "${f[0] ?? ''}" is not hex bytes like 08:00:2b:12:34:56`;
  const htype = f[1] === undefined || f[1] === '' ? 1 : /^\d+$/.test(f[1]) && Number(f[1]) <= 255 ? Number(f[1]) : undefined;
  if (htype === undefined) return `MAC type: "${f[1]}" is not a number 0-255`;
  if (f[2] !== undefined && f[2] !== '' && Number(f[2]) !== hwaddr.length)
    return `MAC length: ${f[2]} does not match the ${hwaddr.length} bytes`;
  return { htype, hwaddr };
}
