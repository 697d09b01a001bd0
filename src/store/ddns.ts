// The dynamic DNS queue and what DNS holds for our leases (schema 4). The jobs are written by the
// lease owner in the batch of the lease change they follow; the worker (src/ddns/worker.ts) reads the
// due ones and writes back what the DNS server confirmed.
import type Database from 'better-sqlite3';
import type { WriteStatement, WriteStatements } from './statements';
import type { DdnsJob, DnsRecordState } from './types';

interface JobRow {
  address: number;
  version: number;
  op: number;
  fqdn: string | null;
  guard_type: number | null;
  guard: Buffer | null;
  ttl: number | null;
  due: number;
  attempts: number;
  last_error: string | null;
  created: number;
}

interface RecordRow {
  address: number;
  fqdn: string;
  guard_type: number;
  guard: Buffer;
  forward: number;
  reverse: number;
  written: number;
}

const OP_ADD = 1;
const OP_REMOVE = 2;
const OP_REVERSE = 3;
const OPS = { add: OP_ADD, remove: OP_REMOVE, reverse: OP_REVERSE } as const;

function toJob(row: JobRow): DdnsJob {
  return {
    address: row.address,
    version: row.version,
    op: row.op === OP_ADD ? 'add' : row.op === OP_REVERSE ? 'reverse' : 'remove',
    fqdn: row.fqdn,
    guardType: row.guard_type,
    guard: row.guard,
    ttl: row.ttl,
    due: row.due,
    attempts: row.attempts,
    lastError: row.last_error,
    created: row.created,
  };
}

export class DdnsRepository {
  private readonly jobAt: Database.Statement<[number], JobRow>;
  private readonly upsertJob: WriteStatement<
    [number, number, string | null, number | null, Buffer | null, number | null, number, number]
  >;
  private readonly dueJobs: Database.Statement<[number, number], JobRow>;
  private readonly firstDue: Database.Statement<[], { due: number | null }>;
  private readonly retryJob: WriteStatement<[number, number, string, number, number]>;
  private readonly finishJob: WriteStatement<[number, number]>;
  private readonly countJobs: Database.Statement<[], { n: number }>;
  private readonly listJobs: Database.Statement<[number], JobRow>;
  private readonly recordAt: Database.Statement<[number], RecordRow>;
  private readonly upsertRecord: WriteStatement<RecordRow>;
  private readonly dropRecord: WriteStatement<[number]>;

  constructor(db: Database.Database, writes: WriteStatements) {
    this.jobAt = db.prepare('SELECT * FROM ddns_jobs WHERE address = ?');
    // A newer job replaces the one of the address (its version one higher, its tries from zero). Its
    // parameters are positional: this runs in the batch of every named lease, and binding by name costs
    // a third of the statement.
    this.upsertJob =
      writes.prepare(`INSERT INTO ddns_jobs (address, version, op, fqdn, guard_type, guard, ttl, due, attempts, last_error, created)
       VALUES (?, 1, ?, ?, ?, ?, ?, ?, 0, NULL, ?)
       ON CONFLICT (address) DO UPDATE SET version = version + 1, op = excluded.op, fqdn = excluded.fqdn,
         guard_type = excluded.guard_type, guard = excluded.guard, ttl = excluded.ttl, due = excluded.due,
         attempts = 0, last_error = NULL, created = excluded.created`);
    this.dueJobs = db.prepare('SELECT * FROM ddns_jobs WHERE due <= ? ORDER BY due LIMIT ?');
    this.firstDue = db.prepare('SELECT min(due) AS due FROM ddns_jobs');
    this.retryJob = writes.prepare(
      'UPDATE ddns_jobs SET due = ?, attempts = ?, last_error = ? WHERE address = ? AND version = ?',
    );
    this.finishJob = writes.prepare('DELETE FROM ddns_jobs WHERE address = ? AND version = ?');
    this.countJobs = db.prepare('SELECT count(*) AS n FROM ddns_jobs');
    this.listJobs = db.prepare('SELECT * FROM ddns_jobs ORDER BY due LIMIT ?');
    this.recordAt = db.prepare('SELECT * FROM dns_records WHERE address = ?');
    this.upsertRecord =
      writes.prepare(`INSERT OR REPLACE INTO dns_records (address, fqdn, guard_type, guard, forward, reverse, written)
       VALUES (@address, @fqdn, @guard_type, @guard, @forward, @reverse, @written)`);
    this.dropRecord = writes.prepare('DELETE FROM dns_records WHERE address = ?');
  }

  job(address: number): DdnsJob | undefined {
    const row = this.jobAt.get(address);
    return row ? toJob(row) : undefined;
  }

  /** Queues what DNS should hold for the address (replacing its pending job), due at `due` ms. */
  putJob(job: Pick<DdnsJob, 'address' | 'op' | 'fqdn' | 'guardType' | 'guard' | 'ttl' | 'due' | 'created'>): void {
    this.upsertJob.run(job.address, OPS[job.op], job.fqdn, job.guardType, job.guard, job.ttl, job.due, job.created);
  }

  /** Jobs due at `nowMs`, earliest first. */
  due(nowMs: number, limit: number): DdnsJob[] {
    return this.dueJobs.all(nowMs, limit).map(toJob);
  }

  /** When the earliest job is due (ms), or null when the queue is empty. */
  nextDue(): number | null {
    return this.firstDue.get()?.due ?? null;
  }

  /** A try failed: the job (if not replaced meanwhile) waits until `due`. */
  retry(job: DdnsJob, due: number, error: string): void {
    this.retryJob.run(due, job.attempts + 1, error, job.address, job.version);
  }

  /** The job is done (if not replaced meanwhile, in which case the newer one stays). */
  finish(job: DdnsJob): void {
    this.finishJob.run(job.address, job.version);
  }

  get depth(): number {
    return this.countJobs.get()?.n ?? 0;
  }

  list(limit: number): DdnsJob[] {
    return this.listJobs.all(limit).map(toJob);
  }

  record(address: number): DnsRecordState | undefined {
    const row = this.recordAt.get(address);
    if (!row) return undefined;
    return {
      address: row.address,
      fqdn: row.fqdn,
      guardType: row.guard_type,
      guard: row.guard,
      forward: row.forward !== 0,
      reverse: row.reverse !== 0,
      written: row.written,
    };
  }

  putRecord(state: DnsRecordState): void {
    this.upsertRecord.run({
      address: state.address,
      fqdn: state.fqdn,
      guard_type: state.guardType,
      guard: state.guard,
      forward: state.forward ? 1 : 0,
      reverse: state.reverse ? 1 : 0,
      written: state.written,
    });
  }

  deleteRecord(address: number): void {
    this.dropRecord.run(address);
  }
}
