import { InfermarketError } from './errors.js';
import { balanceOf, bpsOf, transfer } from './ledger.js';
import { chooseWinner } from './matching.js';
import { checkAmount, getNode, isEligibleMiner, penaliseMiss } from './nodes.js';
import { recordOutcome } from './reputation.js';
import { isAudited, rankValidators } from './selection.js';
import type { Effect, Job, JobFailure, MarketEvent, MarketState } from './types.js';

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

/** Most a client can be charged for a job won at `price`: price + protocol fee + validator fee (if audited). */
export function worstCaseCost(state: Pick<MarketState, 'params'>, priceMicro: bigint): bigint {
  return priceMicro + bpsOf(priceMicro, state.params.protocolFeeBps) + bpsOf(priceMicro, state.params.validatorFeeBps);
}

function eligibleMiners(state: MarketState, job: Job): string[] {
  const out: string[] = [];
  for (const node of state.nodes.values()) if (isEligibleMiner(state, node, job, state.nowMs)) out.push(node.address);
  return out;
}

function openBidding(state: MarketState, job: Job, out: Effect[]): void {
  job.status = 'bidding';
  job.bids = [];
  job.miner = null;
  job.priceMicro = 0n;
  const closesAtMs = state.nowMs + state.params.bidWindowMs;
  out.push({ type: 'job.opened', jobId: job.id, attempt: job.attempt, closesAtMs, eligible: eligibleMiners(state, job) });
  out.push({ type: 'timer.set', atMs: closesAtMs, timer: { kind: 'bid-window', jobId: job.id, attempt: job.attempt } });
}

/** A client submits a job: its max price is escrowed and bidding opens. */
export function submitJob(state: MarketState, ev: Ev<'job.submit'>, out: Effect[]): void {
  if (typeof ev.jobId !== 'string' || !JOB_ID.test(ev.jobId)) {
    throw new InfermarketError('ERR_VALIDATION', `"jobId" must be 1-128 characters of [A-Za-z0-9._:-], got ${JSON.stringify(ev.jobId)}`);
  }
  if (state.jobs.has(ev.jobId) || state.finishedJobs.has(ev.jobId)) throw new InfermarketError('ERR_DUPLICATE', `job id ${ev.jobId} is already used`);
  if (typeof ev.model !== 'string' || !state.models.has(ev.model)) {
    throw new InfermarketError('ERR_UNKNOWN_MODEL', `"model" must be one of ${[...state.models].join(', ')}, got ${JSON.stringify(ev.model)}`);
  }
  checkHash('inputHash', ev.inputHash);
  const maxPrice = checkAmount('maxPriceMicro', ev.maxPriceMicro, state.params.maxJobPriceMicro);
  const regions = ev.regions ?? [];
  if (!Array.isArray(regions) || regions.length > 16 || regions.some((r) => typeof r !== 'string' || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(r))) {
    throw new InfermarketError('ERR_VALIDATION', '"regions" must be a list of at most 16 region names like "eu-west"');
  }
  if (!state.epoch) throw new InfermarketError('ERR_WRONG_STATE', 'no audit epoch has begun; the market is not open yet');
  const bal = balanceOf(state, `balance:${ev.by}`);
  if (bal < maxPrice) {
    throw new InfermarketError('ERR_INSUFFICIENT_BALANCE', `"maxPriceMicro" ${maxPrice} exceeds the balance ${bal} of ${ev.by}`, { details: { field: 'maxPriceMicro' } });
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
  };
  state.jobs.set(job.id, job);
  transfer(state, out, { from: `balance:${ev.by}`, to: `escrow:${job.id}`, amountMicro: maxPrice, reason: 'escrow', ref: job.id });
  state.stats.submitted++;
  openBidding(state, job, out);
}

