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
//
// Journal mode (the server's durable store, issue 17): a fsynced SQLite commit writes a WAL frame for
// every page the lease touches (the row and three index pages: 4.2 frames, ~23 KB of storage writes per
// lease), where dhcpd writes one page of its append-only lease file. So in journal mode the durable record
// of a batch is a frame of the lease journal (journal.ts): every write statement the batch ran, with its
// parameters, appended to joind.journal and fdatasynced before the replies. SQLite keeps one transaction
// open across batches (each batch a savepoint, so a failed write undoes only its own batch) and commits
// it, with the sequence of the last batch it holds, every PUBLISH_EVERY_MS or PUBLISH_AT_BYTES of journal
// (a "publish": commit, checkpoint, fsync of the WAL, then the journal is emptied). A page written by many leases
// between two publishes is written once. A start (or any writable open) replays the batches the database
// does not hold yet. Other processes see the database as of the last publish: the admin commands ask a
// running server to publish first (control API), and replay the journal themselves when none runs.
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { backupDatabase, fsyncPath } from './backup';
import { Checkpointer, FALLBACK_AUTOCHECKPOINT_PAGES, SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES } from './checkpointer';
import { openDatabase, OpenOptions, StoreError } from './db';
import { LeaseRepository } from './leases';
import { NameRepository } from './names';
import { RegisteredRepository } from './registered';
import { FailoverStateRepository } from './failover';
import { ClockRepository } from './clock';
import { DdnsRepository } from './ddns';
import { BatchEncoder, decodeJournal, DEFINE, JOURNAL_HEADER, JournalBatch, JournalFile } from './journal';
import { WriteStatements } from './statements';

/** The lease journal's file, beside the database. */
export const JOURNAL_FILE_NAME = 'joind.journal';
/** Journal mode: SQLite is committed at least this often while leases are written (see the top). */
export const PUBLISH_EVERY_MS = 300_000;
/** Journal mode: … and whenever the journal has grown past this (a start replays at most about this). */
export const PUBLISH_AT_BYTES = 4 * 1024 * 1024;

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
  /**
   * Journal mode (see the top of this file): the durable record of a batch is the lease journal, and
   * SQLite is committed only every few minutes. For the server's durable store.
   */
  journal?: boolean;
}

/**
 * SQLite result codes, and the system's for the lease journal, that mean the storage itself refuses
 * writes (full, read-only, I/O error), as opposed to a bad statement: while one holds, nothing new can be
 * granted.
 */
