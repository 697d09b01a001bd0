// Options on the wire (issue 16, parts 1 and 4): the named tags for the options sites ask for (121,
// 119, 150, 252, 43), generic T<code> tags, vendor sub-options assembled into one option 43, fo forcing
// options the client did not ask for, and what every reply copies from the request: the client
// identifier (RFC 6842, NAK included), the subnet selection (RFC 3011), and a PXE client's UUID (97)
// with option 60 "PXEClient" when it is answered with a boot file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOptionValue } from '../../src/codec/options';
import { MessageType } from '../../src/codec/types';
import { ip } from '../../src/util/ipv4';
import { FakeClient, makeBed, msgType } from './harness';

const DHCPCAP = [
  '.site:dn=lab.example:ds=10.77.1.1:',
  'neta:nw=10.77.1.0:sm=255.255.255.0:gw=10.77.1.1:lt=600:tc=.site:\\',
  '  :cr=10.0.0.0/8 10.77.1.254, 0.0.0.0/0 10.77.1.1:sd=lab.example corp.example:tf=10.77.1.5 10.77.1.6:\\',
  '  :wp="http://wpad.lab.example/wpad.dat":T43.2="two":T43.1=0x0a0b:T224=0xcafe:T72=10.77.1.7:fo=224 252:',
  // A PXE client by its vendor class, with a boot file.
  'pxe:ct="PXEClient:Arch:00007*":bf=ipxe.efi:sa=10.77.1.5:',
  'netb:nw=10.77.2.0:sm=255.255.255.0:gw=10.77.2.1:tc=.site:',
  '',
].join('\n');

function value(packet: { options: Map<number, Buffer> } | undefined, code: number): unknown {
  const bytes = packet?.options.get(code);
  if (!bytes) return undefined;
  const decoded = decodeOptionValue(code, bytes);
  assert.ok(decoded.ok, `option ${code} decodes`);
  return decoded.value;
}

test('named and generic option tags go out typed; fo sends options unasked; sub-options make one 43', async () => {
  const bed = makeBed({ dhcpcap: DHCPCAP });
  const c = FakeClient.withMac(bed, 1);
  const ack = await c.dora([[55, [1, 3, 121, 119, 150, 43, 72]]]);
  assert.equal(msgType(ack), MessageType.ACK);
  assert.deepEqual(value(ack, 121), [
    { destination: ip('10.0.0.0'), prefixLength: 8, router: ip('10.77.1.254') },
    { destination: 0, prefixLength: 0, router: ip('10.77.1.1') },
  ]);
  assert.deepEqual(value(ack, 119), ['lab.example', 'corp.example']);
  assert.deepEqual(value(ack, 150), [ip('10.77.1.5'), ip('10.77.1.6')]);
  assert.deepEqual(value(ack, 72), [ip('10.77.1.7')], 'T72: www-server, typed by the codec as addresses');
  // Sub-options by code, each code, length, data.
  assert.deepEqual(ack!.options.get(43), Buffer.from([1, 2, 0x0a, 0x0b, 2, 3, ...Buffer.from('two')]));
  // Not asked for, but forced by fo: 224 and 252, after the asked ones.
  assert.deepEqual(ack!.options.get(224), Buffer.from([0xca, 0xfe]));
  assert.equal(value(ack, 252), 'http://wpad.lab.example/wpad.dat');
  assert.deepEqual([...ack!.options.keys()], [53, 54, 51, 58, 59, 1, 3, 121, 119, 150, 43, 72, 224, 252]);
  // Without fo, an option the client did not ask for stays out (15 is configured, not asked).
  assert.equal(ack!.options.has(15), false);
  bed.close();
});

test('the client identifier is echoed in OFFER, ACK and NAK (RFC 6842); the subnet selection too (RFC 3011)', async () => {
  const bed = makeBed();
  const id = Buffer.from([0xff, 0, 0, 0, 1, 0, 1, 0x2a]);
  const c = FakeClient.withMac(bed, 2, id);
  const offer = await c.discover();
  assert.deepEqual(offer!.options.get(61), id);
  const ack = await c.select(offer!);
  assert.deepEqual(ack!.options.get(61), id);
  c.ciaddr = 0;
  const nak = (await c.send(c.packet(MessageType.REQUEST, [[50, ip('10.77.2.100')]])))[0]?.packet;
  assert.equal(msgType(nak), MessageType.NAK);
  assert.deepEqual(nak!.options.get(61), id, 'a NAK too');
  // A client without an identifier gets none back.
  const plain = FakeClient.withMac(bed, 3);
  assert.equal((await plain.discover())!.options.has(61), false);
  // Option 118 picks the subnet and comes back as sent.
  const selecting = FakeClient.withMac(bed, 4);
  const offerB = await selecting.discover([[118, ip('10.77.2.0')]]);
  assert.equal(offerB!.yiaddr >>> 8, ip('10.77.2.0') >>> 8, 'an address of the selected subnet');
  assert.equal(value(offerB, 118), ip('10.77.2.0'));
  bed.close();
});

test('a PXE client answered with a boot file gets its UUID (97) back and option 60 "PXEClient"', async () => {
  const bed = makeBed({ dhcpcap: DHCPCAP });
  const uuid = Buffer.from([0, ...Array.from({ length: 16 }, (_, i) => i)]);
  const pxe = FakeClient.withMac(bed, 5);
  const vendorClass = 'PXEClient:Arch:00007:UNDI:003016';
  const offer = await pxe.discover([
    [60, vendorClass],
    [97, uuid],
    [93, [7]],
    [55, [1, 3, 66, 67]],
  ]);
  assert.equal(offer!.file, 'ipxe.efi');
  assert.deepEqual(offer!.options.get(97), uuid);
  assert.equal(offer!.options.get(60)?.toString('latin1'), 'PXEClient');
  // Another PXE firmware, with no boot file configured for its architecture: nothing PXE-specific.
  const plain = FakeClient.withMac(bed, 6);
  const other = await plain.discover([
    [60, 'PXEClient:Arch:00000:UNDI:002001'],
    [97, uuid],
  ]);
  assert.equal(other!.file, '');
  assert.equal(other!.options.has(97), false);
  assert.equal(other!.options.has(60), false);
  bed.close();
});
