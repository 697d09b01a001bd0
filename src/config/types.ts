// The contract of the configuration: one immutable, validated snapshot of $JOINCONFIG that the rest of
// the server reads. Loading never throws for a problem in a file: every problem is collected with its
// place, and a load that has errors yields no snapshot (the running one stays in force).

import type { TsigKey } from '../dns/tsig';
import type { ClasslessRoute } from '../codec';
/** A problem found while loading, with its place (1-based line and column). */
export interface Problem {
  severity: 'error' | 'warning';
  file: string; // path as opened, e.g. "/etc/join/nets"
  line: number; // 0 when the problem concerns the file as a whole (e.g. unreadable)
  column: number;
  /** What was found and what was expected, e.g. "expected an address range like 10.1.0.5-10.1.0.9". */
  message: string;
}

/** Where a server.pcy value came from: "default" or "file:line". */
export type ValueSource = string;

/**
 * Every server.pcy keyword (joind-spec.md section 2) with its value. Durations are in the unit of the
 * keyword: seconds, except ping_timeout which is milliseconds. Keywords whose spelling the original
 * documents do not show carry the spelling we chose (documented in docs/ as such).
 */
export interface Policy {
  provisional_ttl: number; // seconds, default 60
  free_list_size: number; // default 8
  default_ttl: number; // seconds, default 86400
  name_service: 'dns' | 'local' | 'nis' | 'nis+'; // default 'dns'
  name_service_updateable: boolean; // default off
  assign_name_by_hwaddr: boolean; // default off
  assign_name_by_ipaddr: boolean; // default ON
  accept_client_name: boolean; // default off
  ignore_name_owner: boolean; // default off (GUI "Ignore Name Owner"; spelling ours)
  support_bootp: boolean; // default ON
  dynamic_bootp: boolean; // default off; also spelled bootp_addr_from_pool
  bp_auto_extension: number; // seconds, default 0 (permanent BOOTP leases)
  ping_timeout: number; // MILLISECONDS, default 500; 0 = no ping
  auto_reread: boolean; // default ON
  check_bootp_client_net: boolean; // default off
  ping_bootp_clients: boolean; // default off
  reply_to_relay_on_local_net: boolean; // default off (GUI "Reply to Relay On Local Net"; spelling ours)
  auto_release: boolean; // default off
  auto_sync_dbs: boolean; // default ON in joind-TS (fsync before ACK; see docs), GUI default was off
  dns_tracks_dhcp_lease: boolean; // default off
  canonical_name: string | null; // default null = os.hostname() (GUI "Canonical Name"; spelling ours)
  expand_bootp_packet: boolean; // default off (GUI "Expand BOOTP Packet"; spelling ours)
  registered_clients_only: boolean; // default off; also spelled registered_hosts_only
  bootfile_not_sent_as_option: boolean; // default off
  force_broadcast_reply: boolean; // default off
  ignore_hardware_type: boolean; // default off
  ignore_client_uids: boolean; // default off (dhcpd's ignore-client-uids; joind-TS extension)
  listen_on_ppp: boolean; // default off (GUI "Listen on PPP Interfaces"; spelling ours)
  min_bootp_packet_size: number; // bytes, default 300 (GUI "Min BOOTP Packet Size"; spelling ours)
  send_options_in_offer: boolean; // default ON (GUI "Send Options in DHCP Offer"; spelling ours)
  // Extensions of joind-TS (not in the original; documented as such):
  transport: 'raw' | 'udp' | 'auto'; // packet I/O: raw packet sockets, plain UDP, or auto (raw when possible); default auto
  metrics_listen: string; // "host:port" of the metrics HTTP listener, or "off"; default "127.0.0.1:9267"
  rate_limit_per_interface: number; // packets per second accepted per interface; 0 = no limit (default)
  rate_limit_per_relay: number; // packets per second accepted per relay (giaddr); 0 = no limit (default)
  control_socket: boolean; // the control API on $JOINSPOOL/joind.sock (mode 0660); default ON
  control_listen: string; // "host:port" of the control API over TCP (needs control_token_file), or "off" (default)
  control_token_file: string | null; // file holding the bearer token for control_listen; default none
  // Dynamic DNS (issue 15), with name_service_updateable and dns_tracks_dhcp_lease.
  ddns_server: string | null; // "a.b.c.d:port" of the server that takes the updates; default none
  ddns_key_file: string | null; // BIND key file (tsig-keygen) signing the updates, relative to the configuration directory
  ddns_style: 'standard' | 'interim'; // guard records: DHCID (RFC 4701, default) or ISC dhcpd's interim TXT
  // Failover (issue 13): the ISC dhcpd failover peer statement, one keyword per clause. Parsed and checked;
  // the protocol is not implemented yet (effect.ts). Defaults are dhcpd 4.4.3's (docs/server.pcy.md).
  failover: string | null; // the relationship name (dhcpd: failover peer "NAME"); default none = no failover
  failover_role: 'primary' | 'secondary' | null; // required with failover
  failover_address: string | null; // our address on the failover link, dotted quad; required with failover
  failover_port: number; // TCP port we listen on; default 647
  failover_peer_address: string | null; // the peer's address, dotted quad; required with failover
  failover_peer_port: number; // TCP port of the peer; default 647
  failover_max_response_delay: number; // seconds of silence before the link is given up; default 20
  failover_max_unacked_updates: number; // BNDUPDs the peer may send before our BNDACK; default 100
  failover_mclt: number | null; // seconds; required on the primary, an error on the secondary
  failover_split: number | null; // 0..256 hash buckets of the primary; required on the primary, an error on the secondary
  failover_load_balance_max_secs: number; // secs above which both servers answer; default 0 = no load balancing
  failover_ack_wait: number; // ms a first lease waits for the peer's BNDACK to be given in full; 0 = never (MCLT long, as dhcpd)
  failover_unacked_clients: number; // distinct clients the absent peer visibly fails before partner-down; 0 = never on evidence
  failover_unacked_secs: number; // secs a client must have waited to count as failed by the peer
  failover_auto_partner_down: number; // dhcpd's auto-partner-down timer, seconds in communications-interrupted; 0 = off
  failover_start_alone: boolean; // a store never in the relationship starts as if partner-down (a unit deployed first); default off
}

