// The grammar of ISC dhcpd.conf (dhcpd.conf(5), dhcp-options(5), dhcp-eval(5) of ISC DHCP 4.4) read into a
// tree of statements with exact positions, for `joind import --format dhcpd-conf`, which translates the
// tree into joind's files. This layer knows the shape of the file, not the meaning of its statements: it
// never rejects a keyword, so the translator can report each statement it cannot carry over by its
// file:line. It never throws for bad input: it returns what it could read and a list of problems.
//
// The tree:
// - A statement is the words before its `;`, or before its `{` when it heads a block; a block holds its
//   statements. `subnet 10.0.0.0 netmask 255.255.255.0 { … }` is a statement with four words and a block;
//   `failover peer "f" state { … }`, `subclass "c" "v";`, `on commit or expiry { … }` likewise keep every
//   word of their header. `if`/`elsif`/`else` are sibling statements in file order, each with its block
//   (`else if X { … }` has the words else, if, X…).
// - A token is a word, a number, a string or a punctuation mark, with the position of its first
//   character (line and column count from 1; a column counts characters, a tab as one). Where dhcpd's own
//   lexer splits on `.`, `:` and `/`, this one keeps a dotted address (10.0.0.1), a dotted name
//   (agent.circuit-id, example.com.), colon-separated hex (00:1b:a9:12:34:56, 0:1:2:3:4:5) and a date
//   (2024/01/31, 12:00:00) as one word, so the translator gets the value whole; a trailing `:` (a `case`
//   label) stays apart. A number is a word of decimal digits (with an optional leading `-`). `!=`, `~=`
//   and `~~` are one punctuation token each; every other mark (`,` `=` `(` `)` `+` …) is one token.
//   Keywords are not lower-cased (dhcpd matches them without case): compare with keyword() or isWord().
// - A string holds its decoded text: dhcpd's escapes \t \r \n \b, \xNN (two hex digits), \NNN (three
//   octal digits, the first 0–3) give the character of that code (0–255); a backslash before any other
//   character gives that character (so \" and \\).
// - `{` right after `=` or `of` is not a block but the record type of an option declaration
//   (`option x code 200 = { ip-address, string };`, `= array of { … }`): its braces stay in the words.
// - In a `switch` block, `case EXPR:` and `default:` end at their `:`.
// - `secret` in a key block takes a base64 value that may hold `+`, `/` and `=`: it is read as one word.
// - `include "FILE";` is replaced by the statements of FILE, each keeping its own file and line.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ConfPosition {
  file: string;
  line: number;
  column: number;
}

export type ConfTokenKind = 'word' | 'number' | 'string' | 'punct';

export interface ConfToken extends ConfPosition {
  kind: ConfTokenKind;
  /** The word as written, the decoded text of a string, or the punctuation mark. */
  text: string;
}

export interface ConfStatement extends ConfPosition {
  /** The words before `;` or `{` (none only for a headless `{ … }`, which is reported as a problem). */
  words: ConfToken[];
  /** The statements between `{` and `}` of a block; absent for a statement ended by `;`. */
  block?: ConfStatement[];
}

/** Where a problem is; line and column are 0 when a file as a whole cannot be read. */
export interface ConfProblem extends ConfPosition {
  /** What was found and what was expected. */
  message: string;
}

export interface DhcpdConf {
  /** The top-level statements, with those of included files in place of their `include`. */
  statements: ConfStatement[];
  problems: ConfProblem[];
  /** Every file read, the given one first, as their paths were formed (for messages). */
  files: string[];
}

export interface ReadDhcpdConfOptions {
  /** Returns a file's text; throws when it cannot be read. Default: fs.readFileSync as UTF-8. */
  readFile?: (file: string) => string;
}

/** A token and where it ends, which is where a missing `;` after it belongs. */
interface Lexed {
  token: ConfToken;
  endLine: number;
  endColumn: number;
}

const WORD_START = /[A-Za-z0-9_]/;
const WORD_CHAR = /[A-Za-z0-9_.:-]/;
const DIGIT = /[0-9]/;
const HEX_DIGIT = /[0-9A-Fa-f]/;
const OCTAL_DIGIT = /[0-7]/;
const BASE64_CHAR = /[A-Za-z0-9+/=]/;
const TWO_CHAR_OPERATORS = new Set(['!=', '~=', '~~']);

