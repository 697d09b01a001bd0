// Lease records: one per address, looked up by address or by (network, client key).
import type Database from 'better-sqlite3';
import type { WriteStatement, WriteStatements } from './statements';
import { ClientKey, LeaseRecord, LeaseState } from './types';

interface LeaseRow {
  address: number;
  network: number;
  cid_type: number | null;
  cid: Buffer | null;
  htype: number;
  hwaddr: Buffer | null;
  client_id: Buffer | null;
  starts: number;
  ends: number | null;
  cltt: number;
  state: number;
  client_hostname: string | null;
  hostname: string | null;
  tstp: number | null;
  tsfp: number | null;
  peer_pending: number;
}

function baseOf(row: LeaseRow): LeaseRecord {
  return {
    address: row.address,
    network: row.network,
    client: row.cid === null || row.cid_type === null ? null : { type: row.cid_type, id: row.cid },
    htype: row.htype,
    hwaddr: row.hwaddr,
    clientId: row.client_id,
    starts: row.starts,
    ends: row.ends,
    cltt: row.cltt,
    state: row.state,
    clientHostname: row.client_hostname,
    hostname: row.hostname,
  };
}

function fromRow(row: LeaseRow): LeaseRecord {
  const record = baseOf(row);
  // Only failover records carry these, so the others keep the shape (and the cost) they had before.
  if (row.tstp !== null || row.tsfp !== null || row.peer_pending !== 0) {
    record.tstp = row.tstp;
    record.tsfp = row.tsfp;
    record.peerPending = row.peer_pending !== 0;
  }
  return record;
}

/** The upsert's values, in COLUMNS' order: positional, so a journal entry carries no column names. */
type LeaseParams = [
  number,
  number,
  number | null,
  Buffer | null,
  number,
  Buffer | null,
  Buffer | null,
  number,
  number | null,
  number,
  number,
  string | null,
  string | null,
  number | null,
  number | null,
  number,
];

function toParams(lease: LeaseRecord): LeaseParams {
  return [
    lease.address,
    lease.network,
    lease.client?.type ?? null,
    lease.client?.id ?? null,
    lease.htype,
    lease.hwaddr,
    lease.clientId,
    lease.starts,
    lease.ends,
    lease.cltt,
    lease.state,
    lease.clientHostname,
    lease.hostname,
    lease.tstp ?? null,
    lease.tsfp ?? null,
    lease.peerPending === true ? 1 : 0,
  ];
}

const COLUMNS =
  'address, network, cid_type, cid, htype, hwaddr, client_id, starts, ends, cltt, state, client_hostname, hostname, tstp, tsfp, peer_pending';

export class LeaseRepository {
  private readonly byAddress: Database.Statement<[number], LeaseRow>;
  private readonly byClient: Database.Statement<[number, number, Buffer], LeaseRow>;
  private readonly upsert: WriteStatement<LeaseParams>;
  private readonly clientElsewhere: Database.Statement<[number, number, Buffer, number], { address: number }>;
  private readonly removeAddress: WriteStatement<[number]>;
  private readonly usedFrom: Database.Statement<[number, number]>;
  private readonly countUsed: Database.Statement<[number, number], { n: number }>;
  private readonly reusable: Database.Statement<[number, number, number, number, number, number]>;
  private readonly ended: Database.Statement<[number, number, number, number, number, number]>;
  private readonly expire: WriteStatement<[number], { address: number }>;
  private readonly updateState: WriteStatement<[number, number, number]>;
  private readonly everything: Database.Statement<[], LeaseRow>;
  private readonly ofClient: Database.Statement<[number, Buffer], LeaseRow>;
  private readonly countsIn: Database.Statement<[number, number, number], { state: number; current: number; n: number }>;
  private readonly latest: Database.Statement<[number], LeaseRow>;
  private readonly insertFree: WriteStatement<[number, number]>;
  private readonly pending: Database.Statement<[number, number]>;
  private readonly between: Database.Statement<[number, number], LeaseRow>;
  private readonly addressesBetween: Database.Statement<[number, number], { address: number }>;