/** An eligible miner bids during the bid window; one bid per miner per attempt. */
export function placeBid(state: MarketState, ev: Ev<'job.bid'>, _out: Effect[]): void {
  const job = getJob(state, ev.jobId);
  const node = getNode(state, ev.by, 'miner');
  const price = checkAmount('priceMicro', ev.priceMicro);
  if (job.status !== 'bidding') throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} is ${job.status}, not open for bids`);
  if (!isEligibleMiner(state, node, job, ev.atMs)) {
    throw new InfermarketError('ERR_NOT_ELIGIBLE', `${ev.by} may not bid on job ${job.id} (stake, jail, model, region, encryption key or an earlier miss)`);
  }
  if (job.bids.some((b) => b.miner === ev.by)) throw new InfermarketError('ERR_DUPLICATE', `${ev.by} already bid on job ${job.id}`);
  if (worstCaseCost(state, price) > job.maxPriceMicro) {
    throw new InfermarketError(
      'ERR_PRICE_TOO_HIGH',
      `"priceMicro" ${price} plus fees (${worstCaseCost(state, price)}) exceeds the job's max price ${job.maxPriceMicro}`,
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
  const winner = chooseWinner(bids, {
    policy: state.params.matchingPolicy,
    jobId: job.id,
    attempt: job.attempt,
    seed: state.epoch!.seed,
    nodes: state.nodes,
  });
  if (!winner) {
    finishFailed(state, job, 'no-bids', out);
    return;
  }
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

/** The assigned miner commits its signed output hash; the audit draw is made now, after the commit. */
export function commitResult(state: MarketState, ev: Ev<'job.result'>, out: Effect[]): void {
  const job = getJob(state, ev.jobId);
  const outputHash = checkHash('outputHash', ev.outputHash);
  if (job.status !== 'assigned') throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} is ${job.status}, not awaiting a result`);
  if (job.miner !== ev.by) throw new InfermarketError('ERR_NOT_ASSIGNED', `${ev.by} is not the miner assigned to job ${job.id}`);
  if (ev.atMs > job.deadlineAtMs) throw new InfermarketError('ERR_LATE', `result for job ${job.id} arrived at ${ev.atMs}, after its deadline ${job.deadlineAtMs}`);
  const epoch = state.epoch!;
  job.outputHash = outputHash;
  job.committedAtMs = ev.atMs;
  let validator: string | null = null;
  if (isAudited(epoch.seed, job.id, state.params.auditRate)) {
    validator = rankValidators(state, epoch, 'audit', job.id, job.model, ev.atMs, [job.miner, job.client], job.private)[0] ?? null;
  }
  job.audited = validator !== null;
  out.push({ type: 'job.committed', jobId: job.id, miner: ev.by, outputHash, audited: job.audited });
  if (validator) {
    job.status = 'auditing';
    job.validator = validator;
    state.stats.audited++;
    const deadlineAtMs = ev.atMs + state.params.auditWindowMs;
    out.push({ type: 'audit.requested', jobId: job.id, validator, deadlineAtMs });
    out.push({ type: 'timer.set', atMs: deadlineAtMs, timer: { kind: 'audit', jobId: job.id } });
  } else {
    openChallengeWindow(state, job, out);
  }
}

export function openChallengeWindow(state: MarketState, job: Job, out: Effect[]): void {
  job.status = 'committed';
  out.push({ type: 'timer.set', atMs: state.nowMs + state.params.challengeWindowMs, timer: { kind: 'challenge', jobId: job.id } });
}

/** The deadline passed with no result: penalise the miner, exclude it, and reassign or refund. */
export function missDeadline(state: MarketState, job: Job, out: Effect[]): void {
  const node = state.nodes.get(job.miner!)!;
  const penalty = penaliseMiss(state, node, job, out);
  recordOutcome(node, 0, state.params.reputationDecay);
  node.jobsMissed++;
  state.stats.missedDeadlines++;
  job.excluded.push(node.address);
  out.push({ type: 'job.missed', jobId: job.id, miner: node.address, attempt: job.attempt, penaltyMicro: penalty });
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
  transfer(state, out, { from: escrow, to: `balance:${miner.address}`, amountMicro: job.priceMicro, reason: 'pay-miner', ref: job.id });
  transfer(state, out, { from: escrow, to: 'fees', amountMicro: bpsOf(job.priceMicro, state.params.protocolFeeBps), reason: 'protocol-fee', ref: job.id });
  if (job.audited && job.validatorOutputHash !== null && job.validator) {
    const fee = bpsOf(job.priceMicro, state.params.validatorFeeBps);
    transfer(state, out, { from: escrow, to: `balance:${job.validator}`, amountMicro: fee, reason: 'validator-fee', ref: job.id });
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
