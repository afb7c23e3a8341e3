import { InfermarketError } from './errors.js';
import type { Effect, MarketState } from './types.js';

/** Highest IMT price the oracle accepts: 10^12 USD per IMT (keeps conversions far inside bigint comfort). */
export const MAX_ORACLE_PRICE_MICRO = 10n ** 18n;

/** The market's IMT price as the rules know it (micro-USD per IMT), and how often payments hit an escrow cap. */
export interface OracleState {
  priceMicro: bigint;
  atMs: number;
  /** Prices published so far. */
  updates: number;
  /** `token`-mode payments capped at what the escrow held (the price fell more than the escrow margin). */
  shortfalls: number;
}

/**
 * The market's own oracle published a new IMT price. Only the driver emits this event, from the market's
 * seeded price process or its price file: it is unsigned, and a signed one (a participant posting a
 * price) is refused — nobody who trades may move the price the rules convert at.
 * @throws ERR_VALIDATION for a signed event or a price that is not a positive integer ≤ 10^18 micro-USD.
 */
export function publishPrice(state: MarketState, ev: { priceMicro: unknown; by?: unknown }, out: Effect[]): void {
  if ('by' in ev && ev.by !== undefined) {
    throw new InfermarketError('ERR_VALIDATION', '"oracle.price" comes only from the market\'s own price process; a signed price from a participant is refused', {
      details: { field: 'by' },
    });
  }
  const p = ev.priceMicro;
  if (typeof p !== 'bigint' || p <= 0n || p > MAX_ORACLE_PRICE_MICRO) {
    throw new InfermarketError('ERR_VALIDATION', `"priceMicro" must be a positive integer price in micro-USD per IMT ≤ ${MAX_ORACLE_PRICE_MICRO}, got ${typeof p === 'bigint' ? p.toString() : JSON.stringify(p)}`, {
      details: { field: 'priceMicro' },
    });
  }
  const prev = state.oracle;
  state.oracle = { priceMicro: p, atMs: state.nowMs, updates: (prev?.updates ?? 0) + 1, shortfalls: prev?.shortfalls ?? 0 };
  out.push({ type: 'oracle.updated', priceMicro: p, atMs: state.nowMs });
}
