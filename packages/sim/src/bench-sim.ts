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
  /** Simulated jobs per second of this thread's CPU time (less sensitive than wall time to a shared machine). */
  jobsPerCpuSec: number;
  /** Queue events per wall second on one core. */
  eventsPerSec: number;
  /** Queue events per submitted job: the event mix the rules imply (jobs/s is only comparable at the same mix). */
  eventsPerJob: number;
  jobs: number;
  settled: number;
  /** The matching mode the scenario ran (`params.matchingMode`; `auction` when the protocol has no other). */
  matchingMode: string;
  /** The run's seed and virtual duration. */
  seed: number;
  durationMs: number;
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
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = runSimulation(scenario);
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const mode = (r.params as Record<string, unknown> | undefined)?.matchingMode;
  const workers = options.workers ?? availableParallelism();
  const runs = options.sweepRuns ?? workers * 4;
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-'));
  try {
    const small = benchScenario(10_000);
    const sweep = await runSweep({ scenario: small, params: [{ name: 'auditRate', values: [0.1] }], seeds: runs, outDir: dir, workers });
    const jobs = sweep.rows.reduce((a, row) => a + Number(row.jobsSubmitted ?? 0), 0);
    return {
      jobsPerSec: Math.round(r.jobs.submitted / s),
      jobsPerCpuSec: Math.round(r.jobs.submitted / cpuS),
      eventsPerSec: Math.round(r.sim.events / s),
      eventsPerJob: Math.round((r.sim.events / r.jobs.submitted) * 100) / 100,
      jobs: r.jobs.submitted,
      settled: r.jobs.settled,
      matchingMode: typeof mode === 'string' ? mode : 'auction',
      seed: scenario.seed,
      durationMs: scenario.durationMs,
      sweepRunsPerSec: Math.round(sweep.runsPerSec * 100) / 100,
      sweepJobsPerSec: Math.round(jobs / (sweep.wallMs / 1000)),
      workers,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
