// `joind import --format dhcpd-conf` (src/admin/dhcpd-conf-import.ts): what each dhcpd.conf statement
// becomes in joind's files, what is reported with its file:line:column and why, and that the written
// directory loads as a joind configuration. The seed's failover pair imports without a loss; the site
// fixture reports exactly what joind cannot express.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DHCPD_CODES, DHCPD_NAMES } from '../../src/admin/dhcpd-options';
import { importDhcpdConf, type DhcpdConfImport } from '../../src/admin/dhcpd-conf-import';
import { readDhcpdConf } from '../../src/admin/dhcpd-conf-reader';
import { loadConfig } from '../../src/config/load';
import { resolveClientParams } from '../../src/config/lookup';
import type { ClientQuery } from '../../src/config/types';
import { encodeOptionValue } from '../../src/codec/options';
import { configuredOptions } from '../../src/server/options';
import { ip } from '../../src/util/ipv4';
import { repoRoot } from '../fixtures/config/helpers';
import { makeRandom } from '../helpers/random';
import { tempDir } from '../helpers/tmp';

const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'dhcpd-conf');

/** Imports dhcpd.conf text (as the file d.conf) for the owner dhcp1. */
function translate(text: string, owner = 'dhcp1'): DhcpdConfImport {
  return importDhcpdConf(readDhcpdConf('d.conf', { readFile: () => text }), owner);
}

/** The lines of a written file, without the header comment. */
function lines(result: DhcpdConfImport, file: string): string[] {
  return result.files[file]!.split('\n').filter((l) => l && !l.startsWith('#'));
}

/** Writes the files and loads them as joind would, this server being `hostname`. */
function load(result: DhcpdConfImport, hostname: string) {
  const dir = tempDir('joind-import-conf-');
  for (const [name, text] of Object.entries(result.files)) fs.writeFileSync(path.join(dir, name), text);
  return loadConfig(dir, { self: { hostname, addresses: [] } });
}

test("the seed's failover primary imports without a loss, and loads", () => {
  const result = importDhcpdConf(readDhcpdConf(path.join(FIXTURES, 'seed-primary.conf')), 'muscat');
  assert.deepEqual(result.problems, []);
  assert.deepEqual(
    result.notes.map((n) => n.replace(/^.*seed/, 'seed')),
    [],
    'the state block is commented out in the seed: nothing to note',
  );
  assert.deepEqual(lines(result, 'server.pcy'), [
    'default_ttl                    30000',
    'ddns_style                     interim',
    'name_service_updateable        on',
    'failover                       dhcp_fail',
    'failover_role                  primary',
    'failover_address               192.168.168.8',
    'failover_port                  519',
    'failover_peer_address          192.168.168.9',
    'failover_peer_port             519',
    'failover_max_response_delay    60',
    'failover_max_unacked_updates   10',
    'failover_mclt                  3660',
    'failover_split                 128',
    'failover_load_balance_max_secs 3',
  ]);
  assert.deepEqual(
    lines(result, 'nets'),
    ['192.168.168.0 dhcp_fail 192.168.168.20-192.168.168.254'],
    "the pool is the relationship's",
  );
  assert.deepEqual(lines(result, 'netmasks'), ['192.168.168.0 255.255.255.0']);
  assert.deepEqual(lines(result, 'dhcpcap'), [
    'dhcpd-global:lx=60000:',
    // option subnet-mask in the pool, the innermost scope, is the one kept.
    'subnet-192.168.168.0:nw=192.168.168.0:dn=mon_domain:ds="192.168.168.8 192.168.168.9":bw="192.168.168.10 168.18.168.11":by=8:sm=255.255.255.0:ba=192.168.168.255:gw=192.168.168.1:',
    // The pool's permits: allow unknown clients (alone, in dhcpd: only them), deny dynamic bootp clients.
    'pool-192.168.168.0-1:nw=192.168.168.0:ra=192.168.168.20-192.168.168.254:ku:nb:',
  ]);
  const loaded = load(result, 'muscat');
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  const net = loaded.config.networks[0]!;
  assert.deepEqual([net.served, net.ourRanges[0]?.failover], [true, 'dhcp_fail']);
});

