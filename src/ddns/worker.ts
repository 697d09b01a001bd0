// The dynamic DNS worker: sends the queued jobs (src/ddns/queue.ts) to the DNS server once the lease
// batch that wrote them is on disk, and writes back what the server confirmed. A job that fails (the
// server silent, refusing, or refusing our signature) stays queued and is tried again with a growing
// delay, from 1 s up to 5 min: a DNS outage costs nothing but time, and a restart (or SIGKILL) loses
// nothing, since the queue is in the store.
//
// What the worker writes back (records confirmed, jobs done or due again) is written unsynced: a crash
// may only undo it, and then a job is sent again, which changes nothing in DNS (the sequences are
// idempotent). So the worker never costs the packet path an fsync of its own.
//
// One job per address at a time; at most MAX_IN_FLIGHT jobs at once. Per job: first undo what DNS
// holds for the address by our doing when it is not what the job wants (another name, or nothing),
// then the RFC 4703 sequence (plan.ts) for the new name, forward before reverse. Under a DHCP load that
// fills the event loop, the pacer (pacer.ts) holds job starts back to what the packet path leaves.
import { randomInt } from 'node:crypto';
import type { TsigKey } from '../dns/tsig';
import { signMessage, verifyAnswer } from '../dns/tsig';
import {
  DnsClass,
  DnsType,
  Rcode,
  decodeMessage,
  encodeQuery,
  encodeUpdate,
  rcodeName,
  soaPrimary,
  type DecodedMessage,
  type UpdateRequest,
} from '../dns/message';
import { lookupIpv4, systemNameServer, type DnsServer, type ExchangeResult } from '../io/dns-client';
import type { DdnsPacer } from './pacer';
import type { Store } from '../store/store';
import type { DdnsJob, DnsRecordState } from '../store/types';
import { logEvent, type Logger } from '../log/logger';
import { ipToString } from '../util/ipv4';
import {
  addName,
  removeAddress,
  removeName,
  removeReverse,
  replaceName,
  reverseName,
  setReverse,
  type Guard,
  type LeaseName,
} from './plan';

/** What the worker needs of the running configuration; null while dynamic DNS is off. */
export interface DdnsSettings {
  /** ddns_server; null: each zone's primary master, as its SOA names it (asked of the system resolver). */
  server: DnsServer | null;
  key: TsigKey | null;
}

/** A zone, and the server that takes its updates. */
interface Zone {
  name: string;
  server: DnsServer;
}

export type Exchange = (server: DnsServer, request: Buffer, timeoutMs: number) => Promise<ExchangeResult>;

const MAX_IN_FLIGHT = 16;
const EXCHANGE_TIMEOUT_MS = 2000;
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 300_000;
/** How long a zone found by SOA query (and its server) is believed. */
const ZONE_CACHE_MS = 3600_000;

/** Why a job could not finish now; it is tried again later. */
class Retry extends Error {}

export interface DdnsCounters {
  updated: number;
  removed: number;
  conflicts: number;
  failures: number;
}

export class DdnsWorker {
  readonly counters: DdnsCounters = { updated: 0, removed: 0, conflicts: 0, failures: 0 };
  private readonly inFlight = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private kickPending = false;
  /** Zones found by SOA query: zone name → its server, and until when it is believed (ms). */
  private readonly zones = new Map<string, { server: DnsServer; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly settings: () => DdnsSettings | null,
    private readonly exchange: Exchange,
    private readonly nowMs: () => number = Date.now,
    private readonly pacer: DdnsPacer | null = null,
  ) {}

  /** A job was queued: run once the batch that wrote it is on disk. */
  kick(): void {
    // One wait per batch, however many jobs it wrote.
    if (this.stopped || this.kickPending) return;
    this.kickPending = true;
    this.store.whenDurable((err) => {
      this.kickPending = false;
      if (!err) this.schedule(0);
    });
  }

