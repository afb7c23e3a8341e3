import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InfermarketError, type RunReport } from '@infermarket/protocol';

/** One compared quantity of two runs. */
export interface DiffRow {
  name: string;
  a: string | number | null;
  b: string | number | null;
  /** b − a for numbers (null otherwise). */
  delta: number | null;
  /** (b − a) / |a| for numbers with a ≠ 0. */
  relative: number | null;
}

/** What `infermarket diff` reports. */
export interface ReportDiff {
  a: string;
  b: string;
  /** Parameters (and run settings: kind, scenario, seed, duration) whose values differ. */
  parameters: DiffRow[];
  /** Outcomes side by side: job counts, success rate, latency, TTFT, cost, ledger, per strategy. */
  outcomes: DiffRow[];
}

/** `DIR` (a run's output folder) or `FILE` (a report.json) → the report. @throws ERR_VALIDATION naming the path. */
export function readReport(path: string): RunReport {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'report.json') : path;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    if (typeof r !== 'object' || r === null || !('jobs' in r) || !('params' in r)) throw new Error('not a report.json (no "jobs" or "params")');
    return r;
  } catch (e) {
    throw new InfermarketError('ERR_VALIDATION', `"${path}" must be a run folder or its report.json: ${(e as Error).message}`);
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : null);

function row(name: string, a: unknown, b: unknown): DiffRow {
  const x = num(a);
  const y = num(b);
  const show = (v: unknown): string | number | null => (v === undefined || v === null ? null : typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v));
  return { name, a: show(a), b: show(b), delta: x !== null && y !== null ? y - x : null, relative: x !== null && y !== null && x !== 0 ? (y - x) / Math.abs(x) : null };
}

/** Sum of a per-miner amount by strategy. */
function byStrategy(r: RunReport, field: 'earnedMicro' | 'slashedMicro'): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const x of r.miners) m.set(x.strategy, (m.get(x.strategy) ?? 0n) + BigInt(x[field]));
  return m;
}

/** Compare two run reports: parameters that differ, and every outcome side by side with its change. */
export function diffReports(a: RunReport, b: RunReport, names: { a: string; b: string }): ReportDiff {
  const parameters: DiffRow[] = [];
  for (const k of ['kind', 'scenario', 'seed', 'durationMs'] as const) if (a[k] !== b[k]) parameters.push(row(k, a[k], b[k]));
  for (const k of [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])].sort()) {
    if (String(a.params[k]) !== String(b.params[k])) parameters.push(row(k, a.params[k], b.params[k]));
  }
  const outcomes: DiffRow[] = [];
  for (const k of Object.keys(a.jobs) as (keyof RunReport['jobs'])[]) outcomes.push(row(`jobs.${k}`, a.jobs[k], b.jobs[k]));
  outcomes.push(row('successRate', a.successRate, b.successRate));
  for (const q of ['p50', 'p95', 'p99'] as const) outcomes.push(row(`latencyMs.${q}`, a.latencyMs[q], b.latencyMs[q]));
  for (const q of ['p50', 'p95'] as const) outcomes.push(row(`ttftMs.${q}`, a.ttftMs[q], b.ttftMs[q]));
  outcomes.push(row('costPerThousandMicro', a.costPerThousandMicro, b.costPerThousandMicro));
  outcomes.push(row('slashes', a.slashes.length, b.slashes.length));
  outcomes.push(row('ledger.feesMicro', a.ledger.feesMicro, b.ledger.feesMicro));
  outcomes.push(row('ledger.burnedMicro', a.ledger.burnedMicro, b.ledger.burnedMicro));
  outcomes.push(row('ledger.conserved', String(a.ledger.conserved), String(b.ledger.conserved)));
  for (const field of ['earnedMicro', 'slashedMicro'] as const) {
    const x = byStrategy(a, field);
    const y = byStrategy(b, field);
    for (const s of [...new Set([...x.keys(), ...y.keys()])].sort()) outcomes.push(row(`miners[${s}].${field}`, (x.get(s) ?? 0n).toString(), (y.get(s) ?? 0n).toString()));
  }
  // the simulator's own metrics, when both runs have them
  const sa = (a as RunReport & { sim?: Record<string, unknown> }).sim;
  const sb = (b as RunReport & { sim?: Record<string, unknown> }).sim;
  if (sa && sb) for (const k of Object.keys(sa).sort()) if (num(sa[k]) !== null || num(sb[k]) !== null) outcomes.push(row(`sim.${k}`, sa[k], sb[k]));
  return { a: names.a, b: names.b, parameters, outcomes };
}

/** The diff as aligned text columns. */
export function formatDiff(d: ReportDiff): string {
  const fmt = (v: string | number | null): string => (v === null ? '–' : typeof v === 'number' ? String(Math.round(v * 1e4) / 1e4) : v);
  const table = (rows: DiffRow[], withDelta: boolean): string => {
    const cells = rows.map((r) => [r.name, fmt(r.a), fmt(r.b), ...(withDelta ? [r.delta === null ? '' : `${r.delta > 0 ? '+' : ''}${fmt(r.delta)}${r.relative === null ? '' : ` (${r.relative > 0 ? '+' : ''}${(r.relative * 100).toFixed(1)}%)`}`] : [])]);
    const head = ['', 'A', 'B', ...(withDelta ? ['B − A'] : [])];
    const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    return [head, ...cells].map((c) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ').trimEnd()).join('\n');
  };
  return [
    `A ${d.a}`,
    `B ${d.b}`,
    '',
    d.parameters.length ? `parameters that differ:\n${table(d.parameters, false)}` : 'parameters: identical',
    '',
    `outcomes:\n${table(d.outcomes, true)}`,
    '',
  ].join('\n');
}

/** Registers `infermarket diff`. */
export function register(program: Command): void {
  program
    .command('diff')
    .description('Compare two runs (testnet or sim) side by side: the parameters that differ and every outcome with its change.')
    .argument('<a>', 'run folder or report.json')
    .argument('<b>', 'run folder or report.json')
    .option('--json', 'print the diff as JSON')
    .action((a: string, b: string, o: { json?: boolean }) => {
      const d = diffReports(readReport(a), readReport(b), { a, b });
      process.stdout.write(o.json ? `${JSON.stringify(d)}\n` : formatDiff(d));
    });
}
