// `joind check-db` (checkdba): is the permanent store sound? SQLite's integrity check, then the rules
// the server relies on, record by record. Every bad record is reported; none is changed.
import { sameClient } from '../alloc/client-key';
import type { NetworkConfig } from '../config/types';
import type { Store } from '../store/store';
import { LEASE_STATE_NAMES, LeaseState } from '../store/types';
import { inNetwork, ipToString } from '../util/ipv4';

export interface CheckReport {
  problems: string[];
  leases: number;
  names: number;
}

export function checkStore(store: Store, networks: readonly NetworkConfig[] | null): CheckReport {
  const problems = store.integrityProblems().map((p) => `sqlite: ${p}`);
  let leases = 0;
  const ownerOf = new Map<number, ReturnType<typeof store.leases.get>>();
  for (const lease of store.leases.all()) {
    leases++;
    const at = ipToString(lease.address);
    ownerOf.set(lease.address, lease);
    if (!(lease.state in LEASE_STATE_NAMES)) problems.push(`lease ${at}: unknown state ${lease.state}`);
    if (lease.ends !== null && lease.ends < lease.starts)
      problems.push(`lease ${at}: ends (${lease.ends}) before it starts (${lease.starts})`);
    if (lease.client === null && lease.state !== LeaseState.ABANDONED) {
      problems.push(`lease ${at}: ${LEASE_STATE_NAMES[lease.state] ?? lease.state} record without a client`);
    }
    if (lease.hwaddr !== null && lease.hwaddr.length > 16) problems.push(`lease ${at}: hardware address longer than 16 bytes`);
    if (networks) {
      const net = networks.find((n) => n.address === lease.network);
      if (!net) problems.push(`lease ${at}: network ${ipToString(lease.network)} is not in nets`);
      else if (!inNetwork(lease.address, net.address, net.mask)) {
        problems.push(`lease ${at}: not inside its network ${ipToString(net.address)}/${net.prefixLength}`);
      }
    } else if ((lease.address & lease.network) >>> 0 !== lease.network) {
      // Without the configuration only the obvious is checked: the network number's bits are the address's.
      problems.push(`lease ${at}: network ${ipToString(lease.network)} does not contain it`);
    }
  }
  let names = 0;
  for (const name of store.names.all()) {
    names++;
    if (name.address === null || name.owner === null) continue;
    const lease = ownerOf.get(name.address);
    if (lease && lease.client && !sameClient(lease.client, name.owner) && lease.state === LeaseState.ACTIVE) {
      problems.push(`name ${name.name}.${name.domain}: bound to ${ipToString(name.address)}, which is leased to another client`);
    }
  }
  return { problems, leases, names };
}
