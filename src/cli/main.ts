#!/usr/bin/env node
// joind [-f] [-d N] [-l N] [-t MIN] [--config-dir DIR] [--spool-dir DIR] [-i IFACE]… [--user NAME [--group NAME]] [--check]
// As joind(8) has it, plus the long options of joind-TS. Wrong arguments: one line on stderr, exit 2.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig, describeConfig } from '../config/load';
import { formatProblem } from '../config/problems';
import { createLogger, levelFor, logEvent } from '../log/logger';
import { Daemon } from '../server/daemon';
import { resolveRunAs, RunAsError, type RunAs } from '../io/privileges';
import { prepareSpoolFor } from '../server/privileges';
import { ADMIN_COMMANDS } from './admin-names';
import { resolveDirs } from './dirs';
import { VERSION } from '../version';

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return Number(value);
}

interface MainOptions {
  foreground?: boolean;
  debug?: number;
  logLevel?: number | true;
  timeout?: number;
  configDir?: string;
  spoolDir?: string;
  interface: string[];
  check?: boolean;
  user?: string;
  group?: string;
  port?: number;
  bind?: string;
}

export { resolveDirs };

function buildProgram(): Command {
  const program = new Command('joind');
  program
    .description('BOOTP/DHCPv4 server in the line of the Digital UNIX / Tru64 JOIN server')
    .version(VERSION, '--version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .option('-f, --foreground', 'stay in the foreground (do not become a daemon); log to stderr')
    .option('-d, --debug <n>', 'debug level n (any level also enables log messages; 3+ traces)', nonNegativeInt)
    .addOption(
      new Option('-l, --log-level [n]', 'log level: 0 none, 1 warnings (default; -l alone), 2 informational').argParser(
        nonNegativeInt,
      ),
    )
    .option('-t, --timeout <minutes>', 'exit after this many minutes without a packet (inetd use)', nonNegativeInt)
    .option('--config-dir <dir>', 'configuration directory (overrides $JOINCONFIG, default /etc/join)')
    .option('--spool-dir <dir>', 'spool directory for the lease database (overrides $JOINSPOOL, default /var/join)')
    .option(
      '-i, --interface <name>',
      'serve only this interface (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--user <name>',
      'after opening sockets, store and pid file, run as this user, keeping only the capabilities still needed',
    )
    .option('--group <name>', "with --user: run with this group (default: the user's primary group)")
    .option('--check', 'load and validate the configuration, print it as JSON, exit 0 if valid and 1 if not')
    .addOption(new Option('--port <n>', 'UDP port to listen on (testing)').argParser(nonNegativeInt).hideHelp())
    .addOption(new Option('--bind <address>', 'address to bind the UDP socket to (testing)').hideHelp())
    .addHelpText('after', `\nAdmin subcommands (see docs/joind.md): joind ${[...ADMIN_COMMANDS].join('|')} --help`)
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({
      // One line, then exit 2 (the default prints usage and exits 1).
      outputError: (str, write) => write(`joind: ${str.replace(/^error: /, '').trim()}\n`),
    });
  return program;
}

function check(configDir: string): number {
  const loaded = loadConfig(configDir);
  if (!loaded.ok) {
    for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify(describeConfig(loaded.config), null, 2)}\n`);
  for (const w of loaded.warnings) process.stderr.write(`${formatProblem(w)}\n`);
  return 0;
}

/** --user/--group, checked before anything is opened (and before detaching, so that the refusal is seen). */
function runAsOption(opts: MainOptions): RunAs | undefined | 'refused' {
  if (opts.user === undefined) {
    if (opts.group === undefined) return undefined;
    process.stderr.write('joind: --group needs --user\n');
    return 'refused';
  }
  try {
    return resolveRunAs(opts.user, opts.group);
  } catch (err) {
    if (!(err instanceof RunAsError)) throw err;
    process.stderr.write(`joind: ${err.message}\n`);
    return 'refused';
  }
}

/** Without -f: start a detached copy of ourselves in the foreground, logging to the spool directory. */
function daemonize(argv: string[], spoolDir: string, runAs: RunAs | undefined): number {
  // With --user the spool is created for the user (or refused) here already: the child checks it again.
  try {
    if (runAs) prepareSpoolFor(spoolDir, runAs);
    else fs.mkdirSync(spoolDir, { recursive: true });
  } catch (err) {
    process.stderr.write(`joind: ${(err as Error).message}\n`);
    return 1;
  }
  const logFd = fs.openSync(path.join(spoolDir, 'joind.log'), 'a');
  const child = spawn(process.execPath, [process.argv[1]!, ...argv, '-f'], { detached: true, stdio: ['ignore', logFd, logFd] });
  child.unref();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  // `joind dump|load|…`: the admin subcommands. Without one, joind is the server, exactly as before.
  // Loaded only for them: the server does not carry the admin commands' code (issue 17, memory).
  if (argv[0] !== undefined && ADMIN_COMMANDS.has(argv[0])) return (await import('./admin')).runAdmin(argv, VERSION);
  const program = buildProgram();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    throw err;
  }
  const opts = program.opts<MainOptions>();
  if (program.args.length > 0) {
    process.stderr.write(`joind: unexpected argument "${program.args[0]}"\n`);
    return 2;
  }
  const { configDir, spoolDir } = resolveDirs(opts);
  if (opts.check) return check(configDir);
  const runAs = runAsOption(opts);
  if (runAs === 'refused') return 2;
  if (!opts.foreground) return daemonize(argv, spoolDir, runAs);

  const logLevel = opts.logLevel === undefined ? 1 : opts.logLevel === true ? 1 : opts.logLevel;
  const log = createLogger(levelFor(logLevel, opts.debug ?? 0));
  const daemon = new Daemon({
    configDir,
    spoolDir,
    log,
    interfaces: opts.interface,
    idleExitMinutes: opts.timeout ?? 0,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.bind !== undefined ? { bindAddress: opts.bind } : {}),
    ...(runAs !== undefined ? { runAs } : {}),
  });
  try {
    await daemon.start();
  } catch (err) {
    logEvent(log, 'JOIND_START_FAILED', { err: (err as Error).message });
    process.stderr.write(`joind: ${(err as Error).message}\n`);
    await daemon.stop().catch(() => undefined);
    return 1;
  }
  const stop = (): void => {
    void daemon.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => daemon.reload('SIGHUP'));
  process.on('SIGUSR1', () => logEvent(log, 'STATE_DUMP', daemon.describeState()));
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`joind: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
