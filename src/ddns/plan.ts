// The RFC 4703 update sequences (section 5), as RFC 2136 UPDATE requests. The guard record (a DHCID,
// RFC 4701) sits beside the A record and says which client owns the name; every sequence is
// conditional on it, so joind never overwrites a name another client (or an administrator) holds:
//
//  add:     1. the name is not in use → add A and the guard.
//           2. if it is (YXDOMAIN): the guard is ours → replace the A RRset. NXRRSET: someone else's
//              name, a conflict; nothing is changed and no PTR is written.
//  reverse: replace the PTR RRset of the address (and its guard) without prerequisite: an address
//           belongs to one lease at a time, and the lease is ours.
//  remove:  1. the guard is ours → delete our A record; 2. the guard is ours and no A or AAAA is left →
//           delete the name; then the PTR, if it still names our FQDN.
import { DnsClass, DnsType, aRdata, nameRdata, type ResourceRecord, type UpdateRequest } from '../dns/message';
import { ipToString } from '../util/ipv4';

/** The guard of a name: a DHCID (standard style) or ISC dhcpd's interim TXT. */
export interface Guard {
  type: typeof DnsType.DHCID | typeof DnsType.TXT;
  rdata: Buffer;
}

/** What one lease puts in DNS. */
export interface LeaseName {
  fqdn: string;
  address: number;
  guard: Guard;
  ttl: number;
}

const EMPTY = Buffer.alloc(0);

function rr(name: string, type: number, klass: number, ttl = 0, rdata: Buffer = EMPTY): ResourceRecord {
  return { name, type, class: klass, ttl, rdata };
}

/** The PTR owner of an address: "4.3.2.1.in-addr.arpa" for 1.2.3.4. */
export function reverseName(address: number): string {
  return ipToString(address).split('.').reverse().join('.') + '.in-addr.arpa';
}

/**
 * TTL of the records of a lease of `leaseSeconds` (null: no end): a third of the lease, so that a name
 * outlives a lost client by little (it renews at half), between 60 s and one hour (RFC 4702 5 asks
 * for a TTL no longer than the lease; dhcpd caps at an hour too).
 */
export function recordTtl(leaseSeconds: number | null): number {
  if (leaseSeconds === null) return 3600;
  return Math.min(3600, Math.max(60, Math.floor(leaseSeconds / 3)));
}

/** Add step 1: the name is not in use → A and guard. */
export function addName(id: number, zone: string, name: LeaseName): UpdateRequest {
  return {
    id,
    zone,
    prerequisites: [rr(name.fqdn, DnsType.ANY, DnsClass.NONE)],
    updates: [
      rr(name.fqdn, DnsType.A, DnsClass.IN, name.ttl, aRdata(name.address)),
      rr(name.fqdn, name.guard.type, DnsClass.IN, name.ttl, name.guard.rdata),
    ],
  };
}

/** Add step 2: the name is in use and its guard is ours → our address replaces the A RRset. */
export function replaceName(id: number, zone: string, name: LeaseName): UpdateRequest {
  return {
    id,
    zone,
    prerequisites: [rr(name.fqdn, DnsType.ANY, DnsClass.ANY), rr(name.fqdn, name.guard.type, DnsClass.IN, 0, name.guard.rdata)],
    updates: [rr(name.fqdn, DnsType.A, DnsClass.ANY), rr(name.fqdn, DnsType.A, DnsClass.IN, name.ttl, aRdata(name.address))],
  };
}

/** The address's PTR names our FQDN (with the guard beside it in the standard style, as Kea writes). */
export function setReverse(id: number, zone: string, name: LeaseName): UpdateRequest {
  const owner = reverseName(name.address);
  const updates = [rr(owner, DnsType.PTR, DnsClass.ANY), rr(owner, DnsType.PTR, DnsClass.IN, name.ttl, nameRdata(name.fqdn))];
  if (name.guard.type === DnsType.DHCID) {
    updates.splice(1, 0, rr(owner, DnsType.DHCID, DnsClass.ANY));
    updates.push(rr(owner, DnsType.DHCID, DnsClass.IN, name.ttl, name.guard.rdata));
  }
  return { id, zone, prerequisites: [], updates };
}

/** Remove step 1: the guard is ours → our A record goes (another A of the name stays). */
export function removeAddress(id: number, zone: string, name: LeaseName): UpdateRequest {
  return {
    id,
    zone,
    prerequisites: [rr(name.fqdn, name.guard.type, DnsClass.IN, 0, name.guard.rdata)],
    updates: [rr(name.fqdn, DnsType.A, DnsClass.NONE, 0, aRdata(name.address))],
  };
}

/** Remove step 2: the guard is ours and no address is left → the whole name goes. */
export function removeName(id: number, zone: string, name: LeaseName): UpdateRequest {
  return {
    id,
    zone,
    prerequisites: [
      rr(name.fqdn, name.guard.type, DnsClass.IN, 0, name.guard.rdata),
      rr(name.fqdn, DnsType.A, DnsClass.NONE),
      rr(name.fqdn, DnsType.AAAA, DnsClass.NONE),
    ],
    updates: [rr(name.fqdn, DnsType.ANY, DnsClass.ANY)],
  };
}

/** The PTR of the address goes, if it still names our FQDN. */
export function removeReverse(id: number, zone: string, name: LeaseName): UpdateRequest {
  const owner = reverseName(name.address);
  return {
    id,
    zone,
    prerequisites: [rr(owner, DnsType.PTR, DnsClass.IN, 0, nameRdata(name.fqdn))],
    updates: [rr(owner, DnsType.ANY, DnsClass.ANY)],
  };
}
