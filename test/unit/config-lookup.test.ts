import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDhcpcap } from '../../src/config/dhcpcap';
import {
  findBindingByAddress,
  findBindingsByHardware,
  findNetwork,
  findStaticBinding,
  resolveClientParams,
  staticBindings,
} from '../../src/config/lookup';
import type { ClientQuery, Dhcpcap, NetworkConfig } from '../../src/config/types';
import { ip } from '../../src/util/ipv4';
import { brief, sinkFor } from '../fixtures/config/helpers';

function cap(text: string): Dhcpcap {
  const { sink, problems } = sinkFor('dhcpcap');
  const entries = parseDhcpcap(text, problems);
  assert.deepEqual(
    brief(sink.items).filter((p) => p.startsWith('error')),
    [],
  );
  return { file: 'dhcpcap', mtimeMs: 0, entries };
}

const CAP = cap(
  [
    'site:dn=site.example:lt=1:',
    'net1:nw=10.1.0.0:lt=2:gw=10.1.0.1:ds=10.1.0.2:',
    'cls:ct=joind-demo:lt=3:nt=10.1.0.5:',
    'host:ht=ether:ha=080009032401:lt=4:ho=h:',
    'netcls:nw=10.1.0.0:ct=joind-demo:lt=5:',
    'hostnet:ht=ether:ha=080009032401:nw=10.1.0.0:lt=6:ip=10.1.0.50:',
    '.tmpl:lt=99:sm=255.0.0.0:',
    'pxe:ct=PXEClient*:bf=pxelinux.0:',
    'ckhost:ck="client-7":lt=7:ho=seven:ip=10.2.0.7:',
    'hostcls:ht=ether:ha=080009032401:ct=joind-demo:tu=1400:lt=8:',
  ].join('\n'),
);

const MAC = Buffer.from('080009032401', 'hex');
const OTHER = Buffer.from('080009032499', 'hex');
const N1 = ip('10.1.0.0');
const N2 = ip('10.2.0.0');

function q(network: number, chaddr: Buffer, extra: Partial<ClientQuery> = {}): ClientQuery {
  return { network, htype: 1, chaddr, ...extra };
}

function lt(query: ClientQuery): unknown {
  return resolveClientParams(CAP, query).tags.get('lt');
}

test('lookup: precedence site < network < class < client < network+class < client+network', () => {
  assert.equal(lt(q(N2, OTHER)), 1, 'site-wide default only');
  assert.equal(lt(q(N1, OTHER)), 2, 'network beats site');
  assert.equal(lt(q(N2, OTHER, { vendorClass: 'joind-demo' })), 3, 'class beats site (and network+class is for another network)');
  assert.equal(lt(q(N1, OTHER, { vendorClass: 'joind-demo' })), 5, 'network+class beats class and network');
  assert.equal(lt(q(N2, MAC)), 4, 'client id beats site');
  assert.equal(lt(q(N1, MAC)), 6, 'client id + network beats everything');
  assert.equal(lt(q(N1, MAC, { vendorClass: 'joind-demo' })), 6, 'client id + network beats network+class and client+class');
  assert.equal(lt(q(N2, MAC, { vendorClass: 'joind-demo' })), 8, 'client id + class beats client id');
  assert.equal(
    lt(q(N1, OTHER, { vendorClass: 'joind-demo', clientId: Buffer.from('client-7') })),
    5,
    'network+class beats client id alone',
  );
});

test('lookup: merged tags, scope tags left out, templates never apply, hostEntry', () => {
  const r = resolveClientParams(CAP, q(N1, MAC, { vendorClass: 'joind-demo' }));
  assert.equal(r.hostEntry?.label, 'hostnet');
  assert.equal(r.tags.get('dn'), 'site.example');
  assert.deepEqual(r.tags.get('gw'), [ip('10.1.0.1')]);
  assert.deepEqual(r.tags.get('nt'), [ip('10.1.0.5')]);
  assert.equal(r.tags.get('ho'), 'h');
  assert.equal(r.tags.get('tu'), 1400);
  assert.equal(r.tags.get('ip'), ip('10.1.0.50'));
  for (const scopeTag of ['ht', 'ha', 'ck', 'nw', 'ct']) assert.equal(r.tags.has(scopeTag), false, scopeTag);
  assert.equal(r.tags.has('sm'), false, 'the template .tmpl applies to nobody');

  const byId = resolveClientParams(CAP, q(N2, OTHER, { clientId: Buffer.from('client-7') }));
  assert.equal(byId.hostEntry?.label, 'ckhost');
  assert.equal(byId.tags.get('ho'), 'seven');
  assert.equal(resolveClientParams(CAP, q(N2, OTHER)).hostEntry, undefined);
});

