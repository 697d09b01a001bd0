// CPU per exchange of the packet path alone, in process: the warm-up's throwaway server (real codec,
// allocator, lease owner and handlers, an in-memory SQLite store, no sockets, no fsync, no ping) runs
// DISCOVER + REQUEST exchanges through relay-style requests, and process.cpuUsage() is read around it.
// Steadier than a run under perfdhcp (no kernel, no disk), so it shows what a change of the TypeScript
// costs. Two builds can be compared in one run, alternating, each its median:
//
//   npm run build && node dist/bench/packet-path.js                       this build
//   node dist/bench/packet-path.js /path/to/other/dist dist               A/B, ratio of the medians
//
// ROUNDS (default 5) and EXCHANGES (default 40000) in the environment; CONFIG_DIR, a configuration
// directory of your own instead of the /16 below (to weigh a feature: the same directory with it off
// and on).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type WarmUp = (config: unknown, budgetMs: number, maxExchanges: number) => Promise<{ exchanges: number } | null>;
type LoadConfig = (dir: string, opts: object) => { ok: true; config: unknown } | { ok: false; problems: unknown[] };

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const EXCHANGES = Number(process.env.EXCHANGES ?? 40_000);

/** A /16 with one large range of ours, as the bench's servers have. */
function configDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'joind-packet-path-'));
  fs.writeFileSync(path.join(dir, 'server.pcy'), 'ping_timeout 0\ndefault_ttl 3600\n');
  fs.writeFileSync(path.join(dir, 'netmasks'), '10.0.0.0 255.255.0.0\n');
  fs.writeFileSync(path.join(dir, 'nets'), '10.0.0.0 10.0.0.1 10.0.1.0-10.0.250.255\n');
  fs.writeFileSync(path.join(dir, 'dhcpcap'), 'net:nw=10.0.0.0:sm=255.255.0.0:gw=10.0.0.1:lt=3600:\n');
  return dir;
}

async function measure(dist: string, dir: string): Promise<number> {
  /* eslint-disable @typescript-eslint/no-require-imports -- a build chosen at run time has no import form */
  const { loadConfig } = require(path.resolve(dist, 'src/config/load.js')) as { loadConfig: LoadConfig };
  const { warmUp } = require(path.resolve(dist, 'src/server/warm-up.js')) as { warmUp: WarmUp };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const loaded = loadConfig(dir, { self: { hostname: 'bench', addresses: [0x0a000001] } });
  if (!loaded.ok) throw new Error(`bench configuration refused: ${JSON.stringify(loaded.problems)}`);
  await warmUp(loaded.config, 60_000, 3_000); // the JIT first
  const before = process.cpuUsage();
  const result = await warmUp(loaded.config, 600_000, EXCHANGES);
  const used = process.cpuUsage(before);
  if (!result) throw new Error('no exchange ran');
  return (used.user + used.system) / result.exchanges;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  const builds = process.argv.length > 2 ? process.argv.slice(2) : [path.resolve(__dirname, '..')];
  const dir = process.env.CONFIG_DIR ?? configDir();
  const samples = builds.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, dist] of builds.entries()) samples[i]!.push(await measure(dist, dir));
  }
  const medians = samples.map(median);
  for (const [i, dist] of builds.entries()) {
    const runs = samples[i]!.map((x) => x.toFixed(1)).join(' ');
    console.log(`${dist}: ${medians[i]!.toFixed(1)} µs per exchange (median of ${ROUNDS}: ${runs})`);
  }
  if (builds.length === 2) console.log(`ratio second/first: ${(medians[1]! / medians[0]!).toFixed(3)}`);
  if (!process.env.CONFIG_DIR) fs.rmSync(dir, { recursive: true, force: true });
}

void main();
