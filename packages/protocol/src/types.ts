import type { OracleState } from './oracle.js';
import type { BisectionGame } from './bisection.js';
import type { Params } from './params.js';
import type { Token } from './token.js';

/** Miner strategies, shared by the live miner process and the simulator's agents. */
export const MINER_STRATEGIES = ['honest', 'lazy', 'downgrade', 'replay', 'flaky', 'slow', 'adaptive'] as const;
/** The learners an `adaptive` miner may use (`sim.adaptive.learner`; implemented in `@infermarket/agents`). */
export const ADAPTIVE_LEARNERS = ['epsilon-greedy', 'ucb1', 'thompson', 'rational', 'bayes'] as const;
export type MinerStrategy = (typeof MINER_STRATEGIES)[number];
/** Validator strategies, shared by the live validator process and the simulator. */
export const VALIDATOR_STRATEGIES = ['honest', 'lazy', 'colluding'] as const;
export type ValidatorStrategy = (typeof VALIDATOR_STRATEGIES)[number];

export type Role = 'miner' | 'validator';

/**
 * How a job's output is checked, chosen by the client at submit (see docs/verification.md):
 * - `sampled`: audited by a validator with probability `auditRate` (the default);
 * - `always`: re-executed by a validator before it settles; with no validator answering it is refunded;
 * - `redundant`: `redundancyK` miners run it and a strict majority must agree under the comparator;
 * - `none`: never checked (no validator fee reserved); the receipt says so.
 */
export const VERIFICATION_LEVELS = ['sampled', 'always', 'redundant', 'none'] as const;
export type VerificationLevel = (typeof VERIFICATION_LEVELS)[number];

/**
 * What the checks found, as the receipt reports it:
 * `unchecked` (none, or a sampled job not drawn), `pending` (a check is under way), `verified` (an audit, the
 * referees or a redundant majority agreed with the output), `caught` (the output was found wrong: the miner
 * was slashed), `unavailable` (a check was due but no validator answered: the output is NOT verified).
 */
export type Verdict = 'unchecked' | 'pending' | 'verified' | 'caught' | 'unavailable';

/** One of the `redundancyK` miners running a redundant job. */
export interface Replica {
  miner: string;
  priceMicro: bigint;
  outputHash: string | null;
  /** Earlier replicas (addresses) whose output this one's agrees with under the comparator (the driver compares). */
  agreesWith: string[];
  /** Paid at settlement (a member of the agreeing majority). */
  paid: boolean;
}

/** Ledger account names. Per-address accounts carry the address; escrow is per job. */
export type AccountName =
  | 'mint'
  | 'burn'
  | 'fees'
  | `balance:${string}`
  | `stake:${string}`
  | `unbonding:${string}`
  | `escrow:${string}`
  /** An IMT account: the same names behind the `IMT|` prefix (see `ledgerKey`). */
  | `IMT|${string}`;

/** Why tokens moved. */
export type EntryReason =
  | 'faucet'
  | 'bond'
  | 'unbond'
  | 'withdraw'
  | 'escrow'
  | 'pay-miner'
  | 'protocol-fee'
  | 'validator-fee'
  | 'refund'
  | 'slash-burn'
  | 'slash-challenger'
  | 'slash-harmed'
  | 'miss-penalty'
  | 'audit-miss-penalty';

/** One double-entry journal line: `amountMicro` leaves `from` and enters `to`. */
export interface JournalEntry {
  from: AccountName;
  to: AccountName;
  amountMicro: bigint;
  reason: EntryReason;
  /** Job id, address or other reference the movement belongs to. */
  ref: string;
  atMs: number;
  /** The token moved; absent means mUSD (both sides of an entry are always in the same token). */
  token?: Token;
}

export interface UnbondingChunk {
  amountMicro: bigint;
  releaseAtMs: number;
}

