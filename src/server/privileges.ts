// Least privilege (--user): what joind keeps after it has opened everything, and the spool the user
// must be able to write. The system calls are in src/io/privileges.ts; this is the policy around them.
//
// Why these capabilities and no more:
// - CAP_NET_RAW, raw transport only: SIGHUP re-detects interfaces and opens a packet socket for each new
//   one. The ping socket needs nothing: it is opened before the drop, and using an open raw socket
//   needs no capability.
// - CAP_NET_BIND_SERVICE, raw transport on a port below 1024 only: it binds a unicast UDP socket on each
//   new address it finds at SIGHUP. The udp transport binds its one socket at start and never again.
// - Nothing else: no CAP_NET_ADMIN (a packet socket opened after the drop gets the rmem_max-capped
//   receive buffer, a tuning matter), no CAP_SETUID (there is no way back to root).
import fs from 'node:fs';
import path from 'node:path';
import { logEvent, type Logger } from '../log/logger';
import { CapabilityName, capabilityMask, currentCredentials, dropPrivileges, type RunAs } from '../io/privileges';

/** The capabilities the running server may still need, given the transport it opened. */
export function capabilitiesToKeep(transport: 'raw' | 'udp', port: number): CapabilityName[] {
  if (transport === 'udp') return [];
  return port < 1024 ? ['CAP_NET_RAW', 'CAP_NET_BIND_SERVICE'] : ['CAP_NET_RAW'];
}

/** joind's own files in the spool (joind.db, its -wal and -shm, joind.pid, joind.log, backups). */
function isJoindFile(name: string): boolean {
  return name === 'joind' || name.startsWith('joind.') || name.startsWith('joind-');
}

/** A spool joind may hand over: only joind's files in it, and not a shared (sticky) directory. */
function isJoindsOwn(dir: string, stat: fs.Stats): boolean {
  return (stat.mode & 0o1000) === 0 && fs.readdirSync(dir).every(isJoindFile);
}

type Access = 'x' | 'wx';

/** Whether runAs may do `want` on a file with this owner and mode, by the kernel's owner/group/other rule. */
export function userMay(
  stat: Pick<fs.Stats, 'uid' | 'gid' | 'mode'>,
  runAs: Pick<RunAs, 'uid' | 'groups'>,
  want: Access,
): boolean {
  const shift = stat.uid === runAs.uid ? 6 : runAs.groups.includes(stat.gid) ? 3 : 0;
  const bits = (stat.mode >> shift) & 0o7;
  const needed = want === 'x' ? 0o1 : 0o3;
  return (bits & needed) === needed;
}

/**
 * Before anything is opened: the spool must be a directory the user can write (after the drop joind
 * creates and removes files there: SQLite's -wal and -shm, the pid file, backups), reached through
 * directories the user can search. A missing spool is created and given to the user, and so is an
 * existing one that holds nothing but joind's own files (a spool a root joind used before, or an empty
 * one made for it). Any other directory is never chowned: it may be one joind does not own
 * (--spool-dir /var/lib), and handing it to a service account would be a surprise and a hole; the admin
 * is told the command instead. A symbolic link among joind's files is refused: root would follow it
 * when opening them. Throws an Error with the reason and the fix.
 */
