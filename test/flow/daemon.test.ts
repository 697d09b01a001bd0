// The joind process: command line, SIGHUP and auto_reread with a broken file (the running
// configuration stays), SIGTERM (orderly stop, pid file removed). Real process, loopback only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BASE_FILES, writeConfig } from './harness';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';

const MAIN = path.resolve(__dirname, '../../src/cli/main.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('command line: wrong arguments give one line and exit 2; --check prints JSON and exits 0, or lists problems and exits 1', () => {
  for (const bad of [['--bogus'], ['-d', 'x'], ['-t'], ['extra']]) {
    const r = run(bad);
    assert.equal(r.status, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^joind: /);
  }
  const good = run(['--check', '--config-dir', writeConfig(BASE_FILES)]);
  assert.equal(good.status, 0, good.stderr);
  const effective = JSON.parse(good.stdout) as {
    policy: Record<'ping_timeout' | 'support_bootp', { value: unknown; source: string }>;
  };
  assert.equal(effective.policy.ping_timeout.value, 0);
  assert.match(effective.policy.ping_timeout.source, /server\.pcy:1$/);
  assert.equal(effective.policy.support_bootp.source, 'default');
  const broken = run([
    '--check',
    '--config-dir',
    writeConfig({ ...BASE_FILES, 'server.pcy': 'free_list_size many\n', nets: '10.77.1.0 x 10.77.1.9-10.77.1.2\n' }),
  ]);
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /server\.pcy:1:\d+: error/);
  assert.match(broken.stderr, /nets:1:\d+: error/);
  const version = run(['--version']);
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  const env = spawnSync(process.execPath, [MAIN, '--check'], {
    encoding: 'utf8',
    env: { ...process.env, JOINCONFIG: '/nonexistent/join' },
  });
  assert.equal(env.status, 1, 'JOINCONFIG is honoured: a missing directory is an error');
  assert.match(env.stderr, /\/nonexistent\/join/);
});

test('daemon: a broken SIGHUP or auto_reread keeps the running configuration; SIGTERM stops cleanly', async () => {
  const configDir = writeConfig({ ...BASE_FILES, 'server.pcy': 'ping_timeout 0\nauto_reread\n' });
  const spoolDir = tempDir('joind-daemon-spool-');
  let log = '';
  const child = spawn(
    process.execPath,
    [MAIN, '-f', '-l', '2', '--config-dir', configDir, '--spool-dir', spoolDir, '--port', '0', '--bind', '127.0.0.1'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(() => log, /"JOIND_STARTED"/);
    const pidFile = path.join(spoolDir, 'joind.pid');
    assert.equal(fs.readFileSync(pidFile, 'utf8').trim(), String(child.pid));
    assert.ok(fs.existsSync(path.join(spoolDir, 'joind.db')));

    fs.writeFileSync(path.join(configDir, 'nets'), '10.77.1.0 10.77.1.1 10.77.1.200-10.77.1.100\n');
    child.kill('SIGHUP');
    const rejected = await waitFor(() => log, /"CONFIG_RELOAD_REJECTED"/);
    assert.match(rejected, /nets:1:\d+: error/);
    fs.writeFileSync(path.join(configDir, 'nets'), BASE_FILES.nets);
    child.kill('SIGHUP');
    await waitFor(() => log, /"CONFIG_RELOADED".*"SIGHUP"/);

    // auto_reread: the dhcpcap file changes on disk.
    await new Promise((r) => setTimeout(r, 20));
    fs.writeFileSync(path.join(configDir, 'dhcpcap'), 'neta:nw=10.77.1.0:gw=not-an-address:\n');
    await waitFor(() => log, /"CONFIG_RELOAD_REJECTED".*"auto_reread"/);
    fs.writeFileSync(path.join(configDir, 'dhcpcap'), BASE_FILES.dhcpcap);
    await waitFor(() => log, /"CONFIG_RELOADED".*"auto_reread"/);

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(log, /"JOIND_STOPPED"/);
    assert.equal(fs.existsSync(pidFile), false, 'pid file removed');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
