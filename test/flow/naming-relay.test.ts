// Naming policies; relayed clients and option 82.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, type DhcpPacket } from '../../src/codec/types';
import { decodeOptionValue } from '../../src/codec';
import { ip, ipToString } from '../../src/util/ipv4';
import { BASE_FILES, FakeClient, RELAY_SIDE, makeBed, msgType, optU32 } from './harness';

const HN = BASE_FILES.dhcpcap.replace('neta:nw=10.77.1.0:', 'neta:nw=10.77.1.0:hn:');
const POOL = 'lab.example 10.77.1.1 labpc\n\tamber basalt\n';
const hostOf = (p: { options: Map<number, Buffer> } | undefined) => p?.options.get(12)?.toString();

test("assign_name_by_ipaddr (default): the name service's name for the address", async () => {
  const bed = makeBed({ dhcpcap: HN });
  bed.names.set(ip('10.77.1.100'), 'alpha.lab.example');
  const ack = await FakeClient.withMac(bed, 1).dora();
  assert.equal(hostOf(ack), 'alpha');
  assert.equal(bed.store.leases.get(ack!.yiaddr)!.hostname, 'alpha');
  bed.close();
});

test('namepool: pool names in order, then prefix + N + d, never reused', async () => {
  const bed = makeBed({ dhcpcap: HN, namepool: POOL });
  const names: Array<string | undefined> = [];
  for (let i = 1; i <= 4; i++) names.push(hostOf(await FakeClient.withMac(bed, i).dora()));
  assert.deepEqual(names, ['amber', 'basalt', 'labpc1d', 'labpc2d']);
  assert.equal(bed.store.names.get('lab.example', 'labpc1d')?.owner?.id.toString('hex'), '027700000103');
  bed.close();
});

test('namepool: two clients granted in the same turn get two names (the first to record a pool name keeps it)', async () => {
  // choose() is asynchronous: both REQUESTs are handled before either records its name. Found by
  // dynamic DNS, which saw one generated name asked for two addresses (bench/ddns.sh).
  const bed = makeBed({
    dhcpcap: HN,
    namepool: 'lab.example 10.77.1.1 labpc\n',
    'server.pcy': 'ping_timeout 0\nassign_name_by_hwaddr\n',
  });
  const clients = [1, 2, 3].map((i) => FakeClient.withMac(bed, i));
  const offers: DhcpPacket[] = [];
  for (const c of clients) offers.push((await c.discover())!);
  // (The harness pairs replies with requests by order, which concurrent sends do not keep: read the store.)
  await Promise.all(clients.map((c, i) => c.select(offers[i]!)));
  const names = offers.map((o) => bed.store.leases.get(o.yiaddr)?.hostname);
  assert.deepEqual([...names].sort(), ['labpc1d', 'labpc2d', 'labpc3d']);
  for (const [i, name] of names.entries()) {
    assert.equal(bed.store.names.get('lab.example', name!)?.owner?.id.toString('hex'), `02770000010${i + 1}`, String(name));
  }
  bed.close();
});

test('assign_name_by_hwaddr: a client keeps its first name wherever it goes; accept_client_name takes its suggestion', async () => {
  const files = { dhcpcap: HN.replace('netb:nw=10.77.2.0:', 'netb:nw=10.77.2.0:hn:'), namepool: POOL };
  let bed = makeBed({ ...files, 'server.pcy': 'ping_timeout 0\nassign_name_by_hwaddr\n' });
  const a = FakeClient.withMac(bed, 1);
  const first = await a.dora([[12, 'wanted']]);
  assert.equal(hostOf(first), 'amber', 'suggestion ignored without accept_client_name');
  a.ciaddr = 0;
  const moved = await a.dora([], { link: ip('10.77.2.1') });
  assert.equal(hostOf(moved), 'amber', 'same name on another network');
  bed.close();

  bed = makeBed({ ...files, 'server.pcy': 'ping_timeout 0\nassign_name_by_hwaddr\naccept_client_name\n' });
  const b = FakeClient.withMac(bed, 2);
  assert.equal(hostOf(await b.dora([[12, 'mybox']])), 'mybox');
  const c = FakeClient.withMac(bed, 3);
  assert.equal(hostOf(await c.dora([[12, 'mybox']])), 'amber', 'a name owned by another client is not taken');
  bed.close();
});

