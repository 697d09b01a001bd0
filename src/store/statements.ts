// The store's write statements, numbered so that the lease journal (journal.ts) can record each run of
// one as (number, parameters) and a start can run it again. Every statement that changes the database is
// prepared here, not with db.prepare, so that none escapes the journal; reads use db.prepare directly.
import type Database from 'better-sqlite3';
import type { BatchEncoder, JournalEntry } from './journal';

type Params<P> = P extends unknown[] ? P : [P];

/** A prepared write statement whose runs are recorded while the store records a batch. */
export class WriteStatement<P extends unknown[] | object = unknown[], R = unknown> {
  constructor(
    private readonly statement: Database.Statement<P, R>,
    readonly id: number,
    private readonly statements: WriteStatements,
  ) {}

  /** The statement with its parameters' types erased (they were checked at our own run and all). */
  private get any(): Database.Statement<unknown[]> {
    return this.statement;
  }

  run(...params: Params<P>): Database.RunResult {
    this.statements.before?.();
    const result = this.any.run(...params);
    this.statements.record(this.id, params);
    return result;
  }

  /** For a write that returns rows (… RETURNING). */
  all(...params: Params<P>): R[] {
    this.statements.before?.();
    const rows = this.any.all(...params) as R[];
    this.statements.record(this.id, params);
    return rows;
  }
}

export class WriteStatements {
  /** The SQL of each statement, by its number. */
  readonly sql: string[] = [];
  /** Where runs are recorded (the store's open batch); null: not journaled (admin tools, tests). */
  recorder: BatchEncoder | null = null;
  /** Called before each run (the store opens its batch: no write escapes the journal). */
  before: (() => void) | null = null;

  constructor(private readonly db: Database.Database) {}

  prepare<P extends unknown[] | object = unknown[], R = unknown>(sql: string): WriteStatement<P, R> {
    const statement = this.db.prepare<P, R>(sql);
    this.sql.push(sql);
    return new WriteStatement(statement, this.sql.length - 1, this);
  }

  /** Records a run that succeeded (a failed one changed nothing, or its batch is rolled back). */
  record(id: number, params: unknown[]): void {
    if (this.recorder === null) return;
    // better-sqlite3 takes either positional values or one object of named ones.
    const only = params.length === 1 ? params[0] : undefined;
    const named = only !== null && typeof only === 'object' && !Buffer.isBuffer(only) && !Array.isArray(only);
    this.recorder.add(id, (named ? only : params) as JournalEntry['params']);
  }
}
