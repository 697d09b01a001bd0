// The contract of the wire codec: what decode() gives the rest of the server and what encode() takes.
// The codec knows no policy: it neither chooses addresses nor decides which options a reply carries.

/** BOOTP op field (RFC 951). */
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;

/** DHCP message types, option 53 (RFC 2132 section 9.6). */
export const enum MessageType {
  DISCOVER = 1,
  OFFER = 2,
  REQUEST = 3,
  DECLINE = 4,
  ACK = 5,
  NAK = 6,
  RELEASE = 7,
  INFORM = 8,
}

/** Broadcast bit of the flags field (RFC 1542 section 3.1.1). */
export const FLAG_BROADCAST = 0x8000;

/** The RFC 1048 magic cookie that starts the options area. */
export const MAGIC_COOKIE = 0x63825363;

/**
 * Options of a packet: option code → value bytes. On decode the parts of an option that RFC 3396 split
 * (and that option overload, 52, put in `file` / `sname`) are already joined in order. On encode the
 * server fills it in the order the options should go out (Map keeps insertion order); 0 (pad), 255
 * (end) and 52 (overload) are never present: the codec handles them.
 */
export type OptionMap = Map<number, Buffer>;

/** One BOOTP/DHCP message. Addresses are unsigned 32-bit numbers (see src/util/ipv4.ts). */
export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** The whole 16-byte chaddr field as on the wire; the hardware address is its first hlen bytes. */
  chaddr: Buffer;
  /**
   * Server host name / boot file name, as text up to the first NUL. Empty when the field was used for
   * options (overload) or was all zero. On encode, a non-empty value occupies the field and the codec
   * does not overload into it.
   */
  sname: string;
  file: string;
  /** Present when the vendor area starts with the magic cookie (every DHCP packet, most BOOTP ones). */
  options: OptionMap;
  /** Whether the vendor area started with the magic cookie. A BOOTP request may not have it. */
  hasMagicCookie: boolean;
}

/** What went wrong in a packet that could not be decoded. */
export type DecodeErrorKind =
  | 'too-short' // shorter than the fixed BOOTP header
  | 'bad-op' // op is neither BOOTREQUEST nor BOOTREPLY
  | 'bad-hlen' // hlen larger than chaddr (16)
  | 'option-truncated' // an option's length runs past the end of its area
  | 'missing-end' // options area ends without the END option (tolerated by some clients: see decode)
  | 'bad-overload' // option 52 with a wrong length or value, or repeated inside file/sname
  | 'bad-option-length' // a known option whose length does not fit its type (e.g. option 53 of length 2)
  | 'bad-message-type'; // option 53 outside 1..8 (or the vendor-specific range the server cannot serve)

export interface DecodeError {
  kind: DecodeErrorKind;
  /** Byte offset in the packet where the problem was found. */
  offset: number;
  /** Human-readable explanation, e.g. "option 53 length 2 at offset 243, expected 1". */
  message: string;
}

export type DecodeResult = { ok: true; packet: DhcpPacket } | { ok: false; error: DecodeError };

export interface EncodeOptions {
  /**
   * Largest message the receiver accepts (from the client's option 57, else 576 per RFC 2131).
   * Options that do not fit in the options area spill into `file` then `sname` (option 52) when those
   * are empty; options that still do not fit are left out, lowest priority (last inserted) first.
   */
  maxMessageSize?: number;
  /** Pad the message with zeros up to this size (300 for BOOTP replies, RFC 951/1542). */
  minSize?: number;
}
