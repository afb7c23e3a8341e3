import { MINER_STRATEGY_DEFAULTS } from '@infermarket/agents';

/** Simulator defaults (units in the names). Strategy defaults are the agents' (`MINER_STRATEGY_DEFAULTS`), shown here for reports. */
export const SIM_DEFAULTS = Object.freeze({
  costPerCpuSecondMicro: 1_000,
  networkLatencyMs: 5,
  networkJitterMs: 2,
  honestDivergenceRate: 0,
  seriesPoints: 200,
  minerPriceMicro: 1_000,
  clientMaxPriceMicro: 100_000,
  clientConcurrency: 16,
  minerConcurrency: 4,
  flakyDropProbability: MINER_STRATEGY_DEFAULTS.flakyDropProbability,
  /** Latency samples kept for percentiles (reservoir). */
  reservoir: 4_096,
  /** Samples written to the report. */
  reportSamples: 1_000,
});
