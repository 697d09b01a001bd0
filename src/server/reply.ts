// Building replies: the BOOTP header fields of RFC 2131 table 3, the options, and the destination.
import {
  clientFqdn,
  hostName,
  leaseTime,
  maxMessageSize,
  OPT_CLIENT_ID,
  OPT_CLIENT_UUID,
  OPT_SUBNET_SELECTION,
  OPT_VENDOR_CLASS,
  parameterRequestList,
  type ClientFqdn,
} from '../codec';
import { BOOTREPLY, DhcpPacket, MessageType } from '../codec/types';
import type { TagValue } from '../config/types';
import { leaseTimes, LeaseTimes } from '../alloc/lease-time';
import { logEvent } from '../log/logger';
import { replyDestination } from './addressing';
import type { Reply, RequestContext, Services } from './context';
import { replyOptions } from './options';

/** The smallest message every DHCP client must accept (RFC 2131 section 2): 576 bytes of IP datagram. */
export const DEFAULT_MAX_MESSAGE = 576;
/** BOOTP replies are at least this long (RFC 951 / RFC 1542); 548 with expand_bootp_packet. */
export const BOOTP_MIN_SIZE = 300;
export const BOOTP_EXPANDED_SIZE = 548;

function num(tags: ReadonlyMap<string, TagValue>, tag: string): number | undefined {
  const v = tags.get(tag);
  return typeof v === 'number' ? v : undefined;
}

/** The codes of the entry's fo tag (options sent unasked), if any. */
function forcedOf(tags: ReadonlyMap<string, TagValue>): readonly number[] | undefined {
  const v = tags.get('fo');
  return Array.isArray(v) ? (v as number[]) : undefined;
}

function str(tags: ReadonlyMap<string, TagValue>, tag: string): string | undefined {
  const v = tags.get(tag);
  return typeof v === 'string' ? v : undefined;
}

const LEASE_TAGS = ['lt', 't1', 't2', 'ln', 'lx'] as const;

/** The lease to grant this client (its entry's lt/t1/t2, default_ttl, and what it asked for). */
export function leaseFor(ctx: RequestContext, honourRequested = true): LeaseTimes {
  const tags = ctx.params.tags;
  const configured: { lt?: number; t1?: number; t2?: number; ln?: number; lx?: number } = {};
  for (const tag of LEASE_TAGS) {
    const value = num(tags, tag);
    if (value !== undefined) configured[tag] = value;
  }
  return leaseTimes(configured, ctx.config.policy.default_ttl, honourRequested ? leaseTime(ctx.request) : undefined);
}

/** The boot file as the client should see it: the `hd` home directory prefixed to `bf`. */
export function bootFileOf(tags: ReadonlyMap<string, TagValue>): string | null {
  const file = str(tags, 'bf');
  if (!file) return null;
  const home = str(tags, 'hd');
  if (!home || file.startsWith('/')) return file;
  return `${home.replace(/\/+$/, '')}/${file}`;
}

const PXE_CLIENT = Buffer.from('PXEClient', 'latin1');

/**
 * What a reply copies from the request, or owes it: the client identifier (RFC 6842: in every OFFER,
 * ACK and NAK), the subnet selection (RFC 3011 3: "MUST echo"), and for a PXE client (option 60
 * "PXEClient…") answered with a boot file its UUID (97) and option 60 "PXEClient" (RFC 4578 2.3, and
 * the PXE specification: without it the firmware's ROM ignores the offer). Undefined when there is none.
 */
function echoed(req: DhcpPacket, bootFile: string | null): Array<[number, Buffer]> | undefined {
  let echo: Array<[number, Buffer]> | undefined;
  const clientId = req.options.get(OPT_CLIENT_ID);
  if (clientId) (echo ??= []).push([OPT_CLIENT_ID, clientId]);
  const selection = req.options.get(OPT_SUBNET_SELECTION);
  if (selection) (echo ??= []).push([OPT_SUBNET_SELECTION, selection]);
  if (bootFile !== null) {
    const vendorClass = req.options.get(OPT_VENDOR_CLASS);
    if (vendorClass && vendorClass.subarray(0, PXE_CLIENT.length).equals(PXE_CLIENT)) {
      const uuid = req.options.get(OPT_CLIENT_UUID);
      if (uuid) (echo ??= []).push([OPT_CLIENT_UUID, uuid]);
      (echo ??= []).push([OPT_VENDOR_CLASS, PXE_CLIENT]);
    }
  }
  return echo;
}

/** The host name a client suggests: option 12, else the name of option 81. */
export function suggestedName(request: DhcpPacket): string | null {
  const name = hostName(request);
  if (name) return name;
  const fqdn = clientFqdn(request);
  return fqdn?.name ? fqdn.name : null;
}

