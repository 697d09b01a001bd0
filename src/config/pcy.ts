// server.pcy: one keyword per line, alone (a Boolean switched on) or followed by one value; `#` starts a
// comment anywhere; the last occurrence of a keyword wins; a missing file means every default.
// The original never showed how a default-on Boolean is switched off, so a Boolean also takes an
// explicit on|off|yes|no|true|false|1|0 (our documented choice, joind-spec.md section 2).

import * as fs from 'node:fs';
import type { Policy, ValueSource } from './types';
import type { FileProblems } from './problems';
import { fieldsOf, splitLines } from './lines';
import { NOT_IMPLEMENTED_KEYWORDS, keywordNotImplemented } from './effect';
import { isHostName } from './identity';
import { inetAddr } from './inetaddr';
import { ipToString } from '../util/ipv4';

type KeywordKind =
  | { kind: 'bool' }
  | { kind: 'uint'; min: number; max: number; unit: string }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'name' } // a host name (canonical_name)
  | { kind: 'listen' } // host:port or off (metrics_listen)
  | { kind: 'path' } // an absolute file name (control_token_file)
  | { kind: 'relationship' } // a failover relationship name (failover)
  | { kind: 'address' } // an IPv4 unicast address, kept as a dotted quad (failover_address, failover_peer_address)
  | { kind: 'server' } // an IPv4 unicast address with an optional :port, kept as "a.b.c.d:port" (ddns_server)
  | { kind: 'file' }; // a file name, absolute or relative to the configuration directory (ddns_key_file)

interface KeywordSpec {
  key: keyof Policy;
  type: KeywordKind;
}

const BOOL: KeywordKind = { kind: 'bool' };
const UINT32 = 0xffffffff;
// setTimeout takes at most 2^31-1 ms; ping_timeout is handed to it.
const MAX_TIMER_MS = 0x7fffffff;

function uint(min: number, max: number, unit: string): KeywordKind {
  return { kind: 'uint', min, max, unit };
}

/** The built-in values, used for every keyword the file does not set (types.ts documents each). */
export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  provisional_ttl: 60,
  free_list_size: 8,
  default_ttl: 86400,
  name_service: 'dns',
  name_service_updateable: false,
  assign_name_by_hwaddr: false,
  assign_name_by_ipaddr: true,
  accept_client_name: false,
  ignore_name_owner: false,
  support_bootp: true,
  dynamic_bootp: false,
  bp_auto_extension: 0,
  ping_timeout: 500,
  auto_reread: true,
  check_bootp_client_net: false,
  ping_bootp_clients: false,
  reply_to_relay_on_local_net: false,
  auto_release: false,
  auto_sync_dbs: true,
  dns_tracks_dhcp_lease: false,
  canonical_name: null,
  expand_bootp_packet: false,
  registered_clients_only: false,
  bootfile_not_sent_as_option: false,
  force_broadcast_reply: false,
  ignore_hardware_type: false,
  ignore_client_uids: false,
  listen_on_ppp: false,
  min_bootp_packet_size: 300,
  send_options_in_offer: true,
  transport: 'auto',
  metrics_listen: '127.0.0.1:9267',
  rate_limit_per_interface: 0,
  rate_limit_per_relay: 0,
  control_socket: true,
  control_listen: 'off',
  control_token_file: null,
  ddns_server: null,
  ddns_key_file: null,
  ddns_style: 'standard',
  // Failover: dhcpd 4.4.3's defaults (server/confpars.c parse_failover_peer, includes/failover.h).
  failover: null,
  failover_role: null,
  failover_address: null,
  failover_port: 647, // DEFAULT_FAILOVER_PORT, the IANA port
  failover_peer_address: null,
  failover_peer_port: 647,
  failover_max_response_delay: 20, // DEFAULT_MAX_RESPONSE_DELAY
  failover_max_unacked_updates: 100, // DEFAULT_MAX_FLYING_UPDATES
  failover_mclt: null, // no default: the primary must give it
  failover_split: null, // no default: the primary must give it (dhcpd: "must have hba or split")
  failover_load_balance_max_secs: 0, // never set by dhcpd unless written: 0, load balancing off
  failover_ack_wait: 500, // joind's own: dhcpd never waits (its first leases are MCLT long)
  failover_unacked_clients: 10, // joind's own (Kea's max-unacked-clients): partner-down on evidence
  failover_unacked_secs: 10, // joind's own: how long a client of the peer must have waited to count
  failover_auto_partner_down: 0, // dhcpd's auto-partner-down, off by default there too
  failover_start_alone: false, // joind's own: what the seed's `my state partner-down` edit did, once
} satisfies Policy);

