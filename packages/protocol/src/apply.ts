import { bisectionTimedOut, respondBoundary, revealBoundary, voteSegment } from './bisection.js';
import { hashHex } from './crypto.js';
import { auditTimedOut, challengeJob, disputeTimedOut, reportAudit, voteDispute } from './disputes.js';
import { InfermarketError } from './errors.js';
import { closeBidding, commitResult, missDeadline, placeBid, settleJob, submitJob } from './jobs.js';
import { transfer } from './ledger.js';
import { publishPrice } from './oracle.js';
import { checkToken, type Token } from './token.js';
import { lapseOffer, offerWaitExpired, postOffer, withdrawOffer } from './offers.js';
import { bond, checkAmount, getNode, registerNode, releaseUnbonding, unbond } from './nodes.js';
import { checkNonce, pruneNonces, rememberNonce } from './replay.js';
import { isAddress } from './crypto.js';
import type { Effect, MarketEvent, MarketState, Signed, Timer } from './types.js';

/**
 * Apply one event to the market: the whole rulebook. Mutates `state` and returns what happened as effects
 * (journal entries, timers to set, notifications). Pure in every other sense: no clock, no randomness, no I/O.
 * A rejected event throws an `InfermarketError` and leaves `state` exactly as it was (every rule checks
 * before it mutates).
 * @throws InfermarketError with a stable code (see `ERROR_CODES`).
 * @example
 * const fx = apply(state, { type: 'account.faucet', atMs: 0, address, amountMicro: 5_000_000n });
 */
export function apply(state: MarketState, event: MarketEvent): Effect[] {
  if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
    throw new InfermarketError('ERR_VALIDATION', 'event must be an object with a string "type"');
  }
  if (!Number.isSafeInteger(event.atMs) || event.atMs < state.nowMs) {
    // time only moves forward; the driver owns the clock
    throw new InfermarketError('ERR_VALIDATION', `"atMs" must be an integer ≥ the current time ${state.nowMs}, got ${String(event.atMs)}`);
  }
  const out: Effect[] = [];
  const signed = 'by' in event ? (event as Signed) : null;
  let seq = 0;
  if (signed) {
    if (!isAddress(signed.by)) throw new InfermarketError('ERR_VALIDATION', `"by" must be an address, got ${JSON.stringify(signed.by)}`);
    seq = checkNonce(state, signed, event.atMs);
  }
  const before = state.nowMs;
  state.nowMs = event.atMs;
  try {
    dispatch(state, event, out);
  } catch (e) {
    state.nowMs = before;
    throw e;
  }
  if (signed) {
    rememberNonce(state, signed, seq);
    // an accepted signed event is proof of life (audit selection requires a recent one)
    const node = state.nodes.get(signed.by);
    if (node) node.lastSeenMs = event.atMs;
  }
  state.seq++;
  return out;
}

function dispatch(state: MarketState, event: MarketEvent, out: Effect[]): void {
  switch (event.type) {
    case 'epoch.begin':
      return beginEpoch(state, event.seed, out);
    case 'account.faucet':
      return faucet(state, event.address, event.amountMicro, out, checkToken('token', event.token));
    case 'oracle.price':
      return publishPrice(state, event, out);
    case 'node.register':
      return registerNode(state, event, out);
    case 'stake.bond':
      return bond(state, event, out);
    case 'stake.unbond':
      return unbond(state, event, out);
    case 'job.submit':
      return submitJob(state, event, out);
    case 'job.bid':
      return placeBid(state, event, out);
    case 'offer.post':
      return postOffer(state, event, out);
    case 'offer.withdraw':
      return withdrawOffer(state, event);
    case 'offer.lapse':
      return lapseOffer(state, event.address);
    case 'job.result':
      return commitResult(state, event, out);
    case 'audit.report':
      return reportAudit(state, event, out);
    case 'job.challenge':
      return challengeJob(state, event, out);
    case 'dispute.vote':
      return voteDispute(state, event, out);
    case 'bisect.reveal':
      return revealBoundary(state, event, out);
    case 'bisect.respond':
      return respondBoundary(state, event, out);
    case 'bisect.vote':
      return voteSegment(state, event, out);
    case 'timer.fire':
      return fireTimer(state, event.timer, out);
    case 'node.heartbeat':
      return heartbeat(state, event.address);
    default: {
      const never: never = event;
      throw new InfermarketError('ERR_VALIDATION', `unknown event type ${JSON.stringify((never as { type: unknown }).type)}`);
    }
  }
}

