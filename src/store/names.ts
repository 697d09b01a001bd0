// The name database (joind-spec.md section 4): names bound to clients per domain, and the counters of
// generated names, which are never reused.
import type Database from 'better-sqlite3';
import type { WriteStatement, WriteStatements } from './statements';
import { ClientKey, NameBinding } from './types';

interface NameRow {
  domain: string;
  name: string;
  cid_type: number | null;
  cid: Buffer | null;
  address: number | null;
  bound_at: number;
}

function fromRow(row: NameRow): NameBinding {
  return {
    domain: row.domain,
    name: row.name,
    owner: row.cid === null || row.cid_type === null ? null : { type: row.cid_type, id: row.cid },
    address: row.address,
    boundAt: row.bound_at,
  };
}

export class NameRepository {
  private readonly byName: Database.Statement<[string, string], NameRow>;
  private readonly byOwner: Database.Statement<[number, Buffer, string], NameRow>;
  private readonly upsert: WriteStatement<NameRow>;
  private readonly counter: Database.Statement<[string], { next: number }>;
  private readonly setCounter: WriteStatement<[string, number]>;
  private readonly everything: Database.Statement<[], NameRow>;
  private readonly removeName: WriteStatement<[string, string]>;
  private readonly anyIn: Database.Statement<[string], { one: number }>;
  /**
   * Domains known to hold bindings. Asked for every client that gets no static name, while most sites
   * bind none: one lookup per domain, then memory. Only ever set (a binding is written through bind()
   * in this process while it serves); a deleted last binding costs nothing but the lookups it saved.
   */
  private readonly domainsWithBindings = new Map<string, boolean>();

  constructor(db: Database.Database, writes: WriteStatements) {
    this.byName = db.prepare('SELECT * FROM names WHERE domain = ? AND name = ?');
    // The first name a client got in a domain is the one it keeps (assign_name_by_hwaddr). INDEXED BY:
    // without statistics SQLite's planner took the primary key's (domain=?) and scanned every name of
    // the domain, asked once per REQUEST: 0.4 ms at 7,000 names, 67 % of joind's CPU in bench/ddns.sh.
    this.byOwner = db.prepare(
      'SELECT * FROM names INDEXED BY names_by_owner WHERE cid_type = ? AND cid = ? AND domain = ? ORDER BY bound_at, name LIMIT 1',
    );
    this.upsert = writes.prepare(
      `INSERT OR REPLACE INTO names (domain, name, cid_type, cid, address, bound_at)
       VALUES (@domain, @name, @cid_type, @cid, @address, @bound_at)`,
    );
    this.counter = db.prepare('SELECT next FROM name_counters WHERE domain = ?');
    this.setCounter = writes.prepare('INSERT OR REPLACE INTO name_counters (domain, next) VALUES (?, ?)');
    this.everything = db.prepare('SELECT * FROM names ORDER BY domain, name');
    this.removeName = writes.prepare('DELETE FROM names WHERE domain = ? AND name = ?');
    this.anyIn = db.prepare('SELECT 1 AS one FROM names WHERE domain = ? LIMIT 1');
  }

  get(domain: string, name: string): NameBinding | undefined {
    const row = this.byName.get(domain, name);
    return row && fromRow(row);
  }

  /** Whether any name is bound in the domain. */
  hasBindingsIn(domain: string): boolean {
    let known = this.domainsWithBindings.get(domain);
    if (known === undefined) {
      known = this.anyIn.get(domain) !== undefined;
      this.domainsWithBindings.set(domain, known);
    }
    return known;
  }

  findByOwner(owner: ClientKey, domain: string): NameBinding | undefined {
    if (!this.hasBindingsIn(domain)) return undefined;
    const row = this.byOwner.get(owner.type, owner.id, domain);
    return row && fromRow(row);
  }

  bind(binding: NameBinding): void {
    this.domainsWithBindings.set(binding.domain, true);
    this.upsert.run({
      domain: binding.domain,
      name: binding.name,
      cid_type: binding.owner?.type ?? null,
      cid: binding.owner?.id ?? null,
      address: binding.address,
      bound_at: binding.boundAt,
    });
  }

  delete(domain: string, name: string): boolean {
    return this.removeName.run(domain, name).changes > 0;
  }

  /** The next number for a generated name in a domain (1 for the first). */
  nextGeneratedNumber(domain: string): number {
    return this.counter.get(domain)?.next ?? 1;
  }

  setNextGeneratedNumber(domain: string, next: number): void {
    this.setCounter.run(domain, next);
  }

  *all(): IterableIterator<NameBinding> {
    for (const row of this.everything.iterate()) yield fromRow(row);
  }
}
