// DHCPRELEASE (RFC 2131 4.3.4): the lease on ciaddr ends now; the record stays, so the client may get
// the same address back. No reply.
import { serverIdentifier } from '../../codec';
import { logEvent } from '../../log/logger';
import { ipToString } from '../../util/ipv4';
import { drop, NO_REPLY, type Handler } from '../context';

export const handleRelease: Handler = (ctx, svc) => {
  const serverId = serverIdentifier(ctx.request);
  if (serverId !== undefined && !svc.isOurServerId(serverId)) return drop('for-another-server');
  const address = ctx.request.ciaddr;
  if (address === 0) return drop('release-without-ciaddr');
  if (!svc.allocator.release(ctx.client, address)) return drop('release-not-holder', { address: ipToString(address) });
  logEvent(svc.log, 'DHCP_RELEASE', { address: ipToString(address) });
  return NO_REPLY;
};
