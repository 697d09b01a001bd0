// Two failover engines over a real TCP link on loopback (127.0.0.31 and .32), each with its own store,
// lease owner and allocator: from empty stores both reach normal, pool balance splits the free addresses,
// a lease granted on either side is in both stores, and a release reaches the other side. The system
// tests (test/system/failover-*.test.sh) do the same with real clients and with ISC dhcpd as the peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { GrantTerms } from '../../src/alloc/allocator';
import { FailoverLink } from '../../src/io/failover-link';
import { FailoverEngine, type PairSettings } from '../../src/pair/engine';
import type { Services } from '../../src/server/context';
import { pairLeaseLimit } from '../../src/server/pair-gate';
import { LeaseState } from '../../src/store';
import { type AllocBed, clientOn, makeAllocBed, pairFiles } from '../helpers/alloc';
import { until } from '../helpers/wait';

const MCLT = 300;

interface Unit {
  bed: AllocBed;
  engine: FailoverEngine;
  link: FailoverLink;
}

async function unit(role: 'primary' | 'secondary', port: number, ackWaitMs = 0, more: Partial<PairSettings> = {}): Promise<Unit> {
  const bed = makeAllocBed({ files: pairFiles(role, MCLT, 'failover_load_balance_max_secs 3\n') });
  // The engine runs on the wall clock (its timers are real); the allocator's clock follows it.
  bed.clock.now = Date.now();
  return start(bed, role, port, ackWaitMs, [], more);
}

/** An engine and its link over a bed's store and owner: a (re)started server of the pair. */
async function start(
  bed: AllocBed,
  role: 'primary' | 'secondary',
  port: number,
  ackWaitMs = 0,
  log: string[] = [],
  more: Partial<PairSettings> = {},
): Promise<Unit> {
  const engine = new FailoverEngine(
    {
      name: 'pair',
      role,
      maxResponseDelay: 5,
      maxUnacked: 4,
      mclt: role === 'primary' ? MCLT : null,
      split: role === 'primary' ? 128 : null,
      loadBalanceMaxSecs: 3,
      ackWaitMs,
      unackedClients: 3,
      unackedSecs: 10,
      autoPartnerDownSecs: 0,
      ignoreHardwareType: false,
      ...more,
    },
    bed.store,
    bed.owner,
    pino({ level: 'info' }, { write: (line: string) => void log.push(line) }),
  );
  const link = linkOf(engine, role, port);
  engine.start();
  await link.start();
  return { bed, engine, link };
}

/** The TCP link of an engine (not yet started): a unit's link, or a new one after a partition. */
function linkOf(engine: FailoverEngine, role: 'primary' | 'secondary', port: number): FailoverLink {
  return new FailoverLink(
    {
      localAddress: role === 'primary' ? '127.0.0.31' : '127.0.0.32',
      localPort: port,
      peerAddress: role === 'primary' ? '127.0.0.32' : '127.0.0.31',
      peerPort: port,
      reconnectAfterDropMs: 200,
      reconnectAfterFailMs: 200,
    },
    {
      onConnection: (c) => engine.onConnection(c),
      onMessage: (c, m) => engine.onMessage(c, m),
      onBadMessage: (c, why) => engine.onBadMessage(c, why),
      onClose: (c, reason) => engine.onClose(c, reason),
    },
  );
}

/** The states a unit went through, from its FAILOVER_STATE log lines. */
function statesIn(log: string[]): string[] {
  return log
    .map((line) => JSON.parse(line) as { msgId?: string; to?: string })
    .filter((l) => l.msgId === 'FAILOVER_STATE')
    .map((l) => l.to!);
}

/** The message ids of a unit's log lines. */
function idsIn(log: string[]): string[] {
  return log.map((line) => (JSON.parse(line) as { msgId?: string }).msgId ?? '');
}

async function stop(...units: Unit[]): Promise<void> {
  for (const u of units) {
    await u.link.stop();
    u.engine.stop();
    u.bed.close();
  }
}

function terms(address: number): GrantTerms {
  return { address, leaseSeconds: 3600, state: LeaseState.ACTIVE, clientHostname: null, hostname: null };
}

