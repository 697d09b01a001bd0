// The failover server-state machine (src/failover/states.ts) against the rules of ISC dhcpd 4.4.3
// (server/failover.c: dhcp_failover_set_state, dhcp_failover_state_transition,
// dhcp_failover_peer_state_changed, dhcp_failover_process_update_done, dhcp_failover_set_service_state;
// server/dhcpd.c: dhcp_io_shutdown_countdown): one table of (view, event) -> state and actions, then whole
// runs of two servers talking to each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  announcedState,
  initialState,
  isPersisted,
  nextState,
  serviceOf,
  type FailoverAction,
  type FailoverEvent,
  type FailoverView,
  type ServerStateName,
} from '../../src/failover';

const NOW = 100_000;
const MCLT = 3600;
const OLD = NOW - 10 * MCLT; // a stos long enough ago for MCLT to have passed
const RECENT = NOW - 100; // a stos within MCLT

const base: FailoverView = {
  role: 'primary',
  state: 'normal',
  stos: OLD,
  partner: 'normal',
  partnerStartup: false,
  mclt: MCLT,
  linkUp: true,
};
const view = (over: Partial<FailoverView>): FailoverView => ({ ...base, ...over });
const peer = (state: ServerStateName, startup = false): FailoverEvent => ({ kind: 'peer-state', state, startup });

const SEND: FailoverAction = { kind: 'send-state' };
const RESCIND: FailoverAction = { kind: 'rescind-updates' };
const UPDREQ: FailoverAction = { kind: 'send-updreq' };
const UPDREQALL: FailoverAction = { kind: 'send-updreqall' };
const BALANCE: FailoverAction = { kind: 'pool-balance' };
const UPDATES: FailoverAction = { kind: 'send-updates' };
const ENTER_NORMAL = [SEND, BALANCE, UPDATES];

interface Row {
  name: string;
  view: FailoverView;
  event: FailoverEvent;
  /** null: nextState returns null. stos defaults to NOW (a change) or the view's stos (no change). */
  expect: { state: ServerStateName; actions: FailoverAction[]; stos?: number } | null;
}

