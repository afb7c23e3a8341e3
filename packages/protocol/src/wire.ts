import { canonicalJson, type Canonical } from './canonical.js';
import { hashHex } from './crypto.js';
import type { Envelope } from './envelope.js';
import type { Role, Verdict, VerificationLevel } from './types.js';

/**
 * The wire contract between the market process and miners, validators and clients.
 * HTTP (JSON, under /v1) for clients; one WebSocket per miner/validator at /v1/nodes; amounts are
 * decimal strings of micro-mUSD on the wire and bigint inside. Every message that moves money or makes a
 * claim is an `Envelope` signed over its canonical body, carrying `nonce` and `expiresAtMs`.
 */

/** A tensor on the wire: raw little-endian bytes, base64. Hashing and signing use this form. */
export interface WireTensor {
  dtype: 'float32' | 'int32' | 'int64' | 'uint8' | 'float16';
  dims: number[];
  /** base64 of the little-endian element bytes. */
  data: string;
}

/** A job input: a tensor (classifiers) or a prompt (generation). Private jobs carry `sealed` instead. */
export type JobInput =
  | { kind: 'tensor'; tensor: WireTensor }
  | { kind: 'prompt'; prompt: string; maxTokens: number; temperature: number; seed: number }
  | { kind: 'sealed'; sealed: SealedBox };

/** A job output: a tensor, or generated tokens; private jobs carry it sealed to the client. */
export type JobOutput =
  | { kind: 'tensor'; tensor: WireTensor }
  | { kind: 'tokens'; tokens: number[]; text: string }
  | { kind: 'sealed'; sealed: SealedBox };

/** x25519 + XChaCha20-Poly1305 ciphertext addressed to `to` (an x25519 public key, hex). */
export interface SealedBox {
  to: string;
  /** Ephemeral x25519 public key of the sender, hex. */
  from: string;
  nonce: string;
  ciphertext: string;
}

// ---- signed bodies (canonical; amounts as bigint in memory, decimal strings on the wire) ----

export interface SubmitBody {
  jobId: string;
  model: string;
  /** sha256 (hex) of canonicalJson(input): what the miner, the validator and the receipt refer to. */
  inputHash: string;
  maxPriceMicro: bigint;
  regions?: string[];
  private?: boolean;
  /** How the output is checked (default `sampled`; see docs/verification.md). */
  verification?: VerificationLevel;
  /** Batch jobs: input rows, the input tensor's first dim (1 … `maxBatchRows`, default 1); `maxPriceMicro` is per row. */
  rows?: number;
  nonce: string;
  expiresAtMs: number;
}
export interface BidBody { jobId: string; priceMicro: bigint; nonce: string; expiresAtMs: number }
export interface ResultBody {
  jobId: string;
  inputHash: string;
  outputHash: string;
  /** The miner's committed layer trace (`traceRoot` in trace.ts) and its length; both or neither (docs/verification.md). */
  traceRoot?: string;
  traceLayers?: number;
  nonce: string;
  expiresAtMs: number;
}
/** Bisection: the miner opens boundary `index` of its committed trace (the tensor travels beside the envelope). */
export interface BisectRevealBody { jobId: string; index: number; boundaryHash: string; proof: string[]; nonce: string; expiresAtMs: number }
/** Bisection: the challenger agrees or not with the boundary the miner opened. */
export interface BisectRespondBody { jobId: string; index: number; agree: boolean; nonce: string; expiresAtMs: number }
/** Bisection: a referee's vote on the one disputed segment it re-executed. */
export interface BisectVoteBody { jobId: string; fromIndex: number; toIndex: number; minerCorrect: boolean; nonce: string; expiresAtMs: number }
export interface AuditBody { jobId: string; outputHash: string; nonce: string; expiresAtMs: number }
export interface RegisterBody {
  role: Role;
  models: string[];
  /** Variant the node runs, per model, as it claims it. */
  variant: string;
  region: string;
  /** x25519 public key (hex) for private jobs; signed here so a man in the middle cannot swap it. */
  encryptionKey: string | null;
  nonce: string;
  expiresAtMs: number;
}
/** Private jobs: a validator's (or referee's) verdict after the reveal; the market feeds it to the rules. */
export interface AuditVerdictBody { jobId: string; match: boolean; nonce: string; expiresAtMs: number }
/** Private jobs: the client hands the job key, sealed to a party's signed encryption key (POST /v1/jobs/:id/keys). */
export interface JobKeyBody { jobId: string; to: string; sealed: SealedBox; nonce: string; expiresAtMs: number }
export interface BondBody { amountMicro: bigint; nonce: string; expiresAtMs: number }
export interface LoginBody { challenge: string; nonce: string; expiresAtMs: number }

