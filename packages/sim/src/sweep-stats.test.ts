import { describe, expect, it } from 'vitest';
import { bootstrapMeanCi, meanCi } from './sweep-stats.js';

describe('per-point intervals', () => {
  it('a bootstrap interval of a rate stays inside [0, 1] where the t-interval spills over', () => {
    // two-peaked: two seeds' learners settled on cheating, two did not
    const xs = [0.95, 0.9, 0.06, 0.05];
    const t = meanCi(xs)!;
    expect(t.lo).toBeLessThan(0);
    expect(t.hi).toBeGreaterThan(1);
    const b = bootstrapMeanCi(xs, { seed: 1 })!;
    expect(b.method).toBe('bootstrap');
    expect(b.mean).toBeCloseTo(0.49, 12);
    expect(b.lo).toBeGreaterThanOrEqual(0.05);
    expect(b.hi).toBeLessThanOrEqual(0.95);
    expect(b.lo).toBeLessThan(b.mean);
    expect(b.hi).toBeGreaterThan(b.mean);
    expect(b.ci95).toBeCloseTo((b.hi - b.lo) / 2, 12);
  });

  it('is seeded and skips runs without data', () => {
    const xs = [0.1, null, 0.3, 0.2, 0.4];
    expect(bootstrapMeanCi(xs, { seed: 9 })).toEqual(bootstrapMeanCi(xs, { seed: 9 }));
    expect(bootstrapMeanCi(xs, { seed: 9 })!.n).toBe(4);
    expect(bootstrapMeanCi([null, undefined], { seed: 9 })).toBeNull();
  });
});
