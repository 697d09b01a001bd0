// The admin subcommands of `joind` (joind-spec.md 7.4): dump (jdbdump), load (jdbmod), register (jdbreg),
// show (showdbs), check-db (checkdba). Unlike the originals they work while the server runs: reads go
// straight to the SQLite file (WAL lets them), writes go through the running server's control socket
// when there is one, else into the file under one short transaction.
import { Command, CommanderError } from 'commander';
import { checkStore } from '../admin/check';
import { parseDate } from '../admin/dates';
import { applyLoad, LoadOptions, LoadResult } from '../admin/load';
import { formatLease, formatName, leaseToJson, nameToJson, parseRecords, parseRegistration } from '../admin/records';
import { badKey, formatTable, Selection, selects } from '../admin/select';
import type { Store } from '../store/store';
import { hexColons } from '../util/ipv4';
import { resolveDirs } from './dirs';
import { ControlRefused } from './control-client';
import { ctlCommand } from './ctl';
import { exportCommand, importCommand } from './exchange';
import {
  AdminError,
  DirOptions,
  loadDirect,
  networkLookup,
  now,
  openForReading,
  optionalConfig,
  readInputs,
  report,
  separatorOf,
  throughServer,
  withDirs,
} from './admin-common';

export { ADMIN_COMMANDS } from './admin-names';

function dumpCommand(): Command {
  return withDirs(new Command('dump'))
    .description('write the lease and name records, one per line (jdbdump)')
    .option('-a', 'human-readable UTC dates instead of seconds since 1970')
    .option('-c', 'only records that hold their address now')
    .option('-e', 'only records that no longer hold their address')
    .option('-f <c>', 'field separator (default |)')
    .option('-k <key>', 'one record: IP address, hardware address / client id in hex, or "htype hwaddr subnet"')
    .option('-s <date>', 'only records changed since the date')
    .option('-l', 'lease records only')
    .option('-n', 'name records only')
    .option('--json', 'JSON instead of text records')
    .action(
      async (
        o: DirOptions & {
          a?: boolean;
          c?: boolean;
          e?: boolean;
          f?: string;
          k?: string;
          s?: string;
          l?: boolean;
          n?: boolean;
          json?: boolean;
        },
      ) => {
        const separator = separatorOf(o.f);
        const sel: Selection = { ...(o.c ? { active: true } : {}), ...(o.e ? { expired: true } : {}) };
        if (o.k !== undefined) {
          const bad = badKey(o.k);
          if (bad) throw new AdminError(bad, 2);
          sel.key = o.k;
        }
        if (o.s !== undefined) {
          const since = parseDate(o.s);
          if (since === undefined)
            throw new AdminError(`-s ${o.s}: not a date (seconds, "Mon Jan 09 1995 10:00" or "01/09/1995 10:00:00")`, 2);
          sel.since = since;
        }
        const store = await openForReading(resolveDirs(o).spoolDir);
        try {
          const t = now();
          const leases = o.n ? [] : [...store.leases.all()].filter((l) => selects(l, sel, t));
          const names =
            o.l || sel.key !== undefined || sel.active || sel.expired
              ? []
              : [...store.names.all()].filter((n) => sel.since === undefined || n.boundAt >= sel.since);
          if (o.json) {
            process.stdout.write(
              `${JSON.stringify({ leases: leases.map(leaseToJson), names: names.map(nameToJson) }, null, 2)}\n`,
            );
            return;
          }
          const fmt = { separator, humanDates: !!o.a };
          // One write: a line per write costs more than formatting the records.
          const lines = [...leases.map((l) => formatLease(l, fmt)), ...names.map((n) => formatName(n, fmt))];
          if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
        } finally {
          store.close();
        }
      },
    );
}

