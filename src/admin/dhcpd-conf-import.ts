// `joind import --format dhcpd-conf`: an ISC dhcpd.conf (read by dhcpd-conf-reader.ts) written as a joind
// configuration directory: server.pcy, nets, netmasks, dhcpcap, and a BIND key file for dynamic DNS.
// Pure: it returns the files' text and what it could not carry over; the command writes and checks them.
//
// How dhcpd's scopes become joind's: global parameters are a site-wide dhcpcap entry (or server.pcy
// keywords where joind has them there); a subnet is a netmasks line, a nets line (its ranges and its
// pools', owned by --owner or by the pool's failover relationship) and a network entry (nw=) holding its
// own parameters, its shared-network's and its single pool's; a shared-network names its subnets with
// sh=; a group is a template its members include (tc=); a host is an entry keyed by its hardware address
// or client identifier (ip= for its fixed address); a class is an entry applying by what its `match if`
// tests (ct, uc, ca, ci, ri), and each subclass of a `match` class one more; the options of an option
// space are sub-options of option 43 (T43.N) where a vendor-option-space names it. Every statement the import
// cannot express is reported with its file:line and why; a statement with no meaning for joind (a
// pid file, dhcpd's first-start ceremony) is a note.
import { OPTIONS, OPTIONS_BY_NAME, decodeOptionValue, type ClasslessRoute } from '../codec';
import { parseHexBytes } from '../config/hwaddr';
import { CAP_TAGS, SCOPE_TAGS } from '../config/tags';
import { DHCPD_CODES } from './dhcpd-options';
import { ipToString, parseIp } from '../util/ipv4';
import {
  isPunct,
  isWord,
  keyword,
  positionText,
  statementText,
  type ConfStatement,
  type ConfToken,
  type DhcpdConf,
} from './dhcpd-conf-reader';

export interface DhcpdConfImport {
  /** File name → text, for the configuration directory. */
  files: Record<string, string>;
  /** "FILE:LINE:COLUMN: statement: why" for every statement not carried over. */
  problems: string[];
  /** Statements that mean nothing to joind, said once each ("FILE:LINE:COLUMN: …"). */
  notes: string[];
}

/** A dhcpcap tag and its value (null: a Boolean tag that stands alone). */
type Tag = [tag: string, value: string | null];

interface Entry {
  label: string;
  tags: Tag[];
}

/** What a scope's parameters apply to: the site-wide entry, a network, a host, a class, a template. */
type ScopeKind = 'global' | 'network' | 'pool' | 'host' | 'class' | 'group';

/**
 * Names of options dhcpd's table (dhcpd-options.ts, the export's) leaves out and the codec's spells
 * otherwise: those the export writes with statements (61, 67), and names sites declare for codes dhcpd
 * has no name for.
 */
const OPTION_ALIASES: ReadonlyMap<string, number> = new Map([
  ['bootfile-name', 67],
  ['classless-static-routes', 121],
  ['tftp-server-address', 150],
  ['dhcp-client-identifier', 61],
  ['pxe-system-type', 93],
]);

/** The named dhcpcap tag an option code is written with (else T<code>). */
const TAG_OF_CODE: ReadonlyMap<number, string> = (() => {
  const map = new Map<number, string>();
  for (const spec of CAP_TAGS.values()) {
    if (spec.option === undefined || spec.place === 'scope' || spec.kind === 'bool' || map.has(spec.option)) continue;
    map.set(spec.option, spec.tag);
  }
  return map;
})();

