// One load of $JOINCONFIG: every file read, every problem of every file collected (each with its
// place and what was expected), cross-file checks, and a deeply frozen snapshot when nothing is wrong.
// A load that has errors gives no snapshot, so the caller keeps the running one.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CapEntry, Config, LoadResult, NetworkConfig, Policy, Problem, SelfIdentity } from './types';
import { ProblemSink, formatProblem, lineOf, sortProblems, type FileProblems } from './problems';
import { applyRangeRules } from './range-rules';
import { readPolicy, type KeywordPlace } from './pcy';
import { MaskTable, readNetmasks } from './netmasks';
import { SelfMatcher, readHosts } from './identity';
import { readNets } from './nets';
import { readNamepool } from './namepool';
import { capFileOf, readDhcpcap } from './dhcpcap';
import { findNetwork, hasClass } from './lookup';
import { formatTagValue } from './tags';
import { hardwareTypeName } from './hwaddr';
import { deepFreeze } from './frozen';
import { RESTART_ONLY } from './effect';
import { hexColons, ipToString } from '../util/ipv4';
import { parseKeyFile } from './keyfile';
import type { TsigKey } from '../dns/tsig';

export { formatProblem };

export interface LoadOptions {
  /** Who we are; default: policy canonical_name or os.hostname(), and every IPv4 address of every interface. */
  self?: SelfIdentity;
  /** The hosts file used to map owner names to addresses; default /etc/hosts. */
  hostsFile?: string;
}

/** The names of the files of a configuration directory. */
export const CONFIG_FILES = Object.freeze({
  policy: 'server.pcy',
  netmasks: 'netmasks',
  nets: 'nets',
  namepool: 'namepool',
  dhcpcap: 'dhcpcap',
  bootptab: 'bootptab',
});

