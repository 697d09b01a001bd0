// The ISC lease file, dhcpd.leases(5): what `joind export --format dhcpd-leases` writes and `joind
// import` reads, so that a dhcpd user can move to joind (and tools built on the file keep working).
// Pure: text in, records out.
//
// joind's states map onto binding states: active, expired (dhcpd's "free"), released, abandoned. A
// lease with no end (`ends never`) is a binding (static) unless `dynamic-bootp;` marks a dynamic BOOTP
// allocation. Two `set` variables of ours keep what the format has no word for: the network the lease
// belongs to, and the client key when it is neither the uid nor the hardware address.
// In a failover range the file says more, and an import keeps it: `free` and `backup` say which server
// may allocate the address (with or without a client behind it), `tstp`/`tsfp` what was sent to the peer
// and what it acknowledged, and `failover peer "NAME" state { … }` the server states.
import { DnsType } from '../dns/message';
import { type DnsRecordState, type FailoverStateRecord, LeaseRecord, LeaseState } from '../store/types';
import { hexColons, ipToString, parseIp } from '../util/ipv4';
import { formatDhcpdDate, parseDhcpdDate } from './dates';
import { parseHex } from './records';

const HARDWARE_NAMES: Record<number, string> = { 1: 'ethernet', 6: 'token-ring', 8: 'fddi' };
const HARDWARE_TYPES = new Map(Object.entries(HARDWARE_NAMES).map(([t, n]) => [n, Number(t)]));

const BINDING_STATE: Record<LeaseState, string> = {
  [LeaseState.ACTIVE]: 'active',
  [LeaseState.EXPIRED]: 'free',
  [LeaseState.RELEASED]: 'released',
  [LeaseState.ABANDONED]: 'abandoned',
  [LeaseState.STATIC]: 'active',
  [LeaseState.BOOTP]: 'active',
  [LeaseState.FREE]: 'free',
  [LeaseState.BACKUP]: 'backup',
};

/** A dhcpd string: printable ASCII as is, the rest, `"` and `\` as octal escapes (as dhcpd writes them). */
function quote(text: string): string {
  let out = '"';
  for (const b of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x20 || b > 0x7e || c === '"' || c === '\\' ? `\\${b.toString(8).padStart(3, '0')}` : c;
  }
  return `${out}"`;
}

function sameBytes(a: Buffer | null | undefined, b: Buffer | null | undefined): boolean {
  return !!a && !!b && a.equals(b);
}

