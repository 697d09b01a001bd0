// DHCPDISCOVER → DHCPOFFER (RFC 2131 4.3.1): the address comes from the allocator (the client's own,
// the one it asked for, or the free list, after a ping check), held on the provisional list.
import { MessageType } from '../../codec/types';
import { drop, mayAllocate, type Handler } from '../context';
import { pairSilence } from '../pair-gate';
import { buildReply, leaseFor } from '../reply';

export const handleDiscover: Handler = async (ctx, svc) => {
  // In a failover pool in normal operation, the client's hash bucket names the server that answers.
  const silence = pairSilence(ctx, svc);
  if (silence) return drop(silence);
  // Known clients only (kn): an unknown client with no lease here gets no offer.
  if (!mayAllocate(ctx, svc) && svc.allocator.ownAddress(ctx.client) === undefined) return drop('unknown-client');
  const choice = await svc.allocator.chooseOffer(ctx.client, svc.pingEnabled);
  if (!choice) return drop(svc.allocator.refusedByRules(ctx.client) ? 'no-range-admits' : 'no-free-address');
  return buildReply(ctx, svc, {
    type: MessageType.OFFER,
    yiaddr: choice.address,
    lease: leaseFor(ctx),
    includeConfigured: ctx.config.policy.send_options_in_offer,
    durable: false,
    event: 'DHCP_OFFER',
    detail: { reason: choice.reason },
  });
};
