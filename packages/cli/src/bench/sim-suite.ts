import { benchSim, type BenchSimResult } from '@infermarket/sim';
import { median, type BenchRow } from './harness.js';
import type { SuiteContext } from './suites.js';

/**
 * Simulated jobs/s on one core with the full rules, beside the events per job (jobs/s is only comparable
 * at the same event mix) and the matching mode the scenario ran; and sweep throughput on every core.
 */
export async function simSuite(ctx: Pick<SuiteContext, 'quick' | 'log'> & Partial<Pick<SuiteContext, 'record'>>): Promise<BenchRow[]> {
  const results: BenchSimResult[] = [];
  for (let i = 0; i < (ctx.quick ? 1 : 3); i++) {
    results.push(await benchSim({ durationMs: ctx.quick ? 10_000 : 60_000 }));
    const r = results[i]!;
    ctx.log(`run ${i + 1}: ${r.jobsPerSec} jobs/s on one core (${r.jobsPerCpuSec} per CPU second), ${r.eventsPerJob} events/job, matching ${r.matchingMode}; ${r.sweepRunsPerSec} sweep runs/s`);
  }
  const first = results[0]!;
  ctx.record?.({ seed: first.seed, durationMs: first.durationMs, matchingMode: first.matchingMode, runs: results });
  const row = (name: string, unit: string, pick: (r: BenchSimResult) => number, extra: Partial<BenchRow> = {}, target?: number): BenchRow => {
    const xs = results.map(pick);
    return {
      suite: 'simulator',
      name,
      value: median(xs),
      unit,
      min: Math.min(...xs),
      max: Math.max(...xs),
      repeats: xs.length,
      ...(target ? { target: { op: '>=' as const, value: target, met: median(xs) >= target } } : {}),
      ...extra,
    };
  };
  const workers = first.workers;
  const mix = `${first.eventsPerJob} events/job, matching ${first.matchingMode}, ${first.jobs} jobs, seed ${first.seed}`;
  return [
    row('simulated jobs per second, one core, full rules', 'jobs/s', (r) => r.jobsPerSec, { note: mix }, 200_000),
    row('simulated jobs per CPU second of the simulating thread', 'jobs/s', (r) => r.jobsPerCpuSec, { note: 'process.cpuUsage: less sensitive to other processes on the cores than wall time' }),
    row('simulator events per job', 'events/job', (r) => r.eventsPerJob, { note: 'queue events per submitted job: jobs/s compares only at the same mix' }),
    row('simulator events per second, one core', 'events/s', (r) => r.eventsPerSec),
    row(`sweep runs per second, ${workers} workers`, 'runs/s', (r) => r.sweepRunsPerSec),
    row(`sweep simulated jobs per second, ${workers} workers`, 'jobs/s', (r) => r.sweepJobsPerSec),
  ];
}
