// BOOTREQUEST without a DHCP message type (RFC 951, RFC 1542; joind-spec.md 3.1 item 10): a permanent
// binding from the client's dhcpcap host entry (ht/ha + ip), or, with dynamic_bootp, an address from the
// pool that is the client's for good, or until its end with bp_auto_extension (the allocator pings an
// ended one before reuse and extends it when its client still answers).
import { LeaseState } from '../../store/types';
import { logEvent } from '../../log/logger';
import { inNetwork, ipToString } from '../../util/ipv4';
import { drop, mayAllocate, type Handler } from '../context';
import { buildReply } from '../reply';
import { grantLease } from './grant';

export const handleBootp: Handler = async (ctx, svc) => {
  const policy = ctx.config.policy;
  const bound = ctx.params.tags.get('ip');
  if (typeof bound === 'number') {
    const onNet = inNetwork(bound, ctx.network.address, ctx.network.mask);
    if (!onNet && policy.check_bootp_client_net) {
      // check_bootp_client_net: the client is not on the network of its bound address; not answered.
      logEvent(svc.log, 'BOOTP_WRONG_NETWORK', { address: ipToString(bound) });
      return drop('bootp-wrong-network', { address: ipToString(bound) });
    }
    if (policy.ping_bootp_clients && svc.pingEnabled && (await svc.allocator.probe(bound))) {
      // ping_bootp_clients: the bound address answers a ping; the client is not configured.
      logEvent(svc.log, 'BOOTP_BINDING_IN_USE', { address: ipToString(bound) });
      return drop('bootp-binding-in-use', { address: ipToString(bound) });
    }
    const hostName = ctx.params.tags.get('hn') === true ? (ctx.params.hostEntry?.label ?? null) : null;
    return buildReply(ctx, svc, {
      type: undefined,
      yiaddr: bound,
      includeConfigured: true,
      hostName,
      durable: false,
      event: 'BOOTP_REPLY',
      // Permanent bindings live in dhcpcap, not in the store: the log is where an admin sees them served.
      detail: { binding: 'static', host: ctx.params.hostEntry?.label ?? null },
    });
  }
  if (!policy.dynamic_bootp) return drop('bootp-without-binding');
  const record = svc.allocator.recordOf(ctx.client);
  if (record && record.state === LeaseState.BOOTP && svc.allocator.availableFor(ctx.client, record.address)) {
    return grantLease(ctx, svc, record.address, 'bootp');
  }
  if (!mayAllocate(ctx, svc)) return drop('unknown-client');
  const choice = await svc.allocator.chooseOffer(ctx.client, policy.ping_bootp_clients);
  if (!choice) return drop(svc.allocator.refusedByRules(ctx.client) ? 'no-range-admits' : 'no-free-address');
  return grantLease(ctx, svc, choice.address, 'bootp');
};
