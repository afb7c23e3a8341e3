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
