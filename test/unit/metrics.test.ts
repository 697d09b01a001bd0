import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics, MetricsSource } from '../../src/metrics/metrics';
import type { PairStatus } from '../../src/pair/engine';
import type { DdnsStatus } from '../../src/ddns/status';
import { emptyServerCounters, type ServerCounters } from '../../src/server/server';
import { samplePairStatus } from '../helpers/pair';

const NO_COUNTERS: ServerCounters = emptyServerCounters();

const DDNS: DdnsStatus = {
  enabled: true,
  server: '10.0.0.53:53',
  key: 'ddns-key',
  queued: 4,
  inFlight: 1,
  pacedPerSecond: null,
  updated: 10,
  removed: 3,
  conflicts: 1,
  failures: 6,
  jobs: [],
};

function source(counters: ServerCounters, failover: () => PairStatus | null = () => null): MetricsSource {
  return {
    failover,
    ddns: () => DDNS,
    counters: () => counters,
    allocator: () => ({ pingChecks: 7, pingConflicts: 2, abandoned: 3, declined: 1, offersWithoutAddress: 0, bootpExtended: 0 }),
    store: () => ({ commits: 5, committedWrites: 9, rollbacks: 0, syncs: 5, inlineSyncs: 3, checkpoints: 1, publishes: 2 }),
    storeWritable: () => true,
    // The UDP transport's counters: the same events as the raw one's, 0 where one cannot happen.
    transport: () => ({
      broadcastsReceived: 0,
      unicastReceived: 0,
      datagramsReceived: 11,
      framesLeftToKernel: 0,
      catchAllDiscarded: 0,
      badFrames: 0,
      framesSent: 0,
      udpSent: 9,
      sendErrors: 1,
      kernelDrops: 0,
    }),
    networks: () => [
      {
        network: '10.1.0.0',
        prefixLength: 24,
        ranges: ['10.1.0.10-10.1.0.59'],
        total: 50,
        assigned: 4,
        offered: 1,
        abandoned: 2,
        free: 43,
        freeList: 8,
        refills: 3,
        exhausted: 0,
        pingChecks: 12,
        pingConflicts: 2,
      },
    ],
  };
}

