// Per-client parameters from dhcpcap. The server asks for every packet, so the entries are indexed
// once per snapshot (cached against the Dhcpcap object, which a reload replaces) and the merge of the
// entries that do not depend on the client is cached per network and matching classes.
//
// Precedence (joind-spec.md 5.2), least specific first; a later rank overrides an earlier one:
//   0 site-wide default: a non-template entry with none of nw, ct, ht+ha, ck (our addition: values
//     every client gets unless something more specific sets them)
//   1 network (nw)
//   2 client class (ct, and our additions uc, ca, ci, ri: see below)
//   3 client identifier (ht+ha matching htype+chaddr, or ck matching option 61)
//   4 network + class
//   5 client identifier + network
// A client-identifier entry that also names a class ranks just above the same entry without one. Entries
// of equal rank apply in file order (the later wins). Vendor classes match exactly, or by prefix when
// the entry's ct ends in `*` (ct=PXEClient* matches "PXEClient:Arch:00000:UNDI:002001").
//
// A class is any of the conditions an entry can put on what the client sends, beyond who it is: the
// vendor class (ct, option 60), the user class (uc, option 77: the whole option, or one of the classes
// of its RFC 3004 list, so both iPXE's plain "iPXE" and a Windows class list match), the client
// architecture (ca, option 93: any of the entry's types), and the relay agent's circuit id and remote
// id (ci, ri: option 82's sub-options 1 and 2, RFC 3046, as the switch port or subscriber). An entry's
// conditions must all hold.
//
// An entry with `ip` and a client key is a static binding of that client. One with `ip` and ci or ri
// (and no client key) binds the address to the port: whichever client the relay reports there gets it
// (a device swapped on a switch port takes its predecessor's address), unless it has a binding of its own.

import {
  OPT_RELAY_AGENT_INFO,
  circuitId as circuitIdOf,
  decodeOptionValue,
  remoteId as remoteIdOf,
  type RelayAgentSubOption,
} from '../codec';
import type { CapEntry, ClientQuery, Dhcpcap, EntryScope, NetworkConfig, TagValue } from './types';
import { SCOPE_TAGS } from './tags';

export interface ClientParams {
  /** Merged tags of every applying entry, without scope tags (ht ha ck nw ct). Shared: do not change. */
  tags: ReadonlyMap<string, TagValue>;
  /** The most specific applying entry keyed by client identifier (a "host entry"), if any. */
  hostEntry?: CapEntry;
  /** Without a host entry: the applying port binding (ip with ci or ri), if any. */
  portBinding?: StaticBinding;
}

export interface StaticBinding {
  entry: CapEntry;
  address: number;
}

interface Ranked {
  entry: CapEntry;
  rank: number;
  order: number;
  /** The entry's tags without scope tags, as an array: merging walks it for every packet. */
  params: Array<[string, TagValue]>;
}

/** Hardware-address key: the 48-bit value for 6-byte addresses (no string built per packet), else hex. */
type HwKey = number | string;

function hwKey(address: Buffer): HwKey {
  return address.length === 6 ? address.readUIntBE(0, 6) : address.toString('hex');
}

interface CapIndex {
  siteDefaults: Ranked[];
  byNetwork: Map<number, Ranked[]>;
  classEntries: Ranked[]; // ct without a client key, with or without nw
  byHardware: Map<number, Map<HwKey, Ranked[]>>; // htype → address → entries
  byHardwareAddress: Map<HwKey, Ranked[]>; // address → entries, any htype (ignore_hardware_type)
  byClientId: Map<string, Ranked[]>; // ck as latin1 text → entries
  bindings: StaticBinding[];
  byAddress: Map<number, StaticBinding>;
  /** Entries with ip, ci or ri and no client key: addresses bound to a relay port, by precedence. */
  portBindings: Ranked[];
  /** Merge of the entries that do not depend on the client, per network (number key) or network + classes. */
  baseCache: Map<number | string, ReadonlyMap<string, TagValue>>;
  /** Class entries by label, for range permits (am, dm: members of a class). */
  classByLabel: Map<string, CapEntry>;
}

const indexes = new WeakMap<Dhcpcap, CapIndex>();
/** Bound on cached base merges; the key space is networks × class combinations of the config. */
const BASE_CACHE_LIMIT = 4096;
const NO_TAGS: ReadonlyMap<string, TagValue> = new Map();
const NO_RANKED: Ranked[] = [];

