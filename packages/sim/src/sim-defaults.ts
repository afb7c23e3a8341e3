/**
 * The simulator's own defaults (units in the names): the physics it models. What a scenario leaves open about
 * the economy (stakes, prices, concurrency, funding) is `SCENARIO_DEFAULTS` in `@infermarket/protocol`, which the
 * testnet shares.
 */
export const SIM_DEFAULTS = Object.freeze({
  costPerCpuSecondMicro: 1_000,
  networkLatencyMs: 5,
  networkJitterMs: 2,
  honestDivergenceRate: 0,
  seriesPoints: 200,
  /** Latency samples kept for percentiles (reservoir). */
  reservoir: 4_096,
  /** Samples written to the report. */
  reportSamples: 1_000,
});