/** The failover keywords other than `failover` itself: each needs `failover NAME`. */
export const FAILOVER_SETTINGS: readonly (keyof Policy)[] = Object.freeze([
  'failover_role',
  'failover_address',
  'failover_port',
  'failover_peer_address',
  'failover_peer_port',
  'failover_max_response_delay',
  'failover_max_unacked_updates',
  'failover_mclt',
  'failover_split',
  'failover_load_balance_max_secs',
  'failover_ack_wait',
  'failover_unacked_clients',
  'failover_unacked_secs',
  'failover_auto_partner_down',
  'failover_start_alone',
] satisfies (keyof Policy)[]);

/** Every spelling the file may use, keyword → the Policy field it sets (aliases included). */
export const POLICY_KEYWORDS: ReadonlyMap<string, KeywordSpec> = new Map<string, KeywordSpec>([
  ['provisional_ttl', { key: 'provisional_ttl', type: uint(1, UINT32, 'seconds') }],
  ['free_list_size', { key: 'free_list_size', type: uint(1, 1 << 20, 'address blocks') }],
  ['default_ttl', { key: 'default_ttl', type: uint(1, UINT32, 'seconds') }],
  ['name_service', { key: 'name_service', type: { kind: 'enum', values: ['dns', 'local', 'nis', 'nis+'] } }],
  ['name_service_updateable', { key: 'name_service_updateable', type: BOOL }],
  ['assign_name_by_hwaddr', { key: 'assign_name_by_hwaddr', type: BOOL }],
  ['assign_name_by_ipaddr', { key: 'assign_name_by_ipaddr', type: BOOL }],
  ['accept_client_name', { key: 'accept_client_name', type: BOOL }],
  ['ignore_name_owner', { key: 'ignore_name_owner', type: BOOL }],
  ['support_bootp', { key: 'support_bootp', type: BOOL }],
  ['dynamic_bootp', { key: 'dynamic_bootp', type: BOOL }],
  ['bootp_addr_from_pool', { key: 'dynamic_bootp', type: BOOL }],
  ['bp_auto_extension', { key: 'bp_auto_extension', type: uint(0, UINT32, 'seconds') }],
  ['ping_timeout', { key: 'ping_timeout', type: uint(0, MAX_TIMER_MS, 'milliseconds') }],
  ['auto_reread', { key: 'auto_reread', type: BOOL }],
  ['check_bootp_client_net', { key: 'check_bootp_client_net', type: BOOL }],
  ['ping_bootp_clients', { key: 'ping_bootp_clients', type: BOOL }],
  ['reply_to_relay_on_local_net', { key: 'reply_to_relay_on_local_net', type: BOOL }],
  ['auto_release', { key: 'auto_release', type: BOOL }],
  ['auto_sync_dbs', { key: 'auto_sync_dbs', type: BOOL }],
  ['dns_tracks_dhcp_lease', { key: 'dns_tracks_dhcp_lease', type: BOOL }],
  ['canonical_name', { key: 'canonical_name', type: { kind: 'name' } }],
  ['expand_bootp_packet', { key: 'expand_bootp_packet', type: BOOL }],
  ['registered_clients_only', { key: 'registered_clients_only', type: BOOL }],
  ['registered_hosts_only', { key: 'registered_clients_only', type: BOOL }],
  ['bootfile_not_sent_as_option', { key: 'bootfile_not_sent_as_option', type: BOOL }],
  ['force_broadcast_reply', { key: 'force_broadcast_reply', type: BOOL }],
  ['ignore_hardware_type', { key: 'ignore_hardware_type', type: BOOL }],
  ['ignore_client_uids', { key: 'ignore_client_uids', type: BOOL }],
  ['listen_on_ppp', { key: 'listen_on_ppp', type: BOOL }],
  // A BOOTP message is at least its 236-byte fixed header; 576 is the size every host must accept.
  ['min_bootp_packet_size', { key: 'min_bootp_packet_size', type: uint(0, 576, 'bytes') }],
  ['send_options_in_offer', { key: 'send_options_in_offer', type: BOOL }],
  ['transport', { key: 'transport', type: { kind: 'enum', values: ['raw', 'udp', 'auto'] } }],
  ['metrics_listen', { key: 'metrics_listen', type: { kind: 'listen' } }],
  ['rate_limit_per_interface', { key: 'rate_limit_per_interface', type: uint(0, 1_000_000_000, 'packets per second') }],
  ['rate_limit_per_relay', { key: 'rate_limit_per_relay', type: uint(0, 1_000_000_000, 'packets per second') }],
  ['control_socket', { key: 'control_socket', type: BOOL }],
  ['control_listen', { key: 'control_listen', type: { kind: 'listen' } }],
  ['control_token_file', { key: 'control_token_file', type: { kind: 'path' } }],
  ['ddns_server', { key: 'ddns_server', type: { kind: 'server' } }],
  ['ddns_key_file', { key: 'ddns_key_file', type: { kind: 'file' } }],
  ['ddns_style', { key: 'ddns_style', type: { kind: 'enum', values: ['standard', 'interim'] } }],
  ['failover', { key: 'failover', type: { kind: 'relationship' } }],
  ['failover_role', { key: 'failover_role', type: { kind: 'enum', values: ['primary', 'secondary'] } }],
  ['failover_address', { key: 'failover_address', type: { kind: 'address' } }],
  ['failover_port', { key: 'failover_port', type: uint(1, 65535, 'TCP port') }],
  ['failover_peer_address', { key: 'failover_peer_address', type: { kind: 'address' } }],
  ['failover_peer_port', { key: 'failover_peer_port', type: uint(1, 65535, 'TCP port') }],
  // 0 means "the default" to dhcpd, so it cannot be written there either; the link timer is a setTimeout.
  [
    'failover_max_response_delay',
    { key: 'failover_max_response_delay', type: uint(1, Math.floor(MAX_TIMER_MS / 1000), 'seconds') },
  ],
  // MAX_UNACKED and MCLT are 32-bit options of CONNECT; 0 is "not set" to dhcpd.
  ['failover_max_unacked_updates', { key: 'failover_max_unacked_updates', type: uint(1, UINT32, 'updates') }],
  ['failover_mclt', { key: 'failover_mclt', type: uint(1, UINT32, 'seconds') }],
  ['failover_split', { key: 'failover_split', type: uint(0, 256, 'hash buckets (of 256)') }],
  // A client's secs field is 16 bits: a larger value could never be exceeded.
  ['failover_load_balance_max_secs', { key: 'failover_load_balance_max_secs', type: uint(0, 65535, 'seconds') }],
  // A client waits for the ACK meanwhile: longer than its retransmission (4 s) would be worse than a short lease.
  ['failover_ack_wait', { key: 'failover_ack_wait', type: uint(0, 4000, 'milliseconds') }],
  ['failover_unacked_clients', { key: 'failover_unacked_clients', type: uint(0, 65535, 'clients') }],
  // Compared with a client's 16-bit secs field.
  ['failover_unacked_secs', { key: 'failover_unacked_secs', type: uint(0, 65535, 'seconds') }],
  ['failover_start_alone', { key: 'failover_start_alone', type: BOOL }],
  [
    'failover_auto_partner_down',
    { key: 'failover_auto_partner_down', type: uint(0, Math.floor(MAX_TIMER_MS / 1000), 'seconds') },
  ],
]);

