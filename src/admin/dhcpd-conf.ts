// `joind export --format dhcpd-conf`: the networks and ranges of nets as an ISC dhcpd.conf, so that
// tools that read dhcpd.conf with dhcpd.leases (dhcpd-pools) see joind's pools. Only what those tools
// need: subnets, their ranges, the lease times. Pure.
import type { Config } from '../config/types';
import { ipToString } from '../util/ipv4';

export function formatDhcpdConf(config: Config): string {
  const lines = [
    '# The pools of joind (nets and netmasks) in the form of dhcpd.conf(5), written by joind export.',
    '# Only subnets and ranges: the client parameters stay in dhcpcap.',
    `default-lease-time ${config.policy.default_ttl};`,
    '',
  ];
  for (const net of config.networks) {
    lines.push(`subnet ${ipToString(net.address)} netmask ${ipToString(net.mask)} {`);
    for (const r of net.ourRanges) lines.push(`  range ${ipToString(r.start)} ${ipToString(r.end)};`);
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}
