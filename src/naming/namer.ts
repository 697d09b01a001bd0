// joind's naming (joind-spec.md section 4): which host name a client gets with its address.
//
// Order: a static name from the client's dhcpcap host entry; then by hardware address (the client keeps
// the first name it got in the domain, or takes the name it suggests when accept_client_name allows) or
// by IP address (the name service's name for the address); then the name pool of the domain, then
// generated names prefix + N + "d", never reused. The binding is recorded in the name database.
import type { Config, NamePool } from '../config/types';
import type { Store } from '../store/store';
import type { ClientKey } from '../store/types';
import { sameClient } from '../alloc/client-key';

/** Reverse lookup of an address through the system resolver (/etc/hosts included). */
export type ReverseLookup = (address: number) => Promise<string | null>;
/** Forward lookup of a host name through the system resolver: its IPv4 addresses (none when unknown). */
export type ForwardLookup = (name: string) => Promise<number[]>;

export interface NamingRequest {
  client: ClientKey;
  address: number;
  /** The domain of the client's parameters (dn), '' when none. */
  domain: string;
  /** The name the client suggested (option 12, or 81), when any. */
  suggested: string | null;
  /** A name fixed by the client's dhcpcap host entry (ho, or the entry's label). */
  staticName: string | null;
}

export interface NamingResult {
  name: string | null;
  source: 'static' | 'hwaddr' | 'client' | 'ipaddr' | 'pool' | 'generated' | 'none';
}

/** A host name label as RFC 1123 allows it (letters, digits, hyphens; no leading or trailing hyphen). */
export function validHostLabel(name: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name);
}

/** The first label of a name the client suggested (clients sometimes send an FQDN in option 12). */
export function shortName(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

export class Namer {
  constructor(
    private readonly store: Store,
    private readonly reverse: ReverseLookup,
    private readonly forward: ForwardLookup,
  ) {}

  /**
   * Chooses the client's name. Reads only (the lookups may wait on the resolver); `record` writes the
   * binding, inside the same batch as the lease.
   */
  async choose(config: Config, req: NamingRequest): Promise<NamingResult> {
    const policy = config.policy;
    if (req.staticName) return { name: req.staticName, source: 'static' };

    if (policy.assign_name_by_hwaddr) {
      const existing = this.store.names.findByOwner(req.client, req.domain);
      const suggestion = this.acceptableSuggestion(config, req);
      if (suggestion !== null && suggestion !== existing?.name && (await this.nameServiceAllows(suggestion, req))) {
        return { name: suggestion, source: 'client' };
      }
      if (existing) return { name: existing.name, source: 'hwaddr' };
    } else if (policy.assign_name_by_ipaddr) {
      const name = await this.reverse(req.address);
      if (name) return { name: shortName(name), source: 'ipaddr' };
    }
    return this.fromPool(config, req);
  }

  /**
   * The chosen name, or another one if it was taken meanwhile. choose() is asynchronous, so two clients
   * handled in the same turn may both have been given the same free pool or generated name; the first to
   * record it keeps it. Call synchronously before record().
   */
  confirm(config: Config, req: NamingRequest, result: NamingResult): NamingResult {
    if (!result.name || (result.source !== 'pool' && result.source !== 'generated')) return result;
    const binding = this.store.names.get(req.domain, result.name);
    if (!binding || (binding.owner !== null && sameClient(binding.owner, req.client))) return result;
    return this.fromPool(config, req);
  }

  /** Records the binding of the chosen name (call inside a store batch). Pool and generated names are never reused. */
  record(req: NamingRequest, result: NamingResult, nowSec: number): void {
    if (!result.name || result.source === 'ipaddr' || result.source === 'static') return;
    this.store.names.bind({ domain: req.domain, name: result.name, owner: req.client, address: req.address, boundAt: nowSec });
    if (result.source === 'generated') {
      const n = Number(/(\d+)d$/.exec(result.name)?.[1] ?? '0');
      if (n >= this.store.names.nextGeneratedNumber(req.domain)) this.store.names.setNextGeneratedNumber(req.domain, n + 1);
    }
  }

  /** The client's suggestion when accept_client_name allows it and nobody else owns it. */
  private acceptableSuggestion(config: Config, req: NamingRequest): string | null {
    if (!config.policy.accept_client_name || !req.suggested) return null;
    const name = shortName(req.suggested);
    if (!validHostLabel(name)) return null;
    const binding = this.store.names.get(req.domain, name);
    if (binding && binding.owner && !sameClient(binding.owner, req.client) && !config.policy.ignore_name_owner) return null;
    // A name of the pool belongs to the pool's owner, even before it is bound.
    return name;
  }

  /** A suggested name must not already name another address in the name service. */
  private async nameServiceAllows(name: string, req: NamingRequest): Promise<boolean> {
    const fqdn = req.domain ? `${name}.${req.domain}` : name;
    const known = await this.forward(fqdn);
    return known.length === 0 || known.includes(req.address);
  }

  private fromPool(config: Config, req: NamingRequest): NamingResult {
    const existing = this.store.names.findByOwner(req.client, req.domain);
    if (existing) return { name: existing.name, source: 'pool' };
    const pool = config.namepools.find((p: NamePool) => p.ours && p.domain === req.domain);
    if (!pool) return { name: null, source: 'none' };
    for (const name of pool.names) {
      if (!this.store.names.get(req.domain, name)) return { name, source: 'pool' };
    }
    if (!pool.prefix) return { name: null, source: 'none' };
    // Generated names: the smallest number not used yet; a name once bound is never handed out again.
    for (let n = this.store.names.nextGeneratedNumber(req.domain); n < 1_000_000; n++) {
      const name = `${pool.prefix}${n}d`;
      if (!this.store.names.get(req.domain, name)) return { name, source: 'generated' };
    }
    return { name: null, source: 'none' };
  }
}
