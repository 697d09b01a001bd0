// Which of our networks a request belongs to (joind-spec.md 3.2, RFC 2131 4.3.1, RFC 3011, RFC 3527).
import { relayAgentInfo, subnetSelection } from '../codec';
import type { DhcpPacket } from '../codec/types';
import type { Config, NetworkConfig } from '../config/types';
import type { Inbound } from '../io/transport';
import { inNetwork, maskFromPrefix } from '../util/ipv4';

export type NetworkChoice =
  | { ok: true; network: NetworkConfig; relayed: boolean; linkAddress: number }
  | { ok: false; reason: 'no-network' | 'unknown-link' | 'relay-on-local-net' };

/** The network of `nets` that contains the address, if any (longest mask wins for nested networks). */
export function networkOf(config: Config, address: number): NetworkConfig | undefined {
  let best: NetworkConfig | undefined;
  for (const net of config.networks) {
    if (inNetwork(address, net.address, net.mask) && (!best || net.prefixLength > best.prefixLength)) best = net;
  }
  return best;
}

/** Link selection sub-option (82.5, RFC 3527), then subnet selection option (118, RFC 3011). */
function selectedLink(packet: DhcpPacket): number | undefined {
  const agent = relayAgentInfo(packet);
  const link = agent?.find((s) => s.code === 5 && s.data.length === 4);
  if (link) return link.data.readUInt32BE(0);
  return subnetSelection(packet);
}

export function selectNetwork(config: Config, packet: DhcpPacket, inbound: Inbound): NetworkChoice {
  const relayed = packet.giaddr !== 0;
  if (relayed && !config.policy.reply_to_relay_on_local_net && isLocal(config, inbound, packet.giaddr)) {
    // The relay sits on a network we are attached to: we hear the client's broadcast ourselves.
    return { ok: false, reason: 'relay-on-local-net' };
  }
  let link = selectedLink(packet);
  if (link === undefined && relayed) link = packet.giaddr;
  if (link === undefined && inbound.interfaceAddresses) {
    for (const a of inbound.interfaceAddresses) {
      const net = networkOf(config, a.address);
      if (net && net.served) {
        link = a.address;
        break;
      }
    }
    if (link === undefined && inbound.interfaceAddresses.length > 0) link = inbound.interfaceAddresses[0]!.address;
  }
  if (link === undefined && !inbound.interfaceAddresses) {
    // The transport cannot say where the packet arrived (UDP sockets): a client with an address names its
    // network; otherwise there must be only one network we are attached to.
    if (packet.ciaddr !== 0) link = packet.ciaddr;
    else {
      const attached = config.networks.filter(
        (n) => n.served && config.self.addresses.some((a) => inNetwork(a, n.address, n.mask)),
      );
      if (attached.length !== 1) return { ok: false, reason: 'unknown-link' };
      link = attached[0]!.address;
    }
  }
  if (link === undefined) return { ok: false, reason: 'unknown-link' };
  const network = networkOf(config, link);
  if (!network) return { ok: false, reason: 'no-network' };
  return { ok: true, network, relayed, linkAddress: link };
}

function isLocal(config: Config, inbound: Inbound, giaddr: number): boolean {
  if (inbound.interfaceAddresses) {
    return inbound.interfaceAddresses.some((a) => inNetwork(giaddr, a.address, maskFromPrefix(a.prefixLength)));
  }
  for (const own of config.self.addresses) {
    const net = networkOf(config, own);
    if (net && inNetwork(giaddr, net.address, net.mask)) return true;
  }
  return false;
}
