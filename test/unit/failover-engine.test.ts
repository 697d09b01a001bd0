// The failover engine over a fake connection: the clock checks of a session (refused past 60 s, warned
// past 30 s, a session whose clocks drift past 60 s ended with DISCONNECT), and failover_start_alone
// (a fresh store starts as if partner-down; a store with a saved state ignores the flag).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hbaFromSplit, isPrimaryBucket, REJECT_REASONS, SERVER_STATES, type MessageOf } from '../../src/failover';
import { LeaseState } from '../../src/store';
import { clientOn, makeAllocBed, pairFiles } from '../helpers/alloc';
import { engineOn, FakeConnection, pairSettings } from '../helpers/pair';
import { until } from '../helpers/wait';

const nowSec = () => Math.floor(Date.now() / 1000);

function connect(skew: number): MessageOf<'CONNECT'> {
  return {
    type: 'CONNECT',
    time: nowSec() + skew,
    xid: 7,
    relationshipName: Buffer.from('pair'),
    maxUnacked: 4,
    receiveTimer: 5,
    mclt: 300,
    hba: Buffer.alloc(32, 0x0f),
  };
}

const ids = (log: string[]) => log.map((l) => (JSON.parse(l) as { msgId?: string }).msgId);

test('clocks: refused past 60 s, warned past 30 s, a session drifting past 60 s is ended', () => {
  const bed = makeAllocBed({ files: pairFiles('secondary') });
  const log: string[] = [];
  const engine = engineOn(bed, pairSettings('secondary'), log);

  const far = new FakeConnection();
  engine.onConnection(far);
  engine.onMessage(far, connect(90));
  const refusal = far.first('CONNECTACK');
  assert.equal(refusal?.rejectReason, REJECT_REASONS['time-mismatch']);
  assert.equal(far.open, false);
  assert.equal(engine.status().link, 'down');

  const near = new FakeConnection();
  engine.onConnection(near);
  engine.onMessage(near, connect(45));
  const ack = near.first('CONNECTACK');
  assert.equal(ack?.rejectReason, undefined, '45 s apart: accepted');
  assert.equal(engine.status().link, 'up');
  assert.equal(ids(log).filter((id) => id === 'FAILOVER_CLOCK_SKEW').length, 1, 'and warned');

  engine.onMessage(near, { type: 'CONTACT', time: nowSec() + 50, xid: 8 });
  assert.equal(ids(log).filter((id) => id === 'FAILOVER_CLOCK_SKEW').length, 1, 'warned once, not per message');
  engine.onMessage(near, { type: 'CONTACT', time: nowSec() + 61, xid: 9 });
  const bye = near.first('DISCONNECT');
  assert.equal(bye?.rejectReason, REJECT_REASONS['time-mismatch']);
  assert.equal(near.open, false, 'the session ends');
  engine.onClose(near, 'closed');
  assert.equal(engine.status().link, 'down');
  engine.stop();
  bed.close();
});