const rows: Row[] = [
  // --- end of startup: dhcp_failover_startup_timeout -> the "disconnect" transition on the saved state.
  {
    name: 'startup ends, saved normal, no peer heard -> communications-interrupted, saved stos kept',
    view: view({ state: 'startup', afterStartup: 'normal', linkUp: false, partner: null }),
    event: { kind: 'startup-ended' },
    expect: { state: 'communications-interrupted', actions: [], stos: OLD },
  },
  {
    name: 'startup ends, saved recover, no link -> recover without UPDREQALL',
    view: view({ state: 'startup', afterStartup: 'recover', linkUp: false, partner: null }),
    event: { kind: 'startup-ended' },
    expect: { state: 'recover', actions: [], stos: OLD },
  },
  {
    name: 'startup ends, saved recover, link up but no STATE yet -> recover, announce, UPDREQALL',
    view: view({ state: 'startup', afterStartup: 'recover', partner: null }),
    event: { kind: 'startup-ended' },
    expect: { state: 'recover', actions: [SEND, UPDREQALL], stos: OLD },
  },
  {
    name: 'startup ends, saved potential-conflict -> resolution-interrupted',
    view: view({ state: 'startup', afterStartup: 'potential-conflict', linkUp: false, partner: null }),
    event: { kind: 'startup-ended' },
    expect: { state: 'resolution-interrupted', actions: [], stos: OLD },
  },
  {
    name: 'startup ends, saved partner-down -> partner-down, stos kept',
    view: view({ state: 'startup', afterStartup: 'partner-down', linkUp: false, partner: null }),
    event: { kind: 'startup-ended' },
    expect: { state: 'partner-down', actions: [], stos: OLD },
  },
  {
    name: 'startup ends, saved conflict-done -> conflict-done, updates rescinded',
    view: view({ state: 'startup', afterStartup: 'conflict-done', linkUp: false, partner: null }),
    event: { kind: 'startup-ended' },
    expect: { state: 'conflict-done', actions: [RESCIND], stos: OLD },
  },
  {
    name: 'startup ends, saved recover-wait within MCLT -> recover-wait, timer at stos+mclt',
    view: view({ state: 'startup', afterStartup: 'recover-wait', stos: RECENT, linkUp: false, partner: null }),
    event: { kind: 'startup-ended' },
    expect: { state: 'recover-wait', actions: [{ kind: 'arm-recover-wait', at: RECENT + MCLT }], stos: RECENT },
  },
  {
    name: 'startup ends, saved recover-wait with MCLT past -> recover-done at once',
    view: view({ state: 'startup', afterStartup: 'recover-wait', stos: OLD, linkUp: false, partner: null }),
    event: { kind: 'startup-ended' },
    expect: { state: 'recover-done', actions: [], stos: NOW },
  },
  {
    name: 'startup-ended outside startup is ignored',
    view: view({ state: 'communications-interrupted' }),
    event: { kind: 'startup-ended' },
    expect: null,
  },
  // --- link up: announce, nothing else.
  {
    name: 'link up in communications-interrupted: announce only',
    view: view({ state: 'communications-interrupted', partner: 'normal' }),
    event: { kind: 'link-up' },
    expect: { state: 'communications-interrupted', actions: [SEND], stos: OLD },
  },
  // --- link lost: dhcp_failover_state_transition "disconnect".
  {
    name: 'link lost in normal -> communications-interrupted',
    view: view({ linkUp: false }),
    event: { kind: 'link-lost' },
    expect: { state: 'communications-interrupted', actions: [RESCIND] },
  },
  {
    name: 'link lost in potential-conflict -> resolution-interrupted',
    view: view({ state: 'potential-conflict', linkUp: false }),
    event: { kind: 'link-lost' },
    expect: { state: 'resolution-interrupted', actions: [RESCIND] },
  },
  {
    name: 'link lost in conflict-done: stays, rescinds',
    view: view({ state: 'conflict-done', linkUp: false }),
    event: { kind: 'link-lost' },
    expect: { state: 'conflict-done', actions: [RESCIND], stos: OLD },
  },
  ...(['partner-down', 'recover', 'recover-wait', 'recover-done', 'communications-interrupted', 'shutdown'] as const).map(
    (state): Row => ({
      name: `link lost in ${state}: stays`,
      view: view({ state, linkUp: false }),
      event: { kind: 'link-lost' },
      expect: null,
    }),
  ),
  {
    name: 'link lost (or connect failed) in startup, saved normal -> communications-interrupted',
    view: view({ state: 'startup', afterStartup: 'normal', linkUp: false, partner: null }),
    event: { kind: 'link-lost' },
    expect: { state: 'communications-interrupted', actions: [], stos: OLD },
  },
  // --- peer STATE: dhcp_failover_peer_state_changed, our normal.
  {
    name: 'normal + peer recover (amnesic) -> partner-down',
    view: view({}),
    event: peer('recover'),
    expect: { state: 'partner-down', actions: [RESCIND, SEND] },
  },
  {
    name: 'normal + peer shutdown -> partner-down',
    view: view({}),
    event: peer('shutdown'),
    expect: { state: 'partner-down', actions: [RESCIND, SEND] },
  },
  {
    name: 'normal + peer partner-down -> potential-conflict, primary sends UPDREQ',
    view: view({}),
    event: peer('partner-down'),
    expect: { state: 'potential-conflict', actions: [RESCIND, SEND, UPDREQ] },
  },
  {
    name: 'normal + peer partner-down -> potential-conflict, secondary waits',
    view: view({ role: 'secondary' }),
    event: peer('partner-down'),
    expect: { state: 'potential-conflict', actions: [RESCIND, SEND] },
  },
  {
    name: 'startup (saved normal) + peer partner-down -> recover, UPDREQALL, stos kept',
    view: view({ state: 'startup', afterStartup: 'normal', partner: null }),
    event: peer('partner-down'),
    expect: { state: 'recover', actions: [SEND, UPDREQALL], stos: OLD },
  },
  {
    name: 'normal + peer paused -> communications-interrupted',
    view: view({}),
    event: peer('paused'),
    expect: { state: 'communications-interrupted', actions: [RESCIND, SEND] },
  },
  {
    name: 'normal + peer potential-conflict: invalid -> shutdown',
    view: view({}),
    event: peer('potential-conflict'),
    expect: { state: 'shutdown', actions: [RESCIND, SEND] },
  },
  {
    name: 'normal + peer newly normal: pool balance check only',
    view: view({ partner: 'recover-done' }),
    event: peer('normal'),
    expect: { state: 'normal', actions: [BALANCE], stos: OLD },
  },
  {
    name: 'normal + peer normal again: nothing',
    view: view({ partner: 'normal' }),
    event: peer('normal'),
    expect: null,
  },
  {
    name: 'normal + peer communications-interrupted: nothing',
    view: view({}),
    event: peer('communications-interrupted'),
    expect: null,
  },
  // our communications-interrupted.
  {
    name: 'communications-interrupted + peer recover (amnesic) -> partner-down',
    view: view({ state: 'communications-interrupted' }),
    event: peer('recover'),
    expect: { state: 'partner-down', actions: [SEND] },
  },
  ...(['normal', 'communications-interrupted', 'recover-wait', 'recover-done'] as const).map((state): Row => ({
    name: `communications-interrupted + peer ${state} -> normal, updates sent`,
    view: view({ state: 'communications-interrupted', partner: 'normal' }),
    event: peer(state),
    expect: { state: 'normal', actions: ENTER_NORMAL },
  })),
  {
    name: 'communications-interrupted + peer partner-down -> potential-conflict',
    view: view({ state: 'communications-interrupted' }),
    event: peer('partner-down'),
    expect: { state: 'potential-conflict', actions: [SEND, UPDREQ] },
  },
  {
    name: 'communications-interrupted + peer shutdown -> partner-down',
    view: view({ state: 'communications-interrupted' }),
    event: peer('shutdown'),
    expect: { state: 'partner-down', actions: [SEND] },
  },
  {
    name: 'communications-interrupted + peer paused: stays',
    view: view({ state: 'communications-interrupted' }),
    event: peer('paused'),
    expect: null,
  },
  // our partner-down.
  {
    name: 'partner-down + peer recover-done -> normal',
    view: view({ state: 'partner-down', partner: 'recover' }),
    event: peer('recover-done'),
    expect: { state: 'normal', actions: [RESCIND, ...ENTER_NORMAL] },
  },
  ...(['normal', 'communications-interrupted', 'partner-down'] as const).map((state): Row => ({
    name: `partner-down + peer ${state} -> potential-conflict`,
    view: view({ state: 'partner-down', partner: null }),
    event: peer(state),
    expect: { state: 'potential-conflict', actions: [RESCIND, SEND, UPDREQ] },
  })),
  {
    name: 'partner-down + peer normal flagged STARTUP: nothing yet',
    view: view({ state: 'partner-down', partner: null }),
    event: peer('normal', true),
    expect: null,
  },
  {
    name: 'partner-down + peer recover: as it should be, nothing',
    view: view({ state: 'partner-down', partner: null }),
    event: peer('recover'),
    expect: null,
  },
  // our recover.
  {
    name: 'recover + peer recover -> UPDREQALL, no change',
    view: view({ state: 'recover', partner: null }),
    event: peer('recover'),
    expect: { state: 'recover', actions: [UPDREQALL], stos: OLD },
  },
  {
    name: 'recover + peer partner-down -> UPDREQALL',
    view: view({ state: 'recover', partner: null }),
    event: peer('partner-down'),
    expect: { state: 'recover', actions: [UPDREQALL], stos: OLD },
  },
  {
    name: 'recover + peer communications-interrupted again -> UPDREQALL again',
    view: view({ state: 'recover', partner: 'communications-interrupted' }),
    event: peer('communications-interrupted'),
    expect: { state: 'recover', actions: [UPDREQALL], stos: OLD },
  },
  {
    name: 'recover + peer STATE, link not up: no UPDREQALL',
    view: view({ state: 'recover', partner: null, linkUp: false }),
    event: peer('partner-down'),
    expect: null,
  },
  {
    name: 'recover + peer normal -> potential-conflict',
    view: view({ state: 'recover', partner: null }),
    event: peer('normal'),
    expect: { state: 'potential-conflict', actions: [SEND, UPDREQ] },
  },
  {
    name: 'recover + peer shutdown -> partner-down',
    view: view({ state: 'recover', partner: null }),
    event: peer('shutdown'),
    expect: { state: 'partner-down', actions: [SEND] },
  },
  {
    name: 'startup (saved recover) + peer recover flagged STARTUP -> recover, one UPDREQALL',
    view: view({ state: 'startup', afterStartup: 'recover', partner: null, stos: RECENT }),
    event: peer('recover', true),
    expect: { state: 'recover', actions: [SEND, UPDREQALL], stos: RECENT },
  },
  // our recover-done and recover-wait.
  {
    name: 'recover-done + peer normal -> normal',
    view: view({ state: 'recover-done', partner: 'partner-down' }),
    event: peer('normal'),
    expect: { state: 'normal', actions: ENTER_NORMAL },
  },
  {
    name: 'recover-done + peer recover-done -> normal',
    view: view({ state: 'recover-done', partner: 'recover' }),
    event: peer('recover-done'),
    expect: { state: 'normal', actions: ENTER_NORMAL },
  },
  {
    name: 'recover-done + peer shutdown -> partner-down',
    view: view({ state: 'recover-done', partner: 'normal' }),
    event: peer('shutdown'),
    expect: { state: 'partner-down', actions: [SEND] },
  },
  {
    name: 'recover-done + peer recover: waits',
    view: view({ state: 'recover-done', partner: 'partner-down' }),
    event: peer('recover'),
    expect: null,
  },
  {
    name: 'recover-wait + peer normal: just waits',
    view: view({ state: 'recover-wait', partner: 'partner-down' }),
    event: peer('normal'),
    expect: null,
  },
  // our potential-conflict, conflict-done, resolution-interrupted.
  {
    name: 'potential-conflict (secondary) + peer conflict-done after potential-conflict -> UPDREQ',
    view: view({ role: 'secondary', state: 'potential-conflict', partner: 'potential-conflict' }),
    event: peer('conflict-done'),
    expect: { state: 'potential-conflict', actions: [UPDREQ], stos: OLD },
  },
  {
    name: 'potential-conflict + peer conflict-done out of the blue: nothing',
    view: view({ role: 'secondary', state: 'potential-conflict', partner: 'resolution-interrupted' }),
    event: peer('conflict-done'),
    expect: null,
  },
  {
    name: 'potential-conflict + peer normal: illegal -> shutdown',
    view: view({ state: 'potential-conflict', partner: 'potential-conflict' }),
    event: peer('normal'),
    expect: { state: 'shutdown', actions: [RESCIND, SEND] },
  },
  {
    name: 'potential-conflict + peer recover -> recover',
    view: view({ state: 'potential-conflict', partner: 'potential-conflict' }),
    event: peer('recover'),
    expect: { state: 'recover', actions: [RESCIND, SEND, UPDREQALL] },
  },
  {
    name: 'potential-conflict + peer shutdown -> partner-down',
    view: view({ state: 'potential-conflict', partner: 'potential-conflict' }),
    event: peer('shutdown'),
    expect: { state: 'partner-down', actions: [RESCIND, SEND] },
  },
  {
    name: 'conflict-done + peer normal -> normal',
    view: view({ state: 'conflict-done', partner: 'potential-conflict' }),
    event: peer('normal'),
    expect: { state: 'normal', actions: ENTER_NORMAL },
  },
  {
    name: 'conflict-done + peer resolution-interrupted: stays',
    view: view({ state: 'conflict-done', partner: 'potential-conflict' }),
    event: peer('resolution-interrupted'),
    expect: null,
  },
  {
    name: 'resolution-interrupted + peer normal -> potential-conflict',
    view: view({ state: 'resolution-interrupted' }),
    event: peer('normal'),
    expect: { state: 'potential-conflict', actions: [SEND, UPDREQ] },
  },
  {
    name: 'resolution-interrupted + peer shutdown -> partner-down',
    view: view({ state: 'resolution-interrupted' }),
    event: peer('shutdown'),
    expect: { state: 'partner-down', actions: [SEND] },
  },
  {
    name: 'shutdown + peer partner-down: no automatic change',
    view: view({ state: 'shutdown' }),
    event: peer('partner-down'),
    expect: null,
  },
  {
    name: 'paused + peer normal: no automatic change',
    view: view({ state: 'paused', partner: null }),
    event: peer('normal'),
    expect: null,
  },
  // --- UPDDONE: dhcp_failover_process_update_done.
  {
    name: 'recover, UPDDONE, peer not recovering, within MCLT -> recover-wait until stos+mclt',
    view: view({ state: 'recover', stos: RECENT, partner: 'partner-down' }),
    event: { kind: 'update-done' },
    expect: { state: 'recover-wait', actions: [SEND, { kind: 'arm-recover-wait', at: RECENT + MCLT }], stos: RECENT },
  },
  {
    name: 'recover, UPDDONE, peer recover too -> recover-done at once (37d8bfeb)',
    view: view({ state: 'recover', stos: RECENT, partner: 'recover' }),
    event: { kind: 'update-done' },
    expect: { state: 'recover-done', actions: [SEND] },
  },
  {
    name: 'recover, UPDDONE, peer recover-done -> recover-done at once',
    view: view({ state: 'recover', stos: RECENT, partner: 'recover-done' }),
    event: { kind: 'update-done' },
    expect: { state: 'recover-done', actions: [SEND] },
  },
  {
    name: 'recover, UPDDONE, MCLT since stos already past -> recover-done',
    view: view({ state: 'recover', stos: OLD, partner: 'partner-down' }),
    event: { kind: 'update-done' },
    expect: { state: 'recover-done', actions: [SEND] },
  },
  {
    name: 'potential-conflict primary, UPDDONE -> conflict-done',
    view: view({ state: 'potential-conflict', partner: 'potential-conflict' }),
    event: { kind: 'update-done' },
    expect: { state: 'conflict-done', actions: [RESCIND, SEND] },
  },
  {
    name: 'potential-conflict secondary, UPDDONE, primary conflict-done -> normal',
    view: view({ role: 'secondary', state: 'potential-conflict', partner: 'conflict-done' }),
    event: { kind: 'update-done' },
    expect: { state: 'normal', actions: [RESCIND, ...ENTER_NORMAL] },
  },
  {
    name: 'potential-conflict secondary, UPDDONE, primary not done: spurious',
    view: view({ role: 'secondary', state: 'potential-conflict', partner: 'potential-conflict' }),
    event: { kind: 'update-done' },
    expect: null,
  },
  {
    name: 'potential-conflict primary, UPDDONE, "secondary" conflict-done: illegal -> shutdown',
    view: view({ state: 'potential-conflict', partner: 'conflict-done' }),
    event: { kind: 'update-done' },
    expect: { state: 'shutdown', actions: [RESCIND, SEND] },
  },
  { name: 'normal, UPDDONE: ignored', view: view({}), event: { kind: 'update-done' }, expect: null },
  // --- recover-wait timer: dhcp_failover_recover_done.
  {
    name: 'recover-wait, timer -> recover-done',
    view: view({ state: 'recover-wait', stos: RECENT, partner: 'partner-down' }),
    event: { kind: 'recover-wait-ended' },
    expect: { state: 'recover-done', actions: [SEND] },
  },
  {
    name: 'stale recover-wait timer in normal: ignored',
    view: view({}),
    event: { kind: 'recover-wait-ended' },
    expect: null,
  },
  // --- operator.
  {
    name: 'operator partner-down from communications-interrupted (no link)',
    view: view({ state: 'communications-interrupted', linkUp: false }),
    event: { kind: 'operator-partner-down' },
    expect: { state: 'partner-down', actions: [] },
  },
  {
    name: 'operator partner-down while partner-down: no new stos',
    view: view({ state: 'partner-down' }),
    event: { kind: 'operator-partner-down' },
    expect: null,
  },
  // --- joind's stale store: recover, whatever the saved state said.
  {
    name: 'stale store in normal -> recover, UPDREQALL',
    view: view({}),
    event: { kind: 'store-stale' },
    expect: { state: 'recover', actions: [RESCIND, SEND, { kind: 'send-updreqall' }] },
  },
  {
    name: 'stale store in communications-interrupted without link -> recover, nothing to send',
    view: view({ state: 'communications-interrupted', linkUp: false }),
    event: { kind: 'store-stale' },
    expect: { state: 'recover', actions: [] },
  },
  {
    name: 'stale store while already recovering: ignored',
    view: view({ state: 'recover-wait', partner: 'partner-down' }),
    event: { kind: 'store-stale' },
    expect: null,
  },
  // --- shutdown: dhcp_io_shutdown_countdown.
  {
    name: 'shutdown from normal -> shutdown, told to the peer',
    view: view({}),
    event: { kind: 'shutdown' },
    expect: { state: 'shutdown', actions: [RESCIND, SEND] },
  },
  {
    name: 'exit in shutdown, peer partner-down, nothing pending -> recover with stos back by MCLT',
    view: view({ state: 'shutdown', partner: 'partner-down' }),
    event: { kind: 'shutdown', updatesPending: false },
    expect: { state: 'recover', actions: [], stos: NOW - MCLT },
  },
  {
    name: 'exit in shutdown, updates maybe pending -> recover with stos now',
    view: view({ state: 'shutdown', partner: 'partner-down' }),
    event: { kind: 'shutdown' },
    expect: { state: 'recover', actions: [], stos: NOW },
  },
  {
    name: 'shutdown in communications-interrupted: state kept',
    view: view({ state: 'communications-interrupted' }),
    event: { kind: 'shutdown' },
    expect: null,
  },
];