/** Splits one file's text into tokens, skipping blanks and comments, and records lexical problems. */
class Scanner {
  private index = 0;
  private line = 1;
  private column = 1;
  /** Set when a string ran to the end of the file: everything after its `"` was swallowed, so the
   * unfinished statement and blocks that follow from it are not reported again. */
  unterminatedString = false;

  constructor(
    private readonly text: string,
    readonly file: string,
    private readonly problems: ConfProblem[],
  ) {
    if (text.startsWith('\uFEFF')) this.index = 1;
  }

  /** A token read one too far, given back by pushBack. */
  private pending: Lexed | null = null;

  /** The next token, or null at the end of the file. `base64` reads a key's secret as one word. */
  next(base64 = false): Lexed | null {
    if (this.pending) {
      const lexed = this.pending;
      this.pending = null;
      return lexed;
    }
    this.skipBlanksAndComments();
    const c = this.peek();
    if (c === undefined) return null;
    const start = { file: this.file, line: this.line, column: this.column };
    let token: ConfToken;
    if (c === '"') token = { kind: 'string', text: this.readString(start), ...start };
    else if (base64 && BASE64_CHAR.test(c)) token = { kind: 'word', text: this.readBase64(), ...start };
    else if (WORD_START.test(c) || (c === '-' && WORD_START.test(this.peek(1) ?? ''))) {
      const text = this.readWord();
      token = { kind: /^-?[0-9]+$/.test(text) ? 'number' : 'word', text, ...start };
    } else {
      const pair = c + (this.peek(1) ?? '');
      const text = TWO_CHAR_OPERATORS.has(pair) ? pair : c;
      for (let n = 0; n < text.length; n++) this.advance();
      token = { kind: 'punct', text, ...start };
    }
    return { token, endLine: this.line, endColumn: this.column };
  }

  pushBack(lexed: Lexed): void {
    this.pending = lexed;
  }

  private peek(ahead = 0): string | undefined {
    return this.text[this.index + ahead];
  }

  private advance(): string {
    const c = this.text[this.index++] ?? '';
    if (c === '\n') {
      this.line++;
      this.column = 1;
    } else this.column++;
    return c;
  }

  private skipBlanksAndComments(): void {
    for (let c = this.peek(); c !== undefined; c = this.peek()) {
      if (c === '#') while (this.peek() !== undefined && this.peek() !== '\n') this.advance();
      else if (/\s/.test(c)) this.advance();
      else return;
    }
  }

  private readWord(): string {
    let word = this.advance();
    for (let c = this.peek(); c !== undefined; c = this.peek()) {
      // A slash belongs to a word only between digits (a date); elsewhere it is division.
      const dateSlash = c === '/' && DIGIT.test(word.at(-1) ?? '') && DIGIT.test(this.peek(1) ?? '');
      if (!WORD_CHAR.test(c) && !dateSlash) break;
      word += this.advance();
    }
    // A word never ends with ':' (that is a case label's colon): give the colons back.
    while (word.endsWith(':')) {
      word = word.slice(0, -1);
      this.index--;
      this.column--;
    }
    return word;
  }

  /** dhcpd joins the pieces of a base64 value across blanks; so does this. */
  private readBase64(): string {
    let value = '';
    for (;;) {
      while (BASE64_CHAR.test(this.peek() ?? '')) value += this.advance();
      const [index, line, column] = [this.index, this.line, this.column];
      this.skipBlanksAndComments();
      if (!BASE64_CHAR.test(this.peek() ?? '')) {
        [this.index, this.line, this.column] = [index, line, column];
        return value;
      }
    }
  }

  private readString(start: ConfPosition): string {
    this.advance(); // the opening quote
    let value = '';
    for (;;) {
      const here = { file: this.file, line: this.line, column: this.column };
      const c = this.peek();
      if (c === undefined) {
        this.problem(start, `unterminated string: expected a closing '"' before the end of the file`);
        this.unterminatedString = true;
        return value;
      }
      this.advance();
      if (c === '"') return value;
      if (c !== '\\') {
        value += c;
        continue;
      }
      const e = this.peek();
      if (e === undefined) continue; // reported as unterminated on the next turn
      this.advance();
      if (e === 't') value += '\t';
      else if (e === 'r') value += '\r';
      else if (e === 'n') value += '\n';
      else if (e === 'b') value += '\b';
      else if (e === 'x') value += this.readCode(here, 16, HEX_DIGIT, '', '\\x needs two hexadecimal digits');
      else if (/[0-3]/.test(e)) value += this.readCode(here, 8, OCTAL_DIGIT, e, '\\NNN needs three octal digits');
      else value += e;
    }
  }

