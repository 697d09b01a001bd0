// The failover server-state machine as ISC dhcpd 4.4.3 runs it (server/failover.c, server/dhcpd.c at tag
// v4_4_3), as a pure function: the engine owns the link, the timers, the clock and the disk; this module only
// says, for what we know now and one event, which state to enter and what to do about it. Every rule below
// names the dhcpd function it was read from.
//
// How dhcpd works, in the terms used here:
// - Every process start goes through `startup` (dhcp_failover_startup -> dhcp_failover_state_transition
//   "startup"); the state read from dhcpd.leases is kept aside (saved_state, here `afterStartup`) and is what
//   the server announces, flagged STARTUP, while in startup (dhcp_failover_send_state). No saved state means
//   `recover` with stos = the time of the start (parse_failover_peer in server/confpars.c).
// - Startup ends on the first STATE from the peer (dhcp_failover_peer_state_changed), on a lost or failed
//   link, or after 15 s (dhcp_failover_startup_timeout). The last two run the "disconnect" transition against
//   the saved state, so a server saved as normal that hears nothing comes up communications-interrupted.
// - Every change of state is written to disk before it takes effect, tells the peer when there is a link,
//   and then runs the new state's entry work (dhcp_failover_set_state).
// - stos (start of the state) is the time of the change, except that it is kept when entering recover-wait
//   and when leaving startup: a server coming back keeps the stos it saved (dhcp_failover_set_state).
//
// Inputs the engine must keep up to date in the view: `partner` is the partner's state *before* the event
// (apply a peer-state event's state to the view after calling nextState), `linkUp` is true from the
// CONNECT/CONNECTACK exchange until the link drops, `afterStartup` is initialState's `afterStartup` while
// `state` is 'startup'.

import type { ServerStateName } from './names';

export type PeerRole = 'primary' | 'secondary';

/** What the state machine knows. Times in seconds since 1970. */
export interface FailoverView {
  role: PeerRole;
  /** Our state now. */
  state: ServerStateName;
  /** When we entered it (kept through startup: the saved stos). */
  stos: number;
  /** The partner's last reported state, before the event being handled (null: never heard in this run). */
  partner: ServerStateName | null;
  /** The partner's last STATE carried server-flags STARTUP. */
  partnerStartup: boolean;
  mclt: number;
  /** The CONNECT/CONNECTACK exchange completed and the link has not dropped since. */
  linkUp: boolean;
  /**
   * While `state` is 'startup': the state to go to when startup ends, initialState's `afterStartup` (dhcpd's
   * saved_state). Ignored in other states; missing in startup is taken as 'recover', the cautious choice.
   */
  afterStartup?: ServerStateName;
}

export type FailoverEvent =
  /** The startup period is over (dhcpd: 15 s after the start). Ignored outside startup. */
  | { kind: 'startup-ended' }
  /** The CONNECT/CONNECTACK exchange completed. */
  | { kind: 'link-up' }
  /** The link dropped, or (as dhcpd treats a connect that times out or finds no host) could not be made. */
  | { kind: 'link-lost' }
  /** A STATE message: the partner's server-state, and whether server-flags had STARTUP. */
  | { kind: 'peer-state'; state: ServerStateName; startup: boolean }
  /** The UPDDONE answering our UPDREQ/UPDREQALL arrived. */
  | { kind: 'update-done' }
  /** The timer armed from 'arm-recover-wait' fired. */
  | { kind: 'recover-wait-ended' }
  /** The operator declared the partner down. */
  | { kind: 'operator-partner-down' }
  /**
   * joind's own: the peer's bindings show that our store lacks changes we made (it was restored from an
   * old backup): what we remember cannot be trusted, as if we had no saved state.
   */
  | { kind: 'store-stale' }
  /**
   * The process is stopping. dhcpd does it in two steps (dhcp_io_shutdown_countdown): first normal ->
   * shutdown, telling the peer (which then goes partner-down); then, at exit, shutdown -> recover, which
   * is what is saved for the next start. Send it once when the stop begins and once more just before exit.
   * `updatesPending`: binding updates still queued or unacked at exit (missing = assume some).
   */
  | { kind: 'shutdown'; updatesPending?: boolean };

