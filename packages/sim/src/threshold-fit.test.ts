import { describe, expect, it } from 'vitest';
import { createRng } from './rng.js';
import { estimateThreshold, fitLogistic, type RateObservation } from './threshold-fit.js';

/** Synthetic per-run rates from a known logistic crossing `x0`, with noise per seed, floor and ceiling like an ε-greedy learner's. */
function synthetic(x0: number, opts: { seeds: number; xs: number[]; noise: number; scale: 'linear' | 'log'; width: number }): RateObservation[] {
  const rng = createRng(99);
  const out: RateObservation[] = [];
  for (let s = 0; s < opts.seeds; s++) {
    const shift = (rng.next() * 2 - 1) * opts.noise; // one seed's learners sit a little left or right
    for (const x of opts.xs) {
      const t = opts.scale === 'log' ? Math.log(x / x0) : x - x0;
      const p = 1 / (1 + Math.exp((t - shift) / opts.width));
      out.push({ x, y: 0.05 + 0.9 * p + (rng.next() - 0.5) * 0.04, seed: s });
    }
  }
  return out;
}

describe('estimateThreshold', () => {
  it('recovers a known crossing on a linear scale, with a CI that contains it', () => {
    const xs = [0.02, 0.05, 0.08, 0.11, 0.13, 0.15, 0.17, 0.2, 0.25, 0.3];
    const e = estimateThreshold({ observations: synthetic(0.14, { seeds: 6, xs, noise: 0.01, scale: 'linear', width: 0.015 }), resamples: 400 });
    expect(e.reason).toBeNull();
    expect(e.threshold!).toBeGreaterThan(0.13);
    expect(e.threshold!).toBeLessThan(0.15);
    expect(e.ci95!.lo).toBeLessThan(0.14);
    expect(e.ci95!.hi).toBeGreaterThan(0.14);
    expect(e.ci95!.hi - e.ci95!.lo).toBeLessThan(0.03);
    expect(e.seeds).toBe(6);
    expect(e.runs).toBe(60);
  });

  it('recovers a crossing on a log scale (points at multiples of a guess)', () => {
    const x0 = 0.0066;
    const xs = [0.3, 0.5, 0.7, 0.85, 1, 1.15, 1.3, 1.6, 2.5].map((m) => m * 0.007);
    const e = estimateThreshold({ observations: synthetic(x0, { seeds: 5, xs, noise: 0.05, scale: 'log', width: 0.1 }), scale: 'log', resamples: 400 });
    expect(e.threshold! / x0).toBeGreaterThan(0.95);
    expect(e.threshold! / x0).toBeLessThan(1.05);
    expect(e.fit!.scale).toBe('log');
  });

  it('is deterministic for a given bootstrap seed', () => {
    const obs = synthetic(0.1, { seeds: 4, xs: [0.05, 0.08, 0.1, 0.12, 0.15], noise: 0.01, scale: 'linear', width: 0.01 });
    expect(estimateThreshold({ observations: obs, resamples: 200, bootstrapSeed: 5 })).toEqual(estimateThreshold({ observations: obs, resamples: 200, bootstrapSeed: 5 }));
  });

  it('gives null with a reason, never a number, when the rate never crosses ½ in the range', () => {
    const obs = [0.1, 0.2, 0.3].flatMap((x) => [0, 1].map((s) => ({ x, y: 0.05 + 0.01 * s, seed: s })));
    const e = estimateThreshold({ observations: obs });
    expect(e.threshold).toBeNull();
    expect(e.reason).toMatch(/outside the swept range|does not fall/);
  });

  it('gives null with a reason when there are no observations, and no CI from one seed', () => {
    expect(estimateThreshold({ observations: [] })).toMatchObject({ threshold: null, reason: 'no run has data for this rate', ci95: null });
    const one = estimateThreshold({ observations: synthetic(0.14, { seeds: 1, xs: [0.05, 0.1, 0.15, 0.2], noise: 0, scale: 'linear', width: 0.02 }) });
    expect(one.threshold).not.toBeNull();
    expect(one.ci95).toBeNull();
    expect(one.ciReason).toMatch(/one seed/);
  });

  it('fits a step without running off to infinity', () => {
    const f = fitLogistic([1, 2, 3, 4], [1, 1, 0, 0]);
    expect(f).not.toBeNull();
    expect(Number.isFinite(f!.slope)).toBe(true);
    expect(-f!.intercept / f!.slope).toBeCloseTo(2.5, 6);
  });
});