/** Both units say normal, of themselves and of their partner (each STATE has arrived). */
function bothNormal(...units: Unit[]): boolean {
  return units.every((u) => u.engine.status().state === 'normal' && u.engine.status().partnerState === 'normal');
}

const PORT = 30_000 + (process.pid % 20_000);

test('a joind pair: both reach normal, balance, and every lease is in both stores', async () => {
  const p = await unit('primary', PORT);
  const s = await unit('secondary', PORT);
  try {
    await until(() => bothNormal(p, s), 'both normal', 10_000);
    assert.equal(p.engine.status().partnerState, 'normal');
    assert.equal(s.engine.status().partnerState, 'normal');
    assert.equal(s.engine.mclt(), MCLT, 'the secondary learned the MCLT from CONNECT');

    // Pool balance: five addresses (.12 is a static binding), the primary keeps 3 and gives 2.
    await until(
      () => s.engine.status().backup === 2 && p.engine.status().unackedUpdates === 0,
      's.engine.status().backup === 2 && p.engine.status().unackedUpdates ===',
      5_000,
    );
    assert.deepEqual([p.engine.status().free, p.engine.status().backup], [3, 2]);
    assert.deepEqual([s.engine.status().free, s.engine.status().backup], [3, 2]);

    // A lease on the secondary (from its BACKUP half) reaches the primary, and one on the primary the secondary.
    for (const [granter, other, n] of [
      [s, p, 1],
      [p, s, 2],
    ] as const) {
      granter.bed.clock.now = Date.now();
      const ctx = clientOn(granter.bed.poolA, n);
      const choice = await granter.bed.allocator.chooseOffer(ctx);
      assert.ok(choice, `client ${n} is offered an address`);
      const lease = granter.bed.allocator.grant(ctx, terms(choice.address));
      assert.equal(lease.ends, granter.bed.nowSec() + MCLT, 'first lease: MCLT long');
      await until(
        () => other.bed.store.leases.get(choice.address)?.state === LeaseState.ACTIVE,
        'other.bed.store.leases.get(choice.address)?.state === LeaseState.ACTIV',
        5_000,
      );
      const theirs = other.bed.store.leases.get(choice.address)!;
      assert.deepEqual(theirs.hwaddr, lease.hwaddr);
      assert.equal(theirs.ends, lease.ends);
      await until(
        () => !granter.bed.store.leases.get(choice.address)?.peerPending,
        '!granter.bed.store.leases.get(choice.address)?.peerPending',
        5_000,
      );
      assert.equal(granter.bed.store.leases.get(choice.address)?.tsfp, lease.tstp, 'acknowledged to the potential expiry');
      // The other side's allocator will not offer it.
      other.bed.clock.now = Date.now();
      assert.equal(other.bed.allocator.availableFor(clientOn(other.bed.poolA, 9), choice.address), false);

      // The release reaches the other side; the address becomes free once the peer has it.
      assert.ok(granter.bed.allocator.release(ctx, choice.address));
      await until(
        () => other.bed.store.leases.get(choice.address)?.state === LeaseState.FREE,
        'other.bed.store.leases.get(choice.address)?.state === LeaseState.FREE',
        5_000,
      );
      await until(
        () => granter.bed.store.leases.get(choice.address)?.state === LeaseState.FREE,
        'granter.bed.store.leases.get(choice.address)?.state === LeaseState.FRE',
        5_000,
      );
    }
    assert.equal(p.engine.status().stats.badMessages + s.engine.status().stats.badMessages, 0);
  } finally {
    await stop(p, s);
  }
});

test('load balancing: each client is answered by exactly one server, the hash decides', async () => {
  const p = await unit('primary', PORT + 1);
  const s = await unit('secondary', PORT + 1);
  try {
    await until(() => bothNormal(p, s), 'both normal', 10_000);
    let primary = 0;
    for (let i = 0; i < 200; i++) {
      const mac = Buffer.from([0x02, 0x55, 0, 0, i >> 8, i & 0xff]);
      const a = p.engine.answersClient(mac, 0);
      const b = s.engine.answersClient(mac, 0);
      assert.notEqual(a, b, 'exactly one answers');
      if (a) primary++;
      assert.ok(p.engine.answersClient(mac, 4) && s.engine.answersClient(mac, 4), 'secs above the limit: both answer');
    }
    assert.ok(primary > 70 && primary < 130, `split 128 gives about half to the primary: ${primary}/200`);
  } finally {
    await stop(p, s);
  }
});