/** What the market signs when a job finishes; clients verify it with `verifyReceipt`. */
export interface ReceiptBody {
  jobId: string;
  model: string;
  client: string;
  inputHash: string;
  outputHash: string | null;
  miner: string | null;
  status: 'settled' | 'failed';
  priceMicro: bigint;
  paidMicro: bigint;
  audited: boolean;
  finishedAtMs: number;
  /** The level the client chose and paid for. */
  verification: VerificationLevel;
  /** What the checks found: only `verified` means someone other than the miner re-executed the job and agreed. */
  verdict: Verdict;
  /** Who checked: the agreeing auditor (or referees), or the other miners of a redundant majority. */
  checkedBy: string[];
  /** Validators asked to audit, in order (a silent one is followed by the next). */
  auditors: string[];
  /** Output length delivered (tokens or tensor elements) and what the input asked for; null when unknown (private or failed). */
  outputLength: number | null;
  expectedLength: number | null;
  /**
   * Sampled generation: positions of tokens the auditor accepted only because its draw sat within the
   * calibrated margin of a sampling boundary (docs/verification.md); empty when none, absent on older receipts.
   */
  flaggedTokens?: number[];
}

// ---- HTTP (clients) ----

/** POST /v1/jobs request: the signed submission plus the input it hashes. */
export interface SubmitJobRequest {
  envelope: Envelope<'job.submit'>;
  input: JobInput;
}

/** GET /v1/jobs/:id response. */
export interface JobView {
  id: string;
  model: string;
  client: string;
  status: string;
  failure: string | null;
  attempt: number;
  miner: string | null;
  priceMicro: string;
  maxPriceMicro: string;
  /** Batch jobs only: the job's rows (`priceMicro` and `maxPriceMicro` are then the whole job's, per row × rows). */
  rows?: number;
  audited: boolean;
  region: string | null;
  submittedAtMs: number;
  finishedAtMs: number;
  /** Wall time from submit to the first streamed token or the result. */
  ttftMs: number | null;
  latencyMs: number | null;
  output: JobOutput | null;
  /** The miner's signed result (lets the client check the miner's claim itself). */
  result: Envelope<'job.result'> | null;
  receipt: Envelope<'job.receipt'> | null;
}

/** HTTP error body: every 4xx/5xx. */
export interface ErrorBody { error: { code: string; message: string } }

// ---- WebSocket /v1/nodes (miners and validators) ----

