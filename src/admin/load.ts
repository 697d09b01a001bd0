// `joind load` (jdbmod): checks parsed records against the store and applies them. Both the command
// (server not running: its own short transaction) and the control API (server running: inside the
// server's own batch, on its event loop) call applyLoad, so the rules are one.
//
// Lease records are written through a LeaseOwner (src/alloc/lease-owner.ts), the one writer of lease
// state: the running server's own when it runs (through the control API, so its pools learn of every
// change at once), a pool-less one of the command's when it does not (docs/joind-load.md).
import { sameClient } from '../alloc/client-key';
import type { LeaseOwner } from '../alloc/lease-owner';
import { holdsAddress } from '../alloc/pool';
import { inRanges } from '../alloc/ranges';
import { findNetwork } from '../config/lookup';
import type { Config } from '../config/types';
import type { Store } from '../store/store';
import { type ClientKey, type DnsRecordState, LeaseRecord, LeaseState, NameBinding } from '../store/types';
import { ipToString, parseIp } from '../util/ipv4';
import type { ParsedRecord, RecordProblem } from './records';

export interface LoadOptions {
  /** -d: delete the keyed records instead of loading them. */
  delete: boolean;
  /** -e: also load leases that have already ended. */
  expired: boolean;
  /** -i: allow taking an address that another client still holds. */
  takeBound: boolean;
  /** -l / -n: leases only, names only (default both). */
  leases: boolean;
  names: boolean;
  /** -o: only records in ranges this server owns (needs the networks). */
  ownedOnly: boolean;
  /** -w: overwrite a record the client already has. */
  overwrite: boolean;
}

/** What the networks of the configuration tell the load: a record's network, and whether we own it. */
export interface NetworkLookup {
  networkOf(address: number): number | undefined;
  owned(address: number): boolean;
  /** In a failover range of ours (nets names a relationship as the range's owner). */
  paired(address: number): boolean;
}

/** The lookup over a configuration's networks. */
export function networkLookupOf(config: Config): NetworkLookup {
  return {
    networkOf: (address) => findNetwork(config.networks, address)?.address,
    owned: (address) => {
      const net = findNetwork(config.networks, address);
      return !!net && inRanges(net.ourRanges, address);
    },
    paired: (address) => {
      const net = findNetwork(config.networks, address);
      return (
        !!net &&
        inRanges(
          net.ourRanges.filter((r) => r.failover !== undefined),
          address,
        )
      );
    },
  };
}

export interface LoadResult {
  ok: boolean;
  problems: RecordProblem[];
  loaded: number;
  deleted: number;
  skipped: Array<{ line: number; why: string }>;
  /** Imported leases whose DNS records (what dhcpd wrote) were kept, when any were given. */
  dnsKept?: number;
}

/**
 * What another server wrote to DNS for leases now loaded (dhcpd's `set ddns-…`), kept as if joind had
 * written it: when such a lease ends, joind removes those records with their guard. Only where the
 * store's lease of the address is the given client's; a record joind has already stays unless
 * `overwrite`. Inside the load's transaction. Returns how many were kept.
 */
export function keepDnsRecords(
  store: Store,
  entries: ReadonlyArray<{ client: ClientKey | null; dns: DnsRecordState }>,
  overwrite: boolean,
): number {
  let kept = 0;
  for (const { client, dns } of entries) {
    if (!client) continue;
    const now = store.leases.get(dns.address);
    if (!now || !sameClient(now.client, client)) continue;
    if (store.ddns.record(dns.address) && !overwrite) continue;
    store.ddns.putRecord(dns);
    kept++;
  }
  return kept;
}

/**
 * Checks every record, and applies them only when none has a problem (a bad file loses nothing). Must
 * run inside one store transaction, so that what is checked is what is changed.
 */
export function applyLoad(
  store: Store,
  leases: LeaseOwner,
  records: ParsedRecord[],
  opts: LoadOptions,
  nets: NetworkLookup | null,
  nowSec: number,
): LoadResult {
  const result: LoadResult = { ok: true, problems: [], loaded: 0, deleted: 0, skipped: [] };
  const actions: Array<() => void> = [];
  for (const rec of records) {
    if (rec.kind === 'name') {
      if (!opts.names) continue;
      planName(store, rec.line, rec.name, opts, result, actions);
    } else {
      if (!opts.leases) continue;
      planLease(store, leases, rec.line, rec.lease, opts, nets, nowSec, result, actions);
    }
  }
  if (result.problems.length > 0) {
    result.ok = false;
    result.loaded = 0;
    result.deleted = 0;
    return result;
  }
  for (const act of actions) act();
  return result;
}