/** A registered miner or validator. */
export interface NodeRecord {
  address: string;
  role: Role;
  /** Model ids this node serves (miners) or can re-execute (validators). */
  models: string[];
  region: string;
  /** x25519 public key (hex) for private jobs, bound to the signing key by the signed registration. */
  encryptionKey: string | null;
  stakeMicro: bigint;
  unbonding: UnbondingChunk[];
  /** Decayed average of outcomes, 0..1 (miners; validators keep it too). */
  reputation: number;
  jailedUntilMs: number;
  slashes: number;
  ejected: boolean;
  jobsAssigned: number;
  jobsSettled: number;
  jobsMissed: number;
  audits: number;
  earnedMicro: bigint;
  slashedMicro: bigint;
  /** Last time the node was seen alive: its last accepted signed event or driver heartbeat (audit selection needs it recent). */
  lastSeenMs: number;
  /** Audits this validator was asked for and did not answer in time (lifetime). */
  auditsMissed: number;
  /** Audits missed in a row; reaching `auditMissesToJail` jails the validator and resets it. */
  auditMissStreak: number;
}

export type JobStatus = 'bidding' | 'assigned' | 'committed' | 'auditing' | 'disputed' | 'settled' | 'failed';
export type JobFailure = 'no-bids' | 'attempts-exhausted' | 'miner-slashed' | 'audit-unavailable' | 'too-few-bids' | 'no-agreement';

export interface Bid {
  miner: string;
  priceMicro: bigint;
  atMs: number;
  /** Order of arrival, for deterministic tie-breaks. */
  seq: number;
}

/**
 * A miner's standing offer (`matchingMode: offers`): the prices it takes jobs at, per model, and how many jobs
 * it runs at once. It stands until the miner withdraws or replaces it, it expires (`untilMs`), the driver
 * lapses it (the miner disconnected) or the miner is ejected; it does not match while the miner is jailed or
 * otherwise ineligible, nor while `capacity` jobs are assigned to the miner and not yet committed.
 */
export interface Offer {
  miner: string;
  /** model id -> price per job, micro-mUSD. What a job matched to this offer pays. */
  prices: Map<string, bigint>;
  /** Jobs assigned to the miner and not yet committed, at most. */
  capacity: number;
  /** Variant the miner says it runs (informational; validators replay the registered one). */
  variant: string;
  /** The offer matches nothing at or after this time. */
  untilMs: number;
  postedAtMs: number;
  /** Order of posting, for deterministic tie-breaks (as a bid's `seq`). */
  seq: number;
}

export interface Dispute {
  /** The validator that reported the mismatch (audit) or challenged. */
  accuser: string;
  referees: string[];
  /** referee address -> true if it found the miner's output correct. */
  votes: Map<string, boolean>;
  openedAtMs: number;
  /** `disputeEscalation` `escalate-on-split`: when the panel grew (votes are then taken until `openedAtMs` of the escalation + the window). */
  escalatedAtMs?: number;
}

