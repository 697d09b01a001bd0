import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/server/rate-limit';

const unknown = () => null;

test('rate limit: off by default; a bucket per interface holds one second and refills', () => {
  assert.equal(new RateLimiter(0, 0).active, false);
  const limiter = new RateLimiter(10, 0);
  let accepted = 0;
  for (let i = 0; i < 100; i++) if (limiter.admit('eth0', 0, 1000, unknown) === 'ok') accepted++;
  assert.equal(accepted, 10, 'a burst of one second');
  assert.equal(limiter.admit('eth1', 0, 1000, unknown), 'ok', 'each interface has its own bucket');
  assert.equal(limiter.admit('eth0', 0, 1000, unknown), 'rate-limit-interface');
  assert.equal(limiter.admit('eth0', 0, 1100, unknown), 'ok', '0.1 s later one token is back');
  assert.equal(limiter.admit('eth0', 0, 1100, unknown), 'rate-limit-interface');
  assert.equal(limiter.admit('eth0', 10, 1100, unknown), 'ok', 'relayed packets are not counted per interface');
});

test('rate limit: per relay, by giaddr; known clients get their own small bucket', () => {
  const limiter = new RateLimiter(0, 2);
  const giaddr = 0x0a000001;
  assert.equal(limiter.admit('eth0', giaddr, 0, unknown), 'ok');
  assert.equal(limiter.admit('eth0', giaddr, 0, unknown), 'ok');
  assert.equal(limiter.admit('eth0', giaddr, 0, unknown), 'rate-limit-relay');
  assert.equal(limiter.admit('eth0', giaddr + 1, 0, unknown), 'ok', 'another relay');
  let asked = 0;
  const known = () => (asked++, '1/02aabbccddee');
  let served = 0;
  for (let i = 0; i < 20; i++) if (limiter.admit('eth0', giaddr, 0, known) === 'ok') served++;
  assert.equal(served, 5, 'a known client over the limit still gets its own few packets a second');
  assert.equal(asked, 20, 'known is asked only over the limit');
  limiter.setLimits(0, 0);
  assert.equal(limiter.active, false);
});

test('rate limit: keys from the wire cannot grow the buckets without bound', () => {
  const limiter = new RateLimiter(0, 1);
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200_000; i++) limiter.admit(undefined, i + 1, i / 1000, unknown);
  assert.ok(process.memoryUsage().heapUsed - before < 50 * 1024 * 1024);
  const buckets = (limiter as unknown as { perRelay: { buckets: Map<number, unknown> } }).perRelay.buckets;
  assert.ok(buckets.size <= 4096, `${buckets.size} buckets`);
});