  constructor(db: Database.Database, writes: WriteStatements) {
    this.byAddress = db.prepare(`SELECT ${COLUMNS} FROM leases WHERE address = ?`);
    this.byClient = db.prepare(`SELECT ${COLUMNS} FROM leases WHERE network = ? AND cid_type = ? AND cid = ?`);
    this.upsert = writes.prepare(
      `INSERT OR REPLACE INTO leases (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // A SELECT then a DELETE by address, not one DELETE … RETURNING: RETURNING stages its rows in a
    // temporary b-tree that SQLite builds and tears down on every run (a page cache malloc'd and freed,
    // three brk() calls per lease written), while here the usual answer, "no other record", is one
    // lookup in leases_by_client.
    this.clientElsewhere = db.prepare(
      'SELECT address FROM leases WHERE network = ? AND cid_type = ? AND cid = ? AND address != ?',
    );
    this.removeAddress = writes.prepare('DELETE FROM leases WHERE address = ?');
    this.usedFrom = db.prepare('SELECT address FROM leases WHERE address >= ? AND address <= ? ORDER BY address');
    this.countUsed = db.prepare('SELECT count(*) AS n FROM leases WHERE address >= ? AND address <= ?');
    this.reusable = db.prepare(
      'SELECT address FROM leases WHERE network = ? AND state = ? AND cltt <= ? AND address BETWEEN ? AND ? ORDER BY cltt, address LIMIT ?',
    );
    // Records still in a holding state whose end has passed: active leases the sweep has not marked yet,
    // and BOOTP allocations with an end (bp_auto_extension; permanent ones are never reused).
    this.ended = db.prepare(
      `SELECT address FROM leases WHERE network = ? AND state = ? AND ends IS NOT NULL AND ends <= ? AND address BETWEEN ? AND ?
       ORDER BY cltt, address LIMIT ?`,
    );
    this.expire = writes.prepare(`UPDATE leases SET state = ${LeaseState.EXPIRED}
       WHERE state = ${LeaseState.ACTIVE} AND ends IS NOT NULL AND ends <= ? RETURNING address`);
    this.updateState = writes.prepare('UPDATE leases SET state = ?, cltt = ? WHERE address = ?');
    this.everything = db.prepare(`SELECT ${COLUMNS} FROM leases ORDER BY address`);
    this.ofClient = db.prepare(`SELECT ${COLUMNS} FROM leases WHERE cid_type = ? AND cid = ?`);
    this.countsIn = db.prepare(`SELECT state, (ends IS NULL OR ends > ?) AS current, count(*) AS n FROM leases
       WHERE address >= ? AND address <= ? GROUP BY state, current`);
    this.latest = db.prepare(`SELECT ${COLUMNS} FROM leases ORDER BY cltt DESC, address LIMIT ?`);
    this.insertFree = writes.prepare(`INSERT OR IGNORE INTO leases (address, network, starts, ends, cltt, state)
       VALUES (?, ?, 0, NULL, 0, ${LeaseState.FREE})`);
    this.pending = db.prepare('SELECT address FROM leases WHERE peer_pending = 1 AND address > ? ORDER BY address LIMIT ?');
    this.between = db.prepare(`SELECT ${COLUMNS} FROM leases WHERE address >= ? AND address <= ? ORDER BY address`);
    this.addressesBetween = db.prepare('SELECT address FROM leases WHERE address >= ? AND address <= ? ORDER BY address');
  }

  get(address: number): LeaseRecord | undefined {
    const row = this.byAddress.get(address);
    return row && fromRow(row);
  }

  findByClient(network: number, client: ClientKey): LeaseRecord | undefined {
    const row = this.byClient.get(network, client.type, client.id);
    return row && fromRow(row);
  }

  /** Every record of a client, on every network (for auto_release). */
  findAllOfClient(client: ClientKey): LeaseRecord[] {
    return this.ofClient.all(client.type, client.id).map(fromRow);
  }

  /**
   * Writes a record. A client holds at most one record per network, so a record it had for another
   * address on the same network is removed; the addresses so freed are returned (they become never-used
   * again, and the pool must look at them once more).
   */
  put(lease: LeaseRecord): number[] {
    let freed: number[] = [];
    if (lease.client) {
      freed = this.clientElsewhere.all(lease.network, lease.client.type, lease.client.id, lease.address).map((r) => r.address);
      for (const address of freed) this.removeAddress.run(address);
    }
    this.upsert.run(...toParams(lease));
    return freed;
  }

  delete(address: number): boolean {
    return this.removeAddress.run(address).changes > 0;
  }

  setState(address: number, state: LeaseState, cltt: number): boolean {
    return this.updateState.run(state, cltt, address).changes > 0;
  }

  /** Addresses that have a record, in increasing order, from `from` to `to` inclusive. */
  *usedAddresses(from: number, to: number): IterableIterator<number> {
    for (const address of this.usedFrom.pluck().iterate(from, to) as IterableIterator<number>) yield address;
  }

  /** How many addresses from `from` to `to` inclusive have a record (counted inside SQLite). */
  usedCount(from: number, to: number): number {
    return this.countUsed.get(from, to)!.n;
  }

  /**
   * Records of a network in a state, least recently used first, last touched no later than `before`; for
   * ACTIVE and BOOTP, only records that have an end and reached it by `before`; within [from, to].
   */
  reusableAddresses(network: number, state: LeaseState, before: number, limit: number, from = 0, to = 0xffffffff): number[] {
    if (state === LeaseState.ACTIVE || state === LeaseState.BOOTP) {
      return this.ended.pluck().all(network, state, before, from, to, limit) as number[];
    }
    return this.reusable.pluck().all(network, state, before, from, to, limit) as number[];
  }

  /** Marks active leases whose end has passed as expired; returns their addresses. */
  expireDue(now: number): number[] {
    return this.expire.all(now).map((row) => row.address);
  }

  /** How many records of each state lie in [from, to], split by whether their end is still ahead. */
  countStates(from: number, to: number, nowSec: number): Array<{ state: LeaseState; current: boolean; count: number }> {
    return this.countsIn.all(nowSec, from, to).map((r) => ({ state: r.state, current: r.current === 1, count: r.n }));
  }

  /** The records most recently touched (granted, renewed, released), newest first. */
  mostRecent(limit: number): LeaseRecord[] {
    return this.latest.all(limit).map(fromRow);
  }

  /**
   * Failover: gives every address without a record a FREE one (draft-12: every address of a failover
   * range starts free on both servers). Returns how many were made.
   */
  materialise(network: number, addresses: Iterable<number>): number {
    let made = 0;
    for (const address of addresses) made += this.insertFree.run(address, network).changes;
    return made;
  }

  /** Addresses whose record the failover peer has yet to acknowledge, in order, after `after`. */
  peerPending(after: number, limit: number): number[] {
    return this.pending.pluck().all(after, limit) as number[];
  }

  /** The addresses from `from` to `to` inclusive that have a record, in order. */
  addressesIn(from: number, to: number): number[] {
    return this.addressesBetween.all(from, to).map((r) => r.address);
  }

  /** The records of the addresses from `from` to `to` inclusive, in order. */
  *inRange(from: number, to: number): IterableIterator<LeaseRecord> {
    for (const row of this.between.iterate(from, to)) yield fromRow(row);
  }

  *all(): IterableIterator<LeaseRecord> {
    for (const row of this.everything.iterate()) yield fromRow(row);
  }
}