export type FailoverAction =
  /** Tell the partner our (new) state: STATE with announcedState(). */
  | { kind: 'send-state' }
  /** Send UPDREQALL. */
  | { kind: 'send-updreqall' }
  /** Send UPDREQ (dhcpd sends UPDREQALL instead while an UPDREQALL of ours is still unanswered). */
  | { kind: 'send-updreq' }
  /** (Re)start sending queued binding updates (dhcpd also queues every lease the peer has not acked). */
  | { kind: 'send-updates' }
  /** Unacked updates go back to the update queue, to be sent again. */
  | { kind: 'rescind-updates' }
  /** Schedule a pool balance check (dhcpd does it on either side on entering normal). */
  | { kind: 'pool-balance' }
  /** Fire recover-wait-ended at this time (stos + mclt). */
  | { kind: 'arm-recover-wait'; at: number };

/**
 * The outcome of one event. `state` equal to the view's state means no change of state (actions only);
 * otherwise the engine persists `state` and `stos` (isPersisted) before anything else, then runs `actions`
 * in order.
 */
export interface Transition {
  state: ServerStateName;
  stos: number;
  actions: FailoverAction[];
  why: string;
}

export type ServiceState = 'cooperating' | 'own-free' | 'all' | 'none';

/** The state to enter at process start from the saved state (null = never ran failover). */
export function initialState(saved: ServerStateName | null): { state: ServerStateName; afterStartup: ServerStateName } {
  // dhcp_failover_startup: always startup first; parse_failover_peer (confpars.c): no saved state = recover.
  // dhcpd never saves startup itself (write_failover_state writes saved_state instead); treat one as none.
  return { state: 'startup', afterStartup: saved === null || saved === 'startup' ? 'recover' : saved };
}

/** Whether a state is saved to permanent storage before it takes effect. */
export function isPersisted(state: ServerStateName): boolean {
  // dhcp_failover_set_state writes every change with write_failover_state; entering startup writes the saved
  // state again, so startup itself never reaches the disk.
  return state !== 'startup';
}

/** The state and STARTUP flag our STATE messages carry (dhcp_failover_send_state). */
export function announcedState(view: FailoverView): { state: ServerStateName; startup: boolean } {
  return view.state === 'startup' ? { state: savedOf(view), startup: true } : { state: view.state, startup: false };
}

/** Which clients we serve in a state, given the partner's (dhcp_failover_set_service_state). */
export function serviceOf(state: ServerStateName, partner: ServerStateName | null): ServiceState {
  let own: ServiceState;
  switch (state) {
    case 'normal':
      own = 'cooperating';
      break;
    case 'communications-interrupted':
      own = 'own-free';
      break;
    case 'partner-down':
      own = 'all';
      break;
    default:
      // startup (dhcpd's service_startup, which dhcp.c treats as not responding), the recover states, the
      // conflict states, paused and shutdown.
      own = 'none';
  }
  // A partner in partner-down or resolving conflicts silences us whatever our own state.
  if (own !== 'none' && partner !== null && PARTNER_SILENCES.has(partner)) return 'none';
  return own;
}

const PARTNER_SILENCES: ReadonlySet<ServerStateName> = new Set([
  'partner-down',
  'potential-conflict',
  'conflict-done',
  'resolution-interrupted',
]);

