import { InfermarketError } from '@infermarket/protocol';

/**
 * The hybrid client's routing rule (docs/economics.md), one implementation for the SDK's `createHybridClient`
 * and the simulator's hybrid client groups:
 * - `split`: latency-sensitive jobs to the centralized baseline, batch jobs to the market;
 * - `fallback`: every job to the market first; a job that has not settled `fallbackAfterMs` after submission
 *   (or that failed, or that the market refused) goes to the baseline too (the market job is not cancelled).
 */
export const HYBRID_POLICIES = ['split', 'fallback'] as const;
export type HybridPolicy = (typeof HYBRID_POLICIES)[number];

/** Where a job goes first. */
export function hybridFirstRoute(policy: HybridPolicy, latencySensitive: boolean): 'market' | 'cloud' {
  return policy === 'split' && latencySensitive ? 'cloud' : 'market';
}

/**
 * Whether a job the market holds goes to the baseline now: only under `fallback`, once the market refused or
 * failed it, or `fallbackAfterMs` passed without a settlement.
 */
export function hybridFallsBack(policy: HybridPolicy, market: { outcome: 'pending' | 'settled' | 'failed' | 'refused'; elapsedMs: number }, fallbackAfterMs: number): boolean {
  if (policy !== 'fallback' || market.outcome === 'settled') return false;
  return market.outcome !== 'pending' || market.elapsedMs >= fallbackAfterMs;
}

/** Validate a policy and its deadline. @throws ERR_VALIDATION naming the field. */
export function checkHybrid(policy: unknown, fallbackAfterMs: unknown): { policy: HybridPolicy; fallbackAfterMs: number } {
  if (typeof policy !== 'string' || !(HYBRID_POLICIES as readonly string[]).includes(policy)) {
    throw new InfermarketError('ERR_VALIDATION', `"policy" must be "split" or "fallback", got ${JSON.stringify(policy)}`, { details: { field: 'policy' } });
  }
  if (typeof fallbackAfterMs !== 'number' || !Number.isFinite(fallbackAfterMs) || fallbackAfterMs < 0) {
    throw new InfermarketError('ERR_VALIDATION', `"fallbackAfterMs" must be a non-negative number of ms, got ${String(fallbackAfterMs)}`, { details: { field: 'fallbackAfterMs' } });
  }
  return { policy: policy as HybridPolicy, fallbackAfterMs };
}
