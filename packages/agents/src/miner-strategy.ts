import type { MinerStrategy } from '@infermarket/protocol';
import type { Rng } from './rng.js';

/** What a miner does with one assigned job. */
export type JobPlan =
  | { kind: 'run'; variant: string; extraDelayMs: number }
  | { kind: 'fake'; extraDelayMs: number }
  | { kind: 'replay'; extraDelayMs: number }
  | { kind: 'drop' };

/** Strategy defaults, live and simulated (units in the names). */
export const MINER_STRATEGY_DEFAULTS = Object.freeze({
  /** `lazy`/`downgrade`/`replay`: chance to cheat on a job. */
  cheatProbability: 1,
  /** `flaky`: chance to drop a job. */
  flakyDropProbability: 0.3,
  /** `downgrade`: the variant it really runs. */
  downgradeVariant: 'int4',
  /** `slow`: extra delay as a fraction of the job deadline (late, and past it once latency and jitter add up). */
  slowExtraDeadlineFraction: 2 / 3,
});

/** The knobs of a strategy (scenario `MinerGroup` fields). */
export interface StrategyConfig {
  strategy: MinerStrategy;
  /** Variant claimed to the market. */
  variant: string;
  /** `flaky`: chance to drop a job (0.3); `lazy`/`downgrade`/`replay`: chance to cheat (1). */
  cheatProbability?: number;
  /** `slow`: extra delay per job (default 2/3 of the job deadline). */
  slowExtraMs?: number;
}

/** The cheat (or drop) probability a strategy uses when the scenario sets none. */
export function defaultCheatProbability(strategy: MinerStrategy): number {
  return strategy === 'flaky' ? MINER_STRATEGY_DEFAULTS.flakyDropProbability : MINER_STRATEGY_DEFAULTS.cheatProbability;
}

/** The `slow` strategy's extra delay for a job deadline, when the scenario sets none. */
export function defaultSlowExtraMs(deadlineMs: number): number {
  return Math.round(MINER_STRATEGY_DEFAULTS.slowExtraDeadlineFraction * deadlineMs);
}

/**
 * Decide how to handle an assigned job. Pure given the coin flips of `rng` (at most one per job):
 * - `honest` runs the claimed variant;
 * - `lazy` returns random output of the right shape and does no compute;
 * - `downgrade` runs `int4` while claiming another variant;
 * - `replay` returns its last output for the model (runs honestly when it has none);
 * - `flaky` drops the job (no result: it misses its deadline and is reassigned) with `cheatProbability` (0.3);
 * - `slow` runs honestly but adds `slowExtraMs` (default 2/3 of the deadline; set it above the deadline
 *   for a miner that always misses);
 * - `adaptive` cheats like `lazy` with probability `adaptiveP`, the level its learner chose for the job.
 * The live miner and the simulator both call this.
 */
export function planJob(cfg: StrategyConfig, ctx: { deadlineMs: number; hasReplay: boolean; adaptiveP?: number }, rng: Rng): JobPlan {
  const p = cfg.cheatProbability ?? defaultCheatProbability(cfg.strategy);
  const honest: JobPlan = { kind: 'run', variant: cfg.variant, extraDelayMs: 0 };
  switch (cfg.strategy) {
    case 'honest':
      return honest;
    case 'lazy':
      return rng.next() < p ? { kind: 'fake', extraDelayMs: 0 } : honest;
    case 'downgrade':
      return rng.next() < p ? { kind: 'run', variant: MINER_STRATEGY_DEFAULTS.downgradeVariant, extraDelayMs: 0 } : honest;
    case 'replay':
      return ctx.hasReplay && rng.next() < p ? { kind: 'replay', extraDelayMs: 0 } : honest;
    case 'flaky':
      return rng.next() < p ? { kind: 'drop' } : honest;
    case 'slow':
      return { ...honest, extraDelayMs: cfg.slowExtraMs ?? defaultSlowExtraMs(ctx.deadlineMs) };
    case 'adaptive':
      return rng.next() < (ctx.adaptiveP ?? 0) ? { kind: 'fake', extraDelayMs: 0 } : honest;
  }
}

/** A miner's pricing (scenario `MinerGroup.pricing`): one price or one per model, and a random spread. */
export interface Pricing {
  priceMicro: string | Readonly<Record<string, string>>;
  spreadBps?: number;
}

/** The base price for a model: the single price, the model's, else the first listed; null when none. */
export function basePriceFor(pricing: Pricing, model: string): bigint | null {
  const base = typeof pricing.priceMicro === 'string' ? pricing.priceMicro : (pricing.priceMicro[model] ?? Object.values(pricing.priceMicro)[0]);
  return base === undefined ? null : BigInt(base);
}

/**
 * The bid for a job: the base price ± uniform `spreadBps` (one coin flip when the spread is set), at
 * least 1, or null when its worst-case cost to the client (the protocol's `worstCaseCost`, passed in
 * as `worstCase`) exceeds the job's max price — the market would refuse the bid.
 */
export function bidPrice(opts: { baseMicro: bigint; spreadBps?: number; maxPriceMicro: bigint; worstCase: (priceMicro: bigint) => bigint; rng: Rng }): bigint | null {
  let price = opts.baseMicro;
  const spread = opts.spreadBps ?? 0;
  if (spread > 0) price += (price * BigInt(Math.round(opts.rng.uniform(-spread, spread)))) / 10_000n;
  if (price < 1n) price = 1n;
  return opts.worstCase(price) > opts.maxPriceMicro ? null : price;
}

/** Latency to add before committing: `latencyMs` ± uniform `jitterMs`, never negative. */
export function injectedDelay(latencyMs: number, jitterMs: number, rng: Rng): number {
  return Math.max(0, latencyMs + (jitterMs > 0 ? rng.uniform(-jitterMs, jitterMs) : 0));
}
