import { describe, expect, it } from 'vitest';
import { compareSampledTokens, type SampledStep } from './comparators.js';

// softmax(l / T) of these logits at T = 1: p ≈ [0.09, 0.24, 0.67]; CDF boundaries ≈ 0.090 and 0.335
const LOGITS = [0, 1, 2];
const T = 1;
const cdf = (l: number[], t: number) => {
  const e = l.map((x) => Math.exp((x - Math.max(...l)) / t));
  const s = e.reduce((a, b) => a + b, 0);
  let acc = 0;
  return e.map((x) => (acc += x) / s);
};
const [B0, B1] = cdf(LOGITS, T) as [number, number, number];
const spec = { temperature: T, logitTolerance: 1e-4 };
const step = (u: number): SampledStep => ({ logits: LOGITS, u });

describe('compareSampledTokens: sampled generation near a sampling boundary', () => {
  it('accepts identical tokens without flags', () => {
    const r = compareSampledTokens(spec, [step(0.05), step(0.2), step(0.9)], [0, 1, 2]);
    expect(r).toMatchObject({ match: true, flagged: [] });
    expect(r.margin).toBeCloseTo(2e-4, 12);
  });

  it('accepts and flags the neighbouring token when the draw lies within the margin of the boundary (honest numeric difference)', () => {
    // the draw is 5e-5 above the 0→1 boundary: the validator samples 1; a miner whose logits differ by ≤ 1e-4 may sample 0
    const r = compareSampledTokens(spec, [step(B0 + 5e-5), step(0.9)], [0, 2]);
    expect(r.match).toBe(true);
    expect(r.flagged).toEqual([0]);
    // and just below the boundary, the other way round
    expect(compareSampledTokens(spec, [step(B1 - 1e-4)], [2]).flagged).toEqual([0]);
  });

  it('error: a different token away from any boundary is rejected (the cheat the tolerance must not let through)', () => {
    const r = compareSampledTokens(spec, [step(0.2), step(0.9)], [1, 0]);
    expect(r.match).toBe(false);
    expect(r.reason).toMatch(/position 1: expected 2, received 0/);
    // a token two intervals away from a draw near a boundary is rejected too
    expect(compareSampledTokens(spec, [step(B0 + 5e-5)], [2]).match).toBe(false);
    // outside the margin by a little
    expect(compareSampledTokens(spec, [step(B0 + 3e-4)], [0]).match).toBe(false);
  });

  it('error: more near-boundary steps than maxFlagged, or a short output, are rejected', () => {
    const near = step(B0 + 5e-5);
    expect(compareSampledTokens({ ...spec, maxFlagged: 2 }, [near, near, near], [0, 0, 0]).match).toBe(false);
    expect(compareSampledTokens({ ...spec, maxFlagged: 3 }, [near, near, near], [0, 0, 0]).match).toBe(true);
    expect(compareSampledTokens(spec, [step(0.2), step(0.9)], [1]).reason).toMatch(/token count differs: expected 2, received 1/);
    expect(compareSampledTokens(spec, [step(0.2)], [7]).match).toBe(false);
  });

  it('greedy: accepts a different token only in a near tie', () => {
    const g = { temperature: 0, logitTolerance: 1e-4 };
    expect(compareSampledTokens(g, [{ logits: [1, 1 + 1e-4, 0], u: 0 }], [0])).toMatchObject({ match: true, flagged: [0] });
    expect(compareSampledTokens(g, [{ logits: [1, 1.01, 0], u: 0 }], [0]).match).toBe(false);
  });

  it('the margin covers every cumulative-probability shift a logit difference within the tolerance can cause', () => {
    // perturb every logit by up to ±1e-4 and check the CDF moves by less than 2·tolerance/T
    let worst = 0;
    for (let k = 0; k < 200; k++) {
      const t = 0.5 + (k % 5) * 0.3;
      const base = [0.3, -1.2, 2.5, 0.7, 1.9, -0.4];
      const pert = base.map((x, i) => x + 1e-4 * Math.sin(k * 7 + i * 13));
      const a = cdf(base, t);
      const b = cdf(pert, t);
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / ((2 * 1e-4) / t));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});
