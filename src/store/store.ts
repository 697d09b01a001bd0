// The permanent store and its group commit.
//
// Every write made while handling packets goes into one open transaction; the transaction is committed
// once per turn of the event loop (setImmediate), and only then are the replies that depend on it
// released. When durable, a commit is followed by an fsync of the WAL, and the replies wait for that
// fsync too: "a lease is on disk before its ACK leaves" costs one fsync per batch, not per ACK (dhcpd's
// delayed-ack, without the delay).
//
// The fsync runs on libuv's thread pool, not on the event loop: SQLite commits with synchronous=NORMAL
// (the WAL frames are written, not synced) and the store then fsyncs the WAL file itself. While that
// fsync is in flight the event loop keeps serving, and the writes it makes gather in the next open
// transaction, which is committed (and synced) as soon as the fsync in flight is done. So batches grow
// with the load instead of the event loop stalling once per batch. What is durable is exactly what
// synchronous=FULL makes durable: every committed frame of the WAL, before any reply that depends on it.
//
// A small batch (fewer than INLINE_SYNC_BELOW replies waiting) is synced on the event loop instead. Handing
// a sync to a pool thread and back costs two thread wake-ups and context switches, which on a virtual
// machine cost more CPU than the fsync itself (bench/RESULTS.md: about 60 µs per exchange at 3,000/s,
// when batches hold one or two ACKs). A blocking fdatasync of one small batch holds the loop for about
// 0.1 ms; under load batches grow past the threshold and go back to the pool, where the loop keeps
// serving while the disk works.
//
// Some writes need no fsync of their own (writeUnsynced): the dynamic DNS worker's bookkeeping, which
// a crash may only set back to a job sent again (its updates are idempotent). A batch of only those,
// with nobody waiting on it, is committed without an fsync; the next synced batch makes it durable
// with its own (the WAL is synced as a whole, and commits are lost only from its end).
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { backupDatabase } from './backup';
import { Checkpointer, FALLBACK_AUTOCHECKPOINT_PAGES, SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES } from './checkpointer';
import { openDatabase, OpenOptions, StoreError } from './db';
import { LeaseRepository } from './leases';
import { NameRepository } from './names';
import { RegisteredRepository } from './registered';
import { FailoverStateRepository } from './failover';
import { ClockRepository } from './clock';
import { DdnsRepository } from './ddns';

/** Called once a batch is durable (err undefined) or has been rolled back (err set). */
export type DurableCallback = (err?: Error) => void;

/** fs.fdatasync's shape (fs.fsync's too); tests give their own to hold or fail a sync. */
export type FsyncFunction = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;
/** fs.fdatasyncSync's shape: throws on failure. */
export type FsyncSyncFunction = (fd: number) => void;

/** Batches with fewer replies waiting than this are synced on the event loop (see the top of this file). */
export const INLINE_SYNC_BELOW = 4;

export interface StoreOptions extends OpenOptions {
  /** The thread-pool sync (default fs.fdatasync). */
  fsync?: FsyncFunction;
  /**
   * The on-loop sync of small batches (default fs.fdatasyncSync). When a test gives `fsync` without this,
   * every sync goes through `fsync`, so the test can hold it.
   */
  fsyncSync?: FsyncSyncFunction;
  /** Replies waiting below which a batch is synced on the loop (default INLINE_SYNC_BELOW; 0: never). */
  inlineSyncBelow?: number;
  /**
   * WAL checkpoints on a worker thread instead of inside a COMMIT (checkpointer.ts): for the server,
   * whose event loop must not stall. Admin tools, which write little, leave it off.
   */
  backgroundCheckpoint?: boolean;
}

/**
 * SQLite result codes that mean the storage itself refuses writes (full, read-only, I/O error), as
 * opposed to a bad statement: while one holds, nothing new can be granted.
 */
const STORAGE_FAULT = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB)/;

export function isStorageFault(err: Error): boolean {
  return STORAGE_FAULT.test(((err as { code?: unknown }).code as string) ?? '');
}

export class Store {
  readonly leases: LeaseRepository;
  readonly names: NameRepository;
  readonly registered: RegisteredRepository;
  readonly failover: FailoverStateRepository;
  readonly ddns: DdnsRepository;
  readonly clock: ClockRepository;
  /** Called after a batch was rolled back: in-memory caches derived from the store must be rebuilt. */
  onRollback: ((err: Error) => void) | null = null;
  /** Called when the storage starts refusing writes (err set) and when a commit succeeds again (null). */
  onFaultChange: ((err: Error | null) => void) | null = null;
  /** Called when the checkpoint thread fails (once per run of failures; see checkpointer.ts). */
  onCheckpointError: ((message: string) => void) | null = null;
  /** The storage fault of the last failed commit, until a commit succeeds again. */
  fault: Error | null = null;