export interface Job {
  id: string;
  client: string;
  model: string;
  /** sha256 hex of the (possibly encrypted) input; the input itself never enters the rules. */
  inputHash: string;
  maxPriceMicro: bigint;
  /** Regions the job may run in; empty means any. */
  regions: string[];
  private: boolean;
  status: JobStatus;
  failure: JobFailure | null;
  submittedAtMs: number;
  /** Number of assignments so far. */
  attempt: number;
  /** Bid windows opened for the current attempt (a window nobody bid in reopens, up to `bidRounds`). */
  bidRound: number;
  bids: Bid[];
  /** Miners that missed this job's deadline; they may not bid on it again. */
  excluded: string[];
  miner: string | null;
  priceMicro: bigint;
  assignedAtMs: number;
  deadlineAtMs: number;
  outputHash: string | null;
  committedAtMs: number;
  audited: boolean;
  validator: string | null;
  validatorOutputHash: string | null;
  dispute: Dispute | null;
  finishedAtMs: number;
  /** Times the miner was paid for this job; the rules keep it ≤ 1. */
  payouts: number;
  /** The check the client chose (and paid for). */
  verification: VerificationLevel;
  /** What the checks found; `verified` only after a validator, the referees or a redundant majority agreed. */
  verdict: Verdict;
  /** Validators asked to audit this job so far (the current one last). */
  auditors: string[];
  /** When the current auditor's window closes. */
  auditDeadlineAtMs: number;
  /** Redundant jobs: the miners running it (empty otherwise). */
  replicas: Replica[];
  /** What the submission escrowed, in the job token, when it differs from `maxPriceMicro` (`token` pricing mode). */
  escrowMicro?: bigint;
  /** Merkle root of the miner's committed layer-boundary trace (`trace.ts`), if it sent one with its result. */
  traceRoot?: string;
  /** Layers in that trace (boundaries 0..traceLayers). */
  traceLayers?: number;
  /** The bisection game of a dispute in `disputeMode: "bisection"` (bisection.ts). */
  bisection?: BisectionGame;
  /** Batch jobs: input rows (absent = 1). `maxPriceMicro` and `priceMicro` are then the whole job's (per row × rows). */
  rows?: number;
  /** Batch jobs: the rows an audit re-executes, drawn after the commit (`sampleAuditRows`); absent = all rows. */
  auditRows?: number[];
}

export interface Epoch {
  index: number;
  /** Secret until the epoch ends; the driver's randomness. Hex, 32 bytes. */
  seed: string;
  /** Published at the epoch's start: sha256(seed). */
  seedHash: string;
  startedAtMs: number;
}

/** Counters the reports read. */
export interface Stats {
  submitted: number;
  settled: number;
  failed: number;
  reassigned: number;
  audited: number;
  disputed: number;
  minerSlashes: number;
  validatorSlashes: number;
  missedDeadlines: number;
  /** Audits whose validator did not answer in its window (each one penalised). */
  auditsMissed: number;
  /** Audits handed to another validator after a miss. */
  auditsReassigned: number;
  /** Audits that no validator completed (the job was refunded or settled as unverified). */
  auditsUnavailable: number;
  /** Redundant jobs whose miners did not reach a majority. */
  redundantDisagreements: number;
}

/** The whole protocol state. Mutated in place by `apply` (the simulator needs the speed); only `apply` may change it. */
export interface MarketState {
  params: Params;
  /** Known model ids. */
  models: Set<string>;
  ledger: Map<AccountName, bigint>;
  /** Lifetime faucet mint per address. */
  faucetMinted: Map<string, bigint>;
  nodes: Map<string, NodeRecord>;
  jobs: Map<string, Job>;
  /** Replay protection: one sliding window of sequence numbers per recently active signer (replay.ts). */
  replay: Map<string, ReplayWindow>;
  epoch: Epoch | null;
  nowMs: number;
  /** Events applied, including rejected ones? No: accepted events only. */
  seq: number;
  bidSeq: number;
  stats: Stats;
  /** Keep finished jobs in `jobs` (true) or drop them once settled (the simulator's choice, to bound memory). */
  keepFinishedJobs: boolean;
  /** Finished job ids, used for "no job paid twice" when finished jobs are dropped. */
  finishedJobs: Set<string>;
  /** The IMT price the market's oracle last published (null or absent until the first `oracle.price`). */
  oracle?: OracleState | null;
  /** Layers of each model's committed trace (`createState` `traceLayers`); a trace of another length, or for a model without an entry, is refused. */
  traceLayers: Map<string, number>;
  /** `matchingMode: offers`: each miner's standing offer (at most one per miner). */
  offers: Map<string, Offer>;
  /** Jobs assigned to each miner and not yet committed by it (the load its offer's capacity bounds). */
  busy: Map<string, number>;
  /** `matchingMode: offers`: ids of jobs waiting for an offer, oldest first, per model. */
  waiting: Map<string, string[]>;
}

