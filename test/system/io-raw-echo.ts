// Test helper for test/system/io-raw.test.sh (not part of joind): runs the raw transport on the served
// interfaces of its network namespace and answers every BOOTREQUEST with a copy of itself turned into a
// BOOTREPLY (op 2, a fixed yiaddr), sent where RFC 2131 section 4.1 says a reply goes. No DHCP logic: it
// tests the transport, not the server. Prints one JSON line per inbound datagram and per event on stdout.
//
// Environment: IFNAMES (comma list served once ready), INITIAL_IFNAMES (served at start, default IFNAMES;
// the switch exercises refreshInterfaces), KIND (raw|auto, default raw), READY (file written when ready),
// LIFETIME_MS (exit after this long, default 60000), YIADDR (yiaddr for requests that came without an
// interface, default 10.78.3.100). SIGTERM prints the transport's counters and exits.

import fs from 'node:fs';

import { openTransport } from '../../src/io/choose-transport';
import { listIpv4Interfaces, type NetworkInterfaceV4 } from '../../src/io/interfaces';
import { RawTransport } from '../../src/io/raw';
import type { Destination, Inbound } from '../../src/io/transport';
import { ip, ipToString, maskFromPrefix } from '../../src/util/ipv4';

const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const FLAG_BROADCAST = 0x8000;
const BOOTP_MIN_LENGTH = 236;

function print(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function interfacesNamed(list: string | undefined): NetworkInterfaceV4[] {
  const names = (list ?? '').split(',').filter((name) => name !== '');
  const all = listIpv4Interfaces();
  return names.map((name) => {
    const info = all.find((candidate) => candidate.name === name);
    if (info === undefined) throw new Error(`no interface ${name} with an IPv4 address`);
    return info;
  });
}

/** Where RFC 2131 4.1 sends the reply to `request` (BOOTP fields only; no NAK in this helper). */
function destinationOf(request: Buffer, yiaddr: number, packet: Inbound): Destination {
  const giaddr = request.readUInt32BE(24);
  const ciaddr = request.readUInt32BE(12);
  const ifname = packet.ifname === undefined ? {} : { ifname: packet.ifname };
  if (giaddr !== 0) return { kind: 'relay', ip: giaddr, port: 67 };
  if (ciaddr !== 0) return { kind: 'unicast', ip: ciaddr, port: 68, ...ifname };
  if ((request.readUInt16BE(10) & FLAG_BROADCAST) !== 0) return { kind: 'broadcast', port: 68, ...ifname };
  const hlen = Math.min(request[2]!, 16);
  return { kind: 'unicast', ip: yiaddr, port: 68, mac: request.subarray(28, 28 + hlen), ...ifname };
}

async function main(): Promise<void> {
  const lifetime = Number(process.env['LIFETIME_MS'] ?? 60000);
  setTimeout(() => {
    print({ event: 'lifetime-exceeded' });
    process.exit(3);
  }, lifetime).unref();
  const finalInterfaces = interfacesNamed(process.env['IFNAMES']);
  const initialInterfaces = process.env['INITIAL_IFNAMES'] ? interfacesNamed(process.env['INITIAL_IFNAMES']) : finalInterfaces;
  const fallbackYiaddr = ip(process.env['YIADDR'] ?? '10.78.3.100');

  const kind = process.env['KIND'] === 'auto' ? 'auto' : 'raw';
  const opened = openTransport(kind, initialInterfaces, {
    log: { warn: (fields, message) => print({ event: 'warning', fields, message }) },
    onSendError: (err, dest) => print({ event: 'send-error', error: err.message, dest: dest.kind }),
    onSocketError: (err) => print({ event: 'socket-error', error: err.message }),
  });
  if (!(opened.transport instanceof RawTransport)) throw new Error(`expected the raw transport, got ${opened.kind}`);
  const transport = opened.transport;

  await transport.start((packet) => {
    const data = packet.data;
    const line: Record<string, unknown> = {
      ifname: packet.ifname ?? null,
      srcIp: ipToString(packet.srcIp),
      srcPort: packet.srcPort,
      dstIp: packet.dstIp === undefined ? null : ipToString(packet.dstIp),
      length: data.length,
    };
    if (data.length >= BOOTP_MIN_LENGTH && data[0] === BOOTREQUEST) {
      const first = packet.interfaceAddresses?.[0];
      const yiaddr =
        data.readUInt32BE(12) || (first ? ((first.address & maskFromPrefix(first.prefixLength)) >>> 0) + 100 : fallbackYiaddr);
      const reply = Buffer.from(data);
      reply[0] = BOOTREPLY;
      reply.writeUInt32BE(yiaddr, 16);
      const dest = destinationOf(data, yiaddr, packet);
      const giaddr = data.readUInt32BE(24);
      const serverIp = transport.localAddressFor(giaddr !== 0 ? giaddr : yiaddr, packet) ?? 0;
      line['xid'] = data.readUInt32BE(4).toString(16);
      line['reply'] = dest.kind;
      line['serverIp'] = ipToString(serverIp);
      transport.send(reply, dest, serverIp);
    }
    print(line);
  });
  print({ event: 'started', kind: opened.kind, interfaces: transport.interfaces, port: transport.port });

  if (process.env['INITIAL_IFNAMES']) {
    const { failures } = await transport.refreshInterfaces(finalInterfaces);
    print({
      event: 'interfaces',
      interfaces: transport.interfaces,
      failures: failures.map((f) => `${f.name}: ${f.error.message}`),
    });
  }
  print({ event: 'bound', addresses: transport.boundAddresses.map(ipToString).sort() });

  process.on('SIGTERM', () => {
    print({ event: 'stats', ...transport.stats() });
    void transport.close().then(() => process.exit(0));
  });
  if (process.env['READY']) fs.writeFileSync(process.env['READY'], 'ready\n');
}

main().catch((error: unknown) => {
  print({
    event: 'fatal',
    error: error instanceof Error ? error.message : String(error),
    code: (error as NodeJS.ErrnoException).code,
  });
  process.exit(1);
});
