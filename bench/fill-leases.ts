// fill-leases — puts COUNT active leases into a joind spool directory through the store's own code
// (Store + LeaseRepository), so that start-up and serving can be measured with a big lease database
// without a million DORAs. Addresses are consecutive from FIRST, as a server that allocates low first
// leaves them; each lease belongs to its own client (hardware address 02:f1 + the index), ends in an
// hour, and was last seen a minute ago. Also writes the same leases as a Kea memfile CSV and an ISC
// dhcpd.leases file when asked, for the peers' start-up runs.
//
//   node dist/bench/fill-leases.js SPOOL_DIR NETWORK FIRST COUNT [--kea FILE] [--dhcpd FILE]
import fs from 'node:fs';
import { clientKeyOf } from '../src/alloc/client-key';
import { Store } from '../src/store/store';
import { LeaseRecord, LeaseState } from '../src/store/types';
import { ipToString, parseIp } from '../src/util/ipv4';

const BATCH = 50_000;

function hwaddrOf(index: number): Buffer {
  const mac = Buffer.alloc(6);
  mac[0] = 0x02;
  mac[1] = 0xf1;
  mac.writeUInt32BE(index >>> 0, 2);
  return mac;
}

function macText(mac: Buffer): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** dhcpd.leases(5) date: weekday year/month/day hours:minutes:seconds, UTC. */
function dhcpdDate(sec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getUTCDay()} ${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
  );
}

function main(): void {
  const [spoolDir, networkText, firstText, countText, ...rest] = process.argv.slice(2);
  const network = parseIp(networkText ?? '');
  const first = parseIp(firstText ?? '');
  const count = Number(countText);
  if (!spoolDir || network === undefined || first === undefined || !Number.isInteger(count) || count < 0) {
    console.error('usage: fill-leases SPOOL_DIR NETWORK FIRST COUNT [--kea FILE] [--dhcpd FILE]');
    process.exit(2);
  }
  const keaFile = rest.includes('--kea') ? rest[rest.indexOf('--kea') + 1] : undefined;
  const dhcpdFile = rest.includes('--dhcpd') ? rest[rest.indexOf('--dhcpd') + 1] : undefined;
  const nowSec = Math.floor(Date.now() / 1000);
  const started = Date.now();

  const store = Store.open({ spoolDir, durable: false });
  for (let done = 0; done < count; done += BATCH) {
    const upTo = Math.min(count, done + BATCH);
    for (let i = done; i < upTo; i++) {
      const hwaddr = hwaddrOf(i);
      const lease: LeaseRecord = {
        address: (first + i) >>> 0,
        network,
        client: clientKeyOf(1, hwaddr, undefined, false),
        htype: 1,
        hwaddr,
        clientId: null,
        starts: nowSec - 60,
        ends: nowSec - 60 + 3600,
        cltt: nowSec - 60,
        state: LeaseState.ACTIVE,
        clientHostname: null,
        hostname: null,
      };
      store.write(() => store.leases.put(lease));
    }
    store.flush(); // one transaction per batch: the store's own group commit
  }
  store.close();

  if (keaFile) {
    const out = fs.openSync(keaFile, 'w');
    fs.writeSync(out, 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n');
    for (let done = 0; done < count; done += BATCH) {
      let chunk = '';
      for (let i = done; i < Math.min(count, done + BATCH); i++) {
        chunk += `${ipToString((first + i) >>> 0)},${macText(hwaddrOf(i))},,3600,${nowSec - 60 + 3600},1,0,0,,0,\n`;
      }
      fs.writeSync(out, chunk);
    }
    fs.closeSync(out);
  }
  if (dhcpdFile) {
    const out = fs.openSync(dhcpdFile, 'w');
    const starts = dhcpdDate(nowSec - 60);
    const ends = dhcpdDate(nowSec - 60 + 3600);
    for (let done = 0; done < count; done += BATCH) {
      let chunk = '';
      for (let i = done; i < Math.min(count, done + BATCH); i++) {
        chunk +=
          `lease ${ipToString((first + i) >>> 0)} {\n  starts ${starts};\n  ends ${ends};\n  cltt ${starts};\n` +
          `  binding state active;\n  next binding state free;\n  hardware ethernet ${macText(hwaddrOf(i))};\n}\n`;
      }
      fs.writeSync(out, chunk);
    }
    fs.closeSync(out);
  }
  console.log(`${count} leases in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main();