test('transition table', () => {
  for (const row of rows) {
    const got = nextState(row.view, row.event, NOW);
    if (row.expect === null) {
      assert.equal(got, null, row.name);
      continue;
    }
    assert.ok(got, `${row.name}: expected a transition`);
    assert.equal(got.state, row.expect.state, row.name);
    assert.deepEqual(got.actions, row.expect.actions, row.name);
    const stos = row.expect.stos ?? (row.expect.state === row.view.state ? row.view.stos : NOW);
    assert.equal(got.stos, stos, `${row.name}: stos`);
    assert.ok(got.why.length > 0, `${row.name}: why`);
  }
});

test('initial state: always through startup; no saved state means recover', () => {
  assert.deepEqual(initialState(null), { state: 'startup', afterStartup: 'recover' });
  assert.deepEqual(initialState('normal'), { state: 'startup', afterStartup: 'normal' });
  assert.deepEqual(initialState('partner-down'), { state: 'startup', afterStartup: 'partner-down' });
  assert.deepEqual(initialState('startup'), { state: 'startup', afterStartup: 'recover' });
});

test('persisted: every state but startup', () => {
  assert.equal(isPersisted('startup'), false);
  for (const state of ['normal', 'recover', 'recover-wait', 'partner-down', 'shutdown'] as const) {
    assert.equal(isPersisted(state), true, state);
  }
});

