// Which of our networks a request belongs to (src/server/subnet.ts): the receiving interface's addresses,
// giaddr (RFC 2131 4.3.1), option 118 (RFC 3011), option 82 sub-option 5 (RFC 3527), and the drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOOTREQUEST, DhcpPacket, MessageType } from '../../src/codec/types';
import { loadConfig } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import type { Inbound } from '../../src/io/transport';
import { selectNetwork, type NetworkChoice } from '../../src/server/subnet';
import { ip, ipToString } from '../../src/util/ipv4';
import { BASE_FILES, FakeClient, RELAY_SIDE, SERVER_A, SERVER_B, makeBed, writeConfig } from '../flow/harness';

// Networks A (10.77.1.0), B (10.77.2.0) and C (10.77.3.0) are ours; D (10.77.4.0) is another server's;
// 10.77.9.0 (the relays' side) has a mask but no nets line. We are 10.77.1.1, 10.77.2.1 and 10.77.9.1.
const FILES = {
  ...BASE_FILES,
  netmasks: `${BASE_FILES.netmasks}10.77.4.0 255.255.255.0\n`,
  nets: `${BASE_FILES.nets}10.77.4.0 10.77.1.99 10.77.4.100-10.77.4.109\n`,
};

function config(pcy = '', self = [SERVER_A, SERVER_B, RELAY_SIDE]): Config {
  const loaded = loadConfig(writeConfig({ ...FILES, 'server.pcy': `ping_timeout 0\n${pcy}` }), {
    self: { hostname: 'joind-test', addresses: self },
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.config;
}

const CONFIG = config();
const LOCAL_RELAYS = config('reply_to_relay_on_local_net\n');

interface PacketFields {
  giaddr?: string;
  ciaddr?: string;
  /** Option 118. */
  subnetSelection?: string;
  /** Option 82's sub-options, raw: code → value. */
  agent?: Array<[number, Buffer]>;
}

function packet(f: PacketFields = {}): DhcpPacket {
  const options = new Map<number, Buffer>([[53, Buffer.from([MessageType.DISCOVER])]]);
  if (f.subnetSelection !== undefined) options.set(118, addr(f.subnetSelection));
  if (f.agent)
    options.set(82, Buffer.concat(f.agent.map(([code, data]) => Buffer.concat([Buffer.from([code, data.length]), data]))));
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: f.giaddr ? 1 : 0,
    xid: 1,
    secs: 0,
    flags: 0,
    ciaddr: f.ciaddr ? ip(f.ciaddr) : 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: f.giaddr ? ip(f.giaddr) : 0,
    chaddr: Buffer.alloc(16, 2),
    sname: '',
    file: '',
    options,
    hasMagicCookie: true,
  };
}

function addr(text: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ip(text));
  return b;
}

/** Arrived on an interface with these addresses ("a.b.c.d/len"); none given: through UDP, interface unknown. */
function on(...addresses: string[]): Inbound {
  return {
    data: Buffer.alloc(0),
    srcIp: 0,
    srcPort: 68,
    ifname: 'eth0',
    interfaceAddresses: addresses.map((a) => {
      const [address, length] = a.split('/');
      return { address: ip(address!), prefixLength: Number(length) };
    }),
  };
}
const VIA_UDP: Inbound = { data: Buffer.alloc(0), srcIp: 0, srcPort: 67 };
const RELAY_LINK = on('10.77.9.1/24'); // the interface the relays' packets come in on

/** The outcome in a form that shows everything: the network chosen, relayed, the link address; or the reason. */
function outcome(choice: NetworkChoice): string {
  if (!choice.ok) return `drop ${choice.reason}`;
  return `${ipToString(choice.network.address)} ${choice.relayed ? 'relayed' : 'local'} via ${ipToString(choice.linkAddress)}`;
}

const select = (p: DhcpPacket, inbound: Inbound, c = CONFIG) => outcome(selectNetwork(c, p, inbound));

