// The vocabulary of the failover wire protocol: message types, the option table, and which options each
// message type carries. Pure data; wire.ts reads and writes messages with it.
//
// Interop facts encoded here (ISC DHCP 4.4.3, which implements draft-ietf-dhc-failover-12):
// - Message type codes 1..12 and option codes 1..29 are those of includes/failover.h (FTM_*, FTO_*), which
//   are the draft-12 numbers (ISC 3.0.x used other option codes and cannot talk to 3.1+ or to us).
// - Each option's wire type is that of ISC's option table (server/stables.c ft_options): fixed-size
//   options are u8 (1 byte), u16 (2), u32 (4) or an IPv4 address (4); the others are variable-length
//   bytes, except MESSAGE, which is text. ISC reads relationship-name and vendor-class as bytes and
//   compares the name byte for byte, so the model keeps them as Buffers.
// - IP-flags is 2 bytes (ISC FT_UINT16; the draft's figure says "Len 1" but draws a 16-bit field).
// - TLS-request and TLS-reply are 1 byte (dhcpd sends the value 0: no TLS).
// - Which options a message type may carry is ISC's fto_allowed table (server/stables.c). dhcpd decodes
//   only those: any other known option in a message is skipped without a word (do_a_failover_option in
//   server/failover.c), and so does decodeMessage. delayed-service (10), message-digest (17) and
//   vendor-specific-options (29) are allowed in no message type, so they are always skipped.
// - DDNS (9) is allowed in BNDUPD and BNDACK by the table, but dhcpd 4.4.3 cannot read it (its table
//   marks it as a fixed option of size 0, "incomplete", ISC-Bugs #36996): every DDNS option in a BNDUPD
//   or BNDACK is a protocol error that drops the link. dhcpd never sends it; neither do we (no model
//   field), and decodeMessage treats it as dhcpd does.
// - ALLOWED lists each type's options in the order dhcpd writes them (the dhcp_failover_send_* functions
//   of server/failover.c pass them to dhcp_failover_put_message in that order), so that encodeMessage
//   reproduces dhcpd's bytes exactly. Options dhcpd never sends (request/reply options, and in BNDACK
//   everything but assigned-IP-address, reject-reason and message) are placed where its disabled code
//   (#ifdef DO_BNDACK_SHOULD_NOT) or its "XXX" placeholders would put them.

/** Failover message types (draft-12 section 6.1; ISC FTM_*). */
export const MESSAGE_TYPES = {
  POOLREQ: 1,
  POOLRESP: 2,
  BNDUPD: 3,
  BNDACK: 4,
  CONNECT: 5,
  CONNECTACK: 6,
  UPDREQALL: 7,
  UPDDONE: 8,
  UPDREQ: 9,
  STATE: 10,
  CONTACT: 11,
  DISCONNECT: 12,
} as const;
export type MessageTypeName = keyof typeof MESSAGE_TYPES;

const TYPE_NAMES: ReadonlyMap<number, MessageTypeName> = new Map(
  (Object.keys(MESSAGE_TYPES) as MessageTypeName[]).map((name) => [MESSAGE_TYPES[name], name]),
);

/** The name of a message type code, or undefined outside 1..12. */
export function messageTypeName(code: number): MessageTypeName | undefined {
  return TYPE_NAMES.get(code);
}

/**
 * How an option's value is laid out on the wire.
 * - u8, u16, u32: unsigned big-endian integers of 1, 2, 4 bytes; the option length must be exactly that.
 * - ip: an IPv4 address, 4 bytes (a number in the model, as everywhere in joind: src/util/ipv4.ts).
 * - bytes: any number of bytes (a Buffer in the model).
 * - text: any number of bytes, read as UTF-8 text (a string in the model).
 * - hba: the 32-byte hash bucket assignment (bytes on the wire; encodeMessage insists on 32).
 * - ddns: draft-12 section 12.9; no model field, see the header.
 * - unused: an option dhcpd allows in no message type, so it is always skipped.
 */
export type WireType = 'u8' | 'u16' | 'u32' | 'ip' | 'bytes' | 'text' | 'hba' | 'ddns' | 'unused';

