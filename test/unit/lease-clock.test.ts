// The lease clock (src/server/lease-clock.ts) and what the store keeps of the clock (src/store/clock.ts):
// a step of the wall clock is seen, the stored times that are judged against the clock move with it,
// and nothing else does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseClock, STEP_MS } from '../../src/server/lease-clock';
import { Store, LeaseState, type LeaseRecord } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';
import { leaseRecord } from '../helpers/lease';

const YEAR_MS = 365 * 86_400_000;

/** A wall clock and a monotonic clock the test moves by hand. */
function fakeClocks(wall: number) {
  const t = { wall, mono: 1_000 };
  return { t, clock: new LeaseClock({ wall: () => t.wall, monotonic: () => t.mono }) };
}

test('lease clock: runs on the monotonic clock; a wall step is seen, and taken only when adopted', () => {
  const { t, clock } = fakeClocks(Date.UTC(2026, 0, 1));
  assert.equal(clock.now(), Date.UTC(2026, 0, 1));
  t.wall += 5_000;
  t.mono += 5_000;
  assert.equal(clock.now(), Date.UTC(2026, 0, 1) + 5_000);
  assert.equal(clock.check(), 0, 'both clocks moved alike: no step');

  t.wall += YEAR_MS; // NTP steps the wall clock a year forward
  assert.equal(clock.check(), YEAR_MS);
  assert.equal(clock.now(), Date.UTC(2026, 0, 1) + 5_000, 'not taken before adopt: the store still has the old times');
  clock.adopt();
  assert.equal(clock.now(), t.wall);
  assert.equal(clock.check(), 0);

  t.wall -= 30 * 86_400_000; // and back a month
  assert.equal(clock.check(), -30 * 86_400_000);
  clock.adopt();
  t.wall += STEP_MS - 1; // less than a step: drift, not acted on
  assert.equal(clock.check(), 0);
  t.wall += 1;
  assert.equal(clock.check(), STEP_MS);
});

const lease = (address: string, state: LeaseState, times: Partial<LeaseRecord>) =>
  leaseRecord(address, Number(address.split('.')[3]), { starts: 1_000_000, ends: 1_003_600, cltt: 1_000_000, state, ...times });

test('store clock: a step moves what counts down (active and BOOTP ends, failover times, DNS jobs), not ended history', () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  assert.equal(store.clock.seen(), undefined, 'a new store has seen no time');
  store.write(() => {
    store.leases.put(lease('10.1.0.10', LeaseState.ACTIVE, {}));
    store.leases.put(lease('10.1.0.11', LeaseState.EXPIRED, {}));
    store.leases.put(lease('10.1.0.12', LeaseState.STATIC, { ends: null }));
    store.leases.put(lease('10.1.0.13', LeaseState.BOOTP, {}));
    store.leases.put(lease('10.1.0.14', LeaseState.FREE, { client: null, hwaddr: null, tstp: 1_000_500, tsfp: 1_000_400 }));
    store.ddns.putJob({
      address: ip('10.1.0.10'),
      op: 'add',
      fqdn: 'a.example.',
      guardType: 49,
      guard: Buffer.alloc(1),
      ttl: 300,
      due: 5_000,
      created: 4_000,
    });
    store.failover.put({
      name: 'pair',
      myState: 'normal',
      myStos: 900_000,
      partnerState: 'normal',
      partnerStos: 900_100,
      mclt: 3600,
      everPaired: true,
      hba: null,
    });
    store.clock.note(1_000_100);
    store.clock.note(1_000_050); // never moves the record back
  });
  assert.equal(store.clock.seen(), 1_000_100);

  const rows = store.write(() => store.clock.shift(-86_400_000)); // a day back
  assert.deepEqual(rows, { leases: 3, ddnsJobs: 1 });
  const at = (a: string) => store.leases.get(ip(a))!;
  assert.deepEqual([at('10.1.0.10').starts, at('10.1.0.10').ends, at('10.1.0.10').cltt], [913_600, 917_200, 913_600]);
  assert.equal(at('10.1.0.11').ends, 1_003_600, 'an ended lease keeps its history');
  assert.equal(at('10.1.0.12').ends, null, 'no end stays no end');
  assert.equal(at('10.1.0.13').ends, 917_200);
  assert.deepEqual([at('10.1.0.14').tstp, at('10.1.0.14').tsfp], [914_100, 914_000]);
  const job = store.ddns.job(ip('10.1.0.10'))!;
  assert.deepEqual([job.due, job.created], [5_000 - 86_400_000, 4_000 - 86_400_000]);
  const pair = store.failover.get('pair')!;
  assert.deepEqual([pair.myStos, pair.partnerStos], [813_600, 813_700]);
  assert.equal(store.clock.seen(), 913_700);
  store.close();
});
