// --user/--group: looking the account up and dropping to it, keeping named capabilities. Node can change
// its uid but cannot look a user up without becoming it, nor keep a capability across the change; the
// addon (native/joind_net.c) does those few system calls and this module gives them names and checks.
import fs from 'node:fs';
import { loadNative, type NativePrivileges } from './native';

/** The capabilities joind may keep (numbers from linux/capability.h). */
export const CAPABILITY_NUMBERS = {
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_RAW: 13,
} as const;
export type CapabilityName = keyof typeof CAPABILITY_NUMBERS;

/** The account joind runs as after the drop. */
export interface RunAs {
  user: string;
  uid: number;
  group: string;
  gid: number;
  /** Supplementary groups (gid first), as initgroups(3) would set them. */
  groups: number[];
}

/** A refusal the command line reports as a wrong argument. */
export class RunAsError extends Error {}

/** What resolveRunAs needs to know about the process (the real values unless a test says otherwise). */
export interface RunAsContext {
  euid: number;
  lookup: Pick<NativePrivileges, 'lookupUser' | 'lookupGroup' | 'userGroups'>;
}

/** The privilege functions of the addon, or a clear error when the addon predates them. */
function privilegeFunctions(): NativePrivileges {
  const addon = loadNative();
  const { lookupUser, lookupGroup, userGroups, dropPrivileges } = addon;
  if (!lookupUser || !lookupGroup || !userGroups || !dropPrivileges) {
    throw new RunAsError(
      'the native addon has no privilege functions (built before --user): rebuild it with `npx node-gyp rebuild`',
    );
  }
  return { lookupUser, lookupGroup, userGroups, dropPrivileges };
}

function defaultContext(): RunAsContext {
  return { euid: process.geteuid?.() ?? -1, lookup: privilegeFunctions() };
}

/**
 * Resolves --user NAME [--group NAME] before anything is opened, so that every refusal comes first and
 * changes nothing: joind must start as root; the user and group must exist; neither may be root (that
 * would keep every privilege, which is what --user is for not doing).
 */
export function resolveRunAs(user: string, group: string | undefined, context: RunAsContext = defaultContext()): RunAs {
  if (user === '') throw new RunAsError('--user needs a user name');
  if (group === '') throw new RunAsError('--group needs a group name');
  if (context.euid !== 0) {
    throw new RunAsError(
      `--user ${user}: joind must start as root to open its sockets and then drop to ${user} (it runs as uid ${context.euid})`,
    );
  }
  // A number that names no user is taken as a uid (containers often have none in /etc/passwd); its
  // group is the same number unless --group says otherwise.
  const numeric = /^\d{1,10}$/.test(user) && Number(user) < 0xffffffff ? Number(user) : undefined; // (uid_t)-1 is no uid
  const found = context.lookup.lookupUser(user);
  const account = found ?? (numeric !== undefined ? { name: user, uid: numeric, gid: numeric } : null);
  if (account === null) throw new RunAsError(`--user ${user}: no such user`);
  if (account.uid === 0) throw new RunAsError(`--user ${user}: that is root (uid 0); name an unprivileged user`);
  let gid = account.gid;
  if (group !== undefined) {
    const groupId = context.lookup.lookupGroup(group);
    if (groupId === null) throw new RunAsError(`--group ${group}: no such group`);
    gid = groupId;
  }
  if (gid === 0)
    throw new RunAsError(`--user ${user}: group ${group ?? 'of the user'} is root's (gid 0); name an unprivileged group`);
  const groups = found ? context.lookup.userGroups(found.name, gid) : [gid];
  return {
    user: account.name,
    uid: account.uid,
    group: group ?? String(gid),
    gid,
    groups: [gid, ...groups.filter((g) => g !== gid)],
  };
}

/**
 * Becomes runAs, keeping only `keep` (permitted = effective = bounding set; no ambient, no inheritable,
 * no_new_privs). Irreversible. Throws when any step fails: the caller must then stop, since the process
 * may be half-way.
 */
export function dropPrivileges(runAs: RunAs, keep: readonly CapabilityName[]): void {
  const numbers = keep.map((name) => CAPABILITY_NUMBERS[name]);
  privilegeFunctions().dropPrivileges(runAs.uid, runAs.gid, runAs.groups, numbers);
}

/** The mask of these capabilities, as /proc/PID/status prints sets (CapEff: …) in hex. */
export function capabilityMask(names: readonly CapabilityName[]): bigint {
  let mask = 0n;
  for (const name of names) mask |= 1n << BigInt(CAPABILITY_NUMBERS[name]);
  return mask;
}

/** Credentials of a process as /proc/PID/status shows them (real, effective, saved, filesystem). */
export interface ProcessCredentials {
  uid: number[];
  gid: number[];
  groups: number[];
  capEff: bigint;
  capPrm: bigint;
  capBnd: bigint;
  capAmb: bigint;
  noNewPrivs: boolean;
}

/** Parses the text of /proc/PID/status. */
export function parseProcStatus(text: string): ProcessCredentials {
  const field = (name: string): string => {
    const match = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text);
    if (!match) throw new Error(`no ${name} line in /proc status`);
    return match[1]!.trim();
  };
  const numbers = (value: string): number[] => (value === '' ? [] : value.split(/\s+/).map(Number));
  const hex = (name: string): bigint => BigInt(`0x${field(name)}`);
  return {
    uid: numbers(field('Uid')),
    gid: numbers(field('Gid')),
    groups: numbers(field('Groups')),
    capEff: hex('CapEff'),
    capPrm: hex('CapPrm'),
    capBnd: hex('CapBnd'),
    capAmb: hex('CapAmb'),
    noNewPrivs: field('NoNewPrivs') === '1',
  };
}

/** This process's credentials now (for the log line that proves the drop). */
export function currentCredentials(): ProcessCredentials {
  return parseProcStatus(fs.readFileSync('/proc/self/status', 'utf8'));
}
