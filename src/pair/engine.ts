// One failover relationship at work: the session over the link (CONNECT/CONNECTACK and their checks,
// STATE, keep-alives), the server state machine (src/failover/states.ts) with every transition saved
// before it takes effect, and the binding updates both ways. The engine never touches a socket (the link
// in src/io does; the daemon wires the two) nor SQLite (the store does); every lease change goes
// through the lease owner, for which the peer is one more writer.
import {
  announcedState,
  type FailoverEvent,
  type FailoverMessage,
  type FailoverView,
  type MessageOf,
  type ServerStateName,
  type ServiceState,
  hbaFromSplit,
  initialState,
  isPersisted,
  isPrimaryBucket,
  nextState,
  REJECT_REASONS,
  rejectReasonName,
  type RejectReasonName,
  SERVER_FLAG_STARTUP,
  SERVER_STATES,
  serverStateName,
  serviceOf,
  type Transition,
  HBA_SIZE,
  PROTOCOL_VERSION,
} from '../failover';
import type { LeaseOwner, PeerSync } from '../alloc/lease-owner';
import type { Store } from '../store/store';
import { type FailoverStateRecord, type LeaseRecord, LeaseState } from '../store/types';
import { logEvent, type Logger } from '../log/logger';
import { ipToString } from '../util/ipv4';
import { VERSION } from '../version';
import { bindUpdateOf, recordOfBindUpdate } from './bindings';
import { balancePools } from './balance';

/** The failover keywords of server.pcy, as the engine uses them. */
export interface PairSettings {
  name: string;
  role: 'primary' | 'secondary';
  /** Seconds of silence after which the link is dropped (ours; sent to the peer as receive-timer). */
  maxResponseDelay: number;
  /** BNDUPDs the peer may send us before our BNDACKs (ours; sent in CONNECT/CONNECTACK). */
  maxUnacked: number;
  /** Primary: the configured MCLT; secondary: null (learned from the primary's CONNECT). */
  mclt: number | null;
  /** Primary: hash buckets 0..split-1 are the primary's. Secondary: null (from CONNECT). */
  split: number | null;
  /** secs above which both servers answer a client; 0: no load balancing. */
  loadBalanceMaxSecs: number;
  /** Milliseconds a first lease may wait for the peer's BNDACK (failover_ack_wait); 0: never. */
  ackWaitMs: number;
  /** Distinct clients the absent peer must visibly fail before partner-down (0: never on evidence). */
  unackedClients: number;
  /** secs a client must have been trying to count as failed by the peer. */
  unackedSecs: number;
  /** dhcpd's auto-partner-down, seconds in communications-interrupted (0: off). */
  autoPartnerDownSecs: number;
  /**
   * failover_start_alone: a store that has never been in the relationship starts as if it had been
   * partner-down, so that a unit deployed before its peer serves (after startup). Ignored once the
   * store has a saved state.
   */
  startAlone?: boolean;
  /** The longest startup before the saved state rules without the peer (default 15 s, as dhcpd). */
  startupMs?: number;
  ignoreHardwareType: boolean;
}

/** What the engine needs of a connection (src/io/failover-link.ts provides it). */
export interface PeerConnection {
  readonly id: number;
  readonly remote: string;
  readonly open: boolean;
  send(msg: FailoverMessage): boolean;
  keepAlive(intervalMs: number): void;
  silenceLimit(ms: number): void;
  close(reason: string): void;
}

/** Clocks of the two servers may differ by this much (dhcpd's check of CONNECT and CONNECTACK). */
const MAX_SKEW_SECONDS = 60;
/** Clocks further apart than this are worth a warning (half the limit: time to fix NTP before it bites). */
const WARN_SKEW_SECONDS = 30;
/** The longest time in startup before the saved state is entered without the peer (dhcpd: 15 s). */
const STARTUP_MS = 15_000;
/** What a secondary uses as the MCLT before it has ever heard the primary's (dhcpd's default). */
const DEFAULT_MCLT = 3600;
/** Addresses taken from the store's pending list per refill of the update queue. */
const REFILL = 1024;
/** The longest wait for the peer's UPDDONE after a start before serving anyway (a peer that never ends it). */
const CATCH_UP_LIMIT_MS = 30_000;

/** A grant waiting for the peer to acknowledge its address up to a potential expiry. */
interface AckWaiter {
  tstp: number;
  done(acked: boolean): void;
  timer: NodeJS.Timeout;
}

/** What an update in flight carried, so that its BNDACK can be matched and judged. */
interface InFlight {
  xid: number;
  sent: Pick<LeaseRecord, 'state' | 'ends' | 'cltt'> & { tstp: number | null };
  /** Sent in answer to the peer's UPDREQ/UPDREQALL (the record may have been in step already). */
  resend: boolean;
  at: number;
}

export interface PairStats {
  updatesSent: number;
  updatesAcked: number;
  updatesRejectedByPeer: number;
  updatesReceived: number;
  updatesRefused: number;
  badMessages: number;
  connects: number;
  /** Milliseconds from a BNDUPD leaving to its BNDACK: sum and count, for the mean. */
  ackLatencyMsSum: number;
  ackLatencyCount: number;
}

/** `joind ctl failover`: the relationship as an administrator reads it. */
export interface PairStatus {
  relationship: string;
  role: 'primary' | 'secondary';
  state: ServerStateName;
  stos: number;
  partnerState: ServerStateName | null;
  service: ServiceState;
  /** In words: why the service is what it is when it is not cooperating, and for how long (null in normal). */
  note: string | null;
  link: 'up' | 'down';
  mclt: number;
  unackedUpdates: number;
  queuedUpdates: number;
  free: number;
  backup: number;
  stats: PairStats;
}

