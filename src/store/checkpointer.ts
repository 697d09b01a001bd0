// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that crosses
// wal_autocheckpoint (1,000 pages): it copies those pages into the database file and fsyncs it, holding
// the event loop for several milliseconds every few hundred batches. That was most of joind's 99th
// percentile of reply latency (bench/RESULTS.md). Here a worker thread with its own connection runs
// PASSIVE checkpoints, which never block the writer, every CHECKPOINT_EVERY_COMMITS commits; the main
// connection keeps an automatic checkpoint only as a safety valve, far above, should the worker lag.
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** Commits between two checkpoints asked of the worker. */
export const CHECKPOINT_EVERY_COMMITS = 100;
/** The main connection's own automatic checkpoint, in pages, when the worker runs (40 MB of WAL). */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;
/** SQLite's default, restored if the worker dies. */
export const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

export class Checkpointer {
  private readonly worker: Worker;
  private commits = 0;
  private inFlight = false;
  private closed = false;
  /** The last checkpoint failed: the next failure is not reported again (one report per run of them). */
  private failing = false;
  /** Checkpoints done, and failures (for tests and metrics). */
  readonly stats = { checkpoints: 0, failures: 0 };

  /**
   * onError: a checkpoint failed (`ended` false; reported once per run of failures), or the thread itself
   * died (`ended` true: no more checkpoints from here, the caller must take them back).
   */
  constructor(
    file: string,
    private readonly onError: (message: string, ended: boolean) => void = () => undefined,
  ) {
    this.worker = new Worker(path.join(__dirname, 'checkpoint-worker.js'), { workerData: { file } });
    this.worker.unref(); // never what keeps the process alive
    this.worker.on('message', (result: { ok: boolean; error?: string }) => {
      this.inFlight = false;
      if (result.ok) {
        this.stats.checkpoints++;
        this.failing = false;
        return;
      }
      this.stats.failures++;
      if (!this.failing) this.onError(result.error ?? 'unknown error', false);
      this.failing = true;
    });
    this.worker.on('error', (err) => {
      this.closed = true;
      this.onError(err.message, true);
    });
  }

  /** Counts a commit; every CHECKPOINT_EVERY_COMMITS, asks the worker for a checkpoint (one at a time). */
  committed(): void {
    if (this.closed || ++this.commits < CHECKPOINT_EVERY_COMMITS || this.inFlight) return;
    this.commits = 0;
    this.inFlight = true;
    this.worker.postMessage('checkpoint');
  }

  /** Asks the worker to close its connection and end; does not wait (the main connection's close checkpoints). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.postMessage('close');
  }
}
