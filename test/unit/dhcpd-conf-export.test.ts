// `joind export --format dhcpd-conf` (src/admin/dhcpd-conf.ts) as the inverse of the import: a joind
// configuration written as a dhcpd.conf and imported again gives every client the same parameters, the
// same ranges with the same rules, and the same server statements. dhcpd's own parser checks the text
// when dhcpd is installed (config-failover.test.ts has the failover half; test/system/dhcpd-conf-import
// runs it always).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { formatDhcpdConf } from '../../src/admin/dhcpd-conf';
import { importDhcpdConf } from '../../src/admin/dhcpd-conf-import';
import { readDhcpdConf } from '../../src/admin/dhcpd-conf-reader';
import { loadConfig, formatProblem } from '../../src/config/load';
import { resolveClientParams } from '../../src/config/lookup';
import { formatTagValue } from '../../src/config/tags';
import type { ClientQuery, Config } from '../../src/config/types';
import { encodeOptionValue } from '../../src/codec/options';
import { ip, ipToString } from '../../src/util/ipv4';
import { repoRoot } from '../fixtures/config/helpers';
import { tempDir } from '../helpers/tmp';
import { dhcpdTest, findDhcpd } from '../helpers/dhcpd';

const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'dhcpd-conf');
const SELF = { hostname: 'dhcp1', addresses: [] };

function load(files: Record<string, string>): Config {
  const dir = tempDir('joind-export-conf-');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const loaded = loadConfig(dir, { self: SELF });
  if (!loaded.ok) assert.fail(loaded.problems.map(formatProblem).join('\n'));
  return loaded.config;
}

/** The configuration a dhcpd.conf text imports to (its problems must be none). */
function reimport(text: string): Config {
  const result = importDhcpdConf(readDhcpdConf('exported.conf', { readFile: () => text }), 'dhcp1');
  assert.deepEqual(result.problems, [], `the export imports without a loss:\n${text}`);
  return load(result.files);
}

/** What a client gets from a configuration, as text: every merged tag but the entry-only ones. */
function paramsOf(config: Config, q: ClientQuery): string[] {
  const tags = resolveClientParams(config.dhcpcap, q).tags;
  return [...tags]
    .filter(([tag]) => !['tc', 'sh'].includes(tag))
    .map(([tag, value]) => `${tag}=${formatTagValue(tag, value)}`)
    .sort();
}

function rangesOf(config: Config): string[] {
  return config.networks.flatMap((n) =>
    n.ourRanges.map((r) => {
      const rule = r.rule;
      const permits = rule
        ? [
            rule.knownOnly && 'kn',
            rule.unknownOnly && 'ku',
            rule.noDynamicBootp && 'nb',
            ...rule.allowMembers,
            ...rule.denyMembers.map((d) => `!${d}`),
          ]
        : [];
      return `${ipToString(r.start)}-${ipToString(r.end)} ${r.failover ?? ''} ${permits.filter(Boolean).join(',')}`;
    }),
  );
}

/** The clients of the site fixture: plain ones per network, the class members, the hosts. */
function siteClients(): Array<{ why: string; q: ClientQuery }> {
  const mac = (last: number): Buffer => Buffer.from([2, 0, 0, 0, 0, last]);
  const options = (pairs: Array<[number, Buffer]>): Map<number, Buffer> => new Map(pairs);
  return [
    { why: 'plain on 10.20.1', q: { network: ip('10.20.1.0'), htype: 1, chaddr: mac(1) } },
    { why: 'plain on 10.20.2', q: { network: ip('10.20.2.0'), htype: 1, chaddr: mac(2) } },
    { why: 'PXE', q: { network: ip('10.20.1.0'), htype: 1, chaddr: mac(3), vendorClass: 'PXEClient:Arch:00000' } },
    {
      why: 'iPXE',
      q: { network: ip('10.20.1.0'), htype: 1, chaddr: mac(4), options: options([[77, Buffer.from('iPXE')]]) },
    },
    {
      why: 'desk phone port',
      q: {
        network: ip('10.20.1.0'),
        htype: 1,
        chaddr: mac(5),
        options: options([[82, encodeOptionValue(82, [{ code: 1, data: Buffer.from('ge-0/0/1.0') }])]]),
      },
    },
    { why: 'printer-1', q: { network: ip('10.20.1.0'), htype: 1, chaddr: Buffer.from('001ba9123456', 'hex') } },
    { why: 'kiosk', q: { network: ip('10.20.2.0'), htype: 1, chaddr: mac(6), clientId: Buffer.from('kiosk-01') } },
  ];
}