export class FailoverEngine implements PeerSync {
  readonly role: 'primary' | 'secondary';
  private my: { state: ServerStateName; stos: number };
  private afterStartup: ServerStateName;
  private partner: { state: ServerStateName | null; startup: boolean; stos: number | null } = {
    state: null,
    startup: false,
    stos: null,
  };
  private everPaired = false;
  private mcltInForce: number;
  private hba: Buffer | null;
  /** The connection the session runs on (CONNECT/CONNECTACK done), or null. */
  private session: PeerConnection | null = null;
  private peerMaxUnacked = 1;
  private xid = (Math.random() * 0x7fffffff) >>> 0;
  /** Addresses whose record waits for the peer, in the order they were queued. */
  private readonly queue = new Set<number>();
  /** Addresses to send whatever their record (answering the peer's UPDREQALL/UPDREQ). */
  private readonly resend = new Set<number>();
  private readonly inFlight = new Map<number, InFlight>();
  /**
   * Updates sent in this session and rescinded by a change of state before their BNDACK came: the
   * peer still answers them, and that answer is a true acknowledgement of what was sent (dhcpd, too,
   * takes an ack for a lease it re-queued). Without this, leaving partner-down as the link comes back
   * turned the peer's first BNDACK into a protocol error that cut the new session.
   */
  private readonly rescinded = new Map<number, InFlight>();
  /** Clients of the peer's buckets seen waiting in this spell of communications-interrupted (hex keys). */
  private readonly unserved = new Set<string>();
  /** A clock difference past WARN_SKEW_SECONDS was logged and has not gone back below it since. */
  private skewWarned = false;
  /** Grants waiting for the peer's acknowledgement of their address (failover_ack_wait). */
  private readonly ackWaiters = new Map<number, AckWaiter[]>();
  /** The xid of the peer's UPDREQ/UPDREQALL we answer: UPDDONE follows the last BNDACK. */
  private doneOwed: number | null = null;
  /** An UPDREQALL of ours waits for its UPDDONE. */
  private allRequested = false;
  /**
   * Catching up after a start (joind's own rule, beyond dhcpd). A saved state of normal or
   * communications-interrupted takes the pair back to normal without recover, trusting our store. A store
   * restored from an old backup would then hand out addresses that it leased after the backup and
   * forgot, which the peer knows are taken. So the first time in a run that we enter normal without
   * recover, we ask for every binding (UPDREQALL) and serve nobody until its UPDDONE. A peer's active
   * lease on an address our store has in our own free state shows the store is stale: then we recover.
   */
  private catchUp: { phase: 'pending' | 'asked' | 'done'; since: number; bindings: number; stale: number[] } = {
    phase: 'pending',
    since: 0,
    bindings: 0,
    stale: [],
  };
  /** Events wait while a transition is being saved, so that each sees the state before it. */
  private readonly pendingEvents: { event: FailoverEvent; partnerStos: number | null }[] = [];
  private saving = false;
  /** The state being saved (written, not yet durable): what a save meanwhile must write as ours. */
  private savingAs: { state: ServerStateName; stos: number } | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  readonly stats: PairStats = {
    updatesSent: 0,
    updatesAcked: 0,
    updatesRejectedByPeer: 0,
    updatesReceived: 0,
    updatesRefused: 0,
    badMessages: 0,
    connects: 0,
    ackLatencyMsSum: 0,
    ackLatencyCount: 0,
  };

  constructor(
    private readonly settings: PairSettings,
    private readonly store: Store,
    private readonly owner: LeaseOwner,
    private readonly log: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.role = settings.role;
    const saved = store.failover.get(settings.name);
    let savedState = saved && saved.myState in SERVER_STATES ? (saved.myState as ServerStateName) : null;
    // A fresh store told to start alone: as if it had been partner-down (the seed's edit of dhcpd's
    // lease file, done once and safely: a store with any saved state ignores it).
    if (saved === undefined && settings.startAlone) savedState = 'partner-down';
    const start = initialState(savedState);
    this.my = { state: start.state, stos: saved?.myStos ?? this.nowSec() };
    this.afterStartup = start.afterStartup;
    this.everPaired = saved?.everPaired ?? false;
    if (saved?.partnerState && saved.partnerState in SERVER_STATES) {
      this.partner.state = saved.partnerState as ServerStateName;
      this.partner.stos = saved.partnerStos;
    }
    this.mcltInForce = settings.mclt ?? saved?.mclt ?? DEFAULT_MCLT;
    // A secondary's assignment is the primary's, from CONNECT; the saved one serves until the next.
    this.hba = settings.split !== null ? hbaFromSplit(settings.split) : saved?.hba ? Buffer.from(saved.hba) : null;
  }

  /** Begins: the owner consults us from now on, the queue holds what the last run left unsent. */
  start(): void {
    this.owner.attachPeer(this);
    this.refill();
    if (this.my.state === 'startup')
      this.after(this.settings.startupMs ?? STARTUP_MS, () => this.event({ kind: 'startup-ended' }));
  }

  stop(): void {
    this.stopped = true;
    for (const list of [...this.ackWaiters.values()]) for (const waiter of [...list]) waiter.done(false);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.owner.attachPeer(null);
  }

  // ---- PeerSync: what the lease owner asks ----

  freeStates(): readonly LeaseState[] {
    switch (this.service()) {
      case 'none':
        return [];
      case 'all':
        // Partner-down: the peer's free addresses and the ended records too, once the MCLT has passed.
        return [this.ownFree, this.peerFree, LeaseState.EXPIRED, LeaseState.RELEASED, LeaseState.ABANDONED];
      default:
        return [this.ownFree];
    }
  }

