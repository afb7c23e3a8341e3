import { METRIC_COLUMNS, type MetricName } from './metrics.js';
import type { SimReport } from './run-simulation.js';
import type { SweepRun } from './sweep-plan.js';

/** One row of `results.jsonl` / `results.csv`: a run's parameters, seeds and outcome metrics. */
export type SweepRow = {
  key: string;
  point: number;
  seedIndex: number;
  masterSeed: number;
  runSeed: number;
} & Record<string, string | number | null>;

/** The metrics of a report as sweep columns (see `METRIC_COLUMNS`). */
export function metricsOf(r: SimReport): Record<MetricName, number | null> {
  const s = r.sim;
  return {
    cheatRate: s.cheatRate,
    adaptiveCheatRate: s.adaptiveCheatRate,
    adaptiveLearnedLevel: s.adaptiveLearnedLevel,
    detectionRate: s.detectionRate,
    detectionLatencyMs: s.detectionLatencyMs,
    honestProfitMicro: s.honestProfitMicro,
    cheaterProfitMicro: s.cheaterProfitMicro,
    adaptiveProfitMicro: s.adaptiveProfitMicro,
    honestProfitPerJobMicro: s.honestProfitPerJobMicro,
    cheaterProfitPerJobMicro: s.cheaterProfitPerJobMicro,
    adaptiveProfitPerJobMicro: s.adaptiveProfitPerJobMicro,
    falseSlashes: s.falseSlashes,
    validatorSlashes: s.validatorSlashes,
    costPerThousandMicro: s.costPerThousandMicro,
    successRate: s.successRate,
    latencyP50Ms: r.latencyMs.p50,
    latencyP95Ms: r.latencyMs.p95,
    jobsSubmitted: r.jobs.submitted,
    jobsSettled: r.jobs.settled,
    jobsAudited: r.jobs.audited,
    minerSlashes: r.jobs.slashed - s.validatorSlashes,
    throughputPerSec: s.throughputPerSec,
    validatorProfitMicro: s.validatorProfitMicro,
    adaptiveRemoved: s.adaptiveRemoved,
    adaptiveRemovedLearnedLevel: s.adaptiveRemovedLearnedLevel,
    honestAuditorsOutvoted: s.honestAuditorsOutvoted,
    honestAuditorOutvotedRate: s.honestAuditorOutvotedRate,
    disputeEscalations: s.disputeEscalations,
    disputesResolved: s.disputesResolved,
    disputeRefereeCpuMs: s.disputeRefereeCpuMs,
    disputeRounds: s.disputeRounds,
    disputeLatencyMs: s.disputeLatencyMs,
    ...economicsMetrics(r),
    ...hybridMetrics(r),
  };
}

function hybridMetrics(r: SimReport): Pick<Record<MetricName, number | null>, `hybrid${string}` & MetricName> {
  const h = r.hybrid?.[0];
  return {
    hybridCloudShare: h ? h.share.cloud : null,
    hybridFallbackShare: h ? h.share.fallback : null,
    hybridUsdPer1000Jobs: h?.usdPer1000Jobs ?? null,
    hybridLatencyP95Ms: h?.latencyMs.p95 ?? null,
    hybridLatencySensitiveP95Ms: h?.latencyMs.latencySensitiveP95 ?? null,
  };
}

function economicsMetrics(r: SimReport): Pick<Record<MetricName, number | null>, `econ${string}` & MetricName> {
  const e = r.economics;
  const active = (pred: (price: number) => boolean): number | null => {
    if (!e) return null;
    const start = e.oracle.startPriceMicro / 1e6;
    const xs = e.windows.activeMiners.filter((_, i) => pred(e.windows.priceUsd[i]! - start));
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  return {
    econUsdPer1000Jobs: e?.clientUsdPer1000Jobs ?? null,
    econUsdPer1000JobsCv: e?.clientUsdPer1000JobsCv ?? null,
    econBudgetExceededShare: e?.budgetExceededShare ?? null,
    econMinerUsdProfitMean: e ? e.minerUsdProfit.mean : null,
    econMinerUsdProfitStd: e ? e.minerUsdProfit.std : null,
    econMinerLeaves: e ? e.churn.leaves : null,
    econMinerReturns: e ? e.churn.returns : null,
    econMinActiveMiners: e ? e.churn.minActive : null,
    econActiveWhenPriceBelowStart: active((d) => d < 0),
    econActiveWhenPriceAboveStart: active((d) => d >= 0),
    econPriceChangeAtLeaves: e?.churn.meanPriceChangeAtLeaves ?? null,
    econConservedPerToken: e ? (Object.values(e.conservedByToken).every(Boolean) ? 1 : 0) : null,
  };
}

/** Build the row of a finished run. */
export function rowOf(run: SweepRun, masterSeed: number, report: SimReport): SweepRow {
  return { key: run.key, point: run.point, ...run.overrides, seedIndex: run.seedIndex, masterSeed, runSeed: run.runSeed, ...metricsOf(report) } as SweepRow;
}

/** CSV columns for a sweep over `paramNames`. */
export function csvColumns(paramNames: readonly string[]): string[] {
  return ['key', 'point', ...paramNames, 'seedIndex', 'masterSeed', 'runSeed', ...METRIC_COLUMNS];
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (with the trailing newline). */
export function csvLine(values: readonly unknown[]): string {
  return `${values.map(cell).join(',')}\n`;
}

/** A row as a CSV line in `columns` order. */
export function rowToCsv(row: SweepRow, columns: readonly string[]): string {
  return csvLine(columns.map((c) => row[c]));
}

/** Parse `results.jsonl` text; a torn last line (an interrupted write) is dropped. */
export function parseJsonl(text: string): SweepRow[] {
  const rows: SweepRow[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as SweepRow);
    } catch {
      // an interrupted append leaves a partial line; that run is simply run again
    }
  }
  return rows;
}
