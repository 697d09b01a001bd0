// Classes and client identity (issue 16, part 2): dhcpcap entries that apply by user class (77, whole
// or one class of an RFC 3004 list), client architecture (93) and the relay's circuit id and remote id
// (82.1, 82.2); ignore_client_uids (one lease per hardware address, whatever identifiers it sends); and
// the lease a client may ask for between ln and lx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeOptionValue } from '../../src/codec/options';
import { MessageType } from '../../src/codec/types';
import { ip } from '../../src/util/ipv4';
import { BASE_FILES, FakeClient, makeBed, msgType, optU32 } from './harness';

const DHCPCAP = [
  BASE_FILES.dhcpcap.trimEnd(),
  'ipxe:uc=iPXE:bf=boot.ipxe:',
  'uefi:ca=7 9:bf=snp.efi:',
  'port7:nw=10.77.3.0:ci="Gi0/7":lt=900:',
  'subscriber:ri=0x0a0b0c:gw=10.77.3.254:',
  'port9:nw=10.77.3.0:ci="Gi0/9":ip=10.77.3.50:',
  '',
].join('\n');

/** A relayed client (netc, 10.77.3.0) whose relay adds option 82 with these sub-options. */
function relayed(bed: ReturnType<typeof makeBed>, last: number, subs: Array<{ code: number; data: Buffer }>): FakeClient {
  const c = FakeClient.withMac(bed, last);
  c.giaddr = ip('10.77.3.1');
  c.extraOptions.set(82, encodeOptionValue(82, subs));
  return c;
}

test('user class: the whole option 77, or one class of its RFC 3004 list; architecture: any type of 93', async () => {
  const bed = makeBed({ dhcpcap: DHCPCAP });
  const plain = await FakeClient.withMac(bed, 1).discover([[77, Buffer.from('iPXE')]]);
  assert.equal(plain!.file, 'boot.ipxe', 'iPXE sends its class as plain text');
  const listed = await FakeClient.withMac(bed, 2).discover([[77, Buffer.from([3, 0x61, 0x62, 0x63, 4, ...Buffer.from('iPXE')])]]);
  assert.equal(listed!.file, 'boot.ipxe', 'one class of an RFC 3004 list');
  const other = await FakeClient.withMac(bed, 3).discover([[77, Buffer.from('iPXE2')]]);
  assert.equal(other!.file, '', 'a class that only starts the same is another class');
  const uefi = await FakeClient.withMac(bed, 4).discover([[93, [9]]]);
  assert.equal(uefi!.file, 'snp.efi');
  const bios = await FakeClient.withMac(bed, 5).discover([[93, [0]]]);
  assert.equal(bios!.file, '', 'architecture 0 (BIOS) is not one of 7 9');
  bed.close();
});

test("relay agent circuit id and remote id choose entries; a network's class entry only on its network", async () => {
  const bed = makeBed({ dhcpcap: DHCPCAP });
  const onPort = relayed(bed, 10, [{ code: 1, data: Buffer.from('Gi0/7') }]);
  const offer = await onPort.discover([[55, [1, 3, 51]]]);
  assert.equal(optU32(offer, 51), 900, 'the port7 entry: lt 900');
  const otherPort = relayed(bed, 11, [{ code: 1, data: Buffer.from('Gi0/8') }]);
  assert.equal(optU32(await otherPort.discover([[55, [1, 3, 51]]]), 51), 1200, "netc's own lt");
  const sub = relayed(bed, 12, [
    { code: 1, data: Buffer.from('Gi0/7') },
    { code: 2, data: Buffer.from([0x0a, 0x0b, 0x0c]) },
  ]);
  const both = await sub.discover([[55, [1, 3, 51]]]);
  assert.equal(optU32(both, 51), 900);
  assert.equal(optU32(both, 3), ip('10.77.3.254'), 'the subscriber entry: its router');
  // On-link there is no option 82: none of the relay's classes apply.
  const onLink = await FakeClient.withMac(bed, 13).discover([[55, [1, 3, 51]]]);
  assert.equal(optU32(onLink, 3), ip('10.77.1.1'));
  bed.close();
});

