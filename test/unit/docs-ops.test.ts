import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ADMIN_COMMANDS } from '../../src/cli/admin-names';
import { POLICY_KEYWORDS } from '../../src/config/pcy';
import { CAP_TAGS } from '../../src/config/tags';
import type { TransportStats } from '../../src/io/transport';
import { createMetrics } from '../../src/metrics/metrics';
import { emptyServerCounters } from '../../src/server/server';

// dist/test/unit → the repository root.
const DOCS = path.join(__dirname, '..', '..', '..', 'docs');
const read = (name: string): string => fs.readFileSync(path.join(DOCS, name), 'utf8');

test('docs: a page per subcommand and per configuration file', () => {
  for (const name of ADMIN_COMMANDS) assert.ok(fs.existsSync(path.join(DOCS, `joind-${name}.md`)), `docs/joind-${name}.md`);
  for (const file of ['joind.md', 'server.pcy.md', 'nets.md', 'netmasks.md', 'dhcpcap.md', 'namepool.md', 'joind-metrics.md']) {
    assert.ok(fs.existsSync(path.join(DOCS, file)), `docs/${file}`);
  }
});

test('docs: every server.pcy keyword and every dhcpcap tag is documented', () => {
  const pcy = read('server.pcy.md');
  for (const word of POLICY_KEYWORDS.keys()) assert.ok(pcy.includes(`\`${word}\``), `server.pcy.md lacks ${word}`);
  const cap = read('dhcpcap.md');
  for (const tag of CAP_TAGS.keys()) assert.ok(cap.includes(`| \`${tag}\` |`), `dhcpcap.md lacks tag ${tag}`);
});

test('docs: every metric series is in joind-metrics.md', async () => {
  // Every series is registered whatever the sources answer (with or without a failover relationship).
  const registry = createMetrics({
    counters: emptyServerCounters,
    allocator: () => ({ pingChecks: 0, pingConflicts: 0, abandoned: 0, declined: 0, offersWithoutAddress: 0, bootpExtended: 0 }),
    store: () => ({ commits: 0, committedWrites: 0, rollbacks: 0, syncs: 0, inlineSyncs: 0, checkpoints: 0, publishes: 0 }),
    storeWritable: () => true,
    transport: () => ({}) as TransportStats,
    networks: () => [],
    failover: () => null,
    ddns: () => ({
      enabled: false,
      server: null,
      key: null,
      queued: 0,
      inFlight: 0,
      pacedPerSecond: null,
      updated: 0,
      removed: 0,
      conflicts: 0,
      failures: 0,
      jobs: [],
    }),
  });
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  assert.ok(names.includes('joind_failover_state'), 'the failover series are registered even without a relationship');
  const doc = read('joind-metrics.md');
  for (const name of names) assert.ok(doc.includes(`\`${name}\``), `joind-metrics.md lacks ${name}`);
});
