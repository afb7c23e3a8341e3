import { createRng } from './rng.js';

/** Two-sided 95% Student-t critical values for 1..30 degrees of freedom (beyond: the normal 1.96). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/**
 * Mean and 95% confidence interval of the mean. `lo`/`hi` are the interval; `ci95` its half-width
 * ((hi − lo) / 2; for `t` it is the symmetric ± of Student t). `ci95` is 0 for one value.
 */
export interface MeanCi {
  mean: number;
  ci95: number;
  n: number;
  lo: number;
  hi: number;
  /** `t`: Student t (unbounded metrics); `bootstrap`: percentile bootstrap of the mean (rates capped to [0, 1]). */
  method: 't' | 'bootstrap';
}

const finite = (values: readonly (number | null | undefined)[]): number[] => values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

/** Mean ± 95% CI (Student t) of the finite numbers in `values` (nulls are skipped); null when there are none. */
export function meanCi(values: readonly (number | null | undefined)[]): MeanCi | null {
  const xs = finite(values);
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci95: 0, n, lo: mean, hi: mean, method: 't' };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const t = n - 1 <= T95.length ? T95[n - 2]! : 1.96;
  const ci95 = (t * Math.sqrt(variance)) / Math.sqrt(n);
  return { mean, ci95, n, lo: mean - ci95, hi: mean + ci95, method: 't' };
}

/**
 * Mean and percentile-bootstrap 95% CI of the mean, for a metric bounded to [0, 1] (a rate): the interval
 * stays inside the bounds and follows a skewed or two-peaked spread, where a t-interval would spill past 0
 * or 1. Seeded, so a summary is reproducible. With few runs (n < 5) any interval under-covers; `n` is kept.
 */
export function bootstrapMeanCi(values: readonly (number | null | undefined)[], options: { seed: number; resamples?: number }): MeanCi | null {
  const xs = finite(values);
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci95: 0, n, lo: mean, hi: mean, method: 'bootstrap' };
  const rng = createRng(options.seed);
  const B = options.resamples ?? 2000;
  const means: number[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[rng.int(n)]!;
    means.push(s / n);
  }
  means.sort((a, b) => a - b);
  const lo = means[Math.round(0.025 * (B - 1))]!;
  const hi = means[Math.round(0.975 * (B - 1))]!;
  return { mean, ci95: (hi - lo) / 2, n, lo, hi, method: 'bootstrap' };
}