const TRUE_WORDS = new Set(['on', 'yes', 'true', '1']);
const FALSE_WORDS = new Set(['off', 'no', 'false', '0']);

/** Where a keyword's effective value is written, and how it is spelled there. */
export interface KeywordPlace {
  line: number;
  column: number;
  word: string;
}

export interface PolicyResult {
  policy: Policy;
  sources: Record<keyof Policy, ValueSource>;
  /** The keywords the file sets (the last occurrence of each), for checks that need more than this file. */
  written: ReadonlyMap<keyof Policy, KeywordPlace>;
}

function defaultSources(): Record<keyof Policy, ValueSource> {
  const sources = {} as Record<keyof Policy, ValueSource>;
  for (const key of Object.keys(DEFAULT_POLICY) as Array<keyof Policy>) sources[key] = 'default';
  return sources;
}

/** What a keyword's value must look like, for error messages. */
function expectation(word: string, type: KeywordKind): string {
  switch (type.kind) {
    case 'bool':
      return `${word} alone (on) or followed by on|off|yes|no|true|false|1|0`;
    case 'uint':
      return `a whole number of ${type.unit} from ${type.min} to ${type.max}`;
    case 'enum':
      return `one of ${type.values.join(', ')}`;
    case 'name':
      return 'a host name';
    case 'listen':
      return 'host:port (for example 127.0.0.1:9267 or [::1]:9267), or off';
    case 'path':
      return 'an absolute file name';
    case 'relationship':
      return 'a relationship name of letters, digits, "-" and "_" that starts with a letter (at most 255 characters), like dhcp_fail';
    case 'address':
      return 'an IPv4 unicast address like 192.168.168.8';
    case 'server':
      return 'an IPv4 unicast address with an optional port, like 192.168.168.53 or 192.168.168.53:5353';
    case 'file':
      return 'a file name (relative to the configuration directory, or absolute)';
  }
}

