// --user/--group: argument checks, the capabilities kept, the spool checks, /proc parsing, and (as root,
// in a child process, since a drop cannot be undone) the real drop through the addon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { tryLoadNative } from '../../src/io/native';
import {
  capabilityMask,
  parseProcStatus,
  resolveRunAs,
  RunAsError,
  type RunAs,
  type RunAsContext,
} from '../../src/io/privileges';
import { capabilitiesToKeep, handSpoolTo, prepareSpoolFor, userMay } from '../../src/server/privileges';

const isRoot = process.getuid?.() === 0;
const MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const addon = tryLoadNative();
const addonHasPrivileges = typeof addon?.dropPrivileges === 'function';
const OLD_ADDON = 'the built addon predates the privilege functions (rebuild it)';

/** A user database of three accounts: root, svc (1001, group 1001, also in 2000) and a group "staff". */
function fakeContext(euid = 0): RunAsContext {
  const users: Record<string, { name: string; uid: number; gid: number }> = {
    root: { name: 'root', uid: 0, gid: 0 },
    svc: { name: 'svc', uid: 1001, gid: 1001 },
    rootgrp: { name: 'rootgrp', uid: 1002, gid: 0 },
  };
  const groups: Record<string, number> = { staff: 50, svc: 1001, root: 0 };
  return {
    euid,
    lookup: {
      lookupUser: (name) => users[name] ?? null,
      lookupGroup: (name) => groups[name] ?? null,
      userGroups: (name, gid) => (name === 'svc' ? [gid, 2000, gid] : [gid]),
    },
  };
}

test('resolveRunAs: the user, its primary group, and its groups with the chosen gid first', () => {
  assert.deepEqual(resolveRunAs('svc', undefined, fakeContext()), {
    user: 'svc',
    uid: 1001,
    group: '1001',
    gid: 1001,
    groups: [1001, 2000],
  });
  assert.deepEqual(resolveRunAs('svc', 'staff', fakeContext()), {
    user: 'svc',
    uid: 1001,
    group: 'staff',
    gid: 50,
    groups: [50, 2000],
  });
  // A number that names no user is a uid, with the same number as its group.
  assert.deepEqual(resolveRunAs('4242', undefined, fakeContext()), {
    user: '4242',
    uid: 4242,
    group: '4242',
    gid: 4242,
    groups: [4242],
  });
  assert.deepEqual(resolveRunAs('4242', 'staff', fakeContext()), {
    user: '4242',
    uid: 4242,
    group: 'staff',
    gid: 50,
    groups: [50],
  });
});

test('resolveRunAs refuses, each with a reason that names the problem', () => {
  const refuses = (user: string, group: string | undefined, pattern: RegExp, euid = 0): void =>
    assert.throws(
      () => resolveRunAs(user, group, fakeContext(euid)),
      (err: Error) => err instanceof RunAsError && pattern.test(err.message),
    );
  refuses('svc', undefined, /must start as root.*uid 1000/, 1000);
  refuses('nosuch', undefined, /--user nosuch: no such user/);
  refuses('root', undefined, /that is root \(uid 0\)/);
  refuses('svc', 'nosuch', /--group nosuch: no such group/);
  refuses('svc', 'root', /gid 0/);
  refuses('rootgrp', undefined, /gid 0/);
  refuses('', undefined, /needs a user name/);
  refuses('0', undefined, /that is root/);
  refuses('svc', '', /needs a group name/);
});

test('capabilities kept: raw transport needs both below port 1024, udp needs none', () => {
  assert.deepEqual(capabilitiesToKeep('raw', 67), ['CAP_NET_RAW', 'CAP_NET_BIND_SERVICE']);
  assert.deepEqual(capabilitiesToKeep('raw', 6767), ['CAP_NET_RAW']);
  assert.deepEqual(capabilitiesToKeep('udp', 67), []);
  assert.equal(capabilityMask(['CAP_NET_RAW', 'CAP_NET_BIND_SERVICE']), 0x2400n);
  assert.equal(capabilityMask([]), 0n);
});

