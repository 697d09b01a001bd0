// Load balancing between failover peers: the RFC 3074 hash of a client into one of 256 buckets, and the
// hash bucket assignment (HBA) that says which peer answers the clients of each bucket.
//
// Interop facts encoded here (ISC DHCP 4.4.3):
// - The hash is RFC 3074's Pearson hash with its mixing table (section 6), as server/failover.c
//   loadb_p_hash computes it: start from the key length (mod 256), then mix in the key's bytes from
//   the last to the first. Kea's HA hook (query_filter.cc) computes the same.
// - The key (load_balance_mine): the bytes of DHCP option 61 when the client sent it, else
//   chaddr[0..hlen) — the hardware address alone, without the htype byte.
// - Bucket b is hba[b >> 3] & (1 << (b & 7)); a set bit means the PRIMARY answers (load_balance_mine
//   returns the bit for the primary and its negation for the secondary). Draft-12 section 12.11 says a
//   set bit is the secondary's: ISC's polarity is the one on the wire, and the one used here.
// - `split N` in dhcpd.conf sets buckets 0..N-1 (server/confpars.c, parse_failover_peer), so split 128
//   is 16 bytes of 0xff then 16 of 0x00, and the primary answers the buckets below N. Only the primary
//   configures it; the secondary takes the HBA from the CONNECT message.

import { HBA_SIZE } from './names';

/** RFC 3074 section 6: a permutation of 0..255. */
const MIXING_TABLE = Uint8Array.from([
  251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232, 31, 32, 55, 60, 152, 58, 17, 237, 174, 70, 160, 144,
  220, 90, 57, 223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243, 124, 95, 222, 179, 197, 65, 180, 48, 36, 15, 107, 46, 233, 130,
  165, 30, 123, 161, 209, 23, 97, 16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67, 207, 9, 178, 204,
  74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25, 226, 227, 199, 75, 27, 41, 245,
  230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115, 241, 73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221,
  148, 154, 122, 12, 84, 82, 163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239, 195, 42, 106, 198, 118, 112,
  184, 172, 87, 2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164, 102, 147, 45, 66, 231, 52, 141, 211, 194, 206, 246, 238, 56,
  110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171, 72, 50, 33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125,
  188, 213, 96, 235, 136, 208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4, 216, 131, 89, 21, 28, 133, 37, 153, 149, 80,
  170, 68, 6, 169, 234, 151,
]);

/** The RFC 3074 bucket (0..255) of a key. */
export function loadBalanceHash(key: Uint8Array): number {
  let hash = key.length & 0xff;
  for (let i = key.length - 1; i >= 0; i--) hash = MIXING_TABLE[hash ^ key[i]!]!;
  return hash;
}

/**
 * The bytes dhcpd hashes for a client: option 61's value when the client sent one (even empty), else the
 * first hlen bytes of chaddr (the hardware address, no htype). hlen is clamped to chaddr's length.
 */
export function loadBalanceKey(clientIdentifier: Uint8Array | undefined, chaddr: Uint8Array, hlen: number): Uint8Array {
  if (clientIdentifier !== undefined) return clientIdentifier;
  return chaddr.subarray(0, Math.max(0, Math.min(hlen, chaddr.length)));
}

/** The HBA of `split N` (0..256): buckets 0..N-1 set, i.e. answered by the primary. */
export function hbaFromSplit(split: number): Buffer {
  if (!Number.isInteger(split) || split < 0 || split > 256) throw new RangeError(`split ${split} is not in 0..256`);
  const hba = Buffer.alloc(HBA_SIZE);
  for (let bucket = 0; bucket < split; bucket++) hba[bucket >> 3]! |= 1 << (bucket & 7);
  return hba;
}

/** Whether bucket b (0..255) is the primary's in this HBA. */
export function bucketIsPrimary(hba: Uint8Array, bucket: number): boolean {
  if (hba.length !== HBA_SIZE) throw new RangeError(`an HBA is ${HBA_SIZE} bytes, not ${hba.length}`);
  return (hba[(bucket >> 3) & 0x1f]! & (1 << (bucket & 7))) !== 0;
}

/** Whether the client whose load-balancing key is `key` (see loadBalanceKey) is the primary's. */
export function isPrimaryBucket(hba: Uint8Array, key: Uint8Array): boolean {
  return bucketIsPrimary(hba, loadBalanceHash(key));
}
