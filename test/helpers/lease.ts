// A lease record for the store's tests: active, on network 10.1.0.0, its client the hardware address
// 02:00:00:00:hh:ll for `mac` (0–65535); `extra` overrides any field.
import { LeaseRecord, LeaseState } from '../../src/store';
import { ip } from '../../src/util/ipv4';

export function leaseRecord(address: string | number, mac: number, extra: Partial<LeaseRecord> = {}): LeaseRecord {
  const hw = Buffer.from([2, 0, 0, 0, (mac >> 8) & 255, mac & 255]);
  return {
    address: typeof address === 'string' ? ip(address) : address,
    network: ip('10.1.0.0'),
    client: { type: 1, id: hw },
    htype: 1,
    hwaddr: hw,
    clientId: null,
    starts: 1000,
    ends: 2000,
    cltt: 1000,
    state: LeaseState.ACTIVE,
    clientHostname: null,
    hostname: null,
    ...extra,
  };
}
