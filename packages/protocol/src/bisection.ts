import { resolveDispute } from './disputes.js';
import { InfermarketError } from './errors.js';
import { finishFailed, getJob, settleJob } from './jobs.js';
import { slash } from './nodes.js';
import { recordOutcome } from './reputation.js';
import { rankValidators } from './selection.js';
import { checkTraceLayers, verifyTraceProof } from './trace.js';
import type { Effect, Job, MarketEvent, MarketState } from './types.js';

type Ev<T extends MarketEvent['type']> = Extract<MarketEvent, { type: T }>;

/**
 * The bisection game (`disputeMode: "bisection"`, issue #15; docs/verification.md "Disputes by bisection").
 *
 * The miner committed, with its result, a Merkle root over the hashes of its outputs at every layer boundary
 * (`trace.ts`): boundary 0 is the job's input, boundary L its output. The challenger (the auditor that reported a
 * mismatch, or a validator that challenged) disputes boundary L and, by definition, accepts boundary 0. Each step
 * the miner opens the middle boundary of the disputed interval `(lo, hi)` with a Merkle proof (`bisect.reveal`) and
 * the challenger says whether it agrees with that tensor (`bisect.respond`, judged under the boundary's tolerance);
 * the interval halves. When `hi = lo + 1` the two agree on the input of layer `hi` and disagree on its output, and
 * `disputeQuorum` referees re-execute that one layer from the miner's own boundary `lo` and compare with the
 * miner's boundary `hi` under the layer's comparator (`bisect.vote`). Every move has a deadline of
 * `bisectionRoundMs` (the referees get `disputeWindowMs`); a party that lets its deadline pass loses.
 *
 * Why an honest miner never loses: whatever the challenger answers, the referees check one step of the miner's
 * own trace from the miner's own input to that step, and an honest step is within the layer's tolerance. Why an
 * honest challenger wins against a wrong trace: it agrees only with boundaries it reproduces, so the interval
 * always starts at a boundary it reproduces and ends at one it does not; at the last step the miner's layer `hi`
 * maps an honest input to a wrong output, which the referees see.
 */
export interface BisectionGame {
  /** Layers in the committed trace (boundaries 0..layers). */
  layers: number;
  traceRoot: string;
  /** Highest boundary the challenger agreed with (0: the job's input). */
  lo: number;
  /** Lowest boundary the challenger disputes (`layers`: the job's output). */
  hi: number;
  /** Boundary index → hash, as opened by the miner (0 and `layers` from the job). */
  revealed: Map<number, string>;
  /** Who must move next; `done` once the dispute is resolved. */
  turn: 'miner' | 'challenger' | 'referees' | 'done';
  /** The boundary the miner must open / the challenger must judge now (the midpoint of `lo..hi`). */
  index: number;
  /** Accepted reveals and responses so far; a deadline timer carries the count it was set at, so a stale one does nothing. */
  moves: number;
  /** Halvings completed (rounds of reveal + respond). */
  steps: number;
  /** When the party to move loses by default. */
  deadlineAtMs: number;
  /** How it ended: who won and why (null while it runs). */
  outcome: { winner: 'miner' | 'challenger' | 'none'; reason: 'referees' | 'timeout' | 'no-referee' } | null;
}

/** Rounds a game over `layers` layers can take: ceil(log2 layers) halvings plus the referees' round. */
export function maxBisectionRounds(layers: number): number {
  return Math.ceil(Math.log2(checkTraceLayers('layers', layers))) + 1;
}

/** The boundary opened next in the interval `lo..hi` (needs `hi - lo ≥ 2`). */
export function bisectionMidpoint(lo: number, hi: number): number {
  return lo + Math.floor((hi - lo) / 2);
}

/** Does this job's dispute go to the bisection game? Only in bisection mode and when its miner committed a trace. */
export function usesBisection(state: MarketState, job: Job): boolean {
  return state.params.disputeMode === 'bisection' && typeof job.traceRoot === 'string' && typeof job.traceLayers === 'number';
}

/**
 * Store the trace a miner commits with its result (`job.result` `traceRoot` + `traceLayers`); both or neither.
 * @throws InfermarketError `ERR_VALIDATION` naming the field.
 */
