import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics, MetricsSource } from '../../src/metrics/metrics';
import type { ServerCounters } from '../../src/server/server';

function source(counters: ServerCounters): MetricsSource {
  return {
    counters: () => counters,
    allocator: () => ({ pingChecks: 7, pingConflicts: 2, abandoned: 3, declined: 1, offersWithoutAddress: 0, bootpExtended: 0 }),
    store: () => ({ commits: 5, committedWrites: 9, rollbacks: 0, syncs: 5, inlineSyncs: 3, checkpoints: 1 }),
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
  const value = (series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
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
  assert.match(text, /# TYPE joind_pkt4_received_total counter/);
  assert.match(text, /# TYPE joind_subnet_assigned_addresses gauge/);

  // The next scrape shows the counters as they are then, not added twice.
  counters.received = 13;
  counters.receivedByType.discover = 6;
  text = await registry.metrics();
  assert.equal(value('joind_pkt4_received_total{type="discover"}'), 6);
  assert.equal(value('joind_pkt4_received_total{type="unknown"}'), 3);
});
