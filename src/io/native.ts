// Typed view of joind's native addon (native/joind_net.c, built by node-gyp into build/Release at
// `npm install`). Node's dgram cannot open raw ICMP sockets nor Linux packet sockets; this addon does only
// that, and everything protocol-shaped stays in TypeScript (ping.ts, frame.ts, packet-socket.ts).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Socket kinds understood by the addon's Socket constructor. */
export const SOCKET_ICMP = 0;
export const SOCKET_PACKET = 1;
/** A UDP socket bound to an address and port (the raw transport's unicast half; see open_udp in the C). */
export const SOCKET_UDP = 2;

/** Linux sll_pkttype values reported with each frame from a packet socket (linux/if_packet.h). */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;

/** Bit of a packet socket's `flags`: the frame's UDP checksum is partial (a sender on this host left it
 * to checksum offload: veth, virtio, a local bridge), so it cannot be verified. */
export const FLAG_CSUM_NOT_READY = 1;

/**
 * Called once per datagram, synchronously from the event loop. `data` is owned by the callee (a fresh
 * copy). ICMP sockets: a = source IPv4 (uint32), b = 0, flags = 0, data = the whole IP datagram (IP
 * header first). Packet sockets: a = arrival ifindex, b = packet type (PACKET_*), flags = FLAG_*, data =
 * the whole Ethernet frame. UDP sockets: a = source IPv4, b = source port, flags = 0, data = the payload.
 */
export type NativeMessageHandler = (data: Buffer, a: number, b: number, flags: number) => void;

export interface NativeSocketStats {
  /** Frames that passed the kernel filter (packet sockets; cumulative). */
  kernelPackets: number;
  /** Frames the kernel dropped because the receive buffer was full (packet sockets; cumulative). */
  kernelDrops: number;
  /** recvfrom failures other than "nothing to read" (e.g. ENETDOWN). */
  recvErrors: number;
  /** Datagrams larger than the receive buffer, dropped. */
  truncated: number;
}

export interface NativeSocket {
  /**
   * ICMP sockets: send an ICMP message (no IP header) to ipv4. UDP sockets: send a datagram to ipv4:port
   * (port required). Returns 0 or an errno number; never queues.
   */
  sendTo(bytes: Uint8Array, ipv4: number, port?: number): number;
  /** UDP sockets: the bound port (after binding port 0); 0 for other kinds. */
  localPort(): number;
  /** Packet sockets only: send a whole Ethernet frame out of the socket's interface. 0 or an errno number. */
  sendFrame(frame: Uint8Array): number;
  stats(): NativeSocketStats;
  /** Stops watching and closes the descriptor; safe to call more than once. */
  close(): void;
}

export interface NativeSocketConstructor {
  /**
   * Opens a socket and starts delivering datagrams to onMessage. Throws an Error with `code` ('EPERM'
   * without CAP_NET_RAW, 'ENODEV' for a missing interface, ...) and `errno`.
   * ifindex and udpPort matter only for packet sockets, except that a UDP socket takes the IPv4 address
   * to bind (host order, 0 for any) in place of ifindex, and binds udpPort (0: any). rcvbufBytes 0 keeps
   * the system default.
   */
  new (
    kind: number,
    ifindexOrAddress: number,
    udpPort: number,
    rcvbufBytes: number,
    onMessage: NativeMessageHandler,
  ): NativeSocket;
}

/** A user as the user database (NSS) has it. */
export interface NativeUser {
  name: string;
  uid: number;
  /** Primary group. */
  gid: number;
}

/**
 * The privilege functions (native/joind_net.c). An addon built before --user existed lacks them, hence
 * optional: src/io/privileges.ts says to rebuild it.
 */
export interface NativePrivileges {
  /** getpwnam_r: the user, or null when there is none. Throws on a lookup failure (NSS unreachable…). */
  lookupUser(name: string): NativeUser | null;
  /** getgrnam_r: the group id, or null when there is none. */
  lookupGroup(name: string): number | null;
  /** getgrouplist: gid first, then every group that lists the user as a member. */
  userGroups(name: string, gid: number): number[];
  /**
   * Root only: sets the bounding set to `keep`, clears the ambient set, then (keeping capabilities across
   * the change) becomes gid/uid with `groups`, sets permitted = effective = `keep` (capability numbers),
   * turns on no_new_privs, and checks that root cannot be regained. Throws an Error with `code`/`errno`
   * naming the step that failed; the process must not go on serving after a throw.
   */
  dropPrivileges(uid: number, gid: number, groups: readonly number[], keep: readonly number[]): void;
}

export interface NativeAddon extends Partial<NativePrivileges> {
  Socket: NativeSocketConstructor;
  /** Interface index of a name, 0 when there is no such interface. */
  ifNameToIndex(name: string): number;
  /** 6-byte Ethernet address of an interface, or null (no such interface, or not Ethernet). */
  ifHardwareAddress(name: string): Buffer | null;
}

/** Relative location of the compiled addon under the package root. */
const ADDON_PATH = path.join('build', 'Release', 'joind_net.node');

let loaded: NativeAddon | undefined;
let loadError: Error | undefined;

/**
 * Where the addon is: $JOIND_NATIVE_ADDON if set, else build/Release/joind_net.node in the nearest
 * ancestor of this file that has one (src/io/ when run from sources, dist/src/io/ when compiled).
 */
export function nativeAddonPath(): string | undefined {
  const override = process.env['JOIND_NATIVE_ADDON'];
  if (override) return override;
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, ADDON_PATH);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** Loads the addon once. Throws a clear error when it is missing or cannot be loaded. */
export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  if (loadError) throw loadError;
  const file = nativeAddonPath();
  if (file === undefined) {
    loadError = new Error(
      `joind native addon not found (${ADDON_PATH} above ${__dirname}); run \`npm install\` (or \`npx node-gyp rebuild\`) in the package root`,
    );
    throw loadError;
  }
  try {
    // A compiled addon can only come through require(); its shape is checked just below.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node file has no import form
    const addon = require(file) as NativeAddon;
    if (typeof addon.Socket !== 'function' || typeof addon.ifNameToIndex !== 'function') {
      throw new Error('unexpected exports');
    }
    loaded = addon;
    return addon;
  } catch (error) {
    loadError = new Error(`cannot load joind native addon ${file}: ${(error as Error).message}`);
    throw loadError;
  }
}

/** The addon, or undefined when it is not available (for callers with a fallback). */
export function tryLoadNative(): NativeAddon | undefined {
  try {
    return loadNative();
  } catch {
    return undefined;
  }
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(os.constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** Symbolic name of an errno number returned by a send ('ENOBUFS'), for logs and counters. */
export function errnoName(code: number): string {
  return errnoNames.get(code) ?? `errno ${code}`;
}
