// Every parser reports into a ProblemSink instead of throwing, so that one load can show the operator
// every mistake of every file at once (a reload that stops at the first error makes fixing a config a
// slow loop of edit, HUP, read log).

import type { Problem } from './types';

/** The problems of one load, across files, in the order they were found. */
export class ProblemSink {
  readonly items: Problem[] = [];

  /** A reporter bound to one file, so parsers need not repeat its name. */
  forFile(file: string): FileProblems {
    return new FileProblems(this, file);
  }

  add(problem: Problem): void {
    this.items.push(problem);
  }

  get errorCount(): number {
    let count = 0;
    for (const p of this.items) if (p.severity === 'error') count++;
    return count;
  }
}

export class FileProblems {
  constructor(
    private readonly sink: ProblemSink,
    readonly file: string,
  ) {}

  error(line: number, column: number, message: string): void {
    this.sink.add({ severity: 'error', file: this.file, line, column, message });
  }

  warning(line: number, column: number, message: string): void {
    this.sink.add({ severity: 'warning', file: this.file, line, column, message });
  }

  /** "file:line": how values and entries name the place they came from. */
  source(line: number): string {
    return `${this.file}:${line}`;
  }
}

/** "file:line:column: error: message" (just "file: error: message" for whole-file problems). */
export function formatProblem(p: Problem): string {
  const place = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${place}: ${p.severity}: ${p.message}`;
}

/** Orders problems by file (in first-seen order), then line, then column; keeps the order of equals. */
export function sortProblems(problems: Problem[]): Problem[] {
  const fileRank = new Map<string, number>();
  for (const p of problems) if (!fileRank.has(p.file)) fileRank.set(p.file, fileRank.size);
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) => fileRank.get(a.p.file)! - fileRank.get(b.p.file)! || a.p.line - b.p.line || a.p.column - b.p.column || a.i - b.i,
    )
    .map((x) => x.p);
}

/** "file:line" → line (the column of an entry is its label's, which sources do not keep: use 1). */
export function lineOf(source: string): number {
  const match = /:(\d+)$/.exec(source);
  return match ? Number(match[1]) : 0;
}
