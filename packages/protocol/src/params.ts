import { InfermarketError } from './errors.js';
import { PRICING_MODES, TOKENS, type PricingMode, type Token } from './token.js';
import { MAX_BISECTION_STEPS } from './trace.js';

/** Matching policies for the reverse auction. */
export const MATCHING_POLICIES = ['lowest-price', 'reputation-weighted', 'stake-weighted-random'] as const;
export type MatchingPolicy = (typeof MATCHING_POLICIES)[number];
/**
 * How jobs meet miners: `offers` (standing offers posted by miners, a job matched the moment it is submitted;
 * see `offers.ts`) or `auction` (a reverse auction per job: a bid window of `bidWindowMs`, up to `bidRounds`).
 */
export const MATCHING_MODES = ['offers', 'auction'] as const;
export type MatchingMode = (typeof MATCHING_MODES)[number];
/** What a dispute does when its referees split (one votes for the miner): nothing more, or escalate once to a larger panel. */
export const DISPUTE_ESCALATIONS = ['none', 'escalate-on-split'] as const;
export type DisputeEscalation = (typeof DISPUTE_ESCALATIONS)[number];
/** How a dispute is settled: a referee quorum re-executes the whole model, or a bisection game narrows it to one layer (bisection.ts). */
export const DISPUTE_MODES = ['quorum', 'bisection'] as const;
export type DisputeMode = (typeof DISPUTE_MODES)[number];


/** All protocol parameters. Units are in the names: `Ms` milliseconds, `Bps` basis points, `Micro` micro-mUSD. */
export interface Params {
  /** Fraction of committed jobs that are audited (0..1). */
  auditRate: number;
  /** Share of a node's bonded (and unbonding) stake taken by one slash. */
  slashFractionBps: number;
  /** Split of a slash; the three sum to 10,000. */
  slashBurnBps: number;
  slashChallengerBps: number;
  slashHarmedBps: number;
  /** Time after a result is committed (and passed its audit) before the escrow settles. */
  challengeWindowMs: number;
  /** Time a validator has to submit its audit output. */
  auditWindowMs: number;
  /** Time referees have to vote in a dispute. */
  disputeWindowMs: number;
  /** Number of referees (validators other than the auditor) asked to re-execute in a dispute. */
  disputeQuorum: number;
  /** On a split vote: `none`, or `escalate-on-split` (once: the panel grows to 2 × disputeQuorum + 2 referees and the window restarts). */
  disputeEscalation: DisputeEscalation;
  /** `quorum` (referees re-execute the whole model) or `bisection` (a game over the miner's committed layer trace; referees re-execute one layer). */
  disputeMode: DisputeMode;
  /** Bisection: time a party has for each move (the miner to open a boundary, the challenger to judge it); a missed move loses. */
  bisectionRoundMs: number;
  /** Cooldown between unbond and withdrawal. Must outlast challenge + audit + dispute windows. */
  unbondingPeriodMs: number;
  /** Time bids are collected after a job is submitted or reopened. */
  bidWindowMs: number;
  /** Time the assigned miner has to commit its result. */
  jobDeadlineMs: number;
  /** Bid windows a job gets before it fails `no-bids`: a window nobody bid in reopens bidding. */
  bidRounds: number;
  /** How many miners may be tried (assignments) before a job is refunded. */
  maxAttempts: number;
  /** Share of stake a miner loses to the client when it misses a deadline. */
  missPenaltyBps: number;
  minMinerStakeMicro: bigint;
  minValidatorStakeMicro: bigint;
  /** Fee on the job price paid by the client to the protocol fee pool. */
  protocolFeeBps: number;
  /** Fee on the job price paid by the client to the auditing validator, only when the job is audited. */
  validatorFeeBps: number;
  /** Weight of the newest outcome in a miner's reputation (exponential decay, 0..1). */
  reputationDecay: number;
  /** Reputation a new miner starts with (0..1). */
  reputationStart: number;
  matchingPolicy: MatchingPolicy;
  /** `offers` (standing offers, matched at submit; the default) or `auction` (a bid window per job, for research). */
  matchingMode: MatchingMode;
  /** Time a node is jailed (cannot bid or audit) after a slash. */
  jailDurationMs: number;
  /** Slashes after which a node is ejected for good (its stake is unbonded). */
  maxSlashes: number;
  /** Most mUSD the faucet mints to one account over its lifetime. */
  faucetCapMicro: bigint;
  /** Largest max price a job may escrow (per row for a batch job). */
  maxJobPriceMicro: bigint;
  /** Longest a signed message may stay valid (after it, it is refused as expired). */
  messageTtlMs: number;
  /** Length of an audit-seed epoch: the seed's hash is published at its start and the seed revealed at its end. */
  epochMs: number;
  /** Miners that run a `redundant` job; a strict majority of them must agree. */
  redundancyK: number;
  /** Share of a validator's stake paid to the client when it lets an audit window pass. */
  auditMissPenaltyBps: number;
  /** Missed audits in a row after which a validator is jailed for `jailDurationMs`. */
  auditMissesToJail: number;
  /** Validators asked in turn before an audit is given up (the job then does not settle as verified). */
  maxAuditAttempts: number;
  /** A validator is chosen to audit or referee only if seen (signed event or heartbeat) this recently. */
  livenessWindowMs: number;
  /** `stable` (mUSD), `token` (priced in mUSD, paid in IMT at the settlement price) or `token-native` (IMT). */
  pricingMode: PricingMode;
  /** The token stakes are bonded, slashed and penalised in. */
  stakeToken: Token;
  /** `token` mode: extra IMT a client escrows over its max price converted at the submit price. */
  tokenEscrowMarginBps: number;
  /** Most input rows one batch job may carry (priced per row). */
  maxBatchRows: number;
  /** Rows of a batch job a validator re-executes when the job is audited (all rows when the job has fewer). */
  auditSampleRows: number;
}