  /**
   * Whether a record of a failover range is ours to allocate now (dhcpd's lease_mine_to_reallocate): our
   * own free state whenever we serve; in partner-down also the peer's free state and records that ended
   * (expired, released, abandoned), but only once max(partner-down's stos, the record's tsfp) + MCLT has
   * passed: until then the peer, which may have served on alone, could have given the address out.
   */
  mayTake(record: LeaseRecord, nowSec: number): boolean {
    const service = this.service();
    if (service === 'none') return false;
    if (record.state === this.ownFree) return true;
    if (service !== 'all') return false;
    const ended =
      record.state === this.peerFree ||
      record.state === LeaseState.EXPIRED ||
      record.state === LeaseState.RELEASED ||
      record.state === LeaseState.ABANDONED;
    return ended && nowSec >= Math.max(this.my.stos, record.tsfp ?? 0) + this.mcltInForce;
  }

  private get ownFree(): LeaseState.FREE | LeaseState.BACKUP {
    return this.role === 'primary' ? LeaseState.FREE : LeaseState.BACKUP;
  }

  private get peerFree(): LeaseState.FREE | LeaseState.BACKUP {
    return this.role === 'primary' ? LeaseState.BACKUP : LeaseState.FREE;
  }

  /**
   * `joind ctl failover partner-down`: the administrator declares the peer down (dhcpd's omshell
   * `partner-down`). Only from communications-interrupted and the states that wait for a peer that is
   * not there; never while the link is up, when the peer would say otherwise. Returns why not, or null.
   */
  declarePartnerDown(): string | null {
    if (this.session) return 'the failover link is up: the peer is not down';
    if (this.my.state === 'partner-down') return null;
    this.event({ kind: 'operator-partner-down' });
    return null;
  }

  mclt(): number {
    return this.mcltInForce;
  }

  ackWaitMs(): number {
    return this.settings.ackWaitMs;
  }