test('a site configuration: every statement joind cannot express is reported with file:line:column and why', () => {
  const result = importDhcpdConf(readDhcpdConf(path.join(FIXTURES, 'site.conf')), 'dhcp1');
  const where = (p: string) => p.replace(/^.*site\.conf:/, 'site.conf:');
  assert.deepEqual(result.problems.map(where), [
    // iPXE's space goes in option 175: joind sends sub-options in option 43 only.
    'site.conf:29:1: option ipxe-encap-opts code 175 = encapsulate ipxe;: option 175 encapsulates space ipxe: joind sends sub-options only in option 43 (T43.N=)',
    'site.conf:38:1: ignore client-updates;: joind always lets a client that asks write its own A record (option 81)',
    'site.conf:40:1: key DHCP_UPDATER { … }: joind signs with hmac-sha256 or stronger, not hmac-md5: make a new key with tsig-keygen',
    'site.conf:58:3: if exists user-class and option user-class = "iPXE" { … }: not translated: joind has no equivalent',
    'site.conf:60:5: elsif option pxe-system-type = 00:07 { … }: not translated: joind has no equivalent',
    'site.conf:62:5: else { … }: not translated: joind has no equivalent',
    'site.conf:69:3: option ipxe.no-pxedhcp 1;: space ipxe is not sent as option 43 here (dhcpd sends it in option 175, ipxe-encap-opts): joind sends sub-options only in option 43',
    'site.conf:86:3: option wpad "http://wpad.lab.example.org/wpad.dat\\n";: the text holds the control character \\x0a, which a dhcpcap value cannot hold',
    'site.conf:124:1: on commit { … }: not translated: joind has no equivalent',
  ]);
  assert.deepEqual(
    result.notes.map(where).map((n) => n.split(': ')[0]),
    ['site.conf:4:1', 'site.conf:5:1', 'site.conf:37:1'],
  );
  assert.deepEqual(lines(result, 'dhcpcap'), [
    'dhcpd-global:ln=600:lx=86400:sn=boot.lab.example.org:sa=10.20.0.5:ds="10.20.0.53 10.20.0.54":sd="lab.example.org example.org":nt=10.20.0.123:dn=lab.example.org:fo=252:',
    'class-pxe:ct=PXEClient*:',
    'class-ipxe:uc=iPXE:',
    // { ip-address, unsigned integer 16, string } written field by field.
    '.class-by-port:T160=0x0a140005004570686f6e6573:',
    'class-by-port-1:ci=0x67652d302f302f312e30:tc=.class-by-port:ho=phone-desk-1:hn:',
    'class-by-port-2:ci=0x67652d302f302f322e30:tc=.class-by-port:',
    // The RFC 3442 bytes of the declared array, as routes.
    'subnet-10.20.1.0:nw=10.20.1.0:sm=255.255.255.0:sh=building-a:gw=10.20.1.1:cr="10.30.0.0/24 10.20.1.254, 0.0.0.0/0 10.20.1.1":',
    // Its two pools' permits, as range entries.
    'pool-10.20.1.0-1:nw=10.20.1.0:ra=10.20.1.100-10.20.1.199:kn:',
    'pool-10.20.1.0-2:nw=10.20.1.0:ra=10.20.1.200-10.20.1.220:am=class-pxe:',
    'subnet-10.20.2.0:nw=10.20.2.0:sm=255.255.255.0:sh=building-a:gw=10.20.2.1:',
    '.group-1:bf=pxelinux.0:',
    'printer-1:ht=ethernet:ha="00:1b:a9:12:34:56":tc=.group-1:ho=printer-1:hn:ip=10.20.1.20:',
    'thin-client:ht=ethernet:ha="0:1:2:3:4:5":ck=0x01000102030405:tc=.group-1:ip=10.20.1.21:',
    'kiosk:ck=0x6b696f736b2d3031:tc=.group-1:ho=kiosk:hn:ip=10.20.2.5:',
  ]);
  assert.deepEqual(lines(result, 'nets'), [
    '10.20.1.0 dhcp1 10.20.1.100-10.20.1.199 10.20.1.200-10.20.1.220',
    '10.20.2.0 dhcp1 10.20.2.10-10.20.2.250',
  ]);
  assert.deepEqual(lines(result, 'server.pcy'), [
    'default_ttl                    3600',
    'ignore_client_uids             on',
    'ping_timeout                   1000',
    'ddns_style                     interim',
    'name_service_updateable        on',
    'ddns_server                    10.20.0.53',
  ]);
  const loaded = load(result, 'dhcp1');
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  assert.equal(loaded.config.sharedNetworks.get(ip('10.20.2.0'))?.length, 2, 'the shared network');
});

