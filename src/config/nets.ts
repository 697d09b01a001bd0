// nets: which networks this server administers and which ranges on each it may hand out, per owning
// server. Grammar (joind-spec.md 1.2), decided by the first field of each line:
//
//   network owner range…   the first field is an address that is not inside the current network
//                          (a network number), with at least three fields; or with exactly two, when
//                          the first is a network number under its mask (no host bits): a network
//                          served for its static bindings alone, with no range (ours, not in the
//                          original)
//   owner range…           the first field is a host name; or exactly two fields whose first is an
//                          address outside the current network: another owner of the current network
//   range…                 the first field is a range a-b, or a single address inside the current
//                          network; or the line has one field: more ranges for the current network and
//                          owner. When such a line has two or more fields and begins with a single
//                          address, the first field might have been meant as an owner; we read it as a
//                          range and warn.
//
// A range is `a` or `a-b` with no blanks round the dash. `#` starts a comment (the original documents
// only whole-line comments; a trailing one is never ambiguous here, so we accept it).
//
// An owner is ours when it names this server, or when it is the failover relationship of server.pcy
// (`failover NAME`): both units of a pair read the same nets, and the pair's ranges are owned by the
// relationship name (dhcpd: `pool { failover peer "NAME"; … }`).

import * as fs from 'node:fs';
import type { AddressRange, NetOwner, NetworkConfig, OurRange } from './types';
import type { FileProblems } from './problems';
import type { MaskTable } from './netmasks';
import { isHostName, type SelfMatcher } from './identity';
import { maskOrigin } from './netmasks';
import { fieldsOf, splitLines, type Field } from './lines';
import { inetAddr, parseInetAddr } from './inetaddr';
import { readOptional } from './files';
import { ipToString } from '../util/ipv4';

interface RangeAt extends AddressRange {
  line: number;
  column: number;
  owner: OwnerBuild;
}

interface OwnerBuild {
  owner: string;
  ours: boolean;
  failover: string | undefined;
  source: string;
  ranges: RangeAt[];
}

interface NetBuild {
  address: number;
  mask: number;
  prefixLength: number;
  maskOrigin: string;
  source: string;
  line: number;
  column: number;
  owners: Map<string, OwnerBuild>;
}

/** Tokens made only of what addresses and ranges are written with (a host name has other letters). */
const ADDRESS_LIKE = /^[0-9][0-9A-Fa-fXx.]*(?:-[0-9A-Fa-fXx.]*)?$/;
const RANGE_EXAMPLE = 'a range like 10.1.0.50-10.1.0.99 (no blanks round the dash) or a single address';

function describeNet(net: NetBuild): string {
  return `${ipToString(net.address)}/${net.prefixLength}`;
}

function broadcastOf(net: { address: number; mask: number }): number {
  return (net.address | ~net.mask) >>> 0;
}

/** Parses one range field into the owner's list, reporting what does not fit. */
function addRange(field: Field, net: NetBuild, owner: OwnerBuild, lineNo: number, problems: FileProblems): void {
  const text = field.text;
  const dash = text.indexOf('-');
  const parts: Array<{ text: string; column: number }> =
    dash < 0
      ? [{ text, column: field.column }]
      : [
          { text: text.slice(0, dash), column: field.column },
          { text: text.slice(dash + 1), column: field.column + dash + 1 },
        ];
  if (dash >= 0 && (parts[0]!.text === '' || parts[1]!.text === '' || parts[1]!.text.includes('-'))) {
    problems.error(lineNo, field.column, `"${text}" is not a range: expected ${RANGE_EXAMPLE}`);
    return;
  }
  const values: number[] = [];
  for (const part of parts) {
    const parsed = inetAddr(part.text);
    if (!parsed.ok) {
      problems.error(lineNo, part.column, `${parsed.reason}; expected ${RANGE_EXAMPLE}`);
      return;
    }
    if ((parsed.value & net.mask) >>> 0 !== net.address) {
      problems.error(
        lineNo,
        part.column,
        `${ipToString(parsed.value)} lies outside network ${describeNet(net)} (mask ${ipToString(net.mask)}, ${net.maskOrigin})`,
      );
      return;
    }
    values.push(parsed.value);
  }
  const start = values[0]!;
  const end = values[values.length - 1]!;
  if (start > end) {
    problems.error(lineNo, field.column, `range start ${ipToString(start)} is above its end ${ipToString(end)}`);
    return;
  }
  // On a network with room for hosts, its own number and broadcast address are never a client's.
  if (net.prefixLength <= 30) {
    if (start === net.address) {
      problems.error(lineNo, field.column, `range ${text} includes the network's own number ${ipToString(net.address)}`);
      return;
    }
    if (end === broadcastOf(net)) {
      problems.error(
        lineNo,
        field.column,
        `range ${text} includes the broadcast address ${ipToString(end)} of ${describeNet(net)}`,
      );
      return;
    }
  }
  owner.ranges.push({ start, end, line: lineNo, column: field.column, owner });
}

