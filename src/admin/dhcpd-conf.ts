// `joind export --format dhcpd-conf`: a joind configuration as an ISC dhcpd.conf, the inverse of
// `joind import --format dhcpd-conf` for what joind can express (docs/joind-export.md). Tools that read
// dhcpd.conf with dhcpd.leases (dhcpd-pools) see joind's pools; a dhcpd failover peer can be configured
// from the same files; a site can go back. Pure.
//
// How joind's files become dhcpd's scopes: server.pcy is global statements (lease time, ping, DNS,
// failover peer); a dhcpcap entry of no scope is global parameters; a class entry (ct, uc, ca, ci, ri)
// is a `class` with `match if`; a network's own entry is its `subnet` (in a `shared-network` when it
// has sh=); its ranges are `range`s, the failover relationship's and each range entry's in a `pool`
// (with the range entry's permits); a client entry is a `host`. Templates are already merged into the
// entries that include them. What dhcpd cannot say as joind does is written as a comment "# joind: …".
import * as path from 'node:path';
import { OPTIONS, encodeOptionValue, encodeVendorSubOptions } from '../codec';
import { hasClass, isRangeEntry } from '../config/lookup';
import { tagSpecOf } from '../config/tags';
import { DHCPD_NAMES } from './dhcpd-options';
import type { CapEntry, Config, NetworkConfig, OurRange, Policy, RangeRule, TagValue } from '../config/types';
import { hexColons, ipToString } from '../util/ipv4';

/** Declarations for codes dhcpd does not know, with the names joind import reads back. */
const DECLARED_NAMES: ReadonlyMap<number, string> = new Map([
  [121, 'rfc3442-classless-static-routes'],
  [150, 'tftp-server-address'],
  [252, 'wpad'],
]);

/** dhcpd's declaration type for a codec value type. */
const DECLARED_TYPES: Readonly<Record<string, string>> = {
  ip: 'ip-address',
  'ip-list': 'array of ip-address',
  'ip-pairs': 'array of { ip-address, ip-address }',
  u8: 'unsigned integer 8',
  u16: 'unsigned integer 16',
  u32: 'unsigned integer 32',
  i32: 'signed integer 32',
  'u8-list': 'array of unsigned integer 8',
  'u16-list': 'array of unsigned integer 16',
  bool: 'boolean',
  string: 'text',
  'domain-list': 'domain-list',
  // RFC 3442's bytes: the form dhcpd users declare it in (and joind import reads).
  'classless-routes': 'array of unsigned integer 8',
};

/** Tags written as statements of their own (or nowhere), not as `option` lines. */
const NOT_OPTIONS = new Set(['lt', 'ln', 'lx', 'ho', 'hn', 'bf', 'sn', 'sa', 'sv', 'ip', 'kn', 'sh', 'fo', 'hd', 'mm', 'ov']);

/** A dhcpd string literal, or undefined for a text dhcpd could not read back as it is. */
function quoted(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) return undefined;
  return `"${text.replace(/(["\\])/g, '\\$1')}"`;
}

