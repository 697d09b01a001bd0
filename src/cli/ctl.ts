// `joind ctl …`: the control API of a running joind from the command line. JSON answers are printed as
// they come (for scripts); `pools` also as a table.
import type { DdnsStatus } from '../ddns/status';
import fs from 'node:fs';
import { Command } from 'commander';
import { AdminError, DirOptions } from './admin-common';
import { ControlEndpoint, controlRequest, ControlUnavailable } from './control-client';
import { resolveDirs } from './dirs';

interface CtlOptions extends DirOptions {
  url?: string;
  tokenFile?: string;
}

function endpoint(o: CtlOptions): ControlEndpoint {
  const ep: ControlEndpoint = { spoolDir: resolveDirs(o).spoolDir };
  if (o.url) ep.url = o.url;
  if (o.tokenFile) {
    try {
      ep.token = fs.readFileSync(o.tokenFile, 'utf8').split('\n')[0]!.trim();
    } catch (err) {
      throw new AdminError(`cannot read the token: ${(err as Error).message}`, 2);
    }
  }
  return ep;
}

async function call(o: CtlOptions, method: string, path: string, body?: unknown): Promise<unknown> {
  try {
    return await controlRequest(endpoint(o), method, path, body);
  } catch (err) {
    if (err instanceof ControlUnavailable) throw new AdminError(`no joind answers on its control socket (${err.message})`);
    throw err;
  }
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

interface PoolRow {
  network: string;
  prefixLength: number;
  total: number;
  assigned: number;
  offered: number;
  abandoned: number;
  free: number;
}

interface FailoverRow {
  relationship: string;
  role: string;
  state: string;
  stos: number;
  partnerState: string | null;
  service: string;
  note: string | null;
  link: string;
  mclt: number;
  unackedUpdates: number;
  queuedUpdates: number;
  free: number;
  backup: number;
}

export function ctlCommand(): Command {
  const ctl = new Command('ctl').description("talk to a running joind's control API");
  const sub = (name: string, description: string): Command => {
    const c = ctl
      .command(name)
      .description(description)
      .option('--spool-dir <dir>', 'spool directory holding joind.sock (overrides $JOINSPOOL, default /var/join)')
      .option('--url <host:port>', 'the TCP listener (control_listen) instead of the socket')
      .option('--token-file <file>', 'file whose first line is the token for --url');
    return c;
  };
  sub('status', 'server status, counters and version').action(async (o: CtlOptions) => print(await call(o, 'GET', '/v1/status')));
  sub('version', "the running server's version").action(async (o: CtlOptions) => print(await call(o, 'GET', '/v1/version')));
  sub('pools', 'pool use per network')
    .option('--json', 'JSON')
    .action(async (o: CtlOptions & { json?: boolean }) => {
      const answer = (await call(o, 'GET', '/v1/pools')) as { networks: PoolRow[] };
      if (o.json) return print(answer);
      process.stdout.write('NETWORK             TOTAL  USED  OFFERED  ABANDONED  FREE\n');
      for (const n of answer.networks) {
        process.stdout.write(
          `${`${n.network}/${n.prefixLength}`.padEnd(18)}  ${String(n.total).padStart(5)} ${String(n.assigned).padStart(5)} ${String(n.offered).padStart(8)} ${String(n.abandoned).padStart(10)} ${String(n.free).padStart(5)}\n`,
        );
      }
    });
  sub('failover', 'the failover relationship: states, link, updates, free and backup addresses')
    .argument('[action]', "partner-down: declare the peer down (the link must be down; the peer's addresses follow after MCLT)")
    .option('--json', 'JSON')
    .action(async (action: string | undefined, o: CtlOptions & { json?: boolean }) => {
      if (action !== undefined && action !== 'partner-down')
        throw new AdminError(`unknown failover action ${action}: partner-down is the one there is`, 2);
      const f = (await call(o, action ? 'POST' : 'GET', action ? '/v1/failover/partner-down' : '/v1/failover')) as FailoverRow;
      if (o.json) return print(f);
      const since = new Date(f.stos * 1000).toISOString();
      process.stdout.write(
        `failover ${f.relationship} (${f.role}): ${f.state} since ${since}, partner ${f.partnerState ?? 'unknown'}, link ${f.link}\n` +
          `  serving ${f.service}; mclt ${f.mclt} s; updates unacked ${f.unackedUpdates}, queued ${f.queuedUpdates}\n` +
          `  free (primary's) ${f.free}, backup (secondary's) ${f.backup}\n` +
          (f.note ? `  ${f.note}\n` : ''),
      );
    });
  sub('ddns', 'dynamic DNS: on or off, the server, the queue and its earliest jobs')
    .option('--limit <n>', 'at most n jobs (default 50)')
    .option('--json', 'JSON')
    .action(async (o: CtlOptions & { limit?: string; json?: boolean }) => {
      const d = (await call(o, 'GET', `/v1/ddns?limit=${encodeURIComponent(o.limit ?? '50')}`)) as DdnsStatus;
      if (o.json) return print(d);
      process.stdout.write(
        (d.enabled ? `ddns on: updates to ${d.server}, ${d.key ? `signed with key ${d.key}` : 'unsigned'}\n` : 'ddns off\n') +
          `  queued ${d.queued} (sending ${d.inFlight}${d.pacedPerSecond === null ? '' : `, held to ${d.pacedPerSecond}/s by the DHCP load`}); since the start: updated ${d.updated}, removed ${d.removed}, conflicts ${d.conflicts}, failed tries ${d.failures}\n`,
      );
      if (d.jobs.length === 0) return;
      process.stdout.write('ADDRESS          OP      DUE                       TRIES  NAME / LAST ERROR\n');
      for (const j of d.jobs) {
        process.stdout.write(
          `${j.address.padEnd(15)}  ${j.op.padEnd(6)}  ${j.due.padEnd(24)}  ${String(j.attempts).padStart(5)}  ${j.fqdn ?? '-'}${j.lastError ? `  (${j.lastError})` : ''}\n`,
        );
      }
    });
  sub('leases', 'list leases')
    .option('--search <text>', 'address, hardware address or name contains')
    .option('--state <state>', 'active or expired')
    .option('--recent', 'most recently changed first')
    .option('--limit <n>', 'at most n')
    .action(async (o: CtlOptions & { search?: string; state?: string; recent?: boolean; limit?: string }) => {
      const q = new URLSearchParams();
      if (o.search) q.set('search', o.search);
      if (o.state) q.set('state', o.state);
      if (o.recent) q.set('recent', '1');
      if (o.limit) q.set('limit', o.limit);
      print(await call(o, 'GET', `/v1/leases?${q}`));
    });
  sub('lease', 'one lease record')
    .argument('<address>')
    .action(async (a: string, o: CtlOptions) => print(await call(o, 'GET', `/v1/leases/${encodeURIComponent(a)}`)));
  sub('release', 'end an active lease now (the record stays)')
    .argument('<address>')
    .action(async (a: string, o: CtlOptions) => print(await call(o, 'POST', `/v1/leases/${encodeURIComponent(a)}/release`)));
  sub('delete', 'delete a lease record (the address is free again)')
    .argument('<address>')
    .action(async (a: string, o: CtlOptions) => print(await call(o, 'DELETE', `/v1/leases/${encodeURIComponent(a)}`)));
  sub('bind', 'add a static binding of an address to a hardware address')
    .argument('<address>')
    .argument('<hwaddr>')
    .option('--hostname <name>', 'the name to give')
    .option('--htype <n>', 'hardware type (1 = Ethernet)', '1')
    .option('--force', 'take the address even when another client holds it')
    .action(async (a: string, hw: string, o: CtlOptions & { hostname?: string; htype: string; force?: boolean }) =>
      print(
        await call(o, 'POST', '/v1/bindings', {
          address: a,
          hwaddr: hw,
          htype: Number(o.htype),
          ...(o.hostname ? { hostname: o.hostname } : {}),
          force: !!o.force,
        }),
      ),
    );
  sub('unbind', 'remove a static binding')
    .argument('<address>')
    .action(async (a: string, o: CtlOptions) => print(await call(o, 'DELETE', `/v1/bindings/${encodeURIComponent(a)}`)));
  sub('reload', 're-read the configuration (validated first; a bad one is refused with its problems)').action(
    async (o: CtlOptions) => print(await call(o, 'POST', '/v1/reload')),
  );
  sub('commit', 'commit the lease journal to the database now (before copying joind.db, say)').action(async (o: CtlOptions) =>
    print(await call(o, 'POST', '/v1/store/publish')),
  );
  return ctl;
}