/** Whether an entry has a class condition (see the top of this file). */
export function hasClass(scope: EntryScope): boolean {
  return (
    scope.vendorClass !== undefined ||
    scope.userClass !== undefined ||
    scope.architectures !== undefined ||
    scope.circuitId !== undefined ||
    scope.remoteId !== undefined
  );
}

/** Whether an entry is a range entry (ra=, range-rules.ts): permits of ranges, not parameters. */
export function isRangeEntry(entry: CapEntry): boolean {
  return entry.tags.has('ra');
}

function rankOf(entry: CapEntry): number {
  const { hardware, clientId, network } = entry.scope;
  const clientKey = hardware !== undefined || clientId !== undefined;
  const isClass = hasClass(entry.scope);
  const classBonus = isClass ? 0.5 : 0;
  if (clientKey) return (network !== undefined ? 5 : 3) + classBonus;
  if (network !== undefined && isClass) return 4;
  if (isClass) return 2;
  if (network !== undefined) return 1;
  return 0;
}

function push<K>(map: Map<K, Ranked[]>, key: K, ranked: Ranked): void {
  const list = map.get(key);
  if (list) list.push(ranked);
  else map.set(key, [ranked]);
}

/** An entry's `ip`, if it has one, as a static binding of the index; whether it had one. */
function addBinding(index: CapIndex, entry: CapEntry): boolean {
  const ip = entry.tags.get('ip');
  if (typeof ip !== 'number') return false;
  const binding = { entry, address: ip };
  index.bindings.push(binding);
  if (!index.byAddress.has(ip)) index.byAddress.set(ip, binding);
  return true;
}

function buildIndex(cap: Dhcpcap): CapIndex {
  const index: CapIndex = {
    siteDefaults: [],
    byNetwork: new Map(),
    classEntries: [],
    byHardware: new Map(),
    byHardwareAddress: new Map(),
    byClientId: new Map(),
    bindings: [],
    byAddress: new Map(),
    portBindings: [],
    baseCache: new Map(),
    classByLabel: new Map(),
  };
  cap.entries.forEach((entry, order) => {
    // Templates apply through tc= only; range entries (ra=) set permits of ranges, not parameters.
    if (entry.template || isRangeEntry(entry)) return;
    const params: Array<[string, TagValue]> = [];
    for (const [tag, value] of entry.tags) if (!SCOPE_TAGS.has(tag)) params.push([tag, value]);
    const ranked: Ranked = { entry, rank: rankOf(entry), order, params };
    const { hardware, clientId, network } = entry.scope;
    if (hardware || clientId) {
      if (hardware) {
        let byAddress = index.byHardware.get(hardware.htype);
        if (!byAddress) index.byHardware.set(hardware.htype, (byAddress = new Map<HwKey, Ranked[]>()));
        push(byAddress, hwKey(hardware.address), ranked);
        push(index.byHardwareAddress, hwKey(hardware.address), ranked);
      }
      if (clientId) push(index.byClientId, clientId.toString('latin1'), ranked);
      addBinding(index, entry);
    } else if (hasClass(entry.scope)) {
      index.classEntries.push(ranked);
      if (!index.classByLabel.has(entry.label)) index.classByLabel.set(entry.label, entry);
      if ((entry.scope.circuitId || entry.scope.remoteId) && addBinding(index, entry)) index.portBindings.push(ranked);
    } else if (network !== undefined) {
      push(index.byNetwork, network, ranked);
    } else {
      index.siteDefaults.push(ranked);
    }
  });
  Object.freeze(index.bindings);
  // The most specific first: the first that applies wins.
  index.portBindings.sort((a, b) => byPrecedence(b, a));
  return index;
}

function indexOf(cap: Dhcpcap): CapIndex {
  let index = indexes.get(cap);
  if (!index) indexes.set(cap, (index = buildIndex(cap)));
  return index;
}

/** Whether an entry's ct matches the class the client sent. */
function classMatches(pattern: string, sent: string | undefined): boolean {
  if (sent === undefined) return false;
  if (pattern.endsWith('*')) return sent.startsWith(pattern.slice(0, -1));
  return sent === pattern;
}

/** Whether option 77 as sent is the entry's user class, whole or as one class of its RFC 3004 list. */
function userClassMatches(wanted: Buffer, sent: Buffer | undefined): boolean {
  if (sent === undefined) return false;
  if (sent.equals(wanted)) return true;
  for (let at = 0; at < sent.length;) {
    const length = sent[at]!;
    if (length === 0 || at + 1 + length > sent.length) return false; // not an RFC 3004 list
    if (length === wanted.length && sent.subarray(at + 1, at + 1 + length).equals(wanted)) return true;
    at += 1 + length;
  }
  return false;
}