  /**
   * Resolves true once the peer has acknowledged the address's record with a potential expiry of at
   * least `tstp`, false after `ms` or at once when no acknowledgement can come (no session, or a state
   * in which updates do not flow).
   */
  awaitAck(address: number, tstp: number, ms: number): Promise<boolean> {
    if (ms <= 0 || !this.mayUpdate()) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: AckWaiter = {
        tstp,
        done: (acked) => {
          clearTimeout(waiter.timer);
          const list = this.ackWaiters.get(address);
          if (list) {
            list.splice(list.indexOf(waiter), 1);
            if (list.length === 0) this.ackWaiters.delete(address);
          }
          resolve(acked);
        },
        timer: setTimeout(() => waiter.done(false), ms),
      };
      const list = this.ackWaiters.get(address);
      if (list) list.push(waiter);
      else this.ackWaiters.set(address, [waiter]);
    });
  }

  queued(address: number): void {
    this.queue.add(address);
    // The update leaves once the change is on disk: the peer must never know more than we could recover.
    this.store.whenDurable(() => this.pump());
  }

  // ---- what the DHCP path asks ----

  service(): ServiceState {
    if (this.catchUp.phase === 'asked') return 'none';
    return serviceOf(this.my.state, this.partner.state);
  }

  /**
   * Whether this server answers a client that is looking for a lease (DISCOVER, or a REQUEST that names
   * no server): in normal operation and in communications-interrupted only the one whose hash buckets
   * hold the client (RFC 3074), unless the client has waited longer than failover_load_balance_max_secs
   * (0: no load balancing, both answer).
   */
  answersClient(key: Uint8Array, secs: number): boolean {
    const service = this.service();
    // In communications-interrupted the peer may still serve its clients: they stay its own until they
    // have waited past the limit, as in normal; how long they wait is the evidence of partner-down.
    if (service !== 'cooperating' && service !== 'own-free') return true;
    // Without an assignment (a secondary that has never heard the primary) every client is the peer's
    // until it has waited, as dhcpd's load_balance_mine has it.
    const ours = this.hba !== null && isPrimaryBucket(this.hba, key) === (this.role === 'primary');
    if (!ours && service === 'own-free' && secs > this.settings.unackedSecs) this.noteUnserved(key);
    const lbms = this.settings.loadBalanceMaxSecs;
    return ours || lbms === 0 || secs > lbms;
  }

  /**
   * A client the peer should serve and does not, seen in a REQUEST: REBINDING (secs null: it could not
   * renew with the server that granted its lease, so no secs limit), or still asking for the peer's
   * offer after failover_unacked_secs. Evidence for partner-down like a DISCOVER of the peer's buckets
   * that waited too long; a cut failover link alone yields none, since a live peer answers these.
   */
  peerNotServing(key: Uint8Array, secs: number | null): void {
    if (this.service() !== 'own-free') return;
    if (secs !== null && secs <= this.settings.unackedSecs) return;
    this.noteUnserved(key);
  }

  /**
   * A client of the peer's hash buckets has been trying for longer than failover_unacked_secs while we
   * cannot reach the peer: evidence that the peer is down, not only our link to it. Enough distinct
   * clients (failover_unacked_clients) and we go partner-down (Kea's max-unacked-clients, research 4.6).
   */
  private noteUnserved(key: Uint8Array): void {
    const threshold = this.settings.unackedClients;
    if (threshold === 0 || this.my.state !== 'communications-interrupted' || this.saving) return;
    this.unserved.add(Buffer.from(key).toString('hex'));
    if (this.unserved.size < threshold) return;
    logEvent(this.log, 'FAILOVER_PEER_UNRESPONSIVE', {
      relationship: this.settings.name,
      clients: this.unserved.size,
      waitedOver: this.settings.unackedSecs,
    });
    this.unserved.clear();
    this.event({ kind: 'operator-partner-down' });
  }

  status(): PairStatus {
    let free = 0;
    let backup = 0;
    for (const range of this.owner.pairedRanges) {
      for (const count of this.store.leases.countStates(range.start, range.end, this.nowSec())) {
        if (count.state === LeaseState.FREE) free += count.count;
        else if (count.state === LeaseState.BACKUP) backup += count.count;
      }
    }
    return {
      relationship: this.settings.name,
      role: this.role,
      state: this.my.state,
      stos: this.my.stos,
      partnerState: this.partner.state,
      service: this.service(),
      note: this.note(),
      link: this.session ? 'up' : 'down',
      mclt: this.mcltInForce,
      unackedUpdates: this.inFlight.size,
      queuedUpdates: this.queue.size + this.resend.size,
      free,
      backup,
      stats: { ...this.stats },
    };
  }

  /** What an administrator needs to know beyond the state's name: what we wait for, and until when. */
  private note(): string | null {
    const now = this.nowSec();
    const link = this.session ? '' : '; the failover link is down';
    if (this.catchUp.phase === 'asked') {
      const secs = Math.round((this.nowMs() - this.catchUp.since) / 1000);
      return `catching up after the start: asked the peer for every binding ${secs} s ago; serves nobody until they are all in`;
    }
    if (this.partner.state !== null && this.service() === 'none' && serviceOf(this.my.state, null) !== 'none') {
      return `the peer is ${this.partner.state} and serves every client meanwhile`;
    }
    switch (this.my.state) {
      case 'normal':
        return null;
      case 'startup':
        return `startup: waiting for the peer (at most ${Math.round((this.settings.startupMs ?? STARTUP_MS) / 1000)} s) before taking the saved state, ${this.afterStartup}${link}`;
      case 'recover':
        return `recover: serves nobody until it has the peer's bindings${this.session ? ' (asked for them all)' : link}`;
      case 'recover-wait': {
        const until = this.my.stos + this.mcltInForce;
        return `recover-wait: serves nobody until ${new Date(until * 1000).toISOString()} (MCLT after the start of recover, kept through a restart), ${Math.max(0, until - now)} s left`;
      }
      case 'recover-done':
        return `recover-done: serves nobody until the peer says recover-done or normal${link}`;
      case 'communications-interrupted': {
        const evidence =
          this.settings.unackedClients > 0
            ? `partner-down once ${this.settings.unackedClients} of its clients have waited over ${this.settings.unackedSecs} s (${this.unserved.size} so far)`
            : 'partner-down only by hand (joind ctl failover partner-down)';
        return `communications-interrupted for ${now - this.my.stos} s: serves its own free addresses, leases up to MCLT; ${evidence}`;
      }
      case 'partner-down': {
        const until = this.my.stos + this.mcltInForce;
        return until > now
          ? `partner-down: serves every client; the peer's free addresses from ${new Date(until * 1000).toISOString()} (${until - now} s)`
          : "partner-down: serves every client, from both servers' free addresses";
      }
      case 'potential-conflict':
      case 'resolution-interrupted':
      case 'conflict-done':
        return `${this.my.state}: serves nobody until both servers have exchanged their bindings${link}`;
      default:
        return `${this.my.state}: serves nobody`;
    }
  }

  // ---- the link's events ----

  onConnection(conn: PeerConnection): void {
    if (this.stopped) return conn.close('stopped');
    // Only the primary opens a session (dhcpd: on every link it holds, inbound or outbound).
    if (this.role === 'primary') {
      conn.send({
        type: 'CONNECT',
        time: this.nowSec(),
        xid: this.nextXid(),
        relationshipName: Buffer.from(this.settings.name),
        maxUnacked: this.settings.maxUnacked,
        receiveTimer: this.settings.maxResponseDelay,
        vendorClass: Buffer.from(`joind-${VERSION}`),
        protocolVersion: PROTOCOL_VERSION,
        tlsRequest: 0,
        mclt: this.mcltInForce,
        hba: this.hba!,
      });
    }
  }

  onMessage(conn: PeerConnection, msg: FailoverMessage): void {
    if (this.stopped) return;
    if (msg.type === 'CONNECT') return this.onConnect(conn, msg);
    if (msg.type === 'CONNECTACK') return this.onConnectAck(conn, msg);
    if (msg.type === 'DISCONNECT') {
      this.linkDown(conn, `peer disconnected: ${reasonText(msg.rejectReason, msg.message)}`);
      return conn.close('peer sent DISCONNECT');
    }
    if (conn !== this.session) {
      if (msg.type === 'CONTACT') return; // the peer's keep-alive on a connection it has not used yet
      return this.bad(conn, `${msg.type} before CONNECT and CONNECTACK`);
    }
    // The clocks may drift apart during a session too: past the limit, leases and MCLT arithmetic
    // between the two can no longer be trusted, so the session ends (and CONNECT refuses it until fixed).
    const skew = msg.time - this.nowSec();
    if (Math.abs(skew) > MAX_SKEW_SECONDS) {
      logEvent(this.log, 'FAILOVER_CONNECT_REJECTED', {
        relationship: this.settings.name,
        remote: conn.remote,
        why: `clocks differ by ${skew} s`,
      });
      conn.send({
        type: 'DISCONNECT',
        time: this.nowSec(),
        xid: this.nextXid(),
        rejectReason: REJECT_REASONS['time-mismatch'],
        message: `clocks differ by ${skew} s`,
      });
      return conn.close(`clocks differ by ${skew} s`);
    }
    this.warnSkew(conn, skew);
    switch (msg.type) {
      case 'STATE':
        return this.onState(msg);
      case 'BNDUPD':
        return this.onBindUpdate(conn, msg);
      case 'BNDACK':
        return this.onBindAck(msg);
      case 'UPDREQALL':
        return this.answerUpdateRequest(msg.xid, true);
      case 'UPDREQ':
        return this.answerUpdateRequest(msg.xid, false);
      case 'UPDDONE': {
        const wasAll = this.allRequested;
        this.allRequested = false;
        if (this.catchUp.phase === 'asked') return this.caughtUp();
        // A full exchange of the state machine's own (recover's) serves as this run's catch-up.
        if (wasAll && this.catchUp.phase === 'pending') this.catchUp.phase = 'done';
        return this.event({ kind: 'update-done' });
      }
      case 'POOLREQ':
        return this.onPoolRequest(conn, msg.xid);
      case 'POOLRESP':
      case 'CONTACT':
        return;
    }
  }

  onBadMessage(conn: PeerConnection, why: string): void {
    this.stats.badMessages++;
    logEvent(this.log, 'FAILOVER_BAD_MESSAGE', { relationship: this.settings.name, remote: conn.remote, why });
  }

  onClose(conn: PeerConnection, reason: string): void {
    this.linkDown(conn, reason);
  }

  // ---- the session ----

  private onConnect(conn: PeerConnection, msg: MessageOf<'CONNECT'>): void {
    this.stats.connects++;
    const refuse = (reason: RejectReasonName, why: string) => {
      logEvent(this.log, 'FAILOVER_CONNECT_REJECTED', { relationship: this.settings.name, remote: conn.remote, reason, why });
      conn.send({
        type: 'CONNECTACK',
        time: this.nowSec(),
        xid: msg.xid,
        relationshipName: Buffer.from(this.settings.name),
        rejectReason: REJECT_REASONS[reason],
        message: why,
      });
      conn.close(`CONNECT refused: ${why}`);
    };
    if (this.role === 'primary') return refuse('invalid-partner', 'both servers are primary');
    if (!msg.relationshipName?.equals(Buffer.from(this.settings.name))) {
      return refuse('invalid-partner', `relationship ${JSON.stringify(msg.relationshipName?.toString() ?? '')} is not ours`);
    }
    const skew = msg.time - this.nowSec();
    if (Math.abs(skew) > MAX_SKEW_SECONDS) return refuse('time-mismatch', `clocks differ by ${skew} s`);
    this.warnSkew(conn, skew);
    if (msg.mclt === undefined || msg.mclt === 0) return refuse('invalid-mclt', 'no MCLT');
    if (msg.hba === undefined || msg.hba.length !== HBA_SIZE) return refuse('hba-conflict', 'no 32-byte hash bucket assignment');
    if (this.session && this.session !== conn && this.session.open) return refuse('dup-connection', 'a session is already open');
    this.peerMaxUnacked = Math.max(1, msg.maxUnacked ?? 1);
    const learned = this.mcltInForce !== msg.mclt || !this.hba?.equals(msg.hba);
    this.mcltInForce = msg.mclt;
    this.hba = Buffer.from(msg.hba);
    // Kept for a start without the primary (which clients are ours, how long the MCLT is).
    if (learned) this.save();
    conn.send({
      type: 'CONNECTACK',
      time: this.nowSec(),
      xid: msg.xid,
      relationshipName: Buffer.from(this.settings.name),
      maxUnacked: this.settings.maxUnacked,
      receiveTimer: this.settings.maxResponseDelay,
      vendorClass: Buffer.from(`joind-${VERSION}`),
      protocolVersion: PROTOCOL_VERSION,
      tlsReply: 0,
    });
    this.sessionUp(conn, msg.receiveTimer);
  }

  private onConnectAck(conn: PeerConnection, msg: MessageOf<'CONNECTACK'>): void {
    const refuse = (why: string) => {
      logEvent(this.log, 'FAILOVER_CONNECT_REJECTED', { relationship: this.settings.name, remote: conn.remote, why });
      conn.close(why);
    };
    if (this.role === 'secondary') return refuse('a CONNECTACK sent to the secondary');
    if (msg.rejectReason !== undefined) return refuse(`the peer refused: ${reasonText(msg.rejectReason, msg.message)}`);
    if (!msg.relationshipName?.equals(Buffer.from(this.settings.name))) {
      return refuse(`relationship ${JSON.stringify(msg.relationshipName?.toString() ?? '')} is not ours`);
    }
    const skew = msg.time - this.nowSec();
    if (Math.abs(skew) > MAX_SKEW_SECONDS) return refuse(`clocks differ by ${skew} s`);
    this.warnSkew(conn, skew);
    if (this.session && this.session !== conn && this.session.open) return refuse('a session is already open');
    this.peerMaxUnacked = Math.max(1, msg.maxUnacked ?? 1);
    this.sessionUp(conn, msg.receiveTimer);
  }

  private sessionUp(conn: PeerConnection, peerReceiveTimer: number | undefined): void {
    this.session = conn;
    // The peer drops us after its receive-timer of silence: speak at least three times in it.
    conn.keepAlive(Math.max(1000, ((peerReceiveTimer ?? this.settings.maxResponseDelay) * 1000) / 3));
    conn.silenceLimit(this.settings.maxResponseDelay * 1000);
    logEvent(this.log, 'FAILOVER_LINK_UP', { relationship: this.settings.name, remote: conn.remote, mclt: this.mcltInForce });
    // Link up: our STATE goes out (the state machine says so); the peer's STATE ends our startup.
    this.event({ kind: 'link-up' });
  }

  /** Logs a clock difference past WARN_SKEW_SECONDS, once per session and direction of change. */
  private warnSkew(conn: PeerConnection, skew: number): void {
    const warn = Math.abs(skew) > WARN_SKEW_SECONDS;
    if (warn && !this.skewWarned) {
      logEvent(this.log, 'FAILOVER_CLOCK_SKEW', { relationship: this.settings.name, remote: conn.remote, seconds: skew });
    }
    this.skewWarned = warn;
  }

  private linkDown(conn: PeerConnection, reason: string): void {
    if (conn !== this.session) return;
    this.session = null;
    logEvent(this.log, 'FAILOVER_LINK_DOWN', { relationship: this.settings.name, remote: conn.remote, reason });
    this.rescind();
    // The peer can answer nothing of a closed session.
    this.rescinded.clear();
    this.doneOwed = null;
    this.resend.clear();
    this.allRequested = false;
    // A catch-up the link cut short is tried again on the next session; meanwhile the state rules.
    if (this.catchUp.phase === 'asked') this.catchUp.phase = 'pending';
    for (const list of [...this.ackWaiters.values()]) for (const waiter of [...list]) waiter.done(false);
    this.event({ kind: 'link-lost' });
  }

  private onState(msg: MessageOf<'STATE'>): void {
    const state = msg.serverState === undefined ? undefined : serverStateName(msg.serverState);
    if (state === undefined) return this.bad(this.session!, `STATE with server-state ${msg.serverState}`);
    const startup = ((msg.serverFlags ?? 0) & SERVER_FLAG_STARTUP) !== 0;
    this.event({ kind: 'peer-state', state, startup }, msg.stos ?? null);
  }

  private sendState(): void {
    const announced = announcedState(this.view());
    this.session?.send({
      type: 'STATE',
      time: this.nowSec(),
      xid: this.nextXid(),
      serverState: SERVER_STATES[announced.state],
      serverFlags: announced.startup ? SERVER_FLAG_STARTUP : 0,
      stos: this.my.stos,
    });
  }

  // ---- the state machine ----

  /** Feeds an event to the state machine; one at a time, each after the previous transition was saved. */
  private event(event: FailoverEvent, partnerStos: number | null = null): void {
    this.pendingEvents.push({ event, partnerStos });
    if (!this.saving) this.drainEvents();
  }

  private drainEvents(): void {
    while (!this.saving && this.pendingEvents.length > 0) {
      const { event, partnerStos } = this.pendingEvents.shift()!;
      // The machine judges a peer's STATE against the partner state before it; then it is the new one.
      const transition = nextState(this.view(), event, this.nowSec());
      if (event.kind === 'peer-state') {
        const changed = this.partner.state !== event.state || this.partner.stos !== partnerStos;
        this.partner = { state: event.state, startup: event.startup, stos: partnerStos };
        // A change of ours saves the partner's state with it; without one, it is saved alone (dhcpd
        // writes every partner state): a restart must not believe in one the partner has left.
        if (changed && (!transition || transition.state === this.my.state)) this.save();
      }
      if (transition) this.apply(transition);
    }
  }

  private view(): FailoverView {
    return {
      role: this.role,
      state: this.my.state,
      stos: this.my.stos,
      partner: this.partner.state,
      partnerStartup: this.partner.startup,
      mclt: this.mcltInForce,
      linkUp: this.session !== null,
      afterStartup: this.afterStartup,
    };
  }

  private apply(t: Transition): void {
    if (t.state === this.my.state) return this.act(t);
    const from = this.my.state;
    const enter = () => {
      this.my = { state: t.state, stos: t.stos };
      this.unserved.clear();
      if (t.state === 'communications-interrupted') this.armAutoPartnerDown(t.stos);
      if (t.state === 'normal') this.everPaired = true;
      logEvent(this.log, 'FAILOVER_STATE', {
        relationship: this.settings.name,
        from,
        to: t.state,
        partner: this.partner.state,
        why: t.why,
      });
      this.act(t);
      if (t.state === 'normal') this.beginCatchUp();
    };
    if (!isPersisted(t.state)) return enter();
    // Saved before it takes effect (dhcpd's dhcp_failover_set_state commits first): after a crash we
    // must not come back believing in a state the peer never saw us leave.
    try {
      this.store.write(() => this.store.failover.put(this.stateRecord(t.state, t.stos)));
    } catch (err) {
      // Not saved, so not taken: the state stays, and the next event (or message) tries again.
      logEvent(this.log, 'STORE_WRITE_FAILED', { relationship: this.settings.name, state: t.state, err: (err as Error).message });
      return;
    }
    this.saving = true;
    this.savingAs = { state: t.state, stos: t.stos };
    this.store.whenDurable((err?: Error) => {
      this.saving = false;
      this.savingAs = null;
      if (this.stopped) return;
      if (err) {
        logEvent(this.log, 'STORE_WRITE_FAILED', { relationship: this.settings.name, state: t.state, err: err.message });
      } else {
        enter();
      }
      this.drainEvents();
    });
  }

  /** What the store keeps of the relationship, with our state as given. */
  private stateRecord(myState: ServerStateName, myStos: number): FailoverStateRecord {
    return {
      name: this.settings.name,
      myState,
      myStos,
      partnerState: this.partner.state,
      partnerStos: this.partner.stos,
      mclt: this.mcltInForce,
      everPaired: this.everPaired || myState === 'normal',
      hba: this.hba,
    };
  }

  /**
   * Saves what changed besides our own state (the partner's state, what CONNECT taught a secondary).
   * Nothing waits for it: a crash before it is durable leaves the older value, which is merely stale,
   * as dhcpd's write_failover_state of a partner state is.
   */
  private save(): void {
    // A transition on its way to the disk is what we are from the store's point of view.
    const mine = this.savingAs ?? this.my;
    if (mine.state === 'startup') return; // never saved; the saved state stays what startup ends in
    try {
      this.store.write(() => this.store.failover.put(this.stateRecord(mine.state, mine.stos)));
    } catch (err) {
      logEvent(this.log, 'STORE_WRITE_FAILED', { relationship: this.settings.name, err: (err as Error).message });
    }
  }

  private act(t: Transition): void {
    for (const action of t.actions) {
      switch (action.kind) {
        case 'send-state':
          this.sendState();
          break;
        case 'send-updreqall':
          this.requestAll();
          break;
        case 'send-updreq':
          this.session?.send({ type: 'UPDREQ', time: this.nowSec(), xid: this.nextXid() });
          break;
        case 'send-updates':
          this.refill();
          this.pump();
          break;
        case 'rescind-updates':
          this.rescind();
          break;
        case 'pool-balance':
          this.balance();
          break;
        case 'arm-recover-wait': {
          const ms = Math.max(0, action.at * 1000 - this.nowMs());
          this.after(ms, () => this.event({ kind: 'recover-wait-ended' }));
          break;
        }
      }
    }
  }

  private requestAll(): void {
    if (!this.session) return;
    this.session.send({ type: 'UPDREQALL', time: this.nowSec(), xid: this.nextXid() });
    this.allRequested = true;
  }

  /** The first normal of a run that did not come through recover: every binding first (see catchUp). */
  private beginCatchUp(): void {
    if (this.catchUp.phase !== 'pending' || !this.session) return;
    this.catchUp = { phase: 'asked', since: this.nowMs(), bindings: 0, stale: [] };
    // An UPDREQALL of ours already on its way will do: its UPDDONE ends the catch-up.
    if (!this.allRequested) this.requestAll();
    const session = this.session;
    this.after(CATCH_UP_LIMIT_MS, () => {
      if (this.catchUp.phase !== 'asked' || this.session !== session) return;
      logEvent(this.log, 'FAILOVER_CAUGHT_UP', {
        relationship: this.settings.name,
        bindings: this.catchUp.bindings,
        ms: CATCH_UP_LIMIT_MS,
        complete: false,
      });
      this.catchUp.phase = 'done';
    });
  }

  /** UPDDONE after our catch-up's UPDREQALL: serve, or recover if the peer knew what our store forgot. */
  private caughtUp(): void {
    const { since, bindings, stale } = this.catchUp;
    this.catchUp = { phase: 'done', since, bindings, stale: [] };
    if (stale.length === 0) {
      logEvent(this.log, 'FAILOVER_CAUGHT_UP', {
        relationship: this.settings.name,
        bindings,
        ms: this.nowMs() - since,
        complete: true,
      });
      return;
    }
    logEvent(this.log, 'FAILOVER_STORE_STALE', {
      relationship: this.settings.name,
      leases: stale.length,
      addresses: stale.slice(0, 5).map(ipToString),
    });
    this.event({ kind: 'store-stale' });
  }

  /**
   * The wall clock stepped by stepSec (src/server/lease-clock.ts; the store's times were moved by the
   * lease owner): the states' times in memory move too. A spell of communications-interrupted keeps
   * counting towards auto partner-down, from the step on (a wait the step makes longer, never shorter).
   */
  shiftTime(stepSec: number): void {
    this.my = { ...this.my, stos: this.my.stos + stepSec };
    if (this.partner.stos !== null) this.partner = { ...this.partner, stos: this.partner.stos + stepSec };
    if (this.savingAs) this.savingAs = { ...this.savingAs, stos: this.savingAs.stos + stepSec };
    if (this.my.state === 'communications-interrupted') this.armAutoPartnerDown(this.my.stos);
  }

  /** dhcpd's auto-partner-down: partner-down after a fixed time in communications-interrupted. */
  private armAutoPartnerDown(since: number): void {
    const seconds = this.settings.autoPartnerDownSecs;
    if (seconds === 0) return;
    this.after(seconds * 1000, () => {
      // Only if it is still the same spell of communications-interrupted.
      if (this.my.state !== 'communications-interrupted' || this.my.stos !== since) return;
      logEvent(this.log, 'FAILOVER_PEER_UNRESPONSIVE', { relationship: this.settings.name, autoPartnerDownAfter: seconds });
      this.event({ kind: 'operator-partner-down' });
    });
  }

  // ---- binding updates out ----

  /** Whether our updates may flow now: a session, and a state in which the peer takes them. */
  private mayUpdate(): boolean {
    if (!this.session) return false;
    return this.doneOwed !== null || this.stateSendsUpdates();
  }

  /** The states in which updates flow on their own; in the others only an update request drains them. */
  private stateSendsUpdates(): boolean {
    return this.my.state === 'normal' || this.my.state === 'recover-done' || this.my.state === 'partner-down';
  }

  /** Sends queued updates while fewer than the peer's max-unacked-updates are in flight. */
  private pump(): void {
    if (this.stopped || !this.mayUpdate()) return;
    const conn = this.session!;
    const now = this.nowSec();
    for (const [set, resend] of [
      [this.resend, true],
      [this.queue, false],
    ] as const) {
      for (const address of set) {
        if (this.inFlight.size >= this.peerMaxUnacked) return;
        if (this.inFlight.has(address)) continue;
        set.delete(address);
        const record = this.store.leases.get(address);
        if (!record || (!resend && !record.peerPending)) continue;
        const xid = this.nextXid();
        this.inFlight.set(address, {
          xid,
          sent: { state: record.state, ends: record.ends, cltt: record.cltt, tstp: record.tstp ?? null },
          resend,
          at: this.nowMs(),
        });
        this.stats.updatesSent++;
        conn.send(bindUpdateOf(record, xid, now));
      }
    }
    if (this.queue.size === 0) this.refill();
    this.maybeDone();
  }

  /** Takes more pending addresses from the store (the queue is a window onto it, not a copy). */
  private refill(): void {
    let after = 0;
    for (;;) {
      const batch = this.store.leases.peerPending(after, REFILL);
      for (const address of batch) if (!this.inFlight.has(address)) this.queue.add(address);
      if (batch.length < REFILL) return;
      after = batch[batch.length - 1]!;
    }
  }

  private onBindAck(msg: MessageOf<'BNDACK'>): void {
    const address = msg.assignedIpAddress;
    const sent = address === undefined ? undefined : this.inFlight.get(address);
    const earlier = address === undefined ? undefined : this.rescinded.get(address);
    const flight = sent?.xid === msg.xid ? sent : earlier?.xid === msg.xid ? earlier : undefined;
    if (address === undefined || !flight) {
      return this.bad(
        this.session!,
        `BNDACK for ${address === undefined ? 'no address' : ipToString(address)} that was not sent`,
      );
    }
    if (flight === sent) this.inFlight.delete(address);
    else this.rescinded.delete(address);
    this.stats.ackLatencyMsSum += this.nowMs() - flight.at;
    this.stats.ackLatencyCount++;
    if (msg.rejectReason !== undefined) {
      this.stats.updatesRejectedByPeer++;
      this.owner.peerRefused(address, flight.sent);
      logEvent(this.log, 'FAILOVER_UPDATE_REJECTED', {
        relationship: this.settings.name,
        by: 'peer',
        address: ipToString(address),
        reason: reasonText(msg.rejectReason, msg.message),
      });
    } else {
      this.stats.updatesAcked++;
      this.owner.peerAcknowledged(address, flight.sent);
      const acked = flight.sent.tstp ?? 0;
      for (const waiter of [...(this.ackWaiters.get(address) ?? [])]) if (waiter.tstp <= acked) waiter.done(true);
    }
    this.pump();
  }

  /** Unacknowledged updates go back to the queue (the link went, or the state no longer sends them). */
  private rescind(): void {
    for (const [address, flight] of this.inFlight) {
      (flight.resend ? this.resend : this.queue).add(address);
      this.rescinded.set(address, flight);
    }
    this.inFlight.clear();
  }

  private answerUpdateRequest(xid: number, all: boolean): void {
    // UPDREQALL: every binding of the failover ranges, free and backup included (dhcpd's
    // dhcp_failover_generate_update_queue); UPDREQ: what the peer has not acknowledged.
    if (all) {
      for (const range of this.owner.pairedRanges) {
        for (const address of this.store.leases.addressesIn(range.start, range.end)) this.resend.add(address);
      }
    } else {
      this.refill();
    }
    this.doneOwed = xid;
    this.pump();
  }

  private maybeDone(): void {
    if (this.doneOwed === null || this.resend.size > 0 || this.inFlight.size > 0) return;
    // In a state where updates flow anyway, the whole queue goes before UPDDONE.
    if (this.queue.size > 0 && this.stateSendsUpdates()) return;
    this.session?.send({ type: 'UPDDONE', time: this.nowSec(), xid: this.doneOwed });
    this.doneOwed = null;
  }

  // ---- binding updates in ----

  private onBindUpdate(conn: PeerConnection, msg: MessageOf<'BNDUPD'>): void {
    this.stats.updatesReceived++;
    const address = msg.assignedIpAddress;
    const ack = (reject?: { reason: RejectReasonName; why: string }) => {
      const reply: MessageOf<'BNDACK'> = { type: 'BNDACK', time: this.nowSec(), xid: msg.xid };
      if (address !== undefined) reply.assignedIpAddress = address;
      if (reject) {
        this.stats.updatesRefused++;
        reply.rejectReason = REJECT_REASONS[reject.reason];
        reply.message = reject.why;
        logEvent(this.log, 'FAILOVER_UPDATE_REJECTED', {
          relationship: this.settings.name,
          by: 'us',
          address: address === undefined ? null : ipToString(address),
          reason: reject.reason,
          why: reject.why,
        });
      }
      return reply;
    };
    const network = address === undefined ? undefined : this.owner.pairedNetworkOf(address);
    const parsed = recordOfBindUpdate(msg, network, this.settings.ignoreHardwareType);
    if (!parsed.ok) {
      conn.send(ack({ reason: parsed.problem, why: parsed.why }));
      return;
    }
    if (this.catchUp.phase === 'asked') this.judgeCatchUp(parsed.record);
    let reply: MessageOf<'BNDACK'>;
    try {
      const result = this.owner.applyPeerUpdate(parsed.record, this.nowSec());
      reply = result.accepted
        ? ack()
        : ack({ reason: 'less-crit-bind-info', why: 'our newer binding of the address is on its way' });
    } catch (err) {
      // Not written: no BNDACK, so the peer keeps the update and sends it again.
      logEvent(this.log, 'STORE_WRITE_FAILED', { address: ipToString(parsed.record.address), err: (err as Error).message });
      return;
    }
    // Acknowledged once it is on disk: the peer forgets the update when we say we have it.
    this.store.whenDurable((err?: Error) => {
      if (!err && conn.open) conn.send(reply);
    });
  }

  /**
   * During a catch-up: a lease the peer holds active on an address our store has in our own free state.
   * In normal and communications-interrupted only we allocate from that state, so we granted it and our
   * store forgot (partner-down, where the peer takes our free addresses, goes through recover anyway).
   */
  private judgeCatchUp(theirs: LeaseRecord): void {
    this.catchUp.bindings++;
    if (theirs.state !== LeaseState.ACTIVE || (theirs.ends !== null && theirs.ends <= this.nowSec())) return;
    const ours = this.store.leases.get(theirs.address);
    if (ours?.state === this.ownFree) this.catchUp.stale.push(theirs.address);
  }

  // ---- pool balance ----

  private balance(): void {
    const moved = balancePools(this.owner, this.store, this.role, this.nowMs());
    if (moved > 0) {
      logEvent(this.log, 'FAILOVER_POOL_BALANCED', { relationship: this.settings.name, moved });
      this.pump();
    }
  }

  private onPoolRequest(conn: PeerConnection, xid: number): void {
    const moved = this.role === 'primary' ? balancePools(this.owner, this.store, this.role, this.nowMs()) : 0;
    conn.send({ type: 'POOLRESP', time: this.nowSec(), xid, addressesTransferred: moved });
    if (moved > 0) this.pump();
  }

  // ---- small things ----

  private bad(conn: PeerConnection, why: string): void {
    this.onBadMessage(conn, why);
    conn.close(`bad message: ${why}`);
  }

  private nextXid(): number {
    this.xid = (this.xid + 1) >>> 0;
    return this.xid;
  }

  private nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(timer);
  }
}

function reasonText(reason: number | undefined, message: string | undefined): string {
  const name = reason === undefined ? 'no reason' : (rejectReasonName(reason) ?? `reason ${reason}`);
  return message ? `${name}: ${message}` : name;
}
