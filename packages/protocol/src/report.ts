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
  /** What clients paid per 1,000 settled jobs (price + fees), micro-mUSD. */
  costPerThousandMicro: string;
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
