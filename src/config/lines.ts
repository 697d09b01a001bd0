// Line and field splitting shared by the whitespace-separated files (server.pcy, nets, netmasks,
// namepool). Columns are 1-based character positions in the physical line; a tab counts as one column,
// so an editor's "go to column" lands on the reported character.

/** One whitespace-separated field and the column it starts at. */
export interface Field {
  text: string;
  column: number;
}

/** The physical lines of a file, without their line ends (LF or CRLF). */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  // A final newline does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The fields of a line, whitespace-separated; a `#` starts a comment that runs to the end of the line
 * (no field of these files can contain `#`, so a trailing comment is never ambiguous).
 */
export function fieldsOf(line: string): Field[] {
  const fields: Field[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    if (c === 0x23 /* # */) break;
    const start = i;
    while (i < n) {
      const d = line.charCodeAt(i);
      if (d === 0x20 || d === 0x09 || d === 0x23) break;
      i++;
    }
    fields.push({ text: line.slice(start, i), column: start + 1 });
  }
  return fields;
}

/** Whether the line starts with a blank or tab (namepool name lines). */
export function startsWithBlank(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 0x20 || c === 0x09;
}
