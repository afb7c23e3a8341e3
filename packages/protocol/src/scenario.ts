import type { MinerStrategy, ValidatorStrategy } from './types.js';

/**
 * A scenario file (`scenarios/*.json`): one format for the live testnet (`infermarket testnet`) and the
 * simulator (`infermarket sim`, `infermarket sweep`). Amounts are decimal strings of micro-mUSD.
 * `parseScenario` validates it against `SCENARIO_SCHEMA` with errors that name the JSON path.
 */
export interface Scenario {
  /** Short name, used in reports. */
  name: string;
  description?: string;
  /** Master seed: every random choice of the run derives from it (keys, arrivals, sampling, epochs). */
  seed: number;
  /** Run length (wall time on the testnet, virtual time in the simulator). */
  durationMs: number;
  /** Protocol parameter overrides (see the README's parameter table). */
  params?: Record<string, number | string>;
  miners: MinerGroup[];
  validators: ValidatorGroup[];
  clients: ClientGroup[];
  faults?: Fault[];
  /** Testnet-only settings. */
  testnet?: { port?: number; tls?: boolean; dashboard?: boolean };
  /** Simulator-only settings. */
  sim?: SimSettings;
  /** The reward token's oracle, miners' USD costs and price-driven churn (simulator and testnet; see docs/economics.md). */
  economics?: EconomicsSettings;
}

/** The reward token and dollar costs (docs/economics.md). Pricing itself is the `pricingMode` parameter. */
export interface EconomicsSettings {
  /**
   * The market's IMT price process: `gbm` (seeded geometric Brownian motion, optional jumps) or `series`
   * (`points` inline or a `file` of `atMs,priceMicro` lines, relative to the scenario file).
   */
  oracle?: {
    kind: 'gbm' | 'series';
    startPriceMicro?: number;
    driftPerHour?: number;
    volatilityPerSqrtHour?: number;
    stepMs?: number;
    jumpsPerHour?: number;
    jumpMeanLog?: number;
    jumpStdLog?: number;
    points?: [number, number][];
    file?: string;
  };
  /** IMT each client buys at the start price (its treasury); default `faucetCapMicro`. */
  clientImtMicro?: string;
  /** A miner's cost in micro-USD per compute second (all groups), and per group name. */
  minerCostUsdMicroPerComputeSecond?: number;
  minerCostByGroup?: Record<string, number>;
  /** The participation rule's settings (`@infermarket/agents` PARTICIPATION_DEFAULTS); `enabled: false` keeps every miner in. */
  churn?: { enabled?: boolean; checkEveryMs?: number; checksToLeave?: number; checksToReturn?: number; minDwellMs?: number; holdMs?: number; trendHalfLifeMs?: number };
  /** Budget per 1,000 jobs in micro-USD: the report gives the share of windows whose cost exceeded it. */
  budgetUsdMicroPer1000Jobs?: number;
  /** Width of the report's time windows (default durationMs / 20). */
  windowMs?: number;
}

export type ModelId = 'digits' | 'charlm' | 'heavy' | (string & {});
export type Variant = 'fp32' | 'fp16' | 'int8' | 'int4';

/** A strategy module file (`./x.js`, `../x.mjs`, `/abs/x.js`), relative to the scenario file: a user's strategy (docs/strategies.md). */
export type StrategyModulePath = `./${string}.js` | `./${string}.mjs` | `../${string}.js` | `../${string}.mjs` | `/${string}.js` | `/${string}.mjs`;

export interface MinerGroup {
  /**
   * Group name, unique across all groups of every role; instance names are `${name}-${i}`. Defaults to the
   * strategy (then `-g2`, `-g3`, ... if taken): see `scenarioGroupNames`.
   */
  name?: string;
  count: number;
  /** A built-in strategy, or the path of a strategy module (then `name` is required). */
  strategy: MinerStrategy | StrategyModulePath;
  /** Models served; default all of the scenario's client models. */
  models?: ModelId[];
  /** Variant claimed to the market (downgrade miners run `int4` while claiming this). Default int8. */
  variant?: Variant;
  /** Execution provider list, e.g. ["cpu"] or ["cuda","cpu"] (fallback). Default ["cpu"]. */
  ep?: string[];
  /**
   * Live testnet only: run these miners under an emulated x86-64 CPU model (`qemu-x86_64 -cpu <cpu>`,
   * e.g. "Nehalem" = SSE4.2 without AVX/FMA, "Haswell" = AVX2+FMA); needs Debian's qemu-user.
   * The simulator ignores it.
   */
  cpu?: string;
  threads?: number;
  /** Added to every job's execution; `jitterMs` is the half-width of a uniform spread around it. */
  latencyMs?: number;
  jitterMs?: number;
  /** Stake to bond; default the role's minimum, `params.minMinerStakeMicro`. */
  stakeMicro?: string;
  /**
   * Price per job in micro-mUSD, per model (then every served model needs one) or one for all; `spreadBps`
   * randomises each bid ±. Default `SCENARIO_DEFAULTS.minerPriceMicroByModel`.
   */
  pricing?: { priceMicro: string | Record<string, string>; spreadBps?: number };
  region?: string;
  /** Jobs run at once. */
  concurrency?: number;
  /** `flaky`: chance to drop a job (default 0.3); `lazy`/`downgrade`/`replay` as fixed cheats (1.0); `adaptive` learns. */
  cheatProbability?: number;
  /** `slow`: extra delay added to execution (default 2× deadline/3). */
  slowExtraMs?: number;
}