/** The next state and the actions for one event; null = no change and nothing to do. */
export function nextState(view: FailoverView, event: FailoverEvent, nowSec: number): Transition | null {
  switch (event.kind) {
    case 'startup-ended':
      // dhcp_failover_startup_timeout runs the "disconnect" transition. dhcpd also forgets the link there;
      // we keep announcing over a live one, so the peer hears where we went.
      if (view.state !== 'startup') return null;
      return disconnect(view, nowSec, view.linkUp, 'dhcp_failover_startup_timeout');
    case 'link-lost':
      return disconnect(view, nowSec, false, 'dhcp_failover_state_transition "disconnect"');
    case 'link-up':
      // dhcp_failover_state_signal: both sides send STATE once CONNECT/CONNECTACK is through (the "connect"
      // case of dhcp_failover_state_transition is never called in 4.4.3). No change of state here:
      // communications-interrupted -> normal waits for the peer's STATE.
      return { state: view.state, stos: view.stos, actions: [{ kind: 'send-state' }], why: 'link up: announce our state' };
    case 'peer-state':
      return peerState(view, event.state, event.startup, nowSec);
    case 'update-done':
      return updateDone(view, nowSec);
    case 'recover-wait-ended':
      // dhcp_failover_recover_done. dhcpd never cancels that timer; a stale one (we left recover-wait
      // meanwhile) is ignored here rather than forcing recover-done.
      if (view.state !== 'recover-wait') return null;
      return enter(view, 'recover-done', nowSec, {
        why: 'dhcp_failover_recover_done: MCLT since entering recover has passed',
      });
    case 'operator-partner-down':
      // dhcp_failover_state_set_value "local-state" (omshell) calls dhcp_failover_set_state from any state.
      // Re-entering partner-down would only move stos, and with it every lease's stos+MCLT, later.
      if (view.state === 'partner-down') return null;
      return enter(view, 'partner-down', nowSec, { why: 'operator: partner down' });
    case 'shutdown':
      return shutdown(view, event.updatesPending !== false, nowSec);
    case 'store-stale':
      // Recover as a server without saved state does (draft 9.6.2: it must not serve until it has its
      // peer's bindings and MCLT has passed). Only from the states that serve on their own knowledge.
      if (view.state !== 'normal' && view.state !== 'communications-interrupted') return null;
      return enter(view, 'recover', nowSec, { why: `store older than the peer's bindings: ${view.state} -> recover` });
  }
}

// ---------------------------------------------------------------------------------------------------------

interface EnterOptions {
  why: string;
  /** The partner's state as dhcpd knows it at the change (a STATE being handled is already recorded). */
  partner?: ServerStateName | null;
  /** Whether there is a link to announce over and send requests on (default view.linkUp). */
  link?: boolean;
  /** Overrides the stos rule. */
  stos?: number;
  /** Actions to run before the change's own. */
  before?: FailoverAction[];
}

/** dhcp_failover_set_state: the change itself, with what leaving the old state and entering the new one do. */
function enter(view: FailoverView, target: ServerStateName, now: number, options: EnterOptions): Transition {
  const partner = options.partner === undefined ? view.partner : options.partner;
  const link = options.link ?? view.linkUp;
  const actions: FailoverAction[] = [...(options.before ?? [])];
  let why = options.why;

  // Leaving a state in which we send updates: the unacked ones are sent again later.
  if (view.state === 'normal' || view.state === 'potential-conflict' || view.state === 'partner-down') {
    actions.push({ kind: 'rescind-updates' });
  }
  // stos moves to now except into recover-wait and out of startup.
  let stos = options.stos ?? (target === 'recover-wait' || view.state === 'startup' ? view.stos : now);
  // Entering recover-wait with the wait already over goes straight on to recover-done (dhcpd calls
  // dhcp_failover_recover_done at once; the two changes are folded into one here).
  if (target === 'recover-wait' && stos + view.mclt <= now) {
    target = 'recover-done';
    stos = now;
    why += '; MCLT already past: recover-done';
  }
  if (link) actions.push({ kind: 'send-state' });

  switch (target) {
    case 'normal':
      // Balance the pools and send every pending update.
      actions.push({ kind: 'pool-balance' }, { kind: 'send-updates' });
      break;
    case 'potential-conflict':
      // The primary asks for the peer's updates at once; the secondary once the primary is conflict-done.
      if (link && (view.role === 'primary' || partner === 'conflict-done')) actions.push({ kind: 'send-updreq' });
      break;
    case 'recover-wait':
      actions.push({ kind: 'arm-recover-wait', at: stos + view.mclt });
      break;
    case 'recover':
      // Always UPDREQALL (dhcpd cannot tell whether UPDREQ would do), if there is a link to send it on.
      if (link) actions.push({ kind: 'send-updreqall' });
      break;
    default:
      // partner-down's lease timers (expired -> free at stos+MCLT) are the lease engine's business.
      // communications-interrupted's auto-partner-down timer (off by default) is left out.
      break;
  }
  // One of each: a table's own action may repeat what entering the state does anyway.
  const unique = actions.filter((action, i) => actions.findIndex((other) => other.kind === action.kind) === i);
  return { state: target, stos, actions: unique, why };
}

