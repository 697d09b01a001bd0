// Opening the permanent store: the spool directory, the SQLite file, its pragmas and migrations.
// Only src/store touches SQLite.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BACKUP_SUFFIX, quickCheck } from './backup';
import { MIGRATIONS, SCHEMA_VERSION } from './schema';

export const DB_FILE_NAME = 'joind.db';

export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface OpenOptions {
  spoolDir: string;
  /**
   * Every committed batch is synced before its replies leave: a lease is on stable storage before its
   * ACK, which is what an appliance that loses power needs. SQLite itself runs with synchronous=NORMAL
   * either way; the Store fsyncs the WAL after each commit when durable (off the event loop, see
   * store.ts). false (auto_sync_dbs off): no such fsync; WAL stays consistent after a power cut but may
   * lose the last commits.
   */
  durable: boolean;
  readonly?: boolean;
  /** A private in-memory database (spoolDir unused): the start-up warm-up's throwaway store. */
  inMemory?: boolean;
}

export function openDatabase(options: OpenOptions): Database.Database {
  const file = options.inMemory ? ':memory:' : path.join(options.spoolDir, DB_FILE_NAME);
  if (!options.readonly && !options.inMemory) {
    try {
      fs.mkdirSync(options.spoolDir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new StoreError(`cannot create spool directory ${options.spoolDir}: ${(err as Error).message}`, 'SPOOL');
    }
  }
  if (!options.readonly && !options.inMemory) {
    // A read-only spool would otherwise surface later as a puzzling "cannot open" of the WAL files.
    try {
      fs.accessSync(options.spoolDir, fs.constants.W_OK);
    } catch (err) {
      throw new StoreError(`spool directory ${options.spoolDir} is not writable: ${(err as Error).message}`, 'SPOOL');
    }
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (err) {
    throw new StoreError(`cannot open lease database ${file}: ${(err as Error).message}`, 'OPEN');
  }
  try {
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // NORMAL in both cases: when durable, the Store syncs the WAL after each commit itself.
      db.pragma('synchronous = NORMAL');
    }
    // A writer holds the lock only for one short batch; admin tools wait for it rather than fail.
    db.pragma('busy_timeout = 5000');
    // SQLite's default page cache is 2 MB: with a million leases the index pages a lease touches would be
    // read back from the OS on every write. 8 MB holds the interior pages of the table and its indexes for
    // a million leases (1.4 MB of a 126 MB file, by SQLite's dbstat) and the hot leaves; the rest comes from
    // the kernel's page cache, which is not this process's memory (32 MB, as before issue 17, made a
    // million-lease store's idle RSS 58 MB of its own).
    db.pragma('cache_size = -8192');
    // A damaged database is refused at start, not discovered half-way through serving. quick_check reads
    // every page (milliseconds for tens of thousands of leases) but skips the costly index cross-checks.
    const verdict = quickCheck(db);
    if (verdict !== 'ok') {
      throw new StoreError(
        `lease database ${file} failed its integrity check (${verdict}); restore ${file}${BACKUP_SUFFIX} (see README, Reliability)`,
        'CORRUPT',
      );
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `lease database ${file} has schema version ${version}, newer than this joind (${SCHEMA_VERSION})`,
        'SCHEMA',
      );
    }
    if (version < SCHEMA_VERSION) {
      if (options.readonly) throw new StoreError(`lease database ${file} needs migration; start joind once`, 'SCHEMA');
      db.transaction(() => {
        for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    }
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(
      `lease database ${file} is not usable: ${(err as Error).message}; restore ${file}${BACKUP_SUFFIX} (see README, Reliability)`,
      'CORRUPT',
    );
  }
  return db;
}