export function prepareSpoolFor(spoolDir: string, runAs: RunAs): void {
  const dir = path.resolve(spoolDir);
  if (!fs.existsSync(dir)) {
    const first = fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    // Hand over every directory just created (from the first one down), and no other.
    for (let d = dir; first !== undefined; d = path.dirname(d)) {
      fs.chownSync(d, runAs.uid, runAs.gid);
      if (d === first) break;
    }
  }
  let stat = fs.statSync(dir);
  if (!stat.isDirectory()) throw new Error(`spool ${dir} is not a directory`);
  if (!userMay(stat, runAs, 'wx') && isJoindsOwn(dir, stat)) {
    fs.chownSync(dir, runAs.uid, runAs.gid);
    stat = fs.statSync(dir);
  }
  if (!userMay(stat, runAs, 'wx')) {
    throw new Error(
      `spool directory ${dir} is not writable by ${runAs.user} (owner ${stat.uid}:${stat.gid}, mode ${(stat.mode & 0o7777).toString(8)}); ` +
        `run \`chown ${runAs.user}: ${dir}\` (joind hands over only a spool that holds nothing but its own files)`,
    );
  }
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const parent = fs.statSync(d);
    if (!userMay(parent, runAs, 'x')) {
      throw new Error(
        `spool directory ${dir} cannot be reached by ${runAs.user}: ${d} is mode ${(parent.mode & 0o7777).toString(8)} (owner ${parent.uid}:${parent.gid})`,
      );
    }
    if (d === path.dirname(d)) break;
  }
  for (const name of fs.readdirSync(dir).filter(isJoindFile)) {
    if (fs.lstatSync(path.join(dir, name)).isSymbolicLink()) {
      throw new Error(`spool ${dir}: ${name} is a symbolic link; joind opens its files as root and refuses to follow one`);
    }
  }
}

/**
 * Gives joind's own files in the spool (and its control socket) to the user, so that the store stays
 * writable after the drop and at the next start (as root or as the user). lchown never follows a link,
 * and a regular file with other hard links is refused: either could otherwise hand over a file that is
 * not joind's (the spool is the user's to write in).
 */
export function handSpoolTo(spoolDir: string, runAs: RunAs): void {
  for (const name of fs.readdirSync(spoolDir).filter(isJoindFile)) {
    const file = path.join(spoolDir, name);
    const stat = fs.lstatSync(file);
    if (stat.isDirectory() || stat.isSymbolicLink()) continue;
    if (stat.isFile() && stat.nlink > 1) throw new Error(`cannot hand ${file} to ${runAs.user}: it has ${stat.nlink} hard links`);
    fs.lchownSync(file, runAs.uid, runAs.gid);
  }
}

export interface DropOptions {
  runAs: RunAs;
  spoolDir: string;
  configDir: string;
  transport: 'raw' | 'udp';
  port: number;
  log: Logger;
}

/** After every socket, the store and the pid file are open: hand the spool over and drop. Throws on failure. */
export function dropAfterStart(options: DropOptions): void {
  const { runAs, log } = options;
  handSpoolTo(options.spoolDir, runAs);
  const keep = capabilitiesToKeep(options.transport, options.port);
  dropPrivileges(runAs, keep);
  const now = currentCredentials();
  // The drop checked itself; this is belt and braces against a kernel or libc that disagrees.
  if (now.uid.some((id) => id !== runAs.uid) || now.capEff !== capabilityMask(keep) || now.capBnd !== capabilityMask(keep)) {
    throw new Error(`privileges not as requested after the drop (uid ${now.uid.join(' ')}, CapEff ${now.capEff.toString(16)})`);
  }
  logEvent(log, 'PRIVILEGES_DROPPED', {
    user: runAs.user,
    uid: runAs.uid,
    gid: runAs.gid,
    groups: runAs.groups,
    capabilities: keep,
  });
  // SIGHUP re-reads the configuration as the user: say now, not at the first reload, what it cannot read.
  const unreadable = unreadableConfigFiles(options.configDir);
  if (unreadable.length > 0) logEvent(log, 'PRIVILEGES_CONFIG_UNREADABLE', { user: runAs.user, files: unreadable });
}

function unreadableConfigFiles(configDir: string): string[] {
  const unreadable: string[] = [];
  const check = (file: string, mode: number): void => {
    try {
      fs.accessSync(file, mode);
    } catch {
      unreadable.push(file);
    }
  };
  check(configDir, fs.constants.R_OK | fs.constants.X_OK);
  if (unreadable.length > 0) return unreadable;
  for (const name of fs.readdirSync(configDir)) {
    const file = path.join(configDir, name);
    if (fs.statSync(file).isFile()) check(file, fs.constants.R_OK);
  }
  return unreadable;
}
