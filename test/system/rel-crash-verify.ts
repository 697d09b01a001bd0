// Checks a crash run (rel-crash.test.sh): every DHCPACK a capture saw leave the server against the lease
// store joind left behind.
//   node rel-crash-verify.js PCAP SPOOL_DIR KILLED_AT   (the last SIGKILL, epoch seconds)
// For every address, its last ACK must be in the store: same client (hardware address), ending no
// earlier than the ACK said, active (expired allowed only if it ended before the last kill) — or another
// client's lease that started only after the ACKed one ended (the ACK of a later commit lost in a kill). And no address may have been ACKed to two clients whose
// leases overlapped in time. Prints a summary; exit 0 when all holds, 1 with each violation listed.
import fs from 'node:fs';
import { decode, hardwareAddress, leaseTime, messageType } from '../../src/codec';
import { MessageType } from '../../src/codec/types';
import { parseUdpFrame } from '../../src/io/frame';
import { Store } from '../../src/store/store';
import { LeaseState } from '../../src/store/types';
import { hexColons, ipToString } from '../../src/util/ipv4';

interface Ack {
  /** Capture time, seconds since the epoch (fractional). */
  at: number;
  address: number;
  client: string;
  leaseSeconds: number;
}

/** The DHCPACKs from port 67 in a libpcap file of Ethernet frames. */
export function acksIn(pcap: Buffer): Ack[] {
  const magic = pcap.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && pcap.readUInt32BE(0) !== 0xa1b2c3d4 && pcap.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const nano = (little ? magic : pcap.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (at: number): number => (little ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  const acks: Ack[] = [];
  for (let at = 24; at + 16 <= pcap.length;) {
    const seconds = u32(at);
    const fraction = u32(at + 4);
    const length = u32(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    const udp = parseUdpFrame(frame);
    if (typeof udp === 'string' || udp.srcPort !== 67) continue;
    const decoded = decode(udp.payload);
    if (!decoded.ok || messageType(decoded.packet) !== MessageType.ACK) continue;
    const packet = decoded.packet;
    acks.push({
      at: seconds + fraction / (nano ? 1e9 : 1e6),
      address: packet.yiaddr,
      client: hexColons(hardwareAddress(packet)),
      leaseSeconds: leaseTime(packet) ?? 0,
    });
  }
  return acks;
}

function verify(pcapFile: string, spoolDir: string, killedAt: number): string[] {
  const acks = acksIn(fs.readFileSync(pcapFile));
  // Opened as joind opens it at start: the lease journal's batches are replayed into the database first.
  const store = Store.open({ spoolDir, durable: true });
  const leases = store.leases;
  const byAddress = new Map<number, Ack[]>();
  for (const ack of acks) {
    if (ack.address === 0) continue;
    const list = byAddress.get(ack.address) ?? [];
    list.push(ack);
    byAddress.set(ack.address, list);
  }
  const problems: string[] = [];
  let overlapsChecked = 0;
  let lastAcksChecked = 0;
  let liveAtKill = 0;
  for (const [address, list] of byAddress) {
    list.sort((a, b) => a.at - b.at);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const next = list[i]!;
      if (prev.client === next.client) continue;
      overlapsChecked++;
      // The server keeps whole seconds (an end is floor(now) + lease), the capture microseconds: 1 s of slack.
      if (prev.at + prev.leaseSeconds > next.at + 1.2) {
        problems.push(
          `${ipToString(address)} ACKed to ${prev.client} at ${prev.at.toFixed(3)} for ${prev.leaseSeconds} s and to ${next.client} at ${next.at.toFixed(3)}`,
        );
      }
    }
    // The last ACK of the address against the store joind left when it was last killed.
    const last = list[list.length - 1]!;
    const ackEnds = Math.floor(last.at) + last.leaseSeconds;
    const lease = leases.get(address);
    const where = `${ipToString(address)} (last ACK to ${last.client} at ${last.at.toFixed(3)} until ${ackEnds})`;
    if (!lease) {
      problems.push(`${where}: not in the store`);
      continue;
    }
    const holder = lease.hwaddr ? hexColons(lease.hwaddr) : 'nobody';
    if (holder !== last.client) {
      // Another client may hold it only from after the ACKed lease ended (an ACK lost with a kill).
      if (lease.starts + 1 < ackEnds) problems.push(`${where}: the store gives it to ${holder} from ${lease.starts}`);
      continue;
    }
    lastAcksChecked++;
    if (lease.ends !== null && lease.ends + 1 < ackEnds) problems.push(`${where}: ends ${lease.ends} in the store`);
    const endedBeforeKill = ackEnds <= killedAt;
    if (!endedBeforeKill) liveAtKill++;
    if (lease.state !== LeaseState.ACTIVE && !(endedBeforeKill && lease.state === LeaseState.EXPIRED)) {
      problems.push(`${where}: state ${LeaseState[lease.state]} in the store`);
    }
  }
  store.close();
  console.log(
    `acks ${acks.length} addresses ${byAddress.size} clients ${new Set(acks.map((a) => a.client)).size} handovers ${overlapsChecked} same-client-in-store ${lastAcksChecked} live-at-last-kill ${liveAtKill} problems ${problems.length}`,
  );
  return problems;
}

if (require.main === module) {
  const [pcapFile, spoolDir, killed] = process.argv.slice(2);
  if (!pcapFile || !spoolDir || !killed) {
    console.error('usage: rel-crash-verify PCAP SPOOL_DIR KILLED_AT_EPOCH_SECONDS');
    process.exit(2);
  }
  const problems = verify(pcapFile, spoolDir, Number(killed));
  for (const p of problems.slice(0, 20)) console.log(`VIOLATION ${p}`);
  process.exit(problems.length === 0 ? 0 : 1);
}
