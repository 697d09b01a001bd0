// A bench for the allocation modules on their own (no DhcpServer, no packets): a real configuration
// loaded from files in a temp directory, a real store in another, the lease owner, the ping gate over a
// fake pinger, and the allocator, all on a fake clock.
import fs from 'node:fs';
import path from 'node:path';
import { Allocator, type AllocatorEvent, type ClientContext } from '../../src/alloc/allocator';
import { keyString } from '../../src/alloc/client-key';
import { LeaseOwner } from '../../src/alloc/lease-owner';
import { PingGate, type PingChecker } from '../../src/alloc/ping-gate';
import type { NetworkPool } from '../../src/alloc/pool';
import { loadConfig } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { ClientKey, LeaseRecord, LeaseState, Store } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import { tempDir } from './tmp';

/** One temporary directory for the whole file (one exit handler), a fresh subdirectory per use. */
let root: string | undefined;
function freshDir(prefix: string): string {
  root ??= tempDir('joind-alloc-');
  return fs.mkdtempSync(path.join(root, prefix));
}

export const NET_A = ip('10.9.1.0');
export const NET_B = ip('10.9.2.0');
/** A network of another server (its owner is not us): no pool. */
export const NET_C = ip('10.9.3.0');
export const SELF = { hostname: 'joind-unit', addresses: [ip('10.9.1.1'), ip('10.9.2.1')] };
/** The address of the dhcpcap host entry `fixed` (ha 02:09:00:00:01:63): reserved in network A's range. */
export const FIXED = ip('10.9.1.12');

/** Network A: .10-.15 (.12 reserved for `fixed`); B: .10-.11; C: another server's. */
export const BASE_FILES: Record<string, string> = {
  'server.pcy': 'ping_timeout 0\nprovisional_ttl 60\nfree_list_size 2\n',
  netmasks: '10.9.1.0 255.255.255.0\n10.9.2.0 255.255.255.0\n10.9.3.0 255.255.255.0\n',
  nets: '10.9.1.0 10.9.1.1 10.9.1.10-10.9.1.15\n10.9.2.0 10.9.1.1 10.9.2.10-10.9.2.11\n10.9.3.0 10.9.3.99 10.9.3.10-10.9.3.20\n',
  dhcpcap: [
    'neta:nw=10.9.1.0:sm=255.255.255.0:gw=10.9.1.1:',
    'netb:nw=10.9.2.0:sm=255.255.255.0:gw=10.9.2.1:',
    'netc:nw=10.9.3.0:sm=255.255.255.0:gw=10.9.3.1:',
    'fixed:ht=1:ha=020900000163:ip=10.9.1.12:',
    '',
  ].join('\n'),
};

/** Loads a configuration written from strings (file name → content) over BASE_FILES. */
export function configOf(overrides: Record<string, string> = {}): Config {
  const dir = freshDir('config-');
  for (const [name, content] of Object.entries({ ...BASE_FILES, ...overrides })) fs.writeFileSync(path.join(dir, name), content);
  const loaded = loadConfig(dir, { self: SELF });
  if (!loaded.ok) throw new Error(`test configuration invalid: ${JSON.stringify(loaded.problems)}`);
  return loaded.config;
}

/** Addresses that answer the ping; a test may hold every check until it opens the gate. */
export class FakePinger implements PingChecker {
  readonly alive = new Set<number>();
  readonly checked: Array<{ address: number; timeoutMs: number }> = [];
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;

  async check(address: number, timeoutMs: number): Promise<boolean> {
    this.checked.push({ address, timeoutMs });
    if (this.gate) await this.gate;
    return this.alive.has(address);
  }

  /** The addresses pinged so far, in order. */
  get addresses(): number[] {
    return this.checked.map((c) => c.address);
  }

  /** From now on, checks wait until release() is called. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = null;
  }
}

export interface AllocBed {
  config: Config;
  store: Store;
  owner: LeaseOwner;
  allocator: Allocator;
  ping: PingGate;
  pinger: FakePinger;
  /** Milliseconds since 1970; tests move it. */
  clock: { now: number };
  /** The values the ping gate and the allocator read at each use: ping_timeout (ms), bp_auto_extension (s). */
  knobs: { pingTimeoutMs: number; bootpExtension: number; autoRelease: boolean };
  events: Array<{ event: AllocatorEvent; network: number; address?: number }>;
  poolA: NetworkPool;
  poolB: NetworkPool;
  nowSec(): number;
  close(): void;
}

