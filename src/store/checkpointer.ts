// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that crosses
// wal_autocheckpoint (1,000 pages): it copies those pages into the database file and fsyncs it, holding
// the event loop for several milliseconds every few hundred batches. That was most of joind's 99th
// percentile of reply latency (bench/RESULTS.md). Here a worker thread with its own connection runs
// PASSIVE checkpoints, which never block the writer, every CHECKPOINT_EVERY_COMMITS commits; the main
// connection keeps an automatic checkpoint only as a safety valve, far above, should the worker lag.
// The thread is started when the first checkpoint is due and ended after CHECKPOINT_THREAD_IDLE_MS
// without one: a thread is a V8 isolate of its own (about 11 MB resident), which an idle appliance
// should not carry (issue 17). Under load it stays.
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** Commits between two checkpoints asked of the worker. */
export const CHECKPOINT_EVERY_COMMITS = 100;
/** The main connection's own automatic checkpoint, in pages, when the worker runs (40 MB of WAL). */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;
/** How long the thread may go without a checkpoint before it is ended. */
export const CHECKPOINT_THREAD_IDLE_MS = 30_000;
/** SQLite's default, restored if the worker dies. */
export const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

export class Checkpointer {
  private worker: Worker | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private commits = 0;
  private inFlight = false;
  private closed = false;
  /** The last checkpoint failed: the next failure is not reported again (one report per run of them). */
  private failing = false;
  /** Checkpoints done, failures, and threads started (for tests and metrics). */
  readonly stats = { checkpoints: 0, failures: 0, threads: 0 };

  /**
   * onError: a checkpoint failed (`ended` false; reported once per run of failures), or the thread itself
   * died (`ended` true: no more checkpoints from here, the caller must take them back).
   */
  constructor(
    private readonly file: string,
    private readonly onError: (message: string, ended: boolean) => void = () => undefined,
    private readonly idleMs = CHECKPOINT_THREAD_IDLE_MS,
  ) {}

  /** Whether the thread runs now. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Counts a commit; every CHECKPOINT_EVERY_COMMITS, asks the worker for a checkpoint (one at a time). */
  committed(): void {
    if (this.closed || ++this.commits < CHECKPOINT_EVERY_COMMITS || this.inFlight) return;
    this.commits = 0;
    this.inFlight = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    (this.worker ?? this.start()).postMessage('checkpoint');
  }

  /** Asks the worker to close its connection and end; does not wait (the main connection's close checkpoints). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop();
  }

  private start(): Worker {
    const worker = new Worker(path.join(__dirname, 'checkpoint-worker.js'), { workerData: { file: this.file } });
    this.stats.threads++;
    worker.unref(); // never what keeps the process alive
    worker.on('message', (result: { ok: boolean; error?: string }) => {
      this.inFlight = false;
      this.idleTimer = setTimeout(() => this.stop(), this.idleMs).unref();
      if (result.ok) {
        this.stats.checkpoints++;
        this.failing = false;
        return;
      }
      this.stats.failures++;
      if (!this.failing) this.onError(result.error ?? 'unknown error', false);
      this.failing = true;
    });
    worker.on('error', (err) => {
      if (this.worker !== worker) return; // one ended as idle: nothing depends on it any more
      this.closed = true;
      this.worker = null;
      this.onError(err.message, true);
    });
    this.worker = worker;
    return worker;
  }

  /** Ends the thread (idle, or closing); the next checkpoint due starts another. */
  private stop(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.worker?.postMessage('close');
    this.worker = null;
  }
}