  /** The digits of a \x or \NNN escape (two more digits either way); a short one is a problem, as in dhcpd. */
  private readCode(at: ConfPosition, radix: number, digit: RegExp, first: string, rule: string): string {
    let digits = first;
    while (digits.length < first.length + 2 && digit.test(this.peek() ?? '')) digits += this.advance();
    if (digits.length < first.length + 2) {
      // Show the character that cut the escape short, unless it is the closing quote or the end.
      const cut = this.peek() === '"' ? '' : (this.peek() ?? '');
      const seen = `\\${radix === 16 ? 'x' : ''}${digits}${cut}`;
      this.problem(at, `bad escape "${seen}" in string: ${rule}`);
      return '';
    }
    return String.fromCharCode(parseInt(digits, radix));
  }

  private problem(at: ConfPosition, message: string): void {
    this.problems.push({ file: at.file, line: at.line, column: at.column, message });
  }
}

/** What reading one file needs: the file reader, the problems so far, and the files being read. */
interface ReadContext {
  readFile: (file: string) => string;
  problems: ConfProblem[];
  files: string[];
  /** Absolute paths of the files whose include is being read, outermost first, to find cycles. */
  reading: string[];
}

/** Reads an ISC dhcpd.conf and the files it includes into a tree of statements (see the top of this file). */
export function readDhcpdConf(file: string, opts: ReadDhcpdConfOptions = {}): DhcpdConf {
  const ctx: ReadContext = {
    readFile: opts.readFile ?? ((f) => fs.readFileSync(f, 'utf8')),
    problems: [],
    files: [],
    reading: [],
  };
  let text: string;
  try {
    text = ctx.readFile(file);
  } catch (err) {
    ctx.problems.push({ file, line: 0, column: 0, message: `cannot read the file: ${reason(err)}` });
    return { statements: [], problems: ctx.problems, files: [] };
  }
  return { statements: readText(file, text, ctx), problems: ctx.problems, files: ctx.files };
}

function readText(file: string, text: string, ctx: ReadContext): ConfStatement[] {
  ctx.files.push(file);
  ctx.reading.push(path.resolve(file));
  const scanner = new Scanner(text, file, ctx.problems);
  const statements = new BlockReader(scanner, ctx).read(null, []).statements;
  ctx.reading.pop();
  return statements;
}

/** Reads statements of one file up to the `}` of the block being read, or to the end of the file. */
class BlockReader {
  constructor(
    private readonly scanner: Scanner,
    private readonly ctx: ReadContext,
  ) {}