export function commitTrace(state: MarketState, job: Job, ev: Ev<'job.result'>): void {
  if (ev.traceRoot === undefined && ev.traceLayers === undefined) return;
  const expected = state.traceLayers.get(job.model);
  // a trace of the wrong length would let a miner bisect onto layers the model does not have, which no referee can re-execute
  if (expected === undefined) throw new InfermarketError('ERR_VALIDATION', `"traceLayers": model ${job.model} commits no layer trace; send the result without "traceRoot"`, { details: { field: 'traceLayers' } });
  if (ev.traceLayers !== expected) throw new InfermarketError('ERR_VALIDATION', `"traceLayers" must be ${expected} (the layers of ${job.model}), got ${JSON.stringify(ev.traceLayers)}`, { details: { field: 'traceLayers' } });
  if (typeof ev.traceRoot !== 'string' || !/^[0-9a-f]{64}$/.test(ev.traceRoot)) {
    throw new InfermarketError('ERR_VALIDATION', `"traceRoot" must be a Merkle root as 64 lower-case hex digits, sent with "traceLayers", got ${JSON.stringify(ev.traceRoot)}`, { details: { field: 'traceRoot' } });
  }
  job.traceLayers = checkTraceLayers('traceLayers', ev.traceLayers);
  job.traceRoot = ev.traceRoot;
}

/** Open the game on a disputed job (called by `openDispute` in bisection mode). */
export function openBisection(state: MarketState, job: Job, accuser: string, out: Effect[]): void {
  const layers = job.traceLayers!;
  job.status = 'disputed';
  job.dispute = { accuser, referees: [], votes: new Map(), openedAtMs: state.nowMs };
  job.bisection = {
    layers,
    traceRoot: job.traceRoot!,
    lo: 0,
    hi: layers,
    revealed: new Map([
      [0, job.inputHash],
      [layers, job.outputHash!],
    ]),
    turn: 'miner',
    index: 0,
    moves: 0,
    steps: 0,
    deadlineAtMs: state.nowMs,
    outcome: null,
  };
  state.stats.disputed++;
  out.push({ type: 'dispute.opened', jobId: job.id, accuser, referees: [], deadlineAtMs: state.nowMs + state.params.bisectionRoundMs });
  nextMove(state, job, out);
}

/** Ask for the next move: the miner opens the midpoint, or (interval of one layer) the referees re-execute it. */
function nextMove(state: MarketState, job: Job, out: Effect[]): void {
  const g = job.bisection!;
  if (g.hi - g.lo >= 2) {
    g.turn = 'miner';
    g.index = bisectionMidpoint(g.lo, g.hi);
    setDeadline(state, job, state.params.bisectionRoundMs, out);
    out.push({ type: 'bisect.turn', jobId: job.id, party: 'miner', address: job.miner!, index: g.index, lo: g.lo, hi: g.hi, boundaryHash: null, deadlineAtMs: g.deadlineAtMs });
    return;
  }
  const d = job.dispute!;
  const referees = rankValidators(state, state.epoch!, 'referee', `${job.id}/segment`, job.model, state.nowMs, [d.accuser, job.miner!, job.client], job.private).slice(
    0,
    state.params.disputeQuorum,
  );
  d.referees = referees;
  g.turn = 'referees';
  g.index = g.hi;
  setDeadline(state, job, state.params.disputeWindowMs, out);
  out.push({
    type: 'bisect.segment',
    jobId: job.id,
    fromIndex: g.lo,
    toIndex: g.hi,
    inputHash: g.revealed.get(g.lo)!,
    outputHash: g.revealed.get(g.hi)!,
    referees,
    deadlineAtMs: g.deadlineAtMs,
  });
  if (referees.length === 0) {
    // nobody else can re-execute: the challenger's evidence decides, as in quorum mode
    g.outcome = { winner: 'challenger', reason: 'no-referee' };
    finish(state, job, false, out);
  }
}

function setDeadline(state: MarketState, job: Job, ms: number, out: Effect[]): void {
  const g = job.bisection!;
  g.deadlineAtMs = state.nowMs + ms;
  out.push({ type: 'timer.set', atMs: g.deadlineAtMs, timer: { kind: 'bisect', jobId: job.id, moves: g.moves } });
}

