// Range entries (issue 16, part 2: dhcpd's pool permits): dhcpcap entries with ra= say who may be given
// the addresses of some of a network's ranges: kn known clients, ku unknown ones, nb no dynamic BOOTP,
// am members of a class entry, dm no member. Network a (10.77.1.100-109) is cut into four: staff (known
// only), phones (members of voip), guests (unknown, no BOOTP), and the open rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/codec/types';
import { ip, ipToString } from '../../src/util/ipv4';
import { BASE_FILES, FakeClient, makeBed, msgType } from './harness';

const DHCPCAP = [
  BASE_FILES.dhcpcap.trimEnd(),
  'voip:ct="Polycom*":',
  'staff:nw=10.77.1.0:ra=10.77.1.100-10.77.1.102:kn:',
  'phones:nw=10.77.1.0:ra=10.77.1.103-10.77.1.104:am=voip:',
  'guests:nw=10.77.1.0:ra=10.77.1.105 10.77.1.106-10.77.1.107:ku:nb:',
  'known1:ht=1:ha=027700000150:',
  '',
].join('\n');

const POLYCOM: Array<[number, unknown]> = [[60, 'Polycom-VVX400']];

function bed(policy = '') {
  return makeBed({ dhcpcap: DHCPCAP, 'server.pcy': BASE_FILES['server.pcy'] + policy });
}

const offered = async (c: FakeClient, options: Array<[number, unknown]> = []): Promise<string | undefined> => {
  const offer = await c.discover(options);
  return offer && ipToString(offer.yiaddr);
};

test('a client is offered only addresses of ranges it is admitted to, those with a rule first', async () => {
  const b = bed();
  assert.equal(await offered(FakeClient.withMac(b, 0x50)), '10.77.1.100', 'a host entry: staff');
  assert.equal(await offered(FakeClient.withMac(b, 0x51)), '10.77.1.105', 'unknown: not staff, not phones; guests');
  assert.equal(await offered(FakeClient.withMac(b, 0x52), POLYCOM), '10.77.1.103', 'a voip member: phones');
  b.store.registered.register(1, Buffer.from([0x02, 0x77, 0, 0, 1, 0x53]));
  assert.equal(await offered(FakeClient.withMac(b, 0x53)), '10.77.1.101', 'registered is known: staff');
  b.close();
});

test('an address in a range the client may not have: not offered when asked for, NAKed when requested', async () => {
  const b = bed();
  const stranger = FakeClient.withMac(b, 0x51);
  assert.equal(await offered(stranger, [[50, ip('10.77.1.101')]]), '10.77.1.105', 'asked for staff, given a guest address');
  const nak = (
    await stranger.send(
      stranger.packet(MessageType.REQUEST, [
        [50, ip('10.77.1.101')],
        [54, ip('10.77.1.1')],
      ]),
    )
  )[0];
  assert.equal(nak && msgType(nak.packet), MessageType.NAK);
  // A registered client leases from staff; unregistered, its renewal is refused (dhcpd NAKs it too) and
  // it starts again in a range it may have.
  const mac = Buffer.from([0x02, 0x77, 0, 0, 1, 0x54]);
  b.store.registered.register(1, mac);
  const laptop = FakeClient.withMac(b, 0x54);
  const ack = await laptop.dora();
  assert.equal(ack && ipToString(ack.yiaddr), '10.77.1.100');
  b.store.registered.unregister(1, mac);
  const renewal = (await laptop.send(laptop.packet(MessageType.REQUEST), { unicast: true }))[0];
  assert.equal(renewal && msgType(renewal.packet), MessageType.NAK, 'no longer admitted to staff');
  laptop.ciaddr = 0;
  assert.equal(await offered(laptop), '10.77.1.106', 'a guest address (the stranger still holds .105)');
  b.close();
});

test('nb: no dynamic BOOTP in the range; a BOOTP client is given an open address', async () => {
  const b = bed('dynamic_bootp\n');
  const old = FakeClient.withMac(b, 0x60);
  const reply = (await old.send(old.packet(undefined)))[0];
  assert.equal(reply && ipToString(reply.packet.yiaddr), '10.77.1.108', 'not guests (nb), not staff or phones');
  b.close();
});

test('when every range a client may have is full it gets no offer, and the drop says why', async () => {
  const b = bed();
  // Unknown clients may have guests (3) and the open range (2).
  const got = [];
  for (let i = 0; i < 5; i++) got.push(await offered(FakeClient.withMac(b, 0x70 + i)));
  assert.deepEqual(got, ['10.77.1.105', '10.77.1.106', '10.77.1.107', '10.77.1.108', '10.77.1.109']);
  const late = FakeClient.withMac(b, 0x7f);
  // Staff and phones still have free addresses: not an exhausted pool, a refused client.
  await late.expectDrop(late.packet(MessageType.DISCOVER), 'no-range-admits');
  assert.equal(await offered(FakeClient.withMac(b, 0x50)), '10.77.1.100', 'a known client still gets staff');
  b.close();
});

test('dm: members of a class are kept out of a range', async () => {
  const b = makeBed({
    dhcpcap: DHCPCAP.replace(
      'guests:nw=10.77.1.0:ra=10.77.1.105 10.77.1.106-10.77.1.107:ku:nb:',
      'guests:nw=10.77.1.0:ra=10.77.1.105-10.77.1.107:dm=voip:',
    ),
  });
  const addresses = [];
  for (let i = 0; i < 3; i++) addresses.push(await offered(FakeClient.withMac(b, 0x80 + i), POLYCOM));
  // Phones (2), then not guests (dm=voip): the open range.
  assert.deepEqual(addresses, ['10.77.1.103', '10.77.1.104', '10.77.1.108']);
  b.close();
});
