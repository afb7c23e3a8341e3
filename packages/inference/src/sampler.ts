import type { Prng } from './prng.js';

/** One sampled token and how far its draw landed from the nearest sampling boundary. */
export interface SampledToken {
  id: number;
  /**
   * Distance of the draw `u` (in probability, 0..1) to the nearest edge of the chosen token's CDF
   * interval; a logit perturbation that moves the CDF by less than this cannot change the token.
   * `Infinity` for greedy picks without a tie.
   */
  margin: number;
}

/**
 * Picks the next token from logits. `temperature <= 0` is greedy (argmax; lowest id on ties);
 * otherwise softmax(logits / temperature) in float64 and one uniform draw from `rng`
 * (inverse CDF in id order), so the same logits and seed give the same token.
 */
export function sampleToken(logits: ArrayLike<number>, temperature: number, rng: Prng): number {
  return sampleTokenWithMargin(logits, temperature, rng).id;
}

/**
 * {@link sampleToken} plus the boundary margin of the draw (for cross-CPU calibration of sampled
 * generation). Greedy: the margin is the gap between the best and second-best logit, in logits.
 */
export function sampleTokenWithMargin(logits: ArrayLike<number>, temperature: number, rng: Prng): SampledToken {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (!(temperature > 0)) {
    let second = -Infinity;
    for (let i = 0; i < logits.length; i++) if (i !== best && logits[i]! > second) second = logits[i]!;
    return { id: best, margin: logits[best]! - second };
  }
  const mx = logits[best]!;
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i]! - mx) / temperature);
  const u0 = rng.next() * sum;
  let u = u0;
  for (let i = 0; i < p.length; i++) {
    const before = u;
    u -= p[i]!;
    if (u < 0) return { id: i, margin: Math.min(before, -u) / sum };
  }
  return { id: p.length - 1, margin: 0 };
}
