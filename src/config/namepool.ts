// namepool: names this server may give to clients that got no name any other way, per domain and per
// owning server. A header line starts in column 1: `domain server [prefix] [name…]`; the lines after it
// that start with a blank or tab list more names. On the header line the third field is always the
// prefix and any further fields are names (the OpenVMS sample `acme.com 142.132.3.1 pc alpha bravo`
// has prefix pc and names alpha, bravo); write the prefix as `-` to list names on the header line of a
// pool that has no prefix. Generated names are prefix + N + "d" once the listed names run out.

import type { NamePool } from './types';
import type { FileProblems } from './problems';
import type { SelfMatcher } from './identity';
import { fieldsOf, splitLines, startsWithBlank, type Field } from './lines';
import { readOptional } from './files';

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const DOMAIN =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
// Room for the generated number and the trailing "d" inside one 63-character label.
const PREFIX = /^[A-Za-z](?:[A-Za-z0-9-]{0,49})$/;

interface PoolBuild extends NamePool {
  names: string[];
}

/** Parses namepool text into pools, one per (domain, server), in file order. */
export function parseNamepool(text: string, problems: FileProblems, self: SelfMatcher): NamePool[] {
  const pools = new Map<string, PoolBuild>();
  // Names are unique per domain, whichever server's pool they are in.
  const namesByDomain = new Map<string, Map<string, string>>();
  let current: PoolBuild | undefined;
  let skipping = false;

  const addName = (pool: PoolBuild, field: Field, lineNo: number): void => {
    if (!LABEL.test(field.text)) {
      problems.error(
        lineNo,
        field.column,
        `"${field.text}" is not a host name: expected one label of letters, digits and inner hyphens`,
      );
      return;
    }
    const domainKey = pool.domain.toLowerCase();
    let names = namesByDomain.get(domainKey);
    if (!names) namesByDomain.set(domainKey, (names = new Map<string, string>()));
    const key = field.text.toLowerCase();
    const earlier = names.get(key);
    if (earlier) {
      problems.warning(
        lineNo,
        field.column,
        `name ${field.text} is already in a pool of ${pool.domain} at ${earlier}; this one is ignored`,
      );
      return;
    }
    names.set(key, `${problems.file}:${lineNo}:${field.column}`);
    pool.names.push(field.text);
  };

  const lines = splitLines(text);
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const line = lines[index]!;
    const fields = fieldsOf(line);
    if (fields.length === 0) continue;

    if (startsWithBlank(line)) {
      if (skipping) continue;
      if (!current) {
        problems.error(
          lineNo,
          fields[0]!.column,
          'names before any header: expected a "domain server [prefix]" line starting in column 1 first',
        );
        skipping = true;
        continue;
      }
      for (const field of fields) addName(current, field, lineNo);
      continue;
    }

    skipping = false;
    const [domainField, serverField, prefixField] = fields;
    if (!serverField) {
      problems.error(
        lineNo,
        domainField!.column + domainField!.text.length,
        'expected "domain server [prefix]": the owning server is missing',
      );
      current = undefined;
      skipping = true;
      continue;
    }
    if (!DOMAIN.test(domainField!.text)) {
      problems.error(lineNo, domainField!.column, `"${domainField!.text}" is not a domain name`);
      current = undefined;
      skipping = true;
      continue;
    }
    let prefix: string | null = null;
    if (prefixField && prefixField.text !== '-') {
      if (!PREFIX.test(prefixField.text)) {
        problems.error(
          lineNo,
          prefixField.column,
          `"${prefixField.text}" is not a name prefix: expected a letter then up to 49 letters, digits or hyphens`,
        );
      } else {
        prefix = prefixField.text;
      }
    }
    const domain = domainField!.text.replace(/\.$/, '');
    const key = `${domain.toLowerCase()} ${serverField.text.toLowerCase()}`;
    let pool = pools.get(key);
    if (!pool) {
      pool = {
        domain,
        owner: serverField.text,
        ours: self.isSelf(serverField.text),
        prefix,
        names: [],
        source: problems.source(lineNo),
      };
      pools.set(key, pool);
    } else if (prefix !== null) {
      if (pool.prefix !== null && pool.prefix !== prefix) {
        problems.warning(
          lineNo,
          prefixField!.column,
          `prefix ${prefix} replaces prefix ${pool.prefix} of the same pool at ${pool.source}`,
        );
      }
      pool.prefix = prefix;
    }
    current = pool;
    for (const field of fields.slice(3)) addName(pool, field, lineNo);
  }
  return [...pools.values()];
}

/** Reads namepool; a missing file means no pools. */
export function readNamepool(file: string, problems: FileProblems, self: SelfMatcher): NamePool[] {
  const text = readOptional(file, problems, 'namepool file');
  return text === undefined ? [] : parseNamepool(text, problems, self);
}
