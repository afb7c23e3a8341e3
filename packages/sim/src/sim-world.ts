import type { MarketEvent, MarketState, Params, RunReport, VerificationLevel } from '@infermarket/protocol';
import type { Learner, ValidatorStrategyInstance, createMinerStrategy } from '@infermarket/agents';
import type { EventQueue } from './event-queue.js';
import type { Rng } from './rng.js';
import type { TruthTracker } from './truth.js';

/**
 * The simulator's world: the agents it models, the jobs in flight, the virtual clock and the
 * accumulators the report reads. Shared by the event loop (`run-simulation.ts`), the agent adapters
 * (`sim-agents.ts`) and the report (`sim-report.ts`).
 */

/** What an output is, as a class: 0 honest, 1 garbage (lazy), 2 downgraded, 3 diverged honest, 4 replayed. */
export type OutClass = 0 | 1 | 2 | 3 | 4;

export interface MinerAgent {
  id: string;
  address: string;
  /** The strategy's name: a built-in's, or a user module's declared `name`. */
  strategy: string;
  region: string;
  models: string[];
  variant: string;
  latencyMs: number;
  jitterMs: number;
  slots: number[];
  /** Its strategy (the agents' `createMinerStrategy`): bids, job plans, the learning hook. */
  decide: ReturnType<typeof createMinerStrategy>;
  /** Base price per model (the spread is applied per bid). */
  price: Record<string, bigint>;
  spreadBps: number;
  stakeTarget: bigint;
  /** Starting balance from the faucet, stake included (the resolver's `fundMicro`). */
  fundTarget: bigint;
  funded: bigint;
  /** Earlier identities (addresses) of this agent, when it re-joined after an ejection. */
  past: { address: string; funded: bigint; stakeStart: bigint }[];
  online: boolean;
  incarnation: number;
  /** Its strategy's learner, if it shows one (the built-in `adaptive` miner's). */
  learner: Learner | null;
  /** Its last output (hash) per model, which a `replay` miner sends again. */
  lastOutput: Map<string, string>;
  computeMicro: number;
  commits: number;
  cheats: number;
  lateCommits: number;
  lateCheats: number;
  nonce: number;
  stakeStart: bigint;
  /** When its latest jail ends (virtual ms; 0 if never slashed). */
  jailedUntilMs: number;
  /** Left the market because its expected USD profit stayed negative (economics churn); it does not bid until it returns. */
  away?: boolean;
}

export interface ValidatorAgent {
  id: string;
  address: string;
  /** The strategy's name: a built-in's, or a user module's declared `name`. */
  strategy: string;
  /** Its strategy (the agents' `createValidatorStrategy`). */
  decide: ValidatorStrategyInstance;
  /** `colludeWith`: the partner miners' instance names (`MinerAgent.id`), not addresses, so collusion survives a re-join. */
  collude: Set<string>;
  models: string[];
  region: string;
  stakeTarget: bigint;
  /** Starting balance from the faucet, stake included (the resolver's `fundMicro`). */
  fundTarget: bigint;
  online: boolean;
  nonce: number;
  computeMicro: number;
  funded: bigint;
}

export interface ClientAgent {
  id: string;
  address: string;
  inflight: number;
  concurrency: number;
  rate: number;
  models: string[];
  cum: number[];
  maxPrice: bigint;
  private: boolean;
  regions: string[];
  tokens: number;
  nonce: number;
  verification: VerificationLevel;
  /** Input rows per job (1 = not a batch job). */
  rows: number;
}

export interface SimJob {
  client: ClientAgent;
  model: string;
  tokens: number;
  /** Input rows (a batch job: priced and computed per row; its audit re-executes min(rows, auditSampleRows)). */
  rows: number;
  submittedAtMs: number;
  base: string;
  miner: MinerAgent | null;
  out: OutClass;
  outHash: string;
  cheated: boolean;
  arm: number;
  costMicro: number;
  committedAtMs: number;
  /** Redundant jobs: each replica's output (by miner address). */
  reps: Map<string, { hash: string; cheated: boolean }> | null;
  /** The validator that opened its dispute (null until one does). */
  accuser: string | null;
}

// protocol events go into the queue as they are (one allocation per event); the simulator's own items carry `k`
export type SimItem =
  | { k: 'result'; miner: MinerAgent; inc: number; ev: MarketEvent }
  | { k: 'arrive'; client: ClientAgent }
  | { k: 'epoch' }
  | { k: 'sample' }
  | { k: 'churn'; miner: MinerAgent; up: boolean }
  | { k: 'fault'; target: string; up: boolean }
  | { k: 'heartbeat' }
  /** A miners' participation check (economics churn). */
  | { k: 'econ' }
  /** A hybrid client's fallback deadline for a market job. */
  | { k: 'hybrid'; jobId: string };