function place(problems: FileProblems, r: RangeAt): string {
  return `${problems.file}:${r.line}:${r.column}`;
}

function rangeText(r: AddressRange): string {
  return r.start === r.end ? ipToString(r.start) : `${ipToString(r.start)}-${ipToString(r.end)}`;
}

/** Sorted, with overlapping and adjacent ranges joined. */
export function mergeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: AddressRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end + 1) {
      if (r.end > last.end) last.end = r.end;
    } else {
      merged.push({ start: r.start, end: r.end });
    }
  }
  return merged;
}

/** Reports overlaps within a network: an error between owners, a warning within one owner (or between two owners that are both us). */
function checkOverlaps(net: NetBuild, problems: FileProblems): void {
  const all: RangeAt[] = [];
  for (const owner of net.owners.values()) all.push(...owner.ranges);
  all.sort((a, b) => a.start - b.start || a.line - b.line || a.column - b.column);
  let active: RangeAt[] = [];
  for (const r of all) {
    active = active.filter((a) => a.end >= r.start);
    for (const a of active) {
      // Report at whichever of the two comes later in the file, naming the earlier one.
      const [first, later] = a.line < r.line || (a.line === r.line && a.column <= r.column) ? [a, r] : [r, a];
      if (a.owner === r.owner) {
        problems.warning(
          later.line,
          later.column,
          `range ${rangeText(later)} overlaps range ${rangeText(first)} of the same owner at ${place(problems, first)}; they are merged`,
        );
      } else if (a.owner.ours && r.owner.ours && a.owner.failover !== r.owner.failover) {
        const pair = later.owner.failover !== undefined ? later.owner : first.owner;
        problems.error(
          later.line,
          later.column,
          `range ${rangeText(later)} of ${later.owner.owner} overlaps range ${rangeText(first)} of ${first.owner.owner} at ${place(problems, first)}; a range of the failover relationship ${pair.owner} must not overlap a range this server serves alone`,
        );
      } else if (a.owner.ours && r.owner.ours) {
        problems.warning(
          later.line,
          later.column,
          `range ${rangeText(later)} of ${later.owner.owner} overlaps range ${rangeText(first)} of ${first.owner.owner} at ${place(problems, first)}; both owners are this server, so they are merged`,
        );
      } else {
        problems.error(
          later.line,
          later.column,
          `range ${rangeText(later)} of ${later.owner.owner} overlaps range ${rangeText(first)} of ${first.owner.owner} at ${place(problems, first)}; ranges of different servers must not overlap`,
        );
      }
    }
    active.push(r);
  }
}

function finish(net: NetBuild): NetworkConfig {
  const owners: NetOwner[] = [];
  let served = false;
  // Ours alone (undefined) and the pair's, merged apart: a failover range is never joined to one of ours.
  const ours = new Map<string | undefined, AddressRange[]>();
  for (const o of net.owners.values()) {
    const ranges = mergeRanges(o.ranges);
    owners.push({ owner: o.owner, ours: o.ours, failover: o.failover, ranges, source: o.source });
    served ||= o.ours;
    if (!o.ours) continue;
    const list = ours.get(o.failover);
    if (list) list.push(...ranges);
    else ours.set(o.failover, [...ranges]);
  }
  const ourRanges: OurRange[] = [];
  for (const [failover, ranges] of ours) for (const r of mergeRanges(ranges)) ourRanges.push({ ...r, failover });
  ourRanges.sort((a, b) => a.start - b.start);
  return {
    address: net.address,
    mask: net.mask,
    prefixLength: net.prefixLength,
    owners,
    ourRanges,
    served,
    source: net.source,
  };
}