type NumberRule = { kind: 'number'; min: number; max: number; integer: boolean; unit: string; meaning: string };
type BigRule = { kind: 'bigint'; min: bigint; max: bigint; unit: string; meaning: string };
type EnumRule = { kind: 'enum'; values: readonly string[]; unit: string; meaning: string };
export type ParamRule = NumberRule | BigRule | EnumRule;

const MS_MAX = 7 * 24 * 3600 * 1000;
const MICRO_MAX = 10n ** 18n;
const ms = (meaning: string, min = 1): NumberRule => ({ kind: 'number', min, max: MS_MAX, integer: true, unit: 'ms', meaning });
const bps = (meaning: string): NumberRule => ({ kind: 'number', min: 0, max: 10_000, integer: true, unit: 'bps', meaning });
const micro = (meaning: string, min = 0n): BigRule => ({ kind: 'bigint', min, max: MICRO_MAX, unit: 'micro-mUSD', meaning });

/** Range, unit and meaning of every parameter (drives validation and the README table). */
export const PARAM_RULES: { readonly [K in keyof Params]: ParamRule } = Object.freeze({
  auditRate: { kind: 'number', min: 0, max: 1, integer: false, unit: 'fraction', meaning: 'Share of committed jobs audited by a validator.' },
  slashFractionBps: bps('Share of a node\'s stake taken by one slash.'),
  slashBurnBps: bps('Share of a slash that is burned.'),
  slashChallengerBps: bps('Share of a slash paid to the challenger (the auditor; for a validator slash, burned).'),
  slashHarmedBps: bps('Share of a slash paid to the harmed party (the client; for a validator slash, the miner).'),
  challengeWindowMs: ms('Time after commit (and a passed audit) before escrow settles; challenges allowed.'),
  auditWindowMs: ms('Time the chosen validator has to submit its re-execution.'),
  disputeWindowMs: ms('Time referees have to vote on a disputed job.'),
  disputeQuorum: { kind: 'number', min: 0, max: 15, integer: true, unit: 'validators', meaning: 'Referees (besides the auditor) who re-execute a disputed job.' },
  disputeEscalation: { kind: 'enum', values: DISPUTE_ESCALATIONS, unit: 'rule', meaning: 'On a split vote (a referee votes for the miner): `escalate-on-split` grows the panel once to 2 × disputeQuorum + 2 referees and restarts the window.' },
  disputeMode: { kind: 'enum', values: DISPUTE_MODES, unit: 'rule', meaning: '`quorum`: referees re-execute the whole model. `bisection`: the challenger and the miner bisect the miner\'s committed layer trace (each move within `bisectionRoundMs`, a missed move loses) and referees re-execute the one disputed layer (a job committed without a trace falls back to `quorum`).' },
  bisectionRoundMs: ms('Bisection: time for each move of the game (the miner opens a boundary, the challenger judges it); a missed move loses.'),
  unbondingPeriodMs: ms('Cooldown between unbond and withdrawal; must outlast challenge + audit + dispute windows.'),
  bidWindowMs: ms('Time bids are collected for a job.'),
  jobDeadlineMs: ms('Time the assigned miner has to commit its result.'),
  bidRounds: { kind: 'number', min: 1, max: 20, integer: true, unit: 'windows', meaning: 'Bid windows a job gets before it fails `no-bids`: a window nobody bid in reopens bidding (miners that were busy or reconnecting get another chance).' },
  maxAttempts: { kind: 'number', min: 1, max: 20, integer: true, unit: 'attempts', meaning: 'Assignments tried before a job is refunded.' },
  missPenaltyBps: bps('Share of stake a miner pays the client when it misses a deadline.'),
  minMinerStakeMicro: micro('Bonded stake a miner needs to bid.'),
  minValidatorStakeMicro: micro('Bonded stake a validator needs to audit or referee.'),
  protocolFeeBps: bps('Fee on the job price, paid by the client to the fee pool.'),
  validatorFeeBps: bps('Fee on the job price, paid by the client to the auditing validator when audited.'),
  reputationDecay: { kind: 'number', min: 0, max: 1, integer: false, unit: 'fraction', meaning: 'Weight of the newest outcome in a miner\'s reputation.' },
  reputationStart: { kind: 'number', min: 0, max: 1, integer: false, unit: 'fraction', meaning: 'Reputation of a new miner.' },
  matchingPolicy: { kind: 'enum', values: MATCHING_POLICIES, unit: 'policy', meaning: 'How the winning bid (or standing offer) is chosen.' },
  matchingMode: {
    kind: 'enum',
    values: MATCHING_MODES,
    unit: 'mode',
    meaning:
      '`offers`: miners post signed standing offers (prices, capacity, expiry) and a job is matched to one when submitted, or waits (oldest first per model) and fails `no-bids` after bidWindowMs × bidRounds; `auction`: a bid window per job.',
  },
  jailDurationMs: ms('Time a slashed node cannot bid or audit.', 0),
  maxSlashes: { kind: 'number', min: 1, max: 100, integer: true, unit: 'slashes', meaning: 'Slashes after which a node is ejected and its stake unbonded.' },
  faucetCapMicro: micro('Most mUSD the faucet mints to one account.'),
  maxJobPriceMicro: micro('Largest max price a job may escrow (per row for a batch job, which escrows it × rows).', 1n),
  messageTtlMs: ms('Longest validity of a signed message (replays are refused by a per-signer sequence window and by expiry).'),
  epochMs: ms('Length of an audit-seed epoch (seed hash published at start, seed revealed at end).'),
  redundancyK: { kind: 'number', min: 2, max: 7, integer: true, unit: 'miners', meaning: 'Miners that run a "redundant" job; a strict majority must agree.' },
  auditMissPenaltyBps: bps('Share of stake a validator pays the client when it misses an audit window.'),
  auditMissesToJail: { kind: 'number', min: 1, max: 100, integer: true, unit: 'audits', meaning: 'Missed audits in a row after which a validator is jailed.' },
  maxAuditAttempts: { kind: 'number', min: 1, max: 10, integer: true, unit: 'validators', meaning: 'Validators asked in turn before an audit is given up (job not settled as verified).' },
  livenessWindowMs: ms('A validator is picked to audit or referee only if seen this recently (signed event or heartbeat).'),
  pricingMode: { kind: 'enum', values: PRICING_MODES, unit: 'mode', meaning: 'How jobs are priced and paid: `stable` (mUSD), `token` (priced in mUSD, paid in IMT at the oracle price at settlement), `token-native` (priced and paid in IMT). See docs/economics.md.' },
  stakeToken: { kind: 'enum', values: TOKENS, unit: 'token', meaning: 'The token stakes are bonded, slashed and penalised in (`mUSD` or `IMT`).' },
  tokenEscrowMarginBps: { kind: 'number', min: 0, max: 100_000, integer: true, unit: 'bps', meaning: '`token` mode: extra IMT escrowed over the max price converted at the submit price, covering a price fall before settlement.' },
  maxBatchRows: { kind: 'number', min: 1, max: 4096, integer: true, unit: 'rows', meaning: 'Most input rows one batch job may carry (`rows` in `job.submit`); the job is priced per row.' },
  auditSampleRows: { kind: 'number', min: 1, max: 4096, integer: true, unit: 'rows', meaning: 'Rows of an audited batch job the validator re-executes, drawn after the commit from the epoch seed (all rows when the job has fewer).' },
});