test('failover_ack_wait: a first lease waits for the peer and is told in full; with no peer, MCLT long', async () => {
  const p = await unit('primary', PORT + 2, 500);
  const s = await unit('secondary', PORT + 2, 500);
  try {
    await until(() => bothNormal(p, s), 'both normal', 10_000);
    const svc = { pair: p.engine } as unknown as Services;
    p.bed.clock.now = Date.now();
    const first = clientOn(p.bed.poolA, 1);
    const choice = await p.bed.allocator.chooseOffer(first);
    assert.ok(choice);
    const lease = p.bed.allocator.grant(first, terms(choice.address));
    const now = p.bed.nowSec();
    assert.equal(lease.ends, now + 3600, 'the full lease is written and sent to the peer');
    assert.equal(lease.tstp, now + 3600 + 1800);
    const started = Date.now();
    assert.equal(await pairLeaseLimit(svc, lease, now), null, 'the acknowledgement came: the client is told it all');
    assert.ok(Date.now() - started < 500, 'well within the wait');

    // The secondary goes away: no acknowledgement can come, so no wait, and the lease told is MCLT long.
    await s.link.stop();
    await until(() => p.engine.status().state === 'communications-interrupted', 'primary communications-interrupted', 5_000);
    p.bed.clock.now = Date.now();
    const second = clientOn(p.bed.poolA, 2);
    const other = await p.bed.allocator.chooseOffer(second);
    assert.ok(other, 'communications-interrupted: the primary still serves its own free addresses');
    const alone = p.bed.allocator.grant(second, terms(other.address));
    const at = p.bed.nowSec();
    const waited = Date.now();
    assert.equal(await pairLeaseLimit(svc, alone, at), MCLT, 'told only what the MCLT allows');
    assert.ok(Date.now() - waited < 100, 'without a link there is nothing to wait for');
  } finally {
    await stop(p, s);
  }
});

test('a partition and a restart: updates made meanwhile reach the peer; a restarted unit needs no recover', async () => {
  const p = await unit('primary', PORT + 3);
  let s = await unit('secondary', PORT + 3);
  try {
    await until(() => bothNormal(p, s), 'both normal', 10_000);
    await until(() => s.engine.status().backup === 2 && p.engine.status().unackedUpdates === 0, 'balanced', 5_000);

    // The secondary stops (its store kept): the primary serves on, in communications-interrupted.
    await s.link.stop();
    s.engine.stop();
    await until(() => p.engine.status().state === 'communications-interrupted', 'primary communications-interrupted', 5_000);
    p.bed.clock.now = Date.now();
    const ctx = clientOn(p.bed.poolA, 7);
    const choice = await p.bed.allocator.chooseOffer(ctx);
    assert.ok(choice, 'communications-interrupted: the primary allocates from its own free addresses');
    const lease = p.bed.allocator.grant(ctx, terms(choice.address));
    assert.equal(p.engine.status().queuedUpdates, 1, 'the update waits for the peer');

    // The secondary comes back on its store: from its saved state (normal), no recover; it catches up
    // (UPDREQALL) before it serves, and finds nothing missing.
    const log: string[] = [];
    s = await start(s.bed, 'secondary', PORT + 3, 0, log);
    await until(() => bothNormal(p, s), 'both normal again', 10_000);
    assert.ok(!statesIn(log).includes('recover'), `restart from normal: ${statesIn(log).join(' ')}`);
    await until(() => idsIn(log).includes('FAILOVER_CAUGHT_UP'), 'caught up', 5_000);
    assert.ok(!idsIn(log).includes('FAILOVER_STORE_STALE'));
    assert.equal(s.engine.service(), 'cooperating');
    await until(
      () => s.bed.store.leases.get(choice.address)?.state === LeaseState.ACTIVE,
      'the lease reached the secondary',
      5_000,
    );
    assert.equal(s.bed.store.leases.get(choice.address)?.ends, lease.ends);
    await until(() => p.engine.status().queuedUpdates === 0 && p.engine.status().unackedUpdates === 0, 'queue drained', 5_000);
  } finally {
    await stop(p, s);
  }
});

