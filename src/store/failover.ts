// The saved state of each failover relationship (ISC keeps it in dhcpd.leases as `failover peer … state`):
// our state and when we entered it, the peer's last known one, the MCLT in force, whether the pair ever
// reached normal, and (a secondary's) the hash bucket assignment learned from the primary. A transition is written here, in the current batch, before it takes effect.
import type Database from 'better-sqlite3';
import type { WriteStatement, WriteStatements } from './statements';
import type { FailoverStateRecord } from './types';

interface StateRow {
  name: string;
  my_state: string;
  my_stos: number;
  partner_state: string | null;
  partner_stos: number | null;
  mclt: number | null;
  ever_paired: number;
  hba: Buffer | null;
}

export class FailoverStateRepository {
  private readonly byName: Database.Statement<[string], StateRow>;
  private readonly upsert: WriteStatement<StateRow>;

  constructor(db: Database.Database, writes: WriteStatements) {
    this.byName = db.prepare('SELECT * FROM failover_state WHERE name = ?');
    this.upsert = writes.prepare(`INSERT OR REPLACE INTO failover_state
       (name, my_state, my_stos, partner_state, partner_stos, mclt, ever_paired, hba)
       VALUES (@name, @my_state, @my_stos, @partner_state, @partner_stos, @mclt, @ever_paired, @hba)`);
  }

  get(name: string): FailoverStateRecord | undefined {
    const row = this.byName.get(name);
    if (!row) return undefined;
    return {
      name: row.name,
      myState: row.my_state,
      myStos: row.my_stos,
      partnerState: row.partner_state,
      partnerStos: row.partner_stos,
      mclt: row.mclt,
      everPaired: row.ever_paired !== 0,
      hba: row.hba,
    };
  }

  put(state: FailoverStateRecord): void {
    this.upsert.run({
      name: state.name,
      my_state: state.myState,
      my_stos: state.myStos,
      partner_state: state.partnerState,
      partner_stos: state.partnerStos,
      mclt: state.mclt,
      ever_paired: state.everPaired ? 1 : 0,
      hba: state.hba ?? null,
    });
  }
}
