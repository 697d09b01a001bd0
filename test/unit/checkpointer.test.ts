// The WAL checkpoint thread (src/store/checkpointer.ts) runs only while checkpoints are due: started by
// the first, ended after an idle spell, started again by the next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CHECKPOINT_EVERY_COMMITS, Checkpointer } from '../../src/store/checkpointer';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';

test('checkpoint thread: none until a checkpoint is due, ended when idle, started again when needed', async () => {
  const file = path.join(tempDir(), 'wal.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x)');
  const checkpointer = new Checkpointer(file, (message) => assert.fail(message), 200);
  const commits = (n: number): void => {
    for (let i = 0; i < n; i++) {
      db.prepare('INSERT INTO t VALUES (?)').run(i);
      checkpointer.committed();
    }
  };
  commits(CHECKPOINT_EVERY_COMMITS - 1);
  assert.equal(checkpointer.running, false, 'no thread before the first checkpoint is due');
  commits(1);
  assert.equal(checkpointer.running, true);
  await waitFor(() => String(checkpointer.stats.checkpoints), /^1$/);
  await waitFor(() => String(checkpointer.running), /^false$/, 5_000);
  commits(CHECKPOINT_EVERY_COMMITS);
  await waitFor(() => String(checkpointer.stats.checkpoints), /^2$/);
  assert.equal(checkpointer.stats.threads, 2, 'a new thread for the checkpoint after the idle spell');
  checkpointer.close();
  assert.equal(checkpointer.running, false);
  db.close();
});
