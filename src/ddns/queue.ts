// The lease owner's side of dynamic DNS: each lease change that matters to DNS writes a job into the
// store's current batch, the batch of the lease itself, so that neither a crash nor a DNS outage loses
// it, and no ACK waits for DNS (the worker sends it once the batch is on disk).
//
// One job per address: the newest says what DNS should hold for it (its name, or nothing). What DNS
// holds by our doing is in dns_records; the worker undoes that first when it differs.
import type { DnsJobs } from '../alloc/lease-owner';
import { DnsType } from '../dns/message';
import { dhcidIdentifierOf, dhcidRdata, interimTxtRdata } from '../dns/dhcid';
import type { Store } from '../store/store';
import type { LeaseRecord } from '../store/types';
import { recordTtl } from './plan';

/** What the queue needs of the running configuration; null while dynamic DNS is off. */
export interface DdnsPolicy {
  /** dns_tracks_dhcp_lease: a lease's records go when it is released, expires or is abandoned. */
  tracksLease: boolean;
  /** ddns_style: the guard beside a name, a DHCID (RFC 4701) or ISC dhcpd's interim TXT. */
  style: 'standard' | 'interim';
}

export class DdnsQueue implements DnsJobs {
  /** Told when a job was queued (the worker runs once the batch is durable). */
  onQueued: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly policy: () => DdnsPolicy | null,
    private readonly nowMs: () => number = Date.now,
  ) {}

  granted(record: LeaseRecord, fqdn: string | null, leaseSeconds: number | null, forward: boolean): void {
    const policy = this.policy();
    if (!policy) return;
    if (fqdn === null) {
      // The lease has no name for DNS (any more): what we wrote for the address goes.
      this.removeIfWritten(record.address);
      return;
    }
    const chaddr = record.hwaddr ?? Buffer.alloc(0);
    const interim = policy.style === 'interim';
    const guard = interim
      ? interimTxtRdata(record.clientId ?? undefined, record.htype, chaddr)
      : dhcidRdata(dhcidIdentifierOf(record.clientId ?? undefined, record.htype, chaddr), fqdn);
    // A renewal that changes nothing sends nothing (dhcpd's update-optimization). The pending job is
    // looked up only then: a new lease, the common case under load, has no records yet.
    const held = this.store.ddns.record(record.address);
    const unchanged = held && held.fqdn === fqdn && held.guard.equals(guard) && held.forward === forward && held.reverse;
    if (unchanged && !this.store.ddns.job(record.address)) return;
    const now = this.nowMs();
    this.store.ddns.putJob({
      address: record.address,
      op: forward ? 'add' : 'reverse',
      fqdn,
      guardType: interim ? DnsType.TXT : DnsType.DHCID,
      guard,
      ttl: recordTtl(leaseSeconds),
      due: now,
      created: now,
    });
    this.onQueued?.();
  }

  ended(address: number, reason: 'released' | 'expired' | 'abandoned' | 'deleted' | 'moved'): void {
    const policy = this.policy();
    if (!policy) return;
    // A client that moved to another address: its name follows it (the new grant's job), and the PTR
    // of the old address must not keep naming it. Otherwise only when the records track the lease.
    if (reason !== 'moved' && !policy.tracksLease) return;
    this.removeIfWritten(address);
  }

  private removeIfWritten(address: number): void {
    if (!this.store.ddns.record(address) && !this.store.ddns.job(address)) return;
    const now = this.nowMs();
    this.store.ddns.putJob({
      address,
      op: 'remove',
      fqdn: null,
      guardType: null,
      guard: null,
      ttl: null,
      due: now,
      created: now,
    });
    this.onQueued?.();
  }
}
