// Hardware types and hardware addresses as dhcpcap writes them (joind-spec.md 5.1).
// Address forms: plain hex (0800090324AC), bytes separated by '-', '.' or blanks (08-00-09-03-24-AC,
// 8.0.9.3.24.ac), groups with 0x prefixes (0x08 0x00 …, 0X7F0XFF0X81000A47), and, only inside a quoted
// value (a bare ':' ends a dhcpcap field), colons (08:00:09:03:24:ac). A group of one hex digit is one
// byte; a longer group must have an even number of digits.

/** Hardware type names (and the docs' "protnet" spelling) → ARP hardware type number. */
export const HARDWARE_TYPE_NAMES: ReadonlyMap<string, number> = new Map([
  ['ethernet', 1],
  ['ether', 1],
  ['ethernet3', 2],
  ['ether3', 2],
  ['ax.25', 3],
  ['pronet', 4],
  ['protnet', 4],
  ['chaos', 5],
  ['token-ring', 6],
  ['tr', 6],
  ['ieee802', 6],
  ['arcnet', 7],
]);

const CANONICAL_NAMES: Record<number, string> = {
  1: 'ethernet',
  2: 'ethernet3',
  3: 'ax.25',
  4: 'pronet',
  5: 'chaos',
  6: 'ieee802',
  7: 'arcnet',
};

/** Address length of the classic types (as in RFC 1700 / CMU bootpd); other types take 1–16 bytes. */
const HARDWARE_LENGTHS: Record<number, number> = { 1: 6, 2: 1, 3: 7, 4: 1, 5: 2, 6: 6, 7: 1 };

/** The hardware type of a name or number 1–255, or undefined. */
export function parseHardwareType(text: string): number | undefined {
  const named = HARDWARE_TYPE_NAMES.get(text.toLowerCase());
  if (named !== undefined) return named;
  const number = parseUnsigned(text);
  return number !== undefined && number >= 1 && number <= 255 ? number : undefined;
}

/** "ethernet" for 1, the number for types without a name. */
export function hardwareTypeName(htype: number): string {
  return CANONICAL_NAMES[htype] ?? String(htype);
}

/** The address length a type requires, or undefined when any length of 1–16 is accepted. */
export function hardwareLength(htype: number): number | undefined {
  return HARDWARE_LENGTHS[htype];
}

/** Decimal, octal (leading 0) or hex (0x) non-negative integer, as dhcpcap writes integers. */
export function parseUnsigned(text: string): number | undefined {
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) value = parseInt(text.slice(2), 16);
  else if (/^0[0-7]+$/.test(text)) value = parseInt(text.slice(1), 8);
  else if (/^(?:0|[1-9][0-9]*)$/.test(text)) value = parseInt(text, 10);
  else return undefined;
  return Number.isSafeInteger(value) ? value : undefined;
}

export type HexResult = { ok: true; bytes: Buffer } | { ok: false; reason: string; offset: number };

function isHex(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/** Parses hex bytes in any of the forms above; `allowColon` when the value was quoted. */
export function parseHexBytes(text: string, allowColon: boolean): HexResult {
  const groups: Array<{ digits: string; offset: number }> = [];
  let group: { digits: string; offset: number } | undefined;
  let prefixed = false;
  const close = (): HexResult | undefined => {
    if (prefixed && (!group || group.digits.length === 0)) {
      return { ok: false, reason: '"0x" is not followed by hex digits', offset: group ? group.offset : text.length };
    }
    if (group && group.digits.length > 0) groups.push(group);
    group = undefined;
    prefixed = false;
    return undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      const failed = close();
      if (failed) return failed;
      group = { digits: '', offset: i };
      prefixed = true;
      i++;
      continue;
    }
    if (isHex(c)) {
      if (!group) group = { digits: '', offset: i };
      group.digits += c;
      continue;
    }
    if (c === '-' || c === '.' || c === ' ' || c === '\t' || (c === ':' && allowColon)) {
      const failed = close();
      if (failed) return failed;
      continue;
    }
    const hint = c === ':' ? ' (a colon-separated address must be quoted: ha="08:00:2b:12:34:56")' : '';
    return { ok: false, reason: `"${c}" is not a hex digit or separator${hint}`, offset: i };
  }
  const failed = close();
  if (failed) return failed;
  if (groups.length === 0) return { ok: false, reason: 'no hex digits', offset: 0 };
  const bytes: number[] = [];
  for (const g of groups) {
    if (g.digits.length === 1) {
      bytes.push(parseInt(g.digits, 16));
      continue;
    }
    if (g.digits.length % 2 !== 0) {
      return {
        ok: false,
        reason: `"${g.digits}" has an odd number of hex digits; write each byte as two digits`,
        offset: g.offset,
      };
    }
    for (let j = 0; j < g.digits.length; j += 2) bytes.push(parseInt(g.digits.slice(j, j + 2), 16));
  }
  return { ok: true, bytes: Buffer.from(bytes) };
}