/** Values of the options a message can carry, by model field name. */
export interface OptionValues {
  addressesTransferred: number;
  assignedIpAddress: number;
  bindingStatus: number;
  clientIdentifier: Buffer;
  /** client-hardware-address: the htype byte followed by the hardware address (draft-12 12.5). */
  chaddr: Buffer;
  cltt: number;
  replyOptions: Buffer;
  requestOptions: Buffer;
  hba: Buffer;
  ipFlags: number;
  leaseExpiry: number;
  maxUnacked: number;
  mclt: number;
  message: string;
  potentialExpiry: number;
  receiveTimer: number;
  protocolVersion: number;
  rejectReason: number;
  relationshipName: Buffer;
  serverFlags: number;
  serverState: number;
  stos: number;
  tlsReply: number;
  tlsRequest: number;
  vendorClass: Buffer;
}
export type OptionField = keyof OptionValues;

/** One failover option. `field` is the model field, absent for options that have none. */
export interface OptionInfo {
  code: number;
  /** The option's name in draft-12 section 12 (and in ISC's table). */
  name: string;
  type: WireType;
  field?: OptionField;
}

/** Every option of draft-12 that dhcpd 4.4.3 knows, by code (ISC includes/failover.h, server/stables.c). */
export const OPTIONS: readonly OptionInfo[] = [
  { code: 1, name: 'addresses-transferred', type: 'u32', field: 'addressesTransferred' },
  { code: 2, name: 'assigned-IP-address', type: 'ip', field: 'assignedIpAddress' },
  { code: 3, name: 'binding-status', type: 'u8', field: 'bindingStatus' },
  { code: 4, name: 'client-identifier', type: 'bytes', field: 'clientIdentifier' },
  { code: 5, name: 'client-hardware-address', type: 'bytes', field: 'chaddr' },
  { code: 6, name: 'client-last-transaction-time', type: 'u32', field: 'cltt' },
  { code: 7, name: 'client-reply-options', type: 'bytes', field: 'replyOptions' },
  { code: 8, name: 'client-request-options', type: 'bytes', field: 'requestOptions' },
  { code: 9, name: 'DDNS', type: 'ddns' },
  { code: 10, name: 'delayed-service-parameter', type: 'unused' },
  { code: 11, name: 'hash-bucket-assignment', type: 'hba', field: 'hba' },
  { code: 12, name: 'IP-flags', type: 'u16', field: 'ipFlags' },
  { code: 13, name: 'lease-expiration-time', type: 'u32', field: 'leaseExpiry' },
  { code: 14, name: 'max-unacked-bndupd', type: 'u32', field: 'maxUnacked' },
  { code: 15, name: 'MCLT', type: 'u32', field: 'mclt' },
  { code: 16, name: 'message', type: 'text', field: 'message' },
  { code: 17, name: 'message-digest', type: 'unused' },
  { code: 18, name: 'potential-expiration-time', type: 'u32', field: 'potentialExpiry' },
  { code: 19, name: 'receive-timer', type: 'u32', field: 'receiveTimer' },
  { code: 20, name: 'protocol-version', type: 'u8', field: 'protocolVersion' },
  { code: 21, name: 'reject-reason', type: 'u8', field: 'rejectReason' },
  { code: 22, name: 'relationship-name', type: 'bytes', field: 'relationshipName' },
  { code: 23, name: 'server-flags', type: 'u8', field: 'serverFlags' },
  { code: 24, name: 'server-state', type: 'u8', field: 'serverState' },
  { code: 25, name: 'start-time-of-state', type: 'u32', field: 'stos' },
  { code: 26, name: 'TLS-reply', type: 'u8', field: 'tlsReply' },
  { code: 27, name: 'TLS-request', type: 'u8', field: 'tlsRequest' },
  { code: 28, name: 'vendor-class-identifier', type: 'bytes', field: 'vendorClass' },
  { code: 29, name: 'vendor-specific-options', type: 'unused' },
];

