// DHCPREQUEST → DHCPACK, DHCPNAK or silence, by the client's state (RFC 2131 4.3.2):
// SELECTING (server identifier present), INIT-REBOOT (requested address, no ciaddr),
// RENEWING / REBINDING (ciaddr set, no requested address).
import { requestedAddress, serverIdentifier } from '../../codec';
import { MessageType } from '../../codec/types';
import { inNetwork, ipToString } from '../../util/ipv4';
import { drop, type Handler, type Reply, type RequestContext, type Services } from '../context';
import { buildReply } from '../reply';
import { notePeerNotServing, pairNotServing, pairSilence } from '../pair-gate';
import { grantLease } from './grant';

function nak(ctx: RequestContext, svc: Services, reason: string): Reply {
  return buildReply(ctx, svc, {
    type: MessageType.NAK,
    yiaddr: 0,
    includeConfigured: false,
    message: reason,
    durable: false,
    event: 'DHCP_NAK',
    detail: { reason },
  });
}

export const handleRequest: Handler = async (ctx, svc) => {
  const req = ctx.request;
  const serverId = serverIdentifier(req);
  const requested = requestedAddress(req);
  const network = ctx.network;
  // An address of a failover range while our failover state serves nobody: silence, whatever the state
  // of the client (renewals included: a recovering server's store may not know the lease yet).
  if (pairNotServing(ctx, svc, requested ?? (req.ciaddr !== 0 ? req.ciaddr : undefined))) {
    return drop('failover-not-serving');
  }

  if (serverId !== undefined) {
    // SELECTING: the client answers an OFFER. If it chose another server, our offer lapses at once.
    if (!svc.isOurServerId(serverId)) {
      svc.allocator.dropOffer(ctx.client);
      if (requested !== undefined) notePeerNotServing(ctx, svc, requested, true);
      return drop('for-another-server');
    }
    const address = requested ?? (req.ciaddr !== 0 ? req.ciaddr : undefined);
    if (address === undefined) return drop('selecting-without-address'); // RFC 2131: it MUST carry one
    if (!inNetwork(address, network.address, network.mask)) return nak(ctx, svc, 'address not on this network');
    if (!svc.allocator.availableFor(ctx.client, address)) return nak(ctx, svc, 'address not available');
    return grantLease(ctx, svc, address, 'dhcp');
  }

  if (requested !== undefined && req.ciaddr === 0) {
    // INIT-REBOOT: the client wants to keep the address it had. In a failover pool its hash bucket
    // names the server that answers (both know the lease).
    const silence = pairSilence(ctx, svc);
    if (silence) return drop(silence);
    if (!inNetwork(requested, network.address, network.mask)) return nak(ctx, svc, 'address not on this network');
    const own = svc.allocator.ownAddress(ctx.client);
    if (own === undefined) return drop('init-reboot-unknown-client'); // RFC 2131 4.3.2: MUST remain silent
    if (own !== requested) return nak(ctx, svc, `address is not this client's (it has ${ipToString(own)})`);
    if (!svc.allocator.availableFor(ctx.client, requested)) return nak(ctx, svc, 'address no longer available');
    return grantLease(ctx, svc, requested, 'dhcp');
  }

  if (req.ciaddr !== 0) {
    // RENEWING (unicast to us) or REBINDING (broadcast): extend the lease on ciaddr.
    const address = req.ciaddr;
    notePeerNotServing(ctx, svc, address, false);
    if (!inNetwork(address, network.address, network.mask)) return nak(ctx, svc, 'address not on this network');
    const own = svc.allocator.ownAddress(ctx.client);
    if (own === address && svc.allocator.availableFor(ctx.client, address)) return grantLease(ctx, svc, address, 'dhcp');
    if (own === undefined && svc.allocator.availableFor(ctx.client, address)) {
      // We have no record (e.g. the store was restored from an older backup) but the address is free in
      // our ranges: grant it rather than disrupt a working client.
      return grantLease(ctx, svc, address, 'dhcp');
    }
    // The address belongs to another server's range: not ours to refuse.
    if (!ctx.pool.allocatable(address) && own === undefined) return drop('renewing-foreign-address');
    return nak(ctx, svc, 'lease not valid for this client');
  }
  return drop('request-state-unknown'); // neither state fits: malformed
};