test('on-link: the network of the receiving interface', () => {
  assert.equal(select(packet(), on('10.77.1.1/24')), '10.77.1.0 local via 10.77.1.1');
  assert.equal(select(packet(), on('10.77.2.1/24')), '10.77.2.0 local via 10.77.2.1');
  assert.equal(
    select(packet(), on('10.77.9.1/24', '10.77.2.1/24')),
    '10.77.2.0 local via 10.77.2.1',
    'the first address in a network we hand out from, not merely the first address',
  );
  assert.equal(select(packet({ ciaddr: '10.77.1.20' }), on('10.77.2.1/24')), '10.77.2.0 local via 10.77.2.1', 'not by ciaddr');
  assert.equal(select(packet(), on('10.77.9.1/24')), 'drop no-network', 'an interface on no network of nets');
  assert.equal(select(packet(), on()), 'drop unknown-link', 'an interface without an address');
});

test('on-link through UDP (interface unknown): ciaddr, else the only attached network we serve', () => {
  assert.equal(select(packet({ ciaddr: '10.77.2.20' }), VIA_UDP), '10.77.2.0 local via 10.77.2.20');
  assert.equal(select(packet({ ciaddr: '10.99.0.20' }), VIA_UDP), 'drop no-network');
  assert.equal(select(packet(), VIA_UDP), 'drop unknown-link', 'attached to A and B: cannot tell');
  assert.equal(select(packet(), VIA_UDP, config('', [SERVER_A])), '10.77.1.0 local via 10.77.1.0', 'attached to A only');
});

test('relayed: the network of giaddr', () => {
  assert.equal(select(packet({ giaddr: '10.77.3.1' }), RELAY_LINK), '10.77.3.0 relayed via 10.77.3.1');
  assert.equal(select(packet({ giaddr: '10.77.2.254' }), RELAY_LINK), '10.77.2.0 relayed via 10.77.2.254');
  assert.equal(select(packet({ giaddr: '10.77.3.1' }), VIA_UDP), '10.77.3.0 relayed via 10.77.3.1', 'whatever the transport');
  assert.equal(
    select(packet({ giaddr: '10.77.3.1', agent: [[1, Buffer.from('port7')]] }), RELAY_LINK),
    '10.77.3.0 relayed via 10.77.3.1',
    'option 82 without sub-option 5: giaddr still',
  );
});

test('option 118 (RFC 3011) overrides giaddr and the receiving interface', () => {
  assert.equal(
    select(packet({ giaddr: '10.77.3.1', subnetSelection: '10.77.2.0' }), RELAY_LINK),
    '10.77.2.0 relayed via 10.77.2.0',
  );
  assert.equal(select(packet({ subnetSelection: '10.77.3.0' }), on('10.77.1.1/24')), '10.77.3.0 local via 10.77.3.0');
  assert.equal(select(packet({ giaddr: '10.77.3.1', subnetSelection: '10.99.0.0' }), RELAY_LINK), 'drop no-network');
});

test('option 82 sub-option 5 (RFC 3527) overrides giaddr, and option 118 when both are present', () => {
  const link = (a: string): [number, Buffer] => [5, addr(a)];
  const circuit: [number, Buffer] = [1, Buffer.from('port7')];
  assert.equal(
    select(packet({ giaddr: '10.77.3.1', agent: [circuit, link('10.77.1.7')] }), RELAY_LINK),
    '10.77.1.0 relayed via 10.77.1.7',
  );
  // RFC 3527 section 3: with both, the link-selection sub-option is used in preference to option 118.
  assert.equal(
    select(packet({ giaddr: '10.77.3.1', subnetSelection: '10.77.2.0', agent: [link('10.77.1.7')] }), RELAY_LINK),
    '10.77.1.0 relayed via 10.77.1.7',
  );
  assert.equal(
    select(packet({ giaddr: '10.77.3.1', subnetSelection: '10.77.2.0', agent: [[5, Buffer.from([10, 77, 1])]] }), RELAY_LINK),
    '10.77.2.0 relayed via 10.77.2.0',
    'a sub-option 5 that is not 4 bytes is no address: option 118 next',
  );
  assert.equal(select(packet({ giaddr: '10.77.3.1', agent: [link('10.99.0.1')] }), RELAY_LINK), 'drop no-network');
});