export function formatLeaseBlock(lease: LeaseRecord): string {
  const lines = [`lease ${ipToString(lease.address)} {`];
  lines.push(`  starts ${formatDhcpdDate(lease.starts)};`);
  lines.push(`  ends ${lease.ends === null ? 'never' : formatDhcpdDate(lease.ends)};`);
  // A failover range's times, where dhcpd writes them: what the peer was told, and what it acknowledged.
  if (lease.tstp !== undefined && lease.tstp !== null) lines.push(`  tstp ${formatDhcpdDate(lease.tstp)};`);
  if (lease.tsfp !== undefined && lease.tsfp !== null) lines.push(`  tsfp ${formatDhcpdDate(lease.tsfp)};`);
  lines.push(`  cltt ${formatDhcpdDate(lease.cltt)};`);
  lines.push(`  binding state ${BINDING_STATE[lease.state]};`);
  if (lease.state === LeaseState.ACTIVE && lease.ends !== null) lines.push('  next binding state free;');
  if (lease.hwaddr) lines.push(`  hardware ${HARDWARE_NAMES[lease.htype] ?? 'ethernet'} ${hexColons(lease.hwaddr)};`);
  if (lease.clientId) lines.push(`  uid ${hexColons(lease.clientId)};`);
  if (lease.state === LeaseState.ABANDONED) lines.push('  abandoned;');
  if (lease.state === LeaseState.BOOTP) lines.push('  dynamic-bootp;');
  if (lease.clientHostname !== null) lines.push(`  client-hostname ${quote(lease.clientHostname)};`);
  if (lease.hostname !== null) lines.push(`  hostname ${quote(lease.hostname)};`);
  lines.push(`  set joind-network = "${ipToString(lease.network)}";`);
  const key = lease.client;
  const keyIsUsual =
    key === null ||
    (key.type === 0 && sameBytes(key.id, lease.clientId)) ||
    (!lease.clientId && key.type === lease.htype && sameBytes(key.id, lease.hwaddr));
  if (!keyIsUsual) lines.push(`  set joind-key = "${key.type}/${hexColons(key.id)}";`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function formatLeaseFile(leases: Iterable<LeaseRecord>, nowSec: number): string {
  let out = `# The format of dhcpd.leases(5), written by joind export at ${formatDhcpdDate(nowSec)} (UTC).\n`;
  for (const lease of leases) out += formatLeaseBlock(lease);
  return out;
}

// ---- reading ----

type Token = { kind: 'word' | 'string' | 'punct'; text: string; bytes?: Buffer; line: number };

export interface LeaseFileProblem {
  line: number;
  message: string;
}

function tokenize(text: string): { tokens: Token[]; problems: LeaseFileProblem[] } {
  const tokens: Token[] = [];
  const problems: LeaseFileProblem[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '{' || c === '}' || c === ';' || c === '=') {
      tokens.push({ kind: 'punct', text: c, line });
      i++;
    } else if (c === '"') {
      const start = line;
      const bytes: number[] = [];
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') {
          const oct = /^[0-7]{3}/.exec(text.slice(i + 1, i + 4));
          if (oct) {
            bytes.push(parseInt(oct[0], 8));
            i += 4;
            continue;
          }
          const e = text[i + 1] ?? '';
          bytes.push(...Buffer.from(e === 'n' ? '\n' : e === 't' ? '\t' : e, 'utf8'));
          i += 2;
          continue;
        }
        if (text[i] === '\n') line++;
        bytes.push(...Buffer.from(text[i]!, 'utf8'));
        i++;
      }
      if (i >= text.length) problems.push({ line: start, message: 'a string is not closed' });
      i++;
      const b = Buffer.from(bytes);
      tokens.push({ kind: 'string', text: b.toString('utf8'), bytes: b, line: start });
    } else {
      let j = i;
      while (j < text.length && !/[\s{};="#]/.test(text[j]!)) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j), line });
      i = j;
    }
  }
  return { tokens, problems };
}

export interface ImportedLease {
  line: number;
  lease: LeaseRecord;
  /** What dhcpd wrote to DNS for the lease (its `set ddns-…` variables), for joind to remove in time. */
  dns?: DnsRecordState;
}

/** A `failover peer "NAME" state { my state … at …; partner state … at …; mclt …; }` declaration. */
export interface ImportedFailoverState extends Omit<FailoverStateRecord, 'everPaired' | 'hba'> {
  line: number;
}

/**
 * Reads a lease file. Declarations other than `lease` and `failover peer … state` (server-duid, host,
 * IPv6 blocks) are skipped; statements we do not know inside a lease are skipped too. The last
 * declaration of an address wins, as dhcpd.leases(5) says. Network 0 when the file does not say (the
 * caller finds it in nets). `paired` says which addresses are in a failover range of ours: there the
 * failover binding states and times are kept; elsewhere `free` is an ended lease and `backup` nothing.
 */
export function parseLeaseFile(
  text: string,
  nowSec: number,
  paired: (address: number) => boolean = () => false,
): { leases: ImportedLease[]; failover: ImportedFailoverState[]; problems: LeaseFileProblem[] } {
  const { tokens, problems } = tokenize(text);
  const byAddress = new Map<number, ImportedLease>();
  const failover = new Map<string, ImportedFailoverState>();
  let p = 0;
  const peek = (): Token | undefined => tokens[p];
  /** Skips one statement: to its `;`, or over its braced block. */
  const skipStatement = (): void => {
    let depth = 0;
    while (p < tokens.length) {
      const t = tokens[p++]!;
      if (t.kind === 'punct' && t.text === '{') depth++;
      else if (t.kind === 'punct' && t.text === '}') {
        depth--;
        if (depth <= 0) return;
      } else if (t.kind === 'punct' && t.text === ';' && depth === 0) return;
    }
  };
  /** The statements of a braced block whose `{` is at p; p ends after its `}`. Null if it is not closed. */
  const block = (): Token[][] | null => {
    p++;
    const words: Token[][] = [];
    let statement: Token[] = [];
    while (p < tokens.length) {
      const s = tokens[p++]!;
      if (s.kind === 'punct' && s.text === '}') return words;
      if (s.kind === 'punct' && s.text === '{') {
        // `on commit { … }` and the like: not ours to keep.
        p--;
        skipStatement();
        statement = [];
        continue;
      }
      if (s.kind === 'punct' && s.text === ';') {
        words.push(statement);
        statement = [];
        continue;
      }
      statement.push(s);
    }
    return null;
  };
  while (p < tokens.length) {
    const t = peek()!;
    if (
      t.kind === 'word' &&
      t.text === 'failover' &&
      tokens[p + 1]?.text === 'peer' &&
      tokens[p + 2]?.kind === 'string' &&
      tokens[p + 3]?.text === 'state' &&
      tokens[p + 4]?.text === '{'
    ) {
      const name = tokens[p + 2]!.text;
      p += 4;
      const words = block();
      if (!words) {
        problems.push({ line: t.line, message: 'a failover peer state block is not closed with }' });
        break;
      }
      const state = failoverStateFrom(name, words, t.line, problems);
      if (state) failover.set(name, state);
    } else if (t.kind === 'word' && t.text === 'lease' && tokens[p + 2]?.text === '{') {
      const addressText = tokens[p + 1]!.text;
      const address = parseIp(addressText);
      const line = t.line;
      p += 2;
      const words = block();
      if (!words) {
        problems.push({ line, message: 'a lease block is not closed with }' });
        break;
      }
      if (address === undefined) {
        problems.push({ line, message: `lease ${addressText}: not an IPv4 address` });
        continue;
      }
      const lease = leaseFrom(address, words, nowSec, line, problems, paired(address));
      const dns = lease ? dnsStateFrom(address, words, nowSec) : undefined;
      if (lease) byAddress.set(address, dns ? { line, lease, dns } : { line, lease });
    } else {
      skipStatement();
    }
  }
  return {
    leases: [...byAddress.values()].sort((a, b) => a.lease.address - b.lease.address),
    failover: [...failover.values()],
    problems,
  };
}

/**
 * The records dhcpd's dynamic DNS holds for a lease, from the variables it sets once DNS confirmed
 * them: `ddns-fwd-name` (A and guard), `ddns-rev-name` (PTR), and the guard: `ddns-txt` in the interim
 * style (the TXT string without its length octet), `ddns-dhcid` in the standard style (the DHCID
 * without its first octet, which is 0 for a DHCPv4 client). Undefined when dhcpd wrote nothing.
 */
function dnsStateFrom(address: number, statements: Token[][], nowSec: number): DnsRecordState | undefined {
  const vars = new Map<string, Token>();
  for (const s of statements) {
    if (s[0]?.text === 'set' && s[1] && s[2]?.text === '=' && s[3]?.kind === 'string') vars.set(s[1].text, s[3]);
  }
  const fwd = vars.get('ddns-fwd-name')?.text.replace(/\.$/, '');
  const rev = vars.get('ddns-rev-name');
  const txt = vars.get('ddns-txt')?.bytes;
  const dhcid = vars.get('ddns-dhcid')?.bytes;
  if (!fwd || (!txt && !dhcid)) return undefined;
  const guard = txt ? Buffer.concat([Buffer.from([txt.length]), txt]) : Buffer.concat([Buffer.from([0]), dhcid!]);
  return {
    address,
    fqdn: fwd,
    guardType: txt ? DnsType.TXT : DnsType.DHCID,
    guard,
    forward: true,
    reverse: rev !== undefined,
    written: nowSec,
  };
}

/** `my state normal at 1 2026/11/23 10:00:00;`, `partner state …`, `mclt 3600;` of a state block. */
function failoverStateFrom(
  name: string,
  statements: Token[][],
  line: number,
  problems: LeaseFileProblem[],
): ImportedFailoverState | null {
  const state: ImportedFailoverState = { line, name, myState: '', myStos: 0, partnerState: null, partnerStos: null, mclt: null };
  for (const s of statements) {
    const words = s.map((t) => t.text);
    if ((words[0] === 'my' || words[0] === 'partner') && words[1] === 'state' && words[2]) {
      // The seed's hand-written `my state partner-down;` has no time: as long ago as can be.
      const at = words.length === 3 ? 0 : words[3] === 'at' ? parseDhcpdDate(words.slice(4).join(' ')) : undefined;
      if (at === undefined || at === null) {
        problems.push({
          line: s[0]!.line,
          message: `${words.join(' ')}: expected "${words[0]} state NAME at 1 2026/11/23 10:00:00"`,
        });
        return null;
      }
      if (words[0] === 'my') [state.myState, state.myStos] = [words[2], at];
      else [state.partnerState, state.partnerStos] = [words[2], at];
    } else if (words[0] === 'mclt' && /^\d+$/.test(words[1] ?? '')) {
      state.mclt = Number(words[1]);
    }
  }
  if (!state.myState) {
    problems.push({ line, message: `failover peer "${name}" state: no "my state"` });
    return null;
  }
  return state;
}

function leaseFrom(
  address: number,
  statements: Token[][],
  nowSec: number,
  line: number,
  problems: LeaseFileProblem[],
  paired: boolean,
): LeaseRecord | null {
  let starts: number | undefined;
  let tstp: number | undefined;
  let tsfp: number | undefined;
  let ends: number | null | undefined;
  let cltt: number | undefined;
  let binding = 'free';
  let abandoned = false;
  let bootp = false;
  let htype = 0;
  let hwaddr: Buffer | null = null;
  let uid: Buffer | null = null;
  let clientHostname: string | null = null;
  let hostname: string | null = null;
  let network = 0;
  let key: { type: number; id: Buffer } | null | undefined;
  const bad = (s: Token[], what: string): void => {
    problems.push({ line: s[0]?.line ?? line, message: `${s.map((t) => t.text).join(' ')}: ${what}` });
  };
  for (const s of statements) {
    const word = s[0]?.text;
    const rest = s
      .slice(1)
      .map((t) => t.text)
      .join(' ');
    switch (word) {
      case 'starts':
      case 'ends':
      case 'cltt':
      case 'tstp':
      case 'tsfp': {
        const value = rest === 'never' ? null : parseDhcpdDate(rest);
        if (value === undefined || (value === null && word !== 'ends')) {
          bad(s, 'expected a date like "1 2026/11/23 20:15:00"');
          return null;
        }
        if (word === 'starts') starts = value!;
        else if (word === 'ends') ends = value;
        else if (word === 'cltt') cltt = value!;
        else if (word === 'tstp') tstp = value!;
        else tsfp = value!;
        break;
      }
      case 'binding':
        if (s[1]?.text === 'state' && s[2]) binding = s[2].text;
        break;
      case 'abandoned':
        abandoned = true;
        break;
      case 'dynamic-bootp':
        bootp = true;
        break;
      case 'hardware': {
        const type = HARDWARE_TYPES.get(s[1]?.text ?? '');
        const bytes = parseHex(s[2]?.text ?? '');
        if (type === undefined || !bytes) {
          bad(s, 'expected "hardware ethernet 08:00:2b:12:34:56"');
          return null;
        }
        htype = type;
        hwaddr = bytes;
        break;
      }
      case 'uid': {
        const bytes = s[1]?.kind === 'string' ? s[1].bytes! : parseHex(s[1]?.text ?? '');
        if (!bytes) {
          bad(s, 'expected a quoted string or colon-separated hex');
          return null;
        }
        uid = bytes;
        break;
      }
      case 'client-hostname':
        clientHostname = s[1]?.kind === 'string' ? s[1].text : null;
        break;
      case 'hostname':
        hostname = s[1]?.kind === 'string' ? s[1].text : null;
        break;
      case 'set': {
        const name = s[1]?.text;
        const value = s[3]?.kind === 'string' ? s[3].text : undefined;
        if (name === 'joind-network' && value !== undefined) network = parseIp(value) ?? 0;
        if (name === 'joind-key' && value !== undefined) {
          const m = /^(\d+)\/(.*)$/.exec(value);
          const id = m ? parseHex(m[2]!) : undefined;
          if (m && id) key = { type: Number(m[1]), id };
        }
        break;
      }
      default:
        break; // atsfp, next binding state, option …: nothing joind keeps
    }
  }
  // Outside our failover ranges a backup address is the peer's business, not a lease.
  if (binding === 'backup' && !paired) return null;
  let state: LeaseState;
  if (abandoned || binding === 'abandoned') state = LeaseState.ABANDONED;
  else if (binding === 'active') state = bootp ? LeaseState.BOOTP : ends === null ? LeaseState.STATIC : LeaseState.ACTIVE;
  else if (binding === 'released') state = LeaseState.RELEASED;
  else if (paired && binding === 'free') state = LeaseState.FREE;
  else if (paired && binding === 'backup') state = LeaseState.BACKUP;
  else state = LeaseState.EXPIRED;
  const begins = starts ?? cltt ?? nowSec;
  const client =
    key !== undefined
      ? key
      : state === LeaseState.ABANDONED && !hwaddr && !uid
        ? null
        : uid
          ? { type: 0, id: uid }
          : hwaddr
            ? { type: htype, id: hwaddr }
            : null;
  // A free address with nobody behind it: nothing to keep, except in a failover range, where it says
  // which server may allocate it.
  const ownership = state === LeaseState.FREE || state === LeaseState.BACKUP;
  if (!client && state !== LeaseState.ABANDONED && !ownership) return null;
  const failover: Partial<LeaseRecord> = paired
    ? { tstp: tstp ?? null, tsfp: tsfp ?? null, peerPending: tstp !== undefined && (tsfp === undefined || tstp > tsfp) }
    : {};
  return {
    address,
    network,
    client,
    htype,
    hwaddr,
    clientId: uid,
    starts: begins,
    ends: ends === undefined ? null : ends,
    cltt: cltt ?? begins,
    state,
    clientHostname,
    hostname,
    ...failover,
  };
}
