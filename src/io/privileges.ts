// joind --user NAME: once its sockets are open, joind gives up root. It keeps only what serving still
// needs, in the main thread (the one that opens sockets):
//  - CAP_NET_RAW: packet sockets for interfaces that appear at a SIGHUP, and the ICMP socket if reopened;
//  - CAP_NET_BIND_SERVICE: UDP sockets on port 67 for addresses that appear later.
// Everything else goes, from the bounding set too, and no exec can gain privileges back (no_new_privs).
// The spool directory and the database files are handed to the user first, so that commits, backups and
// the pid file keep working.
import fs from 'node:fs';
import path from 'node:path';
import { errnoName, tryLoadNative } from './native';

export const CAP_NET_BIND_SERVICE = 10;
export const CAP_NET_RAW = 13;
const KEPT = [CAP_NET_BIND_SERVICE, CAP_NET_RAW];
const KEPT_NAMES = ['cap_net_bind_service', 'cap_net_raw'];

export interface Dropped {
  uid: number;
  gid: number;
  /** Capabilities kept (names, as capsh prints them). */
  capabilities: string[];
}

/** uid and gid of a user name or number (from the user database, through the addon). */
function resolveUser(user: string, lookup: ((name: string) => { uid: number; gid: number } | null) | undefined): { uid: number; gid: number } {
  const found = lookup?.(user);
  if (found) return found;
  if (/^\d+$/.test(user)) return { uid: Number(user), gid: Number(user) };
  throw new Error(`--user ${user}: no such user`);
}

/** Hands the spool directory and what joind keeps in it (joind.db*, joind.pid, joind.log) to uid/gid. */
function chownSpool(spoolDir: string, uid: number, gid: number): void {
  fs.chownSync(spoolDir, uid, gid);
  for (const name of fs.readdirSync(spoolDir)) {
    if (name.startsWith('joind.')) fs.chownSync(path.join(spoolDir, name), uid, gid);
  }
}

/** Drops to `user`. Throws with a reason when that cannot be done completely. */
export function dropPrivileges(user: string, spoolDir: string): Dropped {
  if (process.getuid?.() !== 0) throw new Error(`--user ${user}: joind is not running as root`);
  const addon = tryLoadNative();
  if (!addon?.dropPrivileges) {
    throw new Error(`--user ${user}: the native addon has no dropPrivileges (rebuild it: npx node-gyp rebuild)`);
  }
  const { uid, gid } = resolveUser(user, addon.lookupUser?.bind(addon));
  if (uid === 0) throw new Error(`--user ${user}: that is root`);
  chownSpool(spoolDir, uid, gid);
  const mask = KEPT.reduce((m, cap) => m | (1 << cap), 0);
  const error = addon.dropPrivileges(uid, gid, mask);
  if (error !== 0) throw new Error(`--user ${user}: cannot drop privileges: ${errnoName(error)}`);
  if (process.getuid() !== uid || process.getgid?.() !== gid) throw new Error(`--user ${user}: the ids did not change`);
  return { uid, gid, capabilities: KEPT_NAMES };
}