/** Whether option 93 as sent names one of the entry's architecture types. */
function architectureMatches(wanted: readonly number[], sent: Buffer | undefined): boolean {
  if (sent === undefined) return false;
  for (let at = 0; at + 1 < sent.length; at += 2) if (wanted.includes(sent.readUInt16BE(at))) return true;
  return false;
}

/** Option 82's sub-options, decoded once per request (null: none, or damaged). */
const agentInfos = new WeakMap<ReadonlyMap<number, Buffer>, RelayAgentSubOption[] | null>();

function agentInfo(options: ReadonlyMap<number, Buffer> | undefined): RelayAgentSubOption[] {
  if (!options) return [];
  let subs = agentInfos.get(options);
  if (subs === undefined) {
    const raw = options.get(OPT_RELAY_AGENT_INFO);
    const decoded = raw ? decodeOptionValue(OPT_RELAY_AGENT_INFO, raw) : undefined;
    subs = decoded?.ok ? (decoded.value as RelayAgentSubOption[]) : null;
    agentInfos.set(options, subs);
  }
  return subs ?? [];
}

/** Whether the conditions besides the client key (nw and the class conditions) hold for the query. */
function conditionsHold(entry: CapEntry, q: ClientQuery): boolean {
  const { network, vendorClass, userClass, architectures, circuitId, remoteId } = entry.scope;
  if (network !== undefined && network !== q.network) return false;
  if (vendorClass !== undefined && !classMatches(vendorClass, q.vendorClass)) return false;
  if (userClass !== undefined && !userClassMatches(userClass, q.options?.get(77))) return false;
  if (architectures !== undefined && !architectureMatches(architectures, q.options?.get(93))) return false;
  if (circuitId !== undefined && !circuitIdOf(agentInfo(q.options))?.equals(circuitId)) return false;
  if (remoteId !== undefined && !remoteIdOf(agentInfo(q.options))?.equals(remoteId)) return false;
  return true;
}

function byPrecedence(a: Ranked, b: Ranked): number {
  return a.rank - b.rank || a.order - b.order;
}

function mergeInto(tags: Map<string, TagValue>, entries: readonly Ranked[]): void {
  for (let i = 0; i < entries.length; i++) {
    const params = entries[i]!.params;
    for (let j = 0; j < params.length; j++) tags.set(params[j]![0], params[j]![1]);
  }
}

/** The client-keyed entries that apply to the query (usually none: allocation only on a hit). */
function clientEntries(index: CapIndex, q: ClientQuery): Ranked[] {
  let found = NO_RANKED;
  if (index.byHardware.size > 0) {
    const key = hwKey(q.chaddr);
    const list = q.ignoreHardwareType ? index.byHardwareAddress.get(key) : index.byHardware.get(q.htype)?.get(key);
    if (list) found = addApplying(found, list, q);
  }
  if (q.clientId && index.byClientId.size > 0) {
    const list = index.byClientId.get(q.clientId.toString('latin1'));
    if (list) found = addApplying(found, list, q);
  }
  return found;
}

function addApplying(found: Ranked[], list: readonly Ranked[], q: ClientQuery): Ranked[] {
  for (const r of list) {
    if (!conditionsHold(r.entry, q) || found.includes(r)) continue;
    if (found === NO_RANKED) found = [];
    found.push(r);
  }
  return found;
}

/** The merge of the site, network and class entries that apply to the query, cached. */
function baseTags(index: CapIndex, q: ClientQuery): { tags: ReadonlyMap<string, TagValue>; networkClass: boolean } {
  let classes = NO_RANKED;
  let networkClass = false;
  let key: number | string = q.network;
  for (const r of index.classEntries) {
    if (!conditionsHold(r.entry, q)) continue;
    if (classes === NO_RANKED) classes = [];
    classes.push(r);
    key = `${key},${r.order}`;
    if (r.rank === 4) networkClass = true;
  }
  const cached = index.baseCache.get(key);
  if (cached) return { tags: cached, networkClass };
  const base: Ranked[] = [...index.siteDefaults, ...(index.byNetwork.get(q.network) ?? NO_RANKED), ...classes];
  base.sort(byPrecedence);
  const merged = new Map<string, TagValue>();
  mergeInto(merged, base);
  const tags = merged.size === 0 ? NO_TAGS : merged;
  if (index.baseCache.size < BASE_CACHE_LIMIT) index.baseCache.set(key, tags);
  return { tags, networkClass };
}

/**
 * The parameters for one client: the tags of every entry that applies, merged least specific first.
 * Allocation-light: without a host entry the merged map is shared from a per-snapshot cache.
 */