/** A timer the rules ask the driver to fire back at `atMs`. Stale timers are ignored when fired. */
export type Timer =
  | { kind: 'bid-window'; jobId: string; attempt: number }
  | { kind: 'deadline'; jobId: string; attempt: number }
  /** `attempt`: which auditor of the job (1 = first); absent counts as 1. */
  | { kind: 'audit'; jobId: string; attempt?: number }
  | { kind: 'dispute'; jobId: string }
  | { kind: 'challenge'; jobId: string }
  /** A bisection move's deadline; `moves` is the game's move count when it was set (a later move makes it stale). */
  | { kind: 'bisect'; jobId: string; moves: number }
  | { kind: 'unbond'; address: string }
  /** A slashed miner's jail ends (offers mode): the jobs waiting for its offer's models are matched again. */
  | { kind: 'jail-end'; address: string };

/** A signer's replay window: its highest accepted sequence number and which of the `REPLAY_WINDOW` below it were used. */
export interface ReplayWindow {
  high: number;
  /** Bit `seq % REPLAY_WINDOW` is set when `seq` (within the window) was accepted. */
  bits: Uint32Array;
  /** Latest expiry of any message accepted from the signer: after it the window can be forgotten. */
  expiresAtMs: number;
}

/** What a signed action carries for replay protection (checked by the rules). */
export interface Signed {
  /** Address of the signer, established by the driver with `openEnvelope`. */
  by: string;
  /** The signer's sequence number as a decimal string (see `REPLAY_WINDOW`). */
  nonce: string;
  expiresAtMs: number;
}

/** Every input to the rules. `atMs` is the driver's clock; the rules never read a clock. */
export type MarketEvent =
  | { type: 'epoch.begin'; atMs: number; seed: string }
  | { type: 'account.faucet'; atMs: number; address: string; amountMicro: bigint; /** Default mUSD. */ token?: Token }
  /** The market's own oracle published an IMT price (micro-USD per IMT). Driver-only: never signed, never from a participant. */
  | { type: 'oracle.price'; atMs: number; priceMicro: bigint }
  | ({ type: 'node.register'; atMs: number; role: Role; models: string[]; region: string; encryptionKey?: string | null } & Signed)
  | ({ type: 'stake.bond'; atMs: number; amountMicro: bigint } & Signed)
  | ({ type: 'stake.unbond'; atMs: number; amountMicro: bigint } & Signed)
  | ({
      type: 'job.submit';
      atMs: number;
      jobId: string;
      model: string;
      inputHash: string;
      maxPriceMicro: bigint;
      regions?: string[];
      private?: boolean;
      /** Default `sampled`. */
      verification?: VerificationLevel;
      /** Batch jobs: input rows (1 … `maxBatchRows`, default 1); `maxPriceMicro` is then per row (batch.ts). */
      rows?: number;
    } & Signed)
  | ({ type: 'job.bid'; atMs: number; jobId: string; priceMicro: bigint } & Signed)
  /** A miner posts (or replaces) its standing offer: a price per model, capacity, variant and until when it stands. */
  | ({ type: 'offer.post'; atMs: number; prices: Record<string, bigint>; capacity: number; variant: string; untilMs: number } & Signed)
  /** A miner withdraws its standing offer. */
  | ({ type: 'offer.withdraw'; atMs: number } & Signed)
  /** The driver lost the miner's connection: its standing offer lapses (it posts again when it is back). */
  | { type: 'offer.lapse'; atMs: number; address: string }
  | ({
      type: 'job.result';
      atMs: number;
      jobId: string;
      outputHash: string;
      /** Redundant jobs only: earlier replicas whose output this one agrees with, by the model's comparator (the driver compares, as for audits). */
      agreesWith?: string[];
      /** Merkle root over the hashes of the outputs at every layer boundary (`traceRoot` in trace.ts); with `traceLayers`. */
      traceRoot?: string;
      traceLayers?: number;
    } & Signed)
  | ({ type: 'audit.report'; atMs: number; jobId: string; outputHash: string; match: boolean } & Signed)
  | ({ type: 'job.challenge'; atMs: number; jobId: string; outputHash: string } & Signed)
  | ({ type: 'dispute.vote'; atMs: number; jobId: string; minerCorrect: boolean } & Signed)
  /** Bisection: the miner opens boundary `index` of its committed trace. */
  | ({ type: 'bisect.reveal'; atMs: number; jobId: string; index: number; boundaryHash: string; proof: string[] } & Signed)
  /** Bisection: the challenger agrees or not with the opened boundary. */
  | ({ type: 'bisect.respond'; atMs: number; jobId: string; index: number; agree: boolean } & Signed)
  /** Bisection: a referee re-executed the one disputed segment and votes. */
  | ({ type: 'bisect.vote'; atMs: number; jobId: string; fromIndex: number; toIndex: number; minerCorrect: boolean } & Signed)
  | { type: 'timer.fire'; atMs: number; timer: Timer }
  /** The driver saw this node alive on an authenticated connection (liveness for audit selection). */
  | { type: 'node.heartbeat'; atMs: number; address: string };

