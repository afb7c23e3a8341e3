/** Two-sided 95% Student-t critical values for 1..30 degrees of freedom (beyond: the normal 1.96). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** Mean and half-width of the 95% confidence interval of the mean (Student t); `ci95` is 0 for one value. */
export interface MeanCi {
  mean: number;
  ci95: number;
  n: number;
}

/** Mean ± 95% CI of the finite numbers in `values` (nulls are skipped); null when there are none. */
export function meanCi(values: readonly (number | null | undefined)[]): MeanCi | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci95: 0, n };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const t = n - 1 <= T95.length ? T95[n - 2]! : 1.96;
  return { mean, ci95: (t * Math.sqrt(variance)) / Math.sqrt(n), n };
}
