// Which options a reply carries and in which order: the ones that define the lease always, then what
// the client asked for in its parameter request list (55), in its order, from the client's dhcpcap
// parameters. A client that sent no list (BOOTP, some embedded DHCP clients) gets everything configured.
// The options an entry forces (fo, dhcpd's always-send) go too, asked for or not; the ones echoed from
// the request (client identifier, subnet selection, PXE's) go last but for the relay's 82.
import { encodeOptionValue, encodeVendorSubOptions, OPT_CLIENT_FQDN, OPT_VENDOR_SPECIFIC, type ClientFqdn } from '../codec';
import type { OptionMap } from '../codec/types';
import type { TagValue } from '../config/types';
import { tagSpecOf } from '../config/tags';
import type { LeaseTimes } from '../alloc/lease-time';

/** Options that say what the lease is; they go out whether or not the client asked for them. */
export const OPT = {
  SUBNET_MASK: 1,
  TIME_OFFSET: 2,
  ROUTERS: 3,
  HOST_NAME: 12,
  BOOT_SIZE: 13,
  DOMAIN_NAME: 15,
  BROADCAST: 28,
  LEASE_TIME: 51,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PRL: 55,
  MESSAGE: 56,
  MAX_SIZE: 57,
  T1: 58,
  T2: 59,
  TFTP_SERVER: 66,
  BOOTFILE: 67,
  AGENT_INFO: 82,
} as const;

/** Tags whose value does not go out as an option by itself (they shape the reply in other ways). */
const NOT_SENT_AS_OPTION = new Set(['lt', 't1', 't2', 'sv', 'mm', 'ov', 'ho', 'hn', 'bf', 'sn', 'sm']);

/** configuredOptions' results by the tag map they came from (see there). */
const configuredByTags = new WeakMap<ReadonlyMap<string, TagValue>, ReadonlyMap<number, TagValue>>();
/** Encoded option values by configured-option map and code (see encodedConfigured). */
const encodedByConfigured = new WeakMap<ReadonlyMap<number, TagValue>, Map<number, Buffer | Error>>();

/**
 * The options configured for a client, by option code, from its merged dhcpcap parameters. Remembered
 * per tag map: the lookup hands every client without an entry of its own the same merged map of its
 * network and class, so for most packets this is a cache hit. (Tag maps are never changed once built; a
 * new configuration builds new ones.)
 */
export function configuredOptions(tags: ReadonlyMap<string, TagValue>): ReadonlyMap<number, TagValue> {
  const known = configuredByTags.get(tags);
  if (known) return known;
  const options = new Map<number, TagValue>();
  let subs: Array<[number, Buffer]> | undefined;
  for (const [tag, value] of tags) {
    if (NOT_SENT_AS_OPTION.has(tag)) continue;
    // Scope keys such as ck and ct describe the client; they are not sent.
    const spec = tagSpecOf(tag);
    if (!spec || spec.option === undefined || spec.place === 'scope') continue;
    if (spec.suboption !== undefined) (subs ??= []).push([spec.suboption, value as Buffer]);
    else options.set(spec.option, value);
  }
  // A whole option 43 (vs, T43) wins over sub-options written one by one.
  if (subs && !options.has(OPT_VENDOR_SPECIFIC)) options.set(OPT_VENDOR_SPECIFIC, encodeVendorSubOptions(subs));
  configuredByTags.set(tags, options);
  return options;
}

/**
 * A configured option's bytes, encoded once per configured-option map (or the reason it cannot be).
 * `auto` values are resolved per reply and never come here.
 */
function encodedConfigured(configured: ReadonlyMap<number, TagValue>, code: number, value: TagValue): Buffer | Error {
  let cache = encodedByConfigured.get(configured);
  if (!cache) {
    cache = new Map();
    encodedByConfigured.set(configured, cache);
  }
  let bytes = cache.get(code);
  if (bytes === undefined) {
    try {
      bytes = encodeOptionValue(code, value);
    } catch (err) {
      bytes = err as Error;
    }
    cache.set(code, bytes);
  }
  return bytes;
}

