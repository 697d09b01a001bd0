// The system resolver, for naming: getnameinfo/getaddrinfo go through nsswitch, so /etc/hosts counts
// as the name service too (name_service local). Lookups are bounded in time and cached briefly, since
// an ACK waits on them.
import dns from 'node:dns';
import { ipToString, parseIp } from '../util/ipv4';
import type { ForwardLookup, ReverseLookup } from './namer';

const TIMEOUT_MS = 1000;
const CACHE_MS = 30_000;

function withTimeout<T>(promise: Promise<T>, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), TIMEOUT_MS);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}

export function systemReverseLookup(): ReverseLookup {
  const cache = new Map<number, { name: string | null; at: number }>();
  return async (address) => {
    const hit = cache.get(address);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.name;
    const text = ipToString(address);
    const name = await withTimeout(
      dns.promises.lookupService(text, 0).then((r) => (r.hostname && r.hostname !== text ? r.hostname : null)),
      null,
    );
    cache.set(address, { name, at: Date.now() });
    return name;
  };
}

export function systemForwardLookup(): ForwardLookup {
  return async (name) => {
    const found = await withTimeout(dns.promises.lookup(name, { family: 4, all: true }), []);
    return found.map((a) => parseIp(a.address)).filter((a): a is number => a !== undefined);
  };
}