export type Item = MarketEvent | SimItem;

/** Counters and samples the report is built from. */
export interface Tally {
  rejected: Record<string, number>;
  events: number;
  applied: number;
  throttled: number;
  invariantChecks: number;
  violations: string[];
  slashes: RunReport['slashes'];
  cheatedCommits: number;
  commits: number;
  cheatedSlashed: number;
  detectionSum: number;
  falseSlashes: number;
  validatorSlashes: number;
  /** Disputes an honest validator opened on a cheated result, and those the panel resolved for the miner (the honest accuser slashed). */
  honestDisputesOnCheats: number;
  honestAuditorsOutvoted: number;
  /** Disputes whose panel grew (`disputeEscalation`). */
  disputeEscalations: number;
  clientSpend: bigint;
  settledCount: number;
  latRes: number[];
  ttftRes: number[];
  latSeen: number;
  regions: Record<string, number>;
}

export function createTally(): Tally {
  return {
    rejected: {},
    events: 0,
    applied: 0,
    throttled: 0,
    invariantChecks: 0,
    violations: [],
    slashes: [],
    cheatedCommits: 0,
    commits: 0,
    cheatedSlashed: 0,
    detectionSum: 0,
    falseSlashes: 0,
    validatorSlashes: 0,
    honestDisputesOnCheats: 0,
    honestAuditorsOutvoted: 0,
    disputeEscalations: 0,
    clientSpend: 0n,
    settledCount: 0,
    latRes: [],
    ttftRes: [],
    latSeen: 0,
    regions: {},
  };
}

/** The world one run works on. `now` is the virtual clock, advanced by the event loop only. */
export interface SimWorld {
  readonly seed: number;
  readonly state: MarketState;
  readonly P: Params;
  readonly queue: EventQueue<Item>;
  /** The run's main generator (network jitter, arrivals, strategy coin flips). */
  readonly rng: Rng;
  now: number;
  /** Signed messages expire this long after they are made. */
  readonly ttl: number;
  readonly netMs: number;
  readonly netJitter: number;
  readonly divergence: number;
  readonly downgradeMismatch: number;
  /** `sim.colludersVouch`: colluding validators are handed their partners' outputs and vouch. */
  readonly colludersVouch: boolean;
  readonly costOverrides: Readonly<Record<string, number>> | undefined;
  readonly costPerCpuSec: number;
  readonly allModels: string[];
  readonly miners: MinerAgent[];
  readonly validators: ValidatorAgent[];
  readonly clients: ClientAgent[];
  readonly byAddress: Map<string, MinerAgent>;
  readonly validatorsByAddress: Map<string, ValidatorAgent>;
  readonly byName: Map<string, MinerAgent | ValidatorAgent>;
  readonly jobs: Map<string, SimJob>;
  readonly tally: Tally;
  /** Ground truth about delivered outputs (wrong outputs per 1,000 settled jobs). */
  readonly truth: TruthTracker;
}

/** Network delay of one message: `netMs` ± uniform `netJitter`, never negative. */
export function netDelay(w: SimWorld): number {
  return Math.max(0, w.netMs + (w.rng.next() * 2 - 1) * w.netJitter);
}

/** The `by`/`nonce`/`expiresAtMs` of a signed action by an agent at `atMs`. */
export function signedBy(w: SimWorld, who: { address: string; nonce: number }, atMs: number): { by: string; nonce: string; expiresAtMs: number } {
  return { by: who.address, nonce: `${++who.nonce}`, expiresAtMs: atMs + w.ttl };
}

/** The output hash of a job's output class (outputs are modelled by class, not computed). */
export function hashOf(job: SimJob, cls: OutClass): string {
  return cls === 0 ? `${job.base}00` : `${job.base}0${cls}`;
}

/**
 * A referee's stance on a dispute, from its strategy (`planTask`): `null` when it stays silent, the vote it
 * casts without running anything (a colluder vouches for its partner; a cheap claim is not the miner's output,
 * so the market's comparison finds them different), or `'run'` when it re-executes. The quorum and the
 * bisection referees both ask this.
 */
export function refereeStance(w: SimWorld, v: ValidatorAgent, jobId: string, miner: MinerAgent): boolean | 'run' | null {
  const action = v.decide.planTask({ purpose: 'dispute', jobId, minerIsPartner: v.collude.has(miner.id), partnerShares: w.colludersVouch });
  if (action === 'silent') return null;
  if (action === 'vouch') return true;
  if (action === 'cheap-claim') return false;
  return 'run';
}
