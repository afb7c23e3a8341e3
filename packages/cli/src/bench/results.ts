import type { BenchRow, Machine, SuiteRun } from './harness.js';
import { median } from './harness.js';

/** The shape of `bench/results.json`. */
export interface BenchResults {
  machine: Machine;
  quick: boolean;
  suites: SuiteRun[];
  rows: BenchRow[];
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-12, Math.abs(a), Math.abs(b));

/**
 * Check that a results file is complete and its numbers agree with each other; returns the problems
 * (empty when none). The bench command runs it on what it writes and fails loud on a problem.
 * - the machine and, per suite, the load at its start (1/5/15-min averages, CPU, cores);
 * - every row belongs to a recorded suite; min ≤ median ≤ max; a target's met/missed follows from its median
 *   (an unmeasured row, NaN, is never met);
 * - market rows that have raw blocks: jobs/s per in-flight level is the median of the recorded blocks' rates;
 * - simulator: jobs/s reported beside events per job.
 */
export function checkResults(r: BenchResults): string[] {
  const bad: string[] = [];
  if (!r.machine || typeof r.machine.cpu !== 'string' || !(r.machine.cores > 0) || !r.machine.node) bad.push('machine: cpu, cores and node are required');
  const suites = new Map((r.suites ?? []).map((s) => [s.suite, s]));
  for (const s of r.suites ?? []) {
    const l = s.load;
    if (!l || !Array.isArray(l.loadavg) || l.loadavg.length !== 3 || l.loadavg.some((x) => !(x >= 0))) bad.push(`${s.suite}: the load at its start needs three load averages`);
    if (!l || !(l.cores > 0) || typeof l.cpu !== 'string') bad.push(`${s.suite}: the load at its start needs the CPU model and core count`);
  }
  for (const row of r.rows ?? []) {
    const at = `${row.suite} / ${row.name}`;
    if (!suites.has(row.suite)) bad.push(`${at}: no suite entry (load, seeds) for "${row.suite}"`);
    const v = row.value;
    if (v === null || Number.isNaN(v)) {
      if (row.target?.met) bad.push(`${at}: an unmeasured row cannot meet its target`);
      continue;
    }
    const tol = 1e-9 * Math.max(1, Math.abs(v));
    if (!(row.min - tol <= v && v <= row.max + tol)) bad.push(`${at}: median ${v} is outside its spread ${row.min} … ${row.max}`);
    if (row.target) {
      const met = row.target.op === '>=' ? v >= row.target.value : v <= row.target.value;
      if (met !== row.target.met) bad.push(`${at}: target ${row.target.op} ${row.target.value} marked ${row.target.met ? 'met' : 'missed'} at ${v}`);
    }
  }
  // market suite: recompute jobs/s per level from the raw blocks
  const conditions = (suites.get('overhead')?.meta.conditions ?? []) as { kind?: string; model: string; inFlight: number; jobs: number; market: { finished: number; elapsedMs: number }[] }[];
  for (const c of conditions) {
    if (c.kind !== 'throughput') continue;
    const row = r.rows.find((x) => x.suite === 'overhead' && x.name === `${c.model} jobs/s through the market, ${c.inFlight} in flight`);
    if (!row) {
      bad.push(`overhead: the throughput blocks of ${c.model} at ${c.inFlight} in flight have no row`);
      continue;
    }
    const want = median(c.market.map((m) => (m.finished * 1000) / m.elapsedMs));
    if (rel(want, row.value) > 1e-6) bad.push(`overhead / ${row.name}: ${row.value} is not the median of its blocks (${want})`);
    if (c.market.some((m) => m.finished > c.jobs)) bad.push(`overhead / ${row.name}: more jobs finished than started`);
  }
  const simRow = r.rows.find((x) => x.suite === 'simulator' && x.name.startsWith('simulated jobs per second'));
  if (simRow && !r.rows.some((x) => x.suite === 'simulator' && x.unit === 'events/job')) bad.push('simulator: jobs/s without events per job');
  return bad;
}
