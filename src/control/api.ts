// The control API: HTTP/JSON routes over what the running server holds. Writes run on the server's own
// event loop inside its store batch, and answer only once committed, so an admin change is as durable
// as a lease and the in-memory pools learn of it at once (see src/admin/load.ts for the rule).
import { applyLoad, dnsRecordFromJson, keepDnsRecords, LoadOptions, LoadResult, NetworkLookup } from '../admin/load';
import type { LeaseOwner } from '../alloc/lease-owner';
import { leaseToJson, parseHex, parseRecords } from '../admin/records';
import { selects, Selection } from '../admin/select';
import type { Problem } from '../config/types';
import { formatProblem } from '../config/problems';
import type { HttpReply } from '../io/http';
import { logEvent, Logger } from '../log/logger';
import type { DhcpServer } from '../server/server';
import type { NetworkUse } from '../server/status';
import type { PairStatus } from '../pair/engine';
import type { DdnsStatus } from '../ddns/status';
import type { Store } from '../store/store';
import { LeaseRecord, LeaseState } from '../store/types';
import { ipToString, parseIp } from '../util/ipv4';
import { STATUS_PAGE, STATUS_SCRIPT } from './page';

/** What the API needs of the running daemon. */
export interface ControlHost {
  version: string;
  log: Logger;
  /** The server's clock (milliseconds): leases are judged by the time the server judges them by. */
  nowMs(): number;
  server(): DhcpServer;
  store(): Store;
  networks(): NetworkUse[];
  networkLookup(): NetworkLookup;
  status(): Record<string, unknown>;
  /** The failover relationship's state (`joind ctl failover`), or null when none is configured. */
  failover(): PairStatus | null;
  /** Declares the failover peer down; why not (no relationship: null status), or undefined when done. */
  failoverPartnerDown(): { refused: string } | null | undefined;
  /** Dynamic DNS: on or off, the queue and its earliest `limit` jobs (`joind ctl ddns`). */
  ddns(limit: number): DdnsStatus;
  /** Validates the configuration directory and puts it in force; the problems when it was refused. */
  /** `needsRestart`: the restart-only keywords whose new value waits for a restart. */
  reload(): { ok: true; needsRestart: string[] } | { ok: false; problems: Problem[] };
  history(): unknown[];
}

export interface ApiRequest {
  method: string;
  url: URL;
  body: string;
}

const json = (status: number, value: unknown): HttpReply => ({
  status,
  body: `${JSON.stringify(value)}\n`,
  contentType: 'application/json',
});
const fail = (status: number, error: string): HttpReply => json(status, { error });

class BadRequest extends Error {}

