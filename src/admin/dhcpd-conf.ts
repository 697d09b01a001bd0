// `joind export --format dhcpd-conf`: the networks and ranges of nets as an ISC dhcpd.conf, so that
// tools that read dhcpd.conf with dhcpd.leases (dhcpd-pools) see joind's pools, and, when server.pcy
// configures failover, the failover peer statement and the pair's pools, so that a dhcpd peer can be
// configured from the same files (docs/joind-export.md). Pure.
import type { Config, Policy } from '../config/types';
import { ipToString } from '../util/ipv4';

/** dhcpd's `failover peer` statement for the relationship of server.pcy, as dhcpd 4.4 reads it. */
function failoverPeer(policy: Policy, name: string): string[] {
  const lines = [
    `failover peer "${name}" {`,
    `  ${policy.failover_role};`,
    `  address ${policy.failover_address};`,
    `  port ${policy.failover_port};`,
    `  peer address ${policy.failover_peer_address};`,
    `  peer port ${policy.failover_peer_port};`,
    `  max-response-delay ${policy.failover_max_response_delay};`,
    `  max-unacked-updates ${policy.failover_max_unacked_updates};`,
    `  load balance max seconds ${policy.failover_load_balance_max_secs};`,
  ];
  // dhcpd: the primary must have both; a secondary may not have a split (and learns the mclt from CONNECT).
  if (policy.failover_role === 'primary') lines.push(`  mclt ${policy.failover_mclt};`, `  split ${policy.failover_split};`);
  // joind's partner-down on evidence has no dhcpd counterpart; its blind timer has.
  if (policy.failover_auto_partner_down > 0) lines.push(`  auto-partner-down ${policy.failover_auto_partner_down};`);
  lines.push('}');
  return lines;
}

export function formatDhcpdConf(config: Config): string {
  const name = config.policy.failover;
  const lines = [
    '# The pools of joind (nets and netmasks) in the form of dhcpd.conf(5), written by joind export.',
    '# Only subnets and ranges: the client parameters stay in dhcpcap.',
    `default-lease-time ${config.policy.default_ttl};`,
  ];
  if (name !== null) {
    lines.push(
      '# What a failover peer of joind must do as joind does: answer a request it cannot grant with a',
      '# DHCPNAK, and update no DNS.',
      'authoritative;',
      'ddns-update-style none;',
      '',
      ...failoverPeer(config.policy, name),
    );
  }
  lines.push('');
  for (const net of config.networks) {
    lines.push(`subnet ${ipToString(net.address)} netmask ${ipToString(net.mask)} {`);
    const range = (r: { start: number; end: number }): string => `range ${ipToString(r.start)} ${ipToString(r.end)};`;
    for (const r of net.ourRanges) if (r.failover === undefined) lines.push(`  ${range(r)}`);
    const pair = net.ourRanges.filter((r) => r.failover !== undefined);
    if (pair.length > 0) {
      lines.push('  pool {', `    failover peer "${pair[0]!.failover}";`, '    deny dynamic bootp clients;');
      for (const r of pair) lines.push(`    ${range(r)}`);
      lines.push('  }');
    }
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}
