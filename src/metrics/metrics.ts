// The Prometheus metrics (prom-client): counters named after Kea's statistics (pkt4-received →
// joind_pkt4_received_total, pkt4-parse-failed → joind_pkt4_parse_failed_total, subnet[id].total-addresses
// → joind_subnet_total_addresses, …). Every value is read at scrape time from the counters the server
// already keeps (DhcpServer.counters, the allocator's and the pools' counters, the store's stats), so the
// packet path carries no second set of counters.
import { Counter, Gauge, Registry } from 'prom-client';
import type { AllocatorCounters } from '../alloc/allocator';
import { SERVER_STATES } from '../failover';
import type { TransportStats } from '../io/transport';
import type { PairStatus } from '../pair/engine';
import type { DdnsStatus } from '../ddns/status';
import type { ServerCounters } from '../server/server';
import type { NetworkUse } from '../server/status';

export interface MetricsSource {
  counters(): ServerCounters;
  allocator(): AllocatorCounters;
  store(): {
    commits: number;
    committedWrites: number;
    rollbacks: number;
    /** fsyncs of batches (of the lease journal; of the WAL without it), and how many ran on the event loop (small batches; see store.ts). */
    syncs: number;
    inlineSyncs: number;
    /** WAL checkpoints made by the checkpoint thread. */
    checkpoints: number;
    /** Commits of SQLite's transaction from the lease journal (journal mode). */
    publishes: number;
  };
  /** false while the storage refuses writes (disk full, read-only, I/O error): no new leases then. */
  storeWritable(): boolean;
  /** The counters of the transport in use (Transport.stats(): the same events for every transport, 0 where one cannot happen). */
  transport(): TransportStats;
  networks(): NetworkUse[];
  /** The failover relationship (server.pcy `failover NAME`), or null: then the joind_failover_* series have no samples. */
  failover(): PairStatus | null;
  /** Dynamic DNS (its queue depth and the worker's counts). */
  ddns(): DdnsStatus;
}

/** DHCP_OFFER → offer: the message names Kea uses in pkt4-offer-sent and the like. */
const SENT_NAMES: Record<string, string> = {
  DHCP_OFFER: 'offer',
  DHCP_ACK: 'ack',
  DHCP_NAK: 'nak',
  DHCP_INFORM: 'ack_inform',
  BOOTP_REPLY: 'bootp_reply',
};

type Labelled = Record<string, string>;

/** A counter whose values are copied from elsewhere at each scrape. */
function mirroredCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Array<[Labelled, number]>,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

function mirroredGauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Array<[Labelled, number]>,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

const byLabel = (label: string, record: Record<string, number>): Array<[Labelled, number]> =>
  Object.entries(record).map(([key, value]) => [{ [label]: key }, value]);