  /** Runs the queue from the store (at start: jobs a previous run left). */
  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** Job starts allowed per second while the DHCP load holds DNS back (pacer.ts); null when not held. */
  get pacedPerSecond(): number | null {
    return this.pacer?.pacedPerSecond ?? null;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), Math.max(0, Math.min(delayMs, 0x7fffffff)));
    this.timer.unref();
  }

  /** Starts the due jobs there is room for, and sets the timer for the next one. */
  private run(): void {
    this.timer = null;
    const settings = this.settings();
    if (this.stopped || !settings) return;
    // Paced: not even the queue's query while the packet path needs the loop.
    if (this.pacer && !this.pacer.mayStart()) return this.schedule(this.pacer.waitMs());
    const now = this.nowMs();
    const room = MAX_IN_FLIGHT - this.inFlight.size;
    let paced = false;
    if (room > 0) {
      for (const job of this.store.ddns.due(now, room + this.inFlight.size)) {
        if (this.inFlight.size >= MAX_IN_FLIGHT) break;
        if (this.inFlight.has(job.address)) continue;
        if (this.pacer && !this.pacer.take()) {
          paced = true;
          break;
        }
        this.inFlight.add(job.address);
        void this.runJob(job, settings)
          // Only a store that refuses the retry's own write gets here: the job stays as it was, due.
          .catch((err: Error) =>
            logEvent(this.log, 'DDNS_UPDATE_FAILED', { address: ipToString(job.address), error: err.message }),
          )
          .finally(() => {
            this.inFlight.delete(job.address);
            this.schedule(0);
          });
      }
    }
    if (paced) return this.schedule(this.pacer!.waitMs());
    const next = this.store.ddns.nextDue();
    if (next !== null && this.inFlight.size < MAX_IN_FLIGHT) this.schedule(next - now);
  }

  private async runJob(job: DdnsJob, settings: DdnsSettings): Promise<void> {
    try {
      const held = this.store.ddns.record(job.address);
      const wanted = job.op !== 'remove' && job.fqdn && job.guard && job.guardType !== null ? job : null;
      // Our A goes too when the client now writes its own (a reverse job after an add).
      const differs =
        wanted && (held?.fqdn !== wanted.fqdn || !held.guard.equals(wanted.guard!) || (held.forward && wanted.op === 'reverse'));
      if (held && (!wanted || differs)) {
        await this.undo(held, settings);
        this.store.writeUnsynced(() => this.store.ddns.deleteRecord(job.address));
        this.counters.removed++;
        logEvent(this.log, 'DDNS_REMOVED', { fqdn: held.fqdn, address: ipToString(held.address) });
      }
      if (wanted) await this.add(job, settings);
      this.store.writeUnsynced(() => this.store.ddns.finish(job));
    } catch (err) {
      // Stopped meanwhile (the store may be closed): the job stays queued for the next start.
      if (this.stopped) return;
      const delay = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(job.attempts, 20));
      const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
      this.counters.failures++;
      const message = err instanceof Retry ? err.message : `unexpected: ${(err as Error).message}`;
      this.store.writeUnsynced(() => this.store.ddns.retry(job, this.nowMs() + jittered, message));
      logEvent(this.log, 'DDNS_UPDATE_FAILED', {
        address: ipToString(job.address),
        fqdn: job.fqdn,
        attempts: job.attempts + 1,
        retryInMs: jittered,
        error: message,
      });
    }
  }

  /** The RFC 4703 add: forward (add, else replace if the guard is ours), then the PTR. */
  private async add(job: DdnsJob, settings: DdnsSettings): Promise<void> {
    const name: LeaseName = {
      fqdn: job.fqdn!,
      address: job.address,
      guard: { type: job.guardType as Guard['type'], rdata: job.guard! },
      ttl: job.ttl ?? 3600,
    };
    const state: DnsRecordState = {
      address: name.address,
      fqdn: name.fqdn,
      guardType: name.guard.type,
      guard: name.guard.rdata,
      forward: job.op === 'add',
      reverse: false,
      written: Math.floor(this.nowMs() / 1000),
    };
    if (state.forward && !(await this.addForward(name, settings))) return;
    this.store.writeUnsynced(() => this.store.ddns.putRecord(state));
    const reverseZone = await this.zoneOf(reverseName(name.address), settings);
    this.expectSuccess(
      await this.update(setReverse(this.id(), reverseZone.name, name), reverseZone, settings),
      `setting the PTR of ${ipToString(name.address)}`,
    );
    this.store.writeUnsynced(() => this.store.ddns.putRecord({ ...state, reverse: true }));
    this.counters.updated++;
    logEvent(this.log, 'DDNS_UPDATED', {
      fqdn: name.fqdn,
      address: ipToString(name.address),
      ttl: name.ttl,
      ...(state.forward ? {} : { only: 'PTR' }),
    });
  }

  /** The forward half of the add; false when the name is someone else's (a conflict: no PTR either). */
  private async addForward(name: LeaseName, settings: DdnsSettings): Promise<boolean> {
    const zone = await this.forwardZoneOf(name.fqdn, settings);
    let rcode = await this.update(addName(this.id(), zone.name, name), zone, settings);
    if (rcode === Rcode.YXDOMAIN) {
      rcode = await this.update(replaceName(this.id(), zone.name, name), zone, settings);
      // Gone between the two: add again (next try).
      if (rcode === Rcode.NXDOMAIN) throw new Retry(`${name.fqdn} vanished between add and replace`);
    }
    if (rcode === Rcode.NXRRSET || rcode === Rcode.YXRRSET) {
      // The name is another client's (its guard differs) or an administrator's (no guard): never taken.
      this.counters.conflicts++;
      logEvent(this.log, 'DDNS_CONFLICT', { fqdn: name.fqdn, address: ipToString(name.address) });
      return false;
    }
    this.expectSuccess(rcode, `adding ${name.fqdn}`);
    return true;
  }

  /** Removes what DNS holds for the address by our doing: our A, the name if nothing is left, the PTR. */
  private async undo(held: DnsRecordState, settings: DdnsSettings): Promise<void> {
    const name: LeaseName = {
      fqdn: held.fqdn,
      address: held.address,
      guard: { type: held.guardType as Guard['type'], rdata: held.guard },
      ttl: 0,
    };
    if (held.forward) {
      const zone = await this.forwardZoneOf(held.fqdn, settings);
      // A failed prerequisite means the records are no longer ours (or gone): nothing to remove.
      const removed = `removing ${held.fqdn}`;
      this.expectSuccess(await this.update(removeAddress(this.id(), zone.name, name), zone, settings), removed, true);
      this.expectSuccess(await this.update(removeName(this.id(), zone.name, name), zone, settings), removed, true);
    }
    if (held.reverse) {
      const zone = await this.zoneOf(reverseName(held.address), settings);
      this.expectSuccess(
        await this.update(removeReverse(this.id(), zone.name, name), zone, settings),
        `removing the PTR of ${ipToString(held.address)}`,
        true,
      );
    }
  }

  /** NOERROR goes on; with `prerequisiteMayFail`, a failed prerequisite too; anything else retries. */
  private expectSuccess(rcode: number, what: string, prerequisiteMayFail = false): void {
    if (rcode === Rcode.NOERROR) return;
    const failedPrerequisite =
      rcode === Rcode.NXRRSET || rcode === Rcode.YXRRSET || rcode === Rcode.NXDOMAIN || rcode === Rcode.YXDOMAIN;
    if (prerequisiteMayFail && failedPrerequisite) return;
    throw new Retry(`${what}: the server answered ${rcodeName(rcode)}`);
  }

  /** Sends one UPDATE to the zone's server (signed when there is a key); the RCODE of its verified answer. */
  private async update(request: UpdateRequest, zone: Zone, settings: DdnsSettings): Promise<number> {
    return (await this.ask(encodeUpdate(request), zone.server, settings.key)).message.rcode;
  }

  /** The zone of a lease's FQDN: with ddns_server, the client's domain (dn); without, the SOA's. */
  private async forwardZoneOf(fqdn: string, settings: DdnsSettings): Promise<Zone> {
    if (settings.server) return { name: forwardZone(fqdn), server: settings.server };
    return this.zoneOf(fqdn, settings);
  }

  /**
   * The zone of a name: the owner of the SOA given for it (in the answer when the name is the zone's
   * apex, in the authority section otherwise), asked of ddns_server, or without one of the system's
   * resolver; then the zone's server is ddns_server, or the SOA's primary master (MNAME), as RFC 2136
   * 4 suggests and dhcpd and Kea do. Cached for an hour.
   */
  private async zoneOf(name: string, settings: DdnsSettings): Promise<Zone> {
    const now = this.nowMs();
    for (let zone = name; zone.includes('.'); zone = zone.slice(zone.indexOf('.') + 1)) {
      const hit = this.zones.get(zone);
      if (hit !== undefined && hit.until > now) return { name: zone, server: hit.server };
    }
    const resolver = settings.server ?? systemNameServer();
    if (!resolver) throw new Retry(`no server to ask for the zone of ${name}: no ddns_server, no IPv4 nameserver in resolv.conf`);
    // The system's resolver knows no key of ours: only ddns_server is asked with a signature.
    const { message, wire } = await this.ask(
      encodeQuery(this.id(), name, DnsType.SOA),
      resolver,
      settings.server ? settings.key : null,
    );
    const soa = [...message.answers, ...message.authority].find((rr) => rr.type === DnsType.SOA && rr.class === DnsClass.IN);
    if (!soa) throw new Retry(`no zone found for ${name} (${rcodeName(message.rcode)}, no SOA)`);
    let server = settings.server;
    if (!server) {
      const primary = soaPrimary(wire, soa);
      if (!primary.ok) throw new Retry(`the SOA of ${soa.name}: ${primary.message}`);
      const address = await lookupIpv4(primary.value);
      if (!address) throw new Retry(`${primary.value}, the primary master of ${soa.name}, has no IPv4 address`);
      server = { address, port: 53 };
    }
    this.zones.set(soa.name.toLowerCase(), { server, until: now + ZONE_CACHE_MS });
    return { name: soa.name, server };
  }

  /** One exchange: signed and verified when there is a key; a network failure or a bad answer retries. */
  private async ask(request: Buffer, to: DnsServer, key: TsigKey | null): Promise<{ message: DecodedMessage; wire: Buffer }> {
    const signed = key ? signMessage(request, key, Math.floor(this.nowMs() / 1000)) : null;
    const result = await this.exchange(to, signed ? signed.wire : request, EXCHANGE_TIMEOUT_MS);
    const server = `${to.address}:${to.port}`;
    if (!result.ok) throw new Retry(`${server}: ${result.error} (${result.message})`);
    const decoded = decodeMessage(result.answer);
    if (!decoded.ok) throw new Retry(`${server}: a damaged answer (${decoded.message})`);
    if (key && signed) {
      const verified = verifyAnswer(result.answer, key, signed.mac, Math.floor(this.nowMs() / 1000));
      if (!verified.ok) throw new Retry(`${server}: ${verified.message} (${rcodeName(decoded.value.rcode)})`);
    }
    return { message: decoded.value, wire: result.answer };
  }

  /** A random message ID (RFC 5452): an answer must match it. */
  private id(): number {
    return randomInt(0x10000);
  }
}

/** The forward zone of a lease's FQDN: its domain (the client's dn), the name without its host label. */
function forwardZone(fqdn: string): string {
  const dot = fqdn.indexOf('.');
  return dot < 0 ? fqdn : fqdn.slice(dot + 1);
}
