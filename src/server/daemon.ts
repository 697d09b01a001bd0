// The running daemon: configuration, store, pinger, transport and server wired together, with joind's
// signals (HUP re-reads the configuration, TERM stops after committing, USR1 logs the state), the pid
// file in the spool directory, the expiry sweep and auto_reread.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load';
import { formatProblem } from '../config/problems';
import { applyOnReload } from '../config/effect';
import type { Config } from '../config/types';
import { logEvent, Logger } from '../log/logger';
import { Pinger } from '../io/ping';
import { openTransport, transportErrorLogging } from '../io/choose-transport';
import { listIpv4Interfaces } from '../io/interfaces';
import { chooseServedInterfaces, networksForServing } from '../io/served-interfaces';
import type { Transport } from '../io/transport';
import { systemForwardLookup, systemReverseLookup } from '../naming/resolver';
import { Store } from '../store/store';
import type { RunAs } from '../io/privileges';
import { dropAfterStart, prepareSpoolFor } from './privileges';
import { DhcpServer } from './server';
import { LeaseClock, STEP_MS } from './lease-clock';
import { warmUp } from './warm-up';
import { networkLookupOf } from '../admin/load';
import { Operations, startOperations } from '../control/service';
import { type FailoverConnection, FailoverLink } from '../io/failover-link';
import { FailoverEngine } from '../pair/engine';
import { networkUse } from './status';
import { VERSION } from '../version';
import { DdnsWorker } from '../ddns/worker';
import { DdnsPacer } from '../ddns/pacer';
import { ddnsSettingsOf } from '../ddns/names';
import { ddnsStatus } from '../ddns/status';
import { dnsExchange } from '../io/dns-client';

export interface DaemonOptions {
  configDir: string;
  spoolDir: string;
  log: Logger;
  /** Interfaces named with -i (empty: every interface with an address in a served network). */
  interfaces: string[];
  /** -t: exit after this many minutes without a packet (0: never). */
  idleExitMinutes: number;
  /** UDP port to listen on (67; tests use another). */
  port?: number;
  /** Address to bind the UDP socket to (0.0.0.0). */
  bindAddress?: string;
  /** --user: once everything is open, become this account (see ./privileges.ts). */
  runAs?: RunAs;
}

const SWEEP_INTERVAL_MS = 60_000;
/** While the store refuses writes, how often a probe commit checks whether it takes them again. */
const STORE_PROBE_MS = 2_000;
/** A backup copy of the lease database at start, and at a clean stop and this often when a lease changed. */
const BACKUP_INTERVAL_MS = 3_600_000;
const REREAD_CHECK_MS = 1_000;
/** How often the wall clock is compared with the lease clock (a step is acted on within this). */
const CLOCK_CHECK_MS = 1_000;
/** How often the store records the time it was written at, besides at stop (src/store/clock.ts). */
const CLOCK_NOTE_MS = 300_000;
export const PID_FILE_NAME = 'joind.pid';

export class Daemon {
  /** The configuration read at start, until the server exists; from then on the server owns it. */
  private startConfig!: Config;
  private store!: Store;
  private transport!: Transport;
  private transportKind: 'raw' | 'udp' = 'udp';
  private pinger: Pinger | null = null;
  private ddnsWorker: DdnsWorker | null = null;
  server!: DhcpServer;
  private timers: NodeJS.Timeout[] = [];
  /** The time leases are judged by: monotonic, anchored to the wall clock, moved only with the store. */
  private readonly clock = new LeaseClock();
  private lastPacketAt = this.clock.now();
  private clockNotedAt = 0;
  private capMtime: number | null = null;
  private stopping: Promise<void> | null = null;
  private backingUp: Promise<void> | null = null;
  /** The store's durable writes when the last backup of this run began (-1: none yet). */
  private backedUpAtWrites = -1;
  private readonly pidFile: string;
  private ops: Operations | null = null;
  private pair: { engine: FailoverEngine; link: FailoverLink } | null = null;
  private readonly startedAt = this.clock.now();

  constructor(private readonly opts: DaemonOptions) {
    this.pidFile = path.join(opts.spoolDir, PID_FILE_NAME);
  }

