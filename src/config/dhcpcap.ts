// dhcpcap (JOIN's name; bootptab on Tru64): termcap-like entries `label:tg=value:tg:tg@:…` giving the
// parameters of clients, networks, classes and templates (joind-spec.md 5). An entry is one logical
// line: a `\` at the end of a line continues it (blanks after the `\` are tolerated with a warning).
// Lines whose first non-blank character is `#` are comments, except inside a continued entry. A value
// in double quotes may hold `:`, `#` and blanks; there are no escapes inside quotes.
//
// tc=label includes another entry depth-first; the entry's own tags win over included ones, and an
// earlier tc wins over a later one (termcap's first-found rule). `tg@` cancels a tag an included entry
// would give, also for entries that include this one.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CapEntry, Dhcpcap, EntryScope, TagValue } from './types';
import type { FileProblems, ProblemSink } from './problems';
import { CAP_TAGS, TAG_ALIASES, genericTag, parseTagValue, type TagSpec } from './tags';
import { hardwareLength, hardwareTypeName } from './hwaddr';
import { splitLines } from './lines';
import { FrozenMap } from './frozen';
import { tagNotImplemented } from './effect';

interface Position {
  line: number;
  column: number;
}

/** One entry's text joined over its continuation lines, with a map back to file positions. */
interface LogicalLine {
  text: string;
  segments: Array<{ at: number; line: number; column: number }>;
}

function positionOf(logical: LogicalLine, offset: number): Position {
  let segment = logical.segments[0]!;
  for (const s of logical.segments) {
    if (s.at > offset) break;
    segment = s;
  }
  return { line: segment.line, column: segment.column + (offset - segment.at) };
}

const CONTINUATION = /\\[ \t]*$/;

/** Joins continued lines into entries, skipping comments and blank lines. */
function logicalLines(text: string, problems: FileProblems): LogicalLine[] {
  const lines = splitLines(text);
  const result: LogicalLine[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i]!;
    const trimmed = first.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i++;
      continue;
    }
    const logical: LogicalLine = { text: '', segments: [] };
    for (;;) {
      const line = lines[i]!;
      logical.segments.push({ at: logical.text.length, line: i + 1, column: 1 });
      const match = CONTINUATION.exec(line);
      i++;
      if (!match) {
        logical.text += line;
        break;
      }
      if (match[0].length > 1)
        problems.warning(i, match.index + 1, 'blanks after the continuation "\\"; the line is continued anyway');
      logical.text += line.slice(0, match.index);
      if (i >= lines.length) {
        problems.warning(i, match.index + 1, 'the file ends in the middle of an entry (last line ends with "\\")');
        break;
      }
    }
    result.push(logical);
  }
  return result;
}

/** The ':'-separated fields of an entry; ':' inside double quotes does not separate. */
function splitFields(logical: LogicalLine, problems: FileProblems): Array<{ text: string; offset: number }> | undefined {
  const fields: Array<{ text: string; offset: number }> = [];
  const text = logical.text;
  let start = 0;
  let quoteAt = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoteAt = quoteAt < 0 ? i : -1;
    else if (c === ':' && quoteAt < 0) {
      fields.push({ text: text.slice(start, i), offset: start });
      start = i + 1;
    }
  }
  if (quoteAt >= 0) {
    const at = positionOf(logical, quoteAt);
    problems.error(at.line, at.column, 'this double quote is never closed (a quoted value ends before the end of its entry)');
    return undefined;
  }
  fields.push({ text: text.slice(start), offset: start });
  return fields;
}

const CANCELLED = Symbol('cancelled');
type Slot = TagValue | typeof CANCELLED;

interface RawEntry {
  label: string;
  at: Position;
  own: Map<string, Slot>;
  includes: Array<{ label: string; at: Position }>;
}

function describeChain(chain: readonly string[]): string {
  return chain.join(' → ');
}

