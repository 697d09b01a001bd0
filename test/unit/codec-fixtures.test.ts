// Requests captured from real clients by test/fixtures/capture.sh decode with the fields each client is
// known to send, and re-encode to the very same bytes. Assertions are per client (not per file number),
// so a re-capture that catches one retransmission more or less still passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode } from '../../src/codec/decode';
import { encode } from '../../src/codec/encode';
import * as acc from '../../src/codec/accessors';
import { FQDN_FLAG_E, FQDN_FLAG_S } from '../../src/codec/options';
import { type DhcpPacket, MessageType } from '../../src/codec/types';
import { hexColons, ip } from '../../src/util/ipv4';

/** The fixtures folder, whether the tests run from dist/ inside the repo or from another output folder. */
function fixturesDir(): string {
  const candidates = [
    path.resolve(__dirname, '../../../test/fixtures/packets'),
    path.resolve(process.cwd(), 'test/fixtures/packets'),
  ];
  const found = candidates.find((dir) => fs.existsSync(dir));
  assert.ok(found, `no fixtures in ${candidates.join(' or ')}`);
  return found;
}

const dir = fixturesDir();
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bin'))
  .sort();

function packetsOf(client: string): Array<{ name: string; bytes: Buffer; pkt: DhcpPacket }> {
  const list = files
    .filter((f) => f.startsWith(client + '-'))
    .map((name) => {
      const bytes = fs.readFileSync(path.join(dir, name));
      const result = decode(bytes);
      assert.ok(result.ok, `${name}: ${result.ok ? '' : result.error.message}`);
      return { name, bytes, pkt: result.packet };
    });
  assert.ok(list.length > 0, `no ${client} fixtures`);
  return list;
}

const mac = (pkt: DhcpPacket) => hexColons(acc.hardwareAddress(pkt));

test('every fixture decodes and re-encodes to the same bytes', () => {
  assert.ok(files.length >= 10, `only ${files.length} fixtures`);
  for (const name of files) {
    const bytes = fs.readFileSync(path.join(dir, name));
    const result = decode(bytes, { requireEnd: true });
    assert.ok(result.ok, `${name}: ${result.ok ? '' : result.error.message}`);
    const again = encode(result.packet, { maxMessageSize: 1500, minSize: bytes.length });
    assert.deepEqual(again, bytes, name);
  }
});

test('ISC dhclient: DISCOVER and INIT-REBOOT REQUEST with host name and its request list', () => {
  const packets = packetsOf('dhclient');
  const types = new Set(packets.map(({ pkt }) => acc.messageType(pkt)));
  assert.ok(types.has(MessageType.DISCOVER) && types.has(MessageType.REQUEST));
  for (const { name, pkt } of packets) {
    assert.equal(pkt.op, 1, name);
    assert.equal(pkt.htype, 1);
    assert.equal(mac(pkt), '02:6a:63:00:00:01');
    assert.equal(pkt.giaddr, 0);
    assert.equal(acc.hostName(pkt), 'jcodec-dhclient');
    assert.deepEqual(acc.parameterRequestList(pkt), [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]);
    assert.equal(acc.clientIdentifier(pkt), undefined, 'dhclient sends no client id by default');
    assert.equal(acc.serverIdentifier(pkt), undefined, 'INIT-REBOOT names no server');
    if (acc.messageType(pkt) === MessageType.REQUEST) assert.equal(acc.requestedAddress(pkt), ip('10.78.0.50'));
    else assert.equal(acc.requestedAddress(pkt), undefined);
  }
});

