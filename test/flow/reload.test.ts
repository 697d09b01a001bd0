// A reload puts every setting it can in force at once. Whether to ping is decided in one place
// (src/alloc/ping-gate.ts) from the running ping_timeout, so a reload turns the check on and off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { Bed, FakeClient, makeBed, SERVER_A, SERVER_B, RELAY_SIDE } from './harness';

/** Rewrites server.pcy and applies the directory as the daemon's reload does. */
function reloadWith(bed: Bed, serverPcy: string): void {
  fs.writeFileSync(path.join(bed.configDir, 'server.pcy'), serverPcy);
  const loaded = loadConfig(bed.configDir, { self: { hostname: 'joind-test', addresses: [SERVER_A, SERVER_B, RELAY_SIDE] } });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  bed.server.applyConfig(loaded.config);
}

test('a reload that raises ping_timeout from 0 turns the ping check on, and back off', async () => {
  const bed = makeBed({ 'server.pcy': 'ping_timeout 0\n' });
  assert.equal(bed.server.pingEnabled, false);
  await FakeClient.withMac(bed, 1).discover();
  assert.deepEqual(bed.pinger.checked, [], 'ping_timeout 0: no ping');

  reloadWith(bed, 'ping_timeout 300\n');
  assert.equal(bed.server.pingEnabled, true);
  const offer = await FakeClient.withMac(bed, 2).discover();
  assert.deepEqual(bed.pinger.checked, [offer!.yiaddr], 'pinged before the offer');

  reloadWith(bed, 'ping_timeout 0\n');
  await FakeClient.withMac(bed, 3).discover();
  assert.equal(bed.pinger.checked.length, 1, 'off again');
  bed.close();
});

test('a ping socket opened after the start is used at once (the daemon opens one at such a reload)', async () => {
  const bed = makeBed({ 'server.pcy': 'ping_timeout 300\n' }, { pinger: false });
  assert.equal(bed.server.pingEnabled, false, 'no socket: no check');
  await FakeClient.withMac(bed, 1).discover();
  bed.server.setPinger(bed.pinger);
  assert.equal(bed.server.pingEnabled, true);
  const offer = await FakeClient.withMac(bed, 2).discover();
  assert.deepEqual(bed.pinger.checked, [offer!.yiaddr]);
  bed.close();
});

test('a reload applies the pool settings and the lease policy to the running pools', async () => {
  const bed = makeBed({ 'server.pcy': 'ping_timeout 0\nfree_list_size 4\n' });
  const pool = bed.server.poolOf(SERVER_A & 0xffffff00)!;
  await FakeClient.withMac(bed, 1).discover();
  assert.equal(pool.freeListLength(), 3);
  reloadWith(bed, 'ping_timeout 0\nfree_list_size 1\nauto_release\n');
  assert.equal(bed.server.poolOf(SERVER_A & 0xffffff00), pool, 'same ranges: the pool keeps its state');
  assert.equal(bed.server.currentConfig.policy.auto_release, true);
  bed.close();
});
