// A lease record as a failover binding update and back (draft-12 section 7.1, as dhcpd 4.4.3's
// dhcp_failover_send_bind_update writes it and dhcp_failover_process_bind_update reads it).
import { BINDING_STATES, bindingStateName, chaddrOption, IP_FLAG_BOOTP, type MessageOf, splitChaddr } from '../failover';
import { type ClientKey, type LeaseRecord, LeaseState } from '../store/types';

/** dhcpd's MAX_TIME: the lease-expiration-time of a lease that never ends. */
export const NEVER = 0x7fffffff;

const TO_WIRE: Record<LeaseState, keyof typeof BINDING_STATES> = {
  [LeaseState.ACTIVE]: 'active',
  [LeaseState.BOOTP]: 'active',
  [LeaseState.STATIC]: 'active',
  [LeaseState.EXPIRED]: 'expired',
  [LeaseState.RELEASED]: 'released',
  [LeaseState.ABANDONED]: 'abandoned',
  [LeaseState.FREE]: 'free',
  [LeaseState.BACKUP]: 'backup',
};

/** The BNDUPD that tells the peer what our record of an address is. */
export function bindUpdateOf(record: LeaseRecord, xid: number, nowSec: number): MessageOf<'BNDUPD'> {
  const msg: MessageOf<'BNDUPD'> = {
    type: 'BNDUPD',
    time: nowSec,
    xid,
    assignedIpAddress: record.address,
    bindingStatus: BINDING_STATES[TO_WIRE[record.state]],
  };
  if (record.clientId) msg.clientIdentifier = record.clientId;
  if (record.hwaddr) msg.chaddr = chaddrOption(record.htype, record.hwaddr);
  msg.leaseExpiry = record.ends === null ? (holdsForever(record) ? NEVER : 0) : record.ends;
  msg.potentialExpiry = record.tstp ?? msg.leaseExpiry;
  msg.stos = record.starts;
  if (record.cltt !== 0) msg.cltt = record.cltt;
  if (record.state === LeaseState.BOOTP) msg.ipFlags = IP_FLAG_BOOTP;
  return msg;
}

function holdsForever(record: LeaseRecord): boolean {
  return record.state === LeaseState.ACTIVE || record.state === LeaseState.BOOTP || record.state === LeaseState.STATIC;
}

/** Why a peer's BNDUPD cannot be taken as a record. */
export type BindingProblem = 'missing-bindinfo' | 'illegal-ip-addr';

/**
 * Our record of the address as the peer's BNDUPD describes it. `network` is the network of the address
 * (undefined: not an address of our failover ranges, which dhcpd answers with ILLEGAL_IP_ADDR). The
 * client's key follows joind's rule (clientKeyOf): option 61 when the peer sent one, else the hardware.
 */
export function recordOfBindUpdate(
  msg: MessageOf<'BNDUPD'>,
  network: number | undefined,
  ignoreHardwareType: boolean,
): { ok: true; record: LeaseRecord } | { ok: false; problem: BindingProblem; why: string } {
  if (msg.assignedIpAddress === undefined || msg.bindingStatus === undefined) {
    return { ok: false, problem: 'missing-bindinfo', why: 'no assigned-IP-address or binding-status' };
  }
  if (network === undefined) return { ok: false, problem: 'illegal-ip-addr', why: 'not an address of a failover range here' };
  const status = bindingStateName(msg.bindingStatus);
  if (status === undefined) return { ok: false, problem: 'missing-bindinfo', why: `binding-status ${msg.bindingStatus}` };
  const hardware = msg.chaddr ? splitChaddr(msg.chaddr) : undefined;
  const held = status === 'active' || status === 'expired' || status === 'released';
  if (held && !hardware && !msg.clientIdentifier) {
    return { ok: false, problem: 'missing-bindinfo', why: `a ${status} binding without client-hardware-address` };
  }
  const clientId = msg.clientIdentifier && msg.clientIdentifier.length > 0 ? msg.clientIdentifier : null;
  let client: ClientKey | null = null;
  if (held) {
    client = clientId ? { type: 0, id: clientId } : { type: ignoreHardwareType ? 0 : hardware!.htype, id: hardware!.address };
  }
  const ends = msg.leaseExpiry === undefined || msg.leaseExpiry === 0 ? null : msg.leaseExpiry >= NEVER ? null : msg.leaseExpiry;
  const record: LeaseRecord = {
    address: msg.assignedIpAddress,
    network,
    client,
    htype: hardware?.htype ?? 0,
    hwaddr: hardware && hardware.address.length > 0 ? hardware.address : null,
    clientId,
    starts: msg.stos ?? msg.cltt ?? 0,
    ends: held ? ends : null,
    cltt: msg.cltt ?? 0,
    state: stateOf(status, msg.ipFlags ?? 0),
    clientHostname: null,
    hostname: null,
    tstp: null,
    // What the peer promised is what it will let the client keep: our acknowledged horizon (dhcpd sets
    // tsfp from the potential expiry of an update it accepts).
    tsfp: msg.potentialExpiry ?? null,
  };
  return { ok: true, record };
}

function stateOf(status: keyof typeof BINDING_STATES, ipFlags: number): LeaseState {
  switch (status) {
    case 'active':
      return ipFlags & IP_FLAG_BOOTP ? LeaseState.BOOTP : LeaseState.ACTIVE;
    case 'expired':
      return LeaseState.EXPIRED;
    case 'released':
      return LeaseState.RELEASED;
    case 'abandoned':
      return LeaseState.ABANDONED;
    case 'reset':
    case 'free':
      return LeaseState.FREE;
    case 'backup':
      return LeaseState.BACKUP;
  }
}
