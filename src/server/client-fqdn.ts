// The client FQDN option (81, RFC 4702): who updates what in DNS, as the client asked and as joind
// answers. joind honours the client as ISC dhcpd's `allow client-updates` does:
//
//   client N S   joind writes          reply N S O
//          0 1   A, guard and PTR            0 1 0
//          0 0   the PTR only (the client    0 0 0
//                writes its own A)
//          1 -   nothing                     1 0 0
//
// and answers N=1 whenever it writes nothing for the lease (no name of its assigning, or none to
// write). The reply carries the FQDN joind uses, in the client's encoding (E), with RCODE1/2 = 255 as
// RFC 4702 3.1 asks of servers. Without option 81 in the request there is none in the reply.
import { FQDN_FLAG_E, FQDN_FLAG_N, FQDN_FLAG_S, type ClientFqdn } from '../codec/options';

/** What joind puts in DNS for a lease: all of it, the PTR alone, or nothing. */
export type DnsUpdates = 'both' | 'reverse' | 'none';

export interface FqdnDecision {
  updates: DnsUpdates;
  /** Option 81 for the reply; undefined when the client sent none (or dynamic DNS is off). */
  reply: ClientFqdn | undefined;
}

/**
 * `asked`: the request's option 81, if any; `fqdn`: the name joind gives the lease in DNS (null: none);
 * `ddnsOn`: dynamic DNS is configured (without it joind says nothing of DNS, as dhcpd does).
 */
export function decideFqdn(asked: ClientFqdn | undefined, fqdn: string | null, ddnsOn: boolean): FqdnDecision {
  if (!ddnsOn) return { updates: 'none', reply: undefined };
  if (!asked) return { updates: fqdn ? 'both' : 'none', reply: undefined };
  let updates: DnsUpdates;
  if (!fqdn || (asked.flags & FQDN_FLAG_N) !== 0) updates = 'none';
  else updates = (asked.flags & FQDN_FLAG_S) !== 0 ? 'both' : 'reverse';
  const encoded = (asked.flags & FQDN_FLAG_E) !== 0;
  const flags = (encoded ? FQDN_FLAG_E : 0) | (updates === 'none' ? FQDN_FLAG_N : updates === 'both' ? FQDN_FLAG_S : 0);
  // The name joind uses; without one, the client's own back. Wire form marks a full name by its root
  // label (the trailing dot); ASCII form has no such mark (RFC 4702 2.3.1).
  const name = fqdn ? (encoded ? `${fqdn}.` : fqdn) : asked.name;
  return { updates, reply: { flags, rcode1: 255, rcode2: 255, name } };
}
