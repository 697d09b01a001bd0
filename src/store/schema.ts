// Schema of the permanent store, as an ordered list of migrations. PRAGMA user_version records how many
// have been applied; a database newer than this code is refused rather than guessed at.

export const MIGRATIONS: readonly string[] = [
  // 1: leases, the name database, registered hardware addresses.
  `
  CREATE TABLE leases (
    address         INTEGER PRIMARY KEY,   -- uint32; one record per address
    network         INTEGER NOT NULL,      -- network number from nets
    cid_type        INTEGER,               -- client key (NULL for an address abandoned by a ping)
    cid             BLOB,
    htype           INTEGER NOT NULL DEFAULT 0,
    hwaddr          BLOB,
    client_id       BLOB,                  -- option 61 as sent
    starts          INTEGER NOT NULL,
    ends            INTEGER,               -- NULL: no end (static, permanent BOOTP)
    cltt            INTEGER NOT NULL,
    state           INTEGER NOT NULL,
    client_hostname TEXT,
    hostname        TEXT
  ) WITHOUT ROWID;
  -- One record per client and network: the key joind uses (client-id type + id, per network).
  CREATE UNIQUE INDEX leases_by_client ON leases(network, cid_type, cid) WHERE cid IS NOT NULL;
  -- Refill of the free list: reusable records of a network, least recently used first.
  CREATE INDEX leases_by_state ON leases(network, state, cltt);
  -- The expiry sweep.
  CREATE INDEX leases_by_end ON leases(state, ends);

  CREATE TABLE names (
    domain    TEXT NOT NULL,
    name      TEXT NOT NULL,
    cid_type  INTEGER,
    cid       BLOB,
    address   INTEGER,
    bound_at  INTEGER NOT NULL,
    PRIMARY KEY (domain, name)
  ) WITHOUT ROWID;
  CREATE INDEX names_by_owner ON names(cid_type, cid, domain);

  -- Numbers already used for generated names (prefix + N + 'd') per domain: never reused.
  CREATE TABLE name_counters (
    domain TEXT PRIMARY KEY,
    next   INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE registered (
    htype  INTEGER NOT NULL,
    hwaddr BLOB NOT NULL,
    PRIMARY KEY (htype, hwaddr)
  ) WITHOUT ROWID;
  `,
  // 2: failover (issue 13). Per record: the potential expiry sent to the peer (tstp), the one the peer
  // acknowledged (tsfp), and whether the peer has yet to acknowledge the record as it is (the update
  // queue: restart-safe, as dhcpd rebuilds its queue from tstp > tsfp). One row per relationship holds
  // the server states, written before a transition takes effect.
  `
  ALTER TABLE leases ADD COLUMN tstp INTEGER;
  ALTER TABLE leases ADD COLUMN tsfp INTEGER;
  ALTER TABLE leases ADD COLUMN peer_pending INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX leases_peer_pending ON leases(address) WHERE peer_pending = 1;

  CREATE TABLE failover_state (
    name          TEXT PRIMARY KEY,      -- the relationship
    my_state      TEXT NOT NULL,         -- ISC state name
    my_stos       INTEGER NOT NULL,      -- when we entered it
    partner_state TEXT,
    partner_stos  INTEGER,
    mclt          INTEGER,               -- as configured (primary) or learned in CONNECT (secondary)
    ever_paired   INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  `,
  // 3: the hash bucket assignment a secondary learns from the primary's CONNECT, kept so that after a
  // restart without its peer it still knows which clients are its own (dhcpd keeps it in memory only
  // and, without it, takes every client for the peer's).
  `
  ALTER TABLE failover_state ADD COLUMN hba BLOB;
  `,
  // 4: dynamic DNS (issue 15). ddns_jobs: what DNS should hold for an address, one job per address (a
  // newer one replaces it), written in the batch of the lease change it follows, so neither a DNS
  // outage nor a crash loses it. dns_records: what DNS holds for an address by our doing, written when
  // the server confirmed it; a job undoes it before writing anything else.
  `
  CREATE TABLE ddns_jobs (
    address    INTEGER PRIMARY KEY,
    version    INTEGER NOT NULL,      -- raised by each replacement: a finished job deletes only itself
    op         INTEGER NOT NULL,      -- 1 add, 2 remove, 3 reverse (the PTR only: the client writes its A)
    fqdn       TEXT,                  -- add, reverse: the name, and its guard (DHCID or TXT) and TTL
    guard_type INTEGER,
    guard      BLOB,
    ttl        INTEGER,
    due        INTEGER NOT NULL,      -- ms since 1970: the next try
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created    INTEGER NOT NULL       -- ms since 1970
  ) WITHOUT ROWID;
  CREATE INDEX ddns_jobs_by_due ON ddns_jobs(due);

  CREATE TABLE dns_records (
    address    INTEGER PRIMARY KEY,
    fqdn       TEXT NOT NULL,
    guard_type INTEGER NOT NULL,
    guard      BLOB NOT NULL,
    forward    INTEGER NOT NULL,      -- our A record and guard are there
    reverse    INTEGER NOT NULL,      -- our PTR is there
    written    INTEGER NOT NULL       -- seconds since 1970
  ) WITHOUT ROWID;
  `,
  // 5: the latest time the store was written at (issue 17): a clock that starts behind it went back
  // while joind was stopped (an appliance booting at its build date), and the store's times are moved
  // back with it so that no lease grows by the step (src/server/lease-clock.ts).
  `
  CREATE TABLE clock (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seen  INTEGER NOT NULL                 -- seconds since 1970
  );
  `,
  // 6: the lease journal (issue 17, src/store/journal.ts): the sequence of the last journal batch whose
  // changes this database holds. Committed with them, so a start replays exactly the batches after it.
  `
  CREATE TABLE journal_applied (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    sequence  INTEGER NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