export interface ValidatorGroup {
  /** Unique across all groups; defaults to `validator` (honest) or `<strategy>-validator`. */
  name?: string;
  count: number;
  /** A built-in strategy, or the path of a strategy module (then `name` is required). */
  strategy: ValidatorStrategy | StrategyModulePath;
  models?: ModelId[];
  /** Stake to bond; default the role's minimum, `params.minValidatorStakeMicro`. */
  stakeMicro?: string;
  region?: string;
  /** `colluding`: the miner instance names (e.g. "lazy-0") this validator never reports. */
  colludeWith?: string[];
  threads?: number;
}

export interface ClientGroup {
  /** Unique across all groups; defaults to `client`. */
  name?: string;
  count: number;
  /** Poisson arrival rate of jobs per client. */
  ratePerSec: number;
  /** Model mix as weights, e.g. { "digits": 3, "charlm": 1 }. */
  models: Record<string, number>;
  maxPriceMicro?: string;
  /** Cap on jobs in flight per client. */
  concurrency?: number;
  private?: boolean;
  /** Regions jobs may run in (residency); empty or absent = anywhere. */
  regions?: string[];
  /** charlm generation length. */
  maxTokens?: number;
  /** charlm sampling temperature; 0 (default) = greedy, > 0 = seeded sampling. */
  temperature?: number;
  /** How this group's jobs are checked (default `sampled`; see docs/verification.md). */
  verification?: 'sampled' | 'always' | 'redundant' | 'none';
  /** Batch jobs: input rows per job (default 1; at most `params.maxBatchRows`); `maxPriceMicro` is then per row. Not with `private` or charlm. */
  batchRows?: number;
  /**
   * A hybrid client (docs/economics.md; simulator and testnet) routing between the market and a centralized baseline
   * modelled as a fixed price and latency: `split` sends `latencySensitiveModels` (default charlm, generation)
   * to the baseline; `fallback` sends every job to the market and to the baseline too when it has not settled
   * after `fallbackAfterMs`.
   */
  hybrid?: { policy: 'split' | 'fallback'; fallbackAfterMs?: number; cloudPriceMicro?: string; cloudLatencyMs?: number; latencySensitiveModels?: string[] };
}

export interface Fault {
  atMs: number;
  action: 'kill' | 'restart' | 'partition' | 'heal';
  /** "market", or a node instance name such as "flaky-0". */
  target: string;
  /** For `kill`: restart after this long (ms); absent = stays down. */
  restartAfterMs?: number;
}

export interface SimSettings {
  /** Cost of one CPU-second of compute in micro-mUSD: what cheating saves. */
  costPerCpuSecondMicro?: string;
  /** Network one-way latency model (ms). */
  networkLatencyMs?: number;
  networkJitterMs?: number;
  /** Churn: mean time between a miner going offline, and mean downtime. */
  churnMtbfMs?: number;
  churnDowntimeMs?: number;
  /** Check every invariant after every event (slow; tests turn it on). */
  checkInvariants?: boolean;
  /** Chance an honest output and an honest re-execution disagree under the comparator (false positive); default 0. */
  honestDivergenceRate?: number;
  /** Chance a downgraded (int4-for-int8) output fails the comparator; default from the models' calibration. */
  downgradeMismatchRate?: number;
  /** Compute time per job in ms by model id (or `model:variant`), overriding the calibrated cost model. */
  computeMsPerJob?: Record<string, number>;
  /** Points in each report time series (default 200). */
  seriesPoints?: number;
  /** A miner ejected after `maxSlashes` comes back under a fresh key and stake (free identities, "whitewashing"); default false. */
  rejoinEjected?: boolean;
  /** Colluding validators are handed their partners' outputs and vouch (a match; a vote for the miner) instead of staying silent. Simulator only. */
  colludersVouch?: boolean;
  /** Learning of `adaptive` miners, live and simulated: the learner (default epsilon-greedy), the cheat probabilities it chooses among, exploration rate, reward decay. */
  adaptive?: { learner?: string; cheatLevels?: number[]; epsilon?: number; decay?: number; restakeCostBps?: number };
}