const LISTEN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** The value a valued keyword's text stands for, or undefined when it does not fit. */
function parseValue(text: string, type: KeywordKind): Policy[keyof Policy] | undefined {
  switch (type.kind) {
    case 'bool': {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return undefined;
    }
    case 'uint': {
      if (!/^\d+$/.test(text)) return undefined;
      const value = text.length > 12 ? Number.POSITIVE_INFINITY : Number(text);
      return value >= type.min && value <= type.max ? value : undefined;
    }
    case 'enum': {
      const word = text.toLowerCase();
      return type.values.includes(word) ? word : undefined;
    }
    case 'name':
      return isHostName(text) ? text : undefined;
    case 'listen': {
      if (text.toLowerCase() === 'off') return 'off';
      const match = LISTEN.exec(text);
      return match && Number(match[1]) <= 65535 ? text : undefined;
    }
    case 'path':
      return /^\/\S*$/.test(text) ? text : undefined;
    case 'relationship':
      // What dhcpd reads as a name unquoted (letters, digits, - and _), beginning with a letter so that nets
      // never reads the name as an address or a range where it is an owner.
      return RELATIONSHIP_NAME.test(text) ? text : undefined;
    case 'address': {
      const parsed = inetAddr(text);
      return parsed.ok && isUnicast(parsed.value) ? ipToString(parsed.value) : undefined;
    }
    case 'server': {
      const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
      const parsed = match ? inetAddr(match[1]!) : undefined;
      const port = match?.[2] === undefined ? 53 : Number(match[2]);
      return parsed?.ok && isUnicast(parsed.value) && port >= 1 && port <= 65535
        ? `${ipToString(parsed.value)}:${port}`
        : undefined;
    }
    case 'file':
      return /^\S+$/.test(text) ? text : undefined;
  }
}

const RELATIONSHIP_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,254}$/;

/** Not 0.0.0.0, not the limited broadcast, not multicast (224/4) or reserved (240/4). */
function isUnicast(address: number): boolean {
  return address !== 0 && address >>> 28 < 14;
}

