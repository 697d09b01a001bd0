// Reading the configuration files: a file that does not exist is the operator's choice (each file has a
// documented meaning when absent); a file that exists but cannot be read is an error naming it.

import * as fs from 'node:fs';
import type { FileProblems } from './problems';

/** A file's text, undefined when it does not exist (no problem) or cannot be read (an error). */
export function readOptional(file: string, problems: FileProblems, what: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      problems.error(0, 0, `cannot read the ${what}: ${(err as Error).message}`);
    return undefined;
  }
}
