// Deciding whether an owner named in nets or namepool is this server. The original recognised itself
// by its canonical host name or by an address that maps to it; we accept the host name (short name and
// FQDN match each other both ways), any address of our interfaces, or a name that /etc/hosts maps to
// one of those addresses. No DNS at load: a load must not hang on a resolver.

import * as fs from 'node:fs';
import type { SelfIdentity } from './types';
import { parseInetAddr } from './inetaddr';
import { parseIp } from '../util/ipv4';

/** /etc/hosts as lower-case name → IPv4 addresses (aliases included). */
export type HostsTable = ReadonlyMap<string, readonly number[]>;

/** Parses hosts(5) text, keeping IPv4 lines only. */
export function parseHosts(text: string): HostsTable {
  const table = new Map<string, number[]>();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const fields = (hash >= 0 ? raw.slice(0, hash) : raw).trim().split(/\s+/);
    if (fields.length < 2) continue;
    const address = parseIp(fields[0]!);
    if (address === undefined) continue;
    for (let i = 1; i < fields.length; i++) {
      const name = fields[i]!.toLowerCase();
      const list = table.get(name);
      if (list) list.push(address);
      else table.set(name, [address]);
    }
  }
  return table;
}

/** Reads a hosts file synchronously; a missing or unreadable file is an empty table. */
export function readHosts(file = '/etc/hosts'): HostsTable {
  try {
    return parseHosts(fs.readFileSync(file, 'utf8'));
  } catch {
    return new Map();
  }
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Whether the text is a host name (RFC 1123 labels: letters, digits and inner hyphens; no underscore). */
export function isHostName(text: string): boolean {
  return HOST_NAME.test(text);
}

function stripDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** Whether two host names name the same host: equal, or one is short and equals the other's first label. */
export function sameHostName(a: string, b: string): boolean {
  const x = stripDot(a.toLowerCase());
  const y = stripDot(b.toLowerCase());
  if (x === y) return true;
  if (x.includes('.') && y.includes('.')) return false;
  return x.split('.')[0] === y.split('.')[0];
}

/** Answers "is this owner us?" for one load. */
export class SelfMatcher {
  private readonly addresses: ReadonlySet<number>;

  constructor(
    readonly self: SelfIdentity,
    private readonly hosts: HostsTable,
  ) {
    this.addresses = new Set(self.addresses);
  }

  isSelf(owner: string): boolean {
    const address = parseInetAddr(owner);
    if (address !== undefined) return this.addresses.has(address);
    if (sameHostName(owner, this.self.hostname)) return true;
    const mapped = this.hosts.get(stripDot(owner.toLowerCase()));
    return mapped !== undefined && mapped.some((a) => this.addresses.has(a));
  }

  /** Whether the hosts file names this host (ours or another). */
  inHosts(name: string): boolean {
    return this.hosts.has(stripDot(name.toLowerCase()));
  }
}
