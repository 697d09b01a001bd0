// Which server of a failover pair answers a client looking for a lease (draft-12 section 5.3, RFC 3074;
// dhcpd's load_balance_mine in dhcpdiscover and dhcprequest). Only the packet path's two questions:
// may we serve this pool at all, and is this client in our hash buckets.
import { loadBalanceKey } from '../failover';
import type { RequestContext, Services } from './context';

/**
 * Why this server stays silent for a client looking for a lease in a failover pool, or null to answer.
 * Asked for DISCOVERs and for REQUESTs that name no server and carry no ciaddr (INIT-REBOOT): a client
 * that renews or rebinds talks to whichever server it can reach, and SELECTING names its server.
 */
export function pairSilence(ctx: RequestContext, svc: Services): 'failover-not-serving' | 'failover-peer-bucket' | null {
  const pair = svc.pair;
  if (pair === null || !ctx.pool.ranges.some((r) => r.failover !== undefined)) return null;
  const service = pair.service();
  // A pool with ranges of our own as well is still served from those: let the allocator say.
  if (service === 'none') return ctx.pool.ranges.every((r) => r.failover !== undefined) ? 'failover-not-serving' : null;
  const key = loadBalanceKey(ctx.client.clientId ?? undefined, ctx.request.chaddr, ctx.request.hlen);
  return pair.answersClient(key, ctx.request.secs) ? null : 'failover-peer-bucket';
}
