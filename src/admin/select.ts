// Which records `joind dump`, `joind show` and the control API's lease list return, and the table of
// `joind show` (showdbs). Pure.
import { holdsAddress } from '../alloc/pool';
import { formatColumns } from '../util/columns';
import { LEASE_STATE_NAMES, LeaseRecord, LeaseState } from '../store/types';
import { hexColons, ipToString, parseIp } from '../util/ipv4';
import { formatHumanDate } from './dates';
import { parseHex } from './records';

export interface Selection {
  /** -c: only records that hold their address now; -e: only those that do not. */
  active?: boolean;
  expired?: boolean;
  /** -s: changed (last transaction) at or after this time. */
  since?: number;
  /**
   * -k: one record, by IP address, hardware address or client key, or jdbdump's own key form "htype
   * hwaddr subnet" (e.g. "1 08002b123456 10.1.0.0": the client's lease on that network).
   */
  key?: string;
  /** Free-text search (control API): in address, hardware address, names. */
  search?: string;
}

/** jdbdump's key "htype hwaddr subnet", parsed; undefined when the key is not of that form. */
function jdbKey(key: string): { htype: number; hwaddr: Buffer; network: number } | undefined {
  const words = key.trim().split(/\s+/);
  if (words.length !== 3 || !/^\d{1,3}$/.test(words[0]!)) return undefined;
  const htype = Number(words[0]);
  const hwaddr = parseHex(words[1]!);
  const network = parseIp(words[2]!);
  if (htype > 255 || !hwaddr || network === undefined) return undefined;
  return { htype, hwaddr, network };
}

/** Why a -k key is unusable, or undefined when it is an address, hex bytes or jdbdump's key form. */
export function badKey(key: string): string | undefined {
  return parseIp(key) !== undefined || parseHex(key) || jdbKey(key)
    ? undefined
    : `-k ${key}: expected an IP address, a hardware address / client id in hex, or "htype hwaddr subnet" (jdbdump's key, e.g. "1 08002b123456 10.1.0.0")`;
}

export function selects(lease: LeaseRecord, sel: Selection, nowSec: number): boolean {
  if (sel.active && !holdsAddress(lease, nowSec)) return false;
  if (sel.expired && holdsAddress(lease, nowSec)) return false;
  if (sel.since !== undefined && lease.cltt < sel.since) return false;
  if (sel.key !== undefined) {
    const address = parseIp(sel.key);
    const jdb = address === undefined ? jdbKey(sel.key) : undefined;
    if (address !== undefined) {
      if (lease.address !== address) return false;
    } else if (jdb) {
      if (lease.network !== jdb.network || lease.htype !== jdb.htype || !lease.hwaddr?.equals(jdb.hwaddr)) return false;
    } else {
      const bytes = parseHex(sel.key);
      if (!bytes) return false;
      const matches = (b: Buffer | null | undefined): boolean => !!b && b.equals(bytes);
      if (!matches(lease.hwaddr) && !matches(lease.client?.id) && !matches(lease.clientId)) return false;
    }
  }
  if (sel.search !== undefined && sel.search !== '') {
    const needle = sel.search.toLowerCase();
    const hay = [
      ipToString(lease.address),
      lease.hwaddr ? hexColons(lease.hwaddr) : '',
      lease.hostname ?? '',
      lease.clientHostname ?? '',
    ]
      .join(' ')
      .toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

/** The readable table of `joind show`: address, hardware address, state, ends, names. */
export function formatTable(leases: Iterable<LeaseRecord>, nowSec: number): string {
  const rows: string[][] = [['ADDRESS', 'HARDWARE ADDRESS', 'STATE', 'ENDS (UTC)', 'NAMES']];
  for (const l of leases) {
    const state = l.state === LeaseState.ACTIVE && !holdsAddress(l, nowSec) ? 'ended' : LEASE_STATE_NAMES[l.state];
    const names = [l.hostname, l.clientHostname && l.clientHostname !== l.hostname ? `(client: ${l.clientHostname})` : null]
      .filter((n): n is string => !!n)
      .join(' ');
    rows.push([
      ipToString(l.address),
      l.hwaddr ? hexColons(l.hwaddr) : '-',
      state,
      l.ends === null ? 'never' : formatHumanDate(l.ends),
      names || '-',
    ]);
  }
  return formatColumns(rows);
}
