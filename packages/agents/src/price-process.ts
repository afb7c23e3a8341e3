import { InfermarketError } from '@infermarket/protocol';
import { createTaggedRng, type Rng } from './rng.js';

/**
 * How the market's oracle sets the IMT price (the only source of `oracle.price` events; no participant can
 * post one):
 * - `gbm`: geometric Brownian motion with drift and volatility, optionally with Poisson jumps (Merton),
 *   drawn from its own seeded stream, one step every `stepMs`;
 * - `series`: a price series `[atMs, priceMicro]` (from a file), held piecewise constant.
 */
export type PriceProcessSpec =
  | {
      kind: 'gbm';
      /** Price at time 0, micro-USD per IMT. */
      startPriceMicro: number;
      /** Expected log-return per hour (e.g. -0.2 = a 20 %/h downtrend). */
      driftPerHour: number;
      /** Standard deviation of the log-return over one hour (0 = a deterministic path). */
      volatilityPerSqrtHour: number;
      /** Time between published prices. */
      stepMs: number;
      /** Mean number of jumps per hour (0 = no jumps). */
      jumpsPerHour?: number;
      /** Mean log size of a jump (e.g. -0.3 ≈ a 26 % fall). */
      jumpMeanLog?: number;
      /** Standard deviation of a jump's log size. */
      jumpStdLog?: number;
    }
  | { kind: 'series'; points: readonly (readonly [atMs: number, priceMicro: number])[] };

/** Defaults of the GBM process: a 1 USD token, no drift, no volatility, a price every second. */
export const PRICE_PROCESS_DEFAULTS = Object.freeze({
  startPriceMicro: 1_000_000,
  driftPerHour: 0,
  volatilityPerSqrtHour: 0,
  stepMs: 1_000,
  jumpsPerHour: 0,
  jumpMeanLog: 0,
  jumpStdLog: 0,
});

/** One price the oracle publishes. */
export interface PricePoint {
  atMs: number;
  priceMicro: bigint;
}

const HOUR_MS = 3_600_000;

function bad(field: string, want: string, got: unknown): never {
  throw new InfermarketError('ERR_BAD_SCENARIO', `price process "${field}" must be ${want}, got ${JSON.stringify(got)}`, { details: { field } });
}

/** Validate a spec (fail loud, naming the field). @throws ERR_BAD_SCENARIO */
export function checkPriceProcess(spec: PriceProcessSpec): PriceProcessSpec {
  if (spec.kind === 'series') {
    if (!Array.isArray(spec.points) || spec.points.length === 0) bad('points', 'a non-empty list of [atMs, priceMicro]', spec.points);
    let last = -1;
    for (const p of spec.points) {
      if (!Array.isArray(p) || p.length !== 2 || !Number.isSafeInteger(p[0]) || p[0] < 0 || p[0] <= last) bad('points', 'pairs [atMs, priceMicro] with strictly increasing integer atMs ≥ 0', p);
      if (!Number.isSafeInteger(p[1]) || p[1] <= 0) bad('points', 'pairs whose priceMicro is a positive integer', p);
      last = p[0];
    }
    return spec;
  }
  if (spec.kind !== 'gbm') bad('kind', '"gbm" or "series"', (spec as { kind: unknown }).kind);
  if (!Number.isSafeInteger(spec.startPriceMicro) || spec.startPriceMicro <= 0) bad('startPriceMicro', 'a positive integer', spec.startPriceMicro);
  if (!Number.isFinite(spec.driftPerHour) || Math.abs(spec.driftPerHour) > 100) bad('driftPerHour', 'a number in [-100, 100]', spec.driftPerHour);
  if (!Number.isFinite(spec.volatilityPerSqrtHour) || spec.volatilityPerSqrtHour < 0 || spec.volatilityPerSqrtHour > 100) bad('volatilityPerSqrtHour', 'a number in [0, 100]', spec.volatilityPerSqrtHour);
  if (!Number.isSafeInteger(spec.stepMs) || spec.stepMs < 10) bad('stepMs', 'an integer ≥ 10', spec.stepMs);
  const j = spec.jumpsPerHour ?? 0;
  if (!Number.isFinite(j) || j < 0 || j > 10_000) bad('jumpsPerHour', 'a number in [0, 10000]', j);
  if (!Number.isFinite(spec.jumpMeanLog ?? 0)) bad('jumpMeanLog', 'a number', spec.jumpMeanLog);
  if (!Number.isFinite(spec.jumpStdLog ?? 0) || (spec.jumpStdLog ?? 0) < 0) bad('jumpStdLog', 'a number ≥ 0', spec.jumpStdLog);
  return spec;
}

