// Which server of a failover pair answers a client looking for a lease (draft-12 section 5.3, RFC 3074;
// dhcpd's load_balance_mine in dhcpdiscover and dhcprequest). Only the packet path's two questions:
// may we serve this pool at all, and is this client in our hash buckets.
import { loadBalanceKey } from '../failover';
import type { LeaseRecord } from '../store/types';
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
  return pair.answersClient(key, clientSecs(ctx)) ? null : 'failover-peer-bucket';
}

/**
 * The client's secs, read as dhcpd's load_balance_mine does with SECS_BYTEORDER: a value with a high byte
 * and no low byte was written in the wrong byte order (some old stacks do), so 0x0100 is 1 s, not 256.
 * It weighs in failover: past failover_unacked_secs a client is evidence that the peer is down.
 */
function clientSecs(ctx: RequestContext): number {
  const secs = ctx.request.secs;
  return secs > 255 && (secs & 0xff) === 0 ? secs >> 8 : secs;
}

/**
 * Evidence for partner-down in a REQUEST about an address of a failover range: a client REBINDING (it
 * broadcasts, or comes through a relay, after the server that granted its lease stopped answering its
 * renewals), or one still asking for another server's offer (`selecting`). The engine counts it only
 * in communications-interrupted; a renewal sent to us is no evidence (we granted that lease).
 */
export function notePeerNotServing(ctx: RequestContext, svc: Services, address: number, selecting: boolean): void {
  const pair = svc.pair;
  if (pair === null || !ctx.pool.isPaired(address)) return;
  if (!selecting) {
    const dst = ctx.inbound.dstIp;
    // Unicast to one of our addresses, from the client itself: RENEWING with us. Unknown: no evidence.
    if (!ctx.relayed && (dst === undefined || svc.isOurServerId(dst))) return;
  }
  const key = loadBalanceKey(ctx.client.clientId ?? undefined, ctx.request.chaddr, ctx.request.hlen);
  pair.peerNotServing(key, selecting ? clientSecs(ctx) : null);
}

/**
 * Whether a REQUEST about an address of a failover range must go unanswered because this server serves
 * nobody in its failover state (startup, recover, recover-wait, …: dhcpd's "not responding
 * (recovering)"). Neither ACK nor NAK: what this server knows of the range may be incomplete until it
 * has synchronised with its peer, and the client keeps its lease and retries, or the peer answers.
 */
export function pairNotServing(ctx: RequestContext, svc: Services, address: number | undefined): boolean {
  const pair = svc.pair;
  if (pair === null || address === undefined || !ctx.pool.isPaired(address)) return false;
  return pair.service() === 'none';
}

/**
 * The seconds a client may be told of its failover lease, or null when the whole lease may be told.
 * A lease may run at most the MCLT beyond what the peer has acknowledged (draft-12 section 5.2.4): the
 * owner wrote the full lease and sent it to the peer; here the grant waits (failover_ack_wait, bounded)
 * for the peer's acknowledgement, and past the wait tells the client only what is covered (an
 * MCLT-long lease, as dhcpd gives; the full one follows at its renewal).
 */
export async function pairLeaseLimit(svc: Services, record: LeaseRecord, nowSec: number): Promise<number | null> {
  const pair = svc.pair;
  if (pair === null || !record.peerPending || record.ends === null || record.tstp === undefined || record.tstp === null)
    return null;
  const covered = Math.max(nowSec, record.tsfp ?? 0) + pair.mclt();
  if (record.ends <= covered) return null;
  if (await pair.awaitAck(record.address, record.tstp, pair.ackWaitMs())) return null;
  return covered - nowSec;
}