test('statements one by one: hosts, groups, pools, ranges, keys, zones, failover state, permissions', () => {
  const result = translate(
    [
      'subnet 10.1.0.0 netmask 255.255.255.0 {', // 1
      '  pool { failover peer "pair"; range 10.1.0.10 10.1.0.20; deny unknown-clients; }', // 2
      '  range dynamic-bootp 10.1.0.30;', // 3
      '}',
      'subnet 10.2.0.0 netmask 255.255.255.0 { }', // 5: fixed hosts only
      'host twin { hardware ethernet 02:00:00:00:00:01; fixed-address 10.1.0.5, 10.2.0.5; }', // 6
      'host nobody { fixed-address 10.1.0.6; }', // 7
      'host named { hardware ethernet 02:00:00:00:00:02; fixed-address printer.example; }', // 8
      'key ddns { algorithm hmac-sha256; secret "c2VjcmV0"; }', // 9
      'zone example.org. { primary 10.1.0.53; key ddns; }', // 10
      'zone other.org. { primary 10.9.0.53; key ddns; }', // 11
      'failover peer "pair" state { my state partner-down; }', // 12
      'max-lease-time 7200;', // 13
      'deny unknown-clients;', // 14
      'local-port 6767;', // 15
    ].join('\n'),
  );
  assert.deepEqual(result.problems, [
    'd.conf:7:1: host nobody { … }: a host without hardware address or client identifier: joind cannot tell who it is',
    'd.conf:8:51: fixed-address printer.example;: printer.example is not an address (joind looks up no names in its configuration)',
    'd.conf:11:1: zone other.org. { … }: joind sends every update to one server (ddns_server): zones with different primaries',
    'd.conf:14:1: deny unknown-clients;: known clients only is per network in joind (kn on the network entry)',
    'd.conf:15:1: local-port 6767;: not translated: joind has no equivalent',
  ]);
  assert.deepEqual(result.notes, [
    'd.conf:12:1: failover peer "pair" state { … }: joind keeps the pair\'s state in its store, so a first start needs no such block',
  ]);
  assert.deepEqual(lines(result, 'nets'), ['10.1.0.0 dhcp1 10.1.0.30', 'pair 10.1.0.10-10.1.0.20', '10.2.0.0 dhcp1']);
  assert.deepEqual(lines(result, 'dhcpcap'), [
    'dhcpd-global:lx=7200:',
    'subnet-10.1.0.0:nw=10.1.0.0:sm=255.255.255.0:',
    'pool-10.1.0.0-1:nw=10.1.0.0:ra=10.1.0.10-10.1.0.20:kn:',
    'subnet-10.2.0.0:nw=10.2.0.0:sm=255.255.255.0:',
    // dhcpd gives the fixed address of the client's subnet: one entry per address and network.
    'twin:ht=ethernet:ha="02:00:00:00:00:01":nw=10.1.0.0:ip=10.1.0.5:',
    'twin-2:ht=ethernet:ha="02:00:00:00:00:01":nw=10.2.0.0:ip=10.2.0.5:',
    'named:ht=ethernet:ha="02:00:00:00:00:02":',
  ]);
  assert.equal(result.files['ddns.key'], 'key "ddns" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0";\n};\n');
  assert.deepEqual(lines(result, 'server.pcy'), [
    'dynamic_bootp                  on',
    'ddns_key_file                  ddns.key',
    'ddns_server                    10.1.0.53',
  ]);
});