const MUSD = 1_000_000n;

/** The defaults, tuned for a local testnet where a job settles within seconds. */
export const DEFAULT_PARAMS: Readonly<Params> = Object.freeze({
  auditRate: 0.1,
  slashFractionBps: 5_000,
  slashBurnBps: 5_000,
  slashChallengerBps: 2_500,
  slashHarmedBps: 2_500,
  challengeWindowMs: 1_000,
  auditWindowMs: 5_000,
  disputeWindowMs: 5_000,
  disputeQuorum: 2,
  disputeEscalation: 'none',
  disputeMode: 'quorum',
  bisectionRoundMs: 500,
  unbondingPeriodMs: 20_000,
  bidWindowMs: 50,
  jobDeadlineMs: 3_000,
  bidRounds: 3,
  maxAttempts: 3,
  missPenaltyBps: 100,
  minMinerStakeMicro: 100n * MUSD,
  minValidatorStakeMicro: 100n * MUSD,
  protocolFeeBps: 200,
  validatorFeeBps: 10_000,
  reputationDecay: 0.1,
  reputationStart: 0.5,
  matchingPolicy: 'lowest-price',
  matchingMode: 'offers',
  jailDurationMs: 30_000,
  maxSlashes: 3,
  faucetCapMicro: 10_000n * MUSD,
  maxJobPriceMicro: 1_000n * MUSD,
  messageTtlMs: 60_000,
  epochMs: 10_000,
  redundancyK: 3,
  auditMissPenaltyBps: 100,
  auditMissesToJail: 3,
  maxAuditAttempts: 3,
  livenessWindowMs: 30_000,
  pricingMode: 'stable',
  stakeToken: 'mUSD',
  tokenEscrowMarginBps: 5_000,
  maxBatchRows: 64,
  auditSampleRows: 4,
});

