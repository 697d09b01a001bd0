// The RFC 3074 load-balancing hash and the HBA (src/failover/hash.ts). The expected buckets were computed
// by ISC dhcpd 4.4.3's own loadb_p_hash (server/failover.c at tag v4_4_3, compiled alone as an oracle);
// RFC 3074 itself gives the mixing table but no test vectors. The HBA of `split N` follows
// server/confpars.c: buckets 0..N-1 set, and a set bit is the primary's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketIsPrimary, hbaFromSplit, isPrimaryBucket, loadBalanceHash, loadBalanceKey } from '../../src/failover';

const hex = (text: string): Buffer => Buffer.from(text.replace(/[\s:]/g, ''), 'hex');
const sequence = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => i & 0xff));

test('buckets as dhcpd 4.4.3 computes them', () => {
  const vectors: Array<[Buffer, number]> = [
    [Buffer.alloc(0), 0],
    [hex('0e'), 232], // ISC's own unit test key (server/tests/load_bal_unittest.c)
    [hex('00:11:22:33:44:55'), 135],
    [hex('01 00:11:22:33:44:55'), 223], // the same MAC as an option 61 client identifier
    [Buffer.from('abcdef012345'), 93],
    [hex('52:54:00:12:34:56'), 156],
    [hex('ff:ff:ff:ff:ff:ff'), 79],
    [hex('00:00:00:00:00:00'), 254],
    [hex('0102030405060708090a'), 208],
    [sequence(16), 155],
    [sequence(255), 188],
    [sequence(256), 152], // the length enters the hash modulo 256
    [sequence(300), 79],
    [Buffer.alloc(256, 0xff), 90],
    [Buffer.alloc(1000, 0), 77],
  ];
  for (const [key, bucket] of vectors) assert.equal(loadBalanceHash(key), bucket, key.toString('hex'));
});

test('the mixing table is RFC 3074s permutation', () => {
  // A one-byte key k hashes to table[1 ^ k]: all 256 keys give 256 different buckets.
  const buckets = new Set<number>();
  for (let k = 0; k < 256; k++) buckets.add(loadBalanceHash(Buffer.from([k])));
  assert.equal(buckets.size, 256);
  // The table's first and last entries (RFC 3074 section 6): 251 ... 151.
  assert.equal(loadBalanceHash(hex('01')), 251);
  assert.equal(loadBalanceHash(hex('fe')), 151);
});

test('hbaFromSplit sets buckets 0..N-1, as dhcpd.conf `split N`', () => {
  assert.deepEqual(hbaFromSplit(0), Buffer.alloc(32));
  assert.deepEqual(hbaFromSplit(256), Buffer.alloc(32, 0xff));
  assert.deepEqual(hbaFromSplit(128), Buffer.concat([Buffer.alloc(16, 0xff), Buffer.alloc(16)]));
  assert.deepEqual(hbaFromSplit(5), Buffer.concat([hex('1f'), Buffer.alloc(31)]));
  assert.deepEqual(hbaFromSplit(9), Buffer.concat([hex('ff01'), Buffer.alloc(30)]));
  for (const bad of [-1, 257, 1.5, Number.NaN]) assert.throws(() => hbaFromSplit(bad), RangeError);
});

test('a set bit is the primary: bucket b is hba[b >> 3] bit (b & 7)', () => {
  const half = hbaFromSplit(128);
  assert.equal(bucketIsPrimary(half, 0), true);
  assert.equal(bucketIsPrimary(half, 127), true);
  assert.equal(bucketIsPrimary(half, 128), false);
  assert.equal(bucketIsPrimary(half, 255), false);
  const one = Buffer.alloc(32);
  one[20] = 0x08; // bucket 20 * 8 + 3 = 163
  for (let b = 0; b < 256; b++) assert.equal(bucketIsPrimary(one, b), b === 163, `bucket ${b}`);
  assert.throws(() => bucketIsPrimary(Buffer.alloc(31), 0), RangeError);

  assert.equal(isPrimaryBucket(half, hex('00:11:22:33:44:55')), false); // bucket 135
  assert.equal(isPrimaryBucket(half, Buffer.from('abcdef012345')), true); // bucket 93
  assert.equal(isPrimaryBucket(hbaFromSplit(136), hex('00:11:22:33:44:55')), true);
  assert.equal(isPrimaryBucket(hbaFromSplit(135), hex('00:11:22:33:44:55')), false);
});

test('the key is option 61 when present, else chaddr[0..hlen) without htype', () => {
  const chaddr = Buffer.concat([hex('00:11:22:33:44:55'), Buffer.alloc(10)]);
  assert.deepEqual(loadBalanceKey(undefined, chaddr, 6), hex('00:11:22:33:44:55'));
  assert.deepEqual(loadBalanceKey(hex('01 00:11:22:33:44:55'), chaddr, 6), hex('01 00:11:22:33:44:55'));
  assert.deepEqual(loadBalanceKey(Buffer.alloc(0), chaddr, 6), Buffer.alloc(0));
  assert.equal(loadBalanceKey(undefined, chaddr, 40).length, 16);
  assert.equal(loadBalanceKey(undefined, chaddr, 0).length, 0);
  assert.equal(loadBalanceHash(loadBalanceKey(undefined, chaddr, 6)), 135);
});

test('split 128 shares random clients about evenly', () => {
  const half = hbaFromSplit(128);
  let state = 12345;
  let primary = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const mac = Buffer.alloc(6);
    for (let j = 0; j < 6; j++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      mac[j] = state >>> 24;
    }
    if (isPrimaryBucket(half, mac)) primary++;
  }
  assert.ok(primary > n * 0.45 && primary < n * 0.55, `${primary} of ${n}`);
});