test('announced state: the saved state flagged STARTUP while starting up', () => {
  assert.deepEqual(announcedState(view({ state: 'startup', afterStartup: 'partner-down' })), {
    state: 'partner-down',
    startup: true,
  });
  assert.deepEqual(announcedState(view({ state: 'recover-wait' })), { state: 'recover-wait', startup: false });
});

test('service states', () => {
  assert.equal(serviceOf('normal', 'normal'), 'cooperating');
  assert.equal(serviceOf('communications-interrupted', null), 'own-free');
  assert.equal(serviceOf('partner-down', 'recover'), 'all');
  assert.equal(serviceOf('partner-down', null), 'all');
  for (const state of [
    'startup',
    'recover',
    'recover-wait',
    'recover-done',
    'potential-conflict',
    'conflict-done',
    'resolution-interrupted',
    'paused',
    'shutdown',
  ] as const) {
    assert.equal(serviceOf(state, 'partner-down'), 'none', state);
    assert.equal(serviceOf(state, null), 'none', state);
  }
  // The partner's state can silence us.
  assert.equal(serviceOf('normal', 'potential-conflict'), 'none');
  assert.equal(serviceOf('communications-interrupted', 'resolution-interrupted'), 'none');
  assert.equal(serviceOf('partner-down', 'partner-down'), 'none');
  assert.equal(serviceOf('normal', 'conflict-done'), 'none');
});

