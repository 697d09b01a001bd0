// The DHCID record (RFC 4701): who owns a name in DNS. RFC 4703's update sequences put it beside the
// A and PTR records; another client's name is never taken over because its DHCID differs. The rdata is
// the identifier type (2 octets), the digest type (1 = SHA-256) and SHA-256(identifier || FQDN in
// canonical wire form), so the same client and name give the same bytes in any server: Kea's and
// ours are interchangeable.
import { createHash } from 'node:crypto';
import { nameBytes } from './message';

/** What identifies the client (RFC 4701 3.3). */
export type DhcidIdentifier =
  /** Identifier type 0: no client identifier; the htype octet and chaddr. */
  | { kind: 'hwaddr'; htype: number; chaddr: Buffer }
  /** Type 1: the whole DHCPv4 client identifier option (61) value, its type octet included. */
  | { kind: 'client-id'; clientId: Buffer }
  /** Type 2: a DUID (RFC 4361 client identifiers carry one after the type 255 and the IAID). */
  | { kind: 'duid'; duid: Buffer };

const DIGEST_SHA256 = 1;

/**
 * The identifier for a DHCPv4 client: its option 61 when it sent one (as a DUID when the option is an
 * RFC 4361 identifier: type 255, a 4-octet IAID, then the DUID), otherwise htype and chaddr.
 */
export function dhcidIdentifierOf(clientId: Buffer | undefined, htype: number, chaddr: Buffer): DhcidIdentifier {
  if (clientId && clientId.length > 0) {
    if (clientId[0] === 255 && clientId.length > 5) return { kind: 'duid', duid: clientId.subarray(5) };
    return { kind: 'client-id', clientId };
  }
  return { kind: 'hwaddr', htype, chaddr };
}

/** The DHCID rdata for this client and FQDN (absolute; trailing dot optional). */
export function dhcidRdata(identifier: DhcidIdentifier, fqdn: string): Buffer {
  let type: number;
  let id: Buffer;
  switch (identifier.kind) {
    case 'hwaddr':
      type = 0;
      id = Buffer.concat([Buffer.from([identifier.htype & 0xff]), identifier.chaddr]);
      break;
    case 'client-id':
      type = 1;
      id = identifier.clientId;
      break;
    case 'duid':
      type = 2;
      id = identifier.duid;
      break;
  }
  // Canonical wire form (RFC 4034 6.2): lower case, so the case a client types does not matter.
  const digest = createHash('sha256').update(id).update(nameBytes(fqdn.toLowerCase())).digest();
  const out = Buffer.alloc(3 + digest.length);
  out.writeUInt16BE(type, 0);
  out[2] = DIGEST_SHA256;
  digest.copy(out, 3);
  return out;
}
