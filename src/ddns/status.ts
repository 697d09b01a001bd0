// What `joind ctl ddns`, GET /v1/ddns, the status page and the metrics show of dynamic DNS: whether it
// is on and where the updates go, the queue in the store, and the worker's counts since the start.
import type { Store } from '../store/store';
import { ipToString } from '../util/ipv4';
import type { DdnsSettings, DdnsWorker } from './worker';

export interface DdnsJobRow {
  address: string;
  op: 'add' | 'reverse' | 'remove';
  fqdn: string | null;
  /** When the job is next tried (ISO time), how often it was tried, and why the last try failed. */
  due: string;
  attempts: number;
  lastError: string | null;
}

export interface DdnsStatus {
  enabled: boolean;
  /**
   * "address:port" of ddns_server ("primary master of each zone" without one), and the name of the key
   * that signs (null: unsigned).
   */
  server: string | null;
  key: string | null;
  /** Jobs in the store, and those being sent now. */
  queued: number;
  inFlight: number;
  /** Job starts allowed per second while a DHCP load fills the event loop (src/ddns/pacer.ts); null: not held back. */
  pacedPerSecond: number | null;
  /** Since the start: names written, records removed, names left to their owner, failed tries. */
  updated: number;
  removed: number;
  conflicts: number;
  failures: number;
  /** The earliest jobs, at most the limit asked for. */
  jobs: DdnsJobRow[];
}

/** What the status says of the server when none is configured. */
const PRIMARY_OF_EACH_ZONE = "each zone's primary master (its SOA)";

function serverOf(settings: DdnsSettings): string {
  return settings.server ? `${settings.server.address}:${settings.server.port}` : PRIMARY_OF_EACH_ZONE;
}

export function ddnsStatus(store: Store, worker: DdnsWorker | null, settings: DdnsSettings | null, limit: number): DdnsStatus {
  const counters = worker?.counters ?? { updated: 0, removed: 0, conflicts: 0, failures: 0 };
  return {
    enabled: settings !== null,
    server: settings ? serverOf(settings) : null,
    key: settings?.key?.name ?? null,
    queued: store.ddns.depth,
    inFlight: worker?.busy ?? 0,
    pacedPerSecond: worker?.pacedPerSecond ?? null,
    ...counters,
    jobs: store.ddns.list(limit).map((job) => ({
      address: ipToString(job.address),
      op: job.op,
      fqdn: job.fqdn,
      due: new Date(job.due).toISOString(),
      attempts: job.attempts,
      lastError: job.lastError,
    })),
  };
}