  /** `open` is the `{` of the block (null at the top of a file), `header` the words before it. */
  read(open: ConfToken | null, header: readonly ConfToken[]): { statements: ConfStatement[]; closed: boolean } {
    const inSwitch = isWord(header[0], 'switch');
    const statements: ConfStatement[] = [];
    let words: ConfToken[] = [];
    let lastEnd: ConfPosition | null = null;
    // The block statement just closed, for a `;` after its `}`.
    let justClosed: ConfStatement | null = null;
    const finish = (): void => {
      this.add(statements, words);
      words = [];
    };
    for (;;) {
      const secret = words.length === 1 && isWord(words[0], 'secret');
      const lexed = this.scanner.next(secret);
      if (lexed === null) {
        if (this.scanner.unterminatedString) {
          if (words.length > 0) finish();
          return { statements, closed: false };
        }
        if (words.length > 0 && lastEnd) {
          this.problem(lastEnd, `expected ';' after "${wordsText(words)}", found the end of the file`);
          finish();
        }
        this.unclosed(open, header);
        return { statements, closed: false };
      }
      const t = lexed.token;
      const end = { file: t.file, line: lexed.endLine, column: lexed.endColumn };
      const after = justClosed;
      justClosed = null;
      if (isPunct(t, ';')) {
        if (words.length > 0) finish();
        else if (after && keyword(after) !== 'key')
          this.problem(t, `unexpected ';' after the '}' of "${keyword(after)}": dhcpd allows it only after a key block`);
        else if (!after) this.problem(t, `expected a statement before ';'`);
      } else if (isPunct(t, '{') && words.length > 0 && (isPunct(words.at(-1), '=') || isWord(words.at(-1), 'of'))) {
        words.push(t);
        lastEnd = this.readRecordType(words, end);
      } else if (isPunct(t, '{')) {
        const inner = this.read(t, words);
        const statement = this.add(statements, words, inner.statements, t);
        words = [];
        if (!inner.closed) {
          this.unclosed(open, header);
          return { statements, closed: false };
        }
        justClosed = statement;
      } else if (isPunct(t, '}')) {
        if (words.length > 0 && lastEnd) {
          this.problem(lastEnd, `expected ';' after "${wordsText(words)}", found '}'`);
          finish();
        }
        if (open) return { statements, closed: true };
        this.problem(t, `'}' without a matching '{'`);
      } else if (inSwitch && isPunct(t, ':') && (isWord(words[0], 'case') || isWord(words[0], 'default'))) {
        finish();
      } else {
        words.push(t);
        lastEnd = end;
      }
    }
  }

  /** Reports a block still open at the end of its file (innermost first, as they are left). */
  private unclosed(open: ConfToken | null, header: readonly ConfToken[]): void {
    if (open && !this.scanner.unterminatedString)
      this.problem(open, `'{' of "${wordsText(header)}" is not closed: expected '}' before the end of the file`);
  }

  /** The braces of an option's record type, `{ ip-address, string }`, as words of the statement. */
  private readRecordType(words: ConfToken[], openEnd: ConfPosition): ConfPosition {
    const open = words.at(-1) as ConfToken;
    let lastEnd = openEnd;
    for (;;) {
      const lexed = this.scanner.next();
      if (lexed === null || isPunct(lexed.token, ';') || isPunct(lexed.token, '{')) {
        if (!this.scanner.unterminatedString) this.problem(open, `expected '}' to close the record type opened here`);
        if (lexed !== null) this.scanner.pushBack(lexed);
        return lastEnd;
      }
      words.push(lexed.token);
      lastEnd = { file: lexed.token.file, line: lexed.endLine, column: lexed.endColumn };
      if (isPunct(lexed.token, '}')) return lastEnd;
    }
  }

  /** Adds a finished statement, splicing in the statements of an include. */
  private add(statements: ConfStatement[], words: ConfToken[], block?: ConfStatement[], open?: ConfToken): ConfStatement {
    const at: ConfPosition = words[0] ?? (open as ConfToken);
    const statement: ConfStatement = { words, file: at.file, line: at.line, column: at.column };
    if (block) statement.block = block;
    if (words.length === 0) this.problem(at, `expected the header of a block (such as "group") before '{'`);
    const first = keyword(statement);
    if (first === 'include') {
      statements.push(...this.include(statement));
      return statement;
    }
    if (first === 'elsif' || first === 'else') {
      const previous = statements.at(-1);
      const p = previous ? keyword(previous) : '';
      const opensChain = previous?.block && (p === 'if' || p === 'elsif' || (p === 'else' && isWord(previous.words[1], 'if')));
      if (!opensChain) this.problem(at, `"${first}" without an "if" block before it`);
    }
    statements.push(statement);
    return statement;
  }

  /** The statements of an included file; dhcpd opens the name as given (see includePath). */
  private include(statement: ConfStatement): ConfStatement[] {
    const name = statement.words[1];
    if (statement.block || statement.words.length !== 2 || name?.kind !== 'string') {
      this.problem(statement, `expected include "FILE"; (a file name in double quotes), found "${statementText(statement)}"`);
      return [];
    }
    const file = includePath(statement.file, name.text);
    const absolute = path.resolve(file);
    if (this.ctx.reading.includes(absolute)) {
      this.problem(
        statement,
        `include cycle: "${name.text}" is already being read (${[...this.ctx.reading, absolute].join(' → ')})`,
      );
      return [];
    }
    let text: string;
    try {
      text = this.ctx.readFile(file);
    } catch (err) {
      this.problem(statement, `cannot read the included file "${name.text}" (${file}): ${reason(err)}`);
      return [];
    }
    return readText(file, text, this.ctx);
  }