test('failover_start_alone: a fresh store serves after startup; a store with a saved state ignores it', async () => {
  const bed = makeAllocBed({ files: pairFiles('primary') });
  const alone = engineOn(bed, pairSettings('primary', { startAlone: true, startupMs: 100 }));
  assert.equal(alone.status().state, 'startup');
  await until(() => alone.status().state === 'partner-down', 'partner-down after startup', 3000);
  bed.clock.now = Date.now();
  const ctx = clientOn(bed.poolA, 1);
  const choice = await bed.allocator.chooseOffer(ctx);
  assert.ok(choice, 'a fresh primary alone serves its free addresses at once');
  assert.equal(bed.store.leases.get(choice.address)?.state, LeaseState.FREE);
  alone.stop();

  // The same store, now with a saved state (partner-down), and a flag that would say otherwise is moot;
  // a store saved in normal comes back communications-interrupted, whatever the flag.
  bed.store.write(() =>
    bed.store.failover.put({
      name: 'pair',
      myState: 'normal',
      myStos: nowSec() - 100,
      partnerState: 'normal',
      partnerStos: nowSec() - 100,
      mclt: 300,
      everPaired: true,
    }),
  );
  bed.store.flush();
  const again = engineOn(bed, pairSettings('primary', { startAlone: true, startupMs: 100 }));
  await until(() => again.status().state !== 'startup', 'startup over', 3000);
  assert.equal(again.status().state, 'communications-interrupted', 'the saved state rules, not the flag');
  again.stop();

  // A fresh secondary without the flag stays silent: recover.
  const other = makeAllocBed({ files: pairFiles('secondary') });
  const fresh = engineOn(other, pairSettings('secondary', { startupMs: 100 }));
  await until(() => fresh.status().state !== 'startup', 'startup over', 3000);
  assert.equal(fresh.status().state, 'recover');
  assert.equal(fresh.service(), 'none');
  assert.match(fresh.status().note ?? '', /^recover: serves nobody until it has the peer's bindings; the failover link is down$/);
  fresh.stop();
  other.close();
  bed.close();
});

/** The saved state of a store that has been in the relationship (a secondary, before any CONNECT). */
function savedAs(bed: ReturnType<typeof makeAllocBed>, myState: string, partnerState: string | null): void {
  bed.store.write(() =>
    bed.store.failover.put({
      name: 'pair',
      myState,
      myStos: nowSec() - 100,
      partnerState,
      partnerStos: nowSec() - 100,
      mclt: 300,
      everPaired: true,
    }),
  );
  bed.store.flush();
}

const states = (log: string[]) =>
  log.map((l) => JSON.parse(l) as { msgId?: string; to?: string }).filter((l) => l.msgId === 'FAILOVER_STATE');

test("a secondary keeps the primary's hash buckets: restarted without it, it still knows its own clients", async () => {
  const bed = makeAllocBed({ files: pairFiles('secondary') });
  savedAs(bed, 'normal', 'normal');
  // Buckets 0..127 the primary's (split 128), as the CONNECT below says.
  const hba = hbaFromSplit(128);
  const key = (want: 'p' | 's') => {
    for (let n = 0; ; n++) {
      const k = Buffer.from([0x02, 0x09, 0, 0, 2, n]);
      if (isPrimaryBucket(hba, k) === (want === 'p')) return k;
    }
  };
  const log: string[] = [];
  const first = engineOn(bed, pairSettings('secondary', { startupMs: 100 }), log);
  const conn = new FakeConnection();
  first.onConnection(conn);
  first.onMessage(conn, { ...connect(0), hba });
  first.onMessage(conn, {
    type: 'STATE',
    time: nowSec(),
    xid: 9,
    serverState: SERVER_STATES.normal,
    serverFlags: 0,
    stos: nowSec(),
  });
  await until(() => first.status().state === 'normal', 'normal', 3000);
  first.onClose(conn, 'cut');
  await until(() => first.status().state === 'communications-interrupted', 'communications-interrupted', 3000);
  first.stop();

  const again = engineOn(bed, pairSettings('secondary', { startupMs: 100 }));
  await until(() => again.status().state === 'communications-interrupted', 'back, alone', 3000);
  assert.equal(again.answersClient(key('s'), 0), true, 'its own client, at once');
  assert.equal(again.answersClient(key('p'), 0), false, "the primary's client waits, as with the primary there");
  assert.equal(again.answersClient(key('p'), 4), true, 'until it has waited past load balance max secs');
  again.stop();

  // A secondary that never heard the primary has no assignment: every client is the peer's at first.
  const other = makeAllocBed({ files: pairFiles('secondary') });
  savedAs(other, 'communications-interrupted', null);
  const blind = engineOn(other, pairSettings('secondary', { startupMs: 100 }));
  await until(() => blind.status().state === 'communications-interrupted', 'alone', 3000);
  assert.equal(blind.answersClient(key('s'), 0), false);
  assert.equal(blind.answersClient(key('s'), 4), true);
  blind.stop();
  other.close();
  bed.close();
});

test("every change of the partner's state is saved, also one that changes nothing of ours", async () => {
  const bed = makeAllocBed({ files: pairFiles('secondary') });
  savedAs(bed, 'potential-conflict', 'potential-conflict');
  const log: string[] = [];
  const engine = engineOn(bed, pairSettings('secondary', { startupMs: 100 }), log);
  const conn = new FakeConnection();
  engine.onConnection(conn);
  engine.onMessage(conn, connect(0));
  const state = (name: keyof typeof SERVER_STATES, xid: number) =>
    engine.onMessage(conn, {
      type: 'STATE',
      time: nowSec(),
      xid,
      serverState: SERVER_STATES[name],
      serverFlags: 0,
      stos: nowSec(),
    });
  // The primary resolved the conflict; our UPDREQ is answered; we are normal, the primary conflict-done.
  state('conflict-done', 10);
  await until(() => engine.status().state === 'potential-conflict' && conn.first('UPDREQ') !== undefined, 'UPDREQ', 3000);
  engine.onMessage(conn, { type: 'UPDDONE', time: nowSec(), xid: conn.first('UPDREQ')!.xid });
  await until(() => engine.status().state === 'normal', 'normal', 3000);
  assert.equal(bed.store.failover.get('pair')?.partnerState, 'conflict-done');
  // The primary goes normal: nothing changes for us, but the store must not keep conflict-done.
  state('normal', 11);
  assert.equal(engine.status().state, 'normal');
  assert.equal(states(log).at(-1)?.to, 'normal', 'no transition of ours');
  assert.equal(bed.store.failover.get('pair')?.partnerState, 'normal');
  engine.stop();
  bed.close();
});
