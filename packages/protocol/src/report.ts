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
