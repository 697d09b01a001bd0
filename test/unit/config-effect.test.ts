// What a setting does once read (src/config/effect.ts): keywords and tags that are accepted but do
// nothing yet warn where they are written; restart-only keywords are named when a reload changes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeConfig, formatProblem, loadConfig } from '../../src/config/load';
import { NOT_IMPLEMENTED, RESTART_ONLY, applyOnReload, settingsNeedingRestart, tagNotImplemented } from '../../src/config/effect';
import { DEFAULT_POLICY, parsePolicy } from '../../src/config/pcy';
import { parseDhcpcap } from '../../src/config/dhcpcap';
import type { Config, LoadResult } from '../../src/config/types';
import { ip } from '../../src/util/ipv4';
import { brief, configDir, repoRoot, sinkFor } from '../fixtures/config/helpers';

const SELF = { hostname: 'dhcphost', addresses: [ip('10.1.0.1')] };
const BASE = {
  netmasks: '10.1.0.0 255.255.255.0\n',
  nets: '10.1.0.0 dhcphost 10.1.0.100-10.1.0.199\n',
  dhcpcap: 'net1:nw=10.1.0.0:sm=255.255.255.0:gw=10.1.0.1:lt=600:\n',
};

function load(files: Record<string, string>): LoadResult {
  return loadConfig(configDir({ ...BASE, ...files }), { self: SELF });
}

