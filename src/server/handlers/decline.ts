// DHCPDECLINE (RFC 2131 4.3.3): the client found the address in use; it becomes abandoned. No reply.
import { requestedAddress, serverIdentifier } from '../../codec';
import { logEvent } from '../../log/logger';
import { ipToString } from '../../util/ipv4';
import { drop, NO_REPLY, type Handler } from '../context';

export const handleDecline: Handler = (ctx, svc) => {
  const serverId = serverIdentifier(ctx.request);
  if (serverId !== undefined && !svc.isOurServerId(serverId)) return drop('for-another-server');
  const address = requestedAddress(ctx.request);
  if (address === undefined) return drop('decline-without-address');
  if (!svc.allocator.decline(ctx.client, address)) return drop('decline-not-holder', { address: ipToString(address) });
  logEvent(svc.log, 'DHCP_DECLINE', { address: ipToString(address) });
  return NO_REPLY;
};