export interface ReplyParts {
  type: MessageType | undefined; // undefined: BOOTREPLY
  yiaddr: number;
  lease?: LeaseTimes;
  includeConfigured: boolean;
  hostName?: string | null;
  /** Option 81 as joind answers it (server/client-fqdn.ts). */
  clientFqdn?: ClientFqdn;
  message?: string;
  durable: boolean;
  event: Reply['event'];
  detail?: Record<string, unknown>;
}

/** The reply to ctx.request with the given parts. */
export function buildReply(ctx: RequestContext, svc: Services, parts: ReplyParts): Reply {
  const req = ctx.request;
  const tags = ctx.params.tags;
  const policy = ctx.config.policy;
  const isBootp = parts.type === undefined;
  const nak = parts.type === MessageType.NAK;
  const bootFile = nak ? null : bootFileOf(tags);
  const tftpServerName = nak ? null : (str(tags, 'sn') ?? null);
  const sendBootfileOption = !isBootp && !policy.bootfile_not_sent_as_option;

  const agentInfo = req.options.get(82);
  const options =
    isBootp && !req.hasMagicCookie
      ? new Map<number, Buffer>()
      : replyOptions(
          {
            // Every field present, unset ones undefined: one object shape for every reply (conditional
            // spreads gave each combination its own, and V8's property lookups went megamorphic).
            messageType: parts.type,
            serverId: parts.type !== undefined ? ctx.serverId : undefined,
            lease: parts.lease,
            subnetMask: num(tags, 'sm') ?? ctx.network.mask,
            configured: ctx.params.options,
            includeConfigured: parts.includeConfigured && !nak,
            prl: isBootp ? undefined : parameterRequestList(req),
            forced: forcedOf(tags),
            hostName: parts.hostName ?? null,
            bootFile: sendBootfileOption ? bootFile : null,
            tftpServerName,
            agentInfo: agentInfo && ctx.relayed ? agentInfo : undefined,
            clientFqdn: parts.clientFqdn,
            echo: echoed(req, bootFile),
            message: parts.message,
            auto: (code) => autoValue(code, tags),
          },
          (code, reason) => logEvent(svc.log, 'CONFIG_PROBLEM', { option: code, reason }, 'option value cannot be encoded'),
        );

  const packet: DhcpPacket = {
    op: BOOTREPLY,
    htype: req.htype,
    hlen: req.hlen,
    hops: 0,
    xid: req.xid,
    secs: 0,
    // A NAK through a relay asks the relay to broadcast it (RFC 2131 4.1).
    // So does the ACK to a relayed DHCPINFORM without ciaddr: the relay has no other way to reach the
    // client (RFC 1542 4.1.2; Kea does the same).
    flags:
      ctx.relayed && (nak || (parts.type === MessageType.ACK && parts.yiaddr === 0 && req.ciaddr === 0))
        ? req.flags | 0x8000
        : req.flags,
    ciaddr: parts.type === MessageType.ACK || isBootp ? req.ciaddr : 0,
    yiaddr: nak ? 0 : parts.yiaddr,
    siaddr: nak ? 0 : (num(tags, 'sa') ?? 0),
    giaddr: req.giaddr,
    chaddr: req.chaddr,
    sname: nak ? '' : (tftpServerName ?? ''),
    file: nak ? '' : (bootFile ?? ''),
    options,
    hasMagicCookie: isBootp ? req.hasMagicCookie : true,
  };

  const directed = num(tags, 'ba') ?? (ctx.network.address | ~ctx.network.mask) >>> 0;
  const dest = replyDestination(req, parts.type, packet.yiaddr, {
    forceBroadcast: policy.force_broadcast_reply,
    directUnicast: svc.directUnicast,
    ifname: ctx.inbound.ifname,
    directed,
  });
  const reply: Reply = { packet, dest, serverId: ctx.serverId, durable: parts.durable, event: parts.event };
  if (isBootp) reply.minSize = policy.expand_bootp_packet ? BOOTP_EXPANDED_SIZE : BOOTP_MIN_SIZE;
  else reply.maxSize = maxMessageSize(req) ?? DEFAULT_MAX_MESSAGE;
  if (parts.detail) reply.detail = parts.detail;
  return reply;
}

/** Values written as `auto` in dhcpcap, resolved when sent. */
function autoValue(code: number, tags: ReadonlyMap<string, TagValue>): TagValue | undefined {
  if (code === 2) return -new Date().getTimezoneOffset() * 60; // time offset: the server's own zone
  void tags; // boot file size (13) auto needs the file; left out when unknown
  return undefined;
}