/** Parses one entry's fields into its own tags and its tc includes. */
function parseEntry(logical: LogicalLine, problems: FileProblems): RawEntry | undefined {
  const fields = splitFields(logical, problems);
  if (!fields) return undefined;
  const labelField = fields[0]!;
  const label = labelField.text.trim();
  const labelAt = positionOf(logical, labelField.offset + (labelField.text.length - labelField.text.trimStart().length));
  if (label === '' || /[\s"]/.test(label)) {
    const hint = label === '' && logical.text.trimStart().startsWith(':') ? '; did the line before miss a "\\" at its end?' : '';
    problems.error(labelAt.line, labelAt.column, `expected an entry label before the first ":" (no blanks or quotes)${hint}`);
    return undefined;
  }
  const entry: RawEntry = { label, at: labelAt, own: new Map(), includes: [] };
  const seenAt = new Map<string, Position>();
  let htype: number | undefined;

  for (let f = 1; f < fields.length; f++) {
    const field = fields[f]!;
    const lead = field.text.length - field.text.trimStart().length;
    const body = field.text.trim();
    if (body === '') continue;
    const offset = field.offset + lead;
    const at = positionOf(logical, offset);
    const match = /^(T\d+(?:\.\d+)?|[A-Za-z0-9]{2})[ \t]*(.*)$/s.exec(body);
    if (!match) {
      problems.error(
        at.line,
        at.column,
        `"${body}" is not a tag: expected tg=value, tg or tg@ with a two-character tag, or T<option code>=value`,
      );
      continue;
    }
    const written = match[1]!;
    const tag = TAG_ALIASES.get(written) ?? written;
    const rest = match[2]!;
    const generic = CAP_TAGS.has(tag) ? undefined : genericTag(tag);
    if (typeof generic === 'string') {
      problems.error(at.line, at.column, generic);
      continue;
    }
    const spec: TagSpec | undefined = CAP_TAGS.get(tag) ?? generic;
    if (!spec) {
      problems.warning(at.line, at.column, `unknown tag "${written}" ignored`);
      continue;
    }
    const previous = tag === 'tc' ? undefined : seenAt.get(tag);
    if (previous)
      problems.warning(
        at.line,
        at.column,
        `${tag} is given again in this entry (first at ${previous.line}:${previous.column}); the later one wins`,
      );
    seenAt.set(tag, at);

    if (rest === '@') {
      if (tag === 'tc') {
        problems.error(at.line, at.column, 'tc@ makes no sense: tc includes an entry, it has no value to cancel');
        continue;
      }
      entry.own.set(tag, CANCELLED);
      if (tag === 'ht') htype = undefined;
      continue;
    }
    if (rest === '') {
      if (spec.kind === 'bool') entry.own.set(tag, true);
      else problems.error(at.line, at.column + written.length, `${tag} (${spec.meaning}) needs a value: write ${tag}=…`);
      continue;
    }
    if (rest[0] !== '=') {
      problems.error(at.line, at.column + written.length, `expected "=", "@" or ":" after the tag ${tag}, found "${rest[0]}"`);
      continue;
    }
    // The value: after '=', blanks round it dropped; quoted when it starts with a quote.
    const afterEq = body.indexOf('=') + 1;
    const rawLead = body.length - afterEq - body.slice(afterEq).trimStart().length;
    const raw = body.slice(afterEq).trim();
    let valueOffset = offset + afterEq + rawLead;
    let value = raw;
    let quoted = false;
    if (raw.startsWith('"')) {
      if (raw.length < 2 || !raw.endsWith('"') || raw.slice(1, -1).includes('"')) {
        const where = positionOf(logical, valueOffset);
        problems.error(where.line, where.column, 'a quoted value must be the whole value: expected tg="…"');
        continue;
      }
      value = raw.slice(1, -1);
      quoted = true;
      valueOffset += 1;
    } else if (raw.includes('"')) {
      const where = positionOf(logical, valueOffset + raw.indexOf('"'));
      problems.error(where.line, where.column, 'a quoted value must be the whole value: expected tg="…"');
      continue;
    }
    if (value === '') {
      const where = positionOf(logical, valueOffset);
      problems.error(where.line, where.column, `${tag} (${spec.meaning}) needs a value after "="`);
      continue;
    }
    if (tag === 'ha' && htype === undefined) {
      problems.error(at.line, at.column, 'ha must come after ht in the entry (the hardware type says how long the address is)');
      continue;
    }
    if (tag === 'ha' && !quoted) {
      // An unquoted 08:00:09:… was cut at its colons: say so once instead of one warning per byte.
      let next = f + 1;
      while (next < fields.length && /^[0-9A-Fa-f]{1,2}$/.test(fields[next]!.text.trim())) next++;
      if (next > f + 1) {
        const where = positionOf(logical, valueOffset);
        problems.error(
          where.line,
          where.column,
          `a colon-separated hardware address must be quoted: ha="${[value, ...fields.slice(f + 1, next).map((x) => x.text.trim())].join(':')}"`,
        );
        f = next - 1;
        continue;
      }
    }
    const parsed = parseTagValue(spec, value, quoted, htype);
    if (!parsed.ok) {
      const where = positionOf(logical, valueOffset + parsed.offset);
      problems.error(where.line, where.column, parsed.reason);
      continue;
    }
    if (tag === 'tc') {
      entry.includes.push({ label: parsed.value as string, at });
      continue;
    }
    if (tag === 'ht') htype = parsed.value as number;
    if (tag === 'ov')
      problems.warning(
        at.line,
        at.column,
        'ov (option overload) is decided by the encoder from the reply size; this value is ignored',
      );
    const inert = tagNotImplemented(tag, spec.meaning, parsed.value);
    if (inert) problems.warning(at.line, at.column, inert);
    entry.own.set(tag, parsed.value);
  }
  // ha must follow ht in the same entry, so an ht without an ha of its own entry can never take part.
  // (An ha that was written but is wrong has its own error.)
  const htAt = seenAt.get('ht');
  if (htAt && !seenAt.has('ha') && entry.own.has('ht') && entry.own.get('ht') !== CANCELLED)
    problems.warning(
      htAt.line,
      htAt.column,
      'ht without an ha in the same entry has no effect (an entry applies to one client by ht and ha together)',
    );
  return entry;
}

/** Resolves tc includes of every entry, memoised; reports missing labels and loops once each. */
function resolveAll(raws: RawEntry[], problems: FileProblems): Map<RawEntry, Map<string, Slot>> {
  const byLabel = new Map<string, RawEntry>();
  for (const raw of raws) if (!byLabel.has(raw.label)) byLabel.set(raw.label, raw);
  const done = new Map<RawEntry, Map<string, Slot>>();
  const visiting = new Set<RawEntry>();

  const resolve = (entry: RawEntry, chain: string[]): Map<string, Slot> => {
    const memo = done.get(entry);
    if (memo) return memo;
    visiting.add(entry);
    const tags = new Map(entry.own);
    for (const include of entry.includes) {
      const target = byLabel.get(include.label);
      const path = [...chain, include.label];
      if (!target) {
        problems.error(
          include.at.line,
          include.at.column,
          `tc=${include.label}: no entry is labelled "${include.label}" (include chain ${describeChain(path)})`,
        );
        continue;
      }
      if (visiting.has(target)) {
        problems.error(include.at.line, include.at.column, `tc loop: ${describeChain(path)}`);
        continue;
      }
      const included = resolve(target, path);
      for (const [tag, slot] of included) if (!tags.has(tag)) tags.set(tag, slot);
    }
    visiting.delete(entry);
    done.set(entry, tags);
    return tags;
  };

  for (const raw of raws) resolve(raw, [raw.label]);
  return done;
}

/** The scope keys of a resolved entry (joind-spec.md 5.2). */
function scopeOf(tags: ReadonlyMap<string, TagValue>): EntryScope {
  const scope: EntryScope = {};
  const ht = tags.get('ht');
  const ha = tags.get('ha');
  if (typeof ht === 'number' && Buffer.isBuffer(ha)) scope.hardware = { htype: ht, address: ha };
  const ck = tags.get('ck');
  if (Buffer.isBuffer(ck)) scope.clientId = ck;
  const nw = tags.get('nw');
  if (typeof nw === 'number') scope.network = nw;
  const ct = tags.get('ct');
  if (typeof ct === 'string') scope.vendorClass = ct;
  const uc = tags.get('uc');
  if (Buffer.isBuffer(uc)) scope.userClass = uc;
  const ca = tags.get('ca');
  if (Array.isArray(ca)) scope.architectures = ca as number[];
  const ci = tags.get('ci');
  if (Buffer.isBuffer(ci)) scope.circuitId = ci;
  const ri = tags.get('ri');
  if (Buffer.isBuffer(ri)) scope.remoteId = ri;
  return scope;
}

/** The scope key of an entry with no scope tags (a site-wide default or a template). */
const NO_SCOPE = '|||||||';

function scopeKey(scope: EntryScope): string {
  return [
    scope.hardware ? `h${scope.hardware.htype}:${scope.hardware.address.toString('hex')}` : '',
    scope.clientId ? `c${scope.clientId.toString('hex')}` : '',
    scope.network !== undefined ? `n${scope.network}` : '',
    scope.vendorClass !== undefined ? `v${scope.vendorClass}` : '',
    scope.userClass ? `u${scope.userClass.toString('hex')}` : '',
    scope.architectures ? `a${scope.architectures.join(',')}` : '',
    scope.circuitId ? `i${scope.circuitId.toString('hex')}` : '',
    scope.remoteId ? `r${scope.remoteId.toString('hex')}` : '',
  ].join('|');
}

/** Parses dhcpcap/bootptab text into resolved entries, in file order. */
export function parseDhcpcap(text: string, problems: FileProblems): CapEntry[] {
  const raws: RawEntry[] = [];
  const labels = new Map<string, RawEntry>();
  for (const logical of logicalLines(text, problems)) {
    const raw = parseEntry(logical, problems);
    if (!raw) continue;
    const earlier = labels.get(raw.label);
    if (earlier) {
      problems.error(
        raw.at.line,
        raw.at.column,
        `label ${raw.label} is already used at ${problems.file}:${earlier.at.line}; labels must be unique`,
      );
      continue;
    }
    labels.set(raw.label, raw);
    raws.push(raw);
  }

  const resolved = resolveAll(raws, problems);
  const included = new Set<string>();
  for (const raw of raws) for (const include of raw.includes) included.add(include.label);
  const entries: CapEntry[] = [];
  const scopes = new Map<string, RawEntry>();
  for (const raw of raws) {
    const slots = resolved.get(raw)!;
    for (const [tag, slot] of slots) if (slot === CANCELLED) slots.delete(tag);
    const tags = new FrozenMap(slots as Map<string, TagValue>);
    const template = raw.label.startsWith('.');
    const scope = scopeOf(tags);
    const key = scopeKey(scope);
    if (!template) checkEntry(raw, tags, scope, key, scopes, problems);
    if (!template && included.has(raw.label) && key === NO_SCOPE) {
      // Classic bootptab files include plain-named defaults entries; here such an entry also applies to everyone.
      problems.warning(
        raw.at.line,
        raw.at.column,
        `${raw.label} has no nw, ct, ht/ha or ck, so it applies to every client as a site-wide default besides being included by tc; label it .${raw.label} if it is only a template`,
      );
    }
    entries.push({ label: raw.label, template, scope, tags, source: problems.source(raw.at.line) });
  }
  return entries;
}

/** Checks of a whole (resolved) entry that no single field can make. */
function checkEntry(
  raw: RawEntry,
  tags: ReadonlyMap<string, TagValue>,
  scope: EntryScope,
  key: string,
  scopes: Map<string, RawEntry>,
  problems: FileProblems,
): void {
  const at = raw.at;
  if (scope.hardware) {
    const wanted = hardwareLength(scope.hardware.htype);
    if (wanted !== undefined && scope.hardware.address.length !== wanted) {
      problems.error(
        at.line,
        at.column,
        `${raw.label}: its ha has ${scope.hardware.address.length} bytes but its ht is ${hardwareTypeName(scope.hardware.htype)} (${wanted} bytes)`,
      );
    }
  } else if (tags.has('ha')) {
    problems.error(at.line, at.column, `${raw.label}: ha without ht`);
  }
  if (tags.has('ip') && !scope.hardware && !scope.clientId && !scope.circuitId && !scope.remoteId) {
    problems.error(
      at.line,
      at.column,
      `${raw.label}: a static ip needs the client it belongs to: add ht and ha, or ck (or the relay port it is bound to: ci or ri)`,
    );
  }
  const lt = tags.get('lt');
  const t1 = tags.get('t1');
  const t2 = tags.get('t2');
  if (typeof t1 === 'number' && typeof t2 === 'number' && t1 > t2) {
    problems.warning(at.line, at.column, `${raw.label}: t1 ${t1} is above t2 ${t2}; clients expect T1 < T2 < lease time`);
  }
  if (typeof lt === 'number') {
    for (const [name, value] of [
      ['t1', t1],
      ['t2', t2],
    ] as const) {
      if (typeof value === 'number' && value > lt)
        problems.warning(at.line, at.column, `${raw.label}: ${name} ${value} is above the lease time lt ${lt}`);
    }
  }
  // A range entry (ra=) sets permits of ranges, not parameters of clients: it shares no tag with anyone.
  if (tags.has('ra')) return;
  const same = key === NO_SCOPE ? undefined : scopes.get(key);
  if (same) {
    problems.warning(
      at.line,
      at.column,
      `${raw.label} applies to the same clients as ${same.label} (${problems.file}:${same.at.line}); where both set a tag, ${raw.label} wins`,
    );
  } else {
    scopes.set(key, raw);
  }
}

/** Which client-parameter file a configuration directory uses: dhcpcap, else bootptab, else none. */
export function capFileOf(dir: string): string | null {
  for (const name of ['dhcpcap', 'bootptab']) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/** Reads the client-parameter file of a directory; neither file present = no entries, not an error. */
export function readDhcpcap(dir: string, sink: ProblemSink): Dhcpcap {
  const file = capFileOf(dir);
  if (file === null) return { file: null, mtimeMs: null, entries: [] };
  const problems = sink.forFile(file);
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    problems.error(0, 0, `cannot read the client-parameter file: ${(err as Error).message}`);
    return { file, mtimeMs: null, entries: [] };
  }
  return { file, mtimeMs, entries: parseDhcpcap(text, problems) };
}