function gameOf(state: MarketState, jobId: unknown, turn: BisectionGame['turn'], ev: { atMs: number }): [Job, BisectionGame] {
  const job = getJob(state, jobId);
  const g = job.bisection;
  if (job.status !== 'disputed' || !g) throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id} is ${job.status}, not in a bisection game`);
  if (g.turn !== turn) throw new InfermarketError('ERR_WRONG_STATE', `job ${job.id}: the bisection game waits for the ${g.turn}, not the ${turn}`);
  if (ev.atMs > g.deadlineAtMs) throw new InfermarketError('ERR_LATE', `job ${job.id}: the move was due by ${g.deadlineAtMs}, got it at ${ev.atMs}`);
  return [job, g];
}

function checkIndex(g: BisectionGame, v: unknown, field: string): void {
  if (v !== g.index) throw new InfermarketError('ERR_VALIDATION', `"${field}" must be ${g.index} (the boundary the game asks for now), got ${JSON.stringify(v)}`, { details: { field } });
}

/** The miner opens the asked-for boundary of its committed trace. @throws `ERR_BAD_PROOF` if the proof does not open it against the committed root. */
export function revealBoundary(state: MarketState, ev: Ev<'bisect.reveal'>, out: Effect[]): void {
  const [job, g] = gameOf(state, ev.jobId, 'miner', ev);
  if (ev.by !== job.miner) throw new InfermarketError('ERR_NOT_ASSIGNED', `${ev.by} is not the miner of job ${job.id}`);
  checkIndex(g, ev.index, 'index');
  if (!verifyTraceProof({ root: g.traceRoot, layers: g.layers, index: g.index, boundaryHash: ev.boundaryHash, proof: ev.proof })) {
    throw new InfermarketError('ERR_BAD_PROOF', `job ${job.id}: the proof does not open boundary ${g.index} with hash ${JSON.stringify(ev.boundaryHash)} against the committed trace root`, {
      details: { field: 'proof' },
    });
  }
  g.revealed.set(g.index, ev.boundaryHash);
  g.moves++;
  g.turn = 'challenger';
  setDeadline(state, job, state.params.bisectionRoundMs, out);
  out.push({ type: 'bisect.turn', jobId: job.id, party: 'challenger', address: job.dispute!.accuser, index: g.index, lo: g.lo, hi: g.hi, boundaryHash: ev.boundaryHash, deadlineAtMs: g.deadlineAtMs });
}

/** The challenger agrees (the disputed interval moves up) or disagrees (it moves down) with the opened boundary. */
export function respondBoundary(state: MarketState, ev: Ev<'bisect.respond'>, out: Effect[]): void {
  const [job, g] = gameOf(state, ev.jobId, 'challenger', ev);
  if (ev.by !== job.dispute!.accuser) throw new InfermarketError('ERR_NOT_ASSIGNED', `${ev.by} is not the challenger of job ${job.id}`);
  checkIndex(g, ev.index, 'index');
  if (typeof ev.agree !== 'boolean') throw new InfermarketError('ERR_VALIDATION', `"agree" must be a boolean, got ${JSON.stringify(ev.agree)}`, { details: { field: 'agree' } });
  if (ev.agree) g.lo = g.index;
  else g.hi = g.index;
  g.moves++;
  g.steps++;
  nextMove(state, job, out);
}

/** A referee re-executed layers `fromIndex+1..toIndex` from the miner's boundary `fromIndex` and votes; a majority of the panel decides. */
export function voteSegment(state: MarketState, ev: Ev<'bisect.vote'>, out: Effect[]): void {
  const [job, g] = gameOf(state, ev.jobId, 'referees', ev);
  const d = job.dispute!;
  if (!d.referees.includes(ev.by)) throw new InfermarketError('ERR_NOT_ASSIGNED', `${ev.by} is not a referee of job ${job.id}'s segment`);
  if (d.votes.has(ev.by)) throw new InfermarketError('ERR_DUPLICATE', `${ev.by} already voted on job ${job.id}`);
  if (ev.fromIndex !== g.lo || ev.toIndex !== g.hi) {
    throw new InfermarketError('ERR_VALIDATION', `"fromIndex"/"toIndex" must be ${g.lo}/${g.hi} (the segment in dispute), got ${JSON.stringify(ev.fromIndex)}/${JSON.stringify(ev.toIndex)}`, {
      details: { field: 'fromIndex' },
    });
  }
  if (typeof ev.minerCorrect !== 'boolean') throw new InfermarketError('ERR_VALIDATION', `"minerCorrect" must be a boolean, got ${JSON.stringify(ev.minerCorrect)}`, { details: { field: 'minerCorrect' } });
  d.votes.set(ev.by, ev.minerCorrect);
  // votes do not move the game (its count stays), so the referees' window timer stays live for those yet to vote
  const { forMiner, against } = segmentTally(job);
  const majority = Math.floor(d.referees.length / 2) + 1;
  if (forMiner >= majority || against >= majority) {
    g.outcome = { winner: forMiner >= majority ? 'miner' : 'challenger', reason: 'referees' };
    finish(state, job, forMiner >= majority, out);
  }
}

