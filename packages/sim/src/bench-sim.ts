import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario, type Scenario } from '@infermarket/protocol';
import { runSimulation } from './run-simulation.js';
import { runSweep } from './run-sweep.js';

/** The market the benchmark simulates: 8 honest + 2 lazy miners, 3 validators, digits jobs, audit rate 0.1. */
export function benchScenario(durationMs = 60_000, ratePerSec = 200): Scenario {
  return parseScenario({
    name: 'bench',
    seed: 1,
    durationMs,
    params: { auditRate: 0.1, jailDurationMs: 1_000, challengeWindowMs: 500 },
    miners: [
      { count: 8, strategy: 'honest', pricing: { priceMicro: '1000', spreadBps: 200 } },
      { count: 2, strategy: 'lazy', pricing: { priceMicro: '1000', spreadBps: 200 } },
    ],
    validators: [{ count: 3, strategy: 'honest' }],
    clients: [{ count: 4, ratePerSec, concurrency: 1_000, models: { digits: 1 } }],
  });
}

export interface BenchSimResult {
  /** Simulated jobs (submitted) per wall second on one core, full rules, invariants checked at the end only. */
  jobsPerSec: number;
  /** Queue events per wall second on one core. */
  eventsPerSec: number;
  jobs: number;
  /** Sweep throughput on all cores. */
  sweepRunsPerSec: number;
  sweepJobsPerSec: number;
  workers: number;
}

/**
 * Measure the simulator: one long run on this thread (jobs/s on one core), then a sweep on every core
 * (runs/s). Used by `infermarket bench`.
 * @param options.durationMs virtual length of the single run (default 60 s ≈ 48k jobs).
 * @param options.sweepRuns runs in the sweep (default 4 per worker).
 */
export async function benchSim(options: { durationMs?: number; sweepRuns?: number; workers?: number } = {}): Promise<BenchSimResult> {
  const scenario = benchScenario(options.durationMs ?? 60_000);
  runSimulation(benchScenario(5_000)); // warm up the JIT
  const t0 = performance.now();
  const r = runSimulation(scenario);
  const s = (performance.now() - t0) / 1000;
  const workers = options.workers ?? availableParallelism();
  const runs = options.sweepRuns ?? workers * 4;
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-'));
  try {
    const small = benchScenario(10_000);
    const sweep = await runSweep({ scenario: small, params: [{ name: 'auditRate', values: [0.1] }], seeds: runs, outDir: dir, workers });
    const jobs = sweep.rows.reduce((a, row) => a + Number(row.jobsSubmitted ?? 0), 0);
    return {
      jobsPerSec: Math.round(r.jobs.submitted / s),
      eventsPerSec: Math.round(r.sim.events / s),
      jobs: r.jobs.submitted,
      sweepRunsPerSec: Math.round(sweep.runsPerSec * 100) / 100,
      sweepJobsPerSec: Math.round(jobs / (sweep.wallMs / 1000)),
      workers,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
