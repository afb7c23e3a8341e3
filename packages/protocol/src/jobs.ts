import { checkBatchRows, jobRows, sampleAuditRows } from './batch.js';
import { commitTrace } from './bisection.js';
import { InfermarketError } from './errors.js';
import { balanceOf, bpsOf, transfer } from './ledger.js';
import { chooseWinner, type MatchContext } from './matching.js';
import { matchOrWait, releaseSlot } from './offers.js';
import { checkAmount, getNode, isEligibleMiner, penaliseMiss, slash } from './nodes.js';
import { recordOutcome } from './reputation.js';
import { escrowForMaxPrice, escrowPayment, jobToken } from './token.js';
import { isAudited, rankValidators } from './selection.js';
import { VERIFICATION_LEVELS, type Effect, type Bid, type Job, type JobFailure, type MarketEvent, type MarketState, type Replica, type VerificationLevel } from './types.js';

type Ev<T extends MarketEvent['type']> = Extract<MarketEvent, { type: T }>;

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const HASH = /^[0-9a-f]{64}$/;

/** The job with this id, or a coded error (a finished, forgotten job is `ERR_WRONG_STATE`). */
export function getJob(state: MarketState, jobId: unknown): Job {
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
    throw new InfermarketError('ERR_VALIDATION', `"jobId" must be 1-128 characters of [A-Za-z0-9._:-], got ${JSON.stringify(jobId)}`);
  }
  const job = state.jobs.get(jobId);
  if (job) return job;
  if (state.finishedJobs.has(jobId)) throw new InfermarketError('ERR_WRONG_STATE', `job ${jobId} is already finished`);
  throw new InfermarketError('ERR_UNKNOWN_JOB', `no job with id ${jobId}`, { details: { field: 'jobId' } });
}

