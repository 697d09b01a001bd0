// The machine's IPv4 interfaces, for choosing what to serve and for matching an arrival interface to its
// networks. os.networkInterfaces() gives names, addresses and prefixes; the interface index (what packet
// sockets report) and the hardware address come from the native addon, or from sysfs without it.

import fs from 'node:fs';
import os from 'node:os';

import { maskFromPrefix, parseIp } from '../util/ipv4';
import { tryLoadNative } from './native';

export interface InterfaceAddressV4 {
  address: number;
  prefixLength: number;
  netmask: number;
}

export interface NetworkInterfaceV4 {
  /** Kernel interface name (alias labels like eth0:1 are folded into eth0). */
  name: string;
  /** Interface index, 0 when it could not be found. */
  ifindex: number;
  /** 6-byte Ethernet address, null when the interface has none (tunnels, ...). */
  mac: Buffer | null;
  addresses: InterfaceAddressV4[];
}

/** Non-loopback interfaces that have at least one IPv4 address, ordered by ifindex. */
export function listIpv4Interfaces(): NetworkInterfaceV4[] {
  const addon = tryLoadNative();
  const byName = new Map<string, NetworkInterfaceV4>();
  for (const [label, entries] of Object.entries(os.networkInterfaces())) {
    if (entries === undefined) continue;
    const name = label.split(':')[0]!;
    for (const entry of entries) {
      // Node 18.0-18.3 reported family as the number 4.
      if (entry.internal || (entry.family !== 'IPv4' && (entry.family as unknown) !== 4)) continue;
      const address = parseIp(entry.address);
      const prefixLength = entry.cidr === null ? undefined : Number(entry.cidr.split('/')[1]);
      if (address === undefined || prefixLength === undefined || !(prefixLength >= 0 && prefixLength <= 32)) continue;
      let info = byName.get(name);
      if (info === undefined) {
        info = {
          name,
          ifindex: addon ? addon.ifNameToIndex(name) : sysfsIfindex(name),
          mac: addon ? addon.ifHardwareAddress(name) : macFromText(entry.mac),
          addresses: [],
        };
        byName.set(name, info);
      }
      if (!info.addresses.some((known) => known.address === address && known.prefixLength === prefixLength)) {
        info.addresses.push({ address, prefixLength, netmask: maskFromPrefix(prefixLength) });
      }
    }
  }
  // By index, then by name in plain code-point order: localeCompare would page in ICU's collation data
  // (about 3 MB of resident memory) for interface names, which are ASCII.
  return [...byName.values()].sort((a, b) => a.ifindex - b.ifindex || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The named interface from listIpv4Interfaces(), or undefined. */
export function findIpv4Interface(name: string): NetworkInterfaceV4 | undefined {
  return listIpv4Interfaces().find((info) => info.name === name);
}

function sysfsIfindex(name: string): number {
  if (!/^[\w.-]{1,15}$/.test(name)) return 0;
  try {
    const index = Number(fs.readFileSync(`/sys/class/net/${name}/ifindex`, 'latin1').trim());
    return Number.isInteger(index) && index > 0 ? index : 0;
  } catch {
    return 0;
  }
}

function macFromText(text: string): Buffer | null {
  const match = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(text);
  if (!match) return null;
  const mac = Buffer.from(match.slice(1).map((part) => parseInt(part, 16)));
  return mac.every((byte) => byte === 0) ? null : mac;
}