/** Parses server.pcy text. Problems go to `problems`; the result always holds a full policy. */
export function parsePolicy(text: string, problems: FileProblems): PolicyResult {
  const policy: Policy = { ...DEFAULT_POLICY };
  const sources = defaultSources();
  const setAt = new Map<keyof Policy, KeywordPlace>();
  const values = policy as unknown as Record<keyof Policy, Policy[keyof Policy]>;

  const lines = splitLines(text);
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const fields = fieldsOf(lines[index]!);
    if (fields.length === 0) continue;
    const keywordField = fields[0]!;
    const word = keywordField.text.toLowerCase();
    const spec = POLICY_KEYWORDS.get(word);
    if (!spec) {
      problems.warning(lineNo, keywordField.column, `unknown keyword "${keywordField.text}" ignored`);
      continue;
    }
    const valueField = fields[1];
    if (fields.length > 2) {
      const extra = fields[2]!;
      const count = spec.type.kind === 'bool' ? 'at most one value' : 'one value';
      problems.error(
        lineNo,
        extra.column,
        `unexpected "${extra.text}": ${word} takes ${count}; expected ${expectation(word, spec.type)}`,
      );
      continue;
    }
    let value: Policy[keyof Policy] | undefined;
    if (valueField === undefined) {
      if (spec.type.kind !== 'bool') {
        problems.error(
          lineNo,
          keywordField.column + keywordField.text.length,
          `${word} needs a value: expected ${expectation(word, spec.type)}`,
        );
        continue;
      }
      value = true;
    } else {
      value = parseValue(valueField.text, spec.type);
      if (value === undefined) {
        problems.error(
          lineNo,
          valueField.column,
          `"${valueField.text}" does not fit ${word}: expected ${expectation(word, spec.type)}`,
        );
        continue;
      }
    }
    const previous = setAt.get(spec.key);
    if (previous) {
      problems.warning(
        lineNo,
        keywordField.column,
        `${word} repeats ${previous.word} of line ${previous.line}; the last one wins`,
      );
    }
    values[spec.key] = value;
    sources[spec.key] = problems.source(lineNo);
    setAt.set(spec.key, { line: lineNo, column: keywordField.column, word });
  }

  checkCombinations(policy, sources, setAt, problems);
  checkFailover(policy, setAt, problems);
  checkNotImplemented(policy, setAt, problems);
  return { policy, sources, written: setAt };
}

/**
 * The failover keywords together, with the rules of dhcpd's parse_failover_peer (server/confpars.c) and
 * dhcpd.conf(5): a relationship needs a role and both addresses; the primary needs mclt and split, which a
 * secondary may not give (it learns them from the primary's CONNECT).
 */
function checkFailover(policy: Policy, setAt: ReadonlyMap<keyof Policy, KeywordPlace>, problems: FileProblems): void {
  const name = setAt.get('failover');
  if (policy.failover === null || name === undefined) {
    for (const key of FAILOVER_SETTINGS) {
      const at = setAt.get(key);
      if (at)
        problems.error(
          at.line,
          at.column,
          `${at.word} without failover: no failover relationship is configured; write "failover NAME" (the relationship name) or remove ${at.word}`,
        );
    }
    return;
  }
  const needs = (key: keyof Policy, why: string): void => {
    if (policy[key] === null) problems.error(name.line, name.column, `failover ${policy.failover} needs ${key} ${why}`);
  };
  needs('failover_role', '(primary or secondary)');
  needs('failover_address', "(this server's address on the failover link)");
  needs('failover_peer_address', '(the address of the peer server)');
  if (policy.failover_role === 'primary') {
    needs('failover_mclt', '(the primary gives the MCLT; dhcpd: "primary failover server must have mclt")');
    needs(
      'failover_split',
      '(the primary gives the load-balancing split; dhcpd: "primary failover server must have hba or split")',
    );
  } else if (policy.failover_role === 'secondary') {
    const mclt = setAt.get('failover_mclt');
    if (mclt && policy.failover_mclt !== null)
      problems.error(
        mclt.line,
        mclt.column,
        `${mclt.word} is for the primary only: a secondary learns the MCLT from the primary's CONNECT (dhcpd.conf(5): mclt "may not be specified on the secondary")`,
      );
    const split = setAt.get('failover_split');
    if (split && policy.failover_split !== null)
      problems.error(
        split.line,
        split.column,
        `${split.word} is for the primary only: a secondary takes the split from the primary's CONNECT (dhcpd: "secondary may not define load balance settings")`,
      );
  }
  const peer = setAt.get('failover_peer_address');
  const own = setAt.get('failover_address');
  if (peer && own && policy.failover_address !== null && policy.failover_address === policy.failover_peer_address)
    problems.error(
      peer.line,
      peer.column,
      `${peer.word} ${policy.failover_peer_address} is failover_address itself (line ${own.line}): the peer must be another server`,
    );
}

