import type { Scenario } from '@infermarket/protocol';
import type { SweepPlan } from './sweep-plan.js';
import { csvLine, type SweepRow } from './sweep-row.js';
import { scenarioThreshold } from './threshold.js';
import { estimateThreshold, type ThresholdEstimate } from './threshold-fit.js';

/** The rate whose ½-crossing is the measured threshold. */
export const THRESHOLD_METRIC = 'adaptiveCheatRate';

/** Seed of the bootstrap over seeds (fixed, so a summary is reproducible byte for byte). */
export const THRESHOLD_BOOTSTRAP_SEED = 2405;

/** The analytic p\* of one kind of miner at a sweep group (see `scenarioThreshold`). */
export interface AnalyticPStar {
  miners: string[];
  pStar: number | null;
  reason: string | null;
}

/** Measured and analytic threshold over the first swept parameter, for one combination of the others. */
export interface SweepThreshold {
  param: string;
  metric: string;
  /** Values of the other swept parameters. */
  group: Record<string, string | number>;
  measured: ThresholdEstimate;
  /** Runs left out because the metric had no data (null: e.g. no adaptive miner committed late in the run). */
  runsWithoutData: number;
  /** Analytic p\* (only when the first parameter is the audit rate), or null with the reason. */
  analytic: AnalyticPStar[] | null;
  analyticReason: string | null;
  /** measured ÷ analytic (first analytic row), with the CI's bounds divided the same way; null with the reason. */
  ratio: { value: number; ci95: { lo: number; hi: number } | null } | null;
  ratioReason: string | null;
}

const isAuditRate = (name: string): boolean => name === 'auditRate' || name === 'params.auditRate';

/**
 * For a sweep whose rows carry `adaptiveCheatRate`: per combination of the other parameters, the threshold
 * over the first parameter where the cheat rate crosses ½ (logistic fit on log x when every x > 0, else on
 * x; bootstrap 95% CI over seeds), beside the protocol's analytic p\* when the first parameter is the audit rate.
 * Returns [] when no row has the metric.
 */
export function sweepThresholds(input: { scenario: Scenario; plan: SweepPlan; rows: readonly SweepRow[] }): SweepThreshold[] {
  const { scenario, plan, rows } = input;
  const first = plan.params[0];
  if (!first) return [];
  if (!rows.some((r) => typeof r[THRESHOLD_METRIC] === 'number')) return [];
  const others = plan.params.slice(1).map((p) => p.name);
  const keyOf = (values: Record<string, string | number>): string => JSON.stringify(others.map((n) => values[n]));
  const groups = new Map<string, { group: Record<string, string | number>; rows: SweepRow[] }>();
  for (const p of plan.points) {
    const k = keyOf(p.values);
    if (!groups.has(k)) groups.set(k, { group: Object.fromEntries(others.map((n) => [n, p.values[n]!])), rows: [] });
  }
  for (const r of rows) groups.get(keyOf(r as Record<string, string | number>))?.rows.push(r);
  const out: SweepThreshold[] = [];
  for (const { group, rows: list } of groups.values()) {
    if (list.length === 0) continue;
    const withData = list.filter((r) => typeof r[THRESHOLD_METRIC] === 'number' && typeof r[first.name] === 'number');
    const xsPositive = withData.every((r) => (r[first.name] as number) > 0);
    const measured = estimateThreshold({
      observations: withData.map((r) => ({ x: r[first.name] as number, y: r[THRESHOLD_METRIC] as number, seed: r.seedIndex })),
      scale: xsPositive ? 'log' : 'linear',
      bootstrapSeed: THRESHOLD_BOOTSTRAP_SEED,
    });
    let analytic: AnalyticPStar[] | null = null;
    let analyticReason: string | null = null;
    if (!isAuditRate(first.name)) analyticReason = `the analytic p* is an audit rate; the first swept parameter is ${first.name}`;
    else {
      try {
        const t = scenarioThreshold(scenario, { overrides: group });
        analytic = t.rows.map((row) => ({ miners: row.miners, pStar: row.threshold.pStar, reason: row.threshold.pStarReason }));
        if (analytic.length === 0) {
          analytic = null;
          analyticReason = 'the scenario has no miner whose cheat is a skipped execution';
        }
      } catch (e) {
        analyticReason = `cannot derive p*: ${(e as Error).message}`;
      }
    }
    let ratio: SweepThreshold['ratio'] = null;
    let ratioReason: string | null = null;
    const p0 = analytic?.[0]?.pStar ?? null;
    if (measured.threshold === null) ratioReason = `no measured threshold: ${measured.reason}`;
    else if (p0 === null || p0 <= 0) ratioReason = analyticReason ?? `no analytic p*: ${analytic?.[0]?.reason ?? 'none'}`;
    else ratio = { value: measured.threshold / p0, ci95: measured.ci95 ? { lo: measured.ci95.lo / p0, hi: measured.ci95.hi / p0 } : null };
    out.push({ param: first.name, metric: THRESHOLD_METRIC, group, measured, runsWithoutData: list.length - withData.length, analytic, analyticReason, ratio, ratioReason });
  }
  return out;
}

/** `thresholds.csv`: one line per group — the other parameters' values, the measured threshold and CI (empty with the reason when undefined), the analytic p* and the ratio. */
export function thresholdsCsv(otherParams: readonly string[], thresholds: readonly SweepThreshold[]): string {
  let text = csvLine([...otherParams, 'param', 'metric', 'measured', 'ci95_lo', 'ci95_hi', 'runs', 'seeds', 'runs_without_data', 'measured_reason', 'ci_reason', 'analytic_pstar', 'analytic_reason', 'ratio', 'ratio_lo', 'ratio_hi']);
  for (const t of thresholds) {
    const m = t.measured;
    const p0 = t.analytic?.[0];
    text += csvLine([
      ...otherParams.map((n) => t.group[n]),
      t.param,
      t.metric,
      m.threshold,
      m.ci95?.lo ?? null,
      m.ci95?.hi ?? null,
      m.runs,
      m.seeds,
      t.runsWithoutData,
      m.reason,
      m.ciReason,
      p0?.pStar ?? null,
      p0 ? p0.reason : t.analyticReason,
      t.ratio?.value ?? null,
      t.ratio?.ci95?.lo ?? null,
      t.ratio?.ci95?.hi ?? null,
    ]);
  }
  return text;
}