function savedOf(view: FailoverView): ServerStateName {
  const saved = view.afterStartup ?? 'recover';
  return saved === 'startup' ? 'recover' : saved;
}

/** dhcp_failover_state_transition "disconnect": link lost, connect failed, or startup over. */
function disconnect(view: FailoverView, now: number, link: boolean, source: string): Transition | null {
  const inStartup = view.state === 'startup';
  const current = inStartup ? savedOf(view) : view.state;
  switch (current) {
    case 'normal':
      return enter(view, 'communications-interrupted', now, { why: `${source}: normal -> communications-interrupted`, link });
    case 'potential-conflict':
      return enter(view, 'resolution-interrupted', now, { why: `${source}: potential-conflict -> resolution-interrupted`, link });
    case 'conflict-done': {
      // The peer may have lost what we sent: send it again on its next update request.
      const rescind: FailoverAction[] = [{ kind: 'rescind-updates' }];
      if (inStartup) return enter(view, current, now, { why: `${source}: end of startup`, link, before: rescind });
      return { state: view.state, stos: view.stos, actions: rescind, why: `${source}: conflict-done stays` };
    }
    default:
      // communications-interrupted, partner-down, paused, recover, recover-done, recover-wait,
      // resolution-interrupted, shutdown: stay, or leave startup for the saved state.
      if (inStartup) return enter(view, current, now, { why: `${source}: end of startup`, link });
      return null;
  }
}

type Outcome = { to: ServerStateName; why: string } | { only: FailoverAction[]; why: string } | null;

/** dhcp_failover_peer_state_changed: the partner sent STATE. */
function peerState(view: FailoverView, peer: ServerStateName, startupFlag: boolean, now: number): Transition | null {
  const inStartup = view.state === 'startup';
  const saved = savedOf(view);
  const previous = view.partner;
  const src = 'dhcp_failover_peer_state_changed';

  // The same peer state again: in most of our states nothing to do; in startup it ends startup, towards
  // potential-conflict rather than resolution-interrupted since we evidently have a link.
  if (previous === peer) {
    if (inStartup) {
      const to = saved === 'resolution-interrupted' ? 'potential-conflict' : saved;
      return enter(view, to, now, { why: `${src}: peer ${peer} again, end of startup`, partner: peer });
    }
    if (QUIET_ON_REPEAT.has(view.state)) return null;
  }

  const outcome = peerTable(view, inStartup ? saved : view.state, inStartup, peer, startupFlag, previous);
  if (outcome !== null && 'to' in outcome) {
    return enter(view, outcome.to, now, { why: `${src}: ${outcome.why}`, partner: peer });
  }
  // No change from the table: a STATE from the peer still ends our startup.
  if (inStartup) {
    return enter(view, saved, now, {
      why: `${src}: peer ${peer}, end of startup${outcome ? `; ${outcome.why}` : ''}`,
      partner: peer,
      before: outcome?.only ?? [],
    });
  }
  if (outcome === null || outcome.only.length === 0) return null;
  return { state: view.state, stos: view.stos, actions: outcome.only, why: `${src}: ${outcome.why}` };
}

/** Our states in which a STATE repeating the peer's last one is ignored. */
const QUIET_ON_REPEAT: ReadonlySet<ServerStateName> = new Set([
  'normal',
  'potential-conflict',
  'recover-done',
  'shutdown',
  'paused',
  'recover-wait',
]);

