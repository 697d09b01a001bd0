// Address text as join.ipaddresses(4) defines it for every JOIN file: the inet_addr(3) forms.
//   a.b.c.d   four fields of 8 bits each
//   a.b.d     d fills the last 16 bits       (10.1.300  = 10.1.1.44)
//   a.d       d fills the last 24 bits       (10.65536  = 10.1.0.0)
//   d         d is the whole 32-bit address  (167837953 = 10.1.0.1)
// Each field is decimal, octal (leading 0) or hexadecimal (0x/0X), chosen per field. Unlike the C
// library we reject a field that overflows its width instead of silently wrapping it, and we accept no
// blanks or signs: a config address that means something other than what it looks like is a trap.

export type InetAddrResult = { ok: true; value: number } | { ok: false; reason: string };

const FIELD_LIMITS: ReadonlyArray<ReadonlyArray<number>> = [
  [0xffffffff],
  [0xff, 0xffffff],
  [0xff, 0xff, 0xffff],
  [0xff, 0xff, 0xff, 0xff],
];

const FORM_NAMES = ['d', 'a.d', 'a.b.d', 'a.b.c.d'];

/** Parses one field; returns undefined when it is not a number in one of the three radixes. */
function parseField(field: string): number | undefined {
  if (field.length === 0) return undefined;
  let digits: string;
  let radix: number;
  let pattern: RegExp;
  if (/^0[xX]/.test(field)) {
    digits = field.slice(2);
    radix = 16;
    pattern = /^[0-9a-fA-F]+$/;
  } else if (field.length > 1 && field[0] === '0') {
    digits = field.slice(1);
    radix = 8;
    pattern = /^[0-7]+$/;
  } else {
    digits = field;
    radix = 10;
    pattern = /^[0-9]+$/;
  }
  if (!pattern.test(digits)) return undefined;
  // Long digit strings would lose precision in a double; they are out of range anyway.
  const trimmed = digits.replace(/^0+(?=.)/, '');
  if (trimmed.length > 11) return Number.POSITIVE_INFINITY;
  return parseInt(trimmed, radix);
}

/** Parses inet_addr text, with the reason when it is not an address. */
export function inetAddr(text: string): InetAddrResult {
  if (text.length === 0) return { ok: false, reason: 'expected an address, found nothing' };
  const fields = text.split('.');
  if (fields.length > 4)
    return { ok: false, reason: `"${text}" has ${fields.length} dot-separated fields; an address has at most 4` };
  const limits = FIELD_LIMITS[fields.length - 1]!;
  let value = 0;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const number = parseField(field);
    if (number === undefined) {
      const what = field.length === 0 ? 'an empty field' : `field "${field}"`;
      return {
        ok: false,
        reason: `"${text}" is not an address: ${what} is not a decimal, octal (0…) or hex (0x…) number`,
      };
    }
    const limit = limits[i]!;
    if (number > limit) {
      return {
        ok: false,
        reason: `"${text}" is not an address: field "${field}" is larger than ${limit} (form ${FORM_NAMES[fields.length - 1]})`,
      };
    }
    // The last field fills all remaining low-order bits; the others are single octets.
    value = i === fields.length - 1 ? value * (limit + 1) + number : value * 256 + number;
  }
  return { ok: true, value: value >>> 0 };
}

/** The address, or undefined when the text is not one. */
export function parseInetAddr(text: string): number | undefined {
  const result = inetAddr(text);
  return result.ok ? result.value : undefined;
}