test('userMay follows the kernel rule: the owner class alone decides for the owner', () => {
  const svc = { uid: 1001, groups: [1001, 2000] };
  assert.equal(userMay({ uid: 1001, gid: 0, mode: 0o40700 }, svc, 'wx'), true);
  assert.equal(userMay({ uid: 1001, gid: 0, mode: 0o40577 }, svc, 'wx'), false, 'owner without w, others with it');
  assert.equal(userMay({ uid: 0, gid: 2000, mode: 0o40770 }, svc, 'wx'), true, 'a supplementary group');
  assert.equal(userMay({ uid: 0, gid: 2000, mode: 0o40757 }, svc, 'wx'), false, 'group class decides for a member');
  assert.equal(userMay({ uid: 0, gid: 0, mode: 0o40755 }, svc, 'wx'), false);
  assert.equal(userMay({ uid: 0, gid: 0, mode: 0o40755 }, svc, 'x'), true);
  assert.equal(userMay({ uid: 0, gid: 0, mode: 0o40750 }, svc, 'x'), false);
});

test('parseProcStatus reads ids and capability sets', () => {
  const text = [
    'Name:\tnode',
    'Uid:\t995\t995\t995\t995',
    'Gid:\t994\t994\t994\t994',
    'Groups:\t994 ',
    'CapInh:\t0000000000000000',
    'CapPrm:\t0000000000002400',
    'CapEff:\t0000000000002400',
    'CapBnd:\t0000000000002400',
    'CapAmb:\t0000000000000000',
    'NoNewPrivs:\t1',
  ].join('\n');
  const c = parseProcStatus(text);
  assert.deepEqual(c.uid, [995, 995, 995, 995]);
  assert.deepEqual(c.gid, [994, 994, 994, 994]);
  assert.deepEqual(c.groups, [994]);
  assert.equal(c.capEff, 0x2400n);
  assert.equal(c.capBnd, 0x2400n);
  assert.equal(c.capAmb, 0n);
  assert.equal(c.noNewPrivs, true);
  assert.throws(() => parseProcStatus('Name:\tnode\n'), /no Uid line/);
});

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'joind-priv-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const NOBODY: RunAs = { user: 'nobody', uid: 65534, group: 'nogroup', gid: 65534, groups: [65534] };

test("prepareSpoolFor refuses a spool the user cannot write that is not only joind's, and changes nothing", (t) => {
  const dir = tempDir(t);
  fs.chmodSync(dir, 0o755);
  const spool = path.join(dir, 'spool');
  fs.mkdirSync(spool, { mode: 0o755 });
  fs.writeFileSync(path.join(spool, 'notes.txt'), '');
  const owner = fs.statSync(spool).uid;
  const user = { ...NOBODY, uid: 4242, groups: [4242] };
  assert.throws(() => prepareSpoolFor(spool, user), /not writable by nobody.*chown nobody: /);
  assert.deepEqual(fs.readdirSync(spool), ['notes.txt']);
  assert.equal(fs.statSync(spool).uid, owner);
  fs.unlinkSync(path.join(spool, 'notes.txt'));
  // Writable, but inside a directory the user cannot search.
  fs.chmodSync(spool, 0o777);
  fs.chmodSync(dir, 0o700);
  assert.throws(() => prepareSpoolFor(spool, user), new RegExp(`cannot be reached by nobody: ${dir} is mode 700`));
});

test('prepareSpoolFor refuses a symbolic link among joind files', { skip: !isRoot && 'needs root to build the case' }, (t) => {
  const dir = tempDir(t);
  fs.chmodSync(dir, 0o755);
  const spool = path.join(dir, 'spool');
  fs.mkdirSync(spool);
  fs.chownSync(spool, NOBODY.uid, NOBODY.gid);
  prepareSpoolFor(spool, NOBODY);
  fs.symlinkSync('/etc/passwd', path.join(spool, 'joind.pid'));
  assert.throws(() => prepareSpoolFor(spool, NOBODY), /joind.pid is a symbolic link/);
  // One planted after the check is not followed either, nor is a hard link to another file taken.
  handSpoolTo(spool, NOBODY);
  assert.equal(fs.statSync('/etc/passwd').uid, 0);
  fs.unlinkSync(path.join(spool, 'joind.pid'));
  const outside = path.join(dir, 'not-joind');
  fs.writeFileSync(outside, '');
  fs.linkSync(outside, path.join(spool, 'joind.log'));
  assert.throws(() => handSpoolTo(spool, NOBODY), /joind.log to nobody: it has 2 hard links/);
  assert.equal(fs.statSync(outside).uid, 0);
});