function loadCommand(): Command {
  return withDirs(new Command('load'))
    .description('load (or with -d delete) the records of files written by dump (jdbmod)')
    .argument('[file...]', 'files of records; none or - reads standard input')
    .option('-d', 'delete the keyed records instead of loading them')
    .option('-e', 'also load leases that have already ended')
    .option('-f <c>', 'field separator (default |)')
    .option('-i', 'take an address even when another client holds it')
    .option('-l', 'lease records only')
    .option('-n', 'name records only')
    .option('-o', 'only records in ranges this server owns')
    .option('-w', 'overwrite the records a client already has')
    .action(
      async (
        files: string[],
        o: DirOptions & { d?: boolean; e?: boolean; f?: string; i?: boolean; l?: boolean; n?: boolean; o?: boolean; w?: boolean },
      ) => {
        if (o.l && o.n) throw new AdminError('-l and -n exclude each other', 2);
        const separator = separatorOf(o.f);
        const { configDir, spoolDir } = resolveDirs(o);
        const text = readInputs(files);
        const opts: LoadOptions = {
          delete: !!o.d,
          expired: !!o.e,
          takeBound: !!o.i,
          leases: !o.n,
          names: !o.l,
          ownedOnly: !!o.o,
          overwrite: !!o.w,
        };
        const parsed = parseRecords(text, separator, now());
        if (parsed.problems.length > 0) {
          for (const p of parsed.problems) process.stderr.write(`line ${p.line}: ${p.message}\n`);
          throw new AdminError(`nothing loaded: ${parsed.problems.length} line(s) could not be read`);
        }
        const viaServer = await throughServer<LoadResult>(spoolDir, '/v1/load', { text, separator, options: opts });
        if (viaServer) return report(viaServer, o.d ? 'deleted' : 'loaded');
        const nets = networkLookup(optionalConfig(configDir));
        if (opts.ownedOnly && !nets) throw new AdminError('-o needs the configuration (nets) to know which ranges are ours');
        report(
          loadDirect(spoolDir, (store, leases) => applyLoad(store, leases, parsed.records, opts, nets, now())),
          o.d ? 'deleted' : 'loaded',
        );
      },
    );
}

function registerCommand(): Command {
  return withDirs(new Command('register'))
    .description('register (or with -d unregister) hardware addresses for registered_clients_only (jdbreg)')
    .argument('[file...]', 'lines of MAC address|MAC type|MAC length; none or - reads standard input')
    .option('-d', 'unregister the addresses')
    .option('-f <c>', 'field separator (default |)')
    .option('-s', 'list the registered addresses')
    .action(async (files: string[], o: DirOptions & { d?: boolean; f?: string; s?: boolean }) => {
      const separator = separatorOf(o.f);
      const { spoolDir } = resolveDirs(o);
      if (o.s) {
        const store = await openForReading(spoolDir);
        try {
          for (const r of store.registered.all())
            process.stdout.write(`${hexColons(r.hwaddr)}${separator}${r.htype}${separator}${r.hwaddr.length}\n`);
        } finally {
          store.close();
        }
        return;
      }
      const entries: Array<{ htype: number; hwaddr: string }> = [];
      const problems: string[] = [];
      readInputs(files)
        .split(/\r?\n/)
        .forEach((raw, i) => {
          if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
          const parsed = parseRegistration(raw, separator);
          if (typeof parsed === 'string') problems.push(`line ${i + 1}: ${parsed}`);
          else entries.push({ htype: parsed.htype, hwaddr: parsed.hwaddr.toString('hex') });
        });
      if (problems.length > 0) {
        for (const p of problems) process.stderr.write(`${p}\n`);
        throw new AdminError(`nothing registered: ${problems.length} line(s) could not be read`);
      }
      const body = { entries, remove: !!o.d };
      const changed =
        (await throughServer<{ changed: number }>(spoolDir, '/v1/register', body)) ??
        loadDirect(spoolDir, (store) => ({ changed: applyRegistration(store, body) }));
      process.stdout.write(
        `${changed.changed} address(es) ${o.d ? 'unregistered' : 'registered'}, ${entries.length - changed.changed} unchanged\n`,
      );
    });
}

