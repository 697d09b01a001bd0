// The permanent store and its group commit.
//
// Every write made while handling packets goes into one open transaction; the transaction is committed
// once per turn of the event loop (setImmediate), and only then are the replies that depend on it
// released. With synchronous=FULL the commit fsyncs the WAL, so "a lease is on disk before its ACK
// leaves" costs one fsync per batch, not per ACK (dhcpd's delayed-ack, without the delay).
import type Database from 'better-sqlite3';
import { openDatabase, OpenOptions, StoreError } from './db';
import { LeaseRepository } from './leases';
import { NameRepository } from './names';
import { RegisteredRepository } from './registered';

/** Called once a batch is durable (err undefined) or has been rolled back (err set). */
export type DurableCallback = (err?: Error) => void;

export class Store {
  readonly leases: LeaseRepository;
  readonly names: NameRepository;
  readonly registered: RegisteredRepository;
  /** Called after a batch was rolled back: in-memory caches derived from the store must be rebuilt. */
  onRollback: ((err: Error) => void) | null = null;

  private inTransaction = false;
  private waiting: DurableCallback[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Counters for metrics and tests. */
  readonly stats = { commits: 0, committedWrites: 0, rollbacks: 0 };
  private writesInBatch = 0;

  private constructor(readonly db: Database.Database, readonly file: string) {
    this.leases = new LeaseRepository(db);
    this.names = new NameRepository(db);
    this.registered = new RegisteredRepository(db);
  }

  static open(options: OpenOptions): Store {
    const db = openDatabase(options);
    return new Store(db, db.name);
  }

  /**
   * Runs a write inside the current batch. The change is visible to later reads at once, but durable only
   * when the batch commits; replies that depend on it must wait for whenDurable().
   * If the write fails, the whole batch is rolled back and the error is thrown.
   */
  write<T>(change: () => T): T {
    if (this.closed) throw new StoreError('store is closed', 'CLOSED');
    if (!this.inTransaction) {
      this.db.exec('BEGIN IMMEDIATE');
      this.inTransaction = true;
      this.scheduleFlush();
    }
    try {
      const result = change();
      this.writesInBatch++;
      return result;
    } catch (err) {
      this.rollback(err as Error);
      throw err;
    }
  }

  /** Runs cb when everything written so far is durable (or failed). */
  whenDurable(cb: DurableCallback): void {
    this.waiting.push(cb);
    this.scheduleFlush();
  }

  /** Commits the open batch now and releases whatever waits on it. */
  flush(): void {
    this.flushScheduled = false;
    if (this.inTransaction) {
      try {
        this.db.exec('COMMIT');
        this.inTransaction = false;
        this.stats.commits++;
        this.stats.committedWrites += this.writesInBatch;
        this.writesInBatch = 0;
      } catch (err) {
        this.rollback(err as Error);
        return;
      }
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb();
  }

  /**
   * SQLite's own check of the file (pages, indexes, the one-record-per-client index): an empty list when
   * sound. For `joind check-db`; reads only.
   */
  integrityProblems(): string[] {
    const rows = this.db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).filter((text) => text !== 'ok');
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private rollback(err: Error): void {
    if (this.inTransaction) {
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // SQLite may already have rolled back by itself (e.g. SQLITE_FULL); nothing more to undo.
      }
      this.inTransaction = false;
    }
    this.writesInBatch = 0;
    this.stats.rollbacks++;
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb(err);
    this.onRollback?.(err);
  }
}

export { StoreError };