test('lookup: hardware type must match unless ignoreHardwareType; class prefix match with *', () => {
  assert.equal(lt(q(N2, MAC, { htype: 6 })), 1);
  assert.equal(lt(q(N2, MAC, { htype: 6, ignoreHardwareType: true })), 4);
  assert.equal(
    resolveClientParams(CAP, q(N2, OTHER, { vendorClass: 'PXEClient:Arch:00000:UNDI:002001' })).tags.get('bf'),
    'pxelinux.0',
  );
  assert.equal(resolveClientParams(CAP, q(N2, OTHER, { vendorClass: 'PXE' })).tags.get('bf'), undefined);
  assert.equal(lt(q(N2, OTHER, { vendorClass: 'joind-demo-2' })), 1, 'without * the class must match exactly');
});

test('lookup: the merge without a host entry is computed once and shared', () => {
  const a = resolveClientParams(CAP, q(N1, OTHER));
  const b = resolveClientParams(CAP, q(N1, Buffer.from('0a0b0c0d0e0f', 'hex')));
  assert.equal(a.tags, b.tags);
  const c = resolveClientParams(CAP, q(N1, OTHER, { vendorClass: 'joind-demo' }));
  assert.notEqual(a.tags, c.tags);
  const d = resolveClientParams(CAP, q(N1, MAC));
  const e = resolveClientParams(CAP, q(N1, MAC));
  assert.notEqual(d.tags, e.tags, "a host merge is the caller's own");
});

test('lookup: static bindings by address, by hardware and by client', () => {
  assert.deepEqual(
    staticBindings(CAP).map((b) => [b.entry.label, b.address]),
    [
      ['hostnet', ip('10.1.0.50')],
      ['ckhost', ip('10.2.0.7')],
    ],
  );
  assert.equal(findBindingByAddress(CAP, ip('10.2.0.7'))?.entry.label, 'ckhost');
  assert.equal(findBindingByAddress(CAP, ip('10.2.0.8')), undefined);
  assert.deepEqual(
    findBindingsByHardware(CAP, 1, MAC).map((b) => b.entry.label),
    ['hostnet'],
  );
  assert.deepEqual(findBindingsByHardware(CAP, 6, MAC), []);
  assert.deepEqual(
    findBindingsByHardware(CAP, 6, MAC, true).map((b) => b.entry.label),
    ['hostnet'],
  );
  assert.equal(findStaticBinding(CAP, q(N1, MAC))?.address, ip('10.1.0.50'));
  assert.equal(findStaticBinding(CAP, q(N2, MAC)), undefined, 'hostnet is only for 10.1.0.0');
  assert.equal(findStaticBinding(CAP, q(N2, OTHER, { clientId: Buffer.from('client-7') }))?.address, ip('10.2.0.7'));
});

test('lookup: findNetwork by binary search over disjoint networks', () => {
  const net = (a: string, prefix: number): NetworkConfig => ({
    address: ip(a),
    mask: prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0,
    prefixLength: prefix,
    owners: [],
    ourRanges: [],
    served: false,
    source: 'nets:1',
  });
  const networks = [
    net('10.77.3.0', 24),
    net('10.77.1.0', 24),
    net('172.20.8.16', 28),
    net('10.0.0.0', 16),
    net('192.168.0.0', 16),
  ];
  const find = (a: string) => findNetwork(networks, ip(a))?.address;
  assert.equal(find('10.77.1.200'), ip('10.77.1.0'));
  assert.equal(find('10.77.3.1'), ip('10.77.3.0'));
  assert.equal(find('10.77.2.1'), undefined);
  assert.equal(find('10.0.255.255'), ip('10.0.0.0'));
  assert.equal(find('172.20.8.31'), ip('172.20.8.16'));
  assert.equal(find('172.20.8.32'), undefined);
  assert.equal(find('192.168.200.1'), ip('192.168.0.0'));
  assert.equal(find('1.1.1.1'), undefined);
  assert.equal(findNetwork([], ip('10.0.0.1')), undefined);
});
