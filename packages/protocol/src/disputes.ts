import { openBisection, usesBisection } from './bisection.js';
import { InfermarketError } from './errors.js';
import { auditUnavailable, checkHash, finishFailed, getJob, nextAuditor, openChallengeWindow, requestAudit, settleJob } from './jobs.js';
import { getNode, penaliseAuditMiss, slash } from './nodes.js';
import { recordOutcome } from './reputation.js';
import { isEligibleValidator, rankValidators } from './selection.js';
import type { Effect, Job, MarketEvent, MarketState } from './types.js';

type Ev<T extends MarketEvent['type']> = Extract<MarketEvent, { type: T }>;

/**
 * The chosen validator reports its blind re-execution. `match` is the model's comparator applied by the
 * driver to the two outputs (the validator never saw the miner's output before committing its own).
 * A match opens the challenge window; a mismatch opens a dispute.
 */
export function reportAudit(state: MarketState, ev: Ev<'audit.report'>, out: Effect[]): void {
  const job = getJob(state, ev.jobId);
  const outputHash = checkHash('outputHash', ev.outputHash);
  if (typeof ev.match !== 'boolean') throw new InfermarketError('ERR_VALIDATION', `"match" must be a boolean, got ${JSON.stringify(ev.match)}`);
  if (job.status !== 'auditing') throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} is ${job.status}, not awaiting an audit`);
  if (job.validator !== ev.by) throw new InfermarketError('ERR_NOT_ASSIGNED', `${ev.by} is not the validator assigned to audit job ${job.id}`);
  if (ev.atMs > job.auditDeadlineAtMs) throw new InfermarketError('ERR_LATE', `audit of job ${job.id} arrived after its window`);
  job.validatorOutputHash = outputHash;
  const v = state.nodes.get(ev.by)!;
  v.audits++;
  v.auditMissStreak = 0;
  if (ev.match) {
    job.verdict = 'verified';
    openChallengeWindow(state, job, out);
  } else openDispute(state, job, ev.by, out);
}

/**
 * The auditor let its window pass. It pays `auditMissPenaltyBps` of its stake to the client and is jailed
 * after `auditMissesToJail` misses in a row; a timed-out audit never counts as passed: the audit goes to the
 * next live, stake-weighted validator (up to `maxAuditAttempts` in all). When nobody is left, the job does
 * not settle as verified (`auditUnavailable`).
 */
export function auditTimedOut(state: MarketState, job: Job, out: Effect[]): void {
  const v = state.nodes.get(job.validator!);
  let penaltyMicro = 0n;
  let jailedUntilMs = 0;
  if (v) {
    recordOutcome(v, 0, state.params.reputationDecay);
    penaltyMicro = penaliseAuditMiss(state, v, job, out);
    jailedUntilMs = v.jailedUntilMs;
  }
  state.stats.auditsMissed++;
  const next = job.auditors.length < state.params.maxAuditAttempts ? nextAuditor(state, job) : null;
  out.push({ type: 'audit.missed', jobId: job.id, validator: job.validator!, penaltyMicro, jailedUntilMs, reassignedTo: next });
  if (next) {
    state.stats.auditsReassigned++;
    requestAudit(state, job, next, out);
    return;
  }
  auditUnavailable(state, job, out);
}

/** During the challenge window any eligible validator that re-executed and disagrees may challenge. */
export function challengeJob(state: MarketState, ev: Ev<'job.challenge'>, out: Effect[]): void {
  const job = getJob(state, ev.jobId);
  checkHash('outputHash', ev.outputHash);
  const node = getNode(state, ev.by, 'validator');
  if (job.status !== 'committed') throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} is ${job.status}, not in its challenge window`);
  if (!isEligibleValidator(state, node, job.model, ev.atMs) || node.address === job.miner) {
    throw new InfermarketError('ERR_NOT_ELIGIBLE', `${ev.by} may not challenge job ${job.id}`);
  }
  if (ev.outputHash === job.outputHash) throw new InfermarketError('ERR_VALIDATION', '"outputHash" equals the miner\'s; a challenge must disagree');
  // a challenge disputes the whole output: its referees re-execute every row of a batch job, not the audit's sample
  delete job.auditRows;
  openDispute(state, job, ev.by, out);
}

function openDispute(state: MarketState, job: Job, accuser: string, out: Effect[]): void {
  if (usesBisection(state, job)) return openBisection(state, job, accuser, out);
  const referees = rankValidators(state, state.epoch!, 'referee', job.id, job.model, state.nowMs, [accuser, job.miner!, job.client], job.private).slice(
    0,
    state.params.disputeQuorum,
  );
  job.status = 'disputed';
  job.dispute = { accuser, referees, votes: new Map(), openedAtMs: state.nowMs };
  state.stats.disputed++;
  const deadlineAtMs = state.nowMs + state.params.disputeWindowMs;
  out.push({ type: 'dispute.opened', jobId: job.id, accuser, referees, deadlineAtMs });
  if (referees.length === 0) {
    // nobody else can re-execute: the accuser's re-execution is the only evidence and decides
    resolveDispute(state, job, false, out);
    return;
  }
  out.push({ type: 'timer.set', atMs: deadlineAtMs, timer: { kind: 'dispute', jobId: job.id } });
}

