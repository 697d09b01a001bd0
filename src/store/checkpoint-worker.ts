// The WAL checkpointer's thread (see checkpointer.ts). It holds its own connection to the lease database
// and, each time the main thread asks, copies the committed WAL frames back into the database file with
// a PASSIVE checkpoint, which never blocks the writer. It runs at the lowest CPU priority, so on a busy
// single core it takes the time the event loop leaves idle.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const port = parentPort;
if (port) {
  try {
    os.setPriority(19); // on Linux the nice value is per thread: this one only
  } catch {
    // not allowed: the checkpoints still leave the event loop, at the same priority
  }
  const db = new Database((workerData as { file: string }).file, { fileMustExist: true });
  port.on('message', (message: string) => {
    if (message === 'close') {
      db.close();
      port.close();
      return;
    }
    try {
      const [result] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      port.postMessage({ ok: true, log: result?.log ?? 0, checkpointed: result?.checkpointed ?? 0 });
    } catch (err) {
      port.postMessage({ ok: false, error: (err as Error).message });
    }
  });
}
