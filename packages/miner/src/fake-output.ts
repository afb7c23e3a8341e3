import type { JobInput, JobOutput, MinerStrategy } from '@infermarket/protocol';
import type { NodeRng } from './prng.js';
import { toWireTensor } from './executor.js';

/** What a miner does with one assigned job. */
export type JobPlan =
  | { kind: 'run'; variant: string; extraDelayMs: number }
  | { kind: 'fake'; extraDelayMs: number }
  | { kind: 'replay'; extraDelayMs: number }
  | { kind: 'drop' };

/** The knobs of a strategy (scenario `MinerGroup` fields). */
export interface StrategyConfig {
  strategy: MinerStrategy;
  /** Variant claimed to the market. */
  variant: string;
  /** `flaky`: chance to drop a job; `lazy`/`downgrade`/`replay`: chance to cheat (default 1). */
  cheatProbability?: number;
  /** `slow`: extra delay per job (default 2/3 of the job deadline, as the scenario format and the simulator say). */
  slowExtraMs?: number;
}

/**
 * Decide how to handle an assigned job. Pure given the coin flips of `rng`:
 * - `honest` runs the claimed variant;
 * - `lazy` returns random output of the right shape and does no compute;
 * - `downgrade` runs `int4` while claiming another variant;
 * - `replay` returns its last output for the model (runs honestly when it has none);
 * - `flaky` drops the job (no result: it misses its deadline and is reassigned) with `cheatProbability` (0.3);
 * - `slow` runs honestly but adds `slowExtraMs` (default 2/3 of the deadline: late, and past the deadline
 *   once latency and jitter add up; set it above the deadline for a miner that always misses);
 * - `adaptive` cheats like `lazy` with probability `adaptiveP`, which its bandit learns.
 */
export function planJob(cfg: StrategyConfig, ctx: { deadlineMs: number; hasReplay: boolean; adaptiveP?: number }, rng: NodeRng): JobPlan {
  const p = cfg.cheatProbability;
  const honest: JobPlan = { kind: 'run', variant: cfg.variant, extraDelayMs: 0 };
  switch (cfg.strategy) {
    case 'honest':
      return honest;
    case 'lazy':
      return rng.next() < (p ?? 1) ? { kind: 'fake', extraDelayMs: 0 } : honest;
    case 'downgrade':
      return rng.next() < (p ?? 1) ? { kind: 'run', variant: 'int4', extraDelayMs: 0 } : honest;
    case 'replay':
      return ctx.hasReplay && rng.next() < (p ?? 1) ? { kind: 'replay', extraDelayMs: 0 } : honest;
    case 'flaky':
      return rng.next() < (p ?? 0.3) ? { kind: 'drop' } : honest;
    case 'slow':
      return { ...honest, extraDelayMs: cfg.slowExtraMs ?? Math.round((2 * ctx.deadlineMs) / 3) };
    case 'adaptive':
      return rng.next() < (ctx.adaptiveP ?? 0) ? { kind: 'fake', extraDelayMs: 0 } : honest;
  }
}

const CHARLM_FIRST = 1;
const CHARLM_LAST = 95;

/**
 * Random output of the right shape, at no compute: what a lazy miner claims. Tensors get uniform values
 * in [-1, 1); generation gets `maxTokens` random printable characters.
 */
export function fakeOutput(input: JobInput, dims: number[], rng: NodeRng): JobOutput {
  if (input.kind === 'prompt') {
    const tokens: number[] = [];
    for (let i = 0; i < input.maxTokens; i++) tokens.push(CHARLM_FIRST + Math.floor(rng.next() * (CHARLM_LAST - CHARLM_FIRST + 1)));
    return { kind: 'tokens', tokens, text: tokens.map((t) => String.fromCharCode(t + 31)).join('') };
  }
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniform(-1, 1);
  return { kind: 'tensor', tensor: toWireTensor({ dtype: 'float32', dims, data }) };
}

/** Latency to add before committing: `latencyMs` ± uniform `jitterMs`, never negative. */
export function injectedDelay(latencyMs: number, jitterMs: number, rng: NodeRng): number {
  return Math.max(0, latencyMs + (jitterMs > 0 ? rng.uniform(-jitterMs, jitterMs) : 0));
}

/**
 * The bid for a job: the model's price (or the single price) ± `spreadBps`, or null when the price plus
 * the market's fees would exceed the job's max price (the market would refuse the bid).
 */
export function bidPrice(opts: {
  pricing: { priceMicro: string | Record<string, string>; spreadBps?: number };
  model: string;
  maxPriceMicro: bigint;
  feeBps: number;
  rng: NodeRng;
}): bigint | null {
  const base = typeof opts.pricing.priceMicro === 'string' ? opts.pricing.priceMicro : (opts.pricing.priceMicro[opts.model] ?? Object.values(opts.pricing.priceMicro)[0]);
  if (base === undefined) return null;
  let price = BigInt(base);
  const spread = opts.pricing.spreadBps ?? 0;
  if (spread > 0) price += (price * BigInt(Math.round(opts.rng.uniform(-spread, spread)))) / 10_000n;
  if (price < 1n) price = 1n;
  const worst = price + (price * BigInt(opts.feeBps)) / 10_000n;
  return worst > opts.maxPriceMicro ? null : price;
}