test('a store restored from an old backup: found stale on catching up, the unit recovers and stays silent', async () => {
  const p = await unit('primary', PORT + 7);
  const s = await unit('secondary', PORT + 7);
  let back: Unit | null = null;
  try {
    await until(() => bothNormal(p, s), 'both normal', 10_000);
    await until(() => s.engine.status().backup === 2 && p.engine.status().unackedUpdates === 0, 'balanced', 5_000);
    // The backup: a copy of the primary's store as it is now, while it is stopped.
    await p.link.stop();
    p.engine.stop();
    const spool = path.dirname(p.bed.store.file);
    p.bed.close();
    const old = fs.mkdtempSync(path.join(os.tmpdir(), 'joind-old-spool-'));
    fs.cpSync(spool, old, { recursive: true });

    // Back on its own store, the primary leases an address; the secondary has it acknowledged.
    const files = pairFiles('primary', MCLT, 'failover_load_balance_max_secs 3\n');
    const intact = makeAllocBed({ files, spoolDir: spool });
    intact.clock.now = Date.now();
    const log: string[] = [];
    const p2 = await start(intact, 'primary', PORT + 7, 0, log);
    let leased: number;
    try {
      await until(() => bothNormal(p2, s) && idsIn(log).includes('FAILOVER_CAUGHT_UP'), 'normal and caught up', 10_000);
      const ctx = clientOn(p2.bed.poolA, 9);
      const choice = await p2.bed.allocator.chooseOffer(ctx);
      assert.ok(choice);
      p2.bed.allocator.grant(ctx, terms(choice.address));
      await until(
        () => s.bed.store.leases.get(choice.address)?.state === LeaseState.ACTIVE,
        'the lease reached the secondary',
        5_000,
      );
      leased = choice.address;
    } finally {
      await stop(p2);
    }

    // Restarted from the old copy: the store says that address is free, the secondary knows better.
    const restored = makeAllocBed({ files, spoolDir: old });
    restored.clock.now = Date.now();
    const oldLog: string[] = [];
    assert.equal(restored.store.leases.get(leased)?.state, LeaseState.FREE, 'the copy predates the lease');
    back = await start(restored, 'primary', PORT + 7, 0, oldLog);
    await until(() => idsIn(oldLog).includes('FAILOVER_STORE_STALE'), 'the stale store noticed', 10_000);
    await until(() => back!.engine.status().state === 'recover-wait', 'recover, then recover-wait for the MCLT', 10_000);
    assert.deepEqual(statesIn(oldLog).slice(-2), ['recover', 'recover-wait'], statesIn(oldLog).join(' '));
    assert.equal(back.engine.service(), 'none', 'silent until the MCLT has passed');
    assert.match(
      back.engine.status().note ?? '',
      /^recover-wait: serves nobody until \S+ \(MCLT after the start of recover, kept through a restart\), \d+ s left$/,
    );
    assert.equal(restored.store.leases.get(leased)?.state, LeaseState.ACTIVE, "the peer's binding is in the store now");
    await until(() => s.engine.status().state === 'partner-down', 'the secondary serves everyone meanwhile', 5_000);
    assert.ok(!(await restored.allocator.chooseOffer(clientOn(restored.poolA, 10))), 'nothing offered while recovering');
  } finally {
    await stop(s, ...(back ? [back] : []));
  }
});

