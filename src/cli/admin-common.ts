// What the admin subcommands share: their errors, the directory options, opening the store or the
// configuration, and sending a write through the running server (or, when none runs, into the file).
import fs from 'node:fs';
import { Command } from 'commander';
import { LoadResult, NetworkLookup, networkLookupOf } from '../admin/load';
import { LeaseOwner } from '../alloc/lease-owner';
import { loadConfig } from '../config/load';
import { formatProblem } from '../config/problems';
import type { Config } from '../config/types';
import { Store } from '../store/store';
import { controlRequest, ControlRefused, ControlUnavailable } from './control-client';

/** A failure with a clear message and an exit status (1: refused or unsound, 2: usage). */
export class AdminError extends Error {
  constructor(
    message: string,
    readonly status = 1,
  ) {
    super(message);
  }
}

export interface DirOptions {
  configDir?: string;
  spoolDir?: string;
}

export const now = (): number => Math.floor(Date.now() / 1000);

export function withDirs(cmd: Command): Command {
  return cmd
    .option('--config-dir <dir>', 'configuration directory (overrides $JOINCONFIG, default /etc/join)')
    .option('--spool-dir <dir>', 'spool directory holding joind.db (overrides $JOINSPOOL, default /var/join)');
}

export function separatorOf(value: string | undefined): string {
  if (value === undefined) return '|';
  if (value.length !== 1) throw new AdminError(`-f ${value}: the field separator is one character`, 2);
  return value;
}

/**
 * The store for a command that only reads, as of now: a running server in journal mode holds recent
 * leases in its journal until it commits them to the database (src/store/store.ts), so it is asked to
 * commit first; when no server runs, a journal it left behind (a crash) is replayed into the database,
 * as a start would. Either way the command then reads the database read-only.
 */
export async function openForReading(spoolDir: string): Promise<Store> {
  try {
    await controlRequest({ spoolDir }, 'POST', '/v1/store/publish', {});
  } catch (err) {
    if (!(err instanceof ControlUnavailable)) {
      process.stderr.write(
        `joind: the running server did not commit its journal (${(err as Error).message}); reading the database as last committed\n`,
      );
    } else if (Store.journalPending(spoolDir)) {
      try {
        Store.open({ spoolDir, durable: true }).close();
      } catch (openErr) {
        process.stderr.write(
          `joind: the lease journal could not be replayed (${(openErr as Error).message}); reading the database as last committed\n`,
        );
      }
    }
  }
  return Store.open({ spoolDir, durable: true, readonly: true });
}

/** The configuration when it loads; warnings about it go to stderr and the command goes on without. */
export function optionalConfig(configDir: string, quiet = false): Config | null {
  if (!fs.existsSync(configDir)) return null;
  const loaded = loadConfig(configDir);
  if (loaded.ok) return loaded.config;
  if (!quiet) {
    process.stderr.write(`joind: the configuration in ${configDir} has errors; going on without it:\n`);
    for (const p of loaded.problems) process.stderr.write(`  ${formatProblem(p)}\n`);
  }
  return null;
}

export function networkLookup(config: Config | null): NetworkLookup | null {
  return config ? networkLookupOf(config) : null;
}

export function readInputs(files: string[]): string {
  if (files.length === 0 || (files.length === 1 && files[0] === '-')) return fs.readFileSync(0, 'utf8');
  return files
    .map((f) => {
      try {
        return fs.readFileSync(f, 'utf8');
      } catch (err) {
        throw new AdminError(`cannot read ${f}: ${(err as Error).message}`);
      }
    })
    .join('\n');
}

export function report(result: LoadResult, what: string): void {
  for (const s of result.skipped) process.stderr.write(`line ${s.line}: skipped: ${s.why}\n`);
  for (const p of result.problems) process.stderr.write(`line ${p.line}: ${p.message}\n`);
  if (!result.ok) throw new AdminError(`nothing ${what}: ${result.problems.length} record(s) refused`);
  process.stdout.write(`${result.loaded} record(s) loaded, ${result.deleted} deleted, ${result.skipped.length} skipped\n`);
}

/** Sends a write to the running server; null when no server answers on the control socket. */
export async function throughServer<T>(spoolDir: string, path: string, body: unknown): Promise<T | null> {
  try {
    return await controlRequest<T>({ spoolDir }, 'POST', path, body);
  } catch (err) {
    if (err instanceof ControlUnavailable) return null;
    // A refused load still carries its per-record report.
    if (err instanceof ControlRefused && err.status === 409 && err.body) return err.body as T;
    throw err;
  }
}

/**
 * Runs a change in one transaction of its own, committed (and fsynced) before returning. The server is
 * not running, so its lease records are written through a lease owner without pools.
 */
export function loadDirect<T>(spoolDir: string, change: (store: Store, leases: LeaseOwner) => T): T {
  const store = Store.open({ spoolDir, durable: true });
  try {
    const leases = new LeaseOwner(store);
    const result = store.write(() => change(store, leases));
    store.flush();
    return result;
  } finally {
    store.close();
  }
}