export type MarketEventType = MarketEvent['type'];

/** Everything the rules tell the driver. The driver persists, schedules and notifies; it decides nothing. */
export type Effect =
  | { type: 'ledger.entry'; entry: JournalEntry }
  | { type: 'timer.set'; atMs: number; timer: Timer }
  | { type: 'epoch.started'; index: number; seedHash: string; atMs: number }
  | { type: 'epoch.revealed'; index: number; seed: string; seedHash: string }
  | { type: 'node.registered'; address: string; role: Role }
  | { type: 'job.opened'; jobId: string; attempt: number; closesAtMs: number; eligible: string[] }
  | { type: 'job.assigned'; jobId: string; miner: string; priceMicro: bigint; attempt: number; deadlineAtMs: number }
  | { type: 'job.committed'; jobId: string; miner: string; outputHash: string; audited: boolean }
  | { type: 'audit.requested'; jobId: string; validator: string; deadlineAtMs: number; attempt: number }
  | { type: 'audit.missed'; jobId: string; validator: string; penaltyMicro: bigint; jailedUntilMs: number; reassignedTo: string | null }
  | { type: 'dispute.opened'; jobId: string; accuser: string; referees: string[]; deadlineAtMs: number }
  | { type: 'dispute.resolved'; jobId: string; minerCorrect: boolean; votesFor: number; votesAgainst: number }
  /** Bisection: `address` (the `party`) must move by `deadlineAtMs`: the miner open boundary `index`, or the challenger judge it (`boundaryHash`). */
  | { type: 'bisect.turn'; jobId: string; party: 'miner' | 'challenger'; address: string; index: number; lo: number; hi: number; boundaryHash: string | null; deadlineAtMs: number }
  /** Bisection: the referees must re-execute layers `fromIndex+1..toIndex` from the tensor hashing to `inputHash` and compare with `outputHash`. */
  | { type: 'bisect.segment'; jobId: string; fromIndex: number; toIndex: number; inputHash: string; outputHash: string; referees: string[]; deadlineAtMs: number }
  | { type: 'bisect.resolved'; jobId: string; winner: 'miner' | 'challenger' | 'none'; reason: 'referees' | 'timeout' | 'no-referee'; fromIndex: number; toIndex: number; steps: number }
  | { type: 'job.missed'; jobId: string; miner: string; attempt: number; penaltyMicro: bigint }
  | { type: 'job.settled'; jobId: string; miner: string; priceMicro: bigint; refundMicro: bigint }
  | { type: 'job.failed'; jobId: string; reason: JobFailure; refundMicro: bigint }
  | { type: 'node.slashed'; address: string; role: Role; amountMicro: bigint; jobId: string; reason: string; jailedUntilMs: number; ejected: boolean }
  | { type: 'stake.released'; address: string; amountMicro: bigint }
  | { type: 'oracle.updated'; priceMicro: bigint; atMs: number };
