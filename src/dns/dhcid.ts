// The DHCID record (RFC 4701): who owns a name in DNS. RFC 4703's update sequences put it beside the
// A and PTR records; another client's name is never taken over because its DHCID differs. The rdata is
// the identifier type (2 octets), the digest type (1 = SHA-256) and SHA-256(identifier || FQDN in
// canonical wire form), so the same client and name give the same bytes in any server: Kea's and
// ours are interchangeable.
import { createHash, hash } from 'node:crypto';
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
  // One-shot: a DHCID is computed in the batch of every named lease, and a Hash object costs more.
  const digest = hash('sha256', Buffer.concat([id, nameBytes(fqdn.toLowerCase())]), 'buffer');
  const out = Buffer.alloc(3 + digest.length);
  out.writeUInt16BE(type, 0);
  out[2] = DIGEST_SHA256;
  digest.copy(out, 3);
  return out;
}

const HEX = '0123456789abcdef';

/**
 * ISC dhcpd's `interim` guard: a TXT record whose one string is two "type" characters and the hex MD5
 * of the client's identifier, so that joind recognises the names a dhcpd in interim style wrote (and
 * writes what it would). The identifier is the whole option 61 when the client sent one (type 61,
 * which dhcpd writes as "31": its second character is type % 15, a slip dhcpd keeps so as not to
 * orphan its users' records), else the htype octet and chaddr (type 0, "00"). No RFC describes it;
 * the byte-for-byte comparison is in test/system/ddns-dhcpd-interim.test.sh.
 */
export function interimTxtRdata(clientId: Buffer | undefined, htype: number, chaddr: Buffer): Buffer {
  const clientIdentified = clientId !== undefined && clientId.length > 0;
  const type = clientIdentified ? 61 : 0;
  const id = clientIdentified ? clientId : Buffer.concat([Buffer.from([htype & 0xff]), chaddr]);
  const text = HEX[(type >> 4) & 0xf]! + HEX[type % 15]! + createHash('md5').update(id).digest('hex');
  // TXT rdata: one character-string, its length first.
  return Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'ascii')]);
}