// --- Two servers in lockstep: each send-state becomes the other's peer-state, each UPDREQ/UPDREQALL is
// answered by an UPDDONE (as if the peer had sent its updates), in the order they were produced.

class Server {
  readonly visited: ServerStateName[] = [];
  readonly sent: string[] = [];
  armed: number | null = null;
  constructor(
    public view: FailoverView,
    readonly name: string,
  ) {
    this.visited.push(view.state);
  }
}

class Pair {
  private readonly queue: Array<{ to: Server; event: FailoverEvent }> = [];
  now: number;
  constructor(
    readonly primary: Server,
    readonly secondary: Server,
    now: number,
  ) {
    this.now = now;
  }
  other(server: Server): Server {
    return server === this.primary ? this.secondary : this.primary;
  }
  deliver(to: Server, event: FailoverEvent): void {
    const t = nextState(to.view, event, this.now);
    if (event.kind === 'peer-state') to.view = { ...to.view, partner: event.state, partnerStartup: event.startup };
    if (t === null) return;
    if (t.state !== to.view.state) to.visited.push(t.state);
    to.view = { ...to.view, state: t.state, stos: t.stos };
    for (const action of t.actions) {
      to.sent.push(action.kind);
      if (action.kind === 'send-state') {
        assert.ok(to.view.linkUp, `${to.name} announced without a link`);
        const { state, startup } = announcedState(to.view);
        this.queue.push({ to: this.other(to), event: { kind: 'peer-state', state, startup } });
      } else if (action.kind === 'send-updreqall' || action.kind === 'send-updreq') {
        this.queue.push({ to, event: { kind: 'update-done' } });
      } else if (action.kind === 'arm-recover-wait') {
        to.armed = action.at;
      }
    }
  }
  linkUp(): void {
    for (const server of [this.primary, this.secondary]) {
      server.view = { ...server.view, linkUp: true };
      this.deliver(server, { kind: 'link-up' });
    }
  }
  linkLost(): void {
    this.queue.length = 0;
    for (const server of [this.primary, this.secondary]) {
      server.view = { ...server.view, linkUp: false };
      this.deliver(server, { kind: 'link-lost' });
    }
  }
  run(): void {
    for (let steps = 0; this.queue.length > 0; steps++) {
      assert.ok(steps < 100, 'the pair never settles');
      const next = this.queue.shift();
      if (next) this.deliver(next.to, next.event);
    }
  }
}

