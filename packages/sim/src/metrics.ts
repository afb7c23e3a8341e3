/**
 * What the simulator measures beyond the shared `RunReport` (report.json's `sim` field, and the
 * columns of a sweep row). Profits are per node, in micro-mUSD, net of modelled compute cost;
 * `null` where the quantity is undefined for the run (e.g. no adaptive miners).
 */
export interface SimMetrics {
  /** Master seed of the sweep (or the run's seed for a single run) and this run's own seed. */
  masterSeed: number;
  runSeed: number;
  /** Overrides applied to the scenario for this run (sweep point or `--set`). */
  overrides: Record<string, string | number | boolean>;
  /** The compute-cost model used: CPU-ms per job for each model:variant the run can execute, and the price of a CPU-second. */
  calibration: { msPerJob: Record<string, number>; costPerCpuSecondMicro: number; downgradeMismatchRate: number; honestDivergenceRate: number };
  /** Virtual time simulated (wall time is left out so a report is byte-identical across runs). */
  virtualMs: number;
  /** Events popped from the queue and events applied by the protocol (accepted). */
  events: number;
  applied: number;
  /** Events the rules refused (e.g. a result racing its deadline), by error code. */
  rejected: Record<string, number>;
  /** Jobs clients did not submit because they were at their concurrency cap or out of funds. */
  throttled: number;
  /** Committed results that were not honest outputs ÷ committed results. */
  cheatRate: number;
  /**
   * The same, over adaptive miners' commits in the second half of the run (after learning); null when
   * no adaptive miner committed there (see `adaptiveNoData` for why) — never 0 for "no data".
   */
  adaptiveCheatRate: number | null;
  /** Mean over adaptive miners of the cheat probability each believes best at the end (removed ones included). */
  adaptiveLearnedLevel: number | null;
  /** Adaptive miners removed from the market at the end (ejected, or jailed): counted apart, never as deterred. */
  adaptiveRemoved: number | null;
  /** Mean learned cheat level of the removed adaptive miners (null when none was removed). */
  adaptiveRemovedLearnedLevel: number | null;
  /** Adaptive miners with no commit in the measured window, by reason. */
  adaptiveNoData: { jailed: number; ejected: number; 'never-assigned': number } | null;
  /** Disputes an honest validator opened on a cheated result; those resolved for the miner with the honest accuser slashed; their ratio. */
  honestDisputesOnCheats: number;
  honestAuditorsOutvoted: number;
  honestAuditorOutvotedRate: number | null;
  /** Disputes whose referee panel grew on a split vote (`disputeEscalation`). */
  disputeEscalations: number;
  /** Disputes resolved; per resolved dispute, the mean referee CPU-ms re-executed (whole model in quorum mode, one layer in bisection mode), rounds played (quorum: 1; bisection: halvings + the referees' round) and time from opening to resolution. */
  disputesResolved: number;
  disputeRefereeCpuMs: number | null;
  disputeRounds: number | null;
  disputeLatencyMs: number | null;
  /** Cheated results that were slashed ÷ cheated results. */
  detectionRate: number | null;
  /** Mean time from a cheated commit to the slash that caught it. */
  detectionLatencyMs: number | null;
  /** Mean profit per honest miner, per cheating miner (lazy, downgrade, replay) and per adaptive miner. */
  honestProfitMicro: number | null;
  cheaterProfitMicro: number | null;
  adaptiveProfitMicro: number | null;
  /** Profit per job committed, for the same groups (comparable across run lengths). */
  honestProfitPerJobMicro: number | null;
  cheaterProfitPerJobMicro: number | null;
  adaptiveProfitPerJobMicro: number | null;
  /** Miner slashes on honest outputs (honest divergence), and validator slashes (false accusations). */
  falseSlashes: number;
  validatorSlashes: number;
  /** Modelled compute spent by miners and by validators (re-execution), micro-mUSD. */
  minerComputeMicro: number;
  validatorComputeMicro: number;
  /** Mean profit per validator (fees and slash shares earned, less slashes and re-execution compute). */
  validatorProfitMicro: number | null;
  /** What clients paid per 1,000 settled jobs, micro units of the job token (number copy of the report's string): mUSD, IMT in the `token` and `token-native` pricing modes (the report's `costToken`). */
  costPerThousandMicro: number;
  successRate: number;
  /** Jobs finished per virtual second. */
  throughputPerSec: number;
}

/** Metric names in a stable order: the columns of sweep rows and summaries. */
export const METRIC_COLUMNS = [
  'cheatRate',
  'adaptiveCheatRate',
  'adaptiveLearnedLevel',
  'detectionRate',
  'detectionLatencyMs',
  'honestProfitMicro',
  'cheaterProfitMicro',
  'adaptiveProfitMicro',
  'honestProfitPerJobMicro',
  'cheaterProfitPerJobMicro',
  'adaptiveProfitPerJobMicro',
  'falseSlashes',
  'validatorSlashes',
  'costPerThousandMicro',
  'successRate',
  'latencyP50Ms',
  'latencyP95Ms',
  'jobsSubmitted',
  'jobsSettled',
  'jobsAudited',
  'minerSlashes',
  'throughputPerSec',
  'validatorProfitMicro',
  'adaptiveRemoved',
  'adaptiveRemovedLearnedLevel',
  'honestAuditorsOutvoted',
  'honestAuditorOutvotedRate',
  'disputeEscalations',
  // economics (docs/economics.md): null when the scenario has no economics section and stable pricing
  'econUsdPer1000Jobs',
  'econUsdPer1000JobsCv',
  'econBudgetExceededShare',
  'econMinerUsdProfitMean',
  'econMinerUsdProfitStd',
  'econMinerLeaves',
  'econMinerReturns',
  'econMinActiveMiners',
  'econActiveWhenPriceBelowStart',
  'econActiveWhenPriceAboveStart',
  'econPriceChangeAtLeaves',
  'econConservedPerToken',
  // hybrid client groups (the first one): share answered by the baseline directly and after the market, cost, latency
  'hybridCloudShare',
  'hybridFallbackShare',
  'hybridUsdPer1000Jobs',
  'hybridLatencyP95Ms',
  'hybridLatencySensitiveP95Ms',
  'disputesResolved',
  'disputeRefereeCpuMs',
  'disputeRounds',
  'disputeLatencyMs',
] as const;

export type MetricName = (typeof METRIC_COLUMNS)[number];