test('values that do not fit their declared type are reported, never thrown', () => {
  const result = translate(
    [
      'option small code 200 = unsigned integer 8;',
      'option rec code 201 = { ip-address, unsigned integer 16 };',
      'option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;',
      'option small 300;', // 4
      'option rec 10.0.0.1 70000;', // 5
      'option rfc3442-classless-static-routes 24, 10, 300, 0, 10, 0, 0, 1;', // 6
      'option small 7;', // 7: fine
    ].join('\n'),
  );
  assert.deepEqual(
    result.problems.map((p) => p.split(': ').slice(0, 1).concat(p.split(': ').slice(-1)).join(': ')),
    [
      'd.conf:4:1: cannot write 300 as bytes of unsigned integer 8',
      'd.conf:5:1: cannot write 70000 as the unsigned integer 16 of { ip-address , unsigned integer 16 }',
      'd.conf:6:1: expected the bytes of RFC 3442 routes, 0 to 255',
    ],
  );
  assert.deepEqual(lines(result, 'dhcpcap'), ['dhcpd-global:T200=0x07:']);
});

test('fuzz: shuffled statements of the fixtures never make the import throw', () => {
  const random = makeRandom(16);
  const source = ['site.conf', 'seed-dhcpd.master'].map((f) => fs.readFileSync(path.join(FIXTURES, f), 'utf8')).join('\n');
  const words = source.split(/\s+/).filter(Boolean);
  for (let round = 0; round < 300; round++) {
    // Runs of the fixtures' own words in a new order: statements with the wrong values, blocks in the
    // wrong places, declarations that do not match their uses.
    const picked: string[] = [];
    for (let i = 0; i < 80; i++) picked.push(words[random.int(words.length)]!);
    const text = picked.join(random.chance(0.5) ? ' ' : '\n');
    assert.doesNotThrow(() => translate(text), `round ${round}: ${text}`);
  }
});

test("pool permits become range entries: dhcpd's allow list (any one) and deny list (none), as joind's permits", () => {
  const result = translate(
    [
      'class "a" { match if option vendor-class-identifier = "A"; }', // 1
      'class "b" { match option agent.circuit-id; }', // 2
      'subclass "b" "port-1";', // 3
      'subnet 10.1.0.0 netmask 255.255.255.0 {', // 4
      '  pool { range 10.1.0.10 10.1.0.20; allow known-clients; allow unknown-clients; }', // 5
      '  pool { range 10.1.0.30 10.1.0.40; allow members of "a"; allow members of "b"; deny dynamic bootp clients; }', // 6
      '  pool { range 10.1.0.50; allow members of "a"; allow known-clients; }', // 7
      '  pool { range 10.1.0.60; deny all clients; }', // 8
      '  pool { range 10.1.0.70; allow members of "nope"; }', // 9
      '  pool { range 10.1.0.80; deny known-clients; deny members of "a"; }', // 10
      '}',
      'subclass "b" "port-2";', // 12: read after the pools, still a member
    ].join('\n'),
  );
  assert.deepEqual(result.problems, [
    'd.conf:7:27: allow members of "a";: allows of different kinds in one pool: joind\'s permits must all hold',
    "d.conf:7:49: allow known-clients;: allows of different kinds in one pool: joind's permits must all hold",
    'd.conf:8:27: deny all clients;: a pool no client may use: leave its ranges out instead',
    'd.conf:9:27: allow members of "nope";: class nope has no entry joind can match (no match if, no subclass)',
  ]);
  assert.deepEqual(
    lines(result, 'dhcpcap').filter((l) => l.startsWith('pool-')),
    [
      // Pool 1 admits everyone: no entry. Pool 2: a member of a or of b (each of its subclasses).
      'pool-10.1.0.0-2:nw=10.1.0.0:ra=10.1.0.30-10.1.0.40:nb:am="class-a class-b-1 class-b-2":',
      // Reported above: a class with no entry leaves the pool without its permit.
      'pool-10.1.0.0-5:nw=10.1.0.0:ra=10.1.0.70:',
      'pool-10.1.0.0-6:nw=10.1.0.0:ra=10.1.0.80:ku:dm=class-a:',
    ],
  );
  const loaded = load(result, 'dhcp1');
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  const rules = loaded.config.networks[0]!.ourRanges.filter((r) => r.rule).map((r) => r.rule!.label);
  assert.deepEqual(rules, ['pool-10.1.0.0-2', 'pool-10.1.0.0-5', 'pool-10.1.0.0-6']);
});

