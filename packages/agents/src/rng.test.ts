import { describe, expect, it } from 'vitest';
import { createLabeledRng, createRng, deriveSeed } from './rng.js';

describe('the one generator', () => {
  it('is reproducible from a numeric seed or a (seed, label) pair, and labels are independent streams', () => {
    const a = createRng(42), b = createRng(42);
    for (let i = 0; i < 10; i++) expect(a.next()).toBe(b.next());
    const x = createLabeledRng('7/0/1', 'miner/a/plan'), y = createLabeledRng('7/0/1', 'miner/a/plan'), z = createLabeledRng('7/0/1', 'miner/a/bid');
    const xs = Array.from({ length: 5 }, () => x.next());
    expect(xs).toEqual(Array.from({ length: 5 }, () => y.next()));
    expect(xs).not.toEqual(Array.from({ length: 5 }, () => z.next()));
  });
  it('draws in range', () => {
    const r = createRng(1);
    for (let i = 0; i < 1_000; i++) {
      const u = r.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      const k = r.int(5);
      expect(Number.isInteger(k) && k >= 0 && k < 5).toBe(true);
    }
    expect(deriveSeed(1, 0)).not.toBe(deriveSeed(1, 1));
  });
});