export interface BedOptions {
  files?: Record<string, string>;
  pingTimeoutMs?: number;
  bootpExtension?: number;
  autoRelease?: boolean;
  /** false: the ping gate has no pinger at all. */
  pinger?: boolean;
  /** The spool directory to open (a store left by an earlier bed); default a fresh one. */
  spoolDir?: string;
}

export function makeAllocBed(opts: BedOptions = {}): AllocBed {
  const config = configOf(opts.files);
  const store = Store.open({ spoolDir: opts.spoolDir ?? freshDir('spool-'), durable: false });
  const knobs = {
    pingTimeoutMs: opts.pingTimeoutMs ?? 0,
    bootpExtension: opts.bootpExtension ?? 0,
    autoRelease: opts.autoRelease ?? false,
  };
  const owner = new LeaseOwner(store, () => knobs.autoRelease);
  owner.configure(config);
  const pinger = new FakePinger();
  const ping = new PingGate(opts.pinger === false ? null : pinger, () => knobs.pingTimeoutMs);
  const clock = { now: Date.UTC(2026, 10, 23, 12, 0, 0) };
  const allocator = new Allocator(
    store,
    owner,
    ping,
    () => clock.now,
    () => knobs.bootpExtension,
  );
  const events: AllocBed['events'] = [];
  allocator.onEvent = (event, detail) => events.push({ event, ...detail });
  return {
    config,
    store,
    owner,
    allocator,
    ping,
    pinger,
    clock,
    knobs,
    events,
    poolA: owner.poolOf(NET_A)!,
    poolB: owner.poolOf(NET_B)!,
    nowSec: () => Math.floor(clock.now / 1000),
    close: () => store.close(),
  };
}

/** The hardware address of test client n. */
export function macOf(n: number): Buffer {
  return Buffer.from([0x02, 0x09, 0, 0, 1, n]);
}

export function keyOf(n: number): ClientKey {
  return { type: 1, id: macOf(n) };
}

/** Client n on a pool, as the server would describe it to the allocator. */
export function clientOn(pool: NetworkPool, n: number, extra: Partial<ClientContext> = {}): ClientContext {
  return { pool, key: keyOf(n), htype: 1, hwaddr: macOf(n), clientId: null, ...extra };
}

export function keyStringOf(n: number): string {
  return keyString(keyOf(n));
}

/** A record of client n (null: no client) at an address, written straight into the store. */
export function recordFor(
  n: number | null,
  address: number,
  network: number,
  state: LeaseState,
  cltt: number,
  ends: number | null,
): LeaseRecord {
  return {
    address,
    network,
    client: n === null ? null : keyOf(n),
    htype: 1,
    hwaddr: n === null ? null : macOf(n),
    clientId: null,
    starts: cltt,
    ends,
    cltt,
    state,
    clientHostname: null,
    hostname: null,
  };
}

/** Writes records straight into the store (as an earlier run, or a restored backup, would have left them). */
export function seed(store: Store, ...records: LeaseRecord[]): void {
  store.write(() => {
    for (const r of records) store.leases.put(r);
  });
}

/** `nets` with network A shrunk to .10-.11, so that a test can fill it. */
export const TINY_NETS =
  '10.9.1.0 10.9.1.1 10.9.1.10-10.9.1.11\n10.9.2.0 10.9.1.1 10.9.2.10-10.9.2.11\n10.9.3.0 10.9.3.99 10.9.3.10-10.9.3.20\n';

/**
 * server.pcy and nets of one unit of a failover pair: network A's range .10-.15 is served by the
 * relationship "pair" (.12 stays FIXED's static binding); the primary has the MCLT and split 128.
 */
export function pairFiles(role: 'primary' | 'secondary', mclt = 300, extraPcy = ''): Record<string, string> {
  const primaryOnly = role === 'primary' ? `failover_mclt ${mclt}\nfailover_split 128\n` : '';
  return {
    'server.pcy':
      BASE_FILES['server.pcy'] +
      `failover pair\nfailover_role ${role}\nfailover_address 10.99.0.1\nfailover_peer_address 10.99.0.2\n` +
      primaryOnly +
      extraPcy,
    nets: BASE_FILES.nets!.replace('10.9.1.0 10.9.1.1 10.9.1.10-10.9.1.15', '10.9.1.0 pair 10.9.1.10-10.9.1.15'),
  };
}