test('the site fixture, imported, exported and imported again: the same parameters, ranges and rules', () => {
  const first = importDhcpdConf(readDhcpdConf(path.join(FIXTURES, 'site.conf')), 'dhcp1');
  const config = load(first.files);
  const text = formatDhcpdConf(config);
  // Pieces of the text, as dhcpd reads them.
  assert.match(text, /^option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;$/m);
  assert.match(text, /^class "pxe" \{\n {2}match if substring\(option vendor-class-identifier, 0, 9\) = "PXEClient";\n\}$/m);
  assert.match(text, /^shared-network "building-a" \{\n {2}subnet 10\.20\.1\.0 netmask 255\.255\.255\.0 \{$/m);
  assert.match(text, / {4}pool \{\n {6}deny unknown-clients;\n {6}range 10\.20\.1\.100 10\.20\.1\.199;\n {4}\}/);
  assert.match(text, / {4}pool \{\n {6}allow members of "pxe";\n {6}range 10\.20\.1\.200 10\.20\.1\.220;\n {4}\}/);
  assert.match(text, /^host printer-1 \{\n {2}hardware ethernet 00:1b:a9:12:34:56;\n {2}fixed-address 10\.20\.1\.20;$/m);
  assert.match(text, /^ddns-update-style interim;$/m);

  const again = reimport(text);
  for (const { why, q } of siteClients()) assert.deepEqual(paramsOf(again, q), paramsOf(config, q), why);
  assert.deepEqual(
    rangesOf(again).map((r) => r.replace(/class-/g, '')),
    rangesOf(config).map((r) => r.replace(/class-/g, '')),
  );
  for (const key of ['default_ttl', 'ignore_client_uids', 'ping_timeout', 'name_service_updateable', 'ddns_style'] as const)
    assert.equal(again.policy[key], config.policy[key], key);
  assert.equal(again.sharedNetworks.get(ip('10.20.1.0'))?.length, 2);
  // A fixed point: exported again, the same text.
  assert.equal(formatDhcpdConf(again), text);
});

test('a joind configuration of its own: DNS with a key, options dhcpd has no name for, failover, hosts', () => {
  const config = load({
    'server.pcy': [
      'default_ttl 7200',
      'ping_timeout 0',
      'dynamic_bootp',
      'name_service_updateable on',
      'ddns_server 10.1.0.53',
      'ddns_key_file ddns.key',
      '',
    ].join('\n'),
    'ddns.key': 'key "ddns-key" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNDU2Nzg=";\n};\n',
    netmasks: '10.1.0.0 255.255.255.0\n',
    nets: '10.1.0.0 dhcp1 10.1.0.10-10.1.0.99\n',
    dhcpcap: [
      '.site:dn=lab.example:ds=10.1.0.53:',
      'net1:nw=10.1.0.0:gw=10.1.0.1:lt=600:lx=3600:tf=10.1.0.5:wp="http://wpad.lab.example/wpad.dat":T224=0xcafe:tc=.site:',
      'phones:ct="Polycom*":T43.1="cfg":T43.2=0x0102:fo=43:',
      'guests:nw=10.1.0.0:ra=10.1.0.50-10.1.0.59:ku:nb:dm=phones:',
      'desk:ht=1:ha=020000000007:ip=10.1.0.7:ho=desk:hn:bf=desk.cfg:sa=10.1.0.5:',
      '',
    ].join('\n'),
  });
  const text = formatDhcpdConf(config);
  assert.match(text, /^key "ddns-key" \{\n {2}algorithm hmac-sha256;\n {2}secret "c2VjcmV0/m);
  assert.match(text, /^zone lab\.example\. \{\n {2}primary 10\.1\.0\.53;\n {2}key "ddns-key";\n\}$/m);
  assert.match(text, /^option joind-option-224 code 224 = string;$/m);
  assert.match(text, /^ {2}option joind-option-224 ca:fe;$/m);
  assert.match(text, /^ {2}option vendor-encapsulated-options 01:03:63:66:67:02:02:01:02;$/m);
  assert.match(text, /^ {2}range dynamic-bootp 10\.1\.0\.10 10\.1\.0\.49;$/m);
  assert.match(
    text,
    / {2}pool \{\n {4}deny known-clients;\n {4}deny dynamic bootp clients;\n {4}deny members of "phones";\n {4}range 10\.1\.0\.50 10\.1\.0\.59;/,
  );
  const again = reimport(text);
  const q = (extra: Partial<ClientQuery>): ClientQuery => ({
    network: ip('10.1.0.0'),
    htype: 1,
    chaddr: Buffer.alloc(6, 9),
    ...extra,
  });
  for (const [why, query] of [
    ['plain', q({})],
    ['a phone', q({ vendorClass: 'Polycom-VVX' })],
    ['desk', q({ chaddr: Buffer.from('020000000007', 'hex') })],
  ] as const) {
    const was = paramsOf(config, query);
    const is = paramsOf(again, query);
    // A vendor's sub-options come back as the whole option 43 they are sent as, and the import writes
    // the subnet's mask as sm, which joind otherwise sends from netmasks.
    const whole = (list: string[]): string[] =>
      list.filter((t) => !t.startsWith('T43.') && !t.startsWith('vs=') && t !== 'sm=255.255.255.0');
    assert.deepEqual(whole(is), whole(was), why);
  }
  assert.deepEqual(
    rangesOf(again),
    rangesOf(config).map((r) => r.replace('!phones', '!class-phones')),
  );
  assert.equal(again.ddnsKey?.name, 'ddns-key');
  assert.equal(again.policy.ddns_server?.replace(/:53$/, ''), '10.1.0.53'); // the import names the port
});

test('dhcpd -t accepts the export of the site fixture', (t) => {
  const dhcpd = findDhcpd();
  if (!dhcpd) {
    t.skip('dhcpd not installed (test/system/dhcpd-conf-import checks it)');
    return;
  }
  const first = importDhcpdConf(readDhcpdConf(path.join(FIXTURES, 'site.conf')), 'dhcp1');
  const r = dhcpdTest(dhcpd, formatDhcpdConf(load(first.files)));
  assert.ok(r.ok, r.output);
});

test("another server's ranges are named in a comment, not given to dhcpd", () => {
  const text = formatDhcpdConf(
    load({
      netmasks: '10.1.0.0 255.255.255.0\n',
      nets: '10.1.0.0 dhcp1 10.1.0.10-10.1.0.49\n10.1.0.0 dhcp2 10.1.0.50-10.1.0.99\n',
    }),
  );
  assert.match(text, /^ {2}range 10\.1\.0\.10 10\.1\.0\.49;$/m);
  assert.doesNotMatch(text, /range 10\.1\.0\.50/);
  assert.match(text, /^ {2}# joind: 10\.1\.0\.50-10\.1\.0\.99 is dhcp2's \(nets:2\), not this host's$/m);
});
