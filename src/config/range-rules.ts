// Range entries: a dhcpcap entry with `ra=FIRST-LAST …` and `nw=` says who may be given a new address
// from those ranges of the network, as dhcpd's pool permits do (allow/deny unknown-clients,
// known-clients, members of "C", dynamic bootp clients). The entry's ranges split the network's own
// ranges; each piece carries the entry's rule, and the pool keeps a free list per rule
// (src/alloc/pool.ts), so a client refused one range never waits behind its addresses.
//
// A range entry is not a parameter entry: it applies to no client (lookup.ts leaves it out), and tags
// other than its permits are refused, since per-range parameters are not supported.
import type { CapEntry, Config, NetworkConfig, OurRange, RangeRule } from './types';
import { lineOf, type FileProblems, type ProblemSink } from './problems';
import { hasClass, isRangeEntry } from './lookup';
import { ipToString } from '../util/ipv4';

/** The tags a range entry may carry. */
const RANGE_ENTRY_TAGS = new Set(['ra', 'nw', 'kn', 'ku', 'nb', 'am', 'dm']);
/** Tags that mean something only on a range entry (kn also means "known only" on a network's entry). */
const RANGE_ONLY_TAGS = ['ku', 'nb', 'am', 'dm'];

interface RulePiece {
  start: number;
  end: number;
  rule: RangeRule;
}

/** Checks the range entries of dhcpcap and splits each network's own ranges by their rules. */
export function applyRangeRules(config: Config, sink: ProblemSink): void {
  const cap = config.dhcpcap;
  if (!cap.file) return;
  const problems = sink.forFile(cap.file);
  const classLabels = new Set(cap.entries.filter((e) => !e.template && hasClass(e.scope)).map((e) => e.label));
  const pieces = new Map<number, RulePiece[]>();
  for (const entry of cap.entries) {
    if (entry.template) continue;
    const line = lineOf(entry.source);
    if (!isRangeEntry(entry)) {
      const stray = RANGE_ONLY_TAGS.filter((tag) => entry.tags.has(tag));
      if (stray.length > 0)
        problems.error(
          line,
          1,
          `${entry.label}: ${stray.join(', ')} ${stray.length === 1 ? 'belongs' : 'belong'} on a range entry (ra=FIRST-LAST with nw=…)`,
        );
      continue;
    }
    const net = networkOf(entry, config, problems, line);
    if (!net) continue;
    const rule = ruleOf(entry, classLabels, problems, line);
    if (!rule) continue;
    const list = pieces.get(net.address) ?? [];
    for (const [start, end] of entry.tags.get('ra') as Array<[number, number]>) {
      const where = `${entry.label}: ra=${ipToString(start)}-${ipToString(end)}`;
      if ((start & net.mask) >>> 0 !== net.address || (end & net.mask) >>> 0 !== net.address) {
        problems.error(line, 1, `${where} is not inside network ${ipToString(net.address)}/${net.prefixLength}`);
        continue;
      }
      const other = list.find((p) => p.start <= end && start <= p.end);
      if (other) {
        problems.error(
          line,
          1,
          `${where} overlaps the range entry ${other.rule.label} (${other.rule.source}): a range has one rule`,
        );
        continue;
      }
      if (!net.ourRanges.some((r) => r.start <= end && start <= r.end)) {
        problems.warning(line, 1, `${where} is in none of the ranges this server allocates from (nets): its permits do nothing`);
      }
      list.push({ start, end, rule });
    }
    pieces.set(net.address, list);
  }
  for (const net of config.networks) {
    const list = pieces.get(net.address);
    if (list && list.length > 0) net.ourRanges = splitByRules(net.ourRanges, list);
  }
}

/** The network a range entry names (nw=, a network of nets), or undefined after reporting why not. */
function networkOf(entry: CapEntry, config: Config, problems: FileProblems, line: number): NetworkConfig | undefined {
  const { network, hardware, clientId } = entry.scope;
  if (network === undefined || hardware || clientId || hasClass(entry.scope)) {
    problems.error(line, 1, `${entry.label}: a range entry (ra=) names its network with nw= and no client or class`);
    return undefined;
  }
  const net = config.networks.find((n) => n.address === network);
  // Not a network of nets: crossCheck has warned already.
  return net;
}

/** The permits of a range entry, or undefined after reporting what is wrong with them. */
function ruleOf(entry: CapEntry, classLabels: ReadonlySet<string>, problems: FileProblems, line: number): RangeRule | undefined {
  let ok = true;
  for (const tag of entry.tags.keys()) {
    if (RANGE_ENTRY_TAGS.has(tag)) continue;
    problems.error(
      line,
      1,
      `${entry.label}: ${tag} on a range entry: a range entry sets permits only (kn, ku, nb, am, dm); parameters per range are not supported, put them on the network's entry or a class`,
    );
    ok = false;
  }
  const labels = (tag: 'am' | 'dm'): string[] => {
    const list = (entry.tags.get(tag) as string[] | undefined) ?? [];
    for (const label of list) {
      if (classLabels.has(label)) continue;
      problems.error(
        line,
        1,
        `${entry.label}: ${tag}=${label}: ${label} is not a class entry (an entry with ct, uc, ca, ci or ri)`,
      );
      ok = false;
    }
    return list;
  };
  const rule: RangeRule = {
    label: entry.label,
    source: entry.source,
    knownOnly: entry.tags.get('kn') === true,
    unknownOnly: entry.tags.get('ku') === true,
    noDynamicBootp: entry.tags.get('nb') === true,
    allowMembers: labels('am'),
    denyMembers: labels('dm'),
  };
  if (rule.knownOnly && rule.unknownOnly) {
    problems.error(line, 1, `${entry.label}: kn and ku together admit no client: known clients only, or unknown ones only`);
    ok = false;
  }
  const permits =
    rule.knownOnly || rule.unknownOnly || rule.noDynamicBootp || rule.allowMembers.length + rule.denyMembers.length > 0;
  if (ok && !permits)
    problems.warning(line, 1, `${entry.label}: a range entry with no permit (kn, ku, nb, am, dm) admits every client`);
  return ok ? rule : undefined;
}

/** The ranges cut where the rules' ranges begin and end, each piece with its rule (if any). */
function splitByRules(ranges: readonly OurRange[], pieces: RulePiece[]): OurRange[] {
  const sorted = [...pieces].sort((a, b) => a.start - b.start);
  const out: OurRange[] = [];
  for (const range of ranges) {
    let at = range.start;
    for (const piece of sorted) {
      if (piece.end < at || piece.start > range.end) continue;
      if (piece.start > at) out.push({ start: at, end: piece.start - 1, failover: range.failover });
      const end = Math.min(piece.end, range.end);
      out.push({ start: Math.max(piece.start, at), end, failover: range.failover, rule: piece.rule });
      at = end + 1;
    }
    if (at <= range.end) out.push({ start: at, end: range.end, failover: range.failover });
  }
  return out;
}
