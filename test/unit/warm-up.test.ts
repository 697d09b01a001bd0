// The start-up warm-up (src/server/warm-up.ts): complete exchanges through a throwaway server, bounded,
// and nothing of it in the real store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load';
import { warmUp } from '../../src/server/warm-up';
import { Store } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';
import { BASE_FILES, writeConfig } from '../flow/harness';

function config(overrides: Record<string, string> = {}) {
  const loaded = loadConfig(writeConfig({ ...BASE_FILES, ...overrides }), {
    self: { hostname: 'warm', addresses: [ip('10.77.1.1')] },
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.config;
}

test('warm-up: DORA exchanges to the end of the first range, within its budget, none in the real store', async () => {
  const spoolDir = tempDir();
  const real = Store.open({ spoolDir, durable: false });
  // The base configuration's first range holds 10 addresses (10.77.1.100-109); ping on, naming by IP on,
  // registered clients only: the warm-up must exercise the grant path anyway, and reach nothing outside.
  const result = await warmUp(config({ 'server.pcy': 'ping_timeout 500\nassign_name_by_ipaddr on\nregistered_clients_only\n' }));
  assert.ok(result, 'a network with a range: warmed');
  assert.equal(result.exchanges, 10, 'every address of the range, each a complete exchange with its ACK');
  assert.ok(result.ms < 1000, `${result.ms} ms`);
  assert.equal([...real.leases.all()].length, 0, 'the real store saw nothing');
  real.close();

  const bounded = await warmUp(config({ nets: '10.77.1.0 10.77.1.1 10.77.1.2-10.77.1.250\n' }), 10_000, 40);
  assert.equal(bounded?.exchanges, 40, 'stops at the exchange limit');
});

test('warm-up: nothing to do without a range of ours', async () => {
  // Every range belongs to another server (10.77.1.99 owns them).
  const others =
    '10.77.1.0 10.77.1.99 10.77.1.100-10.77.1.109\n10.77.2.0 10.77.1.99 10.77.2.100-10.77.2.109\n10.77.3.0 10.77.1.99 10.77.3.100-10.77.3.109\n';
  assert.equal(await warmUp(config({ nets: others })), null);
});