const STORAGE_FAULT = /^(SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB)|ENOSPC$|EDQUOT$|EROFS$|EIO$)/;

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
  /** Batches replayed from the journal when the store was opened. */
  replayedBatches = 0;
  /**
   * A journal found at open that does not continue this database (a backup put back, a store wiped):
   * renamed to `file` instead of replayed. Its first batch, and the sequence the database holds.
   */
  journalSetAside: { file: string; firstBatch: number; databaseHolds: number } | null = null;

  private inTransaction = false;
  private waiting: DurableCallback[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Counters for metrics and tests. */
  readonly stats = {
    commits: 0,
    committedWrites: 0,
    durableWrites: 0,
    rollbacks: 0,
    syncs: 0,
    inlineSyncs: 0,
    syncFailures: 0,
    /** Journal mode: commits of SQLite's transaction (see the top of this file). */
    publishes: 0,
  };
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
  private readonly writes: WriteStatements;
  /** Journal mode: the journal file (null: SQLite commits are the durable record). */
  private journal: JournalFile | null = null;
  /** Journal mode: the batch being recorded, and whether its savepoint is open. */
  private readonly batch = new BatchEncoder();
  private batchOpen = false;
  /** Journal mode: the sequence of the last batch appended, and of the last one SQLite has committed. */
  private sequence = 0;
  private applied = 0;
  /** Journal mode: write statements appended since the last publish. */
  private unpublishedWrites = 0;
  private publishTimer: NodeJS.Timeout | null = null;
  private publishRequested = false;
  private publishWaiting: DurableCallback[] = [];
  /** Journal mode: the journal holds the DEFINE frame (written before its first batch). */
  private defined = false;
  private defines: Buffer | null = null;
  /** Journal mode: the transaction SQLite lost by itself could not be rebuilt from the journal yet. */
  private needsRecovery = false;
  private readonly readApplied: Database.Statement<[], { sequence: number }>;
  private readonly setApplied: Database.Statement<[number]>;
  private readonly savepoint: Database.Statement;
  private readonly releaseSavepoint: Database.Statement;
  private readonly rollbackSavepoint: Database.Statement;

  private constructor(
    readonly db: Database.Database,
    readonly file: string,
    private readonly durable: boolean,
    private readonly fsync: FsyncFunction,
    private readonly fsyncSync: FsyncSyncFunction,
    private readonly inlineSyncBelow: number,
  ) {
    const writes = (this.writes = new WriteStatements(db));
    this.leases = new LeaseRepository(db, writes);
    this.names = new NameRepository(db, writes);
    this.registered = new RegisteredRepository(db, writes);
    this.failover = new FailoverStateRepository(db, writes);
    this.ddns = new DdnsRepository(db, writes);
    this.clock = new ClockRepository(db, writes);
    // Prepared once: exec() would parse them again for every batch.
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commitStatement = db.prepare('COMMIT');
    this.savepoint = db.prepare('SAVEPOINT batch');
    this.releaseSavepoint = db.prepare('RELEASE batch');
    this.rollbackSavepoint = db.prepare('ROLLBACK TO batch');
    this.readApplied = db.prepare('SELECT sequence FROM journal_applied WHERE id = 1');
    this.setApplied = db.prepare(
      'INSERT INTO journal_applied (id, sequence) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET sequence = excluded.sequence',
    );
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
    if (!options.readonly && !options.inMemory) {
      try {
        store.openJournal(options.journal === true && options.durable);
      } catch (err) {
        db.close();
        throw err instanceof StoreError ? err : new StoreError(`lease journal: ${(err as Error).message}`, 'JOURNAL');
      }
    }
    if (options.backgroundCheckpoint && !options.readonly && store.journal === null) {
      store.checkpointer = new Checkpointer(db.name, (message, ended) => {
        store.onCheckpointError?.(message);
        // Without its thread the main connection checkpoints inside its commits again, as SQLite does.
        if (ended && !store.closed) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
      });
      db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    }
    return store;
  }

  /** Whether a lease journal with batches lies beside the database in spoolDir (see the top of this file). */
  static journalPending(spoolDir: string): boolean {
    try {
      return fs.statSync(path.join(spoolDir, JOURNAL_FILE_NAME)).size > JOURNAL_HEADER.length;
    } catch {
      return false;
    }
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
    this.openBatch();
    try {
      const result = change();
      this.writesInBatch++;
      return result;
    } catch (err) {
      this.rollback(err as Error);
      throw err;
    }
  }

  /** Opens the batch's transaction (and in journal mode its savepoint), if not open yet. */
  private openBatch(): void {
    if (this.closed) throw new StoreError('store is closed', 'CLOSED');
    if (this.needsRecovery) this.recoverFromJournal();
    if (!this.inTransaction) {
      this.begin.run();
      this.inTransaction = true;
      this.scheduleFlush();
    }
    if (this.journal !== null && !this.batchOpen) {
      this.savepoint.run();
      this.batchOpen = true;
      this.scheduleFlush();
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
   * Ends the open batch (a SQLite commit, or in journal mode a journal frame) and releases whatever waits
   * on it: at once when the store is not durable, after the fsync of the WAL or the journal otherwise.
   * While an fsync is in flight nothing is ended: the batch keeps growing and is ended when that fsync
   * completes. In journal mode a publish that is due follows.
   */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.syncing !== null) return;
    const wrote = this.writesInBatch > 0;
    const owed = this.syncOwed;
    this.syncOwed = false;
    if (!(this.journal !== null ? this.appendBatch() : this.commit())) return;
    const waiting = this.waiting;
    this.waiting = [];
    if (!wrote || !this.durable || (!owed && waiting.length === 0)) {
      for (const cb of waiting) cb();
    } else if (waiting.length < this.inlineSyncBelow) {
      this.syncInline(waiting);
    } else {
      this.startSync(waiting);
      return;
    }
    this.publishIfDue();
  }

  /**
   * Journal mode: runs cb once SQLite itself holds (committed and synced) everything written so far, so
   * that another process reading the database sees it. Asks for a publish now rather than at its time.
   */
  whenPublished(cb: DurableCallback): void {
    if (this.journal === null) return this.whenDurable(cb);
    this.publishWaiting.push(cb);
    this.publishRequested = true;
    this.scheduleFlush();
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
    if (this.journal !== null) {
      if (this.batchOpen || this.syncing !== null || this.closed) return false;
      // The journal must take a write that needs a new page of storage (its last page may have room
      // left on a full disk), then SQLite must take a commit of whatever it has not committed yet.
      try {
        this.journal.probe();
        if (this.needsRecovery) this.recoverFromJournal();
      } catch {
        return false;
      }
      if (this.unpublishedWrites > 0) return this.publish(); // clears the fault when it succeeds
    }
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
    if (this.journal === null) return backupDatabase(this.file);
    // Journal mode: the copy is of what SQLite has committed, so publish first.
    return new Promise((resolve, reject) => {
      this.whenPublished((err) => (err ? reject(err) : resolve(backupDatabase(this.file))));
    });
  }

  close(): void {
    if (this.closed) return;
    // Synchronously: whatever is committed or in flight is synced before anyone is told it is durable.
    const pending = [...(this.syncing ?? []), ...this.waiting, ...this.publishWaiting];
    this.syncing = null;
    this.waiting = [];
    this.publishWaiting = [];
    let failure: Error | undefined;
    if (this.journal !== null) {
      failure = this.closeJournal();
    } else if (this.commit() && this.durable && this.walFd !== null) {
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

  /**
   * Opens the journal beside the database (journal mode), or only replays one left by a server that ran
   * in journal mode and stopped without publishing. The write lock is taken first: a running server
   * holds it while its journal has batches SQLite does not, so a second process never reads or cuts a
   * journal that is being appended to (it waits, then fails busy).
   */
  private openJournal(enabled: boolean): void {
    const file = path.join(path.dirname(this.file), JOURNAL_FILE_NAME);
    if (!enabled && !fs.existsSync(file)) return;
    this.db.exec('BEGIN IMMEDIATE');
    let journal: JournalFile | null = null;
    try {
      journal = JournalFile.open(file);
      this.applied = this.readApplied.get()?.sequence ?? 0;
      // Batches are numbered without gaps from the publish they follow: a first batch beyond the next
      // one continues a newer database than this one. Replaying it here would mix two states (the newest
      // failover state over an older set of leases, say), so the journal is set aside, untouched.
      const first = journal.found.find((batch) => batch.sequence > 0); // 0: DEFINE frames and probes
      if (first !== undefined && first.sequence > this.applied + 1) {
        journal.close();
        const aside = `${file}.unused`;
        fs.renameSync(file, aside);
        journal = JournalFile.open(file); // a new file: syncs the directory, the rename with it
        this.journalSetAside = { file: aside, firstBatch: first.sequence, databaseHolds: this.applied };
      }
      const replayed = replayJournal(this.db, journal.found, this.applied);
      if (replayed.batches > 0) this.setApplied.run(replayed.last);
      this.db.exec('COMMIT');
      if (replayed.batches > 0) fs.fdatasyncSync(this.walDescriptor());
      if (journal.found.length > 0) journal.reset();
      this.replayedBatches = replayed.batches;
      this.applied = this.sequence = Math.max(this.applied, replayed.last);
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      journal?.close();
      throw err;
    }
    if (!enabled) {
      journal.close();
      return;
    }
    this.journal = journal;
    this.writes.recorder = this.batch;
    // A write statement run outside write() still gets a batch (and so the journal).
    this.writes.before = () => this.openBatch();
  }

  /**
   * Journal mode: ends the open batch. Its recorded statements become the next frame of the journal
   * (the DEFINE frame first, in a journal emptied by the last publish) and its savepoint is released;
   * SQLite's transaction stays open. False when the append failed (the batch was rolled back).
   */
  private appendBatch(): boolean {
    if (!this.batchOpen) {
      // A turn that only read: end the transaction unless it holds unpublished changes (its read lock
      // would otherwise keep the checkpoints from catching up).
      return this.unpublishedWrites === 0 ? this.commit() : true;
    }
    const journal = this.journal!;
    const entries = this.batch.count;
    try {
      if (entries > 0) {
        if (!this.defined) {
          journal.appendFrame(this.defineFrame());
          this.defined = true;
        }
        journal.appendFrame(this.batch.frame(this.sequence + 1));
        this.sequence++;
      }
      this.releaseSavepoint.run();
    } catch (err) {
      this.rollback(err as Error);
      return false;
    }
    this.batchOpen = false;
    if (entries > 0) {
      if (this.unpublishedWrites === 0) this.armPublishTimer();
      this.unpublishedWrites += entries;
      this.stats.commits++;
      this.stats.committedWrites += this.writesInBatch;
      // A fault is not cleared here: a journal page with room left takes appends on a full disk. Only a
      // publish (SQLite's commit) shows that the storage takes writes again.
    }
    this.writesInBatch = 0;
    return true;
  }

  /** The frame that names every write statement's id (see journal.ts); the statements are fixed at open. */
  private defineFrame(): Buffer {
    if (this.defines === null) {
      const encoder = new BatchEncoder();
      this.writes.sql.forEach((sql, id) => encoder.add(DEFINE, [id, sql]));
      this.defines = encoder.frame(0);
    }
    return this.defines;
  }

  private armPublishTimer(): void {
    if (this.publishTimer !== null) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = null;
      this.publishRequested = true;
      this.scheduleFlush();
    }, PUBLISH_EVERY_MS);
    this.publishTimer.unref();
  }

  /** Journal mode: publishes when its time has come, the journal is big, or someone asked. */
  private publishIfDue(): void {
    const journal = this.journal;
    if (journal === null || this.syncing !== null || this.batchOpen) return;
    if (!this.publishRequested && journal.bytes < PUBLISH_AT_BYTES) return;
    if (this.unpublishedWrites > 0 && !this.publish()) {
      const failure = this.fault ?? new StoreError('the lease database could not be committed', 'PUBLISH');
      this.releasePublishWaiting(failure);
      return;
    }
    this.publishRequested = false;
    this.releasePublishWaiting(undefined);
  }

  private releasePublishWaiting(err: Error | undefined): void {
    const waiting = this.publishWaiting;
    this.publishWaiting = [];
    for (const cb of waiting) cb(err);
  }

  /**
   * Journal mode: commits SQLite's transaction with the sequence of the last batch appended, syncs the
   * WAL, then empties the journal (whose batches SQLite now holds). The WAL's sync is done before the
   * journal is emptied, so a crash in between finds either the batches in the journal or the database
   * saying it has them. False when the commit failed (what it held is rebuilt from the journal).
   */
  private publish(): boolean {
    const journal = this.journal!;
    try {
      this.setApplied.run(this.sequence);
      this.commitStatement.run();
    } catch (err) {
      this.rollback(err as Error);
      return false;
    }
    this.inTransaction = false;
    this.applied = this.sequence;
    this.unpublishedWrites = 0;
    if (this.publishTimer !== null) clearTimeout(this.publishTimer);
    this.publishTimer = null;
    this.stats.publishes++;
    try {
      // The published pages go into the database file now, before the next transaction begins: SQLite
      // starts the WAL over only at a write that begins after a complete checkpoint, and the server's next
      // transaction begins at its next packet, long before a thread's checkpoint could finish. (So journal
      // mode needs no checkpoint thread.) Then the WAL is synced in case the checkpoint left frames.
      this.db.pragma('wal_checkpoint(PASSIVE)');
      if (this.durable) this.fsyncSync(this.walDescriptor());
      journal.reset();
      this.defined = false;
      this.setFault(null);
    } catch (err) {
      // The journal still holds every batch: nothing is lost, and the next publish empties it.
      this.setFault(new StoreError(`sync of the lease database failed: ${(err as Error).message}`, 'SYNC'));
      return false;
    }
    return true;
  }

  /**
   * Journal mode: SQLite rolled its whole transaction back by itself (a full disk can make it): the
   * batches appended since the last publish are replayed from the journal into a new transaction. Until
   * that succeeds no batch is opened (writes fail as the storage fault they are).
   */
  private recoverFromJournal(): void {
    this.needsRecovery = true;
    const journal = this.journal!;
    this.db.exec('BEGIN IMMEDIATE');
    this.inTransaction = true;
    try {
      replayJournal(this.db, decodeJournal(fs.readFileSync(journal.file)).batches, this.applied);
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.inTransaction = false;
      throw err;
    }
    this.needsRecovery = false;
    this.scheduleFlush();
  }

  /** Journal mode, at close: appends and syncs what is recorded, then publishes. */
  private closeJournal(): Error | undefined {
    const journal = this.journal!;
    let failure: Error | undefined;
    if (this.publishTimer !== null) clearTimeout(this.publishTimer);
    this.publishTimer = null;
    if (!this.appendBatch()) failure = this.fault ?? new StoreError('the last batch could not be journaled', 'JOURNAL');
    else {
      try {
        if (this.durable) journal.sync();
      } catch (err) {
        failure = err as Error;
      }
      if (failure === undefined && this.unpublishedWrites > 0 && !this.needsRecovery) this.publish();
    }
    journal.close();
    this.journal = null;
    this.writes.recorder = null;
    this.writes.before = null;
    return failure;
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

  /** Syncs the batch's file on the event loop, then releases `waiting` (a small batch; see the top of this file). */
  private syncInline(waiting: DurableCallback[]): void {
    let failure: StoreError | undefined;
    try {
      const fd = this.batchDescriptor();
      this.stats.syncs++;
      this.stats.inlineSyncs++;
      try {
        this.fsyncSync(fd);
      } catch (err) {
        failure = new StoreError(`fsync of the lease database failed: ${(err as Error).message}`, 'SYNC');
        this.setFault(failure);
      }
    } catch (err) {
      failure = new StoreError(`cannot open the file to sync: ${(err as Error).message}`, 'SYNC');
    }
    if (failure) this.stats.syncFailures++;
    for (const cb of waiting) cb(failure);
  }

  /**
   * Syncs the batch's file on the thread pool, then releases `waiting` and commits whatever gathered meanwhile.
   * fdatasync, as SQLite itself uses on Linux: the frames and the file's size reach the disk, the
   * modification time need not.
   */
  private startSync(waiting: DurableCallback[]): void {
    let fd: number;
    try {
      fd = this.batchDescriptor();
    } catch (err) {
      this.stats.syncFailures++;
      for (const cb of waiting) cb(new StoreError(`cannot open the file to sync: ${(err as Error).message}`, 'SYNC'));
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

  /** What a batch's sync is of: the journal in journal mode, else the WAL. */
  private batchDescriptor(): number {
    return this.journal !== null ? this.journal.descriptor : this.walDescriptor();
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
      fsyncPath(path.dirname(walPath));
    }
    return this.walFd;
  }

  private setFault(err: Error | null): void {
    if ((err === null) === (this.fault === null)) return;
    this.fault = err;
    this.onFaultChange?.(err);
  }

  /**
   * Journal mode: undoes the open batch only (its savepoint); the batches before it stay in SQLite's
   * transaction. If SQLite rolled the whole transaction back by itself, they are replayed from the
   * journal (rollback() does it, once the batch's state is cleared).
   */
  private rollbackBatch(): void {
    this.batch.clear();
    if (this.batchOpen && this.db.inTransaction) {
      try {
        this.rollbackSavepoint.run();
        this.releaseSavepoint.run();
      } catch {
        // SQLite ended the transaction itself: handled below
      }
    }
    this.batchOpen = false;
    if (!this.db.inTransaction) {
      this.inTransaction = false;
      if (this.unpublishedWrites > 0) this.needsRecovery = true;
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private rollback(err: Error): void {
    if (this.journal !== null) this.rollbackBatch();
    else if (this.inTransaction) {
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
    // Before the callbacks: a caller that writes again must find the journal's batches back in SQLite.
    if (this.needsRecovery) {
      try {
        this.recoverFromJournal();
      } catch {
        // Tried again at the next write (openBatch) and by probe().
      }
    }
    if (isStorageFault(err)) this.setFault(err);
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb(err);
    this.onRollback?.(err);
  }
}

/**
 * Runs the journal's batches after `after` (the sequence the database holds) against db, inside the
 * caller's transaction. Statement ids come from the journal's own DEFINE entries, so a journal written
 * by another version of joind replays as it was written. Returns how many batches ran and the last one.
 */
export function replayJournal(db: Database.Database, batches: JournalBatch[], after: number): { batches: number; last: number } {
  const statements = new Map<number, Database.Statement>();
  let count = 0;
  let last = after;
  for (const batch of batches) {
    for (const entry of batch.entries) {
      if (entry.statement !== DEFINE) continue;
      const [id, sql] = entry.params as [number, string];
      statements.set(id, db.prepare(sql));
    }
    if (batch.sequence <= after) continue;
    for (const entry of batch.entries) {
      if (entry.statement === DEFINE) continue;
      const statement = statements.get(entry.statement);
      if (statement === undefined) {
        throw new StoreError(
          `journal batch ${batch.sequence} runs statement ${entry.statement}, which the journal never defined`,
          'JOURNAL',
        );
      }
      if (Array.isArray(entry.params)) statement.run(...entry.params);
      else statement.run(entry.params);
    }
    count++;
    last = batch.sequence;
  }
  return { batches: count, last };
}

export { StoreError };
