import { InfermarketError } from './errors.js';
import { closeBidding, finishFailed, worstCaseCost } from './jobs.js';
import { checkAmount, getNode, isEligibleMiner } from './nodes.js';
import { isAddress } from './crypto.js';
import type { Bid, Effect, Job, MarketEvent, MarketState, Offer } from './types.js';

/**
 * Standing offers (`matchingMode: offers`, the default). The rules:
 *
 * - A miner posts one signed standing offer (`offer.post`): a price per model it serves, a capacity, the
 *   variant it runs and `untilMs`. A new post replaces the old one. It stands until withdrawn
 *   (`offer.withdraw`), replaced, expired (`untilMs` ≤ now), or lapsed by the driver (the miner's connection
 *   was lost: `offer.lapse`). While the miner is not an eligible miner for a job (jailed, ejected, under the
 *   minimum stake, wrong model/region, no encryption key for a private job, it missed this job's deadline
 *   before, or it is the job's client) its offer does not match that job.
 * - Capacity: a miner's load is the number of jobs assigned to it and not yet committed by it (or missed).
 *   An offer whose load has reached its capacity does not match.
 * - A job is matched when it is submitted (and when it is reassigned after a miss): the live offers that can
 *   take it — priced for its model, with free capacity, of an eligible miner, and whose price plus fees
 *   (`worstCaseCost` at the job's verification level) fit its max price — are ranked by `matchingPolicy` exactly
 *   as bids are (`chooseWinner`; where a bid's arrival breaks a tie, the offer with fewer jobs in hand wins, then the
 *   earlier posted). The job pays the
 *   offer's price as it stood at the match: a later post does not change it. The client names no miner.
 *   A `redundant` job takes `redundancyK` offers of different miners at once, or none.
 * - A job no offer can take waits. Waiting jobs of a model are tried oldest first whenever a slot frees
 *   (a commit or a missed deadline), an offer is posted, or a job of that model is submitted; a waiting job
 *   no offer fits does not hold up younger ones. A job still waiting `bidWindowMs × bidRounds` after it began to
 *   wait fails `no-bids` (`too-few-bids` for a redundant job that some but fewer than k offers could take) and
 *   its escrow is refunded in full: the same bound on the wait the auction allows.
 */

type Ev<T extends MarketEvent['type']> = Extract<MarketEvent, { type: T }>;

/** Bounds on an offer's fields (not protocol parameters: they only bound the input). */
export const OFFER_LIMITS = Object.freeze({
  /** Most jobs one offer may carry at once. */
  maxCapacity: 1024,
  /** Most models priced in one offer (as many as a registration may name). */
  maxModels: 32,
});

// offer posts are numbered from 0 (`bidSeq`), far below 2^40; load ≤ maxCapacity keeps load × 2^40 + seq a safe integer
const LOAD_WEIGHT = 2 ** 40;

const VARIANT = /^[A-Za-z0-9._-]{0,32}$/;

