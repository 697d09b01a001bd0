// Failover engines for the unit tests, without sockets: a connection that records what the engine sends,
// and the settings of a test relationship ("pair", MCLT 300, split 128) over an allocation bed.
import pino from 'pino';
import { encodeMessage, type FailoverMessage, type MessageOf, type MessageTypeName } from '../../src/failover';
import { FailoverEngine, type PairSettings, type PairStatus, type PeerConnection } from '../../src/pair/engine';
import type { AllocBed } from './alloc';

export class FakeConnection implements PeerConnection {
  static next = 1;
  readonly id = FakeConnection.next++;
  readonly remote = '127.0.0.1:647';
  open = true;
  readonly sent: FailoverMessage[] = [];
  send(msg: FailoverMessage): boolean {
    if (!this.open) return false;
    encodeMessage(msg); // what the engine sends must always be encodable
    this.sent.push(msg);
    return true;
  }
  /** The first message of a type the engine sent on this connection. */
  first<T extends MessageTypeName>(type: T): MessageOf<T> | undefined {
    const isType = (m: FailoverMessage): m is FailoverMessage & MessageOf<T> => m.type === type;
    return this.sent.find(isType);
  }
  keepAlive(): void {}
  silenceLimit(): void {}
  close(): void {
    this.open = false;
  }
}

/** The settings of the test relationship for a role; `more` overrides. */
export function pairSettings(role: 'primary' | 'secondary', more: Partial<PairSettings> = {}): PairSettings {
  return {
    name: 'pair',
    role,
    maxResponseDelay: 5,
    maxUnacked: 4,
    mclt: role === 'primary' ? 300 : null,
    split: role === 'primary' ? 128 : null,
    loadBalanceMaxSecs: 3,
    ackWaitMs: 0,
    unackedClients: 3,
    unackedSecs: 10,
    autoPartnerDownSecs: 0,
    ignoreHardwareType: false,
    ...more,
  };
}

/** An engine over a bed's store and owner, logging into `log` (JSON lines), started. */
export function engineOn(bed: AllocBed, settings: PairSettings, log: string[] = []): FailoverEngine {
  const engine = new FailoverEngine(
    settings,
    bed.store,
    bed.owner,
    pino({ level: 'info' }, { write: (line: string) => void log.push(line) }),
  );
  engine.start();
  return engine;
}

/**
 * A relationship's status as `joind ctl failover` gives it, for the tests of what shows it (metrics, the
 * status page): a primary in communications-interrupted with updates waiting; `more` overrides.
 */
export function samplePairStatus(more: Partial<PairStatus> = {}): PairStatus {
  return {
    relationship: 'dhcp-pair',
    role: 'primary',
    state: 'communications-interrupted',
    stos: 1_700_000_000,
    partnerState: null,
    service: 'own-free',
    note: 'communications-interrupted for 60 s: serves its own free addresses, leases up to MCLT',
    link: 'down',
    mclt: 3600,
    unackedUpdates: 2,
    queuedUpdates: 17,
    free: 40,
    backup: 9,
    stats: {
      updatesSent: 120,
      updatesAcked: 115,
      updatesRejectedByPeer: 3,
      updatesReceived: 88,
      updatesRefused: 1,
      badMessages: 4,
      connects: 5,
      ackLatencyMsSum: 2_590,
      ackLatencyCount: 118,
    },
    ...more,
  };
}