export function createMetrics(source: MetricsSource): Registry {
  const registry = new Registry();
  // Not prom-client's default metrics: some of them (nodejs_active_handles_total, a gauge) fail promtool's
  // lint. The two a DHCP appliance is watched by:
  mirroredGauge(registry, 'joind_process_resident_memory_bytes', 'resident memory of the joind process', [], () => [
    [{}, process.memoryUsage.rss()],
  ]);
  const startedAt = Date.now() / 1000 - process.uptime();
  mirroredGauge(registry, 'joind_process_start_time_seconds', 'when the joind process started (UTC seconds)', [], () => [
    [{}, Math.round(startedAt)],
  ]);
  // One look at the store per scrape: the per-network gauges share it.
  let networks: NetworkUse[] = [];
  let networksAt = 0;
  const use = (): NetworkUse[] => {
    if (Date.now() - networksAt > 500) {
      networks = source.networks();
      networksAt = Date.now();
    }
    return networks;
  };

  mirroredCounter(
    registry,
    'joind_pkt4_received_total',
    'DHCPv4/BOOTP packets received (Kea pkt4-received), by message type; "unknown" for those never classified (parse failures, replies)',
    ['type'],
    () => {
      const c = source.counters();
      const typed = Object.values(c.receivedByType).reduce((a, b) => a + b, 0);
      return [...byLabel('type', c.receivedByType), [{ type: 'unknown' }, Math.max(0, c.received - typed)]];
    },
  );
  mirroredCounter(registry, 'joind_pkt4_sent_total', 'packets sent (Kea pkt4-sent), by message type', ['type'], () =>
    Object.entries(source.counters().sent).map(([event, n]) => [{ type: SENT_NAMES[event] ?? event.toLowerCase() }, n]),
  );
  mirroredCounter(
    registry,
    'joind_pkt4_parse_failed_total',
    'packets that could not be decoded (Kea pkt4-parse-failed), by kind of fault',
    ['kind'],
    () => byLabel('kind', source.counters().parseFailed),
  );
  mirroredCounter(
    registry,
    'joind_pkt4_dropped_total',
    'packets decoded but left unanswered (Kea pkt4-receive-drop), by reason (docs/joind-metrics.md lists them)',
    ['reason'],
    () => byLabel('reason', source.counters().dropped),
  );
  mirroredCounter(
    registry,
    'joind_pkt4_send_failed_total',
    'replies that could not be sent (encoding or commit failure)',
    [],
    () => [[{}, source.counters().sendFailed]],
  );
  mirroredCounter(registry, 'joind_handler_errors_total', 'packets whose handler failed unexpectedly', [], () => [
    [{}, source.counters().handlerErrors],
  ]);

  mirroredCounter(registry, 'joind_ping_checks_total', 'ICMP echo checks made before offering an address', [], () => [
    [{}, source.allocator().pingChecks],
  ]);
  mirroredCounter(registry, 'joind_ping_conflicts_total', 'addresses that answered the ping check (then abandoned)', [], () => [
    [{}, source.allocator().pingConflicts],
  ]);
  mirroredCounter(
    registry,
    'joind_declines_total',
    'DHCPDECLINEs accepted (Kea pkt4-decline-received that abandoned an address)',
    [],
    () => [[{}, source.allocator().declined]],
  );
  mirroredCounter(registry, 'joind_abandoned_total', 'addresses marked abandoned (ping conflicts and declines)', [], () => [
    [{}, source.allocator().abandoned],
  ]);
  mirroredCounter(registry, 'joind_offers_without_address_total', 'DISCOVERs that found no address to offer', [], () => [
    [{}, source.allocator().offersWithoutAddress],
  ]);

  mirroredCounter(
    registry,
    'joind_store_commits_total',
    'group commits of the lease store (each fsynced with auto_sync_dbs)',
    [],
    () => [[{}, source.store().commits]],
  );
  mirroredCounter(registry, 'joind_store_committed_writes_total', 'writes committed by group commits', [], () => [
    [{}, source.store().committedWrites],
  ]);
  mirroredGauge(
    registry,
    'joind_store_writable',
    '1 while the lease store takes writes, 0 while the storage refuses them (no new leases)',
    [],
    () => [[{}, source.storeWritable() ? 1 : 0]],
  );
  // Where the fsyncs ran: on the event loop (batches of a few ACKs) or on the thread pool (larger
  // batches, under load). Their sum against commits shows how well the group commit batches.
  mirroredCounter(
    registry,
    'joind_store_syncs_total',
    "fsyncs of the lease store's batches, by where they ran",
    ['where'],
    () => {
      const s = source.store();
      return [
        [{ where: 'event-loop' }, s.inlineSyncs],
        [{ where: 'thread-pool' }, s.syncs - s.inlineSyncs],
      ];
    },
  );
  mirroredCounter(registry, 'joind_store_checkpoints_total', 'WAL checkpoints made by the checkpoint thread', [], () => [
    [{}, source.store().checkpoints],
  ]);
  mirroredCounter(
    registry,
    'joind_store_publishes_total',
    'commits of the SQLite database from the lease journal (every 5 minutes or 4 MB of journal, and when asked)',
    [],
    () => [[{}, source.store().publishes]],
  );
  mirroredCounter(registry, 'joind_store_rollbacks_total', 'group commits that failed and were rolled back', [], () => [
    [{}, source.store().rollbacks],
  ]);
  mirroredCounter(
    registry,
    'joind_transport_events_total',
    'transport: datagrams and frames received and sent, left to the kernel, bad, dropped by the kernel, send errors',
    ['event'],
    () => byLabel('event', { ...source.transport() }),
  );

  const perNet = (pick: (n: NetworkUse) => number) => (): Array<[Labelled, number]> =>
    use().map((n) => [{ subnet: `${n.network}/${n.prefixLength}` }, pick(n)]);
  mirroredGauge(
    registry,
    'joind_subnet_total_addresses',
    'addresses this server may hand out in the network (Kea subnet total-addresses)',
    ['subnet'],
    perNet((n) => n.total),
  );
  mirroredGauge(
    registry,
    'joind_subnet_assigned_addresses',
    'addresses held by unexpired leases and bindings (Kea subnet assigned-addresses)',
    ['subnet'],
    perNet((n) => n.assigned),
  );
  mirroredGauge(
    registry,
    'joind_subnet_declined_addresses',
    'abandoned addresses: declined or answered a ping (Kea subnet declined-addresses)',
    ['subnet'],
    perNet((n) => n.abandoned),
  );
  mirroredGauge(
    registry,
    'joind_subnet_offered_addresses',
    'addresses on the provisional list (offered, awaiting REQUEST)',
    ['subnet'],
    perNet((n) => n.offered),
  );
  mirroredGauge(
    registry,
    'joind_subnet_free_list_addresses',
    'addresses ready on the in-memory free list',
    ['subnet'],
    perNet((n) => n.freeList),
  );
  mirroredCounter(
    registry,
    'joind_subnet_free_list_refills_total',
    'refills of the free list from the store',
    ['subnet'],
    perNet((n) => n.refills),
  );
  mirroredCounter(
    registry,
    'joind_subnet_ping_checks_total',
    'ping checks of candidate addresses before an offer, per network',
    ['subnet'],
    perNet((n) => n.pingChecks),
  );
  mirroredCounter(
    registry,
    'joind_subnet_ping_conflicts_total',
    'candidate addresses that answered the ping check (then abandoned), per network',
    ['subnet'],
    perNet((n) => n.pingConflicts),
  );
  mirroredCounter(
    registry,
    'joind_subnet_exhausted_total',
    'times the network had no free address for a client',
    ['subnet'],
    perNet((n) => n.exhausted),
  );
  failoverMetrics(registry, source);
  mirroredGauge(
    registry,
    'joind_ddns_queue_depth',
    'dynamic DNS jobs waiting in the store (sent, retried, or due later)',
    [],
    () => [[{}, source.ddns().queued]],
  );
  mirroredCounter(
    registry,
    'joind_ddns_updates_total',
    'dynamic DNS work since the start, by result: updated (a name written), removed, conflict (a name left to its owner), failed (a try to be repeated)',
    ['result'],
    () => {
      const d = source.ddns();
      return [
        [{ result: 'updated' }, d.updated],
        [{ result: 'removed' }, d.removed],
        [{ result: 'conflict' }, d.conflicts],
        [{ result: 'failed' }, d.failures],
      ];
    },
  );
  return registry;
}