function parseBody(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new BadRequest('the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequest('the body must be a JSON object');
  return value as Record<string, unknown>;
}

function addressOf(text: string | undefined): number {
  const address = text === undefined ? undefined : parseIp(decodeURIComponent(text));
  if (address === undefined) throw new BadRequest(`"${text ?? ''}" is not an IPv4 address`);
  return address;
}

export class ControlApi {
  constructor(private readonly host: ControlHost) {}

  /** Commits the lease journal's batches to the database, for a reader in another process (admin-common.ts). */
  private publish(): Promise<HttpReply> {
    return new Promise((resolve) => {
      this.host
        .store()
        .whenPublished((err) =>
          resolve(err ? fail(503, `the lease database could not be committed: ${err.message}`) : json(200, { published: true })),
        );
    });
  }

  private nowSec(): number {
    return Math.floor(this.host.nowMs() / 1000);
  }

  async handle(req: ApiRequest): Promise<HttpReply> {
    try {
      return await this.route(req);
    } catch (err) {
      if (err instanceof BadRequest) return fail(400, err.message);
      throw err;
    }
  }

  private async route(req: ApiRequest): Promise<HttpReply> {
    const parts = req.url.pathname.split('/').filter((p) => p !== '');
    const route = `${req.method} /${parts.map((p, i) => (i >= 2 && /^[\d.]+$/.test(p) ? ':ip' : p)).join('/')}`;
    switch (route) {
      case 'GET /':
      case 'GET /status':
        return { status: 200, body: STATUS_PAGE, contentType: 'text/html; charset=utf-8' };
      case 'GET /status.js':
        return { status: 200, body: STATUS_SCRIPT, contentType: 'text/javascript; charset=utf-8' };
      case 'GET /v1/version':
        return json(200, { version: this.host.version });
      case 'GET /v1/status':
        return json(200, { version: this.host.version, ...this.host.status() });
      case 'GET /v1/failover': {
        const pair = this.host.failover();
        return pair ? json(200, pair) : fail(404, 'no failover relationship is configured (server.pcy failover NAME)');
      }
      case 'POST /v1/failover/partner-down': {
        const refused = this.host.failoverPartnerDown();
        if (refused === null) return fail(404, 'no failover relationship is configured (server.pcy failover NAME)');
        if (refused) return fail(409, refused.refused);
        logEvent(this.host.log, 'OPS_CHANGE', { what: 'failover partner-down' });
        return json(200, this.host.failover());
      }
      case 'GET /v1/ddns': {
        const limit = Number(req.url.searchParams.get('limit') ?? 50);
        if (!Number.isInteger(limit) || limit < 0 || limit > 10000) throw new BadRequest('limit: a whole number from 0 to 10000');
        return json(200, this.host.ddns(limit));
      }
      case 'GET /v1/pools':
        return json(200, { networks: this.host.networks() });
      case 'GET /v1/history':
        return json(200, { samples: this.host.history() });
      case 'GET /v1/leases':
        return this.listLeases(req.url.searchParams);
      case 'GET /v1/leases/:ip': {
        const lease = this.host.store().leases.get(addressOf(parts[2]));
        return lease ? json(200, leaseToJson(lease)) : fail(404, `${parts[2]} has no lease record`);
      }
      case 'POST /v1/leases/:ip/release':
        return this.release(addressOf(parts[2]));
      case 'DELETE /v1/leases/:ip':
        return this.remove(addressOf(parts[2]), false);
      case 'POST /v1/bindings':
        return this.addBinding(parseBody(req.body));
      case 'DELETE /v1/bindings/:ip':
        return this.remove(addressOf(parts[2]), true);
      case 'POST /v1/reload': {
        const result = this.host.reload();
        return result.ok
          ? json(200, { reloaded: true, needsRestart: result.needsRestart })
          : json(409, {
              error: 'the configuration has errors; the running one stays in force',
              problems: result.problems.map(formatProblem),
            });
      }
      case 'POST /v1/store/publish':
        return this.publish();
      case 'POST /v1/load':
        return this.load(parseBody(req.body));
      case 'POST /v1/register':
        return this.register(parseBody(req.body));
      default:
        return fail(404, `no such route: ${req.method} ${req.url.pathname}`);
    }
  }

  private listLeases(q: URLSearchParams): HttpReply {
    const limit = Math.min(Number(q.get('limit') ?? 1000) || 1000, 100_000);
    const store = this.host.store();
    if (q.get('recent') !== null) return json(200, { leases: store.leases.mostRecent(limit).map(leaseToJson) });
    const sel: Selection = {};
    if (q.get('state') === 'active') sel.active = true;
    if (q.get('state') === 'expired') sel.expired = true;
    const search = q.get('search');
    if (search) sel.search = search;
    const t = this.nowSec();
    const leases: LeaseRecord[] = [];
    for (const lease of store.leases.all()) {
      if (!selects(lease, sel, t)) continue;
      leases.push(lease);
      if (leases.length >= limit) break;
    }
    return json(200, { leases: leases.map(leaseToJson) });
  }

  /**
   * Runs a change in the server's current batch; resolves once it is committed. Lease records change
   * only through the server's lease owner, which keeps the pools in step.
   */
  private commit<T>(change: (store: Store, leases: LeaseOwner) => T): Promise<T> {
    const store = this.host.store();
    const leases = this.host.server().leases;
    const result = store.write(() => change(store, leases));
    return new Promise((resolve, reject) => store.whenDurable((err) => (err ? reject(err) : resolve(result))));
  }

  private async release(address: number): Promise<HttpReply> {
    const outcome = await this.commit((_store, leases) => leases.release(address, this.nowSec()));
    if (outcome === 'no-record') return fail(404, `${ipToString(address)} has no lease record`);
    if (typeof outcome === 'string') {
      const state = LeaseState[this.host.store().leases.get(address)?.state ?? LeaseState.EXPIRED].toLowerCase();
      return fail(409, `${ipToString(address)} is ${state}, not an active lease`);
    }
    logEvent(this.host.log, 'OPS_CHANGE', { what: 'release', address: ipToString(address) });
    return json(200, leaseToJson(outcome));
  }

  private async remove(address: number, bindingOnly: boolean): Promise<HttpReply> {
    const lease = this.host.store().leases.get(address);
    if (!lease) return fail(404, `${ipToString(address)} has no ${bindingOnly ? 'binding' : 'lease record'}`);
    if (bindingOnly && lease.state !== LeaseState.STATIC) return fail(409, `${ipToString(address)} is not a static binding`);
    await this.commit((_store, leases) => leases.delete(address));
    logEvent(this.host.log, 'OPS_CHANGE', { what: bindingOnly ? 'remove-binding' : 'delete', address: ipToString(address) });
    return json(200, { deleted: ipToString(address) });
  }

  private async addBinding(body: Record<string, unknown>): Promise<HttpReply> {
    const address = addressOf(typeof body.address === 'string' ? body.address : undefined);
    const hwaddr = typeof body.hwaddr === 'string' ? parseHex(body.hwaddr) : undefined;
    if (!hwaddr) throw new BadRequest('hwaddr: expected hex bytes like 08:00:2b:12:34:56');
    const htype = typeof body.htype === 'number' ? body.htype : 1;
    const hostname = typeof body.hostname === 'string' ? body.hostname : null;
    const t = this.nowSec();
    const record: LeaseRecord = {
      address,
      network: 0,
      client: { type: htype, id: hwaddr },
      htype,
      hwaddr,
      clientId: null,
      starts: t,
      ends: null,
      cltt: t,
      state: LeaseState.STATIC,
      clientHostname: null,
      hostname,
    };
    const options: LoadOptions = {
      delete: false,
      expired: true,
      takeBound: body.force === true,
      leases: true,
      names: false,
      ownedOnly: false,
      overwrite: true,
    };
    const result = await this.applyRecords([{ kind: 'lease', line: 1, lease: record }], options);
    if (!result.ok) return json(409, { error: result.problems[0]?.message ?? 'refused', problems: result.problems });
    logEvent(this.host.log, 'OPS_CHANGE', { what: 'add-binding', address: ipToString(address) });
    return json(201, leaseToJson(this.host.store().leases.get(address)!));
  }

  /** Applies records in one batch; `then` runs in the same batch after a load that succeeded. */
  private async applyRecords(
    records: Parameters<typeof applyLoad>[2],
    options: LoadOptions,
    then?: (store: Store, loaded: LoadResult) => void,
  ): Promise<LoadResult> {
    return this.commit((store, leases) => {
      const loaded = applyLoad(store, leases, records, options, this.host.networkLookup(), this.nowSec());
      if (loaded.ok) then?.(store, loaded);
      return loaded;
    });
  }

  private async load(body: Record<string, unknown>): Promise<HttpReply> {
    const separator = typeof body.separator === 'string' && body.separator.length === 1 ? body.separator : '|';
    if (typeof body.text !== 'string') throw new BadRequest('text: the records to load');
    const o = (body.options ?? {}) as Partial<Record<keyof LoadOptions, unknown>>;
    const options: LoadOptions = {
      delete: o.delete === true,
      expired: o.expired === true,
      takeBound: o.takeBound === true,
      leases: o.leases !== false,
      names: o.names !== false,
      ownedOnly: o.ownedOnly === true,
      overwrite: o.overwrite === true,
    };
    const parsed = parseRecords(body.text, separator, this.nowSec());
    if (parsed.problems.length > 0) {
      return json(409, { ok: false, problems: parsed.problems, loaded: 0, deleted: 0, skipped: [] } satisfies LoadResult);
    }
    // What another server wrote to DNS for these leases (joind import of dhcpd's set ddns-…).
    if (body.dns !== undefined && !Array.isArray(body.dns)) throw new BadRequest('dns: a list of DNS record states');
    const dns = ((body.dns ?? []) as unknown[]).map((entry, i) => {
      const record = dnsRecordFromJson(entry, this.nowSec());
      if (typeof record === 'string') throw new BadRequest(`dns[${i}]: ${record}`);
      return record;
    });
    const clientAt = new Map<number, LeaseRecord['client']>();
    for (const r of parsed.records) if (r.kind === 'lease') clientAt.set(r.lease.address, r.lease.client);
    const result = await this.applyRecords(parsed.records, options, (store, loaded) => {
      if (dns.length === 0) return;
      const entries = dns.map((record) => ({ client: clientAt.get(record.address) ?? null, dns: record }));
      loaded.dnsKept = keepDnsRecords(store, entries, options.overwrite);
    });
    if (result.ok)
      logEvent(this.host.log, 'OPS_CHANGE', {
        what: options.delete ? 'load-delete' : 'load',
        loaded: result.loaded,
        deleted: result.deleted,
      });
    return json(result.ok ? 200 : 409, result);
  }

  private async register(body: Record<string, unknown>): Promise<HttpReply> {
    if (!Array.isArray(body.entries)) throw new BadRequest('entries: a list of { htype, hwaddr }');
    const entries = body.entries.map((e: unknown) => {
      const entry = e as { htype?: unknown; hwaddr?: unknown };
      if (typeof entry.htype !== 'number' || typeof entry.hwaddr !== 'string' || !/^([0-9a-f]{2})+$/.test(entry.hwaddr)) {
        throw new BadRequest('each entry is { htype: number, hwaddr: "hex" }');
      }
      return { htype: entry.htype, hwaddr: Buffer.from(entry.hwaddr, 'hex') };
    });
    const remove = body.remove === true;
    const changed = await this.commit(
      (store) =>
        entries.filter((e) =>
          remove ? store.registered.unregister(e.htype, e.hwaddr) : store.registered.register(e.htype, e.hwaddr),
        ).length,
    );
    logEvent(this.host.log, 'OPS_CHANGE', { what: remove ? 'unregister' : 'register', changed });
    return json(200, { changed });
  }
}