/** The table of dhcp_failover_peer_state_changed: our state (the saved one in startup) x the peer's new one. */
function peerTable(
  view: FailoverView,
  mine: ServerStateName,
  inStartup: boolean,
  peer: ServerStateName,
  peerStartup: boolean,
  previous: ServerStateName | null,
): Outcome {
  const link = view.linkUp;
  const updreqall = (why: string): Outcome =>
    // Not from startup: ending startup enters recover, which sends one itself.
    ({ only: !inStartup && link ? [{ kind: 'send-updreqall' }] : [], why });
  switch (mine) {
    case 'normal':
      switch (peer) {
        case 'normal':
          return { only: [{ kind: 'pool-balance' }], why: 'peer normal: check pool balance' };
        case 'partner-down':
          // The peer served alone while we were away: what we remember may be stale.
          return inStartup
            ? { to: 'recover', why: 'saved normal, peer partner-down -> recover' }
            : { to: 'potential-conflict', why: 'normal, peer partner-down -> potential-conflict' };
        case 'potential-conflict':
        case 'resolution-interrupted':
        case 'conflict-done':
          return { to: 'shutdown', why: `normal, peer ${peer}: invalid -> shutdown` };
        case 'recover':
        case 'shutdown':
          // An amnesic (or departing) peer: we serve everything.
          return { to: 'partner-down', why: `normal, peer ${peer} -> partner-down` };
        case 'paused':
          return { to: 'communications-interrupted', why: 'normal, peer paused -> communications-interrupted' };
        default:
          return null;
      }
    case 'recover':
      switch (peer) {
        case 'recover':
          return updreqall('recover, peer recover: request a full update');
        case 'potential-conflict':
        case 'resolution-interrupted':
        case 'conflict-done':
        case 'normal':
          return { to: 'potential-conflict', why: `recover, peer ${peer} -> potential-conflict` };
        case 'partner-down':
        case 'communications-interrupted':
          return updreqall(`recover, peer ${peer}: request a full update`);
        case 'shutdown':
          return { to: 'partner-down', why: 'recover, peer shutdown -> partner-down' };
        default:
          return null;
      }
    case 'potential-conflict':
      switch (peer) {
        case 'normal':
          return { to: 'shutdown', why: 'potential-conflict, peer normal: illegal -> shutdown' };
        case 'conflict-done':
          // The primary has our updates; now we ask for its (only when it came from potential-conflict).
          if (previous === 'potential-conflict') {
            return { only: link ? [{ kind: 'send-updreq' }] : [], why: 'peer conflict-done: request its updates' };
          }
          return { only: [], why: 'unexpected peer conflict-done' };
        case 'recover':
          return { to: 'recover', why: 'potential-conflict, peer recover -> recover' };
        case 'shutdown':
          return { to: 'partner-down', why: 'potential-conflict, peer shutdown -> partner-down' };
        default:
          return null;
      }
    case 'conflict-done':
      switch (peer) {
        case 'normal':
        case 'shutdown':
          return { to: peer, why: `conflict-done, peer ${peer} -> ${peer}` };
        default:
          // potential-conflict and resolution-interrupted are expected (the link came back before the
          // secondary finished). dhcpd exits (log_fatal) on any other peer state; we stay.
          return null;
      }
    case 'partner-down':
      // Nothing while the peer is still starting up.
      if (peerStartup) return null;
      switch (peer) {
        case 'recover-done':
          return { to: 'normal', why: 'partner-down, peer recover-done -> normal' };
        case 'normal':
        case 'potential-conflict':
        case 'partner-down':
        case 'communications-interrupted':
        case 'resolution-interrupted':
        case 'conflict-done':
          return { to: 'potential-conflict', why: `partner-down, peer ${peer} -> potential-conflict` };
        default:
          // recover, recover-wait: the peer is catching up, as it should.
          return null;
      }
    case 'communications-interrupted':
      switch (peer) {
        case 'recover':
          return { to: 'partner-down', why: 'communications-interrupted, peer recover (amnesic) -> partner-down' };
        case 'normal':
        case 'communications-interrupted':
        case 'recover-done':
        case 'recover-wait':
          return { to: 'normal', why: `communications-interrupted, peer ${peer} -> normal` };
        case 'potential-conflict':
        case 'partner-down':
        case 'resolution-interrupted':
        case 'conflict-done':
          return { to: 'potential-conflict', why: `communications-interrupted, peer ${peer} -> potential-conflict` };
        case 'shutdown':
          return { to: 'partner-down', why: 'communications-interrupted, peer shutdown -> partner-down' };
        default:
          return null;
      }
    case 'resolution-interrupted':
      switch (peer) {
        case 'shutdown':
          return { to: 'partner-down', why: 'resolution-interrupted, peer shutdown -> partner-down' };
        case 'paused':
        case 'startup':
          return null;
        default:
          return { to: 'potential-conflict', why: `resolution-interrupted, peer ${peer} -> potential-conflict` };
      }
    case 'recover-done':
      switch (peer) {
        case 'recover-done':
        case 'normal':
          return { to: 'normal', why: `recover-done, peer ${peer} -> normal` };
        case 'shutdown':
          return { to: 'partner-down', why: 'recover-done, peer shutdown -> partner-down' };
        default:
          return null;
      }
    default:
      // recover-wait: just wait; shutdown, paused: no automatic changes.
      return null;
  }
}

