import { compareOutputs, hashPayload, parseComparatorSpec, type ComparatorSpec, type JobOutput } from '@infermarket/protocol';
import type { ModelSpec } from './models.js';

/**
 * Does a validator's re-execution agree with the miner's output, by the model's comparator (from the
 * manifest, for the variant the miner claimed when it has its own: `generationComparator` for generated
 * tokens, `comparator` for tensors)? Sealed outputs and models without a usable comparator fall back to
 * equal hashes.
 */
export function outputsAgree(spec: ModelSpec | undefined, miner: JobOutput, other: JobOutput, variant?: string | null): boolean {
  if (miner.kind === 'sealed' || other.kind === 'sealed') return hashPayload(miner) === hashPayload(other);
  const c = (variant && spec?.variantComparators?.[variant]) || spec;
  let comparator: ComparatorSpec;
  try {
    comparator = parseComparatorSpec(miner.kind === 'tokens' ? (c?.generationComparator ?? { kind: 'tokens' }) : (c?.comparator ?? { kind: 'exact' }));
  } catch {
    return hashPayload(miner) === hashPayload(other);
  }
  return compareOutputs(comparator, miner, other).match;
}

/** The comparators a validator applies itself to a private job (the market never sees its plaintext). */
export function comparatorsFor(spec: ModelSpec | undefined, variant?: string | null): { comparator: unknown; generationComparator: unknown } {
  const c = (variant && spec?.variantComparators?.[variant]) || spec;
  return { comparator: c?.comparator ?? { kind: 'exact' }, generationComparator: c?.generationComparator ?? { kind: 'tokens' } };
}
