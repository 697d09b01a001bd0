import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLICY, parsePolicy, readPolicy } from '../../src/config/pcy';
import { brief, sinkFor, tempFile, configDir } from '../fixtures/config/helpers';
import * as path from 'node:path';

function parse(text: string) {
  const { sink, problems } = sinkFor('server.pcy');
  const result = parsePolicy(text, problems);
  return { ...result, problems: sink.items };
}

test('server.pcy: a missing file gives every default and no problem', () => {
  const { sink, problems } = sinkFor();
  const dir = configDir({});
  const result = readPolicy(path.join(dir, 'server.pcy'), problems);
  assert.deepEqual(result.policy, { ...DEFAULT_POLICY });
  assert.equal(sink.items.length, 0);
  assert.ok(Object.values(result.sources).every((s) => s === 'default'));
});

test('server.pcy: the documented defaults', () => {
  const { policy } = parse('');
  assert.equal(policy.provisional_ttl, 60);
  assert.equal(policy.free_list_size, 8);
  assert.equal(policy.default_ttl, 86400);
  assert.equal(policy.name_service, 'dns');
  assert.equal(policy.assign_name_by_ipaddr, true);
  assert.equal(policy.assign_name_by_hwaddr, false);
  assert.equal(policy.support_bootp, true);
  assert.equal(policy.dynamic_bootp, false);
  assert.equal(policy.ping_timeout, 500);
  assert.equal(policy.auto_reread, true);
  assert.equal(policy.auto_sync_dbs, true);
  assert.equal(policy.send_options_in_offer, true);
  assert.equal(policy.canonical_name, null);
  assert.equal(policy.min_bootp_packet_size, 300);
  assert.equal(policy.transport, 'auto');
  assert.equal(policy.metrics_listen, '127.0.0.1:9267');
  assert.equal(policy.rate_limit_per_interface, 0);
  assert.equal(policy.rate_limit_per_relay, 0);
});

test('server.pcy: values, bare Booleans, explicit on/off words, comments and sources', () => {
  const text = [
    '# a comment line',
    '',
    'default_ttl 43200   # trailing comment',
    '\tprovisional_ttl\t120',
    'support_bootp OFF',
    'auto_release',
    'auto_sync_dbs no',
    'ping_timeout 0#no blank before the comment',
    'name_service NIS+',
    'canonical_name lab.example.com',
    'transport udp',
    'metrics_listen [::1]:9100',
    'rate_limit_per_interface 500',
    'rate_limit_per_relay 250',
    'force_broadcast_reply TRUE',
    'ignore_hardware_type 1',
    'listen_on_ppp yes',
    'auto_reread false',
    'send_options_in_offer 0',
  ].join('\n');
  const { policy, sources, problems } = parse(text);
  // Two of these are accepted but do nothing yet (config-effect.test.ts has the details).
  assert.deepEqual(
    brief(problems).map((p) => p.replace(/ is accepted but has no effect yet: .*/, ' …')),
    ['warning 9:1 name_service nis+ …', 'warning 17:1 listen_on_ppp …'],
  );
  assert.equal(policy.default_ttl, 43200);
  assert.equal(sources.default_ttl, 'server.pcy:3');
  assert.equal(policy.provisional_ttl, 120);
  assert.equal(policy.support_bootp, false);
  assert.equal(sources.support_bootp, 'server.pcy:5');
  assert.equal(policy.auto_release, true);
  assert.equal(policy.auto_sync_dbs, false);
  assert.equal(policy.ping_timeout, 0);
  assert.equal(policy.name_service, 'nis+');
  assert.equal(policy.canonical_name, 'lab.example.com');
  assert.equal(policy.transport, 'udp');
  assert.equal(policy.metrics_listen, '[::1]:9100');
  assert.equal(policy.rate_limit_per_interface, 500);
  assert.equal(policy.rate_limit_per_relay, 250);
  assert.equal(policy.force_broadcast_reply, true);
  assert.equal(policy.ignore_hardware_type, true);
  assert.equal(policy.listen_on_ppp, true);
  assert.equal(policy.auto_reread, false);
  assert.equal(policy.send_options_in_offer, false);
  assert.equal(sources.free_list_size, 'default');
});

