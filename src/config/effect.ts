// What a setting does once it is read. Two tables, each the one place of its kind:
//
// - NOT_IMPLEMENTED: server.pcy keywords and dhcpcap tags that are parsed and checked but do nothing
//   yet. Each warns where it is written (`joind --check`, and CONFIG_PROBLEM at start and at every
//   reload). Implementing one is deleting its row (and its line in docs/server.pcy.md or docs/dhcpcap.md).
// - RESTART_ONLY: server.pcy keywords that a reload (SIGHUP, auto_reread, `joind ctl reload`) reads but
//   cannot apply, because what they configure is opened once, at start. Everything else applies on reload.

import type { Config, Policy, TagValue } from './types';

/** A keyword or tag that is accepted but has no effect yet, and why. */
export type NotImplemented =
  | {
      /** Warns when the effective value differs from the built-in default (writing the default asks for nothing). */
      keyword: keyof Policy;
      reason: string;
    }
  | {
      tag: string;
      /** The values that have no effect, as the parser stores them; absent: every value. */
      values?: readonly string[];
      reason: string;
    };

export const NOT_IMPLEMENTED: readonly NotImplemented[] = Object.freeze([
  {
    keyword: 'name_service',
    reason:
      'names are always looked up through the system resolver (getaddrinfo/getnameinfo: /etc/hosts and DNS as nsswitch.conf orders them); only dns, the default, describes what happens',
  },
  {
    keyword: 'listen_on_ppp',
    reason:
      'the served interfaces are chosen without it: the raw transport serves interfaces that have an Ethernet address (or those named with -i), the udp transport hears every interface',
  },
  {
    tag: 'mm',
    reason: "a reply's size limit is the client's own option 57 (576 bytes without it); mm is neither sent nor used",
  },
  {
    tag: 'bs',
    values: ['auto'],
    reason: "the boot file's size is not worked out, so option 13 is left out; write the size in 512-byte blocks",
  },
]);

/** The server.pcy keywords of NOT_IMPLEMENTED, with their reasons. */
export const NOT_IMPLEMENTED_KEYWORDS: ReadonlyMap<keyof Policy, string> = new Map(
  NOT_IMPLEMENTED.flatMap((row) => ('keyword' in row ? [[row.keyword, row.reason] as const] : [])),
);

/**
 * The warning for a server.pcy keyword whose effective value has no effect, or undefined. `word` is the
 * keyword as written (an alias stays an alias); the value is named unless the keyword is a Boolean.
 */
export function keywordNotImplemented(
  key: keyof Policy,
  word: string,
  value: unknown,
  defaultValue: unknown,
): string | undefined {
  const reason = NOT_IMPLEMENTED_KEYWORDS.get(key);
  if (reason === undefined || value === defaultValue) return undefined;
  const what = typeof value === 'boolean' ? word : `${word} ${String(value)}`;
  return `${what} is accepted but has no effect yet: ${reason}`;
}

/** The warning for a dhcpcap tag value that has no effect, or undefined. `meaning` is the tag's description. */
export function tagNotImplemented(tag: string, meaning: string, value: TagValue): string | undefined {
  for (const row of NOT_IMPLEMENTED) {
    if (!('tag' in row) || row.tag !== tag) continue;
    if (row.values === undefined) return `${tag} (${meaning}) is accepted but has no effect yet: ${row.reason}`;
    if (typeof value === 'string' && row.values.includes(value))
      return `${tag}=${value} is accepted but has no effect yet: ${row.reason}`;
  }
  return undefined;
}

/** The server.pcy keywords that take effect only at start, and why (what is opened once). */
export const RESTART_ONLY: ReadonlyMap<keyof Policy, string> = new Map<keyof Policy, string>([
  ['transport', 'the packet sockets (raw or udp) are opened once, at start'],
  ['auto_sync_dbs', 'the lease database is opened once, at start, durable or not'],
  ['metrics_listen', 'the metrics listener is opened once, at start'],
  ['control_socket', 'the control socket is opened once, at start'],
  ['control_listen', 'the TCP control listener is opened once, at start'],
  ['control_token_file', 'the token file is read once, at start (a new token in the same file needs a restart too)'],
  ['failover', 'the failover relationship, its link and its state are set up once, at start'],
  ['failover_role', 'the failover relationship is set up once, at start'],
  ['failover_address', 'the failover link is set up once, at start'],
  ['failover_port', 'the failover listener is opened once, at start'],
  ['failover_peer_address', 'the failover link is set up once, at start'],
  ['failover_peer_port', 'the failover link is set up once, at start'],
  ['failover_max_response_delay', 'it is sent to the peer in CONNECT, once, when the link is set up at start'],
  ['failover_max_unacked_updates', 'it is sent to the peer in CONNECT, once, when the link is set up at start'],
  ['failover_mclt', 'it is sent to the peer in CONNECT, once, when the link is set up at start'],
  ['failover_split', 'the hash bucket assignment is sent to the peer in CONNECT, once, when the link is set up at start'],
  ['failover_load_balance_max_secs', 'the failover relationship is set up once, at start'],
  ['failover_ack_wait', 'the failover relationship is set up once, at start'],
  ['failover_unacked_clients', 'the failover relationship is set up once, at start'],
  ['failover_unacked_secs', 'the failover relationship is set up once, at start'],
  ['failover_auto_partner_down', 'the failover relationship is set up once, at start'],
  ['failover_start_alone', 'it is read once, at start, and only by a store that was never in the relationship'],
]);

/**
 * The restart-only keywords whose effective value differs between the running configuration and the
 * one just read, in RESTART_ONLY order. Pure.
 */
export function settingsNeedingRestart(running: Config, next: Config): string[] {
  const changed: string[] = [];
  for (const key of RESTART_ONLY.keys()) if (running.policy[key] !== next.policy[key]) changed.push(key);
  return changed;
}

/** One restart-only setting a reload read but did not apply: the fields of its CONFIG_NEEDS_RESTART line. */
export interface RestartNotice {
  keyword: string;
  /** The value in force (since start). */
  running: unknown;
  /** The value the files now give, and where. */
  configured: unknown;
  source: string;
}

/**
 * For a reload: the notices of the restart-only settings that changed, and the configuration to put in
 * force, which is `next` with the running values of those settings kept (they are what is really in
 * force), so that a later reload compares against them again and a value changed back needs nothing.
 */
export function applyOnReload(running: Config, next: Config): { config: Config; notices: RestartNotice[] } {
  const changed = settingsNeedingRestart(running, next) as Array<keyof Policy>;
  if (changed.length === 0) return { config: next, notices: [] };
  const policy: Record<string, unknown> = { ...next.policy };
  const sources: Record<string, string> = { ...next.policySources };
  const notices: RestartNotice[] = [];
  for (const key of changed) {
    notices.push({ keyword: key, running: running.policy[key], configured: next.policy[key], source: next.policySources[key] });
    policy[key] = running.policy[key];
    sources[key] = running.policySources[key];
  }
  const config: Config = {
    ...next,
    policy: Object.freeze(policy) as unknown as Policy,
    policySources: Object.freeze(sources),
  };
  return { config: Object.freeze(config), notices };
}
