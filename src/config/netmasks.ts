// netmasks: `network mask` per line, for networks whose mask is not the classful one. As in the
// classic netmasks(4) file, an entry covers every address of the region its network number is written
// for (the trailing zero octets: 172.20.0.0 covers 172.20.x.x) and gives that region's subnets their
// mask; a more specific entry (172.20.8.0 255.255.255.240) subnets one of those subnets again. The
// entry covering the smallest region wins.

import type { NetmaskEntry } from './types';
import type { FileProblems } from './problems';
import { fieldsOf, splitLines } from './lines';
import { readOptional } from './files';
import { inetAddr } from './inetaddr';
import { classfulMask, ipToString, maskFromPrefix, prefixFromMask } from '../util/ipv4';

/** Prefix length of the region a network number is written for: up to its last non-zero octet. */
function writtenPrefix(network: number): number {
  if (network === 0) return 0;
  if ((network & 0xffffff) === 0) return 8;
  if ((network & 0xffff) === 0) return 16;
  if ((network & 0xff) === 0) return 24;
  return 32;
}

interface CoveringEntry {
  entry: NetmaskEntry;
  regionPrefix: number;
  regionMask: number;
}

/** Where a network's mask came from, for messages and `joind --check`. */
export interface MaskChoice {
  mask: number;
  prefixLength: number;
  /** The netmasks entry used, or undefined when the classful mask applies. */
  entry?: NetmaskEntry;
}

/** The masks of netmasks, looked up by address. */
export class MaskTable {
  private readonly covering: CoveringEntry[];

  constructor(readonly entries: readonly NetmaskEntry[]) {
    this.covering = entries.map((entry) => {
      const regionPrefix = Math.min(writtenPrefix(entry.network), prefixFromMask(entry.mask) ?? 32);
      return { entry, regionPrefix, regionMask: maskFromPrefix(regionPrefix) };
    });
    // Most specific region first, so the first hit is the winner.
    this.covering.sort((a, b) => b.regionPrefix - a.regionPrefix);
  }

  /** The mask for the network containing `address`: netmasks if an entry covers it, else classful. */
  maskFor(address: number): MaskChoice {
    for (const c of this.covering) {
      if ((address & c.regionMask) >>> 0 === (c.entry.network & c.regionMask) >>> 0) {
        return { mask: c.entry.mask, prefixLength: prefixFromMask(c.entry.mask)!, entry: c.entry };
      }
    }
    const mask = classfulMask(address);
    return { mask, prefixLength: prefixFromMask(mask)! };
  }
}

/** Describes where a mask came from: "netmasks:3" or "classful". */
export function maskOrigin(choice: MaskChoice): string {
  return choice.entry ? `from ${choice.entry.source}` : 'classful';
}

/** Parses netmasks text into entries (in file order). */
export function parseNetmasks(text: string, problems: FileProblems): NetmaskEntry[] {
  const entries: NetmaskEntry[] = [];
  const seen = new Map<string, { entry: NetmaskEntry; line: number }>();
  const lines = splitLines(text);
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const fields = fieldsOf(lines[index]!);
    if (fields.length === 0) continue;
    const [networkField, maskField, extra] = fields;
    if (maskField === undefined) {
      problems.error(
        lineNo,
        networkField!.column + networkField!.text.length,
        'expected a mask after the network: "network mask", e.g. 172.20.0.0 255.255.255.0',
      );
      continue;
    }
    if (extra !== undefined) {
      problems.error(lineNo, extra.column, `unexpected "${extra.text}": a netmasks line is "network mask"`);
      continue;
    }
    const network = inetAddr(networkField!.text);
    if (!network.ok) {
      problems.error(lineNo, networkField!.column, `${network.reason}; expected a network number`);
      continue;
    }
    const mask = inetAddr(maskField.text);
    if (!mask.ok) {
      problems.error(lineNo, maskField.column, `${mask.reason}; expected a mask like 255.255.255.0`);
      continue;
    }
    if (prefixFromMask(mask.value) === undefined) {
      problems.error(
        lineNo,
        maskField.column,
        `mask ${ipToString(mask.value)} is not contiguous; expected leading one bits then zero bits`,
      );
      continue;
    }
    if ((network.value & ~mask.value) >>> 0 !== 0) {
      const expected = ipToString((network.value & mask.value) >>> 0);
      problems.error(
        lineNo,
        networkField!.column,
        `network ${ipToString(network.value)} has host bits set under mask ${ipToString(mask.value)}; expected ${expected}`,
      );
      continue;
    }
    const entry: NetmaskEntry = { network: network.value, mask: mask.value, source: problems.source(lineNo) };
    const key = `${network.value}/${writtenPrefix(network.value)}`;
    const earlier = seen.get(key);
    if (earlier) {
      if (earlier.entry.mask === entry.mask) {
        problems.warning(lineNo, networkField!.column, `network ${ipToString(entry.network)} repeats line ${earlier.line}`);
      } else {
        problems.error(
          lineNo,
          maskField.column,
          `network ${ipToString(entry.network)} was given mask ${ipToString(earlier.entry.mask)} at ${earlier.entry.source}; a network has one mask`,
        );
      }
      continue;
    }
    seen.set(key, { entry, line: lineNo });
    entries.push(entry);
  }
  return entries;
}

/** Reads netmasks; a missing file means no entries (every network classful). */
export function readNetmasks(file: string, problems: FileProblems): NetmaskEntry[] {
  const text = readOptional(file, problems, 'netmasks file');
  return text === undefined ? [] : parseNetmasks(text, problems);
}