export interface ReplyOptionsInput {
  messageType?: number;
  serverId?: number;
  lease?: LeaseTimes;
  subnetMask?: number;
  /** Options configured for the client (see configuredOptions). */
  configured: ReadonlyMap<number, TagValue>;
  /** Send the configuration at all (false for an OFFER when send_options_in_offer is off, and for NAK). */
  includeConfigured: boolean;
  prl?: readonly number[];
  /** Options sent whether the client asked or not (the entry's fo). */
  forced?: readonly number[];
  hostName?: string | null;
  bootFile?: string | null;
  tftpServerName?: string | null;
  /** Option 82 as the relay sent it: echoed back last (RFC 3046 2.2). */
  agentInfo?: Buffer;
  /** Option 81, sent whenever given: the answer to the client's own (RFC 4702 4), asked for or not. */
  clientFqdn?: ClientFqdn;
  /** Options copied from the request or owed to it (client identifier, subnet selection, PXE), as bytes. */
  echo?: ReadonlyArray<readonly [number, Buffer]>;
  message?: string;
  /** Resolves `auto` values (time offset, boot file size) at send time. */
  auto?: (code: number) => TagValue | undefined;
}

/** Builds the option map of a reply; values that cannot be encoded are left out and reported. */
export function replyOptions(input: ReplyOptionsInput, onBadValue?: (code: number, reason: string) => void): OptionMap {
  const out: OptionMap = new Map();
  const put = (code: number, value: TagValue | ClientFqdn | undefined): void => {
    if (value === undefined || out.has(code)) return;
    if (value === 'auto') {
      const resolved = input.auto?.(code);
      if (resolved === undefined || resolved === 'auto') return;
      value = resolved;
    }
    try {
      out.set(code, encodeOptionValue(code, value));
    } catch (err) {
      onBadValue?.(code, (err as Error).message);
    }
  };
  /** A value from the configuration: its bytes are the same for every reply that carries it. */
  const putConfigured = (code: number, value: TagValue | undefined): void => {
    if (value === undefined || value === 'auto') return put(code, value);
    if (out.has(code)) return;
    const bytes = encodedConfigured(input.configured, code, value);
    if (bytes instanceof Error) onBadValue?.(code, bytes.message);
    else out.set(code, bytes);
  };

  if (input.messageType !== undefined) put(OPT.MESSAGE_TYPE, input.messageType);
  if (input.serverId !== undefined) put(OPT.SERVER_ID, input.serverId);
  if (input.message !== undefined) put(OPT.MESSAGE, input.message);
  if (input.lease) {
    put(OPT.LEASE_TIME, input.lease.lease);
    if (input.lease.t1 !== undefined) put(OPT.T1, input.lease.t1);
    if (input.lease.t2 !== undefined) put(OPT.T2, input.lease.t2);
  }
  if (input.includeConfigured) {
    if (input.subnetMask !== undefined) put(OPT.SUBNET_MASK, input.subnetMask);
    const extra = (code: number): TagValue | undefined => {
      if (code === OPT.HOST_NAME) return input.hostName ?? undefined;
      if (code === OPT.BOOTFILE) return input.bootFile ?? undefined;
      if (code === OPT.TFTP_SERVER) return input.tftpServerName ?? undefined;
      return input.configured.get(code);
    };
    const send = (code: number): void => {
      if (code === OPT.HOST_NAME || code === OPT.BOOTFILE || code === OPT.TFTP_SERVER) put(code, extra(code));
      else putConfigured(code, input.configured.get(code));
    };
    if (input.prl) {
      for (const code of input.prl) send(code);
      if (input.forced) for (const code of input.forced) send(code);
    } else {
      for (const [code, value] of input.configured) putConfigured(code, value);
      put(OPT.HOST_NAME, input.hostName ?? undefined);
      put(OPT.BOOTFILE, input.bootFile ?? undefined);
    }
    // The host name is sent when the entry asks for it (hn), even if the client did not request it.
    put(OPT.HOST_NAME, input.hostName ?? undefined);
  }
  put(OPT_CLIENT_FQDN, input.clientFqdn);
  if (input.echo) for (const [code, bytes] of input.echo) if (!out.has(code)) out.set(code, bytes);
  if (input.agentInfo) out.set(OPT.AGENT_INFO, input.agentInfo);
  return out;
}
