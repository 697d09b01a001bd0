// The demo's table: what each real client got, as joind's own store and log tell it.
// Run by demo/run.sh after joind has stopped (its store is then complete and closed):
//   node dist/demo/report.js SPOOL_DIR JOIND_LOG CLIENTS_TSV
// CLIENTS_TSV has one line per client: label <TAB> MAC <TAB> address the client configured (or empty).
import fs from 'node:fs';
import { formatHumanDate } from '../src/admin/dates';
import { holdsAddress } from '../src/alloc/pool';
import { Store } from '../src/store/store';
import type { LeaseRecord } from '../src/store/types';
import { formatColumns } from '../src/util/columns';
import { hexColons, ipToString } from '../src/util/ipv4';

interface DemoClient {
  label: string;
  mac: string;
  clientAddress: string;
}

function readClients(file: string): DemoClient[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [label = '', mac = '', clientAddress = ''] = line.split('\t');
      return { label, mac: mac.toLowerCase(), clientAddress };
    });
}

/** What joind's log says it last granted a MAC (DHCP_ACK or BOOTP_REPLY). */
interface LoggedGrant {
  address?: string;
  via?: string;
  host?: string | null;
  binding?: string;
}

function lastGrants(logFile: string): Map<string, LoggedGrant> {
  const grants = new Map<string, LoggedGrant>();
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"DHCP_ACK"') && !line.includes('"BOOTP_REPLY"')) continue;
    try {
      const entry = JSON.parse(line) as LoggedGrant & { hwaddr?: string };
      if (entry.hwaddr) grants.set(entry.hwaddr.toLowerCase(), entry);
    } catch {
      // A line cut short by the stop is not evidence of anything: skip it.
    }
  }
  return grants;
}

function leaseEnd(lease: LeaseRecord): string {
  // The same UTC form as `joind show`, so the demo teaches what the admin tools print.
  return lease.ends === null ? 'never (permanent)' : formatHumanDate(lease.ends);
}

function main(argv: string[]): number {
  const [spoolDir, logFile, clientsFile] = argv;
  if (!spoolDir || !logFile || !clientsFile) {
    process.stderr.write('usage: report.js SPOOL_DIR JOIND_LOG CLIENTS_TSV\n');
    return 2;
  }
  const clients = readClients(clientsFile);
  const grants = lastGrants(logFile);
  const store = Store.open({ spoolDir, durable: false });
  const byMac = new Map<string, LeaseRecord>();
  const nowSec = Math.floor(Date.now() / 1000);
  try {
    for (const lease of store.leases.all()) {
      if (lease.hwaddr && holdsAddress(lease, nowSec)) byMac.set(hexColons(lease.hwaddr), lease);
    }
  } finally {
    store.close();
  }

  const rows: string[][] = [['client', 'MAC', 'address', 'name', 'lease ends (UTC)', 'via']];
  let disagreements = 0;
  for (const c of clients) {
    const lease = byMac.get(c.mac);
    const grant = grants.get(c.mac);
    // Permanent BOOTP bindings live in dhcpcap, not in the store: for them the log is the record.
    const permanent = !lease && grant?.binding === 'static';
    const address = lease ? ipToString(lease.address) : permanent ? (grant.address ?? '-') : '-';
    // The client's own view and joind's record must agree; say so loudly when they do not.
    const agrees = address !== '-' && c.clientAddress === address;
    if (!agrees) disagreements++;
    rows.push([
      c.label,
      c.mac,
      agrees ? address : `${address} (client has ${c.clientAddress || 'nothing'})`,
      lease?.hostname ?? lease?.clientHostname ?? grant?.host ?? '-',
      lease ? leaseEnd(lease) : permanent ? 'never (dhcpcap binding)' : '-',
      grant?.via ?? '-',
    ]);
  }
  process.stdout.write(formatColumns(rows));
  if (disagreements > 0) process.stdout.write(`\n${disagreements} client(s) without a matching lease in joind's store\n`);
  return disagreements === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