  private inTransaction = false;
  private waiting: DurableCallback[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Counters for metrics and tests. */
  readonly stats = { commits: 0, committedWrites: 0, durableWrites: 0, rollbacks: 0, syncs: 0, inlineSyncs: 0, syncFailures: 0 };
  private writesInBatch = 0;
  /** A write of the open batch asked for an fsync (write, not writeUnsynced). */
  private syncOwed = false;
  /** Replies waiting on the fsync in flight (null: none in flight). */
  private syncing: DurableCallback[] | null = null;
  /** Our own descriptor of the WAL file, for the fsync (durable stores only). */
  private walFd: number | null = null;
  private checkpointer: Checkpointer | null = null;
  private readonly begin: Database.Statement;
  private readonly commitStatement: Database.Statement;

  private constructor(
    readonly db: Database.Database,
    readonly file: string,
    private readonly durable: boolean,
    private readonly fsync: FsyncFunction,
    private readonly fsyncSync: FsyncSyncFunction,
    private readonly inlineSyncBelow: number,
  ) {
    this.leases = new LeaseRepository(db);
    this.names = new NameRepository(db);
    this.registered = new RegisteredRepository(db);
    this.failover = new FailoverStateRepository(db);
    this.ddns = new DdnsRepository(db);
    this.clock = new ClockRepository(db);
    // Prepared once: exec() would parse them again for every batch.
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commitStatement = db.prepare('COMMIT');
  }

  static open(options: StoreOptions): Store {
    const db = openDatabase(options);
    const injectedAsyncOnly = options.fsync !== undefined && options.fsyncSync === undefined;
    const store = new Store(
      db,
      db.name,
      options.durable && !options.readonly,
      options.fsync ?? fs.fdatasync,
      options.fsyncSync ?? fs.fdatasyncSync,
      injectedAsyncOnly ? 0 : (options.inlineSyncBelow ?? INLINE_SYNC_BELOW),
    );
    if (options.backgroundCheckpoint && !options.readonly) {
      store.checkpointer = new Checkpointer(db.name, (message, ended) => {
        store.onCheckpointError?.(message);
        // Without its thread the main connection checkpoints inside its commits again, as SQLite does.
        if (ended && !store.closed) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
      });
      db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    }
    return store;
  }

  /**
   * Runs a write inside the current batch. The change is visible to later reads at once, but durable only
   * when the batch commits; replies that depend on it must wait for whenDurable().
   * If the write fails, the whole batch is rolled back and the error is thrown.
   */
  write<T>(change: () => T): T {
    const result = this.writeInBatch(change);
    this.syncOwed = true;
    this.stats.durableWrites++;
    return result;
  }

  /**
   * As write, but the batch need not be synced for it: committed at the end of the turn, durable with
   * the next synced batch (see the top of this file). For writes a crash may undo at no cost.
   */
  writeUnsynced<T>(change: () => T): T {
    return this.writeInBatch(change);
  }

  private writeInBatch<T>(change: () => T): T {
    if (this.closed) throw new StoreError('store is closed', 'CLOSED');
    if (!this.inTransaction) {
      this.begin.run();
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

  /**
   * Opens the batch's transaction now, before the first write, so that the reads of this turn of the
   * event loop share it. Outside a transaction every SQLite statement takes and releases the WAL's read
   * lock by itself (fcntl calls and a look at the WAL index each time); a REQUEST makes three reads
   * before its write, so for the packet path one transaction per turn is about a tenth of SQLite's CPU.
   * Reads inside it see the batch's own writes, as they did before. A turn that only reads ends with an
   * empty COMMIT, which writes nothing and needs no fsync. Best effort: if the transaction cannot be
   * opened, reads run on their own as before.
   */
  beginTurn(): void {
    if (this.inTransaction || this.closed) return;
    try {
      this.begin.run();
    } catch {
      return;
    }
    this.inTransaction = true;
    this.scheduleFlush();
  }

  /** WAL checkpoints the worker thread has made (0 without backgroundCheckpoint). */
  get backgroundCheckpoints(): number {
    return this.checkpointer?.stats.checkpoints ?? 0;
  }

  /** Runs cb when everything written so far is durable (or failed). */
  whenDurable(cb: DurableCallback): void {
    this.waiting.push(cb);
    this.scheduleFlush();
  }

  /**
   * Commits the open batch and releases whatever waits on it: at once when the store is not durable,
   * after the fsync of the WAL otherwise. While an fsync is in flight nothing is committed: the batch
   * keeps growing and is committed when that fsync completes.
   */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.syncing !== null) return;
    const wrote = this.writesInBatch > 0;
    const owed = this.syncOwed;
    this.syncOwed = false;
    if (!this.commit()) return;
    const waiting = this.waiting;
    this.waiting = [];
    if (!wrote || !this.durable || (!owed && waiting.length === 0)) {
      for (const cb of waiting) cb();
      return;
    }
    if (waiting.length < this.inlineSyncBelow) this.syncInline(waiting);
    else this.startSync(waiting);
  }

  /**
   * SQLite's own check of the file (pages, indexes, the one-record-per-client index): an empty list when
   * sound. For `joind check-db`; reads only.
   */
  integrityProblems(): string[] {
    const rows = this.db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).filter((text) => text !== 'ok');
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
    } catch {
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
    // Synchronously: whatever is committed or in flight is synced before anyone is told it is durable.
    const pending = [...(this.syncing ?? []), ...this.waiting];
    this.syncing = null;
    this.waiting = [];
    let failure: Error | undefined;
    if (this.commit() && this.durable && this.walFd !== null) {
      try {
        fs.fdatasyncSync(this.walFd);
      } catch (err) {
        failure = err as Error;
      }
    }
    this.closed = true;
    this.checkpointer?.close();
    if (this.walFd !== null) fs.closeSync(this.walFd);
    this.walFd = null;
    this.db.close();
    for (const cb of pending) cb(failure);
  }

