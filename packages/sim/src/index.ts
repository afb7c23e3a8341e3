/**
 * @infermarket/sim — the protocol's rules on a virtual clock: modelled miners, validators and clients,
 * seeded and reproducible, for single runs (`runSimulation`) and parameter sweeps (`runSweep`).
 */
export { runSimulation, SIM_DEFAULTS, type RunSimulationOptions, type SimReport } from './run-simulation.js';
export { METRIC_COLUMNS, type MetricName, type SimMetrics } from './metrics.js';
export { applyOverrides, OVERRIDE_NAMES_HELP } from './overrides.js';
export { createRng, deriveSeed, type Rng } from './rng.js';
export { createEventQueue, type EventQueue } from './event-queue.js';
export { createLearner, ADAPTIVE_DEFAULTS, type AdaptiveSettings, type Learner, type JobOutcome } from '@infermarket/agents';
export { COMPUTE_MS, DOWNGRADE_MISMATCH_RATE, computeMs, computeCostMicro, computeTableFromManifest } from './cost-model.js';
export { runSweep, writeSweepOutputs, type RunSweepOptions, type SweepMeta, type SweepResult } from './run-sweep.js';
export { mergeSweeps, type MergeResult } from './merge-sweeps.js';
export { bootstrapMeanCi, meanCi, type MeanCi } from './sweep-stats.js';
export { planSweep, parseSweepParam, parseShard, shardFromEnv, runKey, type ShardEnv, type SweepParam, type SweepPlan, type SweepPoint, type SweepRun } from './sweep-plan.js';
export { summarise, type SweepSummaryPoint } from './sweep-summary.js';
export { csvColumns, metricsOf, parseJsonl, type SweepRow } from './sweep-row.js';
export { renderSweepHtml, type SweepMarker } from './sweep-html.js';
export { renderReportHtml } from './report-html.js';
export { benchSim, benchScenario, type BenchSimResult } from './bench-sim.js';
export { scenarioThreshold, type ScenarioThreshold, type ScenarioThresholdOptions, type ScenarioThresholdRow } from './threshold.js';
export { estimateThreshold, fitLogistic, type RateObservation, type ThresholdEstimate, type ThresholdFitOptions } from './threshold-fit.js';
export { sweepThresholds, THRESHOLD_METRIC, type AnalyticPStar, type SweepThreshold } from './sweep-threshold.js';
export { runPospStudy, studyMarkdown, studySvg, POSP_STUDY_DESIGN, type PospStudyPoint, type PospStudyResult, type RunPospStudyOptions, type StudyScenario } from './study-posp.js';
export { recordSimJobs, type SimJobsCsv } from './jobs-csv.js';
export { createEconomicsAccount, type EconomicsAccount, type EconomicsAccountOptions, type EconomicsReport } from './economics-account.js';
export { oracleSpec } from './economics.js';
export { hybridGroupReport, type HybridGroupReport, type HybridGroupTally } from './hybrid.js';