/** Registers or unregisters; returns how many changed. Inside the caller's transaction. */
export function applyRegistration(
  store: Store,
  body: { entries: Array<{ htype: number; hwaddr: string }>; remove: boolean },
): number {
  let changed = 0;
  for (const e of body.entries) {
    const hw = Buffer.from(e.hwaddr, 'hex');
    if (body.remove ? store.registered.unregister(e.htype, hw) : store.registered.register(e.htype, hw)) changed++;
  }
  return changed;
}

function showCommand(): Command {
  return withDirs(new Command('show'))
    .description('a readable table of the leases (showdbs)')
    .option('-c', 'only records that hold their address now')
    .option('-k <key>', 'one record: IP address, hardware address / client id in hex, or "htype hwaddr subnet"')
    .action(async (o: DirOptions & { c?: boolean; k?: string }) => {
      if (o.k !== undefined && badKey(o.k)) throw new AdminError(badKey(o.k)!, 2);
      const store = await openForReading(resolveDirs(o).spoolDir);
      try {
        const t = now();
        const sel: Selection = { ...(o.c ? { active: true } : {}), ...(o.k !== undefined ? { key: o.k } : {}) };
        process.stdout.write(
          formatTable(
            [...store.leases.all()].filter((l) => selects(l, sel, t)),
            t,
          ),
        );
      } finally {
        store.close();
      }
    });
}

function checkCommand(): Command {
  return withDirs(new Command('check-db'))
    .description('check the lease database; exit 0 when sound, 1 with every bad record listed (checkdba)')
    .action(async (o: DirOptions) => {
      const { configDir, spoolDir } = resolveDirs(o);
      const config = optionalConfig(configDir);
      const store = await openForReading(spoolDir);
      try {
        const r = checkStore(store, config?.networks ?? null);
        for (const p of r.problems) process.stdout.write(`${p}\n`);
        if (r.problems.length > 0)
          throw new AdminError(
            `${store.file}: ${r.problems.length} problem(s) in ${r.leases} lease and ${r.names} name record(s)`,
          );
        process.stdout.write(`${store.file}: sound (${r.leases} lease and ${r.names} name record(s))\n`);
      } finally {
        store.close();
      }
    });
}

export type SubcommandFactory = () => Command;
const FACTORIES: SubcommandFactory[] = [
  dumpCommand,
  loadCommand,
  registerCommand,
  showCommand,
  checkCommand,
  exportCommand,
  importCommand,
  ctlCommand,
];

/** Other modules (export/import, ctl) add their subcommands here. */
export function addSubcommands(...factories: SubcommandFactory[]): void {
  FACTORIES.push(...factories);
}

/** Runs `joind <subcommand> …`; resolves to the exit status. */
export async function runAdmin(argv: string[], version: string): Promise<number> {
  const program = new Command('joind')
    .version(version, '--version')
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`joind: ${str.replace(/^error: /, '').trim()}\n`),
    });
  for (const make of FACTORIES) {
    const cmd = make();
    cmd
      .exitOverride()
      .configureOutput({ outputError: (str, write) => write(`joind ${cmd.name()}: ${str.replace(/^error: /, '').trim()}\n`) });
    program.addCommand(cmd);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; help shown because a command was missing is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ControlRefused) {
      const problems = (err.body as { problems?: unknown } | undefined)?.problems;
      if (Array.isArray(problems))
        for (const p of problems) process.stderr.write(`${typeof p === 'string' ? p : JSON.stringify(p)}\n`);
    }
    if (err instanceof AdminError || err instanceof ControlRefused) {
      process.stderr.write(`joind ${argv[0]}: ${err.message}\n`);
      return err instanceof AdminError ? err.status : 1;
    }
    const code = (err as { code?: string }).code;
    if (code === 'OPEN' || code === 'SCHEMA' || code === 'CORRUPT') {
      process.stderr.write(`joind ${argv[0]}: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}