/** Post (or replace) the signer's standing offer. @throws ERR_VALIDATION / ERR_UNKNOWN_MODEL naming the field, ERR_NOT_ELIGIBLE for an ejected miner. */
export function postOffer(state: MarketState, ev: Ev<'offer.post'>, out: Effect[]): void {
  if (state.params.matchingMode !== 'offers') {
    throw new InfermarketError('ERR_WRONG_STATE', `matchingMode is "${state.params.matchingMode}": jobs are bid on per job ("job.bid"), standing offers are not taken`);
  }
  const node = getNode(state, ev.by, 'miner');
  if (node.ejected) throw new InfermarketError('ERR_NOT_ELIGIBLE', `${ev.by} was ejected and may not offer`);
  const raw = ev.prices;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InfermarketError('ERR_VALIDATION', '"prices" must be an object of model id -> price in micro-mUSD', { details: { field: 'prices' } });
  }
  const entries = Object.entries(raw);
  if (entries.length === 0 || entries.length > OFFER_LIMITS.maxModels) {
    throw new InfermarketError('ERR_VALIDATION', `"prices" must price 1 to ${OFFER_LIMITS.maxModels} models, got ${entries.length}`, { details: { field: 'prices' } });
  }
  const prices = new Map<string, bigint>();
  for (const [model, price] of entries) {
    if (!state.models.has(model)) {
      throw new InfermarketError('ERR_UNKNOWN_MODEL', `"prices" names unknown model ${JSON.stringify(model)}; known: ${[...state.models].join(', ')}`, { details: { field: 'prices' } });
    }
    if (!node.models.includes(model)) {
      throw new InfermarketError('ERR_VALIDATION', `"prices" names model "${model}", which ${ev.by} did not register to serve (${node.models.join(', ')})`, { details: { field: 'prices' } });
    }
    prices.set(model, checkAmount(`prices.${model}`, price, state.params.maxJobPriceMicro));
  }
  if (!Number.isSafeInteger(ev.capacity) || ev.capacity < 1 || ev.capacity > OFFER_LIMITS.maxCapacity) {
    throw new InfermarketError('ERR_VALIDATION', `"capacity" must be an integer from 1 to ${OFFER_LIMITS.maxCapacity}, got ${JSON.stringify(ev.capacity)}`, { details: { field: 'capacity' } });
  }
  if (typeof ev.variant !== 'string' || !VARIANT.test(ev.variant)) {
    throw new InfermarketError('ERR_VALIDATION', `"variant" must be up to 32 characters of [A-Za-z0-9._-], got ${JSON.stringify(ev.variant)}`, { details: { field: 'variant' } });
  }
  if (!Number.isSafeInteger(ev.untilMs) || ev.untilMs <= ev.atMs) {
    throw new InfermarketError('ERR_VALIDATION', `"untilMs" must be an integer time in ms after now (${ev.atMs}), got ${JSON.stringify(ev.untilMs)}`, { details: { field: 'untilMs' } });
  }
  const offer: Offer = { miner: ev.by, prices, capacity: ev.capacity, variant: ev.variant, untilMs: ev.untilMs, postedAtMs: ev.atMs, seq: state.bidSeq++ };
  state.offers.set(ev.by, offer);
  for (const model of prices.keys()) drainWaiting(state, model, out);
}

/** Withdraw the signer's standing offer. @throws ERR_WRONG_STATE when it has none. */
export function withdrawOffer(state: MarketState, ev: Ev<'offer.withdraw'>): void {
  getNode(state, ev.by, 'miner');
  if (!state.offers.delete(ev.by)) throw new InfermarketError('ERR_WRONG_STATE', `${ev.by} has no standing offer to withdraw`);
}

/** The driver lost the miner's connection: its offer lapses (no-op when it has none). */
export function lapseOffer(state: MarketState, address: unknown): void {
  if (typeof address !== 'string' || !isAddress(address)) throw new InfermarketError('ERR_VALIDATION', `"address" must be an address, got ${JSON.stringify(address)}`);
  state.offers.delete(address);
}

/** The live offers that can take `job` now, as bids at their standing prices (arrival order = post order). */
export function offerBids(state: MarketState, job: Job): Bid[] {
  const bids: Bid[] = [];
  const now = state.nowMs;
  for (const o of state.offers.values()) {
    if (o.untilMs <= now) continue;
    const perRow = o.prices.get(job.model);
    if (perRow === undefined) continue;
    // an offer's price is per row: a batch job of n rows costs n × it (and takes one slot of its capacity)
    const price = job.rows === undefined ? perRow : perRow * BigInt(job.rows);
    if ((state.busy.get(o.miner) ?? 0) >= o.capacity) continue;
    const node = state.nodes.get(o.miner);
    if (!node || !isEligibleMiner(state, node, job, now)) continue;
    if (worstCaseCost(state, price, job.verification) > job.maxPriceMicro) continue;
    // the policy's last tie-break (a bid's arrival) is, for offers, the lighter load, then the earlier post
    bids.push({ miner: o.miner, priceMicro: price, atMs: o.postedAtMs, seq: (state.busy.get(o.miner) ?? 0) * LOAD_WEIGHT + o.seq });
  }
  return bids;
}

/** Match `job` to live offers now (the matching policy over `offerBids`); false (nothing changed) when too few can take it. */
function tryMatch(state: MarketState, job: Job, out: Effect[]): boolean {
  const bids = offerBids(state, job);
  if (bids.length < (job.verification === 'redundant' ? state.params.redundancyK : 1)) return false;
  job.bids = bids;
  closeBidding(state, job, out);
  // the offers were never bids on this job: nobody is told it was outbid
  job.bids = [];
  if (job.verification === 'redundant') for (const r of job.replicas) takeSlot(state, r.miner);
  else takeSlot(state, job.miner!);
  return true;
}