/** Market → node. */
export type ServerMessage =
  | { type: 'auth.challenge'; challenge: string; marketKey: string }
  | { type: 'auth.ok'; address: string; nowMs: number; params: Record<string, string | number> }
  /** `verification` is the job's level when not `sampled`: a `redundant` job must fit `redundancyK` bids (plus fees) in `maxPriceMicro` (`worstCaseCost`). */
  /** A batch job (`rows` > 1) is bid on per row: `maxPriceMicro` is then its max price per row, and the job pays the bid × `rows`. */
  | { type: 'job.offer'; jobId: string; model: string; maxPriceMicro: string; rows?: number; closesAtMs: number; private: boolean; clientKey?: string; verification?: VerificationLevel }
  | {
      type: 'job.assign';
      jobId: string;
      model: string;
      input: JobInput;
      inputHash: string;
      priceMicro: string;
      deadlineAtMs: number;
      private: boolean;
      clientKey?: string;
      /** Private jobs: the job key (seed of the x25519 pair the input is sealed to), sealed by the client to this node. */
      jobKey?: SealedBox;
    }
  | { type: 'job.settled'; jobId: string; paidMicro: string }
  /** `reason` is `outbid`, `missed-deadline` (with the `penaltyMicro` the rules took) or `miner-slashed`. */
  | { type: 'job.lost'; jobId: string; reason: string; penaltyMicro?: string }
  | {
      type: 'audit.task';
      jobId: string;
      model: string;
      input: JobInput;
      inputHash: string;
      deadlineAtMs: number;
      purpose: 'audit' | 'dispute';
      /** Batch jobs: the job's rows `input` holds (the sampled rows, in order; `inputHash` stays the whole job's); absent = every row. */
      rows?: number[];
      /** The variant the job's miner claimed at registration: what the validator must re-execute (optional; added). */
      variant?: string;
      /** Private jobs: the job key sealed by the client to this validator (see `job.assign`). */
      jobKey?: SealedBox;
    }
  /** Private jobs, after the validator committed its own output: the miner's output (sealed to the job key) to judge. */
  | { type: 'audit.reveal'; jobId: string; output: JobOutput; outputHash: string; comparator: unknown; generationComparator: unknown }
  /**
   * Bisection (docs/verification.md): your move in the game over job `jobId`'s committed trace, due by `deadlineAtMs`.
   * To the miner: open boundary `index` (`bisect.reveal`). To the challenger: judge the boundary the miner opened,
   * `tensor` (the market checked it hashes to `boundaryHash`), against your own run (`bisect.respond`).
   */
  | { type: 'bisect.turn'; jobId: string; model: string; party: 'miner' | 'challenger'; index: number; lo: number; hi: number; layers: number; deadlineAtMs: number; boundaryHash?: string; tensor?: WireTensor; variant?: string }
  /**
   * Bisection, to each referee: re-execute layers `fromIndex+1..toIndex` of `model`/`variant` from the miner's
   * boundary `from` and compare with its boundary `claimed` (`bisect.vote` by `deadlineAtMs`).
   */
  | { type: 'bisect.segment'; jobId: string; model: string; fromIndex: number; toIndex: number; layers: number; from: WireTensor; claimed: WireTensor; deadlineAtMs: number; variant?: string }
  | { type: 'slashed'; jobId: string; amountMicro: string; reason: string }
  | { type: 'ack'; ref: string }
  | { type: 'error'; code: string; message: string; ref?: string }
  | { type: 'ping'; t: number };

/** Node → market. `ref` lets the market answer with `ack`/`error` for that message. */
export type NodeMessage =
  | { type: 'auth.login'; ref?: string; envelope: Envelope<'auth.login'> }
  | { type: 'node.register'; ref?: string; envelope: Envelope<'node.register'> }
  | { type: 'stake.bond'; ref?: string; envelope: Envelope<'stake.bond'> }
  | { type: 'stake.unbond'; ref?: string; envelope: Envelope<'stake.unbond'> }
  | { type: 'job.bid'; ref?: string; envelope: Envelope<'job.bid'> }
  /** Standing offer (`matchingMode: offers`): body `{ prices: { model: "micro" }, capacity, variant?, untilMs, nonce, expiresAtMs }`. */
  | { type: 'offer.post'; ref?: string; envelope: Envelope<'offer.post'> }
  | { type: 'offer.withdraw'; ref?: string; envelope: Envelope<'offer.withdraw'> }
  | { type: 'job.token'; jobId: string; index: number; token: number; text: string }
  | { type: 'job.result'; ref?: string; envelope: Envelope<'job.result'>; output: JobOutput }
  | { type: 'audit.output'; ref?: string; envelope: Envelope<'audit.output'>; output: JobOutput }
  /** Private jobs: the validator's signed verdict on the revealed miner output (`AuditVerdictBody`). */
  | { type: 'audit.verdict'; ref?: string; envelope: Envelope<'audit.verdict'> }
  /** Bisection: the miner opens a boundary (`BisectRevealBody`) and sends its tensor, which must hash to `boundaryHash`. */
  | { type: 'bisect.reveal'; ref?: string; envelope: Envelope<'bisect.reveal'>; tensor: WireTensor }
  /** Bisection: the challenger's answer (`BisectRespondBody`). */
  | { type: 'bisect.respond'; ref?: string; envelope: Envelope<'bisect.respond'> }
  /** Bisection: a referee's vote (`BisectVoteBody`). */
  | { type: 'bisect.vote'; ref?: string; envelope: Envelope<'bisect.vote'> }
  | { type: 'pong'; t: number };