test("partner-down by hand: the peer's addresses are taken only once the MCLT has passed", async () => {
  const p = await unit('primary', PORT + 4);
  const s = await unit('secondary', PORT + 4);
  try {
    await until(() => bothNormal(p, s), 'both normal', 10_000);
    await until(() => s.engine.status().backup === 2 && p.engine.status().unackedUpdates === 0, 'balanced', 5_000);
    assert.match(p.engine.declarePartnerDown() ?? '', /link is up/, 'refused while the peer can say otherwise');

    await s.link.stop();
    s.engine.stop();
    await until(() => p.engine.status().state === 'communications-interrupted', 'primary communications-interrupted', 5_000);
    assert.equal(p.engine.declarePartnerDown(), null);
    await until(() => p.engine.status().state === 'partner-down', 'primary partner-down', 5_000);
    assert.equal(p.engine.service(), 'all');

    // Its own three FREE addresses at once; the secondary's two BACKUP ones not before stos + MCLT.
    p.bed.clock.now = Date.now();
    const got: number[] = [];
    for (let n = 1; n <= 4; n++) {
      const ctx = clientOn(p.bed.poolA, n);
      const choice = await p.bed.allocator.chooseOffer(ctx);
      if (!choice) break;
      const lease = p.bed.allocator.grant(ctx, terms(choice.address));
      assert.equal(lease.ends, p.bed.nowSec() + MCLT, 'partner-down: leases no longer than the MCLT');
      got.push(choice.address);
    }
    assert.equal(got.length, 3, 'the BACKUP addresses wait for the MCLT');
    assert.ok(got.every((a) => p.bed.store.leases.get(a)?.client !== null));
    p.bed.clock.now = Date.now() + (MCLT + 1) * 1000;
    const late = await p.bed.allocator.chooseOffer(clientOn(p.bed.poolA, 5));
    assert.ok(late, 'after the MCLT the whole range is ours');
    assert.ok(!got.includes(late.address));
  } finally {
    await stop(p, s);
  }
});

test('the way back from partner-down with both links connecting at once: one session, no flap', async () => {
  for (let round = 0; round < 5; round++) {
    const plog: string[] = [];
    const slog: string[] = [];
    const pb = makeAllocBed({ files: pairFiles('primary', MCLT, 'failover_load_balance_max_secs 3\n') });
    const sb = makeAllocBed({ files: pairFiles('secondary', MCLT, 'failover_load_balance_max_secs 3\n') });
    pb.clock.now = sb.clock.now = Date.now();
    let p = await start(pb, 'primary', PORT + 9, 0, plog);
    let s = await start(sb, 'secondary', PORT + 9, 0, slog);
    try {
      await until(() => bothNormal(p, s), 'both normal', 10_000);
      await until(() => s.engine.status().backup === 2 && p.engine.status().unackedUpdates === 0, 'balanced', 5_000);
      // A partition: each link stops, each engine keeps running.
      await Promise.all([p.link.stop(), s.link.stop()]);
      await until(
        () =>
          p.engine.status().state === 'communications-interrupted' && s.engine.status().state === 'communications-interrupted',
        'both communications-interrupted',
        5_000,
      );
      assert.equal(s.engine.declarePartnerDown(), null);
      await until(() => s.engine.status().state === 'partner-down', 'secondary partner-down', 5_000);
      sb.clock.now = Date.now();
      const ctx = clientOn(sb.poolA, 1);
      const choice = await sb.allocator.chooseOffer(ctx);
      assert.ok(choice, 'partner-down: the secondary serves');
      sb.allocator.grant(ctx, terms(choice.address));

      // The partition ends: both listen, then both connect out at once (two TCP connections; the
      // secondary refuses the second CONNECT as a duplicate and the first session must stand).
      p = { ...p, link: linkOf(p.engine, 'primary', PORT + 9) };
      s = { ...s, link: linkOf(s.engine, 'secondary', PORT + 9) };
      await Promise.all([p.link.start(), s.link.start()]);
      await until(() => bothNormal(p, s), 'both normal again', 10_000);
      const pst = statesIn(plog).join(' ');
      const sst = statesIn(slog).join(' ');
      assert.ok(pst.endsWith('communications-interrupted potential-conflict conflict-done normal'), `round ${round}: p ${pst}`);
      assert.ok(sst.endsWith('communications-interrupted partner-down potential-conflict normal'), `round ${round}: s ${sst}`);
      assert.equal(p.engine.status().stats.badMessages + s.engine.status().stats.badMessages, 0, `round ${round}`);
      await until(() => pb.store.leases.get(choice.address)?.state === LeaseState.ACTIVE, 'the lease reached the primary', 5_000);
    } finally {
      await stop(p, s);
    }
  }
});