function fresh(role: 'primary' | 'secondary', now: number, saved: ServerStateName | null, stos = now): Server {
  const start = initialState(saved);
  return new Server(
    {
      role,
      state: start.state,
      afterStartup: start.afterStartup,
      stos,
      partner: null,
      partnerStartup: false,
      mclt: MCLT,
      linkUp: false,
    },
    role,
  );
}

test('scenario: two new servers reach normal together, without waiting MCLT', () => {
  const pair = new Pair(fresh('primary', NOW, null), fresh('secondary', NOW, null), NOW);
  pair.linkUp();
  pair.run();
  for (const server of [pair.primary, pair.secondary]) {
    assert.equal(server.view.state, 'normal', server.name);
    assert.equal(server.view.partner, 'normal', server.name);
    assert.deepEqual(server.visited, ['startup', 'recover', 'recover-done', 'normal'], server.name);
    assert.ok(server.sent.includes('send-updreqall'), `${server.name} asked for a full update`);
    assert.equal(server.armed, null, `${server.name} never waited in recover-wait`);
    assert.equal(serviceOf(server.view.state, server.view.partner), 'cooperating');
  }
});

test('scenario: a normal pair loses the link and comes back to normal', () => {
  const normal = (role: 'primary' | 'secondary'): Server =>
    new Server({ role, state: 'normal', stos: OLD, partner: 'normal', partnerStartup: false, mclt: MCLT, linkUp: true }, role);
  const pair = new Pair(normal('primary'), normal('secondary'), NOW);
  pair.linkLost();
  for (const server of [pair.primary, pair.secondary]) {
    assert.equal(server.view.state, 'communications-interrupted', server.name);
    assert.equal(server.view.stos, NOW, server.name);
    assert.equal(serviceOf(server.view.state, server.view.partner), 'own-free');
  }
  pair.now += 600;
  pair.linkUp();
  pair.run();
  for (const server of [pair.primary, pair.secondary]) {
    assert.equal(server.view.state, 'normal', server.name);
    assert.equal(server.view.stos, NOW + 600, server.name);
    assert.deepEqual(server.visited, ['normal', 'communications-interrupted', 'normal'], server.name);
    assert.ok(server.sent.includes('send-updates'), `${server.name} flushed its updates`);
    assert.equal(serviceOf(server.view.state, server.view.partner), 'cooperating');
  }
});