function loaded(files: Record<string, string>): Config {
  const result = load(files);
  if (!result.ok) assert.fail(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

/** "basename:line:column: severity: message", as joind --check prints it but without the directory. */
function located(result: LoadResult): string[] {
  const problems = result.ok ? result.warnings : result.problems;
  return problems.map((p) => formatProblem({ ...p, file: path.basename(p.file) }));
}

function pcy(text: string): string[] {
  const { sink, problems } = sinkFor('server.pcy');
  parsePolicy(text, problems);
  return brief(sink.items);
}

function cap(text: string): string[] {
  const { sink, problems } = sinkFor('dhcpcap');
  parseDhcpcap(text, problems);
  return brief(sink.items);
}

test('not implemented: each keyword and tag warns with its file:line:column, through loadConfig (what --check and the daemon print)', () => {
  const result = load({
    'server.pcy': [
      'default_ttl 3600', // 1
      'listen_on_ppp', // 2
      '  name_service nis', // 3
      'name_service_updateable on', // 4 (without ddns_server: each zone's primary master, no warning)
      'ddns_style interim', // 5 (written since issue 15: no warning)
    ].join('\n'),
    dhcpcap: [
      'net1:nw=10.1.0.0:sm=255.255.255.0:uc=lab:', // 1 (a class since issue 16: no warning)
      'boot:ht=1:ha=020000000001:ip=10.1.0.9:\\', // 2
      '\t:bs=auto:mm=1500:', // 3
    ].join('\n'),
  });
  assert.ok(result.ok, 'warnings only: the configuration loads');
  assert.deepEqual(located(result), [
    'server.pcy:2:1: warning: listen_on_ppp is accepted but has no effect yet: the served interfaces are chosen without it: the raw transport serves interfaces that have an Ethernet address (or those named with -i), the udp transport hears every interface',
    'server.pcy:3:3: warning: name_service nis is accepted but has no effect yet: names are always looked up through the system resolver (getaddrinfo/getnameinfo: /etc/hosts and DNS as nsswitch.conf orders them); only dns, the default, describes what happens',
    "dhcpcap:3:3: warning: bs=auto is accepted but has no effect yet: the boot file's size is not worked out, so option 13 is left out; write the size in 512-byte blocks",
    "dhcpcap:3:11: warning: mm (maximum DHCP message size) is accepted but has no effect yet: a reply's size limit is the client's own option 57 (576 bytes without it); mm is neither sent nor used",
  ]);
  assert.ok(result.ok && result.config.warnings.length === 4, 'the snapshot carries them too (the daemon logs those)');
});

test('not implemented: every row of the table warns when written with a value that does something else than the default', () => {
  const sample: Record<string, string> = { name_service: 'nis+' };
  // Keywords that need others to be valid (none in the table now; failover's and ddns_style were).
  const companions: Record<string, string[]> = {};
  const lines: string[] = [];
  const expected: string[] = [];
  for (const row of NOT_IMPLEMENTED) {
    if (!('keyword' in row)) continue;
    const value = sample[row.keyword] ?? (typeof DEFAULT_POLICY[row.keyword] === 'boolean' ? 'on' : undefined);
    assert.ok(value !== undefined, `the test knows a value for ${row.keyword}`);
    lines.push(`${row.keyword} ${value}`);
    expected.push(`${lines.length}:${row.keyword}`);
    lines.push(...(companions[row.keyword] ?? []));
  }
  const problems = pcy(lines.join('\n'));
  assert.deepEqual(
    problems.map((p) => /^warning (\d+):1 (\w+)/.exec(p)?.slice(1).join(':')),
    expected,
  );
  for (const row of NOT_IMPLEMENTED)
    if ('keyword' in row)
      assert.ok(
        problems.some((p) => p.endsWith(`has no effect yet: ${row.reason}`)),
        row.keyword,
      );

  for (const row of NOT_IMPLEMENTED) {
    if (!('tag' in row)) continue;
    const value = row.values?.[0] ?? (row.tag === 'mm' ? '1500' : 'x');
    const warnings = cap(`e:${row.tag}=${value}:`);
    assert.equal(warnings.length, 1, `${row.tag}=${value}: ${warnings.join(' / ')}`);
    assert.match(warnings[0]!, new RegExp(`^warning 1:3 ${row.tag}\\b.* is accepted but has no effect yet: `));
    assert.ok(warnings[0]!.endsWith(row.reason), warnings[0]);
  }
});

test('not implemented: the default value, a cancelled tag or another value of a partly implemented tag does not warn', () => {
  assert.deepEqual(pcy('listen_on_ppp off\nname_service dns\nname_service_updateable no\ndns_tracks_dhcp_lease 0\n'), []);
  assert.deepEqual(cap('.t:mm=1500:\ne:bs=12:mm@:tc=.t:\n').length, 1, 'mm in the template warns once, where it is written');
  assert.deepEqual(cap('e:bs=12:to=auto:'), [], 'bs with a size and to=auto do something');
  assert.equal(tagNotImplemented('bs', 'boot file size', 12), undefined);
  assert.equal(tagNotImplemented('gw', 'routers', [1]), undefined);
});

test('not implemented: the last occurrence of a keyword decides, and its line is named', () => {
  assert.deepEqual(pcy('listen_on_ppp\nlisten_on_ppp off\n'), [
    'warning 2:1 listen_on_ppp repeats listen_on_ppp of line 1; the last one wins',
  ]);
  const later = pcy('name_service dns\nname_service local\n');
  assert.equal(later.length, 2);
  assert.match(later[1]!, /^warning 2:1 name_service local is accepted but has no effect yet/);
});

test('not implemented: a configuration without such keywords and tags loads with no warning', () => {
  const result = load({
    'server.pcy': 'default_ttl 3600\nping_timeout 0\nauto_release\ntransport udp\nname_service dns\n',
    dhcpcap:
      '.site:dn=lab.example:ds=10.1.0.2:\nnet1:nw=10.1.0.0:sm=255.255.255.0:gw=10.1.0.1:bs=4:to=auto:tc=.site:\n' +
      'h:ht=ether:ha=020000000001:ip=10.1.0.9:\n',
  });
  assert.deepEqual(located(result), []);
});

test('etc/: the sample configuration uses no keyword or tag that is not implemented (npm run demo logs no such warning)', () => {
  const dir = path.join(repoRoot(), 'etc');
  const result = loadConfig(dir, { self: { hostname: 'lab', addresses: [ip('10.77.1.1'), ip('10.77.2.1')] } });
  assert.deepEqual(located(result), []);
  const text = fs.readFileSync(path.join(dir, 'server.pcy'), 'utf8');
  for (const row of NOT_IMPLEMENTED) {
    if ('keyword' in row) assert.doesNotMatch(text, new RegExp(`^\\s*${row.keyword}\\b`, 'm'), `${row.keyword} is commented out`);
  }
});

test('combinations: switches that do nothing without another one warn', () => {
  assert.deepEqual(
    pcy('support_bootp off\ncheck_bootp_client_net\nping_bootp_clients\nexpand_bootp_packet\nmin_bootp_packet_size 200\n'),
    [
      'warning 2:1 check_bootp_client_net has no effect while support_bootp is off',
      'warning 3:1 ping_bootp_clients has no effect while support_bootp is off',
      'warning 4:1 expand_bootp_packet has no effect while support_bootp is off',
      'warning 5:1 min_bootp_packet_size has no effect while support_bootp is off',
    ],
  );
  assert.deepEqual(pcy('ping_timeout 0\nping_bootp_clients\n'), [
    'warning 2:1 ping_bootp_clients has no effect while ping_timeout is 0 (no ping)',
  ]);
  assert.deepEqual(pcy('ping_timeout 200\nping_bootp_clients\ncheck_bootp_client_net\n'), []);
  assert.deepEqual(pcy('control_token_file /etc/join/token\n'), [
    'warning 1:1 control_token_file has no effect without control_listen',
  ]);
  assert.deepEqual(pcy('control_listen 127.0.0.1:9300\n'), [
    'warning 1:1 control_listen has no effect without control_token_file: the TCP listener needs a token and stays off',
  ]);
  assert.deepEqual(pcy('control_listen 127.0.0.1:9300\ncontrol_token_file /etc/join/token\n'), []);
});

test('dhcpcap: an ht without an ha in the same entry warns (ha must follow ht, so it can never take part)', () => {
  assert.deepEqual(
    cap('.hosts:ht=ether:dn=x.example:\nnet:nw=10.1.0.0:ht=1:\nok:ht=1:ha=020000000001:\ncancel:ht@:tc=.hosts:\n'),
    [
      'warning 1:8 ht without an ha in the same entry has no effect (an entry applies to one client by ht and ha together)',
      'warning 2:17 ht without an ha in the same entry has no effect (an entry applies to one client by ht and ha together)',
    ],
  );
});

test('settingsNeedingRestart: the restart-only keywords whose effective value differs, and nothing else', () => {
  const running = loaded({ 'server.pcy': 'ping_timeout 0\n' });
  assert.deepEqual(settingsNeedingRestart(running, running), []);
  assert.deepEqual(settingsNeedingRestart(running, loaded({ 'server.pcy': 'ping_timeout 0\n' })), [], 'same files');
  // Writing a default explicitly changes nothing in effect.
  const explicit = loaded({
    'server.pcy':
      'ping_timeout 0\ntransport auto\nauto_sync_dbs on\nmetrics_listen 127.0.0.1:9267\ncontrol_socket\ncontrol_listen off\n',
  });
  assert.deepEqual(settingsNeedingRestart(running, explicit), []);
  // Everything that applies on reload: no restart.
  const reloadable = loaded({
    'server.pcy': [
      'ping_timeout 300',
      'default_ttl 60',
      'provisional_ttl 5',
      'free_list_size 2',
      'rate_limit_per_interface 100',
      'rate_limit_per_relay 100',
      'support_bootp off',
      'registered_clients_only',
      'auto_reread off',
      'canonical_name other.example',
    ].join('\n'),
    dhcpcap: 'net1:nw=10.1.0.0:lt=60:\n',
    nets: '10.1.0.0 dhcphost 10.1.0.100-10.1.0.120\n',
  });
  assert.deepEqual(settingsNeedingRestart(running, reloadable), []);
  const all = loaded({
    'server.pcy': [
      'ping_timeout 0',
      'transport udp',
      'auto_sync_dbs off',
      'metrics_listen off',
      'control_socket off',
      'control_listen 127.0.0.1:9300',
      'control_token_file /etc/join/token',
      'failover pair',
      'failover_role primary',
      'failover_address 10.1.0.1',
      'failover_port 519',
      'failover_peer_address 10.1.0.2',
      'failover_peer_port 519',
      'failover_max_response_delay 60',
      'failover_max_unacked_updates 10',
      'failover_mclt 3660',
      'failover_split 128',
      'failover_load_balance_max_secs 3',
      'failover_ack_wait 0',
      'failover_unacked_clients 3',
      'failover_unacked_secs 5',
      'failover_auto_partner_down 600',
      'failover_start_alone on',
    ].join('\n'),
    nets: '10.1.0.0 pair 10.1.0.100-10.1.0.199\n',
  });
  assert.deepEqual(settingsNeedingRestart(running, all), [
    'transport',
    'auto_sync_dbs',
    'metrics_listen',
    'control_socket',
    'control_listen',
    'control_token_file',
    'failover',
    'failover_role',
    'failover_address',
    'failover_port',
    'failover_peer_address',
    'failover_peer_port',
    'failover_max_response_delay',
    'failover_max_unacked_updates',
    'failover_mclt',
    'failover_split',
    'failover_load_balance_max_secs',
    'failover_ack_wait',
    'failover_unacked_clients',
    'failover_unacked_secs',
    'failover_auto_partner_down',
    'failover_start_alone',
  ]);
  assert.deepEqual(settingsNeedingRestart(all, running), [...RESTART_ONLY.keys()], 'both ways');
  assert.deepEqual(settingsNeedingRestart(running, loaded({ 'server.pcy': 'ping_timeout 0\nmetrics_listen 127.0.0.1:9999\n' })), [
    'metrics_listen',
  ]);
});

test('applyOnReload: a changed restart-only setting is named each reload and keeps its running value until a restart', () => {
  const started = loaded({ 'server.pcy': 'ping_timeout 0\n' });
  const edited = loaded({ 'server.pcy': 'ping_timeout 0\ndefault_ttl 60\nauto_sync_dbs off\n' });
  const first = applyOnReload(started, edited);
  assert.deepEqual(first.notices, [
    { keyword: 'auto_sync_dbs', running: true, configured: false, source: `${edited.dir}/server.pcy:3` },
  ]);
  assert.equal(first.config.policy.auto_sync_dbs, true, 'what is in force');
  assert.equal(first.config.policySources.auto_sync_dbs, 'default');
  assert.equal(first.config.policy.default_ttl, 60, 'reloadable settings apply');
  assert.equal(first.config.dhcpcap, edited.dhcpcap);
  assert.ok(Object.isFrozen(first.config) && Object.isFrozen(first.config.policy));

  const again = applyOnReload(first.config, edited);
  assert.deepEqual(
    again.notices.map((n) => n.keyword),
    ['auto_sync_dbs'],
    'a second reload of the same files says it again',
  );
  const reverted = applyOnReload(first.config, loaded({ 'server.pcy': 'ping_timeout 0\nauto_sync_dbs on\n' }));
  assert.deepEqual(reverted.notices, [], 'back to the running value: nothing to restart for');

  const unchanged = applyOnReload(started, loaded({ 'server.pcy': 'ping_timeout 0\ndefault_ttl 60\n' }));
  assert.deepEqual(unchanged.notices, []);
  assert.equal(unchanged.config.policy.default_ttl, 60);
});

test('joind --check: describeConfig lists the restart-only keywords', () => {
  const described = describeConfig(loaded({})) as { restartOnly: string[] };
  assert.deepEqual(described.restartOnly, [
    'transport',
    'auto_sync_dbs',
    'metrics_listen',
    'control_socket',
    'control_listen',
    'control_token_file',
    'failover',
    'failover_role',
    'failover_address',
    'failover_port',
    'failover_peer_address',
    'failover_peer_port',
    'failover_max_response_delay',
    'failover_max_unacked_updates',
    'failover_mclt',
    'failover_split',
    'failover_load_balance_max_secs',
    'failover_ack_wait',
    'failover_unacked_clients',
    'failover_unacked_secs',
    'failover_auto_partner_down',
    'failover_start_alone',
  ]);
});

test('docs/server.pcy.md and docs/dhcpcap.md name every restart-only keyword and every keyword or tag not implemented yet', () => {
  const pcyDoc = fs.readFileSync(path.join(repoRoot(), 'docs', 'server.pcy.md'), 'utf8');
  const restart = /## RELOAD\n([\s\S]*?)\n## /.exec(pcyDoc)?.[1] ?? '';
  for (const key of RESTART_ONLY.keys()) assert.match(restart, new RegExp(`\`${key}\``), `${key} in RELOAD`);
  assert.equal((restart.match(/^\| `\w+` \|/gm) ?? []).length, RESTART_ONLY.size, 'the restart table has one row per keyword');
  const notYet = /## NOT IMPLEMENTED YET\n([\s\S]*?)\n## /.exec(pcyDoc)?.[1] ?? '';
  const capDoc = fs.readFileSync(path.join(repoRoot(), 'docs', 'dhcpcap.md'), 'utf8');
  const capNotYet = /## NOT IMPLEMENTED YET\n([\s\S]*?)(\n## |$)/.exec(capDoc)?.[1] ?? '';
  for (const row of NOT_IMPLEMENTED) {
    if ('keyword' in row) assert.match(notYet, new RegExp(`\`${row.keyword}\``), row.keyword);
    else assert.match(capNotYet, new RegExp(`\`${row.tag}${row.values ? `=${row.values[0]}` : ''}\``), row.tag);
  }
});