export function resolveClientParams(cap: Dhcpcap, q: ClientQuery): ClientParams {
  const index = indexOf(cap);
  const base = baseTags(index, q);
  const clients = clientEntries(index, q);
  if (clients.length === 0) return { tags: base.tags, portBinding: portBindingOf(index, q) };
  if (clients.length > 1) clients.sort(byPrecedence);
  const hostEntry = clients[clients.length - 1]!.entry;

  let tags: Map<string, TagValue>;
  if (!base.networkClass || clients[0]!.rank > 4) {
    // Every client entry outranks every base entry: start from the cached base merge.
    tags = new Map(base.tags);
    mergeInto(tags, clients);
  } else {
    // A network+class entry (rank 4) sits between client-only (3) and client+network (5): merge all.
    const all: Ranked[] = [...index.siteDefaults, ...(index.byNetwork.get(q.network) ?? NO_RANKED)];
    for (const r of index.classEntries) if (conditionsHold(r.entry, q)) all.push(r);
    all.push(...clients);
    all.sort(byPrecedence);
    tags = new Map();
    mergeInto(tags, all);
  }
  return { tags, hostEntry };
}

/** Whether the client of the query is a member of the class entry labelled `label` (its conditions hold). */
export function isClassMember(cap: Dhcpcap, label: string, q: ClientQuery): boolean {
  const entry = indexOf(cap).classByLabel.get(label);
  return entry !== undefined && conditionsHold(entry, q);
}

/** The most specific port binding (ip with ci or ri) that applies to the query, if any. */
function portBindingOf(index: CapIndex, q: ClientQuery): StaticBinding | undefined {
  for (const r of index.portBindings) {
    if (conditionsHold(r.entry, q)) return { entry: r.entry, address: r.entry.tags.get('ip') as number };
  }
  return undefined;
}

/** Every entry with a static `ip` and a client key (or a relay port: ci, ri), in file order. */
export function staticBindings(cap: Dhcpcap): readonly StaticBinding[] {
  return indexOf(cap).bindings;
}

/** The static binding of an address (the first entry in the file that names it). */
export function findBindingByAddress(cap: Dhcpcap, address: number): StaticBinding | undefined {
  return indexOf(cap).byAddress.get(address);
}

/** The entries keyed by this hardware address that carry a static `ip` (any network), file order. */
export function findBindingsByHardware(cap: Dhcpcap, htype: number, chaddr: Buffer, ignoreHardwareType = false): StaticBinding[] {
  const index = indexOf(cap);
  const key = hwKey(chaddr);
  const list = ignoreHardwareType ? index.byHardwareAddress.get(key) : index.byHardware.get(htype)?.get(key);
  const found: StaticBinding[] = [];
  if (list) {
    for (const { entry } of list) {
      const ip = entry.tags.get('ip');
      if (typeof ip === 'number') found.push({ entry, address: ip });
    }
  }
  return found;
}

/**
 * The static address for a client on its network: the most specific applying client entry that has an
 * `ip` (by the precedence above). The caller still checks that the address belongs to the client's
 * network (check_bootp_client_net, and always for DHCP).
 */
export function findStaticBinding(cap: Dhcpcap, q: ClientQuery): StaticBinding | undefined {
  const index = indexOf(cap);
  if (index.bindings.length === 0) return undefined;
  const clients = clientEntries(index, q);
  let best: Ranked | undefined;
  for (const r of clients) {
    if (typeof r.entry.tags.get('ip') !== 'number') continue;
    if (!best || byPrecedence(best, r) < 0) best = r;
  }
  return best ? { entry: best.entry, address: best.entry.tags.get('ip') as number } : portBindingOf(index, q);
}

// ---- networks -------------------------------------------------------------------------------------

const networkIndexes = new WeakMap<readonly NetworkConfig[], NetworkConfig[]>();

/**
 * The network of nets that contains `address` (a giaddr or an interface address), or undefined.
 * Networks never overlap (the load rejects that), so a binary search over the sorted list is exact.
 */
export function findNetwork(networks: readonly NetworkConfig[], address: number): NetworkConfig | undefined {
  let sorted = networkIndexes.get(networks);
  if (!sorted) {
    sorted = [...networks].sort((a, b) => a.address - b.address);
    networkIndexes.set(networks, sorted);
  }
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const net = sorted[mid]!;
    if (address < net.address) high = mid - 1;
    else if ((address & net.mask) >>> 0 === net.address) return net;
    else low = mid + 1;
  }
  return undefined;
}
