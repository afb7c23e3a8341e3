import { createRng } from './rng.js';

/** One run's observation: the swept value, the measured rate (0..1) and the seed it belongs to. */
export interface RateObservation {
  x: number;
  y: number;
  /** Runs with the same seed index share their random numbers across points: the bootstrap resamples whole seeds. */
  seed: number | string;
}

export interface ThresholdFitOptions {
  observations: readonly RateObservation[];
  /** Fit against x or log(x) (thresholds swept as multiples of a guess are best fitted on log). Default linear. */
  scale?: 'linear' | 'log';
  /** The rate whose crossing is the threshold. Default ½. */
  level?: number;
  /** Bootstrap resamples over seeds. Default 1000. */
  resamples?: number;
  /** Seed of the bootstrap's generator (recorded in the output). Default 1. */
  bootstrapSeed?: number;
}

/** The measured threshold: where the fitted rate crosses `level`, with a bootstrap 95% CI over seeds; null with a reason when undefined. */
export interface ThresholdEstimate {
  threshold: number | null;
  reason: string | null;
  ci95: { lo: number; hi: number } | null;
  ciReason: string | null;
  /** rate = 1 / (1 + exp(−(intercept + slope·t))), t = x or log(x). */
  fit: { intercept: number; slope: number; scale: 'linear' | 'log' } | null;
  level: number;
  runs: number;
  seeds: number;
  range: { lo: number; hi: number } | null;
  bootstrap: { resamples: number; failed: number; seed: number };
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/**
 * Logistic fit of rates y ∈ [0, 1] on t by quasi-binomial maximum likelihood (Newton with step halving; a
 * tiny ridge on the slope keeps it finite when the data separate). Returns null when it cannot be fitted.
 */
export function fitLogistic(ts: readonly number[], ys: readonly number[]): { intercept: number; slope: number } | null {
  const n = ts.length;
  if (n < 2) return null;
  const mean = ts.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(ts.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  if (!(sd > 0)) return null;
  const zs = ts.map((t) => (t - mean) / sd);
  const ridge = 1e-4 * n;
  const objective = (a: number, b: number): number => {
    let ll = 0;
    for (let i = 0; i < n; i++) {
      const m = Math.min(1 - 1e-12, Math.max(1e-12, sigmoid(a + b * zs[i]!)));
      ll += ys[i]! * Math.log(m) + (1 - ys[i]!) * Math.log(1 - m);
    }
    return ll - 0.5 * ridge * b * b;
  };
  let a = 0;
  let b = 0;
  let f = objective(a, b);
  for (let it = 0; it < 200; it++) {
    let ga = 0;
    let gb = -ridge * b;
    let haa = 0;
    let hab = 0;
    let hbb = ridge;
    for (let i = 0; i < n; i++) {
      const m = sigmoid(a + b * zs[i]!);
      const r = ys[i]! - m;
      const w = Math.max(m * (1 - m), 1e-12);
      ga += r;
      gb += r * zs[i]!;
      haa += w;
      hab += w * zs[i]!;
      hbb += w * zs[i]! * zs[i]!;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) return null;
    let da = (hbb * ga - hab * gb) / det;
    let db = (haa * gb - hab * ga) / det;
    let step = 1;
    let next = objective(a + da, b + db);
    while (next < f - 1e-12 && step > 1e-6) {
      step /= 2;
      next = objective(a + step * da, b + step * db);
    }
    da *= step;
    db *= step;
    a += da;
    b += db;
    const done = Math.abs(next - f) < 1e-12 && Math.abs(da) + Math.abs(db) < 1e-9;
    f = next;
    if (done) break;
  }
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
  // back from the standardised scale: a + b·(t − mean)/sd
  return { intercept: a - (b * mean) / sd, slope: b / sd };
}

function crossing(obs: readonly RateObservation[], scale: 'linear' | 'log', level: number): { x: number | null; reason: string | null; fit: { intercept: number; slope: number } | null } {
  const ts = obs.map((o) => (scale === 'log' ? Math.log(o.x) : o.x));
  const fit = fitLogistic(ts, obs.map((o) => o.y));
  if (!fit) return { x: null, reason: 'the logistic fit failed (fewer than two distinct swept values)', fit: null };
  if (!(fit.slope < 0)) return { x: null, reason: 'the fitted rate does not fall as the swept value grows', fit };
  const t = (Math.log(level / (1 - level)) - fit.intercept) / fit.slope;
  const x = scale === 'log' ? Math.exp(t) : t;
  const lo = Math.min(...obs.map((o) => o.x));
  const hi = Math.max(...obs.map((o) => o.x));
  if (!(x >= lo && x <= hi)) return { x: null, reason: `the fitted crossing (${Number(x.toPrecision(4))}) lies outside the swept range [${lo}, ${hi}]`, fit };
  return { x, reason: null, fit };
}

/**
 * The threshold as the point where the rate (e.g. adaptive miners' cheat rate) crosses `level` (½), from a
 * logistic fit over per-run rates against the swept value, with a percentile bootstrap 95% CI that
 * resamples whole seeds (each seed is one run at every point). Deterministic: the bootstrap is seeded.
 * Observations with a non-finite rate must be filtered out by the caller (they have no data, not a zero).
 */
export function estimateThreshold(options: ThresholdFitOptions): ThresholdEstimate {
  const scale = options.scale ?? 'linear';
  const level = options.level ?? 0.5;
  const resamples = options.resamples ?? 1000;
  const bootstrapSeed = options.bootstrapSeed ?? 1;
  const obs = options.observations.filter((o) => Number.isFinite(o.x) && Number.isFinite(o.y) && (scale === 'linear' || o.x > 0));
  const bySeed = new Map<string, RateObservation[]>();
  for (const o of obs) {
    const k = String(o.seed);
    const list = bySeed.get(k);
    if (list) list.push(o);
    else bySeed.set(k, [o]);
  }
  const seeds = [...bySeed.keys()];
  const base = {
    level,
    runs: obs.length,
    seeds: seeds.length,
    range: obs.length ? { lo: Math.min(...obs.map((o) => o.x)), hi: Math.max(...obs.map((o) => o.x)) } : null,
    bootstrap: { resamples: 0, failed: 0, seed: bootstrapSeed },
  };
  if (obs.length === 0) return { ...base, threshold: null, reason: 'no run has data for this rate', ci95: null, ciReason: 'no data', fit: null };
  const point = crossing(obs, scale, level);
  const fit = point.fit ? { ...point.fit, scale } : null;
  if (seeds.length < 2) return { ...base, threshold: point.x, reason: point.reason, ci95: null, ciReason: 'one seed: nothing to resample', fit };
  const rng = createRng(bootstrapSeed);
  const xs: number[] = [];
  let failed = 0;
  for (let b = 0; b < resamples; b++) {
    const sample: RateObservation[] = [];
    for (let i = 0; i < seeds.length; i++) sample.push(...bySeed.get(seeds[rng.int(seeds.length)]!)!);
    const c = crossing(sample, scale, level);
    if (c.x === null) failed++;
    else xs.push(c.x);
  }
  xs.sort((a, b) => a - b);
  const bootstrap = { resamples, failed, seed: bootstrapSeed };
  // a resample without a crossing in range has no value to rank; more than 5 % of them leave a bound undefined
  if (failed > 0.05 * resamples || xs.length === 0) {
    return { ...base, bootstrap, threshold: point.x, reason: point.reason, ci95: null, ciReason: `${failed} of ${resamples} bootstrap resamples had no crossing in the swept range`, fit };
  }
  const q = (p: number): number => xs[Math.min(xs.length - 1, Math.max(0, Math.round(p * (xs.length - 1))))]!;
  return { ...base, bootstrap, threshold: point.x, reason: point.reason, ci95: { lo: q(0.025), hi: q(0.975) }, ciReason: null, fit };
}