function valueIn(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("metrics: Kea-named series mirror the server's own counters at each scrape", async () => {
  const counters: ServerCounters = {
    received: 12,
    receivedByType: { discover: 5, request: 4 },
    parseFailed: { truncated: 2 },
    dropped: { 'not-registered': 1 },
    sent: { DHCP_OFFER: 5, DHCP_ACK: 4 },
    sendFailed: 0,
    handlerErrors: 0,
  };
  const registry = createMetrics(source(counters));
  let text = await registry.metrics();
  const value = (series: string): number | undefined => valueIn(text, series);
  assert.equal(value('joind_pkt4_received_total{type="discover"}'), 5);
  assert.equal(value('joind_pkt4_received_total{type="unknown"}'), 3, 'received but never classified: 12 - 5 - 4');
  assert.equal(value('joind_pkt4_sent_total{type="offer"}'), 5);
  assert.equal(value('joind_pkt4_sent_total{type="ack"}'), 4);
  assert.equal(value('joind_pkt4_parse_failed_total{kind="truncated"}'), 2);
  assert.equal(value('joind_pkt4_dropped_total{reason="not-registered"}'), 1);
  assert.equal(value('joind_ping_conflicts_total'), 2);
  assert.equal(value('joind_store_writable'), 1);
  assert.equal(value('joind_store_syncs_total{where="event-loop"}'), 3);
  assert.equal(value('joind_store_syncs_total{where="thread-pool"}'), 2);
  assert.equal(value('joind_store_checkpoints_total'), 1);
  assert.equal(value('joind_store_publishes_total'), 2);
  assert.equal(value('joind_transport_events_total{event="datagramsReceived"}'), 11);
  assert.equal(value('joind_transport_events_total{event="udpSent"}'), 9);
  assert.equal(value('joind_transport_events_total{event="sendErrors"}'), 1);
  assert.equal(value('joind_transport_events_total{event="kernelDrops"}'), 0, 'every event, 0 where it cannot happen');
  assert.equal(value('joind_subnet_total_addresses{subnet="10.1.0.0/24"}'), 50);
  assert.equal(value('joind_subnet_assigned_addresses{subnet="10.1.0.0/24"}'), 4);
  assert.equal(value('joind_subnet_declined_addresses{subnet="10.1.0.0/24"}'), 2);
  assert.equal(value('joind_subnet_free_list_refills_total{subnet="10.1.0.0/24"}'), 3);
  assert.equal(value('joind_subnet_ping_checks_total{subnet="10.1.0.0/24"}'), 12);
  assert.equal(value('joind_subnet_ping_conflicts_total{subnet="10.1.0.0/24"}'), 2);
  assert.equal(value('joind_ddns_queue_depth'), 4);
  assert.equal(value('joind_ddns_updates_total{result="updated"}'), 10);
  assert.equal(value('joind_ddns_updates_total{result="removed"}'), 3);
  assert.equal(value('joind_ddns_updates_total{result="conflict"}'), 1);
  assert.equal(value('joind_ddns_updates_total{result="failed"}'), 6);
  assert.match(text, /# TYPE joind_pkt4_received_total counter/);
  assert.match(text, /# TYPE joind_subnet_assigned_addresses gauge/);

  // The next scrape shows the counters as they are then, not added twice.
  counters.received = 13;
  counters.receivedByType.discover = 6;
  text = await registry.metrics();
  assert.equal(value('joind_pkt4_received_total{type="discover"}'), 6);
  assert.equal(value('joind_pkt4_received_total{type="unknown"}'), 3);
});

const PAIR: PairStatus = samplePairStatus({ role: 'secondary', partnerState: 'normal' });

test('metrics: the failover relationship, labelled with its name, as the engine reports it', async () => {
  let pair: PairStatus = PAIR;
  const registry = createMetrics(source(NO_COUNTERS, () => pair));
  let text = await registry.metrics();
  const value = (series: string): number | undefined => valueIn(text, series);
  const R = 'relationship="dhcp-pair"';
  assert.equal(value(`joind_failover_state{${R},role="secondary"}`), 3, 'communications-interrupted is 3 on the wire');
  assert.equal(value(`joind_failover_state_start_time_seconds{${R}}`), 1_700_000_000);
  assert.equal(value(`joind_failover_partner_state{${R}}`), 2, 'normal');
  assert.equal(value(`joind_failover_service{${R},service="own-free"}`), 1);
  for (const other of ['cooperating', 'all', 'none']) assert.equal(value(`joind_failover_service{${R},service="${other}"}`), 0);
  assert.equal(value(`joind_failover_link_up{${R}}`), 0);
  assert.equal(value(`joind_failover_mclt_seconds{${R}}`), 3600);
  assert.equal(value(`joind_failover_unacked_updates{${R}}`), 2);
  assert.equal(value(`joind_failover_queued_updates{${R}}`), 17);
  assert.equal(value(`joind_failover_free_addresses{${R},state="free"}`), 40);
  assert.equal(value(`joind_failover_free_addresses{${R},state="backup"}`), 9);
  assert.equal(value(`joind_failover_updates_sent_total{${R}}`), 120);
  assert.equal(value(`joind_failover_updates_acked_total{${R}}`), 115);
  assert.equal(value(`joind_failover_updates_rejected_total{${R}}`), 3);
  assert.equal(value(`joind_failover_updates_received_total{${R}}`), 88);
  assert.equal(value(`joind_failover_updates_refused_total{${R}}`), 1);
  assert.equal(value(`joind_failover_bad_messages_total{${R}}`), 4);
  assert.equal(value(`joind_failover_connects_total{${R}}`), 5);
  assert.equal(value(`joind_failover_acks_received_total{${R}}`), 118);
  assert.equal(value(`joind_failover_ack_latency_seconds_total{${R}}`), 2.59);
  assert.match(text, /# TYPE joind_failover_state gauge/);
  assert.match(text, /# TYPE joind_failover_updates_sent_total counter/);

  // A partner never heard from is -1; the link up; a later scrape (past the 500 ms cache) sees the change.
  pair = { ...PAIR, state: 'recover-wait', partnerState: null, link: 'up', service: 'none' };
  await new Promise((resolve) => setTimeout(resolve, 600));
  text = await registry.metrics();
  assert.equal(value(`joind_failover_state{${R},role="secondary"}`), 254, 'recover-wait is 254 on the wire');
  assert.equal(value(`joind_failover_partner_state{${R}}`), -1);
  assert.equal(value(`joind_failover_link_up{${R}}`), 1);
  assert.equal(value(`joind_failover_service{${R},service="none"}`), 1);
});

test('metrics: without a failover relationship the joind_failover_* series have no samples', async () => {
  const text = await createMetrics(source(NO_COUNTERS)).metrics();
  const samples = text.split('\n').filter((l) => l.startsWith('joind_failover_'));
  assert.deepEqual(samples, []);
  assert.notEqual(valueIn(text, 'joind_store_writable'), undefined, 'the other series are there');
});