/** Whether an address is a network number under the mask netmasks (or its class) gives it. */
function isNetworkNumber(address: number, masks: MaskTable): boolean {
  const choice = masks.maskFor(address);
  return choice.prefixLength <= 30 && (address & ~choice.mask) >>> 0 === 0;
}

/** A poisoned current network: continuation lines after a bad network line are skipped quietly. */
const SKIP = Symbol('skip');

/**
 * Parses nets text. `masks` gives each network its mask; `self` says which owners are us; `relationship`
 * is the failover relationship name of server.pcy (null: no failover), whose ranges are ours too.
 */
export function parseNets(
  text: string,
  problems: FileProblems,
  masks: MaskTable,
  self: SelfMatcher,
  relationship: string | null = null,
): NetworkConfig[] {
  const nets = new Map<number, NetBuild>();
  let current: NetBuild | typeof SKIP | undefined;
  let currentOwner: OwnerBuild | undefined;

  const ownerOf = (net: NetBuild, field: Field, lineNo: number): OwnerBuild => {
    const name = field.text;
    const key = name.toLowerCase();
    let owner = net.owners.get(key);
    if (!owner) {
      // Compared without case, as host names are (the owners of a network are told apart without case too).
      const failover = relationship !== null && key === relationship.toLowerCase() ? relationship : undefined;
      owner = {
        owner: name,
        ours: failover !== undefined || self.isSelf(name),
        failover,
        source: problems.source(lineNo),
        ranges: [],
      };
      net.owners.set(key, owner);
      if (!owner.ours && !isHostName(name) && parseInetAddr(name) === undefined && !self.inHosts(name)) {
        // Not a host and not an address: only a failover relationship is named so (dhcp_fail).
        const ours =
          relationship === null ? 'server.pcy configures no failover' : `this server's relationship is ${relationship}`;
        problems.warning(
          lineNo,
          field.column,
          `owner ${name} is neither a host name nor an address, so it names a failover relationship, and ${ours}: this server does not serve the ranges of ${name} in ${describeNet(net)}`,
        );
      }
    }
    return owner;
  };

  const lines = splitLines(text);
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const fields = fieldsOf(lines[index]!);
    if (fields.length === 0) continue;
    const first = fields[0]!;
    const addressLike = ADDRESS_LIKE.test(first.text);
    const isRange = addressLike && first.text.includes('-');
    const single = addressLike && !isRange ? inetAddr(first.text) : undefined;
    if (single && !single.ok && fields.length > 1) {
      problems.error(lineNo, first.column, `${single.reason}; expected a network number, an owner or a range`);
      current = SKIP;
      continue;
    }
    const singleValue = single?.ok ? single.value : undefined;
    const net = current === SKIP ? undefined : current;
    // An address inside the current network starts a line of ranges, unless a later field is plainly
    // not a range (a host name): then it was meant as a network line, and its errors say so.
    const insideCurrent =
      net !== undefined &&
      singleValue !== undefined &&
      (singleValue & net.mask) >>> 0 === net.address &&
      singleValue !== net.address &&
      fields.every((f) => ADDRESS_LIKE.test(f.text) || f.text === '-');

    let kind: 'network' | 'owner' | 'ranges';
    if (fields.length === 1 || isRange || insideCurrent) kind = 'ranges';
    else if (!addressLike) kind = 'owner';
    else if (fields.length >= 3 || singleValue === undefined || nets.has(singleValue)) kind = 'network';
    // Two fields: an owner and a range, unless the first is a network number (no host bits under its
    // mask: no host is addressed so), which then is a network with its owner and no range.
    else kind = isNetworkNumber(singleValue, masks) ? 'network' : 'owner';

    if (kind !== 'network' && current === SKIP) continue;
    if (kind !== 'network' && net === undefined) {
      problems.error(
        lineNo,
        first.column,
        'expected "network owner range…": no network line comes before this continuation line',
      );
      current = SKIP;
      continue;
    }

    if (kind === 'ranges') {
      if (insideCurrent && fields.length > 1) {
        problems.warning(
          lineNo,
          first.column,
          `${first.text} lies in network ${describeNet(net)}, so this line is read as ${fields.length} ranges of ${currentOwner!.owner}; to name an owner here, write it as a host name or repeat the network: "${ipToString(net.address)} ${first.text} …"`,
        );
      }
      for (const field of fields) addRange(field, net!, currentOwner!, lineNo, problems);
      continue;
    }

    if (kind === 'owner') {
      currentOwner = ownerOf(net!, first, lineNo);
      for (const field of fields.slice(1)) addRange(field, net!, currentOwner, lineNo, problems);
      continue;
    }

    // A network line.
    if (fields.length < 2) {
      problems.error(
        lineNo,
        fields[0]!.column + fields[0]!.text.length,
        'expected "network owner range…": a network line needs an owner (and its ranges)',
      );
      current = SKIP;
      continue;
    }
    const address = singleValue!;
    const choice = masks.maskFor(address);
    if (choice.entry === undefined && choice.prefixLength === 32) {
      problems.error(lineNo, first.column, `${ipToString(address)} is not a class A, B or C network; give its mask in netmasks`);
      current = SKIP;
      continue;
    }
    if ((address & ~choice.mask) >>> 0 !== 0) {
      problems.error(
        lineNo,
        first.column,
        `network ${ipToString(address)} has host bits set under mask ${ipToString(choice.mask)} (${maskOrigin(choice)}); expected ${ipToString((address & choice.mask) >>> 0)} or a netmasks entry for it`,
      );
      current = SKIP;
      continue;
    }
    let build = nets.get(address);
    if (!build) {
      build = {
        address,
        mask: choice.mask,
        prefixLength: choice.prefixLength,
        maskOrigin: maskOrigin(choice),
        source: problems.source(lineNo),
        line: lineNo,
        column: first.column,
        owners: new Map(),
      };
      nets.set(address, build);
    }
    current = build;
    const ownerField = fields[1]!;
    if (ownerField.text.includes('-') && ADDRESS_LIKE.test(ownerField.text)) {
      problems.error(
        lineNo,
        ownerField.column,
        `"${ownerField.text}" looks like a range where the owner belongs: expected "network owner range…"`,
      );
      current = SKIP;
      continue;
    }
    currentOwner = ownerOf(build, ownerField, lineNo);
    for (const field of fields.slice(2)) addRange(field, build, currentOwner, lineNo, problems);
  }

  const builds = [...nets.values()];
  checkNetworkOverlaps(builds, problems);
  for (const build of builds) checkOverlaps(build, problems);
  return builds.map(finish);
}

function checkNetworkOverlaps(builds: NetBuild[], problems: FileProblems): void {
  const sorted = [...builds].sort((a, b) => a.address - b.address);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const next = sorted[i]!;
    if (next.address <= broadcastOf(prev)) {
      const [first, later] = prev.line <= next.line ? [prev, next] : [next, prev];
      problems.error(
        later.line,
        later.column,
        `network ${describeNet(later)} overlaps network ${describeNet(first)} at ${first.source}`,
      );
    }
  }
}

/** Reads nets; a missing file means no networks (a warning: the server would serve nobody). */
export function readNets(
  file: string,
  problems: FileProblems,
  masks: MaskTable,
  self: SelfMatcher,
  relationship: string | null = null,
): NetworkConfig[] {
  const text = readOptional(file, problems, 'nets file');
  if (text === undefined) {
    if (!fs.existsSync(file))
      problems.warning(0, 0, 'no nets file: this server administers no network and will answer no client');
    return [];
  }
  return parseNets(text, problems, masks, self, relationship);
}
