// Numbers with names in the failover protocol: server states, binding states, reject reasons, flags and
// the protocol's fixed sizes. The names are ISC dhcpd's (what it prints and writes in dhcpd.leases), so
// joind's logs and exports read like dhcpd's.
//
// Interop facts encoded here (ISC DHCP 4.4.3):
// - Server states are those of includes/failover.h (enum failover_state) and draft-12 section 12.24, with
//   recover-wait = 254: the draft describes RECOVER-WAIT but gives it no number, and ISC has sent 254
//   since 3.0 (failover.h). The OMAPI numbering in dhcpd's man page differs and is never on the wire.
//   Names as dhcp_failover_state_name_print (server/failover.c) prints them.
// - Binding states: draft-12 section 12.3 (FTS_* in ISC), names as binding_state_names (server/stables.c).
// - Reject reasons: includes/failover.h FTR_* (draft-12 section 12.21), 1..21 and 254 "unknown".
// - server-flags bit 0 = STARTUP (failover.h FTF_SERVER_STARTUP); IP-flags bit 0 = reserved, bit 1 = BOOTP
//   (FTF_IP_FLAG_RESERVE, FTF_IP_FLAG_BOOTP); protocol version 1 (DHCP_FAILOVER_VERSION).
// - Messages are 12..2048 bytes long (DHCP_FAILOVER_MIN/MAX_MESSAGE_SIZE); the header is 12 bytes and
//   dhcpd writes a payload offset of 12 (dhcp_failover_put_message), where draft-12 section 6.1 says 8.
// - TCP port 647 (DEFAULT_FAILOVER_PORT).

/** The IANA port of the failover protocol, dhcpd's default for `port` and `peer port`. */
export const FAILOVER_PORT = 647;
/** Header size, and the payload offset dhcpd writes. */
export const HEADER_SIZE = 12;
/** The smallest and largest message, header included. Anything else on the wire drops the link. */
export const MIN_MESSAGE_SIZE = 12;
export const MAX_MESSAGE_SIZE = 2048;
/** The value of protocol-version dhcpd sends and we send. */
export const PROTOCOL_VERSION = 1;
/** The size of hash-bucket-assignment: 256 buckets, one bit each (RFC 3074). */
export const HBA_SIZE = 32;

/** server-flags bits. */
export const SERVER_FLAG_STARTUP = 0x01;
/** IP-flags bits. */
export const IP_FLAG_RESERVED = 0x0001;
export const IP_FLAG_BOOTP = 0x0002;

/** Failover server states (ISC names). */
export const SERVER_STATES = {
  startup: 1,
  normal: 2,
  'communications-interrupted': 3,
  'partner-down': 4,
  'potential-conflict': 5,
  recover: 6,
  paused: 7,
  shutdown: 8,
  'recover-done': 9,
  'resolution-interrupted': 10,
  'conflict-done': 11,
  'recover-wait': 254,
} as const;
export type ServerStateName = keyof typeof SERVER_STATES;

/** Binding (lease) states in BNDUPD's binding-status (ISC names). */
export const BINDING_STATES = {
  free: 1,
  active: 2,
  expired: 3,
  released: 4,
  abandoned: 5,
  reset: 6,
  backup: 7,
} as const;
export type BindingStateName = keyof typeof BINDING_STATES;

/** Reject reasons (reject-reason option), named after ISC's FTR_* constants. */
export const REJECT_REASONS = {
  'illegal-ip-addr': 1,
  'fatal-conflict': 2,
  'missing-bindinfo': 3,
  'time-mismatch': 4,
  'invalid-mclt': 5,
  'misc-reject': 6,
  'dup-connection': 7,
  'invalid-partner': 8,
  'tls-unsupported': 9,
  'tls-unconfigured': 10,
  'tls-required': 11,
  'digest-unsupported': 12,
  'digest-unconfigured': 13,
  'version-mismatch': 14,
  'outdated-bind-info': 15,
  'less-crit-bind-info': 16,
  'no-traffic': 17,
  'hba-conflict': 18,
  'ip-not-reserved': 19,
  'ip-digest-failure': 20,
  'ip-missing-digest': 21,
  unknown: 254,
} as const;
export type RejectReasonName = keyof typeof REJECT_REASONS;

function inverse<K extends string>(table: Readonly<Record<K, number>>): ReadonlyMap<number, K> {
  return new Map((Object.keys(table) as K[]).map((name) => [table[name], name]));
}
const STATE_NAMES = inverse(SERVER_STATES);
const BINDING_NAMES = inverse(BINDING_STATES);
const REASON_NAMES = inverse(REJECT_REASONS);

/** The name of a server-state value, or undefined for a value no state has. */
export function serverStateName(value: number): ServerStateName | undefined {
  return STATE_NAMES.get(value);
}

/** The name of a binding-status value, or undefined for a value no binding state has. */
export function bindingStateName(value: number): BindingStateName | undefined {
  return BINDING_NAMES.get(value);
}

/** The name of a reject-reason value, or undefined for an unassigned one. */
export function rejectReasonName(value: number): RejectReasonName | undefined {
  return REASON_NAMES.get(value);
}