/** The option 43 a client gets from a loaded configuration, as hex ('' for none). */
function option43(result: DhcpdConfImport, q: Omit<ClientQuery, 'htype' | 'chaddr'> & { chaddr?: Buffer }): string {
  const loaded = load(result, 'dhcp1');
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  const tags = resolveClientParams(loaded.config.dhcpcap, { htype: 1, chaddr: Buffer.from('020000000001', 'hex'), ...q }).tags;
  const value = configuredOptions(tags).get(43);
  return Buffer.isBuffer(value) ? value.toString('hex') : '';
}

test("vendor-option-space: UniFi's class sends its sub-option as option 43 (T43.N)", () => {
  const result = translate(
    [
      'option space ubnt;', // 1
      'option ubnt.unifi-address code 1 = ip-address;',
      'class "ubnt" {',
      '  match if substring (option vendor-class-identifier, 0, 4) = "ubnt";',
      '  option vendor-class-identifier "ubnt";',
      '  vendor-option-space ubnt;',
      '  option ubnt.unifi-address 10.0.0.2;',
      '}',
      'subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }',
    ].join('\n'),
  );
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.notes, []);
  assert.deepEqual(lines(result, 'dhcpcap'), [
    'class-ubnt:ct=ubnt*:T60=ubnt:T43.1=0x0a000002:',
    'subnet-10.0.0.0:nw=10.0.0.0:sm=255.255.255.0:',
  ]);
  // Sub-option 1, four bytes, 10.0.0.2: what dhcpd sends; a client not of the class gets no option 43.
  assert.equal(option43(result, { network: ip('10.0.0.0'), vendorClass: 'ubnt' }), '01040a000002');
  assert.equal(option43(result, { network: ip('10.0.0.0'), vendorClass: 'MSFT 5.0' }), '');
});

test("vendor-option-space: UniFi's controller per subnet, the space named by the class (an entry of both)", () => {
  const result = translate(
    [
      'option space ubnt;', // 1
      'option ubnt.unifi-address code 1 = ip-address;',
      'option ubnt.unifi-address 10.0.0.1;', // 3: global, for the class's clients elsewhere
      'class "ubnt" { match if substring (option vendor-class-identifier, 0, 4) = "ubnt"; vendor-option-space ubnt; }',
      'class "ports" { match option agent.circuit-id; vendor-option-space ubnt; }', // 5
      'subclass "ports" "p1";',
      'subclass "ports" "p2" { option ubnt.unifi-address 10.9.9.9; }', // 7: its own wins
      'subnet 10.1.0.0 netmask 255.255.255.0 { option ubnt.unifi-address 10.1.0.2; }',
      'subnet 10.2.0.0 netmask 255.255.255.0 { }',
    ].join('\n'),
  );
  assert.deepEqual(result.problems, []);
  assert.deepEqual(lines(result, 'dhcpcap'), [
    'class-ubnt:ct=ubnt*:T43.1=0x0a000001:',
    '.class-ports:T43.1=0x0a000001:',
    'class-ports-1:ci=0x7031:tc=.class-ports:',
    'class-ports-2:ci=0x7032:tc=.class-ports:T43.1=0x0a090909:',
    'subnet-10.1.0.0:nw=10.1.0.0:sm=255.255.255.0:',
    'subnet-10.2.0.0:nw=10.2.0.0:sm=255.255.255.0:',
    'class-ubnt-10.1.0.0:nw=10.1.0.0:ct=ubnt*:T43.1=0x0a010002:',
    'class-ports-1-10.1.0.0:nw=10.1.0.0:ci=0x7031:T43.1=0x0a010002:',
  ]);
  const port = (id: string) => new Map([[82, encodeOptionValue(82, [{ code: 1, data: Buffer.from(id) }])]]);
  assert.equal(option43(result, { network: ip('10.1.0.0'), vendorClass: 'ubnt' }), '01040a010002', "the subnet's");
  assert.equal(option43(result, { network: ip('10.2.0.0'), vendorClass: 'ubnt' }), '01040a000001', 'the global one');
  assert.equal(option43(result, { network: ip('10.1.0.0') }), '', 'not of the class: none');
  assert.equal(option43(result, { network: ip('10.1.0.0'), options: port('p1') }), '01040a010002');
  assert.equal(option43(result, { network: ip('10.1.0.0'), options: port('p2') }), '01040a090909');
});