test('busybox udhcpc: DISCOVER with requested address, client id 01:MAC, vendor class and ASCII FQDN', () => {
  for (const { name, pkt } of packetsOf('udhcpc')) {
    assert.equal(acc.messageType(pkt), MessageType.DISCOVER, name);
    assert.equal(mac(pkt), '02:6a:63:00:00:02');
    assert.equal(acc.requestedAddress(pkt), ip('10.78.0.60'));
    assert.deepEqual(acc.clientIdentifier(pkt), Buffer.from('01026a63000002', 'hex'));
    assert.equal(acc.hostName(pkt), 'jcodec-udhcpc');
    assert.equal(acc.vendorClass(pkt), 'jcodec-vendor');
    assert.equal(acc.maxMessageSize(pkt), 576);
    assert.deepEqual(acc.parameterRequestList(pkt), [1, 3, 6, 12, 15, 28, 42, 119, 121]);
    assert.deepEqual(acc.clientFqdn(pkt), { flags: FQDN_FLAG_S, rcode1: 0, rcode2: 0, name: 'jcodec-udhcpc.example.org' });
  }
});

test('dhcpcd: DISCOVER and INFORM with a DUID client id and a wire-format partial FQDN', () => {
  const packets = packetsOf('dhcpcd');
  const types = new Set(packets.map(({ pkt }) => acc.messageType(pkt)));
  assert.ok(types.has(MessageType.DISCOVER) && types.has(MessageType.INFORM));
  for (const { name, pkt } of packets) {
    assert.equal(mac(pkt), '02:6a:63:00:00:03', name);
    const clientId = acc.clientIdentifier(pkt)!;
    assert.equal(clientId[0], 255, 'RFC 4361: type 255, IAID, DUID');
    assert.deepEqual(clientId.subarray(1, 5), Buffer.from('63000003', 'hex'), 'IAID from the MAC');
    assert.deepEqual(clientId.subarray(-6), acc.hardwareAddress(pkt), 'DUID-LL(T) ends with the MAC');
    assert.equal(acc.maxMessageSize(pkt), 1472);
    assert.deepEqual(acc.clientFqdn(pkt), { flags: FQDN_FLAG_S | FQDN_FLAG_E, rcode1: 0, rcode2: 0, name: 'jcodec-dhcpcd' });
    assert.deepEqual(acc.parameterRequestList(pkt)!.slice(0, 5), [1, 121, 3, 6, 12]);
    if (acc.messageType(pkt) === MessageType.INFORM) {
      assert.equal(pkt.ciaddr, ip('10.78.0.2'), 'INFORM carries the configured address');
    } else {
      assert.equal(pkt.ciaddr, 0);
      assert.ok(pkt.options.has(80), 'rapid commit');
      assert.deepEqual(pkt.options.get(80), Buffer.alloc(0));
    }
  }
});

test('bootpc: plain BOOTREQUEST, cookie and no options, boot file name in file', () => {
  const packets = packetsOf('bootpc');
  for (const { name, bytes, pkt } of packets) {
    assert.equal(bytes.length, 300, name);
    assert.equal(pkt.op, 1);
    assert.equal(mac(pkt), '02:6a:63:00:00:04');
    assert.equal(pkt.hasMagicCookie, true);
    assert.equal(pkt.options.size, 0);
    assert.equal(acc.messageType(pkt), undefined);
  }
  assert.ok(packets.some(({ pkt }) => pkt.file === 'jcodec.boot'));
  assert.ok(packets.some(({ pkt }) => pkt.file === ''));
});

test('perfdhcp: relayed DISCOVER (giaddr, hops 1), 262 bytes, shorter than the BOOTP 300', () => {
  for (const { name, bytes, pkt } of packetsOf('perfdhcp')) {
    assert.equal(bytes.length, 262, name);
    assert.equal(acc.messageType(pkt), MessageType.DISCOVER);
    assert.equal(pkt.giaddr, ip('10.78.0.2'));
    assert.equal(pkt.hops, 1);
    assert.equal(mac(pkt), '00:0c:01:02:03:04');
    assert.deepEqual(acc.clientIdentifier(pkt), Buffer.from('01000c01020304', 'hex'));
    assert.deepEqual(acc.parameterRequestList(pkt), [1, 28, 2, 3, 15, 6, 12]);
  }
});