/** Keywords that are read but do nothing yet (effect.ts): one warning where the effective value is written. */
function checkNotImplemented(policy: Policy, setAt: Map<keyof Policy, KeywordPlace>, problems: FileProblems): void {
  for (const key of NOT_IMPLEMENTED_KEYWORDS.keys()) {
    const at = setAt.get(key);
    const message = at && keywordNotImplemented(key, at.word, policy[key], DEFAULT_POLICY[key]);
    if (at && message) problems.warning(at.line, at.column, message);
  }
}

/** Switches that only mean something together, and the one pair that excludes each other. */
function checkCombinations(
  policy: Policy,
  sources: Record<keyof Policy, ValueSource>,
  setAt: Map<keyof Policy, KeywordPlace>,
  problems: FileProblems,
): void {
  const byHw = setAt.get('assign_name_by_hwaddr');
  const byIp = setAt.get('assign_name_by_ipaddr');
  if (policy.assign_name_by_hwaddr && policy.assign_name_by_ipaddr) {
    if (byIp) {
      // Both written on: the operator asked for two naming policies that exclude each other.
      const later = byIp.line > byHw!.line ? byIp : byHw!;
      problems.error(
        later.line,
        later.column,
        `assign_name_by_hwaddr and assign_name_by_ipaddr exclude each other; switch one off`,
      );
    } else {
      // by-IP is only on by default: choosing by-hwaddr replaces it.
      policy.assign_name_by_ipaddr = false;
      sources.assign_name_by_ipaddr = sources.assign_name_by_hwaddr;
    }
  }
  const warnUnless = (key: keyof Policy, needed: boolean, why: string): void => {
    const at = setAt.get(key);
    // A keyword that does nothing yet gets that warning (checkNotImplemented) instead of this one.
    if (NOT_IMPLEMENTED_KEYWORDS.has(key)) return;
    if (at && policy[key] !== DEFAULT_POLICY[key] && !needed)
      problems.warning(at.line, at.column, `${at.word} has no effect ${why}`);
  };
  warnUnless('accept_client_name', policy.assign_name_by_hwaddr, 'without assign_name_by_hwaddr');
  warnUnless('ignore_name_owner', policy.accept_client_name, 'without accept_client_name');
  warnUnless('dynamic_bootp', policy.support_bootp, 'while support_bootp is off');
  warnUnless('bp_auto_extension', policy.dynamic_bootp, 'without dynamic_bootp (only pool-allocated BOOTP leases expire)');
  warnUnless('dns_tracks_dhcp_lease', policy.name_service_updateable, 'without name_service_updateable');
  for (const key of ['ddns_server', 'ddns_key_file', 'ddns_style'] as const)
    warnUnless(key, policy.name_service_updateable, 'without name_service_updateable');
  // Only BOOTP requests are answered under these; and a ping needs a ping_timeout.
  for (const key of ['check_bootp_client_net', 'ping_bootp_clients', 'expand_bootp_packet', 'min_bootp_packet_size'] as const)
    warnUnless(key, policy.support_bootp, 'while support_bootp is off');
  if (policy.support_bootp) warnUnless('ping_bootp_clients', policy.ping_timeout > 0, 'while ping_timeout is 0 (no ping)');
  warnUnless('control_token_file', policy.control_listen !== 'off', 'without control_listen');
  warnUnless(
    'control_listen',
    policy.control_token_file !== null,
    'without control_token_file: the TCP listener needs a token and stays off',
  );
}

/** Reads and parses a server.pcy file; a missing file gives all defaults and no problem. */
export function readPolicy(file: string, problems: FileProblems): PolicyResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') problems.error(0, 0, `cannot read the policy file: ${(err as Error).message}`);
    return { policy: { ...DEFAULT_POLICY }, sources: defaultSources(), written: new Map() };
  }
  return parsePolicy(text, problems);
}
