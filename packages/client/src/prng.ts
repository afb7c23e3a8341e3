import { hash } from '@infermarket/protocol';

/** A seeded pseudo-random generator (sfc32): `next()` in [0, 1). Not for secrets. */
export interface Rng {
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Exponential with the given mean (Poisson inter-arrival times). */
  exp(mean: number): number;
}

/**
 * A deterministic generator from a seed and a label: same (seed, label) → same stream, in every process.
 * @example const rng = createRng(42, 'client-0/arrivals');
 */
export function createRng(seed: number | string, label = ''): Rng {
  const h = hash(`infermarket/rng/v1\n${seed}\n${label}`);
  const w = (i: number): number => ((h[i]! << 24) | (h[i + 1]! << 16) | (h[i + 2]! << 8) | h[i + 3]!) >>> 0;
  let a = w(0), b = w(4), c = w(8), d = w(12);
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return {
    next,
    int: (n) => Math.floor(next() * n),
    exp: (mean) => -Math.log(1 - next()) * mean,
  };
}
