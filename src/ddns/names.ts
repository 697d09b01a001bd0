// Which leases get names in DNS, and the settings of the running configuration for the queue and the
// worker: the one place that reads the dynamic DNS keywords.
import type { Config } from '../config/types';
import type { NamingResult } from '../naming/namer';
import type { DdnsPolicy } from './queue';
import type { DdnsSettings } from './worker';

/**
 * The FQDN a granted lease puts in DNS, or null: only names joind assigns (by hardware address, the
 * client's own, from a name pool, generated), in the client's domain (dn). A name by IP address is the
 * name service's already; a static name (ho) is the administrator's to publish.
 */
export function dnsNameOf(config: Config, name: NamingResult, domain: string): string | null {
  if (!ddnsEnabled(config) || !name.name || !domain) return null;
  if (name.source === 'ipaddr' || name.source === 'static' || name.source === 'none') return null;
  return `${name.name}.${domain.replace(/\.$/, '')}`;
}

/** Dynamic DNS is on: name_service_updateable (the server: ddns_server, or each zone's primary master). */
export function ddnsEnabled(config: Config): boolean {
  return config.policy.name_service_updateable;
}

export function ddnsPolicyOf(config: Config): DdnsPolicy | null {
  const policy = config.policy;
  if (!ddnsEnabled(config)) return null;
  return { tracksLease: policy.dns_tracks_dhcp_lease, style: policy.ddns_style };
}

export function ddnsSettingsOf(config: Config): DdnsSettings | null {
  const server = config.policy.ddns_server;
  if (!ddnsEnabled(config)) return null;
  // Without ddns_server, each zone's primary master (the worker finds it from the zone's SOA).
  if (server === null) return { server: null, key: config.ddnsKey };
  const colon = server.lastIndexOf(':');
  return { server: { address: server.slice(0, colon), port: Number(server.slice(colon + 1)) }, key: config.ddnsKey };
}