function segmentTally(job: Job): { forMiner: number; against: number } {
  let forMiner = 0;
  let against = 0;
  for (const v of job.dispute!.votes.values()) if (v) forMiner++;
  else against++;
  return { forMiner, against };
}

/**
 * A move's deadline passed (`timer.fire` of kind `bisect`). The party to move loses: the miner is slashed as for
 * a wrong result, the challenger as for a false accusation. The referees' window decides by the votes cast; a tie
 * (or no vote) slashes nobody and the output stays unverified, as in quorum mode.
 */
export function bisectionTimedOut(state: MarketState, job: Job, moves: number, out: Effect[]): void {
  const g = job.bisection;
  if (!g || job.status !== 'disputed' || g.turn === 'done' || g.moves !== moves || state.nowMs < g.deadlineAtMs) return; // stale
  if (g.turn === 'miner') {
    g.outcome = { winner: 'challenger', reason: 'timeout' };
    finish(state, job, false, out);
    return;
  }
  if (g.turn === 'challenger') {
    g.outcome = { winner: 'miner', reason: 'timeout' };
    challengerDefaulted(state, job, out);
    return;
  }
  const { forMiner, against } = segmentTally(job);
  if (forMiner !== against) {
    g.outcome = { winner: forMiner > against ? 'miner' : 'challenger', reason: 'referees' };
    finish(state, job, forMiner > against, out);
    return;
  }
  g.outcome = { winner: 'none', reason: 'referees' };
  g.turn = 'done';
  out.push({ type: 'bisect.resolved', jobId: job.id, winner: 'none', reason: 'referees', fromIndex: g.lo, toIndex: g.hi, steps: g.steps });
  out.push({ type: 'dispute.resolved', jobId: job.id, minerCorrect: true, votesFor: forMiner, votesAgainst: against });
  job.validatorOutputHash = null; // an unproven accusation earns no audit fee
  job.verdict = 'unavailable';
  if (job.verification === 'always') finishFailed(state, job, 'audit-unavailable', out);
  else settleJob(state, job, out);
}

function finish(state: MarketState, job: Job, minerCorrect: boolean, out: Effect[]): void {
  const g = job.bisection!;
  g.turn = 'done';
  out.push({ type: 'bisect.resolved', jobId: job.id, winner: g.outcome!.winner, reason: g.outcome!.reason, fromIndex: g.lo, toIndex: g.hi, steps: g.steps });
  resolveDispute(state, job, minerCorrect, out);
}

/**
 * The challenger stopped answering: it is slashed as for a false accusation and the miner is paid, but the output
 * is not verified (nobody re-executed it in the miner's favour); an `always` job is refunded.
 */
function challengerDefaulted(state: MarketState, job: Job, out: Effect[]): void {
  const g = job.bisection!;
  g.turn = 'done';
  out.push({ type: 'bisect.resolved', jobId: job.id, winner: 'miner', reason: 'timeout', fromIndex: g.lo, toIndex: g.hi, steps: g.steps });
  out.push({ type: 'dispute.resolved', jobId: job.id, minerCorrect: true, votesFor: 0, votesAgainst: 0 });
  const v = state.nodes.get(job.dispute!.accuser)!;
  slash(state, v, job, { challenger: null, harmed: job.miner! }, 'bisection default', out);
  recordOutcome(v, 0, state.params.reputationDecay);
  job.validatorOutputHash = null;
  job.verdict = 'unavailable';
  if (job.verification === 'always') finishFailed(state, job, 'audit-unavailable', out);
  else settleJob(state, job, out);
}