test('server.pcy: both spellings of the renamed switches; the last occurrence wins', () => {
  const { policy, sources, problems } = parse(
    'bootp_addr_from_pool\nregistered_hosts_only on\ndynamic_bootp off\nfree_list_size 4\nfree_list_size 16\n',
  );
  assert.equal(policy.dynamic_bootp, false);
  assert.equal(sources.dynamic_bootp, 'server.pcy:3');
  assert.equal(policy.registered_clients_only, true);
  assert.equal(policy.free_list_size, 16);
  assert.equal(sources.free_list_size, 'server.pcy:5');
  assert.deepEqual(brief(problems), [
    'warning 3:1 dynamic_bootp repeats bootp_addr_from_pool of line 1; the last one wins',
    'warning 5:1 free_list_size repeats free_list_size of line 4; the last one wins',
  ]);
});

test('server.pcy: keywords are matched case-insensitively; unknown ones are warnings', () => {
  const { policy, problems } = parse('Support_BOOTP off\n  no_such_keyword 5\n');
  assert.equal(policy.support_bootp, false);
  assert.deepEqual(brief(problems), ['warning 2:3 unknown keyword "no_such_keyword" ignored']);
});

test('server.pcy: values that do not fit are errors at their line and column, with what was expected', () => {
  const text = [
    'free_list_size abc', // 1
    'default_ttl -5', // 2
    'support_bootp maybe', // 3
    'ping_timeout', // 4
    'name_service ldap', // 5
    'provisional_ttl 0', // 6
    'metrics_listen localhost', // 7
    'transport   raw udp', // 8
    'canonical_name bad_name!', // 9
    'min_bootp_packet_size 1000', // 10
    'bp_auto_extension 1.5', // 11
  ].join('\n');
  const { problems, policy } = parse(text);
  assert.deepEqual(brief(problems), [
    'error 1:16 "abc" does not fit free_list_size: expected a whole number of address blocks from 1 to 1048576',
    'error 2:13 "-5" does not fit default_ttl: expected a whole number of seconds from 1 to 4294967295',
    'error 3:15 "maybe" does not fit support_bootp: expected support_bootp alone (on) or followed by on|off|yes|no|true|false|1|0',
    'error 4:13 ping_timeout needs a value: expected a whole number of milliseconds from 0 to 2147483647',
    'error 5:14 "ldap" does not fit name_service: expected one of dns, local, nis, nis+',
    'error 6:17 "0" does not fit provisional_ttl: expected a whole number of seconds from 1 to 4294967295',
    'error 7:16 "localhost" does not fit metrics_listen: expected host:port (for example 127.0.0.1:9267 or [::1]:9267), or off',
    'error 8:17 unexpected "udp": transport takes one value; expected one of raw, udp, auto',
    'error 9:16 "bad_name!" does not fit canonical_name: expected a host name',
    'error 10:23 "1000" does not fit min_bootp_packet_size: expected a whole number of bytes from 0 to 576',
    'error 11:19 "1.5" does not fit bp_auto_extension: expected a whole number of seconds from 0 to 4294967295',
  ]);
  assert.equal(policy.free_list_size, 8, 'a bad value leaves the default');
});

test('server.pcy: naming switches that exclude or need each other', () => {
  const implied = parse('assign_name_by_hwaddr\n');
  assert.equal(implied.policy.assign_name_by_hwaddr, true);
  assert.equal(implied.policy.assign_name_by_ipaddr, false, 'by-hwaddr replaces the default by-ipaddr');
  assert.equal(implied.sources.assign_name_by_ipaddr, 'server.pcy:1');
  assert.deepEqual(brief(implied.problems), []);

  const both = parse('assign_name_by_ipaddr on\nassign_name_by_hwaddr on\n');
  assert.deepEqual(brief(both.problems), [
    'error 2:1 assign_name_by_hwaddr and assign_name_by_ipaddr exclude each other; switch one off',
  ]);

  const needs = parse('accept_client_name\nsupport_bootp off\ndynamic_bootp\n');
  assert.deepEqual(brief(needs.problems), [
    'warning 1:1 accept_client_name has no effect without assign_name_by_hwaddr',
    'warning 3:1 dynamic_bootp has no effect while support_bootp is off',
  ]);
});

test('server.pcy: metrics_listen off and an unreadable file', () => {
  assert.equal(parse('metrics_listen off').policy.metrics_listen, 'off');
  const { sink, problems } = sinkFor();
  const file = tempFile('server.pcy', 'x');
  const dir = path.dirname(file);
  const result = readPolicy(dir, problems); // a directory cannot be read as a file
  assert.equal(result.policy.default_ttl, 86400);
  assert.equal(sink.items.length, 1);
  assert.equal(sink.items[0]!.severity, 'error');
  assert.match(sink.items[0]!.message, /cannot read the policy file/);
});