test('vendor-option-space: global, with the sub-options of a subnet, typed by their declarations', () => {
  const result = translate(
    [
      'option space cisco code width 1 length width 1;', // 1
      'option cisco.tftp code 1 = array of ip-address;',
      'option cisco.name code 2 = text;',
      'option cisco.port code 3 = unsigned integer 16;',
      'option cisco.flag code 4 = boolean;', // 5
      'option cisco.hex code 5 = string;',
      'vendor-option-space cisco;',
      'subnet 10.3.0.0 netmask 255.255.255.0 {',
      '  option cisco.tftp 10.3.0.5, 10.3.0.6;',
      '  option cisco.name "call manager";', // 10
      '  option cisco.port 10;', // ten, not 0x10
      '  option cisco.flag true;',
      '  option cisco.hex "cafe";', // 13: a text that would read back as hex is written as hex
      '}',
      // 15: a whole option 43 wins over the sub-options, in dhcpd ("we weren't given a
      // vendor-encapsulated-options option, then cons one up") as in joind.
      'host h { hardware ethernet 02:00:00:00:00:09; option cisco.name "h"; option vendor-encapsulated-options 01:01:ff; }',
    ].join('\n'),
  );
  assert.deepEqual(result.problems, []);
  assert.deepEqual(lines(result, 'dhcpcap'), [
    'subnet-10.3.0.0:nw=10.3.0.0:sm=255.255.255.0:T43.1=0x0a0300050a030006:T43.2="call manager":T43.3=0x000a:T43.4=0x01:T43.5=0x63616665:',
    'h:ht=ethernet:ha="02:00:00:00:00:09":T43.2="h":vs=0x0101ff:',
  ]);
  assert.equal(
    option43(result, { network: ip('10.3.0.0') }),
    '01080a0300050a030006' + '020c' + Buffer.from('call manager').toString('hex') + '0302000a' + '040101' + '050463616665',
  );
  assert.equal(option43(result, { network: ip('10.3.0.0'), chaddr: Buffer.from('020000000009', 'hex') }), '0101ff');
});