function normal(rng: Rng): number {
  // Box–Muller; 1 - next() keeps log's argument in (0, 1]
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  const l = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > l && k < 1_000) {
    k++;
    p *= rng.next();
  }
  return k;
}

/**
 * The oracle's price path over `[0, durationMs]`: the first point at 0, then one per step (GBM) or per series
 * point. Deterministic in `seed` (its own tagged stream, so it never shifts another agent's draws).
 * Prices are rounded to whole micro-USD and never below 1.
 * @example pricePath({ kind: 'gbm', startPriceMicro: 1e6, driftPerHour: 0, volatilityPerSqrtHour: 0.5, stepMs: 1000 }, { seed: 7, durationMs: 60_000 })
 */
export function pricePath(spec: PriceProcessSpec, opts: { seed: number | string; durationMs: number }): PricePoint[] {
  checkPriceProcess(spec);
  if (spec.kind === 'series') {
    return spec.points.filter(([t]) => t <= opts.durationMs).map(([atMs, p]) => ({ atMs, priceMicro: BigInt(p) }));
  }
  const rng = createTaggedRng('infermarket/oracle/v1', opts.seed, 'imt-price');
  const dtH = spec.stepMs / HOUR_MS;
  const sigma = spec.volatilityPerSqrtHour;
  const jumpsPerStep = (spec.jumpsPerHour ?? 0) * dtH;
  let logP = Math.log(spec.startPriceMicro);
  const out: PricePoint[] = [{ atMs: 0, priceMicro: BigInt(spec.startPriceMicro) }];
  for (let t = spec.stepMs; t <= opts.durationMs; t += spec.stepMs) {
    // driftPerHour is the expected log-return, so no Itô correction is added here
    logP += spec.driftPerHour * dtH + sigma * Math.sqrt(dtH) * normal(rng);
    const k = poisson(rng, jumpsPerStep);
    for (let i = 0; i < k; i++) logP += (spec.jumpMeanLog ?? 0) + (spec.jumpStdLog ?? 0) * normal(rng);
    out.push({ atMs: t, priceMicro: BigInt(Math.max(1, Math.round(Math.exp(logP)))) });
  }
  return out;
}

/**
 * Parse a price file: JSON `[[atMs, priceMicro], …]` or CSV lines `atMs,priceMicro` (a header line allowed).
 * @throws ERR_BAD_SCENARIO naming the line.
 */
export function parsePriceSeries(text: string): PriceProcessSpec {
  const t = text.trim();
  let points: [number, number][];
  if (t.startsWith('[')) {
    try {
      points = JSON.parse(t) as [number, number][];
    } catch (e) {
      throw new InfermarketError('ERR_BAD_SCENARIO', `price file is not valid JSON: ${(e as Error).message}`);
    }
  } else {
    points = [];
    const lines = t.split(/\r?\n/);
    lines.forEach((line, i) => {
      if (line.trim() === '' || (i === 0 && /[a-z]/i.test(line))) return;
      const [a, b, ...rest] = line.split(',').map((x) => x.trim());
      if (rest.length || !/^\d+$/.test(a ?? '') || !/^\d+$/.test(b ?? '')) {
        throw new InfermarketError('ERR_BAD_SCENARIO', `price file line ${i + 1} must be "atMs,priceMicro" (integers), got ${JSON.stringify(line)}`);
      }
      points.push([Number(a), Number(b)]);
    });
  }
  return checkPriceProcess({ kind: 'series', points });
}
