import { METRIC_COLUMNS } from './metrics.js';
import { csvLine, type SweepRow } from './sweep-row.js';
import type { SweepPoint } from './sweep-plan.js';
import { bootstrapMeanCi, meanCi, type MeanCi } from './sweep-stats.js';

/** Metrics bounded to [0, 1]: their per-point interval is a percentile bootstrap (a t-interval spills past the bounds). */
export const BOUNDED_METRICS: ReadonlySet<string> = new Set(['cheatRate', 'adaptiveCheatRate', 'adaptiveLearnedLevel', 'detectionRate', 'successRate']);

/** Mean and 95% CI of every metric at one sweep point (bootstrap for the rates in `BOUNDED_METRICS`, Student t otherwise). */
export interface SweepSummaryPoint {
  point: number;
  values: Record<string, string | number>;
  runs: number;
  metrics: Record<string, MeanCi | null>;
}

/** Summarise rows per point, in point order; points with no rows are left out. */
export function summarise(points: readonly SweepPoint[], rows: readonly SweepRow[]): SweepSummaryPoint[] {
  const byPoint = new Map<number, SweepRow[]>();
  for (const r of rows) {
    const list = byPoint.get(r.point);
    if (list) list.push(r);
    else byPoint.set(r.point, [r]);
  }
  const out: SweepSummaryPoint[] = [];
  for (const p of points) {
    const list = byPoint.get(p.index);
    if (!list) continue;
    const metrics: Record<string, MeanCi | null> = {};
    for (const m of METRIC_COLUMNS) {
      const values = list.map((r) => r[m] as number | null);
      metrics[m] = BOUNDED_METRICS.has(m) ? bootstrapMeanCi(values, { seed: 0x5eed + p.index }) : meanCi(values);
    }
    out.push({ point: p.index, values: p.values, runs: list.length, metrics });
  }
  return out;
}

/** `summary.csv`: one line per point, `<metric>_mean`, `<metric>_ci95`, `<metric>_lo`, `<metric>_hi`, `<metric>_n` columns. */
export function summaryCsv(paramNames: readonly string[], summary: readonly SweepSummaryPoint[]): string {
  const head = ['point', ...paramNames, 'runs', ...METRIC_COLUMNS.flatMap((m) => [`${m}_mean`, `${m}_ci95`, `${m}_lo`, `${m}_hi`, `${m}_n`])];
  let text = csvLine(head);
  for (const s of summary) {
    const cells: unknown[] = [s.point, ...paramNames.map((n) => s.values[n]), s.runs];
    for (const m of METRIC_COLUMNS) {
      const v = s.metrics[m];
      const num = (x: number | undefined): number | null => (v && x !== undefined ? Number(x.toPrecision(10)) : null);
      cells.push(num(v?.mean), num(v?.ci95), num(v?.lo), num(v?.hi), v ? v.n : 0);
    }
    text += csvLine(cells);
  }
  return text;
}