test('a port binding (ip with ci): whoever the relay reports on the port gets the address, a swapped device too', async () => {
  const bed = makeBed({ dhcpcap: DHCPCAP });
  const port9 = [{ code: 1, data: Buffer.from('Gi0/9') }];
  const first = relayed(bed, 40, port9);
  const ack = await first.dora();
  assert.equal(msgType(ack), MessageType.ACK);
  assert.equal(ack!.yiaddr, ip('10.77.3.50'));
  // The device is swapped: another MAC on the same port gets the same address.
  const swapped = relayed(bed, 41, port9);
  const again = await swapped.dora();
  assert.equal(msgType(again), MessageType.ACK);
  assert.equal(again!.yiaddr, ip('10.77.3.50'));
  assert.equal(bed.store.leases.get(ip('10.77.3.50'))?.hwaddr?.toString('hex'), '027700000129', "the lease is the new device's");
  // The old device, now on another port, rebooting with the address: its lease went to the new device,
  // so the server has no record of it and stays silent (RFC 2131 4.3.2).
  const moved = relayed(bed, 40, [{ code: 1, data: Buffer.from('Gi0/2') }]);
  moved.ciaddr = 0;
  await moved.expectDrop(moved.packet(MessageType.REQUEST, [[50, ip('10.77.3.50')]]), 'init-reboot-unknown-client');
  // A client on another port never gets it from the pool: new clients there get range addresses.
  const other = await relayed(bed, 42, [{ code: 1, data: Buffer.from('Gi0/3') }]).discover();
  assert.notEqual(other!.yiaddr, ip('10.77.3.50'));
  bed.close();
});

test('ignore_client_uids: a PXE boot and the OS after it, with two identifiers, are one lease', async () => {
  for (const ignore of [false, true]) {
    const bed = makeBed({ 'server.pcy': `${BASE_FILES['server.pcy']}ignore_client_uids ${ignore ? 'on' : 'off'}\n` });
    const firmware = FakeClient.withMac(bed, 20, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    const first = await firmware.dora();
    assert.equal(msgType(first), MessageType.ACK);
    const os = FakeClient.withMac(bed, 20, Buffer.from([1, 0x02, 0x77, 0, 0, 1, 20]));
    const second = await os.dora();
    if (ignore) assert.equal(second!.yiaddr, first!.yiaddr, 'the same lease');
    else assert.notEqual(second!.yiaddr, first!.yiaddr, 'two identifiers, two clients, two leases');
    // The identifier is still echoed (RFC 6842).
    assert.deepEqual(second!.options.get(61), Buffer.from([1, 0x02, 0x77, 0, 0, 1, 20]));
    bed.close();
  }
});

test('the lease a client asks for is held between ln and lx; without them, at most lt', async () => {
  const bed = makeBed({
    dhcpcap: BASE_FILES.dhcpcap.replace('neta:nw=10.77.1.0:', 'neta:nw=10.77.1.0:ln=120:lx=7200:'),
  });
  const ask = async (last: number, seconds: number | undefined, link?: number): Promise<number | undefined> => {
    const c = FakeClient.withMac(bed, last);
    const options: Array<[number, unknown]> = seconds === undefined ? [] : [[51, seconds]];
    return optU32(await c.discover(options, link === undefined ? {} : { link }), 51);
  };
  assert.equal(await ask(30, undefined), 600, 'not asking: lt');
  assert.equal(await ask(31, 60), 120, 'asking for less than ln: ln');
  assert.equal(await ask(32, 3000), 3000, 'asking between: what it asked, above lt');
  assert.equal(await ask(33, 99999), 7200, 'asking for more than lx: lx');
  // netb has neither: asking for more than the lease time gets the lease time, less gets what it asked.
  assert.equal(await ask(34, 99999, ip('10.77.2.1')), 3600);
  assert.equal(await ask(35, 60, ip('10.77.2.1')), 60);
  bed.close();
});

test('kn (known clients only): an unknown client gets no new address; a host entry or a registration does', async () => {
  const bed = makeBed({
    dhcpcap: BASE_FILES.dhcpcap.replace('netb:nw=10.77.2.0:', 'netb:nw=10.77.2.0:kn:') + 'known:ht=1:ha=027700000133:\n',
  });
  const onB = { link: ip('10.77.2.1') };
  const stranger = FakeClient.withMac(bed, 0x31);
  // No host entry, not registered: silence, so that another server may answer (dhcpd does the same).
  await stranger.expectDrop(stranger.packet(MessageType.DISCOVER), 'unknown-client', onB);
  assert.equal(msgType(await FakeClient.withMac(bed, 0x33).discover([], onB)), MessageType.OFFER, 'a host entry');
  bed.store.registered.register(1, Buffer.from([0x02, 0x77, 0, 0, 1, 0x31]));
  assert.equal(msgType(await stranger.discover([], onB)), MessageType.OFFER, 'registered with joind register');
  // Network a has no kn: anyone.
  assert.equal(msgType(await FakeClient.withMac(bed, 0x34).discover()), MessageType.OFFER);
  bed.close();
});
