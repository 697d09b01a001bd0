// `joind export` and `joind import`: the ISC formats (dhcpd.leases(5), dhcpd.conf(5)), for dhcpd users
// moving to joind and for the tools built on those files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { formatDhcpdConf } from '../admin/dhcpd-conf';
import { importDhcpdConf } from '../admin/dhcpd-conf-import';
import { readDhcpdConf } from '../admin/dhcpd-conf-reader';
import { formatLeaseFile, type ImportedFailoverState, parseLeaseFile } from '../admin/dhcpd-leases';
import { SERVER_STATES } from '../failover';
import type { Store } from '../store/store';
import { applyLoad, dnsRecordToJson, keepDnsRecords, LoadOptions, LoadResult } from '../admin/load';
import { formatLease, parseRecords } from '../admin/records';
import { loadConfig } from '../config/load';
import { formatProblem } from '../config/problems';
import {
  AdminError,
  DirOptions,
  loadDirect,
  networkLookup,
  now,
  openForReading,
  optionalConfig,
  report,
  throughServer,
  withDirs,
} from './admin-common';
import { resolveDirs } from './dirs';

export function exportCommand(): Command {
  return withDirs(new Command('export'))
    .description('write the leases as dhcpd.leases(5), or the pools as dhcpd.conf(5)')
    .addOption(new Option('--format <format>', 'what to write').choices(['dhcpd-leases', 'dhcpd-conf']).default('dhcpd-leases'))
    .option('-o, --output <file>', 'write to the file instead of standard output')
    .action(async (o: DirOptions & { format: string; output?: string }) => {
      const { configDir, spoolDir } = resolveDirs(o);
      let text: string;
      if (o.format === 'dhcpd-conf') {
        const loaded = loadConfig(configDir);
        if (!loaded.ok) throw new AdminError(`the configuration has errors:\n${loaded.problems.map(formatProblem).join('\n')}`);
        text = formatDhcpdConf(loaded.config);
      } else {
        const store = await openForReading(spoolDir);
        try {
          text = formatLeaseFile(store.leases.all(), now());
        } finally {
          store.close();
        }
      }
      if (o.output) fs.writeFileSync(o.output, text);
      else process.stdout.write(text);
    });
}

/**
 * Writes a dhcpd lease file's failover state into a store that has none (or over it, with -w): the unit
 * then starts in that state as dhcpd would, and catches up with its peer before it serves.
 */
function importFailoverState(store: Store, state: ImportedFailoverState, overwrite: boolean): void {
  if (!(state.myState in SERVER_STATES)) throw new AdminError(`failover peer "${state.name}": unknown state ${state.myState}`);
  if (store.failover.get(state.name) && !overwrite) {
    process.stderr.write(`joind: the store has a failover state for ${state.name} already; kept (replace it with -w)\n`);
    return;
  }
  const partner = state.partnerState !== null && state.partnerState in SERVER_STATES ? state.partnerState : null;
  store.failover.put({
    name: state.name,
    myState: state.myState,
    myStos: state.myStos,
    partnerState: partner,
    partnerStos: partner === null ? null : state.partnerStos,
    mclt: state.mclt,
    // A recovering unit has not been through normal as far as this file tells.
    everPaired: !state.myState.startsWith('recover') && state.myState !== 'startup',
  });
  process.stderr.write(`joind: failover state of ${state.name} imported: ${state.myState}, partner ${partner ?? 'unknown'}\n`);
}

/**
 * `joind import --format dhcpd-conf`: writes the configuration directory a dhcpd.conf translates to, then
 * loads it as joind would. Every statement not carried over is a `FILE:LINE:COLUMN:` line on stderr; exit 0
 * only when everything was, and the written configuration loads without errors.
 */
function importConfiguration(file: string, configDir: string, owner: string, overwrite: boolean): void {
  const conf = readDhcpdConf(file);
  if (conf.files.length === 0) throw new AdminError(`cannot read ${file}: ${conf.problems[0]?.message ?? 'unreadable'}`);
  const result = importDhcpdConf(conf, owner);
  fs.mkdirSync(configDir, { recursive: true });
  const existing = Object.keys(result.files).filter((name) => fs.existsSync(path.join(configDir, name)));
  if (existing.length > 0 && !overwrite)
    throw new AdminError(`${configDir} has ${existing.join(', ')} already: nothing written (replace them with -w)`);
  for (const [name, text] of Object.entries(result.files))
    fs.writeFileSync(path.join(configDir, name), text, { mode: name.endsWith('.key') ? 0o640 : 0o644 });
  for (const note of result.notes) process.stderr.write(`${note} (note)\n`);
  for (const problem of result.problems) process.stderr.write(`${problem}\n`);
  const loaded = loadConfig(configDir);
  const checked = loaded.ok ? loaded.warnings : loaded.problems;
  for (const p of checked) process.stderr.write(`${formatProblem(p)}\n`);
  const errors = checked.filter((p) => p.severity === 'error');
  const written = Object.keys(result.files).join(', ');
  process.stderr.write(`joind: wrote ${written} in ${configDir} from ${conf.files.length} file(s)\n`);
  if (errors.length > 0) throw new AdminError(`the written configuration does not load: ${errors.length} error(s) above`);
  if (result.problems.length > 0) throw new AdminError(`${result.problems.length} statement(s) not translated (above)`);
}

