// Which interfaces joind answers clients on. Like the original joind (and ISC dhcpd): the interfaces named
// with -i, else every interface attached to a network that has address ranges of ours. An interface only
// attached to other networks (a transit link to relays, an uplink) is not served: relayed requests reach
// us by unicast and need no served interface. A pure function, so the choice and its reasons can be
// logged and tested.

import type { NetworkConfig } from '../config/types';
import { inNetwork, ipToString, prefixFromMask } from '../util/ipv4';
import type { NetworkInterfaceV4 } from './interfaces';

/** What the choice needs to know of a configured network (NetworkConfig: ours = served). */
export interface NetworkForServing {
  address: number;
  mask: number;
  /** This server serves the network (its ranges, or its static bindings only). */
  ours: boolean;
}

/** The configuration's networks as the choice sees them. */
export function networksForServing(networks: readonly NetworkConfig[]): NetworkForServing[] {
  return networks.map((net) => ({ address: net.address, mask: net.mask, ours: net.served }));
}

export interface IgnoredInterface {
  name: string;
  reason: string;
}

export interface ServedChoice {
  /** In the order of `all` (by ifindex from listIpv4Interfaces); named ones in the order named. */
  served: NetworkInterfaceV4[];
  ignored: IgnoredInterface[];
}

/**
 * With `named` non-empty: exactly those interfaces (a name not in `all` is ignored with a reason; the
 * others are ignored as "not named"). Otherwise every interface that has an Ethernet address and an
 * address inside a network of ours; loopback, interfaces without a hardware address and interfaces
 * without such an address are ignored with a reason.
 */
export function chooseServedInterfaces(
  all: readonly NetworkInterfaceV4[],
  networks: readonly NetworkForServing[],
  named: readonly string[],
): ServedChoice {
  const served: NetworkInterfaceV4[] = [];
  const ignored: IgnoredInterface[] = [];
  if (named.length > 0) {
    const byName = new Map(all.map((info) => [info.name, info]));
    const wanted = new Set<string>();
    for (const name of named) {
      if (wanted.has(name)) continue;
      wanted.add(name);
      const info = byName.get(name);
      if (info === undefined) ignored.push({ name, reason: 'named but no such interface with an IPv4 address' });
      else served.push(info);
    }
    for (const info of all) if (!wanted.has(info.name)) ignored.push({ name: info.name, reason: 'not named with -i' });
    return { served, ignored };
  }
  for (const info of all) {
    const reason = whyNotServed(info, networks);
    if (reason === undefined) served.push(info);
    else ignored.push({ name: info.name, reason });
  }
  return { served, ignored };
}

function whyNotServed(info: NetworkInterfaceV4, networks: readonly NetworkForServing[]): string | undefined {
  if (isLoopback(info)) return 'loopback';
  if (info.mac === null) return 'no Ethernet hardware address';
  if (info.addresses.length === 0) return 'no IPv4 address';
  const attached: string[] = [];
  for (const a of info.addresses) {
    for (const net of networks) {
      if (!inNetwork(a.address, net.address, net.mask)) continue;
      if (net.ours) return undefined;
      attached.push(networkText(net));
    }
  }
  const own = info.addresses.map((a) => `${ipToString(a.address)}/${a.prefixLength}`).join(', ');
  if (attached.length > 0) return `its networks (${attached.join(', ')}) have no address ranges of ours`;
  return `no address (${own}) in a configured network`;
}

function isLoopback(info: NetworkInterfaceV4): boolean {
  if (info.name === 'lo') return true;
  // 127.0.0.0/8: a loopback device under another name.
  return info.addresses.length > 0 && info.addresses.every((a) => a.address >>> 24 === 127);
}

function networkText(net: NetworkForServing): string {
  const prefix = prefixFromMask(net.mask);
  return prefix === undefined
    ? `${ipToString(net.address)} mask ${ipToString(net.mask)}`
    : `${ipToString(net.address)}/${prefix}`;
}