  /** COMMITs the open transaction, if any; false when it failed (the batch was rolled back). */
  private commit(): boolean {
    if (!this.inTransaction) return true;
    try {
      this.commitStatement.run();
      this.inTransaction = false;
      // An empty commit (a turn that only read) wrote nothing: not a batch, and no sign that the storage
      // takes writes again.
      if (this.writesInBatch > 0) {
        this.stats.commits++;
        this.stats.committedWrites += this.writesInBatch;
        this.writesInBatch = 0;
        this.checkpointer?.committed();
        this.setFault(null);
      }
      return true;
    } catch (err) {
      this.rollback(err as Error);
      return false;
    }
  }

  /** Syncs the WAL on the event loop, then releases `waiting` (a small batch; see the top of this file). */
  private syncInline(waiting: DurableCallback[]): void {
    let failure: StoreError | undefined;
    try {
      const fd = this.walDescriptor();
      this.stats.syncs++;
      this.stats.inlineSyncs++;
      try {
        this.fsyncSync(fd);
      } catch (err) {
        failure = new StoreError(`fsync of the lease database failed: ${(err as Error).message}`, 'SYNC');
        this.setFault(failure);
      }
    } catch (err) {
      failure = new StoreError(`cannot open the WAL to sync it: ${(err as Error).message}`, 'SYNC');
    }
    if (failure) this.stats.syncFailures++;
    for (const cb of waiting) cb(failure);
  }

  /**
   * Syncs the WAL on the thread pool, then releases `waiting` and commits whatever gathered meanwhile.
   * fdatasync, as SQLite itself uses on Linux: the frames and the file's size reach the disk, the
   * modification time need not.
   */
  private startSync(waiting: DurableCallback[]): void {
    let fd: number;
    try {
      fd = this.walDescriptor();
    } catch (err) {
      this.stats.syncFailures++;
      for (const cb of waiting) cb(new StoreError(`cannot open the WAL to sync it: ${(err as Error).message}`, 'SYNC'));
      return;
    }
    this.syncing = waiting;
    this.stats.syncs++;
    this.fsync(fd, (err) => {
      const released = this.syncing;
      if (released === null) return; // close() synced and released them already
      this.syncing = null;
      // A failed fsync leaves the committed batch in an unknown state on disk: its replies are not sent.
      const failure = err ? new StoreError(`fsync of the lease database failed: ${err.message}`, 'SYNC') : undefined;
      if (failure) {
        this.stats.syncFailures++;
        // The disk refused to sync (EIO, ENOSPC…): a storage fault like a failed commit, probed until it heals.
        this.setFault(failure);
      }
      for (const cb of released) cb(failure);
      if (this.inTransaction || this.waiting.length > 0) this.flush();
    });
  }

  /**
   * The WAL file's descriptor, opened at the first sync. SQLite removes the WAL only when the last
   * connection to the database closes, and ours stays open until close(), so the file cannot change
   * under us. It is deliberately not stat()ed per batch: since Linux 6.13 a query of a file's times
   * makes its next write take a fine-grained timestamp, which dirties the inode, and every fdatasync
   * then writes the inode too: one more disk write per batch (about 40 µs of CPU and 55 µs of latency
   * here, see bench/RESULTS.md).
   */
  private walDescriptor(): number {
    if (this.walFd === null) {
      const walPath = `${this.file}-wal`;
      this.walFd = fs.openSync(walPath, 'r');
      // A new WAL's directory entry must be on disk too (SQLite syncs the directory of a new WAL).
      const dirFd = fs.openSync(path.dirname(walPath), 'r');
      try {
        fs.fsyncSync(dirFd);
      } finally {
        fs.closeSync(dirFd);
      }
    }
    return this.walFd;
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
    this.syncOwed = false;
    this.stats.rollbacks++;
    if (isStorageFault(err)) this.setFault(err);
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb(err);
    this.onRollback?.(err);
  }
}

export { StoreError };