function planLease(
  store: Store,
  leases: LeaseOwner,
  line: number,
  lease: LeaseRecord,
  opts: LoadOptions,
  nets: NetworkLookup | null,
  nowSec: number,
  result: LoadResult,
  actions: Array<() => void>,
): void {
  const where = ipToString(lease.address);
  if (opts.ownedOnly && nets && !nets.owned(lease.address)) {
    result.skipped.push({ line, why: `${where} is not in a range this server owns` });
    return;
  }
  if (opts.delete) {
    if (!store.leases.get(lease.address)) {
      result.skipped.push({ line, why: `${where} has no record` });
      return;
    }
    actions.push(() => {
      if (leases.delete(lease.address)) result.deleted++;
    });
    return;
  }
  if (!opts.expired && lease.ends !== null && lease.ends <= nowSec) {
    result.skipped.push({ line, why: `${where}: the lease has ended (load it anyway with -e)` });
    return;
  }
  let network = lease.network;
  if (nets) {
    const found = nets.networkOf(lease.address);
    if (found === undefined) {
      result.problems.push({ line, message: `${where} is in no network of nets` });
      return;
    }
    if (network !== 0 && network !== found) {
      result.problems.push({
        line,
        message: `${where} is on network ${ipToString(found)}, the record says ${ipToString(network)}`,
      });
      return;
    }
    network = found;
  } else if (network === 0) {
    result.problems.push({ line, message: `${where}: the record names no network and no configuration was read to find it` });
    return;
  }
  const record: LeaseRecord = { ...lease, network };
  // A failover range has a record for every address: one nobody holds (free or backup) is no conflict.
  const stored = store.leases.get(record.address);
  const unused = stored && stored.client === null && (stored.state === LeaseState.FREE || stored.state === LeaseState.BACKUP);
  const existing = unused ? undefined : stored;
  if (existing) {
    const same = record.client === null ? existing.client === null : sameClient(existing.client, record.client);
    if (same && !opts.overwrite) {
      result.problems.push({ line, message: `${where} already has a record for this client (overwrite it with -w)` });
      return;
    }
    if (!same && holdsAddress(existing, nowSec) && !opts.takeBound) {
      result.problems.push({ line, message: `${where} is bound to another client (take it anyway with -i)` });
      return;
    }
  }
  if (record.client) {
    const elsewhere = store.leases.findByClient(network, record.client);
    if (elsewhere && elsewhere.address !== record.address && !opts.overwrite) {
      result.problems.push({
        line,
        message: `this client already has ${ipToString(elsewhere.address)} on network ${ipToString(network)} (replace it with -w)`,
      });
      return;
    }
  }
  actions.push(() => {
    leases.put(record);
    result.loaded++;
  });
}

function planName(
  store: Store,
  line: number,
  name: NameBinding,
  opts: LoadOptions,
  result: LoadResult,
  actions: Array<() => void>,
): void {
  const existing = store.names.get(name.domain, name.name);
  if (opts.delete) {
    if (!existing) {
      result.skipped.push({ line, why: `${name.name}.${name.domain} has no record` });
      return;
    }
    actions.push(() => {
      if (store.names.delete(name.domain, name.name)) result.deleted++;
    });
    return;
  }
  if (existing && !opts.overwrite) {
    const sameOwner = name.owner === null ? existing.owner === null : sameClient(existing.owner, name.owner);
    result.problems.push({
      line,
      message: `${name.name}.${name.domain} is already bound${sameOwner ? '' : ' to another client'} (overwrite it with -w)`,
    });
    return;
  }
  actions.push(() => {
    store.names.bind(name);
    result.loaded++;
  });
}

/** A DNS record state as the control API carries it (POST /v1/load, `dns`). */
export interface DnsRecordJson {
  address: string;
  fqdn: string;
  guardType: number;
  /** The guard's rdata, hex. */
  guard: string;
  forward: boolean;
  reverse: boolean;
}

export function dnsRecordToJson(dns: DnsRecordState): DnsRecordJson {
  return {
    address: ipToString(dns.address),
    fqdn: dns.fqdn,
    guardType: dns.guardType,
    guard: dns.guard.toString('hex'),
    forward: dns.forward,
    reverse: dns.reverse,
  };
}

/** The record of one `dns` entry, or what is wrong with it. */
export function dnsRecordFromJson(value: unknown, nowSec: number): DnsRecordState | string {
  const v = (value ?? {}) as Partial<Record<keyof DnsRecordJson, unknown>>;
  const address = typeof v.address === 'string' ? parseIp(v.address) : undefined;
  if (address === undefined) return 'address: an IPv4 address';
  if (typeof v.fqdn !== 'string' || v.fqdn === '') return 'fqdn: a domain name';
  if (typeof v.guardType !== 'number' || !Number.isInteger(v.guardType)) return 'guardType: a DNS type number';
  if (typeof v.guard !== 'string' || !/^([0-9a-f]{2})+$/i.test(v.guard)) return 'guard: hex octets';
  if (typeof v.forward !== 'boolean' || typeof v.reverse !== 'boolean') return 'forward, reverse: true or false';
  return {
    address,
    fqdn: v.fqdn,
    guardType: v.guardType,
    guard: Buffer.from(v.guard, 'hex'),
    forward: v.forward,
    reverse: v.reverse,
    written: nowSec,
  };
}