function beginEpoch(state: MarketState, seed: string, out: Effect[]): void {
  if (typeof seed !== 'string' || !/^[0-9a-f]{64}$/.test(seed)) {
    throw new InfermarketError('ERR_VALIDATION', '"seed" must be 32 bytes of hex');
  }
  const prev = state.epoch;
  if (prev) out.push({ type: 'epoch.revealed', index: prev.index, seed: prev.seed, seedHash: prev.seedHash });
  const index = prev ? prev.index + 1 : 0;
  state.epoch = { index, seed, seedHash: hashHex(seed), startedAtMs: state.nowMs };
  out.push({ type: 'epoch.started', index, seedHash: state.epoch.seedHash, atMs: state.nowMs });
  pruneNonces(state, state.nowMs);
}

/** Mint to an address. The faucet cap is per token (an IMT faucet is how the sim and testnet fund IMT holders). */
function faucet(state: MarketState, address: string, amountMicro: bigint, out: Effect[], token: Token): void {
  if (!isAddress(address)) throw new InfermarketError('ERR_VALIDATION', `"address" must be an address like im…(40 hex), got ${JSON.stringify(address)}`);
  const amount = checkAmount('amountMicro', amountMicro);
  const capKey = token === 'mUSD' ? address : `${token}|${address}`;
  const already = state.faucetMinted.get(capKey) ?? 0n;
  if (already + amount > state.params.faucetCapMicro) {
    throw new InfermarketError('ERR_FAUCET_CAP', `faucet cap ${state.params.faucetCapMicro} ${token} for ${address} would be exceeded (already minted ${already}, asked ${amount})`, {
      details: { field: 'amountMicro' },
    });
  }
  state.faucetMinted.set(capKey, already + amount);
  transfer(state, out, { from: 'mint', to: `balance:${address}`, amountMicro: amount, reason: 'faucet', ref: address, token });
}

/** The driver saw the node alive on its authenticated connection. */
function heartbeat(state: MarketState, address: unknown): void {
  if (typeof address !== 'string' || !isAddress(address)) throw new InfermarketError('ERR_VALIDATION', `"address" must be an address, got ${JSON.stringify(address)}`);
  getNode(state, address).lastSeenMs = state.nowMs;
}

/**
 * Whether firing `timer` at `atMs` would change anything. A timer whose job moved on (the result came
 * before the deadline, the audit was reassigned) is a no-op that a driver need not apply or log; `apply`
 * ignores it the same way, through this one test.
 */
export function timerLive(state: MarketState, timer: Timer, atMs: number = state.nowMs): boolean {
  if (timer.kind === 'unbond') return true;
  const job = state.jobs.get(timer.jobId);
  if (!job) return false;
  switch (timer.kind) {
    case 'bid-window':
      return job.status === 'bidding' && job.attempt === timer.attempt;
    case 'deadline':
      return job.status === 'assigned' && job.attempt === timer.attempt && atMs >= job.deadlineAtMs;
    case 'audit':
      // a stale timer of an earlier auditor (the audit was reassigned) does nothing
      return job.status === 'auditing' && (timer.attempt ?? 1) === job.auditors.length;
    case 'dispute':
      return job.status === 'disputed';
    case 'challenge':
      return job.status === 'committed';
    case 'bisect':
      // a timer set before the game's latest move is stale
      return job.status === 'disputed' && job.bisection?.moves === timer.moves && job.bisection.turn !== 'done' && atMs >= job.bisection.deadlineAtMs;
    default:
      return true;
  }
}

/** A timer fired. Timers that no longer match the job's state (it moved on) are ignored (`timerLive`). */
function fireTimer(state: MarketState, timer: Timer, out: Effect[]): void {
  if (!timerLive(state, timer)) return;
  if (timer.kind === 'unbond') return releaseUnbonding(state, timer.address, out);
  const job = state.jobs.get(timer.jobId)!;
  switch (timer.kind) {
    case 'bid-window':
      // offers mode: the bound on the wait for an offer (offers.ts); auction: the bid window closes
      return (state.params.matchingMode === 'offers' ? offerWaitExpired : closeBidding)(state, job, out);
    case 'deadline':
      return missDeadline(state, job, out);
    case 'audit':
      return auditTimedOut(state, job, out);
    case 'dispute':
      return disputeTimedOut(state, job, out);
    case 'challenge':
      return settleJob(state, job, out);
    case 'bisect':
      return bisectionTimedOut(state, job, timer.moves, out);
  }
}