/** A referee re-executed the disputed job and votes; a majority (the accuser counts as one vote against the miner) decides. */
export function voteDispute(state: MarketState, ev: Ev<'dispute.vote'>, out: Effect[]): void {
  const job = getJob(state, ev.jobId);
  if (typeof ev.minerCorrect !== 'boolean') throw new InfermarketError('ERR_VALIDATION', `"minerCorrect" must be a boolean, got ${JSON.stringify(ev.minerCorrect)}`);
  if (job.status !== 'disputed' || !job.dispute) throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} is ${job.status}, not disputed`);
  // a referee of a bisection re-executes one segment and votes on it (`bisect.vote`), never on the whole output
  if (job.bisection) throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} is in a bisection game: referees vote on its segment with "bisect.vote"`);
  const d = job.dispute;
  if (!d.referees.includes(ev.by)) throw new InfermarketError('ERR_NOT_ASSIGNED', `${ev.by} is not a referee of job ${job.id}`);
  if (d.votes.has(ev.by)) throw new InfermarketError('ERR_DUPLICATE', `${ev.by} already voted on job ${job.id}`);
  if (ev.atMs > (d.escalatedAtMs ?? d.openedAtMs) + state.params.disputeWindowMs) throw new InfermarketError('ERR_LATE', `vote on job ${job.id} arrived after the dispute window`);
  d.votes.set(ev.by, ev.minerCorrect);
  if (ev.minerCorrect && state.params.disputeEscalation === 'escalate-on-split' && escalate(state, job, out)) return;
  const { forMiner, againstMiner } = tally(job);
  const majority = Math.floor((d.referees.length + 1) / 2) + 1;
  if (againstMiner >= majority) resolveDispute(state, job, false, out);
  else if (forMiner >= majority) resolveDispute(state, job, true, out);
}

/**
 * `escalate-on-split`: the first vote for the miner (the accuser is against it) splits the panel. Once
 * per dispute, add fresh referees (not the accuser, the miner, the client or those already drawn) until
 * the panel has 2 × disputeQuorum + 2, and restart the window; the majority of the larger panel decides.
 * Returns false (no escalation) when it already escalated or no fresh referee is eligible.
 */
function escalate(state: MarketState, job: Job, out: Effect[]): boolean {
  const d = job.dispute!;
  if (d.escalatedAtMs !== undefined) return false;
  // with the accuser's vote the larger panel casts an odd number of votes: no tie once all have voted
  const target = 2 * state.params.disputeQuorum + 2;
  const fresh = rankValidators(state, state.epoch!, 'referee', `${job.id}/escalation`, job.model, state.nowMs, [d.accuser, job.miner!, job.client, ...d.referees], job.private).slice(
    0,
    Math.max(0, target - d.referees.length),
  );
  if (fresh.length === 0) return false;
  d.referees.push(...fresh);
  d.escalatedAtMs = state.nowMs;
  const deadlineAtMs = state.nowMs + state.params.disputeWindowMs;
  out.push({ type: 'dispute.opened', jobId: job.id, accuser: d.accuser, referees: fresh, deadlineAtMs });
  out.push({ type: 'timer.set', atMs: deadlineAtMs, timer: { kind: 'dispute', jobId: job.id } });
  return true;
}

function tally(job: Job): { forMiner: number; againstMiner: number } {
  let forMiner = 0;
  let againstMiner = 1; // the accuser
  for (const v of job.dispute!.votes.values()) if (v) forMiner++;
  else againstMiner++;
  return { forMiner, againstMiner };
}

/** The dispute window closed: decide by the votes cast. A tie slashes nobody; the miner is paid unverified (an `always` job is refunded). */
export function disputeTimedOut(state: MarketState, job: Job, out: Effect[]): void {
  const esc = job.dispute!.escalatedAtMs;
  if (esc !== undefined && state.nowMs < esc + state.params.disputeWindowMs) return; // the first window's timer; the panel grew
  const { forMiner, againstMiner } = tally(job);
  if (againstMiner > forMiner) resolveDispute(state, job, false, out);
  else if (forMiner > againstMiner) resolveDispute(state, job, true, out);
  else {
    out.push({ type: 'dispute.resolved', jobId: job.id, minerCorrect: true, votesFor: forMiner, votesAgainst: againstMiner });
    job.validatorOutputHash = null; // an unproven accusation earns no audit fee
    job.verdict = 'unavailable'; // the referees did not decide: the output is not verified
    // "always" promised a verified result before payment: undecided means refunded, never paid as verified
    if (job.verification === 'always') finishFailed(state, job, 'audit-unavailable', out);
    else settleJob(state, job, out);
  }
}

/** Decide a dispute: slash the loser (the miner for a wrong result, the accuser for a false one) and settle or fail the job. */
export function resolveDispute(state: MarketState, job: Job, minerCorrect: boolean, out: Effect[]): void {
  const { forMiner, againstMiner } = tally(job);
  out.push({ type: 'dispute.resolved', jobId: job.id, minerCorrect, votesFor: forMiner, votesAgainst: againstMiner });
  const accuser = job.dispute!.accuser;
  if (minerCorrect) {
    // false accusation: the validator is slashed, the wronged miner gets the harmed share, the job settles now
    const v = state.nodes.get(accuser)!;
    slash(state, v, job, { challenger: null, harmed: job.miner! }, 'false accusation', out);
    recordOutcome(v, 0, state.params.reputationDecay);
    job.validatorOutputHash = null;
    job.verdict = 'verified'; // a majority of referees re-executed it and agreed with the miner
    settleJob(state, job, out);
    return;
  }
  job.verdict = 'caught';
  const miner = state.nodes.get(job.miner!)!;
  slash(state, miner, job, { challenger: accuser, harmed: job.client }, 'wrong result', out);
  recordOutcome(miner, 0, state.params.reputationDecay);
  finishFailed(state, job, 'miner-slashed', out);
}

