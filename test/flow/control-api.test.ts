// The control API over a real server and store: changes made through it reach the server's in-memory
// pools at once (a bound address is never offered to another client; a deleted one is offered again),
// refusals change nothing, a broken configuration is refused with its problems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LeaseState } from '../../src/store';
import { ip, ipToString } from '../../src/util/ipv4';
import { apiOf, callApi, FakeClient, makeBed } from './harness';

const call = callApi;

test('control API: a binding made while the address sits on the free list is never offered to another client', async () => {
  const bed = makeBed();
  const api = apiOf(bed);
  const a = FakeClient.withMac(bed, 1);
  assert.equal(ipToString((await a.dora())!.yiaddr), '10.77.1.100');
  // .101 is now on the in-memory free list (free_list_size 4); bind it to another machine.
  const bound = await call(api, 'POST', '/v1/bindings', {
    address: '10.77.1.101',
    hwaddr: '02:77:00:00:01:09',
    hostname: 'printer',
  });
  assert.equal(bound.status, 201);
  assert.equal(bound.json.state, 'static');
  const b = FakeClient.withMac(bed, 2);
  assert.equal(ipToString((await b.dora())!.yiaddr), '10.77.1.102', 'the bound address is skipped');
  const owner = FakeClient.withMac(bed, 9);
  const ack = await owner.dora();
  assert.equal(ipToString(ack!.yiaddr), '10.77.1.101', 'the bound client gets its binding');
  assert.equal(bed.store.leases.get(ip('10.77.1.101'))!.state, LeaseState.STATIC, 'and it stays a binding once taken');
  // Binding an address someone holds is refused, and changes nothing.
  const refused = await call(api, 'POST', '/v1/bindings', { address: '10.77.1.100', hwaddr: '02:77:00:00:01:0a' });
  assert.equal(refused.status, 409);
  assert.match(String(refused.json.error), /bound to another client/);
  assert.deepEqual(bed.store.leases.get(ip('10.77.1.100'))!.hwaddr, a.mac);
  bed.close();
});

test('control API: an address deleted through the server is offered again at once; release and pools', async () => {
  const bed = makeBed();
  const api = apiOf(bed);
  const clients = Array.from({ length: 10 }, (_, i) => FakeClient.withMac(bed, i + 1));
  for (const c of clients) assert.ok(await c.dora());
  const late = FakeClient.withMac(bed, 99);
  assert.equal(await late.discover(), undefined, 'all ten addresses are leased');
  let pools = await call(api, 'GET', '/v1/pools');
  const net = (pools.json.networks as Array<Record<string, number | string>>).find((n) => n.network === '10.77.1.0')!;
  assert.deepEqual([net.total, net.assigned, net.free], [10, 10, 0]);

  let r = await call(api, 'POST', '/v1/leases/10.77.1.104/release');
  assert.equal(r.status, 200);
  assert.equal(r.json.state, 'released');
  r = await call(api, 'POST', '/v1/leases/10.77.1.104/release');
  assert.equal(r.status, 409, 'a released lease cannot be released again');
  r = await call(api, 'DELETE', '/v1/leases/10.77.1.107');
  assert.equal(r.status, 200);
  assert.equal((await call(api, 'GET', '/v1/leases/10.77.1.107')).status, 404);
  const offer = await late.discover();
  assert.equal(ipToString(offer!.yiaddr), '10.77.1.107', 'the never-used search looks at the deleted address again');
  pools = await call(api, 'GET', '/v1/pools');
  const after = (pools.json.networks as Array<Record<string, number | string>>).find((n) => n.network === '10.77.1.0')!;
  assert.deepEqual([after.assigned, after.offered], [8, 1]);
  bed.close();
});

test('control API: a load with one refused record applies none; a broken configuration is refused with its problems', async () => {
  const bed = makeBed();
  const api = apiOf(bed);
  const a = FakeClient.withMac(bed, 1);
  await a.dora();
  const text = '02:00:00:00:00:01|1|6|10.77.1.105\n02:00:00:00:00:02|1|6|10.77.1.100\n';
  const r = await call(api, 'POST', '/v1/load', { text, separator: '|', options: {} });
  assert.equal(r.status, 409);
  assert.deepEqual(
    (r.json.problems as Array<{ line: number }>).map((p) => p.line),
    [2],
  );
  assert.equal(bed.store.leases.get(ip('10.77.1.105')), undefined);

  fs.writeFileSync(path.join(bed.configDir, 'nets'), '10.77.1.0 10.77.1.1 10.77.1.100-10.77.1.300\n');
  const reload = await call(api, 'POST', '/v1/reload');
  assert.equal(reload.status, 409);
  assert.ok(
    (reload.json.problems as string[]).some((p) => /nets:1:\d+: .*10.77.1.300/.test(p)),
    String(reload.json.problems),
  );
  assert.equal((await call(api, 'GET', '/v1/nothing')).status, 404);
  assert.equal((await call(api, 'DELETE', '/v1/leases/10.77.1.999')).status, 400);
  bed.close();
});

test("control API: a load keeps what another server wrote to DNS for the leases it brings (joind import's dns)", async () => {
  const bed = makeBed();
  const api = apiOf(bed);
  const text = '02:00:00:00:00:01|1|6|10.77.1.105\n02:00:00:00:00:02|1|6|10.77.1.106\n';
  const dns = (address: string, fqdn: string) => ({
    address,
    fqdn,
    guardType: 16,
    guard: '2230303030',
    forward: true,
    reverse: true,
  });
  // 10.77.1.107 is not among the loaded leases: nothing of it is kept.
  const body = {
    text,
    separator: '|',
    options: {},
    dns: [dns('10.77.1.105', 'a.lab.example'), dns('10.77.1.107', 'c.lab.example')],
  };
  const r = await call(api, 'POST', '/v1/load', body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.dnsKept, 1);
  const kept = bed.store.ddns.record(ip('10.77.1.105'));
  assert.deepEqual(
    [kept?.fqdn, kept?.guardType, kept?.guard.toString('hex'), kept?.reverse],
    ['a.lab.example', 16, '2230303030', true],
  );
  assert.equal(bed.store.ddns.record(ip('10.77.1.107')), undefined);
  const bad = await call(api, 'POST', '/v1/load', {
    text,
    separator: '|',
    options: {},
    dns: [{ address: '10.77.1.105', fqdn: 'a' }],
  });
  assert.equal(bad.status, 400);
  assert.match(String(bad.json.error), /^dns\[0\]: guardType/);
  bed.close();
});

test('control API: without a failover relationship, failover and partner-down answer 404 and change nothing', async () => {
  const bed = makeBed();
  const api = apiOf(bed);
  const status = await call(api, 'GET', '/v1/failover');
  assert.equal(status.status, 404);
  assert.match(String(status.json.error), /no failover relationship/);
  const down = await call(api, 'POST', '/v1/failover/partner-down');
  assert.equal(down.status, 404);
  bed.close();
});
