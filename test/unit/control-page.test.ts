// The status page's script run in a vm against a small stand-in for the DOM and for fetch: what it
// draws from the control API's answers, the Failover box above all (shown only while GET v1/failover
// answers 200). The real browser check of the page is test/system/ops-page.test.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { STATUS_PAGE, STATUS_SCRIPT } from '../../src/control/page';
import type { PairStatus } from '../../src/pair/engine';
import type { DdnsStatus } from '../../src/ddns/status';
import { samplePairStatus } from '../helpers/pair';

class FakeElement {
  children: FakeElement[] = [];
  dataset: Record<string, string> = {};
  style: Record<string, string> = {};
  attributes: Record<string, string> = {};
  textContent = '';
  className = '';
  hidden = false;
  private body: FakeElement | undefined;
  constructor(readonly tag: string) {}
  setAttribute(name: string, value: string): void {
    this.attributes[name] = value;
  }
  append(...children: FakeElement[]): void {
    this.children.push(...children);
  }
  replaceChildren(...children: FakeElement[]): void {
    this.children = children;
  }
  get tBodies(): FakeElement[] {
    this.body ??= new FakeElement('tbody');
    return [this.body];
  }
}

const PAIR: PairStatus = samplePairStatus();

/** The page's script against the API answers given (a number: that HTTP status); one refresh. */
async function runPage(
  failover: PairStatus | number,
  ddns?: DdnsStatus,
): Promise<{ byId: (id: string) => FakeElement; body: FakeElement }> {
  const elements = new Map<string, FakeElement>();
  const byId = (id: string): FakeElement => {
    if (!STATUS_PAGE.includes(`id="${id}"`)) throw new Error(`the page has no element #${id}`);
    let el = elements.get(id);
    if (!el) {
      el = new FakeElement(id);
      el.hidden = STATUS_PAGE.includes(`<div id="${id}" hidden>`); // as the HTML starts it
      elements.set(id, el);
    }
    return el;
  };
  const body = new FakeElement('body');
  const answers: Record<string, unknown> = {
    'v1/status': { version: '0.1.0', pid: 42, uptimeSeconds: 7, counters: { received: 12, sent: { DHCP_ACK: 3 } } },
    'v1/pools': { networks: [] },
    'v1/leases?recent=1&limit=15': { leases: [] },
    'v1/history': { samples: [{ t: 1_700_000_000, received: 1, sent: 1, dropped: 0 }] },
    'v1/failover': failover,
    ...(ddns ? { 'v1/ddns?limit=20': ddns } : {}),
  };
  const context = vm.createContext({
    document: {
      body,
      getElementById: byId,
      createElement: (tag: string) => new FakeElement(tag),
      createElementNS: (_ns: string, tag: string) => new FakeElement(tag),
    },
    fetch: (path: string) => {
      const answer = answers[path];
      const status = typeof answer === 'number' ? answer : answer === undefined ? 404 : 200;
      return Promise.resolve({ ok: status === 200, status, json: () => Promise.resolve(answer) });
    },
    setInterval: () => 0,
  });
  vm.runInContext(STATUS_SCRIPT, context);
  // The script's first refresh: the fake fetch answers at once, so it is done before the next turn.
  await new Promise((resolve) => setImmediate(resolve));
  return { byId, body };
}

const rows = (box: FakeElement): Record<string, { label: string; value: string; cls: string | undefined }> =>
  Object.fromEntries(
    box.tBodies[0]!.children.map((tr) => [
      tr.dataset.key!,
      { label: tr.children[0]!.textContent, value: tr.children[1]!.textContent, cls: tr.children[1]!.attributes.class },
    ]),
  );