/** n distinct hardware addresses in the secondary's hash buckets (split 128: the primary's are 0..127). */
function peerClients(p: Unit, n: number): Buffer[] {
  const found: Buffer[] = [];
  for (let i = 0; found.length < n && i < 1000; i++) {
    const mac = Buffer.from([0x02, 0x66, 0, 0, i >> 8, i & 0xff]);
    if (!p.engine.answersClient(mac, 0)) found.push(mac);
  }
  return found;
}

test('partner-down on evidence: enough clients of the peer waiting in vain, never a partition alone', async () => {
  const p = await unit('primary', PORT + 5);
  const s = await unit('secondary', PORT + 5);
  try {
    await until(() => bothNormal(p, s), 'both normal', 10_000);
    const theirs = peerClients(p, 4);
    assert.equal(theirs.length, 4);
    await s.link.stop();
    s.engine.stop();
    await until(() => p.engine.status().state === 'communications-interrupted', 'primary communications-interrupted', 5_000);

    // Clients of the peer that have not waited long are still the peer's: no answer, no evidence.
    for (const mac of theirs) assert.equal(p.engine.answersClient(mac, 2), false);
    // Past failover_load_balance_max_secs (3) they are answered, but count only past unacked_secs (10).
    for (const mac of theirs) assert.equal(p.engine.answersClient(mac, 5), true);
    assert.equal(p.engine.status().state, 'communications-interrupted');
    // The same client again and again is one client.
    for (let i = 0; i < 5; i++) p.engine.answersClient(theirs[0]!, 11);
    p.engine.answersClient(theirs[1]!, 11);
    assert.equal(p.engine.status().state, 'communications-interrupted', 'two distinct clients of three');
    p.engine.answersClient(theirs[2]!, 12);
    await until(() => p.engine.status().state === 'partner-down', 'partner-down on the third client', 5_000);
  } finally {
    await stop(p, s);
  }
});

test('partner-down on evidence from REQUESTs: clients rebinding, and clients still asking for the peer', async () => {
  const p = await unit('primary', PORT + 8);
  const s = await unit('secondary', PORT + 8);
  try {
    await until(() => bothNormal(p, s), 'both normal', 10_000);
    const key = (n: number) => Buffer.from([0x01, 0x02, 0x77, 0, 0, 9, n]);
    // While the peer is there, nothing a client does is evidence.
    for (let n = 1; n <= 5; n++) p.engine.peerNotServing(key(n), null);
    assert.equal(p.engine.status().state, 'normal');
    await s.link.stop();
    s.engine.stop();
    await until(() => p.engine.status().state === 'communications-interrupted', 'primary communications-interrupted', 5_000);

    p.engine.peerNotServing(key(1), null); // rebinding: it could not renew with the peer
    p.engine.peerNotServing(key(2), 5); // asking for the peer's offer, but not for long
    p.engine.peerNotServing(key(1), 30); // the same client again is one client
    assert.equal(p.engine.status().state, 'communications-interrupted', 'one client so far');
    p.engine.peerNotServing(key(2), 11);
    assert.match(p.engine.status().note ?? '', /partner-down once 3 of its clients have waited over 10 s \(2 so far\)/);
    p.engine.peerNotServing(key(3), null);
    await until(() => p.engine.status().state === 'partner-down', 'partner-down on the third client', 5_000);
  } finally {
    await stop(p, s);
  }
});

test("failover_auto_partner_down: dhcpd's timer, for those who ask for it", async () => {
  const p = await unit('primary', PORT + 6, 0, { autoPartnerDownSecs: 1, unackedClients: 0 });
  const s = await unit('secondary', PORT + 6);
  try {
    await until(() => bothNormal(p, s), 'both normal', 10_000);
    await s.link.stop();
    s.engine.stop();
    await until(() => p.engine.status().state === 'communications-interrupted', 'primary communications-interrupted', 5_000);
    const since = Date.now();
    await until(() => p.engine.status().state === 'partner-down', 'partner-down by the timer', 5_000);
    assert.ok(Date.now() - since >= 900, 'not before the timer');
  } finally {
    await stop(p, s);
  }
});
