/** A seeded pseudo-random generator (sfc32): fast, 32-bit state words, good statistical quality. Never `Math.random()`. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
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

/**
 * A generator from a seed (any safe integer; the high bits are folded in).
 * @example const rng = createRng(42); rng.next();
 */
export function createRng(seed: number): Rng {
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  const sm = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x85ebca6b));
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
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
    int: (n) => Math.floor(next() * n),
    exp: (mean) => -Math.log(1 - next()) * mean,
    hex32: () => u32().toString(16).padStart(8, '0'),
  };
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
