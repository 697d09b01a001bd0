// INFORM; BOOTP from permanent bindings and from the pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import { LeaseState } from '../../src/store';
import { ip, ipToString } from '../../src/util/ipv4';
import { BASE_FILES, FakeClient, makeBed, msgType, optU32 } from './harness';

const HOSTS =
  BASE_FILES.dhcpcap +
  [
    'printer7:ht=ether:ha=02770000010a:ip=10.77.1.50:bf=p7.cfg:hd=/tftpboot:sa=10.77.1.1:sn=boothost:hn:tc=neta:',
    'wrongnet:ht=1:ha=02-77-00-00-01-0b:ip=10.77.2.50:',
    '',
  ].join('\n');

test('INFORM: ACK with the configuration, no lease time, no yiaddr, unicast to ciaddr', async () => {
  const bed = makeBed();
  const c = FakeClient.withMac(bed, 1);
  c.ciaddr = ip('10.77.1.20');
  const r = await c.send(c.packet(MessageType.INFORM, [[55, [1, 3, 6, 15]]]));
  const ack = r[0]!.packet;
  assert.equal(msgType(ack), MessageType.ACK);
  assert.equal(ack.yiaddr, 0);
  assert.equal(ack.options.has(51), false);
  assert.equal(optU32(ack, 3), ip('10.77.1.1'));
  assert.deepEqual(r[0]!.dest, { kind: 'unicast', ip: ip('10.77.1.20'), port: 68, ifname: 'veth-a' });
  assert.equal(bed.store.leases.get(ip('10.77.1.20')), undefined, 'no lease');
  bed.close();
});

test('BOOTP: a permanent binding gets its address, boot file with hd prefix, sname, siaddr; reply padded to 300', async () => {
  const bed = makeBed({ dhcpcap: HOSTS });
  const c = FakeClient.withMac(bed, 0x0a);
  const r = await c.send(c.packet(undefined));
  const reply = r[0]!.packet;
  assert.equal(reply.op, 2);
  assert.equal(ipToString(reply.yiaddr), '10.77.1.50');
  assert.equal(reply.file, '/tftpboot/p7.cfg');
  assert.equal(reply.sname, 'boothost');
  assert.equal(ipToString(reply.siaddr), '10.77.1.1');
  assert.equal(reply.options.has(53), false, 'a BOOTREPLY has no DHCP message type');
  assert.equal(optU32(reply, 1), ip('255.255.255.0'));
  assert.equal(reply.options.get(12)?.toString(), 'printer7', 'hn: the host name goes out');
  assert.ok(r[0]!.bytes.length >= 300, `reply is ${r[0]!.bytes.length} bytes`);
  bed.close();
});

test('BOOTP: a binding on another network is refused with check_bootp_client_net, served without it', async () => {
  let bed = makeBed({ dhcpcap: HOSTS, 'server.pcy': 'ping_timeout 0\ncheck_bootp_client_net\n' });
  let c = FakeClient.withMac(bed, 0x0b);
  await c.expectDrop(c.packet(undefined), 'bootp-wrong-network');
  bed.close();
  bed = makeBed({ dhcpcap: HOSTS });
  c = FakeClient.withMac(bed, 0x0b);
  assert.equal(ipToString((await c.send(c.packet(undefined)))[0]!.packet.yiaddr), '10.77.2.50');
  bed.close();
});

test('BOOTP: unknown clients are ignored unless dynamic_bootp, which gives a permanent pool address', async () => {
  let bed = makeBed();
  let c = FakeClient.withMac(bed, 0x21);
  await c.expectDrop(c.packet(undefined), 'bootp-without-binding');
  bed.close();
  bed = makeBed({ 'server.pcy': 'ping_timeout 0\nbootp_addr_from_pool\n' });
  c = FakeClient.withMac(bed, 0x21);
  const first = (await c.send(c.packet(undefined)))[0]!.packet;
  assert.equal(ipToString(first.yiaddr), '10.77.1.100');
  const rec = bed.store.leases.get(first.yiaddr)!;
  assert.equal(rec.state, LeaseState.BOOTP);
  assert.equal(rec.ends, null, 'permanent');
  const again = (await c.send(c.packet(undefined)))[0]!.packet;
  assert.equal(again.yiaddr, first.yiaddr, 'the same address every time');
  bed.close();
});

test('BOOTP off: support_bootp off ignores BOOTREQUESTs', async () => {
  const bed = makeBed({ dhcpcap: HOSTS, 'server.pcy': 'ping_timeout 0\nsupport_bootp off\n' });
  const c = FakeClient.withMac(bed, 0x0a);
  await c.expectDrop(c.packet(undefined), 'bootp-not-supported');
  assert.equal(bed.server.counters.dropped['bootp-not-supported'], 1);
  bed.close();
});

test('DHCP client with a bootfile: option 67 unless bootfile_not_sent_as_option; file field always', async () => {
  let bed = makeBed({ dhcpcap: HOSTS });
  let c = FakeClient.withMac(bed, 0x0a);
  let ack = await c.dora([[55, [1, 67]]]);
  assert.equal(ipToString(ack!.yiaddr), '10.77.1.50', 'the static binding');
  assert.equal(ack!.file, '/tftpboot/p7.cfg');
  assert.equal(ack!.options.get(67)?.toString(), '/tftpboot/p7.cfg');
  bed.close();
  bed = makeBed({ dhcpcap: HOSTS, 'server.pcy': 'ping_timeout 0\nbootfile_not_sent_as_option\n' });
  c = FakeClient.withMac(bed, 0x0a);
  ack = await c.dora([[55, [1, 67]]]);
  assert.equal(ack!.file, '/tftpboot/p7.cfg');
  assert.equal(ack!.options.has(67), false);
  bed.close();
});
