import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkStore } from '../../src/admin/check';
import { applyLoad, LoadOptions, NetworkLookup } from '../../src/admin/load';
import { parseRecords } from '../../src/admin/records';
import { LeaseOwner } from '../../src/alloc/lease-owner';
import { LeaseState, Store } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';

const base: LoadOptions = {
  delete: false,
  expired: false,
  takeBound: false,
  leases: true,
  names: true,
  ownedOnly: false,
  overwrite: false,
};
const nets: NetworkLookup = {
  networkOf: (a) => ((a & 0xffffff00) >>> 0 === ip('10.1.0.0') ? ip('10.1.0.0') : undefined),
  owned: (a) => a >= ip('10.1.0.100') && a <= ip('10.1.0.199'),
  paired: () => false,
};
const NOW = 2_000_000_000;

function load(store: Store, text: string, opts: Partial<LoadOptions> = {}) {
  const parsed = parseRecords(text, '|', NOW);
  assert.deepEqual(parsed.problems, []);
  return store.write(() => applyLoad(store, new LeaseOwner(store), parsed.records, { ...base, ...opts }, nets, NOW));
}

test('load: records land with their network; a file with one refused record changes nothing', () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  let r = load(store, '02:00:00:00:00:01|1|6|10.1.0.100\n02:00:00:00:00:02|1|6|10.1.0.101|1|3000000000|||active\n');
  assert.equal(r.ok, true);
  assert.equal(r.loaded, 2);
  assert.equal(store.leases.get(ip('10.1.0.100'))?.state, LeaseState.STATIC);
  assert.equal(store.leases.get(ip('10.1.0.101'))?.network, ip('10.1.0.0'));

  // Line 2 takes 10.1.0.100 from the client of line 1's record: refused, and line 1 is not applied either.
  r = load(
    store,
    '02:00:00:00:00:03|1|6|10.1.0.102\n02:00:00:00:00:04|1|6|10.1.0.100\n9.9.9.9|1|6|9.9.9.9\n'.replace(
      '9.9.9.9|1|6|',
      '02:00:00:00:00:05|1|6|',
    ),
  );
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.problems.map((p) => p.line),
    [2, 3],
  );
  assert.match(r.problems[0]!.message, /bound to another client \(take it anyway with -i\)/);
  assert.match(r.problems[1]!.message, /in no network of nets/);
  assert.equal(store.leases.get(ip('10.1.0.102')), undefined, 'nothing of a refused file is applied');

  // -i takes it; the old holder's record is replaced.
  r = load(store, '02:00:00:00:00:04|1|6|10.1.0.100\n', { takeBound: true });
  assert.equal(r.ok, true);
  assert.equal(store.leases.get(ip('10.1.0.100'))?.hwaddr?.[5], 4);
  store.close();
});

test('load: -w to overwrite or move a client, -e for ended leases, -o ownership, -d deletes and reports freed addresses', () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  load(store, '02:00:00:00:00:01|1|6|10.1.0.100\n');
  let r = load(store, '02:00:00:00:00:01|1|6|10.1.0.110\n');
  assert.match(r.problems[0]!.message, /already has 10.1.0.100 on network 10.1.0.0 \(replace it with -w\)/);
  load(store, '02:00:00:00:00:01|1|6|10.1.0.110\n', { overwrite: true });
  assert.equal(store.leases.get(ip('10.1.0.100')), undefined, 'the client moved: .100 has no record any more');

  r = load(store, '02:00:00:00:00:09|1|6|10.1.0.120|1|2|||active\n');
  assert.equal(r.loaded, 0);
  assert.match(r.skipped[0]!.why, /has ended \(load it anyway with -e\)/);
  r = load(store, '02:00:00:00:00:09|1|6|10.1.0.120|1|2|||active\n', { expired: true });
  assert.equal(r.loaded, 1);

  r = load(store, '02:00:00:00:00:0a|1|6|10.1.0.5\n', { ownedOnly: true });
  assert.equal(r.loaded, 0);
  assert.match(r.skipped[0]!.why, /not in a range this server owns/);

  r = load(store, '|||10.1.0.110\n|||10.1.0.111\n', { delete: true });
  assert.equal(r.deleted, 1);
  assert.equal(store.leases.get(ip('10.1.0.110')), undefined);
  assert.match(r.skipped[0]!.why, /10.1.0.111 has no record/);
  store.close();
});

test('check-db: a sound store passes; bad records are each reported', () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  load(store, '02:00:00:00:00:01|1|6|10.1.0.100\n');
  store.flush();
  assert.deepEqual(checkStore(store, null).problems, []);
  // Damage written behind the repositories' back, as a crash or a hand edit could.
  store.db.prepare('UPDATE leases SET ends = starts - 10, state = 9 WHERE address = ?').run(ip('10.1.0.100'));
  store.db
    .prepare('INSERT INTO leases (address, network, htype, starts, cltt, state) VALUES (?, ?, 0, 1, 1, 1)')
    .run(ip('10.2.0.5'), ip('10.1.0.0'));
  const problems = checkStore(store, null).problems;
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems.join('\n'), /10.1.0.100: unknown state 9/);
  assert.match(problems.join('\n'), /10.1.0.100: ends .* before it starts/);
  assert.match(problems.join('\n'), /10.2.0.5: active record without a client/);
  assert.match(problems.join('\n'), /10.2.0.5: network 10.1.0.0 does not contain it/);
  store.close();
});

test("load: a failover range's unused record (free or backup, nobody behind it) is no conflict", () => {
  const store = Store.open({ spoolDir: tempDir(), durable: false });
  store.write(() => store.leases.materialise(ip('10.1.0.0'), [ip('10.1.0.150'), ip('10.1.0.151')]));
  assert.equal(store.leases.get(ip('10.1.0.150'))?.state, LeaseState.FREE);
  // Nobody behind either: a backup address as the peer's lease file has it, and a lease.
  const r = load(store, '||0|10.1.0.150|1|||1|backup|10.1.0.0\n02:00:00:00:00:07|1|6|10.1.0.151|1|3000000000|||active\n');
  assert.deepEqual(r.problems, []);
  assert.equal(r.loaded, 2);
  assert.equal(store.leases.get(ip('10.1.0.150'))?.state, LeaseState.BACKUP);
  assert.equal(store.leases.get(ip('10.1.0.151'))?.state, LeaseState.ACTIVE);
  // A record somebody holds is still one.
  const again = load(store, '02:00:00:00:00:08|1|6|10.1.0.151|1|3000000000|||active\n');
  assert.match(again.problems[0]?.message ?? '', /bound to another client/);
  store.close();
});