/** Bytes as dhcpd writes them: a quoted text when printable, else colon-separated hex. */
function bytesValue(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  return /^[\x20-\x7e]+$/.test(text) && !/["\\]/.test(text) ? `"${text}"` : hexColons(bytes);
}

function rangeLine(r: { start: number; end: number }, dynamicBootp: boolean): string {
  return `range ${dynamicBootp ? 'dynamic-bootp ' : ''}${ipToString(r.start)} ${ipToString(r.end)};`;
}

/** dhcpd's `failover peer` statement for the relationship of server.pcy, as dhcpd 4.4 reads it. */
function failoverPeer(policy: Policy, name: string): string[] {
  const lines = [
    `failover peer "${name}" {`,
    `  ${policy.failover_role};`,
    `  address ${policy.failover_address};`,
    `  port ${policy.failover_port};`,
    `  peer address ${policy.failover_peer_address};`,
    `  peer port ${policy.failover_peer_port};`,
    `  max-response-delay ${policy.failover_max_response_delay};`,
    `  max-unacked-updates ${policy.failover_max_unacked_updates};`,
    `  load balance max seconds ${policy.failover_load_balance_max_secs};`,
  ];
  // dhcpd: the primary must have both; a secondary may not have a split (and learns the mclt from CONNECT).
  if (policy.failover_role === 'primary') lines.push(`  mclt ${policy.failover_mclt};`, `  split ${policy.failover_split};`);
  // joind's partner-down on evidence has no dhcpd counterpart; its blind timer has.
  if (policy.failover_auto_partner_down > 0) lines.push(`  auto-partner-down ${policy.failover_auto_partner_down};`);
  lines.push('}');
  return lines;
}

class Exporter {
  /** `option NAME code N = TYPE;` lines for the codes dhcpd does not know, by code. */
  private readonly declarations = new Map<number, string>();

  constructor(private readonly config: Config) {}

  text(): string {
    const config = this.config;
    const policy = config.policy;
    const entries = config.dhcpcap.entries.filter((e) => !e.template);
    const body: string[] = [];
    body.push(...this.globals(entries.filter((e) => isSiteEntry(e))));
    const classes = entries.filter((e) => !isRangeEntry(e) && hasClass(e.scope) && !isPortBinding(e));
    for (const entry of classes) body.push('', ...this.classBlock(entry));
    body.push('');
    const shared = new Set<NetworkConfig>();
    for (const net of config.networks) {
      if (shared.has(net)) continue;
      const group = config.sharedNetworks.get(net.address);
      if (!group) {
        body.push(...this.subnet(net, entries, ''));
        continue;
      }
      for (const member of group) shared.add(member);
      body.push(`shared-network ${quotedName(this.sharedName(net, entries))} {`);
      for (const member of group) body.push(...this.subnet(member, entries, '  '));
      body.push('}');
    }
    const hosts = entries.filter((e) => !isRangeEntry(e) && (e.scope.hardware || e.scope.clientId || isPortBinding(e)));
    for (const entry of hosts) body.push(...this.host(entry));
    const head = [
      '# A joind configuration (server.pcy, nets, netmasks, dhcpcap) in the form of dhcpd.conf(5), written by',
      '# joind export. What dhcpd cannot say as joind does is a comment "# joind: …".',
      `default-lease-time ${policy.default_ttl};`,
      // joind answers a request it cannot grant with a DHCPNAK, which dhcpd does only when authoritative.
      'authoritative;',
      ...this.serverStatements(policy),
      ...[...this.declarations.values()],
    ];
    if (policy.failover !== null) head.push('', ...failoverPeer(policy, policy.failover));
    return `${[...head, '', ...body].join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
  }

  /** server.pcy's keywords that dhcpd has as global statements. */
  private serverStatements(policy: Policy): string[] {
    const lines: string[] = [];
    if (policy.ping_timeout === 0) lines.push('ping-check false;');
    else lines.push('ping-check true;', `ping-timeout ${Math.max(1, Math.ceil(policy.ping_timeout / 1000))};`);
    if (policy.ignore_client_uids) lines.push('ignore-client-uids true;');
    if (policy.auto_release) lines.push('one-lease-per-client true;');
    if (!policy.support_bootp) lines.push('deny bootp;');
    if (!policy.name_service_updateable) {
      // joind updates no DNS; dhcpd 4.4's default too, written so that a failover peer does not differ.
      lines.push('ddns-update-style none;');
      return lines;
    }
    lines.push('ddns-updates on;', `ddns-update-style ${policy.ddns_style};`);
    const key = this.config.ddnsKey;
    if (key) {
      lines.push(`key "${key.name}" {`, `  algorithm ${key.algorithm};`, `  secret "${key.secret.toString('base64')}";`, '}');
    }
    const server = policy.ddns_server?.split(':')[0];
    if (server) {
      // joind finds each zone from its SOA; dhcpd sends to the primary a zone statement names.
      const domains = new Set<string>();
      for (const entry of this.config.dhcpcap.entries) {
        const dn = entry.tags.get('dn');
        if (typeof dn === 'string') domains.add(dn.replace(/\.$/, ''));
      }
      for (const domain of domains) {
        lines.push(`zone ${domain}. {`, `  primary ${server};`, ...(key ? [`  key "${key.name}";`] : []), '}');
      }
      lines.push('# joind: reverse zones are found from their SOA; write a zone statement for each one dhcpd must update.');
    }
    return lines;
  }

  /** The global parameters: dhcpcap entries of no scope. */
  private globals(entries: readonly CapEntry[]): string[] {
    return entries.flatMap((entry) => this.parameters(entry.tags, ''));
  }

  private classBlock(entry: CapEntry): string[] {
    const conditions = this.conditions(entry);
    const lines = [`class ${quotedName(className(entry.label))} {`];
    if (conditions.length > 0) lines.push(`  match if ${conditions.join(' and ')};`);
    if (entry.scope.network !== undefined)
      lines.push(`  # joind: applies on network ${ipToString(entry.scope.network)} only; dhcpd's classes apply everywhere`);
    lines.push(...this.parameters(entry.tags, '  '), '}');
    return lines;
  }

  /** The `match if` tests of a class entry's conditions (all must hold). */
  private conditions(entry: CapEntry): string[] {
    const { vendorClass, userClass, architectures, circuitId, remoteId } = entry.scope;
    const tests: string[] = [];
    if (vendorClass !== undefined) {
      const prefix = vendorClass.endsWith('*') ? vendorClass.slice(0, -1) : undefined;
      tests.push(
        prefix !== undefined
          ? `substring(option vendor-class-identifier, 0, ${prefix.length}) = ${quoted(prefix) ?? '""'}`
          : `option vendor-class-identifier = ${quoted(vendorClass) ?? '""'}`,
      );
    }
    if (userClass !== undefined) tests.push(`option user-class = ${bytesValue(userClass)}`);
    if (architectures !== undefined) {
      const each = architectures.map((a) => `option pxe-system-type = ${hexColons(Buffer.from([a >> 8, a & 0xff]))}`);
      tests.push(each.length === 1 ? each[0]! : `(${each.join(' or ')})`);
    }
    if (circuitId !== undefined) tests.push(`option agent.circuit-id = ${bytesValue(circuitId)}`);
    if (remoteId !== undefined) tests.push(`option agent.remote-id = ${bytesValue(remoteId)}`);
    return tests;
  }

  private sharedName(net: NetworkConfig, entries: readonly CapEntry[]): string {
    const own = entries.find((e) => e.scope.network === net.address && typeof e.tags.get('sh') === 'string');
    return (own?.tags.get('sh') as string | undefined) ?? `shared-${ipToString(net.address)}`;
  }

  private subnet(net: NetworkConfig, entries: readonly CapEntry[], indent: string): string[] {
    const inner = `${indent}  `;
    const lines = [`${indent}subnet ${ipToString(net.address)} netmask ${ipToString(net.mask)} {`];
    const own = entries.filter((e) => isNetworkEntry(e) && e.scope.network === net.address);
    for (const entry of own) lines.push(...this.parameters(entry.tags, inner));
    const dynamicBootp = this.config.policy.dynamic_bootp;
    // Ranges of this server alone and open to every client; the others in pools.
    const pools = new Map<string, { failover: string | undefined; rule: RangeRule | undefined; ranges: OurRange[] }>();
    for (const r of net.ourRanges) {
      if (r.failover === undefined && r.rule === undefined) {
        lines.push(`${inner}${rangeLine(r, dynamicBootp)}`);
        continue;
      }
      const key = `${r.failover ?? ''}\n${r.rule?.label ?? ''}`;
      const pool = pools.get(key) ?? { failover: r.failover, rule: r.rule, ranges: [] };
      pool.ranges.push(r);
      pools.set(key, pool);
    }
    for (const pool of pools.values()) {
      lines.push(`${inner}pool {`);
      if (pool.failover !== undefined)
        lines.push(`${inner}  failover peer "${pool.failover}";`, `${inner}  deny dynamic bootp clients;`);
      if (pool.rule) lines.push(...permits(pool.rule, pool.failover !== undefined).map((p) => `${inner}  ${p}`));
      const bootp = dynamicBootp && pool.failover === undefined && !pool.rule?.noDynamicBootp;
      for (const r of pool.ranges) lines.push(`${inner}  ${rangeLine(r, bootp)}`);
      lines.push(`${inner}}`);
    }
    // Another server's ranges are not this dhcpd's to give; said, so that an export run on a host that
    // nets does not name as the owner is not silently empty.
    for (const owner of net.owners)
      for (const r of owner.ours ? [] : owner.ranges)
        lines.push(
          `${inner}# joind: ${ipToString(r.start)}-${ipToString(r.end)} is ${owner.owner}'s (${path.basename(owner.source)}), not this host's`,
        );
    lines.push(`${indent}}`);
    return lines;
  }

  private host(entry: CapEntry): string[] {
    const lines = [`host ${hostName(entry.label)} {`];
    const { hardware, clientId, network, circuitId, remoteId } = entry.scope;
    if (hardware) {
      const kind = hardware.htype === 1 ? 'ethernet' : hardware.htype === 6 ? 'token-ring' : undefined;
      if (kind) lines.push(`  hardware ${kind} ${hexColons(hardware.address)};`);
      else lines.push(`  # joind: hardware type ${hardware.htype} ${hexColons(hardware.address)} has no dhcpd form`);
    }
    if (clientId) lines.push(`  option dhcp-client-identifier ${bytesValue(clientId)};`);
    if (!hardware && !clientId) {
      // A relay port binding (ip with ci or ri).
      if (circuitId) lines.push(`  host-identifier option agent.circuit-id ${bytesValue(circuitId)};`);
      else if (remoteId) lines.push(`  host-identifier option agent.remote-id ${bytesValue(remoteId)};`);
    } else if (hasClass(entry.scope)) {
      lines.push(`  # joind: applies only to ${this.conditions(entry).join(' and ')}; a dhcpd host applies always`);
    }
    const ip = entry.tags.get('ip');
    if (typeof ip === 'number') lines.push(`  fixed-address ${ipToString(ip)};`);
    else if (network !== undefined) lines.push(`  # joind: applies on network ${ipToString(network)} only`);
    lines.push(...this.parameters(entry.tags, '  '), '}');
    return lines;
  }

  /** An entry's parameters as dhcpd statements and options, at `indent`. */
  private parameters(tags: ReadonlyMap<string, TagValue>, indent: string): string[] {
    const lines: string[] = [];
    const say = (line: string): void => void lines.push(`${indent}${line}`);
    const lt = tags.get('lt');
    if (typeof lt === 'number') say(`default-lease-time ${lt};`);
    const lx = tags.get('lx');
    if (typeof lx === 'number') say(`max-lease-time ${lx};`);
    const ln = tags.get('ln');
    if (typeof ln === 'number') say(`min-lease-time ${ln};`);
    const sa = tags.get('sa');
    if (typeof sa === 'number') say(`next-server ${ipToString(sa)};`);
    for (const [tag, statement] of [
      ['bf', 'filename'],
      ['sn', 'server-name'],
    ] as const) {
      const value = tags.get(tag);
      if (typeof value !== 'string') continue;
      const text = quoted(value);
      say(text ? `${statement} ${text};` : `# joind: ${tag} holds a control character dhcpd cannot read`);
    }
    const sv = tags.get('sv');
    if (typeof sv === 'number') say(`server-identifier ${ipToString(sv)};`);
    const ho = tags.get('ho');
    if (typeof ho === 'string') {
      const text = quoted(ho);
      if (!text) say('# joind: ho holds a control character dhcpd cannot read');
      else if (tags.get('hn') === true) say(`option host-name ${text};`);
      else say(`ddns-hostname ${text};`);
    }
    const fo = tags.get('fo');
    if (Array.isArray(fo) && fo.length > 0) {
      const codes = (fo as number[]).map((c) => c.toString(16).padStart(2, '0')).join(', ');
      say(`option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, ${codes});`);
    }
    if (tags.get('kn') === true) say('deny unknown-clients;');
    if (typeof tags.get('hd') === 'string') say('# joind: hd (home directory before bf) has no dhcpd form');
    const subs: Array<[number, Buffer]> = [];
    for (const [tag, value] of tags) {
      const spec = tagSpecOf(tag);
      if (!spec || spec.option === undefined || spec.place === 'scope' || NOT_OPTIONS.has(tag)) continue;
      if (value === 'auto') {
        say(`# joind: ${tag}=auto (${spec.meaning}) is worked out per reply; dhcpd has no such value`);
        continue;
      }
      if (spec.suboption !== undefined) subs.push([spec.suboption, value as Buffer]);
      else say(this.option(spec.option, value));
    }
    if (subs.length > 0 && !tags.has('vs') && !tags.has('T43')) say(this.option(43, encodeVendorSubOptions(subs)));
    return lines;
  }

  /** `option NAME VALUE;` for a configured value, declaring the code first when dhcpd does not know it. */
  private option(code: number, value: TagValue): string {
    const type = OPTIONS.get(code)?.type ?? 'bytes';
    const name = DHCPD_NAMES.get(code) ?? this.declare(code, type);
    return `option ${name} ${this.optionValue(code, type, value)};`;
  }

  private declare(code: number, type: string): string {
    const name = DECLARED_NAMES.get(code) ?? `joind-option-${code}`;
    if (!this.declarations.has(code))
      this.declarations.set(code, `option ${name} code ${code} = ${DECLARED_TYPES[type] ?? 'string'};`);
    return name;
  }

  private optionValue(code: number, type: string, value: TagValue): string {
    switch (type) {
      case 'ip':
        return ipToString(value as number);
      case 'ip-list':
        return (value as number[]).map(ipToString).join(', ');
      case 'ip-pairs':
        return (value as Array<[number, number]>).map(([a, b]) => `${ipToString(a)} ${ipToString(b)}`).join(', ');
      case 'u8':
      case 'u16':
      case 'u32':
      case 'i32':
        return (value as number).toString();
      case 'u8-list':
      case 'u16-list':
        return (value as number[]).join(', ');
      case 'bool':
        return value === true ? 'true' : 'false';
      case 'string':
        return quoted(value as string) ?? hexColons(Buffer.from(value as string, 'latin1'));
      case 'domain-list':
        return (value as string[]).map((d) => `"${d}"`).join(', ');
      case 'classless-routes':
        return [...encodeOptionValue(code, value)].join(', ');
      default:
        return hexColons(Buffer.isBuffer(value) ? value : encodeOptionValue(code, value));
    }
  }
}

/** A class or shared-network name, quoted. */
function quotedName(name: string): string {
  return `"${name.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The dhcpd class of a class entry: its label, without the `class-` joind import puts before a class's
 * name, so that a configuration imported, exported and imported again keeps its labels.
 */
function className(label: string): string {
  return label.startsWith('class-') && label.length > 6 ? label.slice(6) : label;
}

/** A host declaration's name: dhcpd reads dotted identifiers only, so other characters become '-'. */
function hostName(label: string): string {
  const name = label.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+|[.-]+$/g, '');
  return name === '' ? 'host' : name;
}

/** A range entry's permits as dhcpd's pool statements (a failover pool denies dynamic BOOTP already). */
function permits(rule: RangeRule, paired: boolean): string[] {
  const lines: string[] = [];
  if (rule.knownOnly) lines.push('deny unknown-clients;');
  if (rule.unknownOnly) lines.push('deny known-clients;');
  if (rule.noDynamicBootp && !paired) lines.push('deny dynamic bootp clients;');
  for (const label of rule.allowMembers) lines.push(`allow members of ${quotedName(className(label))};`);
  for (const label of rule.denyMembers) lines.push(`deny members of ${quotedName(className(label))};`);
  return lines;
}

function isSiteEntry(entry: CapEntry): boolean {
  const s = entry.scope;
  return !isRangeEntry(entry) && s.network === undefined && !s.hardware && !s.clientId && !hasClass(s);
}

function isNetworkEntry(entry: CapEntry): boolean {
  const s = entry.scope;
  return !isRangeEntry(entry) && s.network !== undefined && !s.hardware && !s.clientId && !hasClass(s);
}

/** A class entry with an address: an address bound to a relay port (dhcpd: a host by host-identifier). */
function isPortBinding(entry: CapEntry): boolean {
  return typeof entry.tags.get('ip') === 'number' && !entry.scope.hardware && !entry.scope.clientId;
}

export function formatDhcpdConf(config: Config): string {
  return new Exporter(config).text();
}