/** An inclusive address range [start, end]. */
export interface AddressRange {
  start: number;
  end: number;
}

/**
 * Who may be given a new address from a range: a dhcpcap range entry's permits (ra=, dhcpd's pool
 * permits). A client that holds a lease in the range keeps needing them: a renewal refused them is NAKed.
 */
export interface RangeRule {
  /** The range entry's label, and where it is. */
  label: string;
  source: string;
  /** kn: only clients with a host entry or a registration; ku: only clients with neither. */
  knownOnly: boolean;
  unknownOnly: boolean;
  /** nb: no dynamic BOOTP allocation. */
  noDynamicBootp: boolean;
  /** am: only members of one of these class entries (empty: no such condition); dm: none of these. */
  allowMembers: readonly string[];
  denyMembers: readonly string[];
}

/** A range this server allocates from, and whether it does so alone or as one unit of a failover pair. */
export interface OurRange extends AddressRange {
  /** The failover relationship that serves the range (its owner in nets is the relationship name), or undefined: ours alone. */
  failover: string | undefined;
  /** The permits of the range entry that covers it (undefined: open to every client). */
  rule?: RangeRule | undefined;
}

/** One owner's share of a network in `nets`. */
export interface NetOwner {
  owner: string; // host name, address text or failover relationship name, as written
  /** Whether the owner is this server (by canonical name, host name or any own address) or its failover relationship. */
  ours: boolean;
  /** The relationship name when the owner is this server's failover relationship (server.pcy failover), else undefined. */
  failover: string | undefined;
  ranges: AddressRange[];
  source: string; // "file:line" of the line that named this owner
}

/** A network of `nets`, with its mask from `netmasks` (or classful). */
export interface NetworkConfig {
  address: number; // network number
  mask: number;
  prefixLength: number;
  owners: NetOwner[];
  /**
   * The ranges this server allocates from (union of the owners that are us or our failover relationship),
   * sorted, disjoint; ranges of the pair and ranges of ours alone are never joined into one.
   */
  ourRanges: OurRange[];
  /**
   * Whether this server serves the network: an owner is us or our relationship, with ranges or without
   * (a network of static bindings only: `network owner` with no range).
   */
  served: boolean;
  source: string; // "file:line" of the network's first line
}

