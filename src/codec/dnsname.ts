// Domain names in RFC 1035 wire format, as options 81 (RFC 4702) and 119 (RFC 3397) carry them.
//
// Text form: labels joined by '.', with the master-file escapes of RFC 1035 section 5.1 for bytes that
// would otherwise be ambiguous or unprintable: "\." for a dot inside a label, "\\" for a backslash,
// "\DDD" (three decimal digits) for any byte outside 0x21..0x7e. So every wire name has exactly one text
// form and decode → encode gives the same bytes back.
//
// Bytes from the network are hostile: every loop below is bounded by the input length, a compression
// pointer must point strictly backwards (so following pointers always makes progress towards offset 0 and
// cannot loop), and a name longer than 255 octets is refused.

const MAX_NAME_OCTETS = 255;
const MAX_LABEL_OCTETS = 63;

export type NameResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** Appends the text form of one label to `text`. */
function labelToText(bytes: Buffer, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === 0x2e || byte === 0x5c) text += '\\' + String.fromCharCode(byte);
    else if (byte < 0x21 || byte > 0x7e) text += '\\' + byte.toString().padStart(3, '0');
    else text += String.fromCharCode(byte);
  }
  return text;
}

/**
 * Reads one name starting at `start`. `allowPointers` enables RFC 1035 compression (option 119); a name
 * may also end without the root label when `allowPartial` (option 81 partial names, RFC 4702 2.3.1).
 * Returns the text (labels joined by '.'), whether it ended with the root label, and where the name ends in
 * the original byte sequence (after the root label or the first pointer).
 */
function readName(
  bytes: Buffer,
  start: number,
  allowPointers: boolean,
  allowPartial: boolean,
): { ok: true; text: string; absolute: boolean; next: number } | { ok: false; message: string } {
  let text = '';
  let offset = start;
  let next = -1; // where the name ends in the sequence, once a pointer has been followed
  let octets = 0;
  // A pointer must go strictly below the lowest offset visited so far: each jump lowers it, so the
  // number of jumps is bounded by the input length and pointer loops are impossible.
  let lowest = start;
  for (;;) {
    if (offset >= bytes.length) {
      if (allowPartial && next === -1) return { ok: true, text, absolute: false, next: offset };
      return { ok: false, message: `name at ${start} runs past the end of the option` };
    }
    const length = bytes[offset]!;
    if (length === 0) {
      return { ok: true, text, absolute: true, next: next === -1 ? offset + 1 : next };
    }
    if ((length & 0xc0) === 0xc0) {
      if (!allowPointers) return { ok: false, message: `compression pointer at ${offset} not allowed here` };
      if (offset + 1 >= bytes.length) return { ok: false, message: `truncated pointer at ${offset}` };
      const target = ((length & 0x3f) << 8) | bytes[offset + 1]!;
      if (target >= lowest) {
        return { ok: false, message: `pointer at ${offset} to ${target} does not point backwards` };
      }
      if (next === -1) next = offset + 2;
      lowest = target;
      offset = target;
      continue;
    }
    if ((length & 0xc0) !== 0) return { ok: false, message: `bad label type 0x${length.toString(16)} at ${offset}` };
    if (offset + 1 + length > bytes.length) {
      return { ok: false, message: `label at ${offset} of length ${length} runs past the end` };
    }
    octets += 1 + length;
    if (octets + 1 > MAX_NAME_OCTETS) return { ok: false, message: `name at ${start} longer than 255 octets` };
    if (text.length > 0) text += '.';
    text += labelToText(bytes, offset + 1, offset + 1 + length);
    if (offset < lowest) lowest = offset;
    offset += 1 + length;
  }
}

/** Splits a text name into label byte strings, undoing the escapes. The root name is "" or ".". */
function textToLabels(name: string): NameResult<{ labels: Buffer[]; absolute: boolean }> {
  const labels: Buffer[] = [];
  if (name === '' || name === '.') return { ok: true, value: { labels, absolute: name === '.' } };
  let current: number[] = [];
  let absolute = false;
  let octets = 1;
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch === 0x5c) {
      const d = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(d)) {
        const value = Number(d);
        if (value > 255) return { ok: false, message: `escape \\${d} in "${name}" is not a byte` };
        current.push(value);
        i += 3;
      } else if (i + 1 < name.length) {
        const escaped = name.charCodeAt(i + 1);
        if (escaped > 255) return { ok: false, message: `character outside latin1 in "${name}"` };
        current.push(escaped);
        i += 1;
      } else {
        return { ok: false, message: `"${name}" ends with a lone backslash` };
      }
    } else if (ch === 0x2e) {
      if (current.length === 0) return { ok: false, message: `empty label in "${name}"` };
      labels.push(Buffer.from(current));
      octets += 1 + current.length;
      current = [];
      if (i === name.length - 1) absolute = true;
    } else {
      if (ch > 255) return { ok: false, message: `character outside latin1 in "${name}"` };
      current.push(ch);
    }
    if (current.length > MAX_LABEL_OCTETS) return { ok: false, message: `label longer than 63 octets in "${name}"` };
  }
  if (!absolute) {
    labels.push(Buffer.from(current));
    octets += 1 + current.length;
  }
  if (octets > MAX_NAME_OCTETS) return { ok: false, message: `"${name}" is longer than 255 octets` };
  return { ok: true, value: { labels, absolute } };
}