test('a relay on a network we are attached to: dropped unless reply_to_relay_on_local_net', () => {
  // We hear such a relay's clients ourselves; the relay is on our receiving interface's subnet.
  const local = packet({ giaddr: '10.77.1.254' });
  assert.equal(select(local, on('10.77.1.1/24')), 'drop relay-on-local-net');
  assert.equal(select(local, on('10.77.1.1/24'), LOCAL_RELAYS), '10.77.1.0 relayed via 10.77.1.254');
  assert.equal(
    select(packet({ giaddr: '10.77.9.2', subnetSelection: '10.77.3.0' }), RELAY_LINK),
    'drop relay-on-local-net',
    'whatever the relay asks for',
  );
  assert.equal(
    select(packet({ giaddr: '10.77.9.2', subnetSelection: '10.77.3.0' }), RELAY_LINK, LOCAL_RELAYS),
    '10.77.3.0 relayed via 10.77.3.0',
  );
  assert.equal(
    select(packet({ giaddr: '10.77.9.2' }), RELAY_LINK, LOCAL_RELAYS),
    'drop no-network',
    'allowed, but on no network of nets',
  );
  // Interface unknown (UDP): local means on a network of nets that one of our addresses is in.
  assert.equal(select(local, VIA_UDP), 'drop relay-on-local-net');
  assert.equal(select(local, VIA_UDP, LOCAL_RELAYS), '10.77.1.0 relayed via 10.77.1.254');
  assert.equal(
    select(packet({ giaddr: '10.77.3.1' }), VIA_UDP),
    '10.77.3.0 relayed via 10.77.3.1',
    'C has none of our addresses',
  );
});

test('an unknown network: dropped as no-network', () => {
  assert.equal(select(packet({ giaddr: '10.99.0.1' }), RELAY_LINK), 'drop no-network');
  assert.equal(select(packet({ giaddr: '10.99.0.1' }), VIA_UDP), 'drop no-network');
});

test("a network we do not own: selected (its owner's ranges are known), then dropped by the server", async () => {
  const choice = selectNetwork(CONFIG, packet({ giaddr: '10.77.4.1' }), RELAY_LINK);
  assert.equal(outcome(choice), '10.77.4.0 relayed via 10.77.4.1');
  assert.ok(choice.ok);
  assert.deepEqual(choice.network.ourRanges, []);
  assert.deepEqual(
    choice.network.owners.map((o) => [o.owner, o.ours]),
    [['10.77.1.99', false]],
  );
  assert.equal(select(packet(), on('10.77.4.1/24')), '10.77.4.0 local via 10.77.4.1');

  // Through the server: nothing sent, each drop counted under its reason.
  const bed = makeBed({ netmasks: FILES.netmasks, nets: FILES.nets });
  const drops = async (giaddr: string, options: Array<[number, unknown]> = []) => {
    const c = FakeClient.withMac(bed, 1);
    c.giaddr = ip(giaddr);
    const before = { ...bed.server.counters.dropped };
    assert.deepEqual(await c.send(c.packet(MessageType.DISCOVER, options)), [], `nothing sent for giaddr ${giaddr}`);
    return Object.keys(bed.server.counters.dropped).filter((k) => bed.server.counters.dropped[k] !== before[k]);
  };
  assert.deepEqual(await drops('10.77.4.1'), ['network-not-ours']);
  assert.deepEqual(await drops('10.99.0.1'), ['no-network']);
  assert.deepEqual(await drops('10.77.9.2'), ['relay-on-local-net']);
  assert.deepEqual(await drops('10.77.3.1', [[118, ip('10.77.4.0')]]), ['network-not-ours']);
  bed.close();
});