export interface NetmaskEntry {
  network: number;
  mask: number;
  source: string;
}

export interface NamePool {
  domain: string;
  owner: string;
  ours: boolean;
  prefix: string | null; // generated names are prefix + N + "d"
  names: string[]; // in file order
  source: string;
}

/**
 * A dhcpcap/bootptab tag value, in the JS type that the codec's encoder takes for the DHCP option the tag
 * maps to: number for integers and single addresses, number[] for address and integer lists,
 * Array<[number, number]> for address pairs, boolean for Booleans and 0/1 switches, string for strings,
 * Buffer for opaque bytes (and for `ha`, the hardware address). `to` and `bs` written as auto hold the
 * string `'auto'` (covered by `string`, so the union does not list it apart).
 */
export type TagValue = number | number[] | Array<[number, number]> | boolean | string | Buffer | string[] | ClasslessRoute[];

/** The scope an entry applies to (joind-spec.md section 5.2), taken from its ht/ha, ck, nw and ct tags. */
export interface EntryScope {
  hardware?: { htype: number; address: Buffer }; // ht + ha
  clientId?: Buffer; // ck
  network?: number; // nw
  vendorClass?: string; // ct
  userClass?: Buffer; // uc: option 77, whole or one of its RFC 3004 classes
  architectures?: number[]; // ca: any of these in option 93 (RFC 4578)
  circuitId?: Buffer; // ci: relay agent sub-option 82.1 (RFC 3046)
  remoteId?: Buffer; // ri: relay agent sub-option 82.2
}

/** One dhcpcap entry after `tc=` inclusion and `tg@` cancellation. */
export interface CapEntry {
  label: string;
  template: boolean; // label starts with '.': only used through tc=
  scope: EntryScope;
  /** Tag → value; only tags that are set (cancelled ones are absent). */
  tags: ReadonlyMap<string, TagValue>;
  source: string; // "file:line"
}

export interface Dhcpcap {
  /** The file read: ".../dhcpcap", ".../bootptab", or null when neither exists. */
  file: string | null;
  mtimeMs: number | null;
  entries: readonly CapEntry[];
}

/** What we know about ourselves, to decide which `nets` and `namepool` owners are this server. */
export interface SelfIdentity {
  hostname: string; // canonical_name, else os.hostname()
  addresses: number[]; // every address of every interface
}

export interface Config {
  dir: string;
  policy: Readonly<Policy>;
  policySources: Readonly<Record<keyof Policy, ValueSource>>;
  self: SelfIdentity;
  netmasks: readonly NetmaskEntry[];
  networks: readonly NetworkConfig[];
  namepools: readonly NamePool[];
  dhcpcap: Dhcpcap;
  /** The TSIG key of ddns_key_file (its first key), null without one. */
  ddnsKey: TsigKey | null;
  /**
   * Networks that share a link (dhcpcap `sh`, dhcpd's shared-network): each shared network's address →
   * every network of its group, itself included, in dhcpcap order. Absent for a network on its own.
   */
  sharedNetworks: ReadonlyMap<number, readonly NetworkConfig[]>;
  /** Warnings of the load that produced this snapshot (unknown keywords, unknown tags, …). */
  warnings: readonly Problem[];
}

export type LoadResult = { ok: true; config: Config; warnings: Problem[] } | { ok: false; problems: Problem[] }; // every error and warning of the load

/** What a lookup of per-client parameters needs to know about the client. */
export interface ClientQuery {
  network: number; // the network number the client is on (from nets)
  htype: number;
  chaddr: Buffer; // hardware address (hlen bytes)
  clientId?: Buffer; // option 61 value, when sent
  vendorClass?: string; // option 60 value, when sent
  /** The request's options, for the class conditions beyond the vendor class (77, 93, 82): read only when an entry has them. */
  options?: ReadonlyMap<number, Buffer>;
  /** policy ignore_hardware_type: match ht/ha entries by hardware address only, whatever the htype. */
  ignoreHardwareType?: boolean;
}
