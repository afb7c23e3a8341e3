/**
 * @infermarket/sim — the protocol's rules on a virtual clock: modelled miners, validators and clients,
 * seeded and reproducible, for single runs (`runSimulation`) and parameter sweeps (`runSweep`).
 */
export { runSimulation, SIM_DEFAULTS, type RunSimulationOptions, type SimReport } from './run-simulation.js';
export { METRIC_COLUMNS, type MetricName, type SimMetrics } from './metrics.js';
export { applyOverrides, OVERRIDE_NAMES_HELP } from './overrides.js';
export { createRng, deriveSeed, type Rng } from './rng.js';
export { createEventQueue, type EventQueue } from './event-queue.js';
export { createBandit, DEFAULT_CHEAT_LEVELS, type Bandit, type BanditOptions } from './bandit.js';
export { COMPUTE_MS, DOWNGRADE_MISMATCH_RATE, computeMs, computeCostMicro, computeTableFromManifest } from './cost-model.js';
export { runSweep, writeSweepOutputs, type RunSweepOptions, type SweepMeta, type SweepResult } from './run-sweep.js';
export { mergeSweeps, type MergeResult } from './merge-sweeps.js';
export { planSweep, parseSweepParam, parseShard, shardFromEnv, runKey, type ShardEnv, type SweepParam, type SweepPlan, type SweepPoint, type SweepRun } from './sweep-plan.js';
export { meanCi, type MeanCi } from './sweep-stats.js';
export { summarise, type SweepSummaryPoint } from './sweep-summary.js';
export { csvColumns, metricsOf, parseJsonl, type SweepRow } from './sweep-row.js';
export { renderSweepHtml, type SweepMarker } from './sweep-html.js';
export { renderReportHtml } from './report-html.js';
export { benchSim, benchScenario, type BenchSimResult } from './bench-sim.js';
export { recordSimJobs, type SimJobsCsv } from './jobs-csv.js';
