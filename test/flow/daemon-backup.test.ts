// The daemon's backup copies (issue 17): one at start, then only when a lease was written since the last
// copy, so an idle appliance does not rewrite its whole database every hour and at every stop. In
// process, on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/logger';
import { Daemon } from '../../src/server/daemon';
import { ip } from '../../src/util/ipv4';
import { BASE_FILES, writeConfig } from './harness';
import { tempDir } from '../helpers/tmp';
import { leaseRecord } from '../helpers/lease';
import { waitFor } from '../helpers/wait';

test('backups: at start, then only after a lease was written; none at a stop that follows no change', async () => {
  let log = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log += chunk.toString();
      done();
    },
  });
  const spoolDir = tempDir('joind-backup-spool-');
  const daemon = new Daemon({
    configDir: writeConfig(BASE_FILES),
    spoolDir,
    log: createLogger('info', sink),
    interfaces: [],
    idleExitMinutes: 0,
    port: 0,
    bindAddress: '127.0.0.1',
  });
  const backups = (): number => log.split('\n').filter((l) => l.includes('"STORE_BACKUP"')).length;
  try {
    await daemon.start();
    await waitFor(() => String(backups()), /^1$/);
    await daemon.backup();
    assert.equal(backups(), 1, 'nothing written since the copy at start: no second copy');
    const times = { starts: 1_800_000_000, ends: 1_800_003_600, cltt: 1_800_000_000 };
    daemon.server.leases.put(leaseRecord('10.77.1.100', 1, { network: ip('10.77.1.0'), ...times }));
    await daemon.backup();
    assert.equal(backups(), 2, 'a lease was written: a new copy');
  } finally {
    await daemon.stop();
  }
  assert.equal(backups(), 2, 'no change since the last copy: none at the stop');
  assert.ok(fs.existsSync(path.join(spoolDir, 'joind.db.bak')));
});