/** Option codes by name, for readable tests and callers. */
export const OPTION_CODES = {
  ADDRESSES_TRANSFERRED: 1,
  ASSIGNED_IP_ADDRESS: 2,
  BINDING_STATUS: 3,
  CLIENT_IDENTIFIER: 4,
  CHADDR: 5,
  CLTT: 6,
  REPLY_OPTIONS: 7,
  REQUEST_OPTIONS: 8,
  DDNS: 9,
  DELAYED_SERVICE: 10,
  HBA: 11,
  IP_FLAGS: 12,
  LEASE_EXPIRY: 13,
  MAX_UNACKED: 14,
  MCLT: 15,
  MESSAGE: 16,
  MESSAGE_DIGEST: 17,
  POTENTIAL_EXPIRY: 18,
  RECEIVE_TIMER: 19,
  PROTOCOL_VERSION: 20,
  REJECT_REASON: 21,
  RELATIONSHIP_NAME: 22,
  SERVER_FLAGS: 23,
  SERVER_STATE: 24,
  STOS: 25,
  TLS_REPLY: 26,
  TLS_REQUEST: 27,
  VENDOR_CLASS: 28,
  VENDOR_OPTIONS: 29,
} as const;

/** The option of a code, or undefined for a code dhcpd does not know (0, 30 and up): skipped on decode. */
export function optionInfo(code: number): OptionInfo | undefined {
  return code >= 1 && code <= OPTIONS.length ? OPTIONS[code - 1] : undefined;
}

const BY_FIELD: ReadonlyMap<string, OptionInfo> = new Map(
  OPTIONS.filter((o) => o.field !== undefined).map((o) => [o.field as string, o]),
);

/** The option behind a model field. */
export function optionOfField(field: OptionField): OptionInfo {
  return BY_FIELD.get(field)!;
}

/**
 * The options each message type may carry (ISC fto_allowed), in the order dhcpd writes them. 'ddns' has
 * no model field: it is listed because dhcpd's table allows it (see the header for what that means).
 */
export const ALLOWED = {
  POOLREQ: [],
  POOLRESP: ['addressesTransferred'],
  BNDUPD: [
    'assignedIpAddress',
    'bindingStatus',
    'clientIdentifier',
    'chaddr',
    'leaseExpiry',
    'potentialExpiry',
    'stos',
    'cltt',
    'ipFlags',
    'ddns',
    'requestOptions',
    'replyOptions',
  ],
  BNDACK: [
    'assignedIpAddress',
    'bindingStatus',
    'clientIdentifier',
    'chaddr',
    'leaseExpiry',
    'potentialExpiry',
    'stos',
    'cltt',
    'ipFlags',
    'rejectReason',
    'message',
    'ddns',
    'requestOptions',
    'replyOptions',
  ],
  CONNECT: ['relationshipName', 'maxUnacked', 'receiveTimer', 'vendorClass', 'protocolVersion', 'tlsRequest', 'mclt', 'hba'],
  CONNECTACK: [
    'relationshipName',
    'maxUnacked',
    'receiveTimer',
    'vendorClass',
    'protocolVersion',
    'tlsReply',
    'rejectReason',
    'message',
  ],
  UPDREQALL: [],
  UPDDONE: [],
  UPDREQ: [],
  STATE: ['serverState', 'serverFlags', 'stos'],
  CONTACT: [],
  DISCONNECT: ['rejectReason', 'message'],
} as const satisfies Record<MessageTypeName, readonly (OptionField | 'ddns')[]>;

/** The option codes a message type may carry (the runtime form of ALLOWED, for the decoder). */
export const ALLOWED_CODES: ReadonlyMap<number, ReadonlySet<number>> = new Map(
  (Object.keys(ALLOWED) as MessageTypeName[]).map((type) => [
    MESSAGE_TYPES[type],
    new Set(
      (ALLOWED[type] as readonly (OptionField | 'ddns')[]).map((f) => (f === 'ddns' ? OPTION_CODES.DDNS : optionOfField(f).code)),
    ),
  ]),
);

/** The model fields a message type may carry. */
export type FieldsOf<T extends MessageTypeName> = Extract<(typeof ALLOWED)[T][number], OptionField>;

/** A message of one type: the header's time and xid, and the options the type may carry (all optional). */
export type MessageOf<T extends MessageTypeName> = {
  type: T;
  /** The sender's clock when it sent the message: seconds since 1970, unsigned 32 bits. */
  time: number;
  /** Transaction id; a reply carries its request's (BNDACK its BNDUPD's, CONNECTACK its CONNECT's, ...). */
  xid: number;
} & Partial<Pick<OptionValues, FieldsOf<T>>>;

/** A failover message of any type. */
export type FailoverMessage = { [T in MessageTypeName]: MessageOf<T> }[MessageTypeName];
