import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';

const ROOT = path.join(__dirname, '..', '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const joind = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });

test('cli: subcommands answer usage errors with 2 and one line, refusals with 1 and the reason', () => {
  const spool = tempDir();
  let r = joind('ctl');
  assert.equal(r.status, 2, 'ctl without a command');
  r = joind('dump', '-k', 'zz', '--spool-dir', spool);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^joind dump: -k zz: expected an IP address/);
  r = joind('dump', '--spool-dir', path.join(spool, 'none'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot open lease database/);
  const bad = path.join(spool, 'bad');
  fs.writeFileSync(bad, '02:00:00:00:00:01|1|6|10.77.1.120\n02:00:00:00:00:02|1|6|10.77.1.999\n');
  r = joind('load', '--spool-dir', spool, '--config-dir', path.join(ROOT, 'etc'), bad);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^line 2: IP address: "10.77.1.999" is not a dotted-quad address$/m);
  r = joind('ctl', 'status', '--spool-dir', spool);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no joind answers on its control socket/);
});

test('cli: without a subcommand joind is the server as before (--check, unknown argument)', () => {
  let r = joind('--check', '--config-dir', path.join(ROOT, 'etc'));
  assert.equal(r.status, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout));
  r = joind('nonsense');
  assert.equal(r.status, 2);
  r = joind('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Admin subcommands/);
});
