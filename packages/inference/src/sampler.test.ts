import { describe, expect, it } from 'vitest';
import { createPrng } from './prng.js';
import type { Prng } from './prng.js';
import { sampleToken, sampleTokenWithMargin } from './sampler.js';

/** A Prng whose next() is fixed (to place the draw exactly). */
const fixed = (u: number): Prng => ({ ...createPrng(0), next: () => u });

describe('sampleTokenWithMargin', () => {
  it('returns the draw\'s distance to the nearest CDF boundary of the chosen token', () => {
    // p = [0.5, 0.5]: u = 0.3 picks token 0, 0.2 from the boundary at 0.5 and 0.3 from 0
    const a = sampleTokenWithMargin([0, 0], 1, fixed(0.3));
    expect(a.id).toBe(0);
    expect(a.margin).toBeCloseTo(0.2, 12);
    const b = sampleTokenWithMargin([0, 0], 1, fixed(0.45));
    expect(b).toEqual({ id: 0, margin: expect.closeTo(0.05, 12) });
    const c = sampleTokenWithMargin([0, 0], 1, fixed(0.6));
    expect(c.id).toBe(1);
    expect(c.margin).toBeCloseTo(0.1, 12);
  });

  it('greedy: the margin is the logit gap to the runner-up', () => {
    expect(sampleTokenWithMargin([1, 3.5, 3], 0, fixed(0.9))).toEqual({ id: 1, margin: 0.5 });
  });

  it('picks the same token as sampleToken for the same seed', () => {
    const logits = Array.from({ length: 96 }, (_, i) => Math.sin(i * 1.7) * 3);
    const r1 = createPrng('sample:7');
    const r2 = createPrng('sample:7');
    for (let i = 0; i < 200; i++) expect(sampleTokenWithMargin(logits, 0.8, r1).id).toBe(sampleToken(logits, 0.8, r2));
  });
});