export function checkHash(field: string, v: unknown): string {
  if (typeof v !== 'string' || !HASH.test(v)) {
    throw new InfermarketError('ERR_VALIDATION', `"${field}" must be a sha256 hash as 64 lower-case hex digits, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Most a client can be charged for a job won at `price`, by verification level: price + protocol fee, plus the
 * validator fee unless `none` (reserved for `sampled`, always charged for `always`); `redundant` pays
 * `redundancyK` miners, each its price + protocol fee (no validator).
 */
export function worstCaseCost(state: Pick<MarketState, 'params'>, priceMicro: bigint, level: VerificationLevel = 'sampled'): bigint {
  const p = state.params;
  const base = priceMicro + bpsOf(priceMicro, p.protocolFeeBps);
  if (level === 'none') return base;
  if (level === 'redundant') return base * BigInt(p.redundancyK);
  return base + bpsOf(priceMicro, p.validatorFeeBps);
}

/** The verification level of a submission (default `sampled`). @throws ERR_VALIDATION naming the field. */
export function checkVerification(v: unknown): VerificationLevel {
  if (v === undefined) return 'sampled';
  if (typeof v !== 'string' || !(VERIFICATION_LEVELS as readonly string[]).includes(v)) {
    throw new InfermarketError('ERR_VALIDATION', `"verification" must be one of ${VERIFICATION_LEVELS.join(', ')}, got ${JSON.stringify(v)}`, {
      details: { field: 'verification' },
    });
  }
  return v as VerificationLevel;
}

function eligibleMiners(state: MarketState, job: Job): string[] {
  const out: string[] = [];
  for (const node of state.nodes.values()) if (isEligibleMiner(state, node, job, state.nowMs)) out.push(node.address);
  return out;
}

function openBidding(state: MarketState, job: Job, out: Effect[]): void {
  // standing offers: matched now, or waiting for one (offers.ts); no bid window
  if (state.params.matchingMode === 'offers') return matchOrWait(state, job, out);
  job.status = 'bidding';
  job.bidRound += 1;
  job.bids = [];
  job.miner = null;
  job.priceMicro = 0n;
  const closesAtMs = state.nowMs + state.params.bidWindowMs;
  out.push({ type: 'job.opened', jobId: job.id, attempt: job.attempt, closesAtMs, eligible: eligibleMiners(state, job) });
  out.push({ type: 'timer.set', atMs: closesAtMs, timer: { kind: 'bid-window', jobId: job.id, attempt: job.attempt } });
}

/** A client submits a job: its max price is escrowed and it is matched to standing offers (or bidding opens, `auction`). */
export function submitJob(state: MarketState, ev: Ev<'job.submit'>, out: Effect[]): void {
  if (typeof ev.jobId !== 'string' || !JOB_ID.test(ev.jobId)) {
    throw new InfermarketError('ERR_VALIDATION', `"jobId" must be 1-128 characters of [A-Za-z0-9._:-], got ${JSON.stringify(ev.jobId)}`);
  }
  if (state.jobs.has(ev.jobId) || state.finishedJobs.has(ev.jobId)) throw new InfermarketError('ERR_DUPLICATE', `job id ${ev.jobId} is already used`);
  if (typeof ev.model !== 'string' || !state.models.has(ev.model)) {
    throw new InfermarketError('ERR_UNKNOWN_MODEL', `"model" must be one of ${[...state.models].join(', ')}, got ${JSON.stringify(ev.model)}`);
  }
  checkHash('inputHash', ev.inputHash);
  // a batch job: maxPriceMicro is per row; the job's max (and escrow) is per row × rows, exact
  const rows = checkBatchRows(state.params, ev.rows, { private: ev.private === true });
  const maxPrice = checkAmount('maxPriceMicro', ev.maxPriceMicro, state.params.maxJobPriceMicro) * BigInt(rows);
  const regions = ev.regions ?? [];
  if (!Array.isArray(regions) || regions.length > 16 || regions.some((r) => typeof r !== 'string' || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(r))) {
    throw new InfermarketError('ERR_VALIDATION', '"regions" must be a list of at most 16 region names like "eu-west"');
  }
  const verification = checkVerification(ev.verification);
  if (verification === 'redundant' && ev.private === true) {
    // the replicas' outputs are sealed to the client: nobody but the client could compare them
    throw new InfermarketError('ERR_VALIDATION', '"verification" "redundant" cannot be used with "private": true (the replicas\' outputs are sealed to the client, so nobody can compare them); use "always" or "sampled" for a private job', {
      details: { field: 'verification' },
    });
  }
  if (!state.epoch) throw new InfermarketError('ERR_WRONG_STATE', 'no audit epoch has begun; the market is not open yet');
  const escrowed = escrowForMaxPrice(state, maxPrice);
  const bal = balanceOf(state, `balance:${ev.by}`, jobToken(state.params));
  if (bal < escrowed) {
    throw new InfermarketError('ERR_INSUFFICIENT_BALANCE', `"maxPriceMicro" ${maxPrice} (escrow ${escrowed} ${jobToken(state.params)}) exceeds the balance ${bal} of ${ev.by}`, { details: { field: 'maxPriceMicro' } });
  }
  const job: Job = {
    id: ev.jobId,
    client: ev.by,
    model: ev.model,
    inputHash: ev.inputHash,
    maxPriceMicro: maxPrice,
    regions: [...regions],
    private: ev.private === true,
    status: 'bidding',
    failure: null,
    submittedAtMs: ev.atMs,
    attempt: 0,
    bidRound: 0,
    bids: [],
    excluded: [],
    miner: null,
    priceMicro: 0n,
    assignedAtMs: 0,
    deadlineAtMs: 0,
    outputHash: null,
    committedAtMs: 0,
    audited: false,
    validator: null,
    validatorOutputHash: null,
    dispute: null,
    finishedAtMs: 0,
    payouts: 0,
    verification,
    verdict: 'unchecked',
    auditors: [],
    auditDeadlineAtMs: 0,
    replicas: [],
    ...(escrowed !== maxPrice ? { escrowMicro: escrowed } : {}),
    ...(rows > 1 ? { rows } : {}),
  };
  state.jobs.set(job.id, job);
  transfer(state, out, { from: `balance:${ev.by}`, to: `escrow:${job.id}`, amountMicro: escrowed, reason: 'escrow', ref: job.id });
  state.stats.submitted++;
  openBidding(state, job, out);
}

/** An eligible miner bids during the bid window; one bid per miner per attempt. */
export function placeBid(state: MarketState, ev: Ev<'job.bid'>, _out: Effect[]): void {
  const job = getJob(state, ev.jobId);
  const node = getNode(state, ev.by, 'miner');
  // a bid is per row: a batch job pays it × rows
  const price = checkAmount('priceMicro', ev.priceMicro) * BigInt(jobRows(job));
  if (state.params.matchingMode !== 'auction') throw new InfermarketError('ERR_WRONG_STATE', `matchingMode is "${state.params.matchingMode}": jobs are matched to standing offers ("offer.post"), not bid on`);
  if (job.status !== 'bidding') throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} is ${job.status}, not open for bids`);
  if (!isEligibleMiner(state, node, job, ev.atMs)) {
    throw new InfermarketError('ERR_NOT_ELIGIBLE', `${ev.by} may not bid on job ${job.id} (stake, jail, model, region, encryption key or an earlier miss)`);
  }
  if (job.bids.some((b) => b.miner === ev.by)) throw new InfermarketError('ERR_DUPLICATE', `${ev.by} already bid on job ${job.id}`);
  const worst = worstCaseCost(state, price, job.verification);
  if (worst > job.maxPriceMicro) {
    throw new InfermarketError(
      'ERR_PRICE_TOO_HIGH',
      `"priceMicro" ${price}${jobRows(job) > 1 ? ` (× ${jobRows(job)} rows)` : ''} plus fees (${worst}, verification "${job.verification}") exceeds the job's max price ${job.maxPriceMicro}`,
      { details: { field: 'priceMicro' } },
    );
  }
  job.bids.push({ miner: ev.by, priceMicro: price, atMs: ev.atMs, seq: state.bidSeq++ });
}

/** The bid window closed: assign the winner, or fail the job when nobody bid. */
export function closeBidding(state: MarketState, job: Job, out: Effect[]): void {
  const bids = job.bids.filter((b) => {
    const node = state.nodes.get(b.miner);
    return node !== undefined && isEligibleMiner(state, node, job, state.nowMs);
  });
  const ctx = { policy: state.params.matchingPolicy, jobId: job.id, attempt: job.attempt, seed: state.epoch!.seed, nodes: state.nodes };
  if (job.verification === 'redundant') {
    assignReplicas(state, job, bids, ctx, out);
    return;
  }
  const winner = chooseWinner(bids, ctx);
  if (!winner) {
    // nobody bid: reopen bidding (busy or reconnecting miners get another window), up to bidRounds windows
    if (job.bidRound < state.params.bidRounds) openBidding(state, job, out);
    else finishFailed(state, job, 'no-bids', out);
    return;
  }
  job.bidRound = 0;
  job.attempt += 1;
  job.status = 'assigned';
  job.miner = winner.miner;
  job.priceMicro = winner.priceMicro;
  job.assignedAtMs = state.nowMs;
  job.deadlineAtMs = state.nowMs + state.params.jobDeadlineMs;
  state.nodes.get(winner.miner)!.jobsAssigned++;
  out.push({ type: 'job.assigned', jobId: job.id, miner: winner.miner, priceMicro: winner.priceMicro, attempt: job.attempt, deadlineAtMs: job.deadlineAtMs });
  out.push({ type: 'timer.set', atMs: job.deadlineAtMs, timer: { kind: 'deadline', jobId: job.id, attempt: job.attempt } });
}

/**
 * Redundant jobs: the `redundancyK` best bids (by the matching policy, one after another) all run the job.
 * Fewer eligible bids than k fails the job (`too-few-bids`, refunded): a redundant job never runs on fewer.
 */
function assignReplicas(state: MarketState, job: Job, bids: Bid[], ctx: MatchContext, out: Effect[]): void {
  const k = state.params.redundancyK;
  const chosen: Bid[] = [];
  let left = bids;
  while (chosen.length < k) {
    const w = chooseWinner(left, { ...ctx, jobId: `${job.id}#${chosen.length}` });
    if (!w) break;
    chosen.push(w);
    left = left.filter((b) => b !== w);
  }
  if (chosen.length < k) {
    if (chosen.length === 0 && job.bidRound < state.params.bidRounds) openBidding(state, job, out);
    else finishFailed(state, job, chosen.length === 0 ? 'no-bids' : 'too-few-bids', out);
    return;
  }
  job.bidRound = 0;
  job.attempt += 1;
  job.status = 'assigned';
  job.miner = chosen[0]!.miner;
  job.priceMicro = chosen[0]!.priceMicro;
  job.assignedAtMs = state.nowMs;
  job.deadlineAtMs = state.nowMs + state.params.jobDeadlineMs;
  job.verdict = 'pending';
  job.replicas = chosen.map((b): Replica => ({ miner: b.miner, priceMicro: b.priceMicro, outputHash: null, agreesWith: [], paid: false }));
  for (const r of job.replicas) {
    state.nodes.get(r.miner)!.jobsAssigned++;
    out.push({ type: 'job.assigned', jobId: job.id, miner: r.miner, priceMicro: r.priceMicro, attempt: job.attempt, deadlineAtMs: job.deadlineAtMs });
  }
  out.push({ type: 'timer.set', atMs: job.deadlineAtMs, timer: { kind: 'deadline', jobId: job.id, attempt: job.attempt } });
}

/**
 * The assigned miner commits its signed output hash; the audit draw is made now, after the commit
 * (`always`: audited; `none`: never; `sampled`: H(seed ‖ jobId) < auditRate). For a redundant job each
 * replica commits; the job is decided once all have (or at the deadline).
 */
export function commitResult(state: MarketState, ev: Ev<'job.result'>, out: Effect[]): void {
  const job = getJob(state, ev.jobId);
  const outputHash = checkHash('outputHash', ev.outputHash);
  if (job.status !== 'assigned') throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} is ${job.status}, not awaiting a result`);
  if (ev.atMs > job.deadlineAtMs) throw new InfermarketError('ERR_LATE', `result for job ${job.id} arrived at ${ev.atMs}, after its deadline ${job.deadlineAtMs}`);
  if (job.verification === 'redundant') {
    commitReplica(state, job, ev, outputHash, out);
    return;
  }
  if (ev.agreesWith !== undefined) throw new InfermarketError('ERR_VALIDATION', '"agreesWith" is only for redundant jobs', { details: { field: 'agreesWith' } });
  if (job.miner !== ev.by) throw new InfermarketError('ERR_NOT_ASSIGNED', `${ev.by} is not the miner assigned to job ${job.id}`);
  const epoch = state.epoch!;
  commitTrace(state, job, ev);
  job.outputHash = outputHash;
  job.committedAtMs = ev.atMs;
  releaseSlot(state, ev.by, out);
  const drawn = job.verification === 'always' || (job.verification === 'sampled' && isAudited(epoch.seed, job.id, state.params.auditRate));
  const validator = drawn ? nextAuditor(state, job) : null;
  job.audited = validator !== null;
  // a batch job's audit re-executes a sample of its rows, drawn now (after the commit) from the secret epoch seed
  if (job.audited && jobRows(job) > state.params.auditSampleRows) job.auditRows = sampleAuditRows(epoch.seed, job.id, jobRows(job), state.params.auditSampleRows);
  out.push({ type: 'job.committed', jobId: job.id, miner: ev.by, outputHash, audited: job.audited });
  if (validator) {
    state.stats.audited++;
    requestAudit(state, job, validator, out);
    return;
  }
  if (drawn) {
    // a check was due and no live validator can make it: never settle as verified
    auditUnavailable(state, job, out);
    return;
  }
  openChallengeWindow(state, job, out);
}

/** The best live eligible validator not yet asked for this job (not its miner, replicas or client), or null. */
export function nextAuditor(state: MarketState, job: Job): string | null {
  const exclude = [job.client, ...(job.miner ? [job.miner] : []), ...job.auditors];
  return rankValidators(state, state.epoch!, 'audit', job.id, job.model, state.nowMs, exclude, job.private)[0] ?? null;
}

/** Ask `validator` to re-execute the job within `auditWindowMs`. */
export function requestAudit(state: MarketState, job: Job, validator: string, out: Effect[]): void {
  job.status = 'auditing';
  job.validator = validator;
  job.verdict = 'pending';
  job.auditors.push(validator);
  job.auditDeadlineAtMs = state.nowMs + state.params.auditWindowMs;
  const attempt = job.auditors.length;
  out.push({ type: 'audit.requested', jobId: job.id, validator, deadlineAtMs: job.auditDeadlineAtMs, attempt });
  out.push({ type: 'timer.set', atMs: job.auditDeadlineAtMs, timer: { kind: 'audit', jobId: job.id, attempt } });
}

/**
 * No validator completed a due audit. `always`: the client paid for a check before settlement, so the job
 * fails (`audit-unavailable`) and is refunded in full; the miner is not paid and not penalised. `sampled`:
 * the job settles after the challenge window as unverified (verdict `unavailable`, no validator fee), so
 * silencing audits buys a cheater no "verified" receipt.
 */
export function auditUnavailable(state: MarketState, job: Job, out: Effect[]): void {
  state.stats.auditsUnavailable++;
  job.verdict = 'unavailable';
  job.validator = null;
  job.validatorOutputHash = null;
  if (job.verification === 'always') {
    finishFailed(state, job, 'audit-unavailable', out);
    return;
  }
  openChallengeWindow(state, job, out);
}

function commitReplica(state: MarketState, job: Job, ev: Ev<'job.result'>, outputHash: string, out: Effect[]): void {
  const r = job.replicas.find((x) => x.miner === ev.by);
  if (!r) throw new InfermarketError('ERR_NOT_ASSIGNED', `${ev.by} is not one of the miners assigned to redundant job ${job.id}`);
  if (r.outputHash !== null) throw new InfermarketError('ERR_DUPLICATE', `${ev.by} already committed a result for job ${job.id}`);
  const agrees = ev.agreesWith ?? [];
  if (!Array.isArray(agrees) || agrees.some((a) => typeof a !== 'string' || a === ev.by || !job.replicas.some((x) => x.miner === a && x.outputHash !== null))) {
    throw new InfermarketError('ERR_VALIDATION', '"agreesWith" must list replicas of this job that committed before this one', { details: { field: 'agreesWith' } });
  }
  r.outputHash = outputHash;
  r.agreesWith = [...new Set(agrees)];
  releaseSlot(state, ev.by, out);
  out.push({ type: 'job.committed', jobId: job.id, miner: ev.by, outputHash, audited: false });
  if (job.replicas.every((x) => x.outputHash !== null)) decideRedundant(state, job, out);
}

/**
 * All replicas answered (or the deadline passed): group them by agreement with each group's first member;
 * a group holding a strict majority of `redundancyK` is the answer — its members will be paid, the replicas
 * that committed something else are slashed (`wrong result`, harmed share to the client). No majority:
 * the job fails `no-agreement`, refunded, nobody slashed (the evidence cannot tell who lied).
 */
export function decideRedundant(state: MarketState, job: Job, out: Effect[]): void {
  const committed = job.replicas.filter((r) => r.outputHash !== null);
  const groups: Replica[][] = [];
  for (const r of committed) {
    const g = groups.find((gr) => r.agreesWith.includes(gr[0]!.miner) || gr[0]!.outputHash === r.outputHash);
    if (g) g.push(r);
    else groups.push([r]);
  }
  const need = Math.floor(state.params.redundancyK / 2) + 1;
  const winner = groups.find((g) => g.length >= need) ?? null;
  if (!winner) {
    state.stats.redundantDisagreements++;
    job.verdict = 'unavailable';
    finishFailed(state, job, 'no-agreement', out);
    return;
  }
  for (const r of committed) {
    if (winner.includes(r)) {
      r.paid = true;
      continue;
    }
    const node = state.nodes.get(r.miner)!;
    slash(state, node, job, { challenger: null, harmed: job.client }, 'wrong result (outvoted by redundant miners)', out);
    recordOutcome(node, 0, state.params.reputationDecay);
  }
  job.miner = winner[0]!.miner;
  job.priceMicro = winner[0]!.priceMicro;
  job.outputHash = winner[0]!.outputHash;
  job.committedAtMs = state.nowMs;
  job.verdict = 'verified';
  openChallengeWindow(state, job, out);
}

export function openChallengeWindow(state: MarketState, job: Job, out: Effect[]): void {
  job.status = 'committed';
  out.push({ type: 'timer.set', atMs: state.nowMs + state.params.challengeWindowMs, timer: { kind: 'challenge', jobId: job.id } });
}

/** The deadline passed with no result: penalise the miner, exclude it, and reassign or refund. */
export function missDeadline(state: MarketState, job: Job, out: Effect[]): void {
  if (job.verification === 'redundant') {
    // every silent replica pays the miss penalty; the job is decided on the answers in (no reassignment)
    for (const r of job.replicas) {
      if (r.outputHash !== null) continue;
      const node = state.nodes.get(r.miner)!;
      const penalty = penaliseMiss(state, node, job, out);
      recordOutcome(node, 0, state.params.reputationDecay);
      node.jobsMissed++;
      state.stats.missedDeadlines++;
      out.push({ type: 'job.missed', jobId: job.id, miner: node.address, attempt: job.attempt, penaltyMicro: penalty });
      releaseSlot(state, node.address, out);
    }
    decideRedundant(state, job, out);
    return;
  }
  const node = state.nodes.get(job.miner!)!;
  const penalty = penaliseMiss(state, node, job, out);
  recordOutcome(node, 0, state.params.reputationDecay);
  node.jobsMissed++;
  state.stats.missedDeadlines++;
  job.excluded.push(node.address);
  out.push({ type: 'job.missed', jobId: job.id, miner: node.address, attempt: job.attempt, penaltyMicro: penalty });
  releaseSlot(state, node.address, out);
  if (job.attempt >= state.params.maxAttempts) {
    finishFailed(state, job, 'attempts-exhausted', out);
    return;
  }
  state.stats.reassigned++;
  openBidding(state, job, out);
}

/** The challenge window closed with no dispute: pay the miner, the fees and the auditor, refund the rest. Once only. */
export function settleJob(state: MarketState, job: Job, out: Effect[]): void {
  if (job.payouts > 0) throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} was already paid`);
  const escrow: `escrow:${string}` = `escrow:${job.id}`;
  const miner = state.nodes.get(job.miner!)!;
  const paid = job.verification === 'redundant' ? job.replicas.filter((r) => r.paid) : [{ miner: miner.address, priceMicro: job.priceMicro }];
  for (const r of paid) {
    // escrowPayment: in `token` mode the price converts to IMT at the settlement price
    transfer(state, out, { from: escrow, to: `balance:${r.miner}`, amountMicro: escrowPayment(state, balanceOf(state, escrow), r.priceMicro), reason: 'pay-miner', ref: job.id });
    const feeMicro = escrowPayment(state, balanceOf(state, escrow), bpsOf(r.priceMicro, state.params.protocolFeeBps));
    transfer(state, out, { from: escrow, to: 'fees', amountMicro: feeMicro, reason: 'protocol-fee', ref: job.id });
    if (r.miner === miner.address) continue;
    const other = state.nodes.get(r.miner)!;
    other.earnedMicro += r.priceMicro;
    other.jobsSettled++;
    recordOutcome(other, 1, state.params.reputationDecay);
  }
  if (job.audited && job.validatorOutputHash !== null && job.validator) {
    const fee = bpsOf(job.priceMicro, state.params.validatorFeeBps);
    transfer(state, out, { from: escrow, to: `balance:${job.validator}`, amountMicro: escrowPayment(state, balanceOf(state, escrow), fee), reason: 'validator-fee', ref: job.id });
    state.nodes.get(job.validator)!.earnedMicro += fee;
  }
  const refund = balanceOf(state, escrow);
  transfer(state, out, { from: escrow, to: `balance:${job.client}`, amountMicro: refund, reason: 'refund', ref: job.id });
  job.payouts++;
  miner.earnedMicro += job.priceMicro;
  miner.jobsSettled++;
  recordOutcome(miner, 1, state.params.reputationDecay);
  state.stats.settled++;
  out.push({ type: 'job.settled', jobId: job.id, miner: miner.address, priceMicro: job.priceMicro, refundMicro: refund });
  finish(state, job, 'settled');
}

/** End a job without paying a miner: the whole escrow goes back to the client. */
export function finishFailed(state: MarketState, job: Job, reason: JobFailure, out: Effect[]): void {
  const escrow: `escrow:${string}` = `escrow:${job.id}`;
  const refund = balanceOf(state, escrow);
  transfer(state, out, { from: escrow, to: `balance:${job.client}`, amountMicro: refund, reason: 'refund', ref: job.id });
  job.failure = reason;
  state.stats.failed++;
  out.push({ type: 'job.failed', jobId: job.id, reason, refundMicro: refund });
  finish(state, job, 'failed');
}

function finish(state: MarketState, job: Job, status: 'settled' | 'failed'): void {
  job.status = status;
  job.finishedAtMs = state.nowMs;
  job.bids = [];
  if (!state.keepFinishedJobs) {
    state.jobs.delete(job.id);
    state.finishedJobs.add(job.id);
  }
}