  /** Starts serving. Throws (with every problem listed) when the configuration or the store is unusable. */
  async start(): Promise<void> {
    const log = this.opts.log;
    const loaded = loadConfig(this.opts.configDir);
    if (!loaded.ok) {
      throw new Error(`configuration has errors:\n${loaded.problems.map(formatProblem).join('\n')}`);
    }
    for (const w of loaded.warnings) logEvent(log, 'CONFIG_PROBLEM', { problem: formatProblem(w) });
    const config = loaded.config;
    this.startConfig = config;
    this.capMtime = config.dhcpcap.mtimeMs;
    logEvent(log, 'CONFIG_LOADED', { dir: this.opts.configDir, networks: config.networks.length });

    if (this.opts.runAs) prepareSpoolFor(this.opts.spoolDir, this.opts.runAs);
    try {
      this.store = Store.open({
        spoolDir: this.opts.spoolDir,
        durable: config.policy.auto_sync_dbs,
        backgroundCheckpoint: true,
        // The durable record is the lease journal, SQLite is committed every few minutes (issue 17).
        journal: true,
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'CORRUPT') logEvent(log, 'STORE_INTEGRITY_FAILED', { err: (err as Error).message });
      throw err;
    }
    logEvent(log, 'STORE_OPENED', {
      file: this.store.file,
      durable: config.policy.auto_sync_dbs,
      journalBatchesReplayed: this.store.replayedBatches,
    });
    if (this.store.journalSetAside) logEvent(log, 'STORE_JOURNAL_SET_ASIDE', { ...this.store.journalSetAside });
    this.writePidFile();
    // Before any socket opens: the first real clients meet compiled code (warm-up.ts).
    const warmed = await warmUp(config);

    // Opened while privileged even when ping_timeout is 0, so that a reload can turn the check on.
    this.openPinger(config);
    const opened = openTransport(config.policy.transport, this.servedInterfaces(), {
      ...(this.opts.port !== undefined ? { port: this.opts.port } : {}),
      ...(this.opts.bindAddress !== undefined ? { bindAddress: this.opts.bindAddress } : {}),
      log,
      ...transportErrorLogging(log),
    });
    this.transport = opened.transport;
    this.transportKind = opened.kind;
    this.server = new DhcpServer({
      config,
      store: this.store,
      transport: this.transport,
      pinger: this.pinger,
      log,
      clock: this.clock.now,
      reverseLookup: systemReverseLookup(),
      forwardLookup: systemForwardLookup(),
    });
    this.checkClockAtStart();
    // Dynamic DNS: jobs queued with the leases, sent once their batch is on disk; those a previous run
    // left are sent now.
    const server = this.server;
    const pacer = new DdnsPacer(() => server.counters.received);
    this.ddnsWorker = new DdnsWorker(this.store, log, () => ddnsSettingsOf(this.config), dnsExchange, Date.now, pacer);
    this.server.ddns.onQueued = () => this.ddnsWorker?.kick();
    this.ddnsWorker.start();
    this.server.sweep();
    await this.startPair(config);
    await this.transport.start((packet) => {
      this.lastPacketAt = this.clock.now();
      void this.server.handle(packet);
    });
    logEvent(log, 'TRANSPORT_READY', {
      transport: this.transportKind,
      port: this.transport.port,
      interfaces: this.transport.interfaces,
    });

    this.timers.push(setInterval(() => this.server.sweep(), SWEEP_INTERVAL_MS));
    this.timers.push(setInterval(() => this.checkReread(), REREAD_CHECK_MS));
    this.timers.push(setInterval(() => this.store.probe(), STORE_PROBE_MS));
    this.timers.push(setInterval(() => this.checkClock(), CLOCK_CHECK_MS));
    this.timers.push(setInterval(() => void this.backup(), BACKUP_INTERVAL_MS));
    if (this.opts.idleExitMinutes > 0) {
      const limit = this.opts.idleExitMinutes * 60_000;
      this.timers.push(
        setInterval(
          () => {
            if (this.clock.now() - this.lastPacketAt >= limit) void this.stop();
          },
          Math.min(limit, 10_000),
        ),
      );
    }
    for (const t of this.timers) t.unref();
    await this.startOperations();
    // --user: last, once every listener (DHCP, ping, control, metrics) is open and the token file read.
    if (this.opts.runAs) {
      dropAfterStart({
        runAs: this.opts.runAs,
        spoolDir: this.opts.spoolDir,
        configDir: this.opts.configDir,
        transport: this.transportKind,
        port: this.opts.port ?? 67,
        log,
      });
    }
    logEvent(log, 'JOIND_STARTED', {
      pid: process.pid,
      configDir: this.opts.configDir,
      spoolDir: this.opts.spoolDir,
      ...(warmed ? { warmUpExchanges: warmed.exchanges, warmUpMs: warmed.ms } : {}),
    });
    void this.backup();
  }

  /**
   * The failover relationship (server.pcy `failover NAME`): the engine over the owner of the server's
   * leases, and the TCP link to the peer that feeds it. Set up once, at start (config/effect.ts).
   */
  private async startPair(config: Config): Promise<void> {
    const p = config.policy;
    if (p.failover === null || p.failover_role === null || p.failover_address === null || p.failover_peer_address === null)
      return;
    const engine = new FailoverEngine(
      {
        name: p.failover,
        role: p.failover_role,
        maxResponseDelay: p.failover_max_response_delay,
        maxUnacked: p.failover_max_unacked_updates,
        mclt: p.failover_mclt,
        split: p.failover_split,
        loadBalanceMaxSecs: p.failover_load_balance_max_secs,
        ackWaitMs: p.failover_ack_wait,
        unackedClients: p.failover_unacked_clients,
        unackedSecs: p.failover_unacked_secs,
        autoPartnerDownSecs: p.failover_auto_partner_down,
        startAlone: p.failover_start_alone,
        ignoreHardwareType: p.ignore_hardware_type,
      },
      this.store,
      this.server.leases,
      this.opts.log,
      this.clock.now,
    );
    const guard = (conn: FailoverConnection, handle: () => void): void => {
      try {
        handle();
      } catch (err) {
        logEvent(this.opts.log, 'FAILOVER_BAD_MESSAGE', {
          relationship: p.failover,
          remote: conn.remote,
          why: `engine: ${(err as Error).stack}`,
        });
        conn.close('engine error');
      }
    };
    const link = new FailoverLink(
      {
        localAddress: p.failover_address,
        localPort: p.failover_port,
        peerAddress: p.failover_peer_address,
        peerPort: p.failover_peer_port,
      },
      {
        // A fault in the engine (a bug, a store that refuses writes) costs the connection, never the
        // process: the link reconnects and the session starts over.
        onConnection: (conn) => guard(conn, () => engine.onConnection(conn)),
        onMessage: (conn, msg) => guard(conn, () => engine.onMessage(conn, msg)),
        onBadMessage: (conn, why) => guard(conn, () => engine.onBadMessage(conn, why)),
        onClose: (conn, reason) => guard(conn, () => engine.onClose(conn, reason)),
        onRefused: (remote) =>
          logEvent(this.opts.log, 'FAILOVER_LINK_DOWN', { relationship: p.failover, remote, reason: 'not the peer: refused' }),
        onError: (what, err) =>
          logEvent(this.opts.log, 'FAILOVER_LINK_DOWN', { relationship: p.failover, what, reason: err.message }),
      },
    );
    engine.start();
    this.server.setPair(engine);
    await link.start();
    this.pair = { engine, link };
  }

  /**
   * A backup copy of the committed leases (one at a time; a failure leaves the earlier copies). Skipped
   * when no lease was written since the last copy of this run: the copy is the whole database, and an
   * idle appliance's flash should not take it again every hour and at every stop (issue 17). The
   * bookkeeping writes that need no fsync (the clock's note, DNS records confirmed) do not count: a copy
   * without them loses nothing a restart cannot redo.
   */
  backup(): Promise<void> {
    if (this.backingUp) return this.backingUp;
    const writes = this.store.stats.durableWrites;
    if (writes === this.backedUpAtWrites) return Promise.resolve();
    const started = Date.now();
    this.backingUp = this.store
      .backup()
      .then(
        (file) => {
          this.backedUpAtWrites = writes;
          logEvent(this.opts.log, 'STORE_BACKUP', { file, ms: Date.now() - started });
        },
        (err: Error) => logEvent(this.opts.log, 'STORE_BACKUP_FAILED', { err: err.message }),
      )
      .finally(() => {
        this.backingUp = null;
      });
    return this.backingUp;
  }

  /**
   * Re-reads the whole configuration (SIGHUP, auto_reread). A configuration with errors is rejected and
   * the running one stays in force; each problem is logged with its file:line:column. Returns null when
   * rejected, else the keywords whose change waits for a restart (each also logged).
   */
  reload(why: 'SIGHUP' | 'auto_reread' | 'api'): string[] | null {
    const log = this.opts.log;
    const loaded = loadConfig(this.opts.configDir);
    if (!loaded.ok) {
      logEvent(log, 'CONFIG_RELOAD_REJECTED', { why, problems: loaded.problems.map(formatProblem) });
      return null;
    }
    for (const w of loaded.warnings) logEvent(log, 'CONFIG_PROBLEM', { problem: formatProblem(w) });
    // Restart-only settings (config/effect.ts): a changed one is logged and keeps its running value, so
    // the server's running configuration says what really runs.
    const next = applyOnReload(this.config, loaded.config);
    for (const notice of next.notices) logEvent(log, 'CONFIG_NEEDS_RESTART', { ...notice });
    this.capMtime = loaded.config.dhcpcap.mtimeMs;
    this.server.applyConfig(next.config);
    // A reload that turns the ping check on needs a socket, if none could be opened so far.
    if (next.config.policy.ping_timeout > 0 && !this.server.hasPinger) this.openPinger(next.config);
    // SIGHUP re-detects interfaces and addresses (a no-op for a transport that does not depend on them).
    void this.transport.refreshInterfaces(this.servedInterfaces()).then(({ failures }) => {
      for (const f of failures) logEvent(log, 'SOCKET_ERROR', { interface: f.name, err: f.error.message });
    });
    logEvent(log, 'CONFIG_RELOADED', { why });
    return next.notices.map((n) => n.keyword);
  }

  /** The configuration in force: the server's (it owns it), or the one read at start before it exists. */
  private get config(): Config {
    return this.server?.currentConfig ?? this.startConfig;
  }

  /**
   * Opens the ping socket if none is open (it needs CAP_NET_RAW) and hands it to the server. That it
   * cannot be opened is worth a warning only when the configuration wants the check.
   */
  private openPinger(config: Config): void {
    if (this.pinger) return;
    const log = this.opts.log;
    this.pinger = Pinger.open({
      warn: (fields: object, message: string) => {
        if (config.policy.ping_timeout > 0) logEvent(log, 'PING_UNAVAILABLE', { ...fields }, message);
      },
    });
    if (this.pinger) this.server?.setPinger(this.pinger);
  }

  /** Interfaces with an address in a network we serve, or those named with -i. */
  private servedInterfaces(): ReturnType<typeof listIpv4Interfaces> {
    const choice = chooseServedInterfaces(listIpv4Interfaces(), networksForServing(this.config.networks), this.opts.interfaces);
    for (const ignored of choice.ignored)
      logEvent(this.opts.log, 'INTERFACE_NOT_SERVED', { ignored: ignored.name, reason: ignored.reason }, 'interface not served');
    return choice.served;
  }

  /** auto_reread: the dhcpcap file changed since it was read. */
  private checkReread(): void {
    if (!this.config.policy.auto_reread) return;
    const file = this.config.dhcpcap.file ?? path.join(this.opts.configDir, 'dhcpcap');
    let mtime: number | null;
    try {
      mtime = fs.statSync(file).mtimeMs;
    } catch {
      mtime = null;
    }
    if (mtime !== this.capMtime) {
      this.capMtime = mtime; // a broken file is reported once, not every second
      this.reload('auto_reread');
    }
  }

  /** The control API, metrics and status page (src/control), reading the running server's state. */
  private async startOperations(): Promise<void> {
    const networks = () => networkUse(this.config.networks, this.server, this.store, this.clock.now());
    const failover = () => this.pair?.engine.status() ?? null;
    const ddns = (limit: number) => ddnsStatus(this.store, this.ddnsWorker, ddnsSettingsOf(this.config), limit);
    this.ops = await startOperations(
      {
        version: VERSION,
        log: this.opts.log,
        nowMs: this.clock.now,
        server: () => this.server,
        store: () => this.store,
        networks,
        networkLookup: () => networkLookupOf(this.config),
        failover,
        ddns,
        failoverPartnerDown: () => {
          if (!this.pair) return null;
          const refused = this.pair.engine.declarePartnerDown();
          return refused === null ? undefined : { refused };
        },
        status: () => ({
          pid: process.pid,
          uptimeSeconds: Math.round((this.clock.now() - this.startedAt) / 1000),
          configDir: this.opts.configDir,
          spoolDir: this.opts.spoolDir,
          transportKind: this.transportKind,
          ...this.describeState(),
        }),
        reload: () => {
          const loaded = loadConfig(this.opts.configDir);
          if (!loaded.ok) return { ok: false, problems: loaded.problems };
          const needsRestart = this.reload('api');
          return needsRestart ? { ok: true, needsRestart } : { ok: false, problems: [] };
        },
      },
      {
        counters: () => this.server.counters,
        allocator: () => this.server.allocator.counters,
        store: () => ({ ...this.store.stats, checkpoints: this.store.backgroundCheckpoints }),
        storeWritable: () => this.store.fault === null,
        transport: () => this.transport.stats(),
        networks,
        failover,
        ddns: () => ddns(0),
      },
      this.config.policy,
      this.opts.spoolDir,
    );
  }

  /** The state, for SIGUSR1. */
  describeState(): Record<string, unknown> {
    const now = this.clock.now();
    const pools: Record<string, unknown> = {};
    for (const net of this.config.networks) {
      const pool = this.server.poolOf(net.address);
      if (pool)
        pools[String(net.address)] = { free: pool.freeListLength(), provisional: pool.provisionalCount(now), ...pool.counters };
    }
    // The transport's own drops (bad frames, kernel buffer overruns) happen before the server sees a packet.
    const transport = this.transport.stats();
    return {
      counters: this.server.counters,
      allocator: this.server.allocator.counters,
      store: this.store.stats,
      pools,
      transport,
    };
  }

  /** Orderly stop: no more packets, everything committed, pid file removed. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      logEvent(this.opts.log, 'JOIND_STOPPING', {});
      for (const t of this.timers) clearInterval(t);
      await this.ops?.close();
      await this.transport?.close();
      if (this.pair) {
        await this.pair.link.stop();
        this.pair.engine.stop();
      }
      this.pinger?.close();
      this.ddnsWorker?.stop();
      if (this.store) {
        this.noteClock();
        this.store.flush();
        await this.backup();
        this.store.close();
      }
      try {
        fs.unlinkSync(this.pidFile);
      } catch {
        // already gone
      }
      logEvent(this.opts.log, 'JOIND_STOPPED', {});
    })();
    return this.stopping;
  }

  /**
   * At start: a wall clock behind the latest time the store was written at went back while joind was
   * stopped (an appliance that boots at its firmware's build date, or a clock set back by hand). The
   * store's times move back with it, so that no lease holds its address for the size of the step, as if
   * joind had been stopped for no time at all (the safe guess: a lease may outlive its end by the real
   * downtime, no address of a valid lease goes to another client). A clock that went forward while
   * joind was stopped cannot be told from the time it was stopped: the leases that ended meanwhile end.
   */
  private checkClockAtStart(): void {
    const seen = this.store.clock.seen();
    const nowMs = this.clock.now();
    if (seen !== undefined && seen * 1000 - nowMs >= STEP_MS) this.stepped(nowMs - seen * 1000, 'while stopped');
    this.noteClock();
  }

  /** Once a second: a step of the wall clock moves the store's times, then the lease clock follows. */
  private checkClock(): void {
    const step = this.clock.check();
    if (step !== 0) this.stepped(step, 'while running');
    if (this.clock.now() - this.clockNotedAt >= CLOCK_NOTE_MS) this.noteClock();
  }

  private stepped(stepMs: number, when: 'while stopped' | 'while running'): void {
    // While running the lease clock still reads the store's time; at start it already reads the new one.
    const from = when === 'while running' ? this.clock.now() : this.clock.now() - stepMs;
    try {
      const rows = this.server.shiftTime(stepMs);
      this.pair?.engine.shiftTime(Math.round(stepMs / 1000));
      this.clock.adopt();
      logEvent(this.opts.log, 'CLOCK_STEP', {
        seconds: Math.round(stepMs / 1000),
        when,
        from: new Date(from).toISOString(),
        to: new Date(from + stepMs).toISOString(),
        leasesMoved: rows.leases,
        ddnsJobsMoved: rows.ddnsJobs,
      });
    } catch (err) {
      // Not moved, so not adopted: the lease clock keeps the store's time and the next check tries again.
      logEvent(this.opts.log, 'STORE_WRITE_FAILED', { what: 'clock step', err: (err as Error).message });
    }
  }

  /** Records the time in the store (with the next batch; a crash may lose it at no cost). */
  private noteClock(): void {
    const nowMs = this.clock.now();
    try {
      this.store.writeUnsynced(() => this.store.clock.note(Math.floor(nowMs / 1000)));
      this.clockNotedAt = nowMs;
    } catch {
      // a store that refuses writes says so itself (STORE_UNWRITABLE)
    }
  }

  private writePidFile(): void {
    fs.writeFileSync(this.pidFile, `${process.pid}\n`);
  }
}