  private problem(at: ConfPosition, message: string): void {
    this.ctx.problems.push({ file: at.file, line: at.line, column: at.column, message });
  }
}

/**
 * Where an include's file is. dhcpd itself opens the name as written (server/confpars.c passes it to
 * open()), so a relative name is relative to the directory dhcpd was started in: it reads its
 * configuration before it daemonizes and changes to "/". That directory is unknown to an import run
 * elsewhere, so a relative name is taken relative to the including file's directory, where such files
 * usually sit; an absolute name is read as written (a readFile option can map it elsewhere).
 */
export function includePath(includingFile: string, name: string): string {
  return path.isAbsolute(name) ? name : path.join(path.dirname(includingFile), name);
}

function reason(err: unknown): string {
  if (err instanceof Error) return 'code' in err && typeof err.code === 'string' ? err.code : err.message;
  return String(err);
}

/** Whether `token` is the word `word`, ignoring case as dhcpd does for its keywords. */
export function isWord(token: ConfToken | undefined, word: string): boolean {
  return token?.kind === 'word' && token.text.toLowerCase() === word.toLowerCase();
}

export function isPunct(token: ConfToken | undefined, mark: string): boolean {
  return token?.kind === 'punct' && token.text === mark;
}

/** The first word of a statement lower-cased ("subnet", "option", "host"…), or "" when it has none. */
export function keyword(statement: ConfStatement): string {
  const first = statement.words[0];
  return first?.kind === 'word' ? first.text.toLowerCase() : '';
}

/** Whether a statement begins with these words (ignoring case): startsWithWords(s, 'failover', 'peer'). */
export function startsWithWords(statement: ConfStatement, ...words: string[]): boolean {
  return words.every((word, i) => isWord(statement.words[i], word));
}

/** "file:line:column" of a statement, token or problem, for messages. */
export function positionText(at: ConfPosition): string {
  return `${at.file}:${at.line}:${at.column}`;
}

/** A token as it would be written: a string in double quotes with dhcpd's escapes. */
export function tokenText(token: ConfToken): string {
  if (token.kind !== 'string') return token.text;
  let escaped = '';
  for (const c of token.text) {
    const code = c.charCodeAt(0);
    if (c === '\\' || c === '"') escaped += `\\${c}`;
    else if (c === '\n') escaped += '\\n';
    else if (c === '\t') escaped += '\\t';
    else if (c === '\r') escaped += '\\r';
    else if (code < 0x20 || code === 0x7f) escaped += `\\x${code.toString(16).padStart(2, '0')}`;
    else escaped += c;
  }
  return `"${escaped}"`;
}

/** Words joined as they would be written: no blank before `,` `)` `;` or after `(`, none before a call's `(`. */
function wordsText(words: readonly ConfToken[]): string {
  let text = '';
  words.forEach((token, i) => {
    const previous = words[i - 1];
    const callParen = isPunct(token, '(') && previous?.kind === 'word' && !/^(if|elsif|and|or|not|switch)$/i.test(previous.text);
    const glued = i === 0 || isPunct(previous, '(') || callParen || /^[,);:]$/.test(token.kind === 'punct' ? token.text : '');
    text += (glued ? '' : ' ') + tokenText(token);
  });
  return text;
}

/** A statement on one line for messages: `default-lease-time 600;`, `subnet 10.0.0.0 netmask 255.255.255.0 { … }`. */
export function statementText(statement: ConfStatement): string {
  const words = wordsText(statement.words);
  if (!statement.block) return `${words};`;
  return `${words}${words ? ' ' : ''}{${statement.block.length > 0 ? ' … ' : ' '}}`;
}

/** Visits every statement depth first, in file order, with the block statements that enclose it (outermost first). */
export function walkStatements(
  statements: readonly ConfStatement[],
  visit: (statement: ConfStatement, enclosing: readonly ConfStatement[]) => void,
  enclosing: readonly ConfStatement[] = [],
): void {
  for (const statement of statements) {
    visit(statement, enclosing);
    if (statement.block) walkStatements(statement.block, visit, [...enclosing, statement]);
  }
}