/** dhcp_failover_process_update_done: the peer has sent everything we asked for. */
function updateDone(view: FailoverView, now: number): Transition | null {
  const src = 'dhcp_failover_process_update_done';
  switch (view.state) {
    case 'potential-conflict':
      if (view.partner === 'conflict-done') {
        return view.role === 'secondary'
          ? enter(view, 'normal', now, { why: `${src}: secondary resolved, primary conflict-done -> normal` })
          : enter(view, 'shutdown', now, { why: `${src}: secondary in conflict-done is illegal -> shutdown` });
      }
      if (view.role === 'primary') {
        return enter(view, 'conflict-done', now, { why: `${src}: primary resolved -> conflict-done` });
      }
      return null; // a spurious UPDDONE for a secondary
    case 'recover':
      // Wait out MCLT from entering recover, except when the peer is recovering too (a new pair: no lease
      // of ours can be out there; dhcpd commit 37d8bfeb).
      if (view.stos + view.mclt > now && view.partner !== 'recover' && view.partner !== 'recover-done') {
        return enter(view, 'recover-wait', now, { why: `${src}: recover -> recover-wait until stos+mclt` });
      }
      return enter(view, 'recover-done', now, {
        why: `${src}: recover -> recover-done (${view.stos + view.mclt > now ? `peer ${view.partner}` : 'MCLT past'})`,
      });
    default:
      return null; // dhcpd ignores (or logs) an UPDDONE in any other state
  }
}

/** dhcp_io_shutdown_countdown (server/dhcpd.c): the two steps of a clean stop. */
function shutdown(view: FailoverView, updatesPending: boolean, now: number): Transition | null {
  const src = 'dhcp_io_shutdown_countdown';
  if (view.state === 'normal') {
    // Tell the peer, which then takes over (normal + peer shutdown -> partner-down).
    return enter(view, 'shutdown', now, { why: `${src}: normal -> shutdown` });
  }
  if (view.state === 'shutdown') {
    // At exit the link is dropped and recover saved for the next start. If the peer took over and nothing
    // was left unacked, stos goes back by MCLT so that the next start does not wait in recover-wait
    // (dhcp_failover_set_state's shutdown -> recover case).
    const skip = view.partner === 'partner-down' && !updatesPending;
    return enter(view, 'recover', now, {
      why: `${src}: exit, shutdown -> recover${skip ? ' (no recover-wait needed)' : ''}`,
      link: false,
      stos: skip ? now - view.mclt : now,
    });
  }
  return null; // dhcpd leaves every other state as it is
}
