// The permanent store and its group commit.
//
// Every write made while handling packets goes into one open transaction; the transaction is committed
// once per turn of the event loop (setImmediate), and only then are the replies that depend on it
// released. With synchronous=FULL the commit fsyncs the WAL, so "a lease is on disk before its ACK
// leaves" costs one fsync per batch, not per ACK (dhcpd's delayed-ack, without the delay).
import type Database from 'better-sqlite3';
import { backupDatabase } from './backup';
import { openDatabase, OpenOptions, StoreError } from './db';
import { LeaseRepository } from './leases';
import { NameRepository } from './names';
import { RegisteredRepository } from './registered';

/** Called once a batch is durable (err undefined) or has been rolled back (err set). */
export type DurableCallback = (err?: Error) => void;

/**
 * SQLite result codes that mean the storage itself refuses writes (full, read-only, I/O error), as
 * opposed to a bad statement: while one holds, nothing new can be granted.
 */
const STORAGE_FAULT = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB)/;

export function isStorageFault(err: Error): boolean {
  return STORAGE_FAULT.test((err as { code?: unknown }).code as string ?? '');
}

export class Store {
  readonly leases: LeaseRepository;
  readonly names: NameRepository;
  readonly registered: RegisteredRepository;
  /** Called after a batch was rolled back: in-memory caches derived from the store must be rebuilt. */
  onRollback: ((err: Error) => void) | null = null;
  /** Called when the storage starts refusing writes (err set) and when a commit succeeds again (null). */
  onFaultChange: ((err: Error | null) => void) | null = null;
  /** The storage fault of the last failed commit, until a commit succeeds again. */
  fault: Error | null = null;

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
      this.setFault(null);
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb();
  }

  /**
   * Tries a real commit (rewriting the header's user_version) to learn whether the storage takes writes
   * again. Only while a fault holds and no batch is open. Returns whether the store is writable now.
   */
  probe(): boolean {
    if (this.fault === null) return true;
    if (this.inTransaction || this.closed) return false;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      this.db.pragma(`user_version = ${version}`);
      this.db.exec('COMMIT');
    } catch (err) {
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // already rolled back by SQLite
      }
      return false;
    }
    this.setFault(null);
    return true;
  }

  /** Writes a backup copy of what is committed (see backup.ts). Resolves with its path. */
  backup(): Promise<string> {
    return backupDatabase(this.file);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }

  private setFault(err: Error | null): void {
    if ((err === null) === (this.fault === null)) return;
    this.fault = err;
    this.onFaultChange?.(err);
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
    if (isStorageFault(err)) this.setFault(err);
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb(err);
    this.onRollback?.(err);
  }
}

export { StoreError };
