// BOOTREQUEST without a DHCP message type (RFC 951, RFC 1542; joind-spec.md 3.1 item 10): a permanent
// binding from the client's dhcpcap host entry (ht/ha + ip), or, with dynamic_bootp, an address from the
// pool that is the client's for good (or for bp_auto_extension-limited leases).
import { logEvent } from '../../log/logger';
import { LeaseState } from '../../store/types';
import { inNetwork, ipToString } from '../../util/ipv4';
import type { Handler } from '../context';
import { buildReply } from '../reply';
import { grantLease } from './grant';

export const handleBootp: Handler = async (ctx, svc) => {
  const policy = ctx.config.policy;
  const bound = ctx.params.tags.get('ip');
  if (typeof bound === 'number') {
    const onNet = inNetwork(bound, ctx.network.address, ctx.network.mask);
    if (!onNet && policy.check_bootp_client_net) {
      logEvent(
        svc.log,
        'BOOTP_WRONG_NETWORK',
        { reason: 'bootp-wrong-network', address: ipToString(bound) },
        'BOOTP client is not on the network of its bound address (check_bootp_client_net): not answered',
      );
      return null;
    }
    if (policy.ping_bootp_clients && svc.pingEnabled && (await svc.allocator.probe(bound))) {
      logEvent(
        svc.log,
        'BOOTP_PING_CONFLICT',
        { address: ipToString(bound) },
        'the bound address of a BOOTP client answers a ping (ping_bootp_clients): client not configured',
      );
      return null;
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
  if (!policy.dynamic_bootp) return null;
  const record = svc.allocator.recordOf(ctx.client);
  if (record && record.state === LeaseState.BOOTP && svc.allocator.availableFor(ctx.client, record.address)) {
    return grantLease(ctx, svc, record.address, 'bootp');
  }
  const choice = await svc.allocator.chooseOffer(ctx.client, policy.ping_bootp_clients);
  if (!choice) return null;
  return grantLease(ctx, svc, choice.address, 'bootp');
};