export function importCommand(): Command {
  return withDirs(new Command('import'))
    .description('load the leases of a dhcpd.leases(5) file, or write the configuration of a dhcpd.conf(5)')
    .argument('<file>', 'the lease file, or the dhcpd.conf with --format dhcpd-conf')
    .addOption(
      new Option('--format <format>', 'what the file is').choices(['dhcpd-leases', 'dhcpd-conf']).default('dhcpd-leases'),
    )
    .option(
      '--owner <name>',
      "dhcpd-conf: the owner of the ranges in nets (this server's name or address; default its host name)",
    )
    .option('--active-only', 'leave out leases that have ended')
    .option('-i', 'take an address even when another client holds it in joind')
    .option('-o', 'only addresses in ranges this server owns')
    .option('-w', 'overwrite the records joind already has for these clients (dhcpd-conf: the files in --config-dir)')
    .action(
      async (
        file: string,
        o: DirOptions & { format: string; owner?: string; activeOnly?: boolean; i?: boolean; o?: boolean; w?: boolean },
      ) => {
        const { configDir, spoolDir } = resolveDirs(o);
        if (o.format === 'dhcpd-conf') return importConfiguration(file, configDir, o.owner ?? os.hostname(), !!o.w);
        let text: string;
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch (err) {
          throw new AdminError(`cannot read ${file}: ${(err as Error).message}`);
        }
        const config = optionalConfig(configDir);
        const nets = networkLookup(config);
        const parsed = parseLeaseFile(text, now(), nets ? (a) => nets.paired(a) : undefined);
        if (parsed.problems.length > 0) {
          for (const p of parsed.problems) process.stderr.write(`${file}:${p.line}: ${p.message}\n`);
          throw new AdminError(`nothing imported: ${parsed.problems.length} problem(s) in ${file}`);
        }
        // The import is a load of the same records in joind's own text form: one path, one set of rules.
        const separator = '|';
        const records = parsed.leases.map((l) => formatLease(l.lease, { separator, humanDates: false })).join('\n');
        const opts: LoadOptions = {
          delete: false,
          expired: !o.activeOnly,
          takeBound: !!o.i,
          leases: true,
          names: false,
          ownedOnly: !!o.o,
          overwrite: !!o.w,
        };
        const lineOf = parsed.leases.map((l) => l.line);
        const toFileLines = (r: LoadResult): LoadResult => ({
          ...r,
          problems: r.problems.map((p) => ({ ...p, line: lineOf[p.line - 1] ?? p.line })),
          skipped: r.skipped.map((s) => ({ ...s, line: lineOf[s.line - 1] ?? s.line })),
        });
        // The failover state of our relationship, if the file has it (a dhcpd unit's own lease file).
        const relationship = config?.policy.failover;
        const state = relationship ? parsed.failover.find((f) => f.name === relationship) : undefined;
        // What dhcpd wrote to DNS for the leases, for joind to remove when they end.
        const dns = parsed.leases.flatMap((l) => (l.dns ? [{ client: l.lease.client, dns: l.dns }] : []));
        const keptDns = (r: LoadResult): void => {
          if (r.dnsKept)
            process.stderr.write(`joind: kept what dhcpd wrote to DNS for ${r.dnsKept} lease(s), to remove when they end\n`);
        };
        const viaServer = await throughServer<LoadResult>(spoolDir, '/v1/load', {
          text: records,
          separator,
          options: opts,
          dns: dns.map((d) => dnsRecordToJson(d.dns)),
        });
        if (viaServer) {
          // The running server's owner tells the peer of each imported record of a failover range.
          if (state) process.stderr.write(`joind: the failover state of ${state.name} is not imported into a running server\n`);
          keptDns(viaServer);
          return report(toFileLines(viaServer), 'imported');
        }
        const recs = parseRecords(records, separator, now()).records;
        // The text form has no failover times: they come back from the parsed file, record by record.
        recs.forEach((r, i) => {
          const from = parsed.leases[i]?.lease;
          if (r.kind === 'lease' && from?.tstp !== undefined)
            r.lease = { ...r.lease, tstp: from.tstp, tsfp: from.tsfp ?? null, peerPending: from.peerPending ?? false };
        });
        const result = loadDirect(spoolDir, (store, leases) => {
          const loaded = applyLoad(store, leases, recs, opts, nets, now());
          if (loaded.ok && state) importFailoverState(store, state, !!o.w);
          if (loaded.ok && dns.length > 0) loaded.dnsKept = keepDnsRecords(store, dns, !!o.w);
          return loaded;
        });
        keptDns(result);
        report(toFileLines(result), 'imported');
      },
    );
}