/** Every IPv4 address of every interface of this host. */
export function interfaceAddresses(): number[] {
  const addresses: number[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const info of list ?? []) {
      // Node 18.0–18.3 reported the family as a number.
      if (info.family !== 'IPv4' && (info.family as unknown) !== 4) continue;
      const parts = info.address.split('.').map(Number);
      addresses.push(((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0);
    }
  }
  return addresses;
}

/**
 * The key of ddns_key_file (relative to the configuration directory): its first key. A file everyone
 * may read gives a warning (the secret signs changes to DNS), as does a second key, which is not used.
 */
function readDdnsKey(dir: string, policy: Policy, source: string, sink: ProblemSink, pcy: FileProblems): TsigKey | null {
  if (policy.ddns_key_file === null) return null;
  const file = path.resolve(dir, policy.ddns_key_file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    pcy.error(
      lineOf(source),
      1,
      `ddns_key_file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
    return null;
  }
  const problems = sink.forFile(file);
  if ((fs.statSync(file).mode & 0o004) !== 0) {
    problems.warning(0, 0, `everyone may read this key file: its secret signs changes to DNS (chmod o-r ${file})`);
  }
  const keys = parseKeyFile(text, problems);
  if (keys.length > 1) problems.warning(0, 0, `${keys.length} keys: only the first, "${keys[0]!.name}", signs the updates`);
  return keys[0] ?? null;
}

/** Why `dir` cannot be read as a configuration directory, or null when it can. */
function unusableDirectory(dir: string): string | null {
  try {
    if (!fs.statSync(dir).isDirectory()) return 'the configuration directory is not a directory';
  } catch (err) {
    return `cannot open the configuration directory: ${(err as Error).message}`;
  }
  try {
    fs.readdirSync(dir);
  } catch (err) {
    return `cannot read the configuration directory: ${(err as Error).message}`;
  }
  return null;
}

/** Loads and validates the configuration directory `dir`. Never throws for a problem in the files. */
export function loadConfig(dir: string, opts: LoadOptions = {}): LoadResult {
  const sink = new ProblemSink();
  const unusable = unusableDirectory(dir);
  if (unusable) return { ok: false, problems: [{ severity: 'error', file: dir, line: 0, column: 0, message: unusable }] };

  const policyFile = path.join(dir, CONFIG_FILES.policy);
  const { policy, sources, written } = readPolicy(policyFile, sink.forFile(policyFile));
  const self: SelfIdentity = opts.self
    ? { hostname: opts.self.hostname, addresses: [...opts.self.addresses] }
    : { hostname: policy.canonical_name ?? os.hostname(), addresses: interfaceAddresses() };
  const matcher = new SelfMatcher(self, readHosts(opts.hostsFile));

  const netmasksFile = path.join(dir, CONFIG_FILES.netmasks);
  const netmasks = readNetmasks(netmasksFile, sink.forFile(netmasksFile));
  const netsFile = path.join(dir, CONFIG_FILES.nets);
  const networks = readNets(netsFile, sink.forFile(netsFile), new MaskTable(netmasks), matcher, policy.failover);
  const namepoolFile = path.join(dir, CONFIG_FILES.namepool);
  const namepools = readNamepool(namepoolFile, sink.forFile(namepoolFile), matcher);
  const dhcpcap = readDhcpcap(dir, sink);
  const ddnsKey = readDdnsKey(dir, policy, sources.ddns_key_file, sink, sink.forFile(policyFile));

  const config: Config = {
    dir,
    policy,
    policySources: sources,
    self,
    netmasks,
    networks,
    namepools,
    dhcpcap,
    ddnsKey,
    sharedNetworks: new Map(),
    warnings: [],
  };
  crossCheck(config, sink, netsFile);
  applyRangeRules(config, sink);
  config.sharedNetworks = sharedNetworksOf(config, sink);
  checkFailover(config, written, matcher, sink.forFile(policyFile), netsFile);

  const problems = sortProblems(sink.items);
  if (problems.some((p) => p.severity === 'error')) return { ok: false, problems };
  config.warnings = problems;
  return { ok: true, config: deepFreeze(config), warnings: problems };
}

/**
 * The shared networks of dhcpcap's `sh` tags: only a network's own entry (nw, no class, no client) can
 * say which link the network is on; a group needs two networks of nets, and a network one group.
 */
function sharedNetworksOf(config: Config, sink: ProblemSink): Map<number, readonly NetworkConfig[]> {
  const shared = new Map<number, readonly NetworkConfig[]>();
  const cap = config.dhcpcap;
  if (!cap.file) return shared;
  const problems = sink.forFile(cap.file);
  const groups = new Map<string, { members: NetworkConfig[]; line: number }>();
  const groupOf = new Map<number, string>();
  for (const entry of cap.entries) {
    const name = entry.tags.get('sh');
    if (entry.template || typeof name !== 'string') continue;
    const line = lineOf(entry.source);
    const { network, hardware, clientId } = entry.scope;
    if (network === undefined || hardware || clientId || hasClass(entry.scope)) {
      problems.error(line, 1, `${entry.label}: sh=${name} belongs on a network's own entry (nw=…, with no class and no client)`);
      continue;
    }
    const net = config.networks.find((n) => n.address === network);
    if (!net) continue; // crossCheck warned: not a network of nets
    const earlier = groupOf.get(network);
    if (earlier !== undefined && earlier !== name) {
      problems.error(
        line,
        1,
        `${entry.label}: network ${ipToString(network)} is already in shared network ${earlier}; a network is on one link`,
      );
      continue;
    }
    if (earlier === name) continue;
    groupOf.set(network, name);
    const group = groups.get(name) ?? { members: [], line };
    group.members.push(net);
    groups.set(name, group);
  }
  for (const [name, group] of groups) {
    if (group.members.length < 2) {
      problems.warning(
        group.line,
        1,
        `shared network ${name} has one network (${ipToString(group.members[0]!.address)}): it shares its link with none`,
      );
      continue;
    }
    for (const net of group.members) shared.set(net.address, group.members);
  }
  return shared;
}

/** Checks that need more than one file. */
function crossCheck(config: Config, sink: ProblemSink, netsFile: string): void {
  const cap = config.dhcpcap;
  if (config.networks.length > 0 && !config.networks.some((n) => n.owners.some((o) => o.ours))) {
    sink
      .forFile(netsFile)
      .warning(
        0,
        0,
        `no network is owned by this server (host name ${config.self.hostname}, addresses ${config.self.addresses.map(ipToString).join(' ') || 'none'}): it will hand out no address`,
      );
  }
  if (!cap.file) return;
  const problems = sink.forFile(cap.file);
  const staticOwners = new Map<number, CapEntry>();
  for (const entry of cap.entries) {
    if (entry.template) continue;
    const line = lineOf(entry.source);
    const nw = entry.scope.network;
    if (nw !== undefined) {
      const net = config.networks.find((n) => n.address === nw);
      if (!net) {
        problems.warning(
          line,
          1,
          `${entry.label}: nw=${ipToString(nw)} is not a network of ${netsFile}; the entry applies to no client`,
        );
      } else {
        const sm = entry.tags.get('sm');
        if (typeof sm === 'number' && sm !== net.mask) {
          problems.warning(
            line,
            1,
            `${entry.label}: sm=${ipToString(sm)} differs from the mask ${ipToString(net.mask)} of network ${ipToString(net.address)} (netmasks/classful)`,
          );
        }
        const ba = entry.tags.get('ba');
        const broadcast = (net.address | ~net.mask) >>> 0;
        if (typeof ba === 'number' && ba !== broadcast) {
          problems.warning(
            line,
            1,
            `${entry.label}: ba=${ipToString(ba)} is not the broadcast address ${ipToString(broadcast)} of network ${ipToString(net.address)}/${net.prefixLength}`,
          );
        }
      }
    }
    const ip = entry.tags.get('ip');
    const { hardware, clientId, circuitId, remoteId } = entry.scope;
    if (typeof ip !== 'number' || (!hardware && !clientId && !circuitId && !remoteId)) continue;
    const net = findNetwork(config.networks, ip);
    if (!net) {
      problems.warning(
        line,
        1,
        `${entry.label}: static ip=${ipToString(ip)} is on none of the networks of ${netsFile}; no client can get it`,
      );
    } else if (net.ourRanges.some((r) => ip >= r.start && ip <= r.end)) {
      problems.warning(
        line,
        1,
        `${entry.label}: static ip=${ipToString(ip)} lies in a dynamic range of ${ipToString(net.address)}/${net.prefixLength}; the pool will skip it but better keep it out of the ranges`,
      );
    }
    const other = staticOwners.get(ip);
    if (other) {
      problems.warning(line, 1, `${entry.label}: static ip=${ipToString(ip)} is also given to ${other.label} (${other.source})`);
    } else {
      staticOwners.set(ip, entry);
    }
  }
}

/**
 * The failover settings against nets and this host: the relationship must own ranges and must not be a
 * name of ours; dynamic BOOTP cannot be shared with a peer; our failover address should be ours.
 */
function checkFailover(
  config: Config,
  written: ReadonlyMap<keyof Policy, KeywordPlace>,
  matcher: SelfMatcher,
  problems: FileProblems,
  netsFile: string,
): void {
  const name = config.policy.failover;
  if (name === null) return;
  const at = (key: keyof Policy): KeywordPlace => written.get(key) ?? { line: 0, column: 0, word: key };
  const failover = at('failover');
  if (matcher.isSelf(name)) {
    problems.error(
      failover.line,
      failover.column,
      `failover ${name}: ${name} is also a name of this server (its host name, canonical_name or /etc/hosts), so ${netsFile} could not tell the pair's ranges from those this server serves alone; choose another relationship name`,
    );
  }
  const pairOwners = config.networks.flatMap((n) =>
    n.owners.filter((o) => o.failover !== undefined && o.ranges.length > 0).map((o) => ({ net: n, owner: o })),
  );
  if (pairOwners.length === 0) {
    problems.error(
      failover.line,
      failover.column,
      `failover ${name}: no range of ${netsFile} is owned by ${name}, so the relationship would serve nothing (dhcpd refuses a failover peer without a pool); give the pair's ranges the owner ${name} in nets`,
    );
  }
  const own = config.policy.failover_address;
  const ownAt = written.get('failover_address');
  if (own !== null && ownAt && !config.self.addresses.some((a) => ipToString(a) === own)) {
    problems.warning(
      ownAt.line,
      ownAt.column,
      `${ownAt.word} ${own} is not an address of this host (${config.self.addresses.map(ipToString).join(' ') || 'none'}): the failover link can be set up only once it is`,
    );
  }
  if (config.policy.dynamic_bootp && pairOwners.length > 0) {
    const bootp = at('dynamic_bootp');
    const first = pairOwners[0]!;
    const more = pairOwners.length > 1 ? ` (and ${pairOwners.length - 1} more network${pairOwners.length > 2 ? 's' : ''})` : '';
    problems.error(
      bootp.line,
      bootp.column,
      `${bootp.word} is not allowed with failover: ${first.owner.source} gives ${first.owner.ranges.map(rangeText).join(' ')} of ${ipToString(first.net.address)}/${first.net.prefixLength} to the relationship ${name}${more}, and a BOOTP client neither renews nor releases, so its allocation cannot follow the pair's lease rules (dhcpd: deny dynamic bootp clients); switch ${bootp.word} off or give those ranges another owner`,
    );
  }
}

/** Whether the client-parameter file changed (or appeared, or went) since the snapshot: for auto_reread. */
export function clientFileChanged(config: Config): boolean {
  const file = capFileOf(config.dir);
  if (file !== config.dhcpcap.file) return true;
  if (file === null) return false;
  try {
    return fs.statSync(file).mtimeMs !== config.dhcpcap.mtimeMs;
  } catch {
    return true;
  }
}

function rangeText(r: { start: number; end: number }): string {
  return r.start === r.end ? ipToString(r.start) : `${ipToString(r.start)}-${ipToString(r.end)}`;
}

/** The effective configuration as plain JSON, for `joind --check` and debugging. */
export function describeConfig(config: Config): Record<string, unknown> {
  const policy: Record<string, { value: unknown; source: string }> = {};
  for (const key of Object.keys(config.policy) as Array<keyof Policy>) {
    policy[key] = { value: config.policy[key], source: config.policySources[key] };
  }
  return {
    dir: config.dir,
    self: { hostname: config.self.hostname, addresses: config.self.addresses.map(ipToString) },
    clientParameterFile: config.dhcpcap.file,
    policy,
    // The keywords a reload reads but does not apply (effect.ts); every other setting applies on reload.
    restartOnly: [...RESTART_ONLY.keys()],
    netmasks: config.netmasks.map((m) => ({ network: ipToString(m.network), mask: ipToString(m.mask), source: m.source })),
    networks: config.networks.map((n) => ({
      network: ipToString(n.address),
      mask: ipToString(n.mask),
      prefixLength: n.prefixLength,
      source: n.source,
      owners: n.owners.map((o) => ({
        owner: o.owner,
        ours: o.ours,
        // The failover relationship that serves these ranges (the owner is server.pcy's failover NAME), or null.
        failover: o.failover ?? null,
        source: o.source,
        ranges: o.ranges.map(rangeText),
      })),
      ourRanges: n.ourRanges.map(rangeText),
    })),
    namepools: config.namepools.map((p) => ({
      domain: p.domain,
      owner: p.owner,
      ours: p.ours,
      prefix: p.prefix,
      names: [...p.names],
      source: p.source,
    })),
    dhcpcap: {
      file: config.dhcpcap.file,
      entries: config.dhcpcap.entries.map((e) => {
        const scope: Record<string, string> = {};
        if (e.scope.hardware)
          scope.hardware = `${hardwareTypeName(e.scope.hardware.htype)} ${hexColons(e.scope.hardware.address)}`;
        if (e.scope.clientId) scope.clientId = hexColons(e.scope.clientId);
        if (e.scope.network !== undefined) scope.network = ipToString(e.scope.network);
        if (e.scope.vendorClass !== undefined) scope.vendorClass = e.scope.vendorClass;
        const tags: Record<string, string> = {};
        for (const [tag, value] of e.tags) tags[tag] = formatTagValue(tag, value);
        return { label: e.label, template: e.template, source: e.source, scope, tags };
      }),
    },
    warnings: config.warnings.map(formatProblem),
  };
}

/** Problems in "file:line:column: severity: message" form, one per line. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map(formatProblem).join('\n');
}
