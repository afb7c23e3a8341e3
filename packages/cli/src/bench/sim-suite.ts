import { benchSim, type BenchSimResult } from '@infermarket/sim';
import { median, type BenchRow } from './harness.js';

/** Simulated jobs/s on one core with the full rules, and sweep throughput on every core. */
export async function simSuite(opts: { quick: boolean; log: (m: string) => void }): Promise<BenchRow[]> {
  const results: BenchSimResult[] = [];
  for (let i = 0; i < (opts.quick ? 1 : 3); i++) {
    results.push(await benchSim({ durationMs: opts.quick ? 10_000 : 60_000 }));
    opts.log(`run ${i + 1}: ${results[i]!.jobsPerSec} jobs/s on one core, ${results[i]!.sweepRunsPerSec} sweep runs/s`);
  }
  const row = (name: string, unit: string, pick: (r: (typeof results)[number]) => number, target?: number): BenchRow => {
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
    };
  };
  const workers = results[0]!.workers;
  return [
    row('simulated jobs per second, one core, full rules', 'jobs/s', (r) => r.jobsPerSec, 200_000),
    row('simulator events per second, one core', 'events/s', (r) => r.eventsPerSec),
    row(`sweep runs per second, ${workers} workers`, 'runs/s', (r) => r.sweepRunsPerSec),
    row(`sweep simulated jobs per second, ${workers} workers`, 'jobs/s', (r) => r.sweepJobsPerSec),
  ];
}