/** A value written into dhcpcap: quoted when it holds blanks, colons, # or commas. */
function capValue(text: string): string {
  return /[\s:#,]/.test(text) ? `"${text}"` : text;
}

/** Why a text cannot be a dhcpcap value (a quote or a control character has no way in), or undefined. */
function unwritable(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const bad = /["\x00-\x1f\x7f]/.exec(text);
  if (!bad) return undefined;
  const shown =
    bad[0] === '"' ? 'a double quote' : `the control character \\x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')}`;
  return `the text holds ${shown}, which a dhcpcap value cannot hold`;
}

/** A decimal number as `width` big-endian bytes; undefined when it is not one or does not fit. */
function unsignedBytes(text: string, width: number): Buffer | undefined {
  if (!/^\d{1,10}$/.test(text) || Number(text) >= 2 ** (8 * width)) return undefined;
  const bytes = Buffer.alloc(width);
  bytes.writeUIntBE(Number(text), 0, width);
  return bytes;
}

/**
 * Bytes as an opaque dhcpcap value (T<code>, T43.N): the quoted text they came from when it reads back
 * as the same bytes (printable, and not hex: a quoted `cafe` reads as 0xcafe), else hex.
 */
function opaqueValue(bytes: Buffer, items: readonly ConfToken[]): string {
  const text = items.length === 1 && items[0]!.kind === 'string' ? items[0]!.text : '';
  const readable = /^[\x20-\x7e]+$/.test(text) && !/["\\]/.test(text) && !parseHexBytes(text, true).ok;
  return readable ? `"${text}"` : `0x${bytes.toString('hex')}`;
}

function entryLine(entry: Entry): string {
  // A tag given again (an inner scope's, coming later) replaces the earlier: dhcpd's innermost wins.
  const last = new Map<string, number>();
  entry.tags.forEach(([tag], i) => last.set(tag, i));
  const kept = entry.tags.filter(([tag], i) => tag === 'tc' || last.get(tag) === i);
  const fields = kept.map(([tag, value]) => (value === null ? tag : `${tag}=${value}`));
  return fields.length === 0 ? `${entry.label}:` : `${entry.label}:${fields.join(':')}:`;
}

type Permit = { kind: 'known' | 'unknown' | 'bootp' | 'all' } | { kind: 'members'; name: string };

/** What a pool's allow/deny statement is about, if it is one of dhcpd's pool permits. */
function permitOf(s: ConfStatement): Permit {
  const words = s.words.slice(1).map((t) => t.text.toLowerCase());
  const what = words.join(' ');
  if (what === 'known-clients' || what === 'known clients') return { kind: 'known' };
  if (what === 'unknown-clients' || what === 'unknown clients') return { kind: 'unknown' };
  if (what === 'dynamic bootp clients') return { kind: 'bootp' };
  if (what === 'all clients') return { kind: 'all' };
  return { kind: 'members', name: s.words[3]?.text ?? '' };
}

/** Whether a statement of a pool is one of its permits (allow/deny of who may use it). */
function isPoolPermit(s: ConfStatement): boolean {
  if (keyword(s) !== 'allow' && keyword(s) !== 'deny') return false;
  const words = s.words.slice(1).map((t) => t.text.toLowerCase());
  const what = words.join(' ');
  if (
    ['known-clients', 'known clients', 'unknown-clients', 'unknown clients', 'dynamic bootp clients', 'all clients'].includes(
      what,
    )
  )
    return true;
  return words.length === 3 && words[0] === 'members' && words[1] === 'of' && s.words[3]?.kind === 'string';
}

/** The statements whose blocks dhcpd evaluates as scopes of their own (they inherit the enclosing one's). */
const SCOPES: ReadonlySet<string> = new Set(['shared-network', 'subnet', 'pool', 'group', 'host', 'class', 'subclass']);

/** A dhcpcap label from a dhcpd name (no blanks, quotes or colons). */
function labelOf(name: string): string {
  return name.replace(/[\s":#\\]+/g, '_') || '_';
}

class Importer {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  private readonly pcy = new Map<string, string>();
  /** The subnets read, in order: netmasks, and the network of a host's fixed address. */
  private readonly subnets: Array<{ address: number; mask: number }> = [];
  private readonly nets: string[] = [];
  private readonly entries: Entry[] = [];
  private readonly global: Entry = { label: 'dhcpd-global', tags: [] };
  /** User-declared options: name (lower case) → code and the words of its type. */
  private readonly declared = new Map<string, { code: number; type: string }>();
  /** Option spaces (`option space NAME;`): name → why joind cannot send its options, '' when it can. */
  private readonly spaces = new Map<string, string>();
  /** Sub-option declarations (`option SPACE.NAME code N = TYPE;`) by their dotted name, lower case. */
  private readonly subDeclared = new Map<string, { space: string; code: number; type: string }>();
  /** Spaces an option other than 43 encapsulates (`option X code N = encapsulate SPACE;`): space → X. */
  private readonly encapsulatedIn = new Map<string, string>();
  /** The vendor-option-space in effect at each statement: its scope's own, else an enclosing scope's. */
  private readonly vendorSpaceAt = new Map<ConfStatement, string | null>();
  /**
   * Global sub-options of a space that is not the global vendor-option-space: dhcpd sends them to the
   * clients of the scopes that name that space, so they go to those scopes' entries (used: they did).
   */
  private readonly globalSubs = new Map<string, Array<{ s: ConfStatement; tag: Tag; used: boolean }>>();
  /** The global sub-options a scope naming their space took (not its own: see resolveNetworkSubs). */
  private readonly globalTags = new Set<Tag>();
  /** Sub-options of a network sent only to the clients of a class naming their space (nw+class entries). */
  private readonly networkSubs: Array<{ s: ConfStatement; into: Entry; space: string; tag: Tag }> = [];
  /** The classes (and subclasses) with a vendor-option-space of their own: their entry and the space. */
  private readonly classSpaces: Array<{ s: ConfStatement; into: Entry; space: string }> = [];
  /** The spaces of the sub-options written on entries other than classes' (for the check in reportSubOptions). */
  private readonly unclassedSpaces = new Set<string>();
  /** Shared networks' parameter holders by the sh= label of their subnets. */
  private readonly sharedLabels = new Map<Entry, string>();
  /** Classes: name → the tag their `match` statement spawns subclasses on, and their template. */
  private readonly classes = new Map<string, { matchTag: string | null; template: string }>();
  private keyFile: string | null = null;
  private zoneServers = new Set<string>();
  private useHostDeclNames = false;
  private groups = 0;
  private subclasses = 0;
  /** Subclass entries by their class's name: the members a range entry's am/dm names. */
  private readonly subclassLabels = new Map<string, string[]>();
  /** Range entries' am/dm by class name, resolved to entry labels once every class is read. */
  private readonly memberRefs: Array<{ entry: Entry; tag: 'am' | 'dm'; names: string[]; statement: ConfStatement }> = [];

  constructor(private readonly owner: string) {}

  run(statements: readonly ConfStatement[]): void {
    // Declarations first: an option may be used before the statement that declares it is reached.
    for (const s of statements) if (keyword(s) === 'option' && isWord(s.words[1], 'space')) this.optionSpace(s);
    for (const s of statements) if (keyword(s) === 'option' && isWord(s.words[2], 'code')) this.declare(s);
    for (const s of statements) if (keyword(s) === 'use-host-decl-names') this.useHostDeclNames = this.isOn(s.words[1]);
    // `option vendor-encapsulated-options code 43 = encapsulate SPACE;` sends SPACE as option 43 wherever
    // no vendor-option-space names another.
    const declared43 = this.declared.get('vendor-encapsulated-options')?.type.match(/^encapsulate (\S+)$/)?.[1];
    this.scanSpaces(statements, declared43 ?? null);
    this.collectGlobalSubs(statements);
    this.block(statements, this.global, 'global', []);
    this.resolveNetworkSubs();
    this.reportSubOptions();
    this.resolveMembers();
  }

  /**
   * Records the vendor-option-space in effect at every statement (dhcpd's innermost scope that gives
   * one). A subclass's scope is within its class's, wherever it is written.
   */
  private scanSpaces(statements: readonly ConfStatement[], inherited: string | null, classes = new Map<string, string>()): void {
    const ownOf = (block: readonly ConfStatement[]): string | undefined =>
      block
        .filter((s) => keyword(s) === 'vendor-option-space')
        .pop()
        ?.words[1]?.text.toLowerCase();
    const space = ownOf(statements) ?? inherited;
    for (const s of statements) {
      this.vendorSpaceAt.set(s, space);
      const name = s.words[1]?.text ?? '';
      if (keyword(s) === 'class') classes.set(name, ownOf(s.block ?? []) ?? space ?? '');
      if (s.block && SCOPES.has(keyword(s)))
        this.scanSpaces(s.block, keyword(s) === 'subclass' ? classes.get(name) || space : space, classes);
    }
  }

  /**
   * The global sub-options of a space the global scope does not send: dhcpd evaluates them for every
   * client, and a client gets them in its option 43 when a scope of its names the space (a class, most
   * often). Collected first, so each such scope takes them when its vendor-option-space is read.
   */
  private collectGlobalSubs(statements: readonly ConfStatement[]): void {
    for (const s of statements) {
      const name = s.words[1]?.text.toLowerCase() ?? '';
      if (keyword(s) !== 'option' || !this.subDeclared.has(name) || isWord(s.words[2], 'code')) continue;
      const space = this.subDeclared.get(name)!.space;
      if (this.vendorSpaceAt.get(s) === space) continue; // sent by the global entry itself
      const tag = this.subOptionTag(s);
      if (typeof tag === 'string') continue; // reported when the statement is read
      this.globalSubs.set(space, [...(this.globalSubs.get(space) ?? []), { s, tag, used: false }]);
    }
  }

  /** am/dm of the range entries: a class's own entry, or the entries of its subclasses. */
  private resolveMembers(): void {
    for (const ref of this.memberRefs) {
      const labels: string[] = [];
      for (const name of ref.names) {
        const klass = this.classes.get(name);
        const subclasses = this.subclassLabels.get(name) ?? [];
        if (klass && !klass.template.startsWith('.')) labels.push(klass.template);
        else if (subclasses.length > 0) labels.push(...subclasses);
        else this.problem(ref.statement, `class ${name} has no entry joind can match (no match if, no subclass)`);
      }
      if (labels.length > 0) ref.entry.tags.push([ref.tag, capValue(labels.join(' '))]);
    }
  }

  /** The files, in joind's forms. */
  files(): Record<string, string> {
    const header = '# Written by joind import --format dhcpd-conf.\n';
    const pcy = [...this.pcy].map(([k, v]) => (v === '' ? k : `${k.padEnd(30)} ${v}`)).join('\n');
    const entries = [...(this.global.tags.length > 0 ? [this.global] : []), ...this.entries];
    const files: Record<string, string> = {
      'server.pcy': `${header}${pcy}${pcy ? '\n' : ''}`,
      nets: `${header}${this.nets.join('\n')}${this.nets.length ? '\n' : ''}`,
      netmasks: `${header}${this.subnets.map((n) => `${ipToString(n.address)} ${ipToString(n.mask)}\n`).join('')}`,
      dhcpcap: `${header}${entries.map(entryLine).join('\n')}${entries.length ? '\n' : ''}`,
    };
    if (this.keyFile !== null) files['ddns.key'] = this.keyFile;
    return files;
  }

  private problem(s: ConfStatement, why: string): void {
    this.problems.push(`${positionText(s)}: ${statementText(s)}: ${why}`);
  }

  private note(s: ConfStatement, what: string): void {
    this.notes.push(`${positionText(s)}: ${statementText(s)}: ${what}`);
  }

  private isOn(token: ConfToken | undefined): boolean {
    return ['on', 'true'].includes(token?.text.toLowerCase() ?? '');
  }

  /** The statements of a scope: blocks by kind, parameters into `into`. */
  private block(statements: readonly ConfStatement[], into: Entry, kind: ScopeKind, templates: readonly string[]): void {
    for (const s of statements) {
      switch (keyword(s)) {
        case 'subnet':
          if (kind === 'global' || kind === 'group') this.subnet(s, null, templates);
          else this.problem(s, 'a subnet belongs at the top, in a shared-network or in a group');
          break;
        case 'shared-network':
          this.sharedNetwork(s, templates);
          break;
        case 'host':
          this.host(s, templates);
          break;
        case 'group':
          this.group(s, templates);
          break;
        case 'class':
          this.klass(s);
          break;
        case 'subclass':
          this.subclass(s);
          break;
        case 'failover':
          if (kind === 'pool') break; // the pool's owner, read by subnet()
          this.failover(s);
          break;
        case 'key':
          this.key(s);
          break;
        case 'zone':
          this.zone(s);
          break;
        case 'range':
        case 'pool':
          if (kind !== 'network' && kind !== 'pool') this.problem(s, `a ${keyword(s)} belongs in a subnet`);
          break; // read by subnet()
        default:
          this.parameter(s, into, kind);
      }
    }
  }

  /** One parameter statement of a scope. */
  private parameter(s: ConfStatement, into: Entry, kind: ScopeKind): void {
    const w = s.words;
    const word = keyword(s);
    const value = w[1];
    const global = kind === 'global';
    const tag = (t: string, v: string | null): void => void into.tags.push([t, v]);
    const number = (): string | undefined => (value?.kind === 'number' ? value.text : undefined);
    const pcyOnly = (key: string, v: string): void => {
      if (global) this.pcy.set(key, v);
      else this.problem(s, `joind has it for the whole server only (server.pcy ${key}), not per ${kind}`);
    };
    if (s.block && !['if', 'elsif', 'else', 'on', 'switch'].includes(word)) return this.problem(s, 'an unknown block');
    switch (word) {
      case 'option':
        if (isWord(w[2], 'code')) return; // declared in run()
        if (isPunct(w[2], '=')) return this.optionExpression(s, into);
        if (isWord(w[1], 'space')) return global ? undefined : this.problem(s, 'declare option spaces at the top of the file'); // read in run()
        if (w[1]?.text.includes('.') ?? false) return this.subOption(s, into, kind);
        return this.option(s, into, kind);
      case 'vendor-option-space':
        return this.vendorOptionSpace(s, into, kind);
      case 'default-lease-time':
        if (!number()) return this.problem(s, 'expected a number of seconds');
        return global ? void this.pcy.set('default_ttl', number()!) : tag('lt', number()!);
      case 'max-lease-time':
        return number() ? tag('lx', number()!) : this.problem(s, 'expected a number of seconds');
      case 'min-lease-time':
        return number() ? tag('ln', number()!) : this.problem(s, 'expected a number of seconds');
      case 'next-server':
        return parseIp(value?.text ?? '') !== undefined
          ? tag('sa', value!.text)
          : this.problem(s, 'joind needs an address here, not a name');
      case 'filename':
        return value?.kind === 'string' ? tag('bf', capValue(value.text)) : this.problem(s, 'expected a quoted file name');
      case 'server-name':
        return value?.kind === 'string' ? tag('sn', capValue(value.text)) : this.problem(s, 'expected a quoted name');
      case 'authoritative':
        return this.note(s, 'joind answers as an authoritative server always: it NAKs a request for an address it does not give');
      case 'not':
        return this.problem(s, 'joind is always authoritative: it NAKs a request for an address it does not give');
      case 'ping-check':
        if (!this.isOn(value)) pcyOnly('ping_timeout', '0');
        return;
      case 'ping-timeout':
        return number() ? pcyOnly('ping_timeout', String(Number(number()) * 1000)) : this.problem(s, 'expected seconds');
      case 'ddns-updates':
        return pcyOnly('name_service_updateable', this.isOn(value) ? 'on' : 'off');
      case 'ddns-update-style': {
        const style = value?.text.toLowerCase();
        if (style === 'none') return pcyOnly('name_service_updateable', 'off');
        if (style === 'interim' || style === 'standard') {
          pcyOnly('ddns_style', style);
          if (!this.pcy.has('name_service_updateable')) this.pcy.set('name_service_updateable', 'on');
          return;
        }
        return this.problem(s, 'expected interim, standard or none');
      }
      case 'ddns-domainname':
        return value?.kind === 'string'
          ? tag('dn', capValue(value.text.replace(/\.$/, '')))
          : this.problem(s, 'expected a quoted domain');
      case 'ddns-rev-domainname':
        if (value?.text.replace(/\.$/, '').toLowerCase() === 'in-addr.arpa')
          return this.note(s, 'in-addr.arpa, as joind writes PTR records');
        return this.problem(s, 'joind writes PTR records under in-addr.arpa only');
      case 'allow':
      case 'deny':
      case 'ignore':
        return this.permission(s, into, kind);
      case 'ignore-client-uids':
        return pcyOnly('ignore_client_uids', this.isOn(value) ? 'on' : 'off');
      case 'one-lease-per-client':
        return pcyOnly('auto_release', this.isOn(value) ? 'on' : 'off');
      case 'get-lease-hostnames':
        return pcyOnly('assign_name_by_ipaddr', this.isOn(value) ? 'on' : 'off');
      case 'use-host-decl-names':
        return; // read in run(): it names every host entry
      case 'log-facility':
      case 'lease-file-name':
      case 'pid-file-name':
      case 'db-time-format':
        return this.note(s, 'joind logs JSON lines to its standard output and keeps its leases in its spool directory');
      default:
        return this.problem(s, 'not translated: joind has no equivalent');
    }
  }

  /** allow/deny/ignore statements. */
  private permission(s: ConfStatement, into: Entry, kind: ScopeKind): void {
    const allow = keyword(s) === 'allow';
    const what = s.words
      .slice(1)
      .map((t) => t.text.toLowerCase())
      .join(' ');
    switch (what) {
      case 'unknown-clients':
      case 'unknown clients':
        if (allow) return; // joind's default
        if (kind === 'network' || kind === 'pool') return void into.tags.push(['kn', null]);
        return this.problem(s, 'known clients only is per network in joind (kn on the network entry)');
      case 'client-updates':
        if (allow) return; // joind honours option 81 as dhcpd's allow client-updates
        return this.problem(s, 'joind always lets a client that asks write its own A record (option 81)');
      case 'bootp':
        if (kind !== 'global') return this.problem(s, 'joind answers BOOTP for the whole server or not at all (support_bootp)');
        return void this.pcy.set('support_bootp', allow ? 'on' : 'off');
      case 'dynamic bootp clients':
        if (!allow) return; // joind's default: BOOTP clients get only their bindings
        if (kind !== 'global')
          return this.problem(s, 'joind gives BOOTP clients pool addresses for the whole server (dynamic_bootp)');
        return void this.pcy.set('dynamic_bootp', 'on');
      case 'booting':
        return allow ? undefined : this.problem(s, 'joind cannot refuse booting to a host or class');
      default:
        return this.problem(s, 'not translated: joind has no such permission');
    }
  }

  /**
   * `option NAME = EXPRESSION;`: only dhcpd's idiom for sending options a client did not ask for,
   * `option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, fc, …);`, has a
   * joind form: fo with those codes.
   */
  private optionExpression(s: ConfStatement, into: Entry): void {
    const text = s.words.map((t) => t.text.toLowerCase()).join(' ');
    const idiom = /^option dhcp-parameter-request-list = concat \( option dhcp-parameter-request-list , (.+) \)$/.exec(text);
    const codes = idiom?.[1]!
      .split(' , ')
      .flatMap((hex) => hex.split(':'))
      .map((hex) => parseInt(hex, 16));
    if (!codes || codes.some((c) => !(c >= 1 && c <= 254)))
      return this.problem(s, 'joind has no expressions: only the parameter request list idiom is carried over (as fo)');
    into.tags.push(['fo', capValue(codes.join(' '))]);
  }

  /** `option NAME code N = TYPE;`, or `option SPACE.NAME code N = TYPE;` for a sub-option of SPACE. */
  private declare(s: ConfStatement): void {
    const name = s.words[1]?.text.toLowerCase() ?? '';
    const code = Number(s.words[3]?.text);
    if (!Number.isInteger(code) || code < 1 || code > 254) return this.problem(s, 'expected a code from 1 to 254');
    const type = s.words
      .slice(5)
      .map((t) => t.text.toLowerCase())
      .join(' ');
    const encapsulated = /^encapsulate (\S+)$/.exec(type)?.[1];
    if (name.includes('.')) {
      if (encapsulated) return this.problem(s, 'joind sends no sub-options within a sub-option');
      return void this.subDeclared.set(name, { space: name.slice(0, name.indexOf('.')), code, type });
    }
    // dhcpd sends such an option holding the space's options set for the client: joind has no such option.
    if (encapsulated && code !== 43) {
      this.encapsulatedIn.set(encapsulated, `option ${code}, ${name}`);
      this.problem(s, `option ${code} encapsulates space ${encapsulated}: joind sends sub-options only in option 43 (T43.N=)`);
    }
    this.declared.set(name, { code, type });
  }

  /** `option space NAME [code width 1] [length width 1] [hash size N];`: a space of sub-options. */
  private optionSpace(s: ConfStatement): void {
    const name = s.words[2]?.text.toLowerCase() ?? '';
    const widths = s.words
      .slice(3)
      .map((t) => t.text.toLowerCase())
      .join(' ')
      .replace(/hash size \d+/, '')
      .trim();
    // Option 43's sub-options have a one-byte code and a one-byte length, dhcpd's default widths.
    const why = /^(code width 1)? ?(length width 1)?$/.test(widths)
      ? ''
      : `space ${name}: joind's sub-options have a code and a length of one byte (code width 1 length width 1)`;
    this.spaces.set(name, why);
    if (why) this.problem(s, why);
  }

  /**
   * `option SPACE.NAME VALUE;`: sub-option T43.N where SPACE is the vendor-option-space in effect. Not
   * there: of the global scope or a network, it goes to the scopes naming SPACE (collectGlobalSubs,
   * resolveNetworkSubs); of another scope, it is reported.
   */
  private subOption(s: ConfStatement, into: Entry, kind: ScopeKind): void {
    const tag = this.subOptionTag(s);
    if (typeof tag === 'string') return this.problem(s, tag);
    const space = this.subDeclared.get(s.words[1]!.text.toLowerCase())!.space;
    if (this.vendorSpaceAt.get(s) === space) {
      if (kind !== 'class') this.unclassedSpaces.add(space);
      return void into.tags.push(tag);
    }
    if (kind === 'global') return; // collected in run(); reported by reportSubOptions if no scope sends it
    if (kind === 'network' || kind === 'pool') return void this.networkSubs.push({ s, into, space, tag });
    this.problem(s, this.notSentWhy(s, space));
  }

  /** Why a sub-option is not sent: its space is not the vendor-option-space in effect. */
  private notSentWhy(s: ConfStatement, space: string): string {
    const here = this.vendorSpaceAt.get(s);
    const elsewhere = this.encapsulatedIn.get(space);
    const why = elsewhere
      ? `dhcpd sends it in ${elsewhere}`
      : `no vendor-option-space ${space}${here ? `; it is ${here} here` : ''}`;
    return `space ${space} is not sent as option 43 here (${why}): joind sends sub-options only in option 43`;
  }

  /** A sub-option statement as its tag T43.N, its value the bytes dhcpd puts in the sub-option; or why not. */
  private subOptionTag(s: ConfStatement): Tag | string {
    const name = s.words[1]?.text.toLowerCase() ?? '';
    const space = name.slice(0, name.indexOf('.'));
    const why = this.spaces.get(space);
    if (why === undefined) return `space ${space} is not declared (option space ${space};)`;
    if (why) return why;
    const declared = this.subDeclared.get(name);
    if (!declared) return `unknown option ${name}: declare it (option ${name} code N = TYPE;)`;
    const items = s.words.slice(2).filter((t) => !isPunct(t, ','));
    const bytes = items.length === 0 ? 'no value' : this.bytesOf(items, declared.type);
    if (typeof bytes === 'string') return bytes;
    if (bytes.length === 0 || bytes.length > 255) return `${bytes.length} bytes: a sub-option holds 1 to 255`;
    return [`T43.${declared.code}`, opaqueValue(bytes, items)];
  }

  /**
   * `vendor-option-space SPACE;` (where it is in effect: scanSpaces). Its scope takes the global
   * sub-options of SPACE, which dhcpd sends its clients; the scope's own win, being inner.
   */
  private vendorOptionSpace(s: ConfStatement, into: Entry, kind: ScopeKind): void {
    const space = s.words[1]?.text.toLowerCase() ?? '';
    const why = this.spaces.get(space);
    if (why === undefined) return this.problem(s, `space ${space} is not declared (option space ${space};)`);
    if (why) return this.problem(s, why);
    if (kind === 'class') this.classSpaces.push({ s, into, space });
    if (kind === 'global') return;
    for (const global of this.globalSubs.get(space) ?? []) {
      global.used = true;
      if (kind !== 'class') this.unclassedSpaces.add(space);
      // Given before this statement, the scope's own is kept; given after, it comes later and wins.
      if (!into.tags.some(([t]) => t === global.tag[0])) into.tags.push(global.tag);
      this.globalTags.add(global.tag);
    }
  }

  /**
   * A network's sub-options of a space a class names (UniFi's usual form: the controller's address per
   * subnet, vendor-option-space in the class): dhcpd sends them to the class's clients on that network,
   * so they go to an entry of the network and the class (nw and the class's conditions; per subclass for
   * a class matched by subclasses). The class's own sub-options win, its scope being inner.
   */
  private resolveNetworkSubs(): void {
    const made = new Map<string, Entry>();
    for (const sub of this.networkSubs) {
      const classes = this.classSpaces.filter((c) => c.space === sub.space);
      if (classes.length === 0) {
        this.problem(sub.s, this.notSentWhy(sub.s, sub.space));
        continue;
      }
      for (const { into: klass } of classes) {
        const members = klass.label.startsWith('.')
          ? this.entries.filter((e) => e.tags.some(([t, v]) => t === 'tc' && v === klass.label))
          : [klass];
        for (const member of members) {
          const own = [...member.tags, ...klass.tags].filter((t) => !this.globalTags.has(t));
          if (own.some(([t]) => t === sub.tag[0])) continue;
          const conditions = member.tags.filter(([t]) => SCOPE_TAGS.has(t) && t !== 'nw');
          for (const net of this.netsOf(sub.into)) {
            const label = `${member.label}-${net}`;
            let entry = made.get(label);
            if (!entry) {
              entry = { label, tags: [['nw', net], ...conditions] };
              made.set(label, entry);
              this.entries.push(entry);
            }
            entry.tags.push(sub.tag);
          }
        }
      }
    }
  }

  /** The networks (nw) of a subnet's entry, or of the subnets of a shared network's parameter holder. */
  private netsOf(into: Entry): string[] {
    const nw = (e: Entry): string | undefined => e.tags.find(([t]) => t === 'nw')?.[1] ?? undefined;
    const shared = this.sharedLabels.get(into);
    if (shared === undefined) return [nw(into)].filter((n) => n !== undefined);
    return this.entries
      .filter((e) => e.tags.some(([t, v]) => t === 'sh' && v === shared))
      .map(nw)
      .filter((n) => n !== undefined);
  }

  /**
   * What is left of the sub-options: global ones no scope sends, and classes naming a space whose
   * clients also get another space's sub-options from a wider scope. dhcpd sends a client only the
   * sub-options of its innermost vendor-option-space; joind joins every T43.N that applies to it.
   */
  private reportSubOptions(): void {
    for (const [space, subs] of this.globalSubs)
      for (const sub of subs) if (!sub.used) this.problem(sub.s, this.notSentWhy(sub.s, space));
    for (const c of this.classSpaces) {
      const others = [...this.unclassedSpaces].filter((x) => x !== c.space);
      if (others.length > 0)
        this.problem(
          c.s,
          `clients of the class would also get the sub-options of space ${others.join(', ')} given outside it (dhcpd sends them only ${c.space}'s): joind joins every T43.N that applies to a client into one option 43`,
        );
    }
  }

  /** The code of an option by dhcpd's name (its own table, then the file's declarations). */
  private codeOf(name: string): number | undefined {
    const lower = name.toLowerCase();
    return (
      this.declared.get(lower)?.code ?? DHCPD_CODES.get(lower) ?? OPTION_ALIASES.get(lower) ?? OPTIONS_BY_NAME.get(lower)?.code
    );
  }

  /** `option NAME VALUE…;` as a dhcpcap tag. */
  private option(s: ConfStatement, into: Entry, kind: ScopeKind): void {
    const name = s.words[1]?.text ?? '';
    const code = this.codeOf(name);
    if (code === undefined) return this.problem(s, `unknown option ${name}: declare it (option ${name} code N = TYPE;)`);
    const values = s.words.slice(2);
    if (code === 61 && kind !== 'host') return this.problem(s, 'a client identifier belongs to a host');
    if (code === 12 && kind !== 'host' && kind !== 'class')
      return this.problem(s, 'joind gives host names per host or class (ho=), or from its naming policy');
    const text = this.optionValue(code, values);
    if (typeof text !== 'string') return this.problem(s, text.why);
    const tag = code === 61 ? 'ck' : (TAG_OF_CODE.get(code) ?? `T${code}`);
    into.tags.push([tag, text]);
    if (code === 12) into.tags.push(['hn', null]);
  }

  /** An option's value in dhcpcap's form, by the type the codec (or the declaration) gives the code. */
  private optionValue(code: number, tokens: readonly ConfToken[]): string | { why: string } {
    const items = tokens.filter((t) => !isPunct(t, ','));
    const declared = [...this.declared.values()].find((d) => d.code === code)?.type;
    const type = OPTIONS.get(code)?.type;
    if (items.length === 0) return { why: 'no value' };
    // dhcpd's classless-routes idiom: the option declared as an array of bytes (RFC 3442's wire form).
    if (code === 121 && declared?.includes('integer 8')) {
      const octets = items.map((t) => unsignedBytes(t.text, 1));
      if (octets.some((o) => o === undefined)) return { why: 'expected the bytes of RFC 3442 routes, 0 to 255' };
      const bytes = Buffer.concat(octets as Buffer[]);
      const routes = decodeOptionValue(121, bytes);
      if (!routes.ok) return { why: `not RFC 3442 routes: ${routes.message}` };
      return `"${(routes.value as ClasslessRoute[]).map((r) => `${ipToString(r.destination)}/${r.prefixLength} ${ipToString(r.router)}`).join(', ')}"`;
    }
    switch (type) {
      case 'ip':
      case 'ip-list':
      case 'ip-pairs': {
        const bad = items.find((t) => parseIp(t.text) === undefined);
        if (bad) return { why: `${bad.text} is not an address (joind looks up no names in its configuration)` };
        return capValue(items.map((t) => t.text).join(' '));
      }
      case 'u8':
      case 'u16':
      case 'u32':
      case 'i32':
      case 'u8-list':
      case 'u16-list':
        if (items.some((t) => !/^-?\d+$/.test(t.text))) return { why: 'expected numbers' };
        return capValue(items.map((t) => t.text).join(' '));
      case 'bool':
        return ['on', 'true', '1'].includes(items[0]!.text.toLowerCase()) ? '1' : '0';
      case 'string': {
        if (items[0]!.kind !== 'string') return { why: 'expected a quoted text' };
        const why = unwritable(items[0]!.text);
        return why ? { why } : capValue(items[0]!.text);
      }
      case 'domain-list':
        if (items.some((t) => t.kind !== 'string')) return { why: 'expected quoted domain names' };
        return capValue(items.map((t) => t.text.replace(/\.$/, '')).join(' '));
      default: {
        // Bytes: colon hex, or a quoted text (as its bytes), or what the declaration says.
        const bytes = this.bytesOf(items, declared);
        return typeof bytes === 'string' ? { why: bytes } : opaqueValue(bytes, items);
      }
    }
  }

  /** Bytes of an opaque value: colon hex, a quoted text, or numbers and addresses of a declared type. */
  private bytesOf(items: readonly ConfToken[], declared: string | undefined): Buffer | string {
    if (items.length === 1 && items[0]!.kind === 'string') return Buffer.from(items[0]!.text, 'latin1');
    // Colon hex is a string's form: of a declared number, `10` is ten, not 0x10.
    const numeric = /integer|boolean|ip-address/.test(declared ?? '') && !declared!.startsWith('{');
    if (
      items.length === 1 &&
      (!numeric || items[0]!.text.includes(':')) &&
      /^[0-9a-f]{1,2}(:[0-9a-f]{1,2})*$/i.test(items[0]!.text)
    )
      return Buffer.from(items[0]!.text.split(':').map((h) => parseInt(h, 16)));
    if (declared?.startsWith('{')) return this.recordBytes(items, declared);
    const width = declared?.includes('integer 32')
      ? 4
      : declared?.includes('integer 16')
        ? 2
        : declared?.includes('integer 8')
          ? 1
          : 0;
    const parts: Buffer[] = [];
    for (const t of items) {
      const address = parseIp(t.text);
      if (declared?.includes('ip-address') && address !== undefined) {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(address);
        parts.push(b);
      } else if (width > 0 && unsignedBytes(t.text, width)) {
        parts.push(unsignedBytes(t.text, width)!);
      } else if (declared?.includes('boolean') && /^(true|false|on|off)$/i.test(t.text)) {
        parts.push(Buffer.from([/^(true|on)$/i.test(t.text) ? 1 : 0]));
      } else return `cannot write ${t.text} as bytes${declared ? ` of ${declared}` : ''}`;
    }
    return Buffer.concat(parts);
  }

  /** A value of a declared record type `{ ip-address, unsigned integer 16, string }`, field by field. */
  private recordBytes(items: readonly ConfToken[], declared: string): Buffer | string {
    const fields = declared
      .replace(/^\{|\}$/g, '')
      .split(',')
      .map((f) => f.trim());
    if (fields.length !== items.length) return `${items.length} values for the ${fields.length} fields of ${declared}`;
    const parts: Buffer[] = [];
    for (const [i, field] of fields.entries()) {
      const item = items[i]!;
      const width = /integer (8|16|32)$/.exec(field);
      const address = parseIp(item.text);
      if (field === 'ip-address' && address !== undefined) {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(address);
        parts.push(b);
      } else if (width && unsignedBytes(item.text, Number(width[1]) / 8)) {
        parts.push(unsignedBytes(item.text, Number(width[1]) / 8)!);
      } else if ((field === 'string' || field === 'text') && item.kind === 'string') {
        parts.push(Buffer.from(item.text, 'latin1'));
      } else return `cannot write ${item.text} as the ${field} of ${declared}`;
    }
    return Buffer.concat(parts);
  }

  private subnet(s: ConfStatement, shared: { name: string; tags: Tag[] } | null, templates: readonly string[]): void {
    const address = parseIp(s.words[1]?.text ?? '');
    const mask = isWord(s.words[2], 'netmask') ? parseIp(s.words[3]?.text ?? '') : undefined;
    if (address === undefined || mask === undefined) return this.problem(s, 'expected subnet ADDRESS netmask MASK');
    const net = ipToString(address);
    this.subnets.push({ address, mask });
    const entry: Entry = {
      label: `subnet-${net}`,
      tags: [
        ['nw', net],
        ['sm', ipToString(mask)],
      ],
    };
    if (shared) entry.tags.push(['sh', labelOf(shared.name)], ...shared.tags);
    for (const t of templates) entry.tags.push(['tc', t]);
    const ranges = new Map<string, string[]>();
    const addRanges = (block: readonly ConfStatement[], owner: string): string[] => {
      const added: string[] = [];
      for (const r of block.filter((x) => keyword(x) === 'range')) {
        const words = r.words.slice(1).filter((t) => !isWord(t, 'dynamic-bootp'));
        if (r.words.some((t) => isWord(t, 'dynamic-bootp'))) this.pcy.set('dynamic_bootp', 'on');
        const [first, last] = words.map((t) => parseIp(t.text));
        if (first === undefined || words.length > 2 || (words.length === 2 && last === undefined)) {
          this.problem(r, 'expected range FIRST [LAST]');
          continue;
        }
        const list = ranges.get(owner) ?? [];
        added.push(last === undefined || last === first ? ipToString(first) : `${ipToString(first)}-${ipToString(last)}`);
        list.push(added[added.length - 1]!);
        ranges.set(owner, list);
      }
      return added;
    };
    const block = s.block ?? [];
    addRanges(block, this.owner);
    const pools = block.filter((x) => keyword(x) === 'pool');
    const rangeEntries: Entry[] = [];
    pools.forEach((pool, i) => {
      const peer = pool.block?.find((x) => keyword(x) === 'failover' && isWord(x.words[1], 'peer'));
      const owner = peer?.words[2]?.text ?? this.owner;
      const own = addRanges(pool.block ?? [], owner);
      // Its permits make a range entry of its ranges; its other statements are parameters.
      const statements = (pool.block ?? []).filter((x) => !isPoolPermit(x));
      const rule = this.poolRule(net, i + 1, own, (pool.block ?? []).filter(isPoolPermit));
      if (rule) rangeEntries.push(rule);
      if (pools.length === 1) this.block(statements, entry, 'pool', []);
      else
        for (const p of statements.filter((x) => !['range', 'failover'].includes(keyword(x))))
          this.problem(p, 'parameters of one pool among several: joind keeps parameters per network');
    });
    this.block(block, entry, 'network', templates);
    this.entries.push(entry, ...rangeEntries);
    const owners = ranges.size > 0 ? [...ranges] : [[this.owner, []] as [string, string[]]];
    owners.forEach(([owner, list], i) =>
      this.nets.push(i === 0 ? `${net} ${owner} ${list.join(' ')}`.trimEnd() : `${owner} ${list.join(' ')}`),
    );
  }

  /**
   * A pool's permits as a range entry (dhcpcap ra=) over its ranges. dhcpd admits a client that matches
   * one of the pool's allows (when it has any) and none of its denies; joind's permits must all hold,
   * so several allows of different kinds (members of a class, or known clients) cannot be written.
   */
  private poolRule(net: string, n: number, ranges: readonly string[], permits: readonly ConfStatement[]): Entry | undefined {
    if (permits.length === 0) return undefined;
    if (ranges.length === 0) {
      for (const p of permits) this.problem(p, 'a pool with no range: its permits have nothing to apply to');
      return undefined;
    }
    const entry: Entry = {
      label: `pool-${net}-${n}`,
      tags: [
        ['nw', net],
        ['ra', capValue(ranges.join(' '))],
      ],
    };
    const allows = permits.filter((p) => keyword(p) === 'allow').map((p) => ({ p, what: permitOf(p) }));
    const denies = permits.filter((p) => keyword(p) === 'deny').map((p) => ({ p, what: permitOf(p) }));
    const tags = new Set<string>();
    const allowed: Array<{ p: ConfStatement; name: string }> = [];
    const denied: Array<{ p: ConfStatement; name: string }> = [];
    if (!allows.some((a) => a.what.kind === 'all')) {
      const kinds = new Set(allows.map((a) => a.what.kind));
      // Known and unknown clients together are every client.
      const everyone = kinds.has('known') && kinds.has('unknown');
      if (everyone) for (const kind of ['known', 'unknown'] as const) kinds.delete(kind);
      if (kinds.size > 1) {
        for (const a of allows) this.problem(a.p, "allows of different kinds in one pool: joind's permits must all hold");
      } else if (kinds.has('bootp')) {
        for (const a of allows) this.problem(a.p, 'joind cannot keep a range for BOOTP clients only');
      } else {
        if (kinds.has('known')) tags.add('kn');
        if (kinds.has('unknown')) tags.add('ku');
        for (const { p, what } of allows) if (what.kind === 'members') allowed.push({ p, name: what.name });
      }
    }
    for (const { p, what } of denies) {
      if (what.kind === 'unknown') tags.add('kn');
      else if (what.kind === 'known') tags.add('ku');
      else if (what.kind === 'bootp') tags.add('nb');
      else if (what.kind === 'members') denied.push({ p, name: what.name });
      else this.problem(p, 'a pool no client may use: leave its ranges out instead');
    }
    if (tags.has('kn') && tags.has('ku')) {
      for (const p of permits) this.problem(p, 'known and unknown clients both refused: no client may use the pool');
      return undefined;
    }
    // Permits that admit every client (allow all clients; known and unknown ones) need no entry.
    if (tags.size === 0 && allowed.length === 0 && denied.length === 0) return undefined;
    for (const tag of tags) entry.tags.push([tag, null]);
    for (const [tag, list] of [
      ['am', allowed],
      ['dm', denied],
    ] as const) {
      if (list.length > 0) this.memberRefs.push({ entry, tag, names: list.map((m) => m.name), statement: list[0]!.p });
    }
    return entry;
  }

  private sharedNetwork(s: ConfStatement, templates: readonly string[]): void {
    const name = s.words[1]?.text ?? '';
    const tags: Tag[] = [];
    const holder: Entry = { label: '', tags };
    this.sharedLabels.set(holder, labelOf(name));
    const statements = s.block ?? [];
    // Its own parameters first: each subnet entry carries them (its own win, coming later).
    this.block(
      statements.filter((x) => !['subnet', 'host', 'group', 'class', 'subclass'].includes(keyword(x))),
      holder,
      'network',
      templates,
    );
    for (const sub of statements.filter((x) => keyword(x) === 'subnet')) this.subnet(sub, { name, tags }, templates);
    this.block(
      statements.filter((x) => ['host', 'group', 'class', 'subclass'].includes(keyword(x))),
      holder,
      'group',
      templates,
    );
  }

  private group(s: ConfStatement, templates: readonly string[]): void {
    const template: Entry = { label: `.group-${++this.groups}`, tags: templates.map((t) => ['tc', t] as Tag) };
    const statements = s.block ?? [];
    this.block(
      statements.filter((x) => !['subnet', 'shared-network', 'host', 'group'].includes(keyword(x))),
      template,
      'group',
      templates,
    );
    this.entries.push(template);
    this.block(
      statements.filter((x) => ['subnet', 'shared-network', 'host', 'group'].includes(keyword(x))),
      template,
      'group',
      [template.label],
    );
  }

  private host(s: ConfStatement, templates: readonly string[]): void {
    const name = s.words[1]?.text ?? 'host';
    const statements = s.block ?? [];
    const keys: Tag[] = [];
    const addresses: number[] = [];
    const rest: ConfStatement[] = [];
    for (const x of statements) {
      const word = keyword(x);
      if (word === 'hardware') {
        const type = x.words[1]?.text.toLowerCase();
        const mac = x.words[2]?.text ?? '';
        if (!['ethernet', 'token-ring'].includes(type ?? '') || !/^[0-9a-f]{1,2}(:[0-9a-f]{1,2})+$/i.test(mac)) {
          this.problem(x, 'expected hardware ethernet (or token-ring) and a colon-separated address');
          continue;
        }
        keys.push(['ht', type!], ['ha', `"${mac}"`]);
      } else if (word === 'fixed-address') {
        for (const t of x.words.slice(1).filter((t) => !isPunct(t, ','))) {
          const address = parseIp(t.text);
          if (address === undefined)
            this.problem(x, `${t.text} is not an address (joind looks up no names in its configuration)`);
          else addresses.push(address);
        }
      } else if (word === 'option' && this.codeOf(x.words[1]?.text ?? '') === 61) {
        const bytes = this.bytesOf(
          x.words.slice(2).filter((t) => !isPunct(t, ',')),
          undefined,
        );
        if (typeof bytes === 'string') this.problem(x, bytes);
        else keys.push(['ck', `0x${bytes.toString('hex')}`]);
      } else if (word === 'host-identifier') {
        const option = x.words[2]?.text.toLowerCase();
        const value = x.words[3];
        const tag = option === 'agent.circuit-id' ? 'ci' : option === 'agent.remote-id' ? 'ri' : undefined;
        if (!tag || !value)
          this.problem(x, 'joind identifies a host by hardware address, client identifier, or relay circuit or remote id');
        else {
          const bytes = this.bytesOf([value], undefined);
          if (typeof bytes === 'string') this.problem(x, bytes);
          else keys.push([tag, `0x${bytes.toString('hex')}`]);
        }
      } else if (word === 'ddns-hostname') {
        if (x.words[1]?.kind === 'string')
          rest.push({ ...x, words: [{ ...x.words[0]!, text: 'option' }, { ...x.words[0]!, text: 'host-name' }, x.words[1]] });
        else this.problem(x, 'expected a quoted name');
      } else rest.push(x);
    }
    if (keys.length === 0)
      return this.problem(s, 'a host without hardware address or client identifier: joind cannot tell who it is');
    const base: Entry = { label: labelOf(name), tags: [...keys] };
    for (const t of templates) base.tags.push(['tc', t]);
    this.block(rest, base, 'host', templates);
    if (this.useHostDeclNames && !base.tags.some(([t]) => t === 'ho')) base.tags.push(['ho', capValue(name)], ['hn', null]);
    if (addresses.length <= 1) {
      if (addresses.length === 1) base.tags.push(['ip', ipToString(addresses[0]!)]);
      this.entries.push(base);
      return;
    }
    // One address per subnet (dhcpd gives the one of the client's subnet): an entry per address and network.
    addresses.forEach((address, i) => {
      const mask = this.maskOf(address);
      const nw = mask === undefined ? [] : ([['nw', ipToString((address & mask) >>> 0)]] as Tag[]);
      this.entries.push({
        label: `${base.label}${i === 0 ? '' : `-${i + 1}`}`,
        tags: [...base.tags, ...nw, ['ip', ipToString(address)]],
      });
    });
  }

  private maskOf(address: number): number | undefined {
    return this.subnets.find((n) => (address & n.mask) >>> 0 === n.address)?.mask;
  }

  /** A class: its `match if` as conditions (ct, uc, ca, ci, ri), or its `match` field for subclasses. */
  private klass(s: ConfStatement): void {
    const name = s.words[1]?.text ?? 'class';
    const entry: Entry = { label: `class-${labelOf(name)}`, tags: [] };
    let matchTag: string | null = null;
    let conditions = 0;
    const params: ConfStatement[] = [];
    for (const x of s.block ?? []) {
      if (keyword(x) !== 'match') {
        if (['spawn', 'lease'].includes(keyword(x))) this.problem(x, 'joind has no spawning classes or lease limits');
        else params.push(x);
        continue;
      }
      if (isWord(x.words[1], 'if')) {
        const found = this.conditions(x.words.slice(2));
        if (typeof found === 'string') {
          this.problem(x, found);
          continue;
        }
        entry.tags.push(...found);
        conditions += found.length;
      } else {
        matchTag = this.matchField(x.words.slice(1));
        if (matchTag === null)
          this.problem(
            x,
            'joind matches subclasses on option agent.circuit-id, agent.remote-id, vendor-class-identifier or user-class',
          );
      }
    }
    if (conditions === 0) {
      // A class only its subclasses apply by: its parameters go to a template they include.
      const template: Entry = { label: `.class-${labelOf(name)}`, tags: [] };
      this.block(params, template, 'class', []);
      this.entries.push(template);
      this.classes.set(name, { matchTag, template: template.label });
      return;
    }
    this.block(params, entry, 'class', []);
    this.entries.push(entry);
    this.classes.set(name, { matchTag, template: entry.label });
  }

  /** The tag a `match` expression's value is compared through (subclasses). */
  private matchField(words: readonly ConfToken[]): string | null {
    const text = words.map((t) => t.text.toLowerCase()).join(' ');
    const fields: Record<string, string> = {
      'option agent.circuit-id': 'ci',
      'option agent.remote-id': 'ri',
      'option vendor-class-identifier': 'ct',
      'option user-class': 'uc',
      hardware: 'ha',
    };
    return fields[text] ?? null;
  }

  /** `match if` conditions joined by `and`, each `FIELD = "VALUE"` or a vendor class prefix by substring. */
  private conditions(words: readonly ConfToken[]): Tag[] | string {
    const tags: Tag[] = [];
    let rest = words;
    while (rest.length > 0) {
      const and = rest.findIndex((t) => isWord(t, 'and'));
      const part = and < 0 ? rest : rest.slice(0, and);
      rest = and < 0 ? [] : rest.slice(and + 1);
      const eq = part.findIndex((t) => isPunct(t, '='));
      const value = part[eq + 1];
      if (eq < 0 || !value || part.length !== eq + 2) return 'joind matches a field = "value" (and of such): not this expression';
      const lhs = part
        .slice(0, eq)
        .map((t) => t.text.toLowerCase())
        .join(' ');
      const substring = /^substring \( option vendor-class-identifier , 0 , (\d+) \)$/.exec(lhs);
      if (substring && value.kind === 'string' && Number(substring[1]) === value.text.length) {
        tags.push(['ct', capValue(`${value.text}*`)]);
        continue;
      }
      const field = this.matchField(part.slice(0, eq));
      if (field === 'ct' || field === 'uc') {
        if (value.kind !== 'string') return 'expected a quoted text';
        tags.push([field, capValue(value.text)]);
      } else if (field === 'ci' || field === 'ri') {
        const bytes = this.bytesOf([value], undefined);
        if (typeof bytes === 'string') return bytes;
        tags.push([field, `0x${bytes.toString('hex')}`]);
      } else if (lhs.startsWith('option ') && this.codeOf(lhs.slice(7)) === 93) {
        const bytes = this.bytesOf([value], 'unsigned integer 16');
        if (typeof bytes === 'string' || bytes.length !== 2) return 'expected an architecture type as 00:07 or 7';
        tags.push(['ca', String(bytes.readUInt16BE(0))]);
      } else return `joind cannot match on ${lhs}`;
    }
    return tags;
  }

  private subclass(s: ConfStatement): void {
    const name = s.words[1]?.text ?? '';
    const value = s.words[2];
    const klass = this.classes.get(name);
    if (!klass || klass.matchTag === null || !value)
      return this.problem(s, `class ${name} has no match field joind can use (declare the class first)`);
    let written: string;
    if (klass.matchTag === 'ct' || klass.matchTag === 'uc') {
      if (value.kind !== 'string') return this.problem(s, 'expected a quoted text');
      written = capValue(value.text);
    } else if (klass.matchTag === 'ha') {
      return this.problem(s, 'a subclass on hardware: write a host entry');
    } else {
      const bytes = this.bytesOf([value], undefined);
      if (typeof bytes === 'string') return this.problem(s, bytes);
      written = `0x${bytes.toString('hex')}`;
    }
    const entry: Entry = {
      label: `class-${labelOf(name)}-${++this.subclasses}`,
      tags: [
        [klass.matchTag, written],
        ['tc', klass.template],
      ],
    };
    this.block(s.block ?? [], entry, 'class', []);
    this.entries.push(entry);
    this.subclassLabels.set(name, [...(this.subclassLabels.get(name) ?? []), entry.label]);
  }

  private failover(s: ConfStatement): void {
    if (!isWord(s.words[1], 'peer')) return this.problem(s, 'expected failover peer "NAME"');
    const name = s.words[2]?.text ?? '';
    if (isWord(s.words[3], 'state'))
      return this.note(s, "joind keeps the pair's state in its store, so a first start needs no such block");
    const set = (key: string, value: string): void => void this.pcy.set(key, value);
    set('failover', name);
    for (const x of s.block ?? []) {
      const words = x.words.map((t) => t.text.toLowerCase());
      const last = x.words[x.words.length - 1]?.text ?? '';
      const joined = words.join(' ');
      if (joined === 'primary' || joined === 'secondary') set('failover_role', joined);
      else if (words[0] === 'address') set('failover_address', last);
      else if (words[0] === 'port') set('failover_port', last);
      else if (joined.startsWith('peer address')) set('failover_peer_address', last);
      else if (joined.startsWith('peer port')) set('failover_peer_port', last);
      else if (words[0] === 'max-response-delay') set('failover_max_response_delay', last);
      else if (words[0] === 'max-unacked-updates') set('failover_max_unacked_updates', last);
      else if (words[0] === 'mclt') set('failover_mclt', last);
      else if (words[0] === 'split') set('failover_split', last);
      else if (joined.startsWith('load balance max seconds')) set('failover_load_balance_max_secs', last);
      else if (words[0] === 'auto-partner-down') set('failover_auto_partner_down', last);
      else this.problem(x, 'not translated: joind has no such failover setting (hba: give split)');
    }
  }

  private key(s: ConfStatement): void {
    const name = s.words[1]?.text ?? '';
    const algorithm = s.block?.find((x) => keyword(x) === 'algorithm')?.words[1]?.text.toLowerCase() ?? '';
    const secret = s.block?.find((x) => keyword(x) === 'secret')?.words[1]?.text ?? '';
    if (!/^hmac-sha(256|384|512)$/.test(algorithm))
      return this.problem(
        s,
        `joind signs with hmac-sha256 or stronger, not ${algorithm || 'no algorithm'}: make a new key with tsig-keygen`,
      );
    if (this.keyFile !== null) return this.problem(s, 'joind signs with one key (ddns_key_file): only the first is carried over');
    this.keyFile = `key "${name}" {\n\talgorithm ${algorithm};\n\tsecret "${secret}";\n};\n`;
    this.pcy.set('ddns_key_file', 'ddns.key');
  }

  private zone(s: ConfStatement): void {
    const primary = s.block?.find((x) => keyword(x) === 'primary')?.words[1]?.text;
    if (!primary || parseIp(primary) === undefined)
      return this.problem(s, 'expected primary ADDRESS (joind looks up no names here)');
    this.zoneServers.add(primary);
    if (this.zoneServers.size > 1)
      return this.problem(s, 'joind sends every update to one server (ddns_server): zones with different primaries');
    this.pcy.set('ddns_server', primary);
  }
}

/** Translates a read dhcpd.conf; `owner` is the name or address nets gives as the owner of the ranges. */
export function importDhcpdConf(conf: DhcpdConf, owner: string): DhcpdConfImport {
  const importer = new Importer(owner);
  importer.run(conf.statements);
  const problems = [...conf.problems.map((p) => `${positionText(p)}: ${p.message}`), ...importer.problems];
  return { files: importer.files(), problems, notes: importer.notes };
}