// ---- observation: GET /v1/stats, the dashboard feed (/v1/dashboard WebSocket), testnet reports ----

/** One node as observers see it. Amounts are decimal strings of micro-mUSD. */
export interface NodeView {
  address: string;
  role: Role;
  region: string;
  models: string[];
  variant: string | null;
  online: boolean;
  stakeMicro: string;
  unbondingMicro: string;
  balanceMicro: string;
  reputation: number;
  jailedUntilMs: number;
  jailed: boolean;
  slashes: number;
  ejected: boolean;
  jobsAssigned: number;
  jobsSettled: number;
  jobsMissed: number;
  audits: number;
  earnedMicro: string;
  slashedMicro: string;
  /** Instance name the operator gave the node (e.g. the testnet's `lazy-0`), when known. */
  name?: string;
  /** Strategy the operator declared for the node (e.g. `lazy`), when known. Not verified: a label. */
  strategy?: string;
}

/** A notable happening, for the dashboard's feed and the reports' event lists. */
export interface FeedEvent {
  tMs: number;
  kind: 'assigned' | 'settled' | 'failed' | 'missed' | 'audited' | 'disputed' | 'slashed' | 'node-online' | 'node-offline';
  jobId?: string;
  node?: string;
  role?: Role;
  amountMicro?: string;
  reason?: string;
}

/** GET /v1/stats and each dashboard snapshot: the market at one moment. */
export interface MarketStatsView {
  nowMs: number;
  startedAtMs: number;
  seed: number;
  params: Record<string, string | number>;
  stats: {
    submitted: number;
    settled: number;
    failed: number;
    reassigned: number;
    audited: number;
    disputed: number;
    minerSlashes: number;
    validatorSlashes: number;
    missedDeadlines: number;
    /** Audits whose validator let the window pass, handed to another validator, and given up (job not verified). */
    auditsMissed: number;
    auditsReassigned: number;
    auditsUnavailable: number;
    redundantDisagreements: number;
  };
  /** Jobs settled per second over the last 10 s. */
  throughputPerSec: number;
  successRate: number;
  latencyMs: { p50: number; p95: number };
  ttftMs: { p50: number; p95: number };
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
  invariantViolations: string[];
  nodes: NodeView[];
  /** Recent feed events, newest last (capped). */
  feed: FeedEvent[];
  /** Raw samples (capped) for distributions. */
  samples: { latencyMs: number[]; ttftMs: number[] };
  /** Time series sampled by the market (for plots); `tMs` relative to start. */
  series: { tMs: number[]; stakeMusd: Record<string, number[]>; balanceMusd: Record<string, number[]>; settled: number[]; audits: number[]; slashes: number[] };
  /** Total clients paid (price + fees) for settled jobs. */
  clientPaidMicro: string;
  /** Settled jobs per region the miner declared (residency). */
  regions: Record<string, number>;
}

/** Dashboard WebSocket (/v1/dashboard) messages, market → browser. */
export type DashboardMessage = { type: 'snapshot'; stats: MarketStatsView } | { type: 'feed'; events: FeedEvent[] };

/** sha256 (hex) of the canonical form of a job input or output: what envelopes and receipts refer to. */
export function hashPayload(payload: JobInput | JobOutput): string {
  return hashHex(canonicalJson(payload as unknown as Canonical));
}

// ---- WebSocket /v1/jobs/:id/stream (market → client) ----

/**
 * Messages on a client's job stream: tokens as the assigned miner streams them (buffered tokens are
 * replayed to a late joiner), `restart` when the job is reassigned (tokens start over), the miner's
 * committed `result`, and `done` with the final `JobView` (receipt included) before the market closes it.
 */
export type JobStreamMessage =
  | { type: 'token'; jobId: string; index: number; token: number; text: string }
  | { type: 'restart'; jobId: string; attempt: number }
  | { type: 'result'; jobId: string; output: JobOutput }
  | { type: 'done'; jobId: string; job: JobView }
  /** Private jobs: `party` needs the job key; the client checks `registration` and posts the key sealed to it. */
  | { type: 'key.request'; jobId: string; party: string; purpose: 'miner' | 'audit' | 'dispute'; registration: Envelope | null }
  | { type: 'error'; code: string; message: string };
