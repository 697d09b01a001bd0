import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LeaseState, Store } from '../../src/store';
import { ip } from '../../src/util/ipv4';
import { tempDir } from '../helpers/tmp';

const MAIN = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

test("a direct load (no server socket) waits for the server's open batch and loses none of it; reads see only committed leases", async () => {
  const spool = tempDir();
  const records = path.join(spool, 'records');
  fs.writeFileSync(records, '02:00:00:00:00:09|1|6|10.1.0.9||||||10.1.0.0\n');
  // The "server": a batch open (its write lock held), as between a grant and its group commit.
  const server = Store.open({ spoolDir: spool, durable: true });
  const hw = Buffer.from([2, 0, 0, 0, 0, 1]);
  // Its transaction is driven by hand so that it stays open across the awaits below.
  server.db.exec('BEGIN IMMEDIATE');
  server.leases.put({
    address: ip('10.1.0.1'),
    network: ip('10.1.0.0'),
    client: { type: 1, id: hw },
    htype: 1,
    hwaddr: hw,
    clientId: null,
    starts: 1,
    ends: 4_000_000_000,
    cltt: 1,
    state: LeaseState.ACTIVE,
    clientHostname: null,
    hostname: null,
  });
  const dumpDuring = await run(['dump', '--spool-dir', spool]);
  assert.equal(dumpDuring.code, 0, dumpDuring.err);
  const loading = run(['load', '--spool-dir', spool, '--config-dir', path.join(spool, 'none'), records]);
  await new Promise((r) => setTimeout(r, 300));
  server.db.exec('COMMIT');
  const loaded = await loading;
  assert.equal(loaded.code, 0, loaded.err);
  assert.match(loaded.out, /1 record\(s\) loaded/);
  assert.equal(dumpDuring.out, '', 'a read during the open batch sees nothing uncommitted');
  const after = await run(['dump', '--spool-dir', spool]);
  assert.deepEqual(
    after.out
      .trim()
      .split('\n')
      .map((l) => l.split('|')[3]),
    ['10.1.0.1', '10.1.0.9'],
    "both the server's lease and the loaded binding",
  );
  const check = await run(['check-db', '--spool-dir', spool]);
  assert.equal(check.code, 0, check.out);
  server.close();
});
