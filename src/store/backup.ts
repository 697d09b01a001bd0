// Backup copies of the lease database, kept next to it in the spool directory: joind.db.bak (the latest)
// and joind.db.bak.1 (the one before). ISC dhcpd's dhcpd.leases~ has a window, while the file is rewritten,
// in which no complete copy exists; here a copy is written whole under a temporary name, checked, synced,
// and only then renamed over the older one, so at every moment at least one good copy is on disk.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const BACKUP_SUFFIX = '.bak';

/** The backup files of a database, newest first. */
export function backupFiles(dbFile: string): string[] {
  return [`${dbFile}${BACKUP_SUFFIX}`, `${dbFile}${BACKUP_SUFFIX}.1`];
}

/** fsync of a file or directory by its path (a new file's directory entry must reach the disk too). */
export function fsyncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** PRAGMA quick_check of a database file: 'ok' or the first problem found. */
export function quickCheck(db: Database.Database): string {
  const rows = db.pragma('quick_check(1)') as Array<Record<string, string>>;
  return rows.length === 0 ? 'no answer' : String(Object.values(rows[0]!)[0]);
}

/**
 * Writes a backup of the committed state of dbFile (through its own read-only connection: a snapshot of
 * what is committed, never an open batch). Resolves with the backup's path; rejects, leaving the earlier
 * copies as they were, when the copy cannot be written or does not pass its check.
 */
export async function backupDatabase(dbFile: string): Promise<string> {
  const [latest, previous] = backupFiles(dbFile) as [string, string];
  const temporary = `${latest}.tmp`;
  // What a backup killed half-way left behind: a stale journal must never be replayed into a new copy.
  const removeTemporary = (): void => {
    for (const suffix of ['', '-journal', '-wal', '-shm']) fs.rmSync(`${temporary}${suffix}`, { force: true });
  };
  removeTemporary();
  const source = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    await source.backup(temporary);
  } catch (err) {
    removeTemporary();
    throw err;
  } finally {
    source.close();
  }
  try {
    // The copy keeps no WAL of its own: one self-contained file, which is what a restore copies back.
    const copy = new Database(temporary, { fileMustExist: true });
    let verdict: string;
    try {
      copy.pragma('journal_mode = DELETE');
      verdict = quickCheck(copy);
    } finally {
      copy.close();
    }
    if (verdict !== 'ok') throw new Error(`the new copy failed its check: ${verdict}`);
    fsyncPath(temporary);
    if (fs.existsSync(latest)) fs.renameSync(latest, previous);
    fs.renameSync(temporary, latest);
    fsyncPath(path.dirname(dbFile));
  } catch (err) {
    removeTemporary();
    throw err;
  }
  return latest;
}
