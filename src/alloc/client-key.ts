// Turning a request into joind's client key (joind-spec.md 7.2), and that key into a map key.
import type { ClientKey } from '../store/types';

/**
 * The key of a client: its option 61 when it sent one (type 0, opaque), else its hardware type and
 * address. ignore_hardware_type stores hardware ids with type 0 so that a client that reports
 * different htype values stays one client.
 */
export function clientKeyOf(htype: number, hwaddr: Buffer, clientId: Buffer | undefined, ignoreHardwareType: boolean): ClientKey {
  if (clientId && clientId.length > 0) return { type: 0, id: clientId };
  return { type: ignoreHardwareType ? 0 : htype, id: hwaddr };
}

/** A string form of a key for in-memory maps. */
export function keyString(key: ClientKey): string {
  return `${key.type}/${key.id.toString('hex')}`;
}

export function sameClient(a: ClientKey | null, b: ClientKey): boolean {
  return a !== null && a.type === b.type && a.id.equals(b.id);
}
