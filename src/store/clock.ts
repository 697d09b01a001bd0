// What the store keeps of the clock (src/server/lease-clock.ts): the latest time it was written at, and
// the move of every stored time by a step of the wall clock, so that each lease keeps the time it had
// left (no lease grows or shrinks by the step) and the store's times stay wall-clock times for every
// reader (export, dump, show, the failover peer).
import type Database from 'better-sqlite3';
import type { WriteStatement, WriteStatements } from './statements';
import { LeaseState } from './types';

/** Rows whose times were moved by a step. */
export interface ShiftedRows {
  leases: number;
  ddnsJobs: number;
}

export class ClockRepository {
  private readonly readSeen: Database.Statement<[], { seen: number }>;
  private readonly writeSeen: WriteStatement<[number]>;
  private readonly shiftLeases: WriteStatement<{ s: number }>;
  private readonly shiftJobs: WriteStatement<{ ms: number }>;
  private readonly shiftStates: WriteStatement<{ s: number }>;
  private readonly shiftSeen: WriteStatement<{ s: number }>;

  constructor(db: Database.Database, writes: WriteStatements) {
    this.readSeen = db.prepare('SELECT seen FROM clock WHERE id = 1');
    this.writeSeen = writes.prepare(
      'INSERT INTO clock (id, seen) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seen = max(seen, excluded.seen)',
    );
    // Leases that count down (active, BOOTP with an end) and every record the failover peer holds
    // times of (tstp, tsfp: the MCLT arithmetic). Ended leases keep their history: nothing is judged by
    // it but the order in which their addresses are reused. NULL + s stays NULL.
    this.shiftLeases = writes.prepare(
      `UPDATE leases SET starts = starts + @s, cltt = cltt + @s, ends = ends + @s, tstp = tstp + @s, tsfp = tsfp + @s
       WHERE (ends IS NOT NULL AND state IN (${LeaseState.ACTIVE}, ${LeaseState.BOOTP})) OR tstp IS NOT NULL OR tsfp IS NOT NULL`,
    );
    this.shiftJobs = writes.prepare('UPDATE ddns_jobs SET due = due + @ms, created = created + @ms');
    this.shiftStates = writes.prepare('UPDATE failover_state SET my_stos = my_stos + @s, partner_stos = partner_stos + @s');
    this.shiftSeen = writes.prepare('UPDATE clock SET seen = seen + @s');
  }

  /** The latest time (seconds since 1970) the store was written at, or undefined for a new store. */
  seen(): number | undefined {
    return this.readSeen.get()?.seen;
  }

  /** Records that the store was written at nowSec (never moves the record back: that is shift's job). */
  note(nowSec: number): void {
    this.writeSeen.run(nowSec);
  }

  /** Moves every stored time that is judged against the clock by stepMs (rounded to whole seconds for the seconds columns). */
  shift(stepMs: number): ShiftedRows {
    const s = Math.round(stepMs / 1000);
    const leases = this.shiftLeases.run({ s }).changes;
    const ddnsJobs = this.shiftJobs.run({ ms: Math.round(stepMs) }).changes;
    this.shiftStates.run({ s });
    this.shiftSeen.run({ s });
    return { leases, ddnsJobs };
  }
}
