// What the permanent store holds. Times are UTC seconds since 1970; addresses are uint32 numbers.

/** State of an address record (dhcpd.leases(5) "binding state", plus joind's static and BOOTP kinds). */
export enum LeaseState {
  ACTIVE = 1,
  EXPIRED = 2,
  RELEASED = 3,
  /** Answered a ping or was declined: reused only when nothing else is free, oldest first. */
  ABANDONED = 4,
  /** A binding loaded by an administrator (jdbmod-style): never expires, never reallocated. */
  STATIC = 5,
  /** A dynamic BOOTP allocation: permanent unless bp_auto_extension gives it an end. */
  BOOTP = 6,
  /**
   * Failover ranges only: an address no client holds that the primary may allocate (binding state
   * free), and one the secondary may (backup). Every address of a failover range has a record.
   */
  FREE = 7,
  BACKUP = 8,
}

export const LEASE_STATE_NAMES: Record<LeaseState, string> = {
  [LeaseState.ACTIVE]: 'active',
  [LeaseState.EXPIRED]: 'expired',
  [LeaseState.RELEASED]: 'released',
  [LeaseState.ABANDONED]: 'abandoned',
  [LeaseState.STATIC]: 'static',
  [LeaseState.BOOTP]: 'bootp',
  [LeaseState.FREE]: 'free',
  [LeaseState.BACKUP]: 'backup',
};

/**
 * How joind identifies a client (joind-spec.md 7.2): a client-id type and the id bytes. Type 0 is an
 * opaque identifier (DHCP option 61 as sent); any other type is a hardware type and the id is the
 * hardware address. With ignore_hardware_type, hardware ids are stored with type 0 too.
 */
export interface ClientKey {
  type: number;
  id: Buffer;
}

/** One address record: at most one per address, and at most one per client and network. */
export interface LeaseRecord {
  address: number;
  network: number;
  /** The client holding (or that last held) the address; null for an address abandoned by a ping. */
  client: ClientKey | null;
  htype: number;
  hwaddr: Buffer | null;
  /** Option 61 exactly as the client sent it, when it sent one. */
  clientId: Buffer | null;
  starts: number;
  /** End of the lease; null for a lease without end (static, permanent BOOTP). */
  ends: number | null;
  /** Last transaction time: when the client last talked to us about this lease (or when abandoned). */
  cltt: number;
  state: LeaseState;
  /** The host name the client sent (option 12), and the name joind assigned. */
  clientHostname: string | null;
  hostname: string | null;
  /**
   * Failover ranges only (absent elsewhere): the potential expiry sent to the peer, the one it
   * acknowledged, and whether the peer has yet to acknowledge this record as it now is.
   */
  tstp?: number | null;
  tsfp?: number | null;
  peerPending?: boolean;
}

/** The server states of a failover relationship, as saved (ISC state names). */
export interface FailoverStateRecord {
  name: string;
  myState: string;
  myStos: number;
  partnerState: string | null;
  partnerStos: number | null;
  mclt: number | null;
  everPaired: boolean;
  /** The hash bucket assignment in force (a secondary learns it in CONNECT); null: none yet. */
  hba?: Buffer | null;
}

/** A binding of the name database (joind-spec.md section 4): a name in a domain, owned by a client. */
export interface NameBinding {
  domain: string;
  name: string;
  owner: ClientKey | null;
  address: number | null;
  boundAt: number;
}

/** A dynamic DNS job (issue 15): what DNS should hold for an address once the job is done. */
export interface DdnsJob {
  address: number;
  /** Raised each time a newer job replaces this one; a finished job deletes only its own version. */
  version: number;
  /** add: A, guard and PTR; reverse: the PTR only (the client writes its A); remove: what we wrote goes. */
  op: 'add' | 'reverse' | 'remove';
  /** add: the name, its guard record (DHCID or interim TXT, by type) and the TTL. */
  fqdn: string | null;
  guardType: number | null;
  guard: Buffer | null;
  ttl: number | null;
  /** Milliseconds since 1970: the next try. */
  due: number;
  attempts: number;
  lastError: string | null;
  created: number;
}

/** What DNS holds for an address by our doing (written once the server confirmed it). */
export interface DnsRecordState {
  address: number;
  fqdn: string;
  guardType: number;
  guard: Buffer;
  /** Our A record and guard are in the forward zone; our PTR in the reverse zone. */
  forward: boolean;
  reverse: boolean;
  written: number;
}
