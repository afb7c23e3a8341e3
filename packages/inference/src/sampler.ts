import type { Prng } from './prng.js';

/**
 * Picks the next token from logits. `temperature <= 0` is greedy (argmax; lowest id on ties);
 * otherwise softmax(logits / temperature) in float64 and one uniform draw from `rng`
 * (inverse CDF in id order), so the same logits and seed give the same token.
 */
export function sampleToken(logits: ArrayLike<number>, temperature: number, rng: Prng): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (!(temperature > 0)) return best;
  const mx = logits[best]!;
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i]! - mx) / temperature);
  let u = rng.next() * sum;
  for (let i = 0; i < p.length; i++) {
    u -= p[i]!;
    if (u < 0) return i;
  }
  return p.length - 1;
}
