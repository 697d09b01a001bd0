// BIND key files (`ddns_key_file`): what `tsig-keygen` prints, what named.conf includes, and what a
// dhcpd.conf holds for its updates:
//
//   key "ddns-key" {
//           algorithm hmac-sha256;
//           secret "Zm9v…=";
//   };
//
// Several keys may follow each other; comments are BIND's three kinds (#, //, /* */). Every mistake is
// reported with its line and column, like the other configuration files.
import { TSIG_ALGORITHMS, type TsigAlgorithm, type TsigKey } from '../dns/tsig';
import type { FileProblems } from './problems';

interface Token {
  text: string;
  quoted: boolean;
  line: number;
  column: number;
}

/** Splits the file into words, quoted strings and the punctuation { } ;, dropping comments. */
function tokenize(text: string, problems: FileProblems): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      lineStart = i;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      if (end < 0) problems.error(line, i - lineStart + 1, 'comment "/*" is never closed');
      for (; i < stop; i++) {
        if (text[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
      }
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      const newline = text.indexOf('\n', i + 1);
      if (end < 0 || (newline >= 0 && newline < end)) {
        problems.error(line, i - lineStart + 1, 'quoted string is not closed on its line');
        i = newline < 0 ? n : newline;
        continue;
      }
      tokens.push({ text: text.slice(i + 1, end), quoted: true, line, column: i - lineStart + 1 });
      i = end + 1;
    } else if (c === '{' || c === '}' || c === ';') {
      tokens.push({ text: c, quoted: false, line, column: i - lineStart + 1 });
      i++;
    } else {
      const start = i;
      while (i < n && !/[\s{};"#]/.test(text[i]!)) i++;
      tokens.push({ text: text.slice(start, i), quoted: false, line, column: start - lineStart + 1 });
    }
  }
  return tokens;
}

const ALGORITHMS = Object.keys(TSIG_ALGORITHMS) as TsigAlgorithm[];

/**
 * The keys of a BIND key file. A key with a mistake is left out, and the mistake reported; a file with
 * no key at all is an error too (the updates would go unsigned, which a keyed zone refuses).
 */
export function parseKeyFile(text: string, problems: FileProblems): TsigKey[] {
  const tokens = tokenize(text, problems);
  const keys: TsigKey[] = [];
  let i = 0;
  const next = (): Token | undefined => tokens[i++];
  const expect = (what: string, after: Token): Token | undefined => {
    const t = next();
    if (t && !t.quoted && t.text === what) return t;
    const at = t ?? after;
    problems.error(at.line, at.column, `expected "${what}"${t ? `, found "${t.text}"` : ' before the end of the file'}`);
    return undefined;
  };
  while (i < tokens.length) {
    const start = next()!;
    if (start.quoted || start.text !== 'key') {
      problems.error(start.line, start.column, `expected "key", found "${start.text}"`);
      return keys;
    }
    const name = next();
    if (!name || (!name.quoted && /^[{};]$/.test(name.text))) {
      const at = name ?? start;
      problems.error(at.line, at.column, 'expected the key\'s name after "key"');
      return keys;
    }
    if (!expect('{', name)) return keys;
    let algorithm: TsigAlgorithm | undefined;
    let secret: Buffer | undefined;
    let good = true;
    for (;;) {
      const word = next();
      if (!word) {
        problems.error(start.line, start.column, `key "${name.text}" is not closed with "};"`);
        return keys;
      }
      if (!word.quoted && word.text === '}') break;
      const value = next();
      if (!value || (!value.quoted && /^[{};]$/.test(value.text))) {
        problems.error(word.line, word.column, `expected a value after "${word.text}"`);
        return keys;
      }
      if (word.text === 'algorithm') {
        const alg = value.text.toLowerCase().replace(/\.$/, '');
        const known = ALGORITHMS.find((a) => a === alg || TSIG_ALGORITHMS[a].wireName === alg);
        if (known) algorithm = known;
        else {
          problems.error(value.line, value.column, `unknown algorithm "${value.text}"; expected one of ${ALGORITHMS.join(', ')}`);
          good = false;
        }
      } else if (word.text === 'secret') {
        const b64 = value.text.replace(/\s+/g, '');
        const bytes = Buffer.from(b64, 'base64');
        if (b64 === '' || bytes.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) {
          problems.error(value.line, value.column, 'the secret is not base64');
          good = false;
        } else secret = bytes;
      } else {
        problems.error(word.line, word.column, `unknown statement "${word.text}" in a key; expected algorithm or secret`);
        good = false;
      }
      if (!expect(';', value)) return keys;
    }
    if (!expect(';', tokens[i - 1]!)) return keys;
    if (good && !algorithm) problems.error(start.line, start.column, `key "${name.text}" has no algorithm`);
    if (good && !secret) problems.error(start.line, start.column, `key "${name.text}" has no secret`);
    if (good && algorithm && secret) keys.push({ name: name.text.replace(/\.$/, ''), algorithm, secret });
  }
  if (keys.length === 0 && tokens.length === 0) problems.error(0, 0, 'no key in the file');
  return keys;
}
