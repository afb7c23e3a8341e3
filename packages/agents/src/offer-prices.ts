import { worstCaseCost, type Params } from '@infermarket/protocol';
import type { Rng } from './rng.js';
import type { MinerStrategyInstance } from './strategy-module.js';

/** Standing-offer defaults of a miner, live and simulated (units in the names). */
export const OFFER_DEFAULTS = Object.freeze({
  /** How long a posted offer stands (`untilMs` = now + this). */
  offerTtlMs: 10 * 60_000,
  /** Re-post this long before the standing offer expires. */
  refreshBeforeMs: 5 * 60_000,
});

/**
 * Whether a miner re-prices its standing offer after each job it is assigned: when its prices carry a spread
 * (`spreadBps` > 0) it draws them again with its bid rule, as it would bid again in an auction. Without this a
 * one-time draw would fix the miners' order for the whole run, and under `lowest-price` the cheapest offers
 * would take every job they have room for. The live miner and the simulator both ask this.
 */
export function repricesAfterAssignment(spreadBps: number): boolean {
  return spreadBps > 0;
}

/**
 * The prices of a miner's standing offer (`matchingMode: offers`), one per model it serves: the strategy's own
 * bid rule (`bidPrice`, the same one it bids with in an auction) applied to a job at the market's largest max
 * price (`maxJobPriceMicro`, at the default verification level). A model the strategy declines (null) or has
 * no base price for is left out. The live miner and the simulator both call this.
 * @example offerPrices({ decide, models: ['digits'], baseOf: () => 10_000n, spreadBps: 0, params, rng })
 */
export function offerPrices(opts: {
  decide: Pick<MinerStrategyInstance, 'bidPrice'>;
  models: readonly string[];
  baseOf: (model: string) => bigint | null | undefined;
  spreadBps: number;
  params: Params;
  rng: Rng;
}): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  const worstCase = (p: bigint): bigint => worstCaseCost({ params: opts.params }, p);
  for (const model of opts.models) {
    const baseMicro = opts.baseOf(model);
    if (baseMicro === null || baseMicro === undefined) continue;
    const price = opts.decide.bidPrice({ model, baseMicro, spreadBps: opts.spreadBps, maxPriceMicro: opts.params.maxJobPriceMicro, worstCase }, opts.rng);
    if (price !== null) out[model] = price;
  }
  return out;
}
