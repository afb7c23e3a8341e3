import { hash } from '@infermarket/protocol';

/**
 * The one seeded generator of the agents (sfc32: 32-bit state words, fast, good statistical quality),
 * used by the live miner and validator and by the simulator. Never `Math.random()`.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Exponential with the given mean. */
  exp(mean: number): number;
  /** 32 random bits as 8 hex digits. */
  hex32(): string;
}

/** splitmix32 step: spreads a 32-bit seed into well-mixed state words. */
function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t = t ^ (t >>> 15);
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

function sfc32(a: number, b: number, c: number, d: number): Rng {
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  const next = (): number => u32() / 4294967296;
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (n) => Math.floor(next() * n),
    exp: (mean) => -Math.log(1 - next()) * mean,
    hex32: () => u32().toString(16).padStart(8, '0'),
  };
}

/**
 * A generator from a numeric seed (any safe integer; the high bits are folded in): the simulator's runs.
 * @example const rng = createRng(42); rng.next();
 */
export function createRng(seed: number): Rng {
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  const sm = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x85ebca6b));
  return sfc32(sm(), sm(), sm(), sm());
}

/**
 * A generator from a (seed, label) pair: one independent stream per purpose of a node (its plan coin
 * flips, bid spread, latency jitter, learner), the same in every process. Seeds may be strings
 * (the testnet passes `"<scenario seed>/<group>/<index>"`).
 * @example const rng = createLabeledRng('7/0/1', `miner/${address}/plan`);
 */
export function createLabeledRng(seed: number | string, label: string): Rng {
  return createTaggedRng('infermarket/node-rng/v1', seed, label);
}

/**
 * A generator from a domain tag and a (seed, label) pair: sha256 of the three seeds the sfc32 state. Each
 * user of random streams has its own tag (the nodes' `infermarket/node-rng/v1`, the client load generator's
 * `infermarket/rng/v1`), so their streams never coincide.
 */
export function createTaggedRng(tag: string, seed: number | string, label: string): Rng {
  const h = hash(`${tag}\n${seed}\n${label}`);
  const w = (i: number): number => ((h[i]! << 24) | (h[i + 1]! << 16) | (h[i + 2]! << 8) | h[i + 3]!) >>> 0;
  return sfc32(w(0), w(4), w(8), w(12));
}

/**
 * The seed of run `index` under a master seed: a hash-like mix so neighbouring runs are unrelated.
 * Recorded in every output beside the master seed. Result is in [0, 2^32).
 */
export function deriveSeed(masterSeed: number, index: number): number {
  const hi = Math.floor(masterSeed / 2 ** 32) >>> 0;
  let h = (masterSeed >>> 0) ^ Math.imul(hi, 0x9e3779b1);
  h = Math.imul(h ^ Math.imul(index + 1, 0x85ebca6b), 0xc2b2ae35);
  return splitmix32(h ^ (index >>> 0))();
}
