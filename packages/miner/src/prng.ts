import { hash } from '@infermarket/protocol';

/** A seeded generator (sfc32) for a node's own choices: latency jitter, bid spread, strategy coin flips. */
export interface NodeRng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number;
}

/** Same (seed, label) → same stream in every process. */
export function createNodeRng(seed: number | string, label: string): NodeRng {
  const h = hash(`infermarket/node-rng/v1\n${seed}\n${label}`);
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
  return { next, uniform: (lo, hi) => lo + (hi - lo) * next() };
}