/** The services of a failover state (src/failover/states.ts serviceOf), each a series of joind_failover_service. */
const SERVICES: PairStatus['service'][] = ['cooperating', 'own-free', 'all', 'none'];

/**
 * The failover relationship: every series is labelled with its name, so that a server without one
 * shows no samples at all (a label-less gauge would always show 0). One look at the engine per scrape.
 */
function failoverMetrics(registry: Registry, source: MetricsSource): void {
  let pair: PairStatus | null = null;
  let pairAt = 0;
  const status = (): PairStatus | null => {
    if (Date.now() - pairAt > 500) {
      pair = source.failover();
      pairAt = Date.now();
    }
    return pair;
  };
  const one =
    (pick: (p: PairStatus) => number, labels: (p: PairStatus) => Labelled = () => ({})) =>
    (): Array<[Labelled, number]> => {
      const p = status();
      return p ? [[{ relationship: p.relationship, ...labels(p) }, pick(p)]] : [];
    };
  mirroredGauge(
    registry,
    'joind_failover_state',
    'our failover state, as numbered on the wire (1 startup, 2 normal, 3 communications-interrupted, 4 partner-down, 5 potential-conflict, 6 recover, 7 paused, 8 shutdown, 9 recover-done, 10 resolution-interrupted, 11 conflict-done, 254 recover-wait)',
    ['relationship', 'role'],
    one(
      (p) => SERVER_STATES[p.state],
      (p) => ({ role: p.role }),
    ),
  );
  mirroredGauge(
    registry,
    'joind_failover_state_start_time_seconds',
    'when we entered our present failover state (STOS, UTC seconds)',
    ['relationship'],
    one((p) => p.stos),
  );
  mirroredGauge(
    registry,
    'joind_failover_partner_state',
    "the partner's failover state as last heard, numbered as joind_failover_state; -1 while unknown",
    ['relationship'],
    one((p) => (p.partnerState === null ? -1 : SERVER_STATES[p.partnerState])),
  );
  mirroredGauge(
    registry,
    'joind_failover_service',
    'which clients we answer: 1 for the service in force (cooperating, own-free, all, none), 0 for the others',
    ['relationship', 'service'],
    () => {
      const p = status();
      return p ? SERVICES.map((service) => [{ relationship: p.relationship, service }, p.service === service ? 1 : 0]) : [];
    },
  );
  mirroredGauge(
    registry,
    'joind_failover_link_up',
    '1 while the session with the partner is up (CONNECT/CONNECTACK done), 0 otherwise',
    ['relationship'],
    one((p) => (p.link === 'up' ? 1 : 0)),
  );
  mirroredGauge(
    registry,
    'joind_failover_mclt_seconds',
    'the maximum client lead time in force',
    ['relationship'],
    one((p) => p.mclt),
  );
  mirroredGauge(
    registry,
    'joind_failover_unacked_updates',
    'binding updates sent to the partner and not yet acknowledged',
    ['relationship'],
    one((p) => p.unackedUpdates),
  );
  mirroredGauge(
    registry,
    'joind_failover_queued_updates',
    'binding updates waiting to be sent to the partner',
    ['relationship'],
    one((p) => p.queuedUpdates),
  );
  mirroredGauge(
    registry,
    'joind_failover_free_addresses',
    "free addresses of the relationship's ranges, by state: free (the primary's to lease), backup (the secondary's)",
    ['relationship', 'state'],
    () => {
      const p = status();
      return p
        ? [
            [{ relationship: p.relationship, state: 'free' }, p.free],
            [{ relationship: p.relationship, state: 'backup' }, p.backup],
          ]
        : [];
    },
  );
  const counted = (name: string, help: string, pick: (s: PairStatus['stats']) => number): void =>
    mirroredCounter(
      registry,
      name,
      help,
      ['relationship'],
      one((p) => pick(p.stats)),
    );
  counted('joind_failover_updates_sent_total', 'binding updates (BNDUPD) sent to the partner', (s) => s.updatesSent);
  counted('joind_failover_updates_acked_total', 'binding updates the partner acknowledged (BNDACK)', (s) => s.updatesAcked);
  counted(
    'joind_failover_updates_rejected_total',
    'binding updates the partner rejected (BNDACK with a reject reason)',
    (s) => s.updatesRejectedByPeer,
  );
  counted('joind_failover_updates_received_total', 'binding updates received from the partner', (s) => s.updatesReceived);
  counted(
    'joind_failover_updates_refused_total',
    'binding updates from the partner that we rejected (the partner counts them in its joind_failover_updates_rejected_total)',
    (s) => s.updatesRefused,
  );
  counted(
    'joind_failover_bad_messages_total',
    'failover messages from the partner that were malformed or out of place',
    (s) => s.badMessages,
  );
  counted(
    'joind_failover_connects_total',
    'CONNECT messages received from the partner (a secondary counts them: the primary sends them)',
    (s) => s.connects,
  );
  counted(
    'joind_failover_acks_received_total',
    'BNDACKs received for our updates, acknowledging or rejecting (the count behind joind_failover_ack_latency_seconds_total)',
    (s) => s.ackLatencyCount,
  );
  counted(
    'joind_failover_ack_latency_seconds_total',
    'seconds from each binding update leaving to its BNDACK, summed: divided by joind_failover_acks_received_total, the mean',
    (s) => s.ackLatencyMsSum / 1000,
  );
}