export const PARAM_NAMES = Object.keys(PARAM_RULES) as (keyof Params)[];

function describe(rule: ParamRule): string {
  if (rule.kind === 'enum') return `one of ${rule.values.map((v) => `"${v}"`).join(', ')}`;
  if (rule.kind === 'bigint') return `an integer amount in ${rule.unit} between ${rule.min} and ${rule.max}`;
  return `${rule.integer ? 'an integer' : 'a number'} in ${rule.unit} between ${rule.min} and ${rule.max}`;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}`;
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function coerce(name: keyof Params, rule: ParamRule, value: unknown): Params[keyof Params] {
  const bad = (): never => {
    throw new InfermarketError('ERR_INVALID_PARAM', `"${name}" must be ${describe(rule)}, got ${show(value)}`, {
      details: { field: name, received: show(value) },
    });
  };
  if (rule.kind === 'enum') {
    if (typeof value !== 'string' || !rule.values.includes(value)) bad();
    return value as MatchingPolicy | MatchingMode | PricingMode | Token;
  }
  if (rule.kind === 'bigint') {
    let v: bigint;
    if (typeof value === 'bigint') v = value;
    else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
    else if (typeof value === 'string' && /^-?\d+$/.test(value)) v = BigInt(value);
    else return bad();
    if (v < rule.min || v > rule.max) bad();
    return v;
  }
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) n = Number(value);
  else return bad();
  if (!Number.isFinite(n) || n < rule.min || n > rule.max || (rule.integer && !Number.isInteger(n))) bad();
  return n;
}

/**
 * Merge overrides onto the defaults and validate every field and the cross-field rules.
 * Accepts numbers or numeric strings (CLI, JSON) and decimal strings for amounts.
 * @throws InfermarketError `ERR_INVALID_PARAM` naming the field, the expected range and the value received.
 * @example resolveParams({ auditRate: 0.2, slashFractionBps: '2500' })
 */
export function resolveParams(overrides: Record<string, unknown> = {}, base: Readonly<Params> = DEFAULT_PARAMS): Params {
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in PARAM_RULES)) {
      throw new InfermarketError('ERR_INVALID_PARAM', `unknown parameter "${key}"; known parameters: ${PARAM_NAMES.join(', ')}`, {
        details: { field: key },
      });
    }
    if (value === undefined) continue;
    out[key] = coerce(key as keyof Params, PARAM_RULES[key as keyof Params], value);
  }
  const p = out as unknown as Params;
  for (const name of PARAM_NAMES) coerce(name, PARAM_RULES[name], p[name]);
  const split = p.slashBurnBps + p.slashChallengerBps + p.slashHarmedBps;
  if (split !== 10_000) {
    throw new InfermarketError(
      'ERR_INVALID_PARAM',
      `"slashBurnBps" + "slashChallengerBps" + "slashHarmedBps" must sum to 10000, got ${p.slashBurnBps} + ${p.slashChallengerBps} + ${p.slashHarmedBps} = ${split}`,
      { details: { field: 'slashBurnBps' } },
    );
  }
  // an escalated dispute gets a second window
  const quorumMs = p.disputeEscalation === 'escalate-on-split' ? 2 * p.disputeWindowMs : p.disputeWindowMs;
  // a bisection takes up to two moves per halving, then the referees' window
  const bisectionMs = 2 * MAX_BISECTION_STEPS * p.bisectionRoundMs + p.disputeWindowMs;
  const disputeMs = p.disputeMode === 'bisection' ? Math.max(quorumMs, bisectionMs) : quorumMs;
  const exposure = p.challengeWindowMs + p.auditWindowMs + disputeMs;
  // unbonding must outlast every window in which a slash can still land, or a cheater could withdraw first
  if (p.unbondingPeriodMs <= exposure) {
    throw new InfermarketError(
      'ERR_INVALID_PARAM',
      `"unbondingPeriodMs" must exceed challengeWindowMs + auditWindowMs + ${disputeMs === quorumMs ? (quorumMs === p.disputeWindowMs ? 'disputeWindowMs' : '2 × disputeWindowMs (escalate-on-split)') : `${2 * MAX_BISECTION_STEPS} × bisectionRoundMs + disputeWindowMs (bisection)`} = ${exposure}, got ${p.unbondingPeriodMs}`,
      { details: { field: 'unbondingPeriodMs' } },
    );
  }
  return Object.freeze(p);
}

/** Parameters as JSON-safe values (amounts as decimal strings), for reports and the API. */
export function paramsToJson(p: Params): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const name of PARAM_NAMES) {
    const v = p[name];
    out[name] = typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}
