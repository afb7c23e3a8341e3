import { compareSampledTokens, parseComparatorSpec, type SampledStep, type SampledTokensResult } from './comparators.js';
import { InfermarketError } from './errors.js';
import type { JobInput, JobOutput } from './wire.js';

/**
 * Defaults of the sampled-generation re-check (docs/verification.md, "Sampled generation near a sampling
 * boundary"). The logit tolerance itself is not here: it is the model variant's calibrated comparator
 * tolerance from the manifest (`argmax-maxabs` on logits, 1e-4, docs/models.md).
 */
export const SAMPLED_RECHECK_DEFAULTS = Object.freeze({
  /** Most near-boundary tokens accepted in one job. */
  maxFlagged: 2,
});

/**
 * Is a teacher-forced re-check due? Only for a sampled generation (a prompt job with temperature > 0) whose
 * blind re-execution (`blind`, the validator's committed output) differs from the miner's (`mined`) while both
 * have the asked length: an honest miner on other hardware can flip a draw that sits near a sampling boundary,
 * after which the two generations continue from different histories and only re-running on the miner's tokens
 * can tell an honest flip from a cheat.
 */
export function sampledRecheckDue(input: JobInput | undefined, mined: JobOutput | undefined, blind: JobOutput | undefined): boolean {
  if (!input || input.kind !== 'prompt' || !(input.temperature > 0)) return false;
  if (!mined || !blind || mined.kind !== 'tokens' || blind.kind !== 'tokens') return false;
  if (mined.tokens.length !== input.maxTokens || blind.tokens.length !== input.maxTokens) return false;
  return mined.tokens.some((t, i) => t !== blind.tokens[i]);
}

/**
 * The logit tolerance of a variant's comparator spec: the `tolerance` of an `argmax-maxabs`
 * comparator (the calibrated honest logit divergence across CPUs and variants).
 * @throws InfermarketError `ERR_BAD_COMPARATOR` when the spec has no logit tolerance (never a silent default).
 */
export function logitToleranceOf(comparator: unknown): number {
  const spec = parseComparatorSpec(comparator ?? { kind: 'exact' });
  if (spec.kind === 'argmax-maxabs' && spec.tolerance > 0) return spec.tolerance;
  throw new InfermarketError('ERR_BAD_COMPARATOR', `"comparator" must be "argmax-maxabs" with a tolerance > 0 to re-check sampled generation near a sampling boundary, got ${JSON.stringify(comparator)}`, {
    details: { field: 'comparator' },
  });
}

/**
 * Re-check a sampled generation: `steps` are the validator's teacher-forced logits and draws on the miner's
 * tokens (`forcedSteps`), compared by `compareSampledTokens` with the calibrated tolerance. Near-boundary
 * tokens are accepted and listed in `flagged`.
 */
export function recheckSampledTokens(input: Extract<JobInput, { kind: 'prompt' }>, comparator: unknown, steps: readonly SampledStep[], mined: readonly number[], maxFlagged: number = SAMPLED_RECHECK_DEFAULTS.maxFlagged): SampledTokensResult {
  return compareSampledTokens({ temperature: input.temperature, logitTolerance: logitToleranceOf(comparator), maxFlagged }, steps, mined);
}