test(
  'prepareSpoolFor hands over an existing spool that holds only joind files, not a sticky one',
  { skip: !isRoot && 'needs root (chown)' },
  (t) => {
    const dir = tempDir(t);
    fs.chmodSync(dir, 0o755);
    const spool = path.join(dir, 'spool');
    fs.mkdirSync(spool, { mode: 0o750 });
    fs.writeFileSync(path.join(spool, 'joind.db'), '');
    fs.writeFileSync(path.join(spool, 'joind.db.bak'), '');
    prepareSpoolFor(spool, NOBODY);
    assert.equal(fs.statSync(spool).uid, NOBODY.uid);
    const shared = path.join(dir, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1755);
    assert.throws(() => prepareSpoolFor(shared, NOBODY), /not writable by nobody/);
    assert.equal(fs.statSync(shared).uid, 0);
  },
);

test(
  'prepareSpoolFor creates a missing spool for the user; handSpoolTo gives only joind files',
  { skip: !isRoot && 'needs root (chown)' },
  (t) => {
    const dir = tempDir(t);
    fs.chmodSync(dir, 0o755);
    const spool = path.join(dir, 'a', 'spool');
    prepareSpoolFor(spool, NOBODY);
    assert.equal(fs.statSync(spool).uid, NOBODY.uid);
    assert.equal(fs.statSync(path.dirname(spool)).uid, NOBODY.uid, 'every directory it created');
    assert.equal(fs.statSync(dir).uid, 0, 'not the one that was there');
    fs.writeFileSync(path.join(spool, 'joind.db'), '');
    fs.writeFileSync(path.join(spool, 'other'), '');
    handSpoolTo(spool, NOBODY);
    assert.equal(fs.statSync(path.join(spool, 'joind.db')).uid, NOBODY.uid);
    assert.equal(fs.statSync(path.join(spool, 'other')).uid, 0);
  },
);

test('the command line: --group without --user, and the user checks, exit 2 with one line', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, [MAIN, '-f', '--config-dir', '/nonexistent', ...args], { encoding: 'utf8', timeout: 20_000 });
  const alone = run(['--group', 'nogroup']);
  assert.equal(alone.status, 2);
  assert.equal(alone.stderr, 'joind: --group needs --user\n');
  if (!addonHasPrivileges) return;
  const unknown = run(['--user', 'joind-no-such-user']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, isRoot ? /^joind: --user joind-no-such-user: no such user\n$/ : /must start as root/);
});

test('the addon looks users and groups up', { skip: !addonHasPrivileges && OLD_ADDON }, () => {
  assert.deepEqual(addon!.lookupUser!('root'), { name: 'root', uid: 0, gid: 0 });
  assert.equal(addon!.lookupUser!('joind-no-such-user'), null);
  assert.equal(addon!.lookupGroup!('root'), 0);
  assert.equal(addon!.lookupGroup!('joind-no-such-group'), null);
  assert.ok(addon!.userGroups!('root', 0).includes(0));
  assert.throws(() => addon!.lookupUser!(''), TypeError);
});

test(
  'a real drop, in a child process: ids, capability sets, no way back',
  { skip: (!isRoot && 'needs root') || (!addonHasPrivileges && OLD_ADDON) },
  () => {
    const script = `
    const p = require(${JSON.stringify(path.resolve(__dirname, '../../src/io/privileges.js'))});
    const runAs = p.resolveRunAs('nobody', undefined);
    p.dropPrivileges(runAs, ['CAP_NET_RAW']);
    const c = p.currentCredentials();
    let back = 'no';
    try { process.setuid(0); back = 'yes'; } catch {}
    console.log(JSON.stringify({ uid: c.uid, gid: c.gid, eff: c.capEff.toString(16), prm: c.capPrm.toString(16), bnd: c.capBnd.toString(16), amb: c.capAmb.toString(16), nnp: c.noNewPrivs, back }));
  `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const nobody = addon!.lookupUser!('nobody')!;
    assert.deepEqual(JSON.parse(r.stdout), {
      uid: [nobody.uid, nobody.uid, nobody.uid, nobody.uid],
      gid: [nobody.gid, nobody.gid, nobody.gid, nobody.gid],
      eff: '2000',
      prm: '2000',
      bnd: '2000',
      amb: '0',
      nnp: true,
      back: 'no',
    });
  },
);