function takeSlot(state: MarketState, miner: string): void {
  state.busy.set(miner, (state.busy.get(miner) ?? 0) + 1);
}

/**
 * `miner` is done with one job (it committed, or missed the deadline): free the slot and serve the jobs
 * waiting for its models. No-op in `auction` mode.
 */
export function releaseSlot(state: MarketState, miner: string, out: Effect[]): void {
  if (state.params.matchingMode !== 'offers') return;
  const n = state.busy.get(miner) ?? 0;
  if (n <= 1) state.busy.delete(miner);
  else state.busy.set(miner, n - 1);
  serveWaitingFor(state, miner, out);
}

/** `miner` may take jobs again (a slot freed, its jail ended): serve the jobs waiting for its offer's models. */
export function serveWaitingFor(state: MarketState, miner: string, out: Effect[]): void {
  const offer = state.offers.get(miner);
  if (offer) for (const model of offer.prices.keys()) drainWaiting(state, model, out);
}

/**
 * Whether a `jail-end` timer of `miner` would change anything at `atMs`: its jail is over (a later slash
 * did not extend it), it still has an offer, and jobs wait for one of the offer's models.
 */
export function jailEndLive(state: MarketState, miner: string, atMs: number): boolean {
  const node = state.nodes.get(miner);
  const offer = state.offers.get(miner);
  if (!node || node.ejected || node.jailedUntilMs > atMs || !offer) return false;
  for (const model of offer.prices.keys()) if (state.waiting.get(model)?.length) return true;
  return false;
}

/** Could any live offer with free capacity take some job of `model` now (ignoring the job's own limits)? */
function anyFreeOffer(state: MarketState, model: string): boolean {
  for (const o of state.offers.values()) {
    if (o.untilMs > state.nowMs && o.prices.has(model) && (state.busy.get(o.miner) ?? 0) < o.capacity) return true;
  }
  return false;
}

/** Try the jobs waiting for `model`, oldest first; stop once no offer of the model has a free slot. */
function drainWaiting(state: MarketState, model: string, out: Effect[]): void {
  const list = state.waiting.get(model);
  if (!list || list.length === 0) return;
  const keep: string[] = [];
  let i = 0;
  for (; i < list.length; i++) {
    const id = list[i]!;
    const job = state.jobs.get(id);
    if (!job || job.status !== 'bidding') continue;
    if (!anyFreeOffer(state, model)) break;
    if (!tryMatch(state, job, out)) keep.push(id);
  }
  for (; i < list.length; i++) keep.push(list[i]!);
  if (keep.length) state.waiting.set(model, keep);
  else state.waiting.delete(model);
}

/**
 * `matchingMode: offers` in place of a bid window: match the job to the live offers now (after the older
 * jobs of its model waiting before it), or queue it until `bidWindowMs × bidRounds` from now.
 * A reassigned job (attempt > 0) emits `job.opened` with no eligible bidders, so watchers see the restart.
 */
export function matchOrWait(state: MarketState, job: Job, out: Effect[]): void {
  job.status = 'bidding';
  job.bidRound = 1;
  job.bids = [];
  job.miner = null;
  job.priceMicro = 0n;
  const waitUntilMs = state.nowMs + state.params.bidWindowMs * state.params.bidRounds;
  if (job.attempt > 0) out.push({ type: 'job.opened', jobId: job.id, attempt: job.attempt, closesAtMs: waitUntilMs, eligible: [] });
  drainWaiting(state, job.model, out);
  if (tryMatch(state, job, out)) return;
  const list = state.waiting.get(job.model);
  if (list) list.push(job.id);
  else state.waiting.set(job.model, [job.id]);
  out.push({ type: 'timer.set', atMs: waitUntilMs, timer: { kind: 'bid-window', jobId: job.id, attempt: job.attempt } });
}

/** The wait bound passed with the job still unmatched: it fails and is refunded. */
export function offerWaitExpired(state: MarketState, job: Job, out: Effect[]): void {
  const list = state.waiting.get(job.model);
  if (list) {
    const i = list.indexOf(job.id);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) state.waiting.delete(job.model);
  }
  const some = job.verification === 'redundant' && offerBids(state, job).length > 0;
  finishFailed(state, job, some ? 'too-few-bids' : 'no-bids', out);
}