test('option 81: joind writes what the client leaves to it, and says so in the ACK (RFC 4702)', async () => {
  const bed = makeBed({
    namepool: POOL,
    'server.pcy': 'ping_timeout 0\nassign_name_by_hwaddr\nname_service_updateable on\nddns_server 127.0.0.1\n',
  });
  const fqdnOf = (p: DhcpPacket | undefined) => {
    const decoded = p?.options.has(81) ? decodeOptionValue(81, p.options.get(81)!) : undefined;
    return decoded?.ok ? decoded.value : undefined;
  };
  const ask = (flags: number, name: string) => [[81, { flags, rcode1: 0, rcode2: 0, name }]] as Array<[number, unknown]>;

  // S=1 (wire form): A, guard and PTR are joind's; the reply has S and the FQDN joind uses.
  const both = await FakeClient.withMac(bed, 1).dora(ask(0x05, 'mine.'));
  assert.deepEqual(fqdnOf(both), { flags: 0x05, rcode1: 255, rcode2: 255, name: 'amber.lab.example.' });
  assert.equal(bed.store.ddns.job(both!.yiaddr)?.op, 'add');
  assert.equal(bed.store.ddns.job(both!.yiaddr)?.fqdn, 'amber.lab.example');

  // S=0: the client writes its A record; joind the PTR only (reply N=0 S=0 O=0).
  const own = await FakeClient.withMac(bed, 2).dora(ask(0x04, 'theirs'));
  assert.deepEqual(fqdnOf(own), { flags: 0x04, rcode1: 255, rcode2: 255, name: 'basalt.lab.example.' });
  assert.equal(bed.store.ddns.job(own!.yiaddr)?.op, 'reverse');

  // N=1, ASCII form: no updates at all, and the reply says so (N) in the client's encoding.
  const none = await FakeClient.withMac(bed, 3).dora(ask(0x08, 'quiet'));
  assert.deepEqual(fqdnOf(none), { flags: 0x08, rcode1: 255, rcode2: 255, name: 'labpc1d.lab.example' });
  assert.equal(bed.store.ddns.job(none!.yiaddr), undefined);

  // No option 81: none in the reply, and joind writes it all.
  const plain = await FakeClient.withMac(bed, 4).dora();
  assert.equal(fqdnOf(plain), undefined);
  assert.equal(bed.store.ddns.job(plain!.yiaddr)?.op, 'add');
  bed.close();

  // Dynamic DNS off: option 81 goes unanswered, as with dhcpd without ddns-updates.
  const off = makeBed({ namepool: POOL, 'server.pcy': 'ping_timeout 0\nassign_name_by_hwaddr\n' });
  const quiet = await FakeClient.withMac(off, 1).dora(ask(0x05, 'mine.'));
  assert.equal(quiet?.options.get(53)?.[0], MessageType.ACK);
  assert.equal(fqdnOf(quiet), undefined);
  off.close();
});

test('relay: network chosen by giaddr, reply to the relay on port 67, option 82 echoed', async () => {
  const bed = makeBed();
  const c = FakeClient.withMac(bed, 1);
  c.giaddr = ip('10.77.3.1');
  const agent = Buffer.from([1, 3, 0x65, 0x74, 0x68, 2, 2, 0xab, 0xcd]);
  c.extraOptions.set(82, agent);
  const r = await c.send(c.packet(MessageType.DISCOVER));
  assert.equal(msgType(r[0]?.packet), MessageType.OFFER);
  assert.equal(ipToString(r[0]!.packet.yiaddr), '10.77.3.100');
  assert.deepEqual(r[0]!.dest, { kind: 'relay', ip: ip('10.77.3.1'), port: 67 });
  assert.deepEqual(r[0]!.packet.options.get(82), agent);
  assert.equal([...r[0]!.packet.options.keys()].at(-1), 82, 'option 82 comes last');
  const ack = await c.select(r[0]!.packet);
  assert.equal(msgType(ack), MessageType.ACK);
  bed.close();
});

test('the first packet from a new relay waits for our address towards it, never answers with a guess', async () => {
  // Seen with real clients behind ISC dhcrelay: the transport learns the kernel's source address towards
  // a relay asynchronously, the first answer fell back to the first address of the host (loopback on a
  // real machine), and the OFFER could not be sent (EINVAL) or would have named an unreachable server.
  const bed = makeBed();
  const learnt: number[] = [];
  Object.assign(bed.transport, {
    localAddressFor: (): number | undefined => undefined,
    learnLocalAddressFor: async (to: number): Promise<number | undefined> => {
      learnt.push(to);
      await new Promise((resolve) => setImmediate(resolve));
      return RELAY_SIDE;
    },
  });
  const c = FakeClient.withMac(bed, 1);
  c.giaddr = ip('10.77.3.1');
  const r = await c.send(c.packet(MessageType.DISCOVER));
  assert.equal(msgType(r[0]?.packet), MessageType.OFFER);
  assert.equal(ipToString(optU32(r[0]!.packet, 54)!), ipToString(RELAY_SIDE), 'server identifier: our address towards the relay');
  assert.deepEqual(learnt.map(ipToString), ['10.77.3.1']);
  bed.close();
});

test('relay on a network we are attached to is ignored unless reply_to_relay_on_local_net', async () => {
  let bed = makeBed();
  let c = FakeClient.withMac(bed, 1);
  c.giaddr = ip('10.77.9.2');
  c.extraOptions.set(118, Buffer.from([10, 77, 3, 0]));
  await c.expectDrop(c.packet(MessageType.DISCOVER), 'relay-on-local-net');
  bed.close();
  bed = makeBed({ 'server.pcy': 'ping_timeout 0\nreply_to_relay_on_local_net\n' });
  c = FakeClient.withMac(bed, 1);
  c.giaddr = ip('10.77.9.2');
  c.extraOptions.set(118, Buffer.from([10, 77, 3, 0]));
  const r = await c.send(c.packet(MessageType.DISCOVER));
  assert.equal(ipToString(r[0]!.packet.yiaddr), '10.77.3.100', 'subnet selection (118) chose network C');
  bed.close();
});

test('malformed packets are counted by kind and dropped; the server keeps serving', async () => {
  const bed = makeBed();
  await bed.server.handle({ data: Buffer.alloc(20), srcIp: 0, srcPort: 68 });
  assert.equal(
    Object.values(bed.server.counters.parseFailed).reduce((a, b) => a + b, 0),
    1,
  );
  assert.equal(msgType(await FakeClient.withMac(bed, 1).discover()), MessageType.OFFER);
  bed.close();
});
