// Granting a lease (the end of a REQUEST, or a BOOTP allocation): name the client, write lease and name
// into the current batch, and build the reply that will leave once the batch is on disk.
import { MessageType } from '../../codec/types';
import { INFINITE, leaseTimes } from '../../alloc/lease-time';
import { LeaseState } from '../../store/types';
import { drop, type Outcome, type RequestContext, type Services } from '../context';
import { pairLeaseLimit } from '../pair-gate';
import { buildReply, leaseFor, suggestedName } from '../reply';
import { logEvent } from '../../log/logger';
import { ipToString } from '../../util/ipv4';
import { ddnsEnabled, dnsNameOf } from '../../ddns/names';
import { decideFqdn } from '../client-fqdn';
import { clientFqdn } from '../../codec';

function staticNameOf(ctx: RequestContext): string | null {
  const ho = ctx.params.tags.get('ho');
  if (typeof ho === 'string' && ho) return ho;
  // A host entry is named by its label (bootptab convention), unless the label is a template.
  const entry = ctx.params.hostEntry;
  return entry && !entry.template ? entry.label : null;
}

export async function grantLease(ctx: RequestContext, svc: Services, address: number, kind: 'dhcp' | 'bootp'): Promise<Outcome> {
  const lease = kind === 'dhcp' ? leaseFor(ctx) : undefined;
  const domainTag = ctx.params.tags.get('dn');
  const naming = {
    client: ctx.client.key,
    address,
    domain: typeof domainTag === 'string' ? domainTag : '',
    suggested: suggestedName(ctx.request),
    staticName: staticNameOf(ctx),
  };
  const chosen = await svc.namer.choose(ctx.config, naming);
  // The ping and the name lookup may have taken time: make sure the address is still ours to give.
  if (!svc.allocator.availableFor(ctx.client, address)) return drop('address-taken-meanwhile', { address: ipToString(address) });
  // And that another client handled meanwhile did not record the same pool or generated name.
  const name = svc.namer.confirm(ctx.config, naming, chosen);

  const nowSec = Math.floor(ctx.nowMs / 1000);
  let leaseSeconds: number | null;
  if (kind === 'bootp') {
    const extension = ctx.config.policy.bp_auto_extension;
    const lt = ctx.params.tags.get('lt');
    leaseSeconds = extension > 0 ? (typeof lt === 'number' ? lt : ctx.config.policy.default_ttl) : null;
  } else {
    leaseSeconds = lease!.lease === INFINITE ? null : lease!.lease;
  }
  // Who writes what in DNS: the client may keep its A record to itself (option 81).
  const ddnsOn = ddnsEnabled(ctx.config);
  const fqdn = dnsNameOf(ctx.config, name, naming.domain);
  const dns = decideFqdn(clientFqdn(ctx.request), fqdn, ddnsOn);
  let granted;
  try {
    granted = svc.allocator.grant(ctx.client, {
      address,
      leaseSeconds,
      state: kind === 'bootp' ? LeaseState.BOOTP : LeaseState.ACTIVE,
      clientHostname: suggestedName(ctx.request),
      hostname: name.name,
      dnsName: dns.updates === 'none' ? null : fqdn,
      dnsForward: dns.updates === 'both',
    });
    svc.store.write(() => svc.namer.record(naming, name, nowSec));
  } catch (err) {
    logEvent(svc.log, 'STORE_WRITE_FAILED', { address: ipToString(address), err: (err as Error).message });
    return drop('store-write-failed');
  }
  const sendName = ctx.params.tags.get('hn') === true ? name.name : null;
  // In a failover range the client is told no more than the peer's acknowledgement covers: the owner
  // may have written an MCLT-long lease, or the full one while the grant waits for the peer here. Without
  // failover no await at all: the packet path keeps its one turn.
  const limit = svc.pair === null ? null : await pairLeaseLimit(svc, granted, nowSec);
  const written = granted.ends === null ? null : Math.min(granted.ends - nowSec, limit ?? Infinity);
  const told =
    lease && written !== null && (lease.lease === INFINITE || written < lease.lease)
      ? leaseTimes({ lt: written }, written)
      : lease;
  return buildReply(ctx, svc, {
    type: kind === 'bootp' ? undefined : MessageType.ACK,
    yiaddr: address,
    ...(told ? { lease: told } : {}),
    includeConfigured: true,
    hostName: sendName,
    ...(dns.reply ? { clientFqdn: dns.reply } : {}),
    durable: true,
    event: kind === 'bootp' ? 'BOOTP_REPLY' : 'DHCP_ACK',
    detail: { name: name.name, nameSource: name.source, ...(ddnsOn ? { dns: dns.updates } : {}) },
  });
}
