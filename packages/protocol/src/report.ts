/**
 * `report.json`: what a testnet run or a simulation writes. The same shape from both, so the two can be
 * compared. Amounts are decimal strings of micro-mUSD; plot series are plain numbers (mUSD).
 */
export interface RunReport {
  kind: 'testnet' | 'sim';
  /** Report format version. */
  version: 1;
  seed: number;
  scenario: string;
  params: Record<string, string | number>;
  durationMs: number;
  jobs: { submitted: number; settled: number; failed: number; reassigned: number; audited: number; disputed: number; slashed: number };
  latencyMs: { p50: number; p95: number; p99: number };
  ttftMs: { p50: number; p95: number };
  /** settled ÷ finished jobs. */
  successRate: number;
  /** What clients paid per 1,000 settled jobs (price + fees), micro units of `costToken`. */
  costPerThousandMicro: string;
  /**
   * The token `costPerThousandMicro` and the miners' earnings count: `mUSD`, or `IMT` (the job token) in the
   * `token` and `token-native` pricing modes — then the dollar figures are the `economics` section's.
   */
  costToken: 'mUSD' | 'IMT';
  miners: MinerReport[];
  validators: ValidatorReport[];
  ledger: {
    mintedMicro: string;
    balancesMicro: string;
    escrowMicro: string;
    stakesMicro: string;
    unbondingMicro: string;
    feesMicro: string;
    burnedMicro: string;
    conserved: boolean;
  };
  invariants: { checks: number; violations: string[] };
  /** Slashing events in order, with reasons. */
  slashes: { tMs: number; node: string; role: 'miner' | 'validator'; amountMicro: string; jobId: string; reason: string }[];
  /** Time series for plots; `tMs` is shared by every series. */
  series: {
    tMs: number[];
    stakeMusd: Record<string, number[]>;
    balanceMusd: Record<string, number[]>;
    settled: number[];
    audits: number[];
    slashes: number[];
  };
  /** Raw samples (capped) for distributions. */
  samples: { latencyMs: number[]; ttftMs: number[] };
  /** Where each job ran (residency), counted by region. */
  regions?: Record<string, number>;
  /** Software versions and machine, for reproducibility. */
  environment: { node: string; platform: string; cpus: number; onnxruntime?: string; infermarket: string };
  /** Wrong outputs delivered to clients, measured (testnet: re-executed after the run; sim: ground truth). */
  truth?: TruthReport;
}

/** Counts of settled jobs and of those whose output was wrong (the client got a wrong answer and paid for it). */
export interface TruthCounts {
  settled: number;
  wrong: number;
  /** wrong ÷ settled × 1,000 (null with nothing settled). */
  wrongPerThousand: number | null;
}

/**
 * The truth about what was delivered, beside what the checks caught: how many settled outputs were wrong
 * per 1,000 settled jobs, overall, by miner strategy and by verification level.
 */
export interface TruthReport extends TruthCounts {
  /** `ground-truth` (the simulator knows every output), `re-execution` (the testnet re-ran settled outputs through the runtime). */
  source: 'ground-truth' | 're-execution';
  /** Settled jobs that could not be checked (private, or no model to re-run): not in the counts. */
  unchecked: number;
  byStrategy: Record<string, TruthCounts>;
  byLevel: Record<string, TruthCounts & {
    /** Wrong outputs committed by miners on jobs of this level (caught or not). */
    wrongCommitted?: number;
    /** Wrong outputs of this level caught (miner slashed, job not paid). */
    caught?: number;
    /** What the audit rate predicts for `sampled`: wrong committed × (1 − auditRate) per 1,000 settled. */
    predictedWrongPerThousand?: number | null;
    /** What clients paid per 1,000 settled jobs of this level, micro-mUSD. */
    costPerThousandMicro?: string;
    /** Submit → settle, virtual or wall ms. */
    settleLatencyMs?: { p50: number; p95: number };
  }>;
  /** Audit liveness: audits drawn, missed by their validator, handed to another, and given up (job not verified). */
  audits?: { drawn: number; missed: number; reassigned: number; unavailable: number };
}

export interface MinerReport {
  id: string;
  address: string;
  strategy: string;
  region: string;
  jobs: number;
  settled: number;
  missed: number;
  earnedMicro: string;
  slashedMicro: string;
  stakeStartMicro: string;
  stakeEndMicro: string;
  /** `adaptive` miners (on the row of their current identity): what the learner learned and what it did. */
  adaptive?: AdaptiveMinerReport;
}

/** Why a metric has no data for an agent: jailed through the window, ejected, or assigned no job in it. Never reported as 0. */
export type NoDataReason = 'jailed' | 'ejected' | 'never-assigned';

/** What an adaptive miner learned and did. A removed miner (jailed at the end, or ejected) is not a deterred one. */
export interface AdaptiveMinerReport {
  learner: string;
  /** The cheat probability of the learner's preferred arm at the end. */
  learnedCheatLevel: number;
  /** Cheated ÷ committed results in the measured window (the run's second half); null when it committed none. */
  realisedCheatRate: number | null;
  /** Results it committed in the window. */
  windowCommits: number;
  /** Why `realisedCheatRate` is null (null when it has data). */
  noData: NoDataReason | null;
  /** `ejected` or `jailed` (at the end of the run) when it was removed from the market; null while active. */
  removed: 'jailed' | 'ejected' | null;
}

export interface ValidatorReport {
  id: string;
  address: string;
  strategy: string;
  audits: number;
  earnedMicro: string;
  slashedMicro: string;
}

/** Nearest-rank percentile of a list of numbers (0 for an empty list). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
