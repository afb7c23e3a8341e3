// A worker thread of `runSweep`: receives runs one at a time, answers with their rows.
import { parentPort, workerData } from 'node:worker_threads';
import type { Scenario } from '@infermarket/protocol';
import { runSimulation } from './run-simulation.js';
import { rowOf } from './sweep-row.js';
import type { SweepRun } from './sweep-plan.js';

const { scenario, masterSeed } = workerData as { scenario: Scenario; masterSeed: number };

parentPort!.on('message', (run: SweepRun) => {
  try {
    const report = runSimulation(scenario, { seed: run.runSeed, masterSeed, overrides: run.overrides });
    parentPort!.postMessage({ ok: true, key: run.key, row: rowOf(run, masterSeed, report) });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    parentPort!.postMessage({ ok: false, key: run.key, code: err.code ?? 'ERR_INTERNAL', message: err.message ?? String(e) });
  }
});
