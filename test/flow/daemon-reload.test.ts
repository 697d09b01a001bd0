// What the joind process says about settings it reads but does not apply: a keyword that is not
// implemented yet (CONFIG_PROBLEM at start and at every reload, and on stderr of --check), and a
// restart-only keyword changed by a reload (CONFIG_NEEDS_RESTART, each reload until it is undone).
// Real process, loopback only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BASE_FILES, writeConfig } from './harness';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const PCY = 'ping_timeout 0\nmetrics_listen off\nlisten_on_ppp\n';

function events(log: string, msgId: string): Array<Record<string, unknown>> {
  return log
    .split('\n')
    .filter((line) => line.includes(`"msgId":"${msgId}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('joind --check: a no-op keyword is a warning with file:line:column on stderr; restartOnly in the JSON', () => {
  const configDir = writeConfig({ ...BASE_FILES, 'server.pcy': PCY });
  const r = spawnSync(process.execPath, [MAIN, '--check', '--config-dir', configDir], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`^${path.join(configDir, 'server.pcy')}:3:1: warning: listen_on_ppp is accepted but has no effect yet: `, 'm'),
  );
  const effective = JSON.parse(r.stdout) as { restartOnly: string[] };
  assert.deepEqual(effective.restartOnly, [
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

test('daemon: no-op keywords are logged at start and at each reload; a changed restart-only keyword is named each reload until undone', async () => {
  const configDir = writeConfig({ ...BASE_FILES, 'server.pcy': PCY });
  const spoolDir = tempDir('joind-reload-spool-');
  let log = '';
  const child = spawn(
    process.execPath,
    [MAIN, '-f', '-l', '2', '--config-dir', configDir, '--spool-dir', spoolDir, '--port', '0', '--bind', '127.0.0.1'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // (The test's nets are owned by an address this host may not have: that warning is not counted.)
  const ppp = (): Array<Record<string, unknown>> =>
    events(log, 'CONFIG_PROBLEM').filter((e) => String(e.problem).includes('listen_on_ppp'));
  const reloads = (): number => events(log, 'CONFIG_RELOADED').length;
  const hup = async (): Promise<void> => {
    const before = reloads();
    child.kill('SIGHUP');
    await waitFor(() => String(reloads()), new RegExp(`^${before + 1}$`));
  };
  try {
    await waitFor(() => log, /"JOIND_STARTED"/);
    const atStart = ppp();
    assert.equal(atStart.length, 1, log);
    assert.match(String(atStart[0]!.problem), /server\.pcy:3:1: warning: listen_on_ppp is accepted but has no effect yet: /);
    assert.equal(atStart[0]!.level, 40, 'logged as a warning');

    const pcy = path.join(configDir, 'server.pcy');
    fs.writeFileSync(pcy, `${PCY}auto_sync_dbs off\ndefault_ttl 60\n`);
    await hup();
    assert.equal(ppp().length, 2, 'the warning again at the reload');
    const needs = events(log, 'CONFIG_NEEDS_RESTART');
    assert.equal(needs.length, 1, log);
    assert.equal(needs[0]!.level, 40);
    assert.equal(needs[0]!.keyword, 'auto_sync_dbs');
    assert.equal(needs[0]!.running, true);
    assert.equal(needs[0]!.configured, false);
    assert.equal(needs[0]!.source, `${pcy}:4`);

    await hup();
    assert.equal(events(log, 'CONFIG_NEEDS_RESTART').length, 2, 'still not in force: said again');

    fs.writeFileSync(pcy, `${PCY}default_ttl 60\n`);
    await hup();
    assert.equal(events(log, 'CONFIG_NEEDS_RESTART').length, 2, 'back to the running value: nothing to say');
    assert.equal(ppp().length, 4);

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