/**
 * Option 119 (RFC 3397): a list of absolute names, compression pointers relative to the start of the
 * (joined) option value. Names are returned without the trailing dot ("example.com"); the root is "".
 */
export function decodeDomainList(bytes: Buffer): NameResult<string[]> {
  const names: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const name = readName(bytes, offset, true, false);
    if (!name.ok) return name;
    names.push(name.text);
    offset = name.next; // always > offset: a name occupies at least one byte
  }
  return { ok: true, value: names };
}

/** Option 119 encoder; compresses repeated suffixes with pointers as RFC 3397 recommends. */
export function encodeDomainList(names: readonly string[]): NameResult<Buffer> {
  const parts: Buffer[] = [];
  // Exact wire suffix (hex of its labels) → its offset in the output. Exact, not case-folded: a pointer
  // to a differently-cased suffix would change the name the client decodes.
  const suffixOffsets = new Map<string, number>();
  let length = 0;
  for (const name of names) {
    const parsed = textToLabels(name); // every search-list name is absolute: trailing dot optional
    if (!parsed.ok) return parsed;
    const labels = parsed.value.labels;
    let pointer = -1;
    let firstShared = labels.length;
    for (let i = 0; i < labels.length; i++) {
      const key = suffixKey(labels, i);
      const at = suffixOffsets.get(key);
      if (at !== undefined && at <= 0x3fff) {
        pointer = at;
        firstShared = i;
        break;
      }
    }
    for (let i = 0; i < firstShared; i++) {
      const key = suffixKey(labels, i);
      if (!suffixOffsets.has(key)) suffixOffsets.set(key, length);
      const label = labels[i]!;
      parts.push(Buffer.from([label.length]), label);
      length += 1 + label.length;
    }
    if (pointer >= 0) {
      parts.push(Buffer.from([0xc0 | (pointer >> 8), pointer & 0xff]));
      length += 2;
    } else {
      parts.push(Buffer.from([0]));
      length += 1;
    }
  }
  return { ok: true, value: Buffer.concat(parts, length) };
}

function suffixKey(labels: readonly Buffer[], from: number): string {
  let key = '';
  for (let i = from; i < labels.length; i++) key += labels[i]!.toString('hex') + '.';
  return key;
}

/**
 * A name inside a DNS message (RFC 1035 4.1.4: compression pointers into the message allowed), as the
 * DNS client reads answers with. Text without the trailing dot ("" for the root); `next` is the offset
 * after the name in the message.
 */
export function readMessageName(message: Buffer, offset: number): NameResult<{ name: string; next: number }> {
  const name = readName(message, offset, true, false);
  if (!name.ok) return name;
  return { ok: true, value: { name: name.text, next: name.next } };
}

/**
 * Option 81 name in canonical wire format (E flag set): no compression, and a partial name (one that does
 * not end with the root label) is allowed. Text form: a fully qualified name ends with '.', a partial one
 * does not; no name at all (zero bytes) is "".
 */
export function decodeWireName(bytes: Buffer): NameResult<string> {
  if (bytes.length === 0) return { ok: true, value: '' };
  const name = readName(bytes, 0, false, true);
  if (!name.ok) return name;
  if (name.next !== bytes.length) return { ok: false, message: `bytes after the name at ${name.next}` };
  return { ok: true, value: name.absolute ? name.text + '.' : name.text };
}

export function encodeWireName(name: string): NameResult<Buffer> {
  if (name === '') return { ok: true, value: Buffer.alloc(0) };
  const parsed = textToLabels(name);
  if (!parsed.ok) return parsed;
  const { labels, absolute } = parsed.value;
  let length = absolute ? 1 : 0;
  for (const label of labels) length += 1 + label.length;
  const out = Buffer.alloc(length);
  let offset = 0;
  for (const label of labels) {
    out[offset] = label.length;
    label.copy(out, offset + 1);
    offset += 1 + label.length;
  }
  return { ok: true, value: out }; // the root label, when absolute, is the zero byte already there
}
