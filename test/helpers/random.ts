// A small deterministic random generator for the fuzz tests (mulberry32): fast, spread well enough to
// choose mutations, and the same seed gives the same run, so that a failure can be replayed.

export interface Random {
  /** An unsigned 32-bit integer. */
  next(): number;
  /** An integer in 0..n-1. */
  int(n: number): number;
  /** A number in [0, 1). */
  unit(): number;
  /** n random bytes. */
  bytes(n: number): Buffer;
  /** true with probability p. */
  chance(p: number): boolean;
}

export function makeRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    next,
    int: (n) => next() % n,
    unit: () => next() / 0x100000000,
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
    chance: (p) => next() < p * 0x100000000,
  };
}