test('status page: the Failover box shows the relationship as GET v1/failover gives it', async () => {
  const { byId, body } = await runPage(PAIR);
  assert.equal(body.dataset.refreshed, '1', 'the rest of the page is drawn too');
  assert.equal(byId('failover-box').hidden, false);
  assert.equal(byId('failover-box').dataset.state, 'communications-interrupted');
  const shown = rows(byId('failover'));
  assert.deepEqual(Object.keys(shown), [
    'relationship',
    'role',
    'state',
    'partnerState',
    'link',
    'service',
    'note',
    'mclt',
    'updates',
    'addresses',
    'latency',
    'sent',
    'received',
  ]);
  assert.equal(shown.relationship!.value, 'dhcp-pair');
  assert.equal(shown.role!.value, 'primary');
  assert.match(shown.state!.value, /^communications-interrupted since 2023-11-14 22:13:20 UTC \(\d+ d\)$/);
  assert.equal(shown.state!.cls, 'warn');
  assert.equal(shown.partnerState!.value, 'unknown');
  assert.equal(shown.link!.value, 'down');
  assert.equal(shown.link!.cls, 'bad');
  assert.equal(shown.service!.value, 'own-free');
  assert.equal(shown.note!.label, 'why');
  assert.match(shown.note!.value, /^communications-interrupted for 60 s: serves its own free addresses/);
  assert.equal(shown.mclt!.value, '3600 s');
  assert.equal(shown.updates!.value, '2 unacknowledged, 17 queued');
  assert.equal(shown.addresses!.value, '40 free (primary), 9 backup (secondary)');
  assert.equal(shown.latency!.label, 'mean BNDACK latency');
  assert.equal(shown.latency!.value, '21.9 ms over 118 BNDACKs', '2590 ms / 118');
  assert.equal(shown.sent!.value, '120 sent, 115 acknowledged, 3 rejected by the partner');
  assert.equal(shown.received!.value, '88 received, 1 refused, 4 bad messages');
});

test('status page: a relationship in normal with the link up, and no BNDACK yet', async () => {
  const now = Math.floor(Date.now() / 1000);
  const pair: PairStatus = {
    ...PAIR,
    state: 'normal',
    stos: now - 300,
    partnerState: 'normal',
    link: 'up',
    service: 'cooperating',
    note: null,
    stats: { ...PAIR.stats, ackLatencyMsSum: 0, ackLatencyCount: 0 },
  };
  const shown = rows((await runPage(pair)).byId('failover'));
  assert.match(shown.state!.value, /^normal since .* UTC \(5 min\)$/);
  for (const key of ['state', 'partnerState', 'link', 'service']) assert.equal(shown[key]!.cls, 'ok', key);
  assert.equal(shown.latency!.value, '-');
  assert.equal(shown.note!.value, '-', 'nothing to explain in normal');
});

test('status page: without a relationship (404) the Failover box stays hidden and the rest is drawn', async () => {
  const { byId, body } = await runPage(404);
  assert.equal(byId('failover-box').hidden, true);
  assert.equal(byId('failover').tBodies[0]!.children.length, 0);
  assert.equal(body.dataset.refreshed, '1');
  assert.equal(byId('meta').dataset.received, '12');
});

test('status page: a failing GET v1/failover (not 404) is shown like any unreachable route', async () => {
  const { byId, body } = await runPage(500);
  assert.equal(body.dataset.refreshed, undefined);
  assert.equal(byId('meta').textContent, 'cannot reach joind: v1/failover: 500');
});

test('status page: the Dynamic DNS box shows the queue and the last error while dynamic DNS is on', async () => {
  const off = await runPage(404);
  assert.equal(off.byId('ddns-box').hidden, true, 'hidden without GET v1/ddns');
  const ddns: DdnsStatus = {
    enabled: true,
    server: '10.0.0.53:53',
    key: 'ddns-key',
    queued: 2,
    inFlight: 0,
    pacedPerSecond: null,
    updated: 5,
    removed: 1,
    conflicts: 1,
    failures: 3,
    jobs: [
      {
        address: '10.77.1.100',
        op: 'add',
        fqdn: 'amber.lab.example',
        due: '2026-12-05T18:00:00.000Z',
        attempts: 3,
        lastError: '10.0.0.53:53: timeout',
      },
    ],
  };
  const { byId } = await runPage(404, ddns);
  assert.equal(byId('ddns-box').hidden, false);
  const shown = rows(byId('ddns'));
  assert.equal(shown.server!.value, '10.0.0.53:53, signed with ddns-key');
  assert.deepEqual(shown.queued, { label: 'queued', value: '2 (sending 0)', cls: 'warn' });
  assert.equal(shown.done!.value, '5 updated, 1 removed, 1 conflicts, 3 failed tries');
  assert.deepEqual(shown.error, { label: 'last error', value: 'amber.lab.example: 10.0.0.53:53: timeout (3 tries)', cls: 'bad' });
  const idle = await runPage(404, { ...ddns, enabled: false });
  assert.equal(idle.byId('ddns-box').hidden, true, 'hidden while dynamic DNS is off');
});