test('sub-options joind cannot send as option 43 are reported, with why', () => {
  const result = translate(
    [
      'option space ubnt;', // 1
      'option ubnt.unifi-address code 1 = ip-address;',
      'option space ipxe;',
      'option ipxe-encap-opts code 175 = encapsulate ipxe;', // 4
      'option ipxe.no-pxedhcp code 176 = unsigned integer 8;',
      'option space wide code width 2 length width 2;', // 6
      'option nope.thing 1;', // 7: no such space
      'option ubnt.other 1;', // 8: no such sub-option
      'option ubnt.unifi-address 10.0.0.1;', // 9: no scope names ubnt
      'vendor-option-space nope;', // 10
      'class "ipxe" { match if option user-class = "iPXE"; option ipxe.no-pxedhcp 1; }', // 11
      'host h { hardware ethernet 02:00:00:00:00:01; option ubnt.unifi-address 10.0.0.2; }', // 12
      'option ubnt.unifi-address code 300 = ip-address;', // 13
    ].join('\n'),
  );
  assert.deepEqual(
    result.problems.map((p) => p.replace(/: [^:]*[;}]: /, ': ')),
    [
      "d.conf:6:1: space wide: joind's sub-options have a code and a length of one byte (code width 1 length width 1)",
      'd.conf:4:1: option 175 encapsulates space ipxe: joind sends sub-options only in option 43 (T43.N=)',
      'd.conf:13:1: expected a code from 1 to 254',
      'd.conf:7:1: space nope is not declared (option space nope;)',
      'd.conf:8:1: unknown option ubnt.other: declare it (option ubnt.other code N = TYPE;)',
      'd.conf:10:1: space nope is not declared (option space nope;)',
      'd.conf:11:53: space ipxe is not sent as option 43 here (dhcpd sends it in option 175, ipxe-encap-opts): joind sends sub-options only in option 43',
      'd.conf:12:47: space ubnt is not sent as option 43 here (no vendor-option-space ubnt; it is nope here): joind sends sub-options only in option 43',
      'd.conf:9:1: space ubnt is not sent as option 43 here (no vendor-option-space ubnt; it is nope here): joind sends sub-options only in option 43',
    ],
  );
  assert.deepEqual(lines(result, 'dhcpcap'), ['class-ipxe:uc=iPXE:', 'h:ht=ethernet:ha="02:00:00:00:00:01":']);
});

test('vendor-option-space: a class naming one space, the sub-options of another given to its network, reported', () => {
  const result = translate(
    [
      'option space ubnt;', // 1
      'option ubnt.unifi-address code 1 = ip-address;',
      'option space cisco;',
      'option cisco.tftp code 1 = ip-address;',
      'vendor-option-space cisco;', // 5
      'option cisco.tftp 10.0.0.5;',
      'class "ubnt" { match if option vendor-class-identifier = "ubnt"; vendor-option-space ubnt; option ubnt.unifi-address 10.0.0.2; }',
    ].join('\n'),
  );
  assert.deepEqual(
    result.problems.map((p) => p.replace(/: [^:]*[;}]: /, ': ')),
    [
      "d.conf:7:66: clients of the class would also get the sub-options of space cisco given outside it (dhcpd sends them only ubnt's): joind joins every T43.N that applies to a client into one option 43",
    ],
  );
  assert.deepEqual(lines(result, 'dhcpcap'), ['dhcpd-global:T43.1=0x0a000005:', 'class-ubnt:ct=ubnt:T43.1=0x0a000002:']);
});

test('option vendor-encapsulated-options code 43 = encapsulate SPACE: SPACE is sent as option 43 everywhere', () => {
  const result = translate(
    [
      'option space pxe;',
      'option vendor-encapsulated-options code 43 = encapsulate pxe;',
      'option pxe.discovery-control code 6 = unsigned integer 8;',
      'subnet 10.4.0.0 netmask 255.255.255.0 { option pxe.discovery-control 8; }',
    ].join('\n'),
  );
  assert.deepEqual(result.problems, []);
  assert.deepEqual(lines(result, 'dhcpcap'), ['subnet-10.4.0.0:nw=10.4.0.0:sm=255.255.255.0:T43.6=0x08:']);
  assert.equal(option43(result, { network: ip('10.4.0.0') }), '060108');
});

test("every option name of dhcpd's table (the export's) is read back as its code", () => {
  // The names where dhcpd and the codec's table differ were unknown to the import before they shared it.
  const result = translate(
    'subnet 10.1.0.0 netmask 255.255.255.0 {\n  option nwip-domain "corp";\n  option nisplus-domain "nis.corp";\n  option ien116-name-servers 10.1.0.9;\n}\n',
  );
  assert.deepEqual(result.problems, []);
  const entry = lines(result, 'dhcpcap').find((l) => l.startsWith('subnet-10.1.0.0:'))!;
  assert.match(entry, /:T62="?corp"?:/);
  assert.match(entry, /:T64="?nis\.corp"?:/);
  assert.match(entry, /:ns=10\.1\.0\.9:/); // option 5 has a named tag
  for (const [code, name] of DHCPD_NAMES) assert.equal(DHCPD_CODES.get(name), code, name);
});