test('scenario: clean stop of the primary, the secondary takes over, the restart needs no recover-wait', () => {
  const normal = (role: 'primary' | 'secondary'): Server =>
    new Server({ role, state: 'normal', stos: OLD, partner: 'normal', partnerStartup: false, mclt: MCLT, linkUp: true }, role);
  const pair = new Pair(normal('primary'), normal('secondary'), NOW);
  pair.deliver(pair.primary, { kind: 'shutdown' });
  pair.run();
  assert.equal(pair.primary.view.state, 'shutdown');
  assert.equal(pair.secondary.view.state, 'partner-down');
  assert.equal(pair.primary.view.partner, 'partner-down');
  pair.linkLost();
  pair.deliver(pair.primary, { kind: 'shutdown', updatesPending: false });
  assert.equal(pair.primary.view.state, 'recover');
  const saved = pair.primary.view;
  assert.equal(saved.stos, NOW - MCLT);

  // A minute later the primary starts again from what it saved.
  pair.now += 60;
  const restarted = fresh('primary', pair.now, saved.state, saved.stos);
  const again = new Pair(restarted, pair.secondary, pair.now);
  again.linkUp();
  again.run();
  assert.equal(restarted.view.state, 'normal');
  assert.equal(pair.secondary.view.state, 'normal');
  assert.deepEqual(restarted.visited, ['startup', 'recover', 'recover-done', 'normal']);
  assert.equal(restarted.armed, null);
});

test('scenario: a restart within MCLT of entering recover waits in recover-wait', () => {
  // The primary crashed in recover (stos recent); the secondary served alone in partner-down.
  const primary = fresh('primary', NOW, 'recover', RECENT);
  const secondary = new Server(
    { role: 'secondary', state: 'partner-down', stos: OLD, partner: null, partnerStartup: false, mclt: MCLT, linkUp: false },
    'secondary',
  );
  const pair = new Pair(primary, secondary, NOW);
  pair.linkUp();
  pair.run();
  assert.equal(primary.view.state, 'recover-wait');
  assert.equal(primary.armed, RECENT + MCLT);
  assert.equal(secondary.view.state, 'partner-down');
  assert.equal(serviceOf(secondary.view.state, secondary.view.partner), 'all');

  pair.now = RECENT + MCLT;
  pair.deliver(primary, { kind: 'recover-wait-ended' });
  pair.run();
  assert.equal(primary.view.state, 'normal');
  assert.equal(secondary.view.state, 'normal');
});
