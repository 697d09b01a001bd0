// The daemon's lease journal (issue 17): leases are durable in joind.journal and reach the SQLite file at
// a publish; an admin command that reads while the server runs asks it to publish first, so it sees
// every lease; a stop publishes and empties the journal. In process, on loopback; the CLI as a child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createLogger } from '../../src/log/logger';
import { Daemon } from '../../src/server/daemon';
import { JOURNAL_HEADER } from '../../src/store/journal';
import { JOURNAL_FILE_NAME } from '../../src/store/store';
import { LeaseState } from '../../src/store/types';
import { ip } from '../../src/util/ipv4';
import { BASE_FILES, writeConfig } from './harness';
import { tempDir } from '../helpers/tmp';
import { leaseRecord } from '../helpers/lease';
import { waitFor } from '../helpers/wait';

const MAIN = path.join(__dirname, '..', '..', '..', 'dist', 'src', 'cli', 'main.js');
const run = promisify(execFile);

/** Lease addresses in the database file, as another process reads it. */
function inDatabaseFile(spoolDir: string): number[] {
  const db = new Database(path.join(spoolDir, 'joind.db'), { readonly: true });
  try {
    return (db.prepare('SELECT address FROM leases WHERE state = ?').all(LeaseState.ACTIVE) as Array<{ address: number }>).map(
      (r) => r.address,
    );
  } finally {
    db.close();
  }
}

test('journal: a lease is in the journal first; dump while running asks for a publish; stop publishes', async () => {
  const spoolDir = tempDir('joind-journal-spool-');
  const daemon = new Daemon({
    configDir: writeConfig(BASE_FILES),
    spoolDir,
    log: createLogger('silent'),
    interfaces: [],
    idleExitMinutes: 0,
    port: 0,
    bindAddress: '127.0.0.1',
  });
  const journalBytes = () => fs.statSync(path.join(spoolDir, JOURNAL_FILE_NAME)).size;
  try {
    await daemon.start();
    await daemon.backup(); // the copy at start (it publishes first: not what this test looks at)
    const times = { network: ip('10.77.1.0'), starts: 1_800_000_000, ends: 1_800_003_600, cltt: 1_800_000_000 };
    const lease = leaseRecord('10.77.1.100', 1, times);
    daemon.server.leases.put(lease);
    await waitFor(() => String(journalBytes() > JOURNAL_HEADER.length), /^true$/);
    assert.deepEqual(inDatabaseFile(spoolDir), [], 'and not yet in the database file');
    const dump = await run(process.execPath, [MAIN, 'dump', '-l', '--spool-dir', spoolDir], { timeout: 20_000 });
    assert.match(dump.stdout, /10\.77\.1\.100/, 'dump, in another process, sees the lease');
    assert.deepEqual(inDatabaseFile(spoolDir), [ip('10.77.1.100')], 'published for it');
    assert.equal(journalBytes(), JOURNAL_HEADER.length, 'and the journal emptied');
    daemon.server.leases.put(leaseRecord('10.77.1.101', 2, times));
    await waitFor(() => String(journalBytes() > JOURNAL_HEADER.length), /^true$/);
  } finally {
    await daemon.stop();
  }
  assert.deepEqual(inDatabaseFile(spoolDir), [ip('10.77.1.100'), ip('10.77.1.101')], 'the stop published');
  assert.equal(journalBytes(), JOURNAL_HEADER.length);
});
