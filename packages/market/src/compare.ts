import { compareOutputs, hashPayload, parseComparatorSpec, type ComparatorSpec, type JobOutput } from '@infermarket/protocol';
import type { ModelSpec } from './models.js';

/**
 * Does a validator's re-execution agree with the miner's output, by the model's comparator (from the
 * manifest: `generationComparator` for generated tokens, `comparator` for tensors)? Sealed outputs and
 * models without a usable comparator fall back to equal hashes.
 */
export function outputsAgree(spec: ModelSpec | undefined, miner: JobOutput, other: JobOutput): boolean {
  if (miner.kind === 'sealed' || other.kind === 'sealed') return hashPayload(miner) === hashPayload(other);
  let comparator: ComparatorSpec;
  try {
    comparator = parseComparatorSpec(miner.kind === 'tokens' ? (spec?.generationComparator ?? { kind: 'tokens' }) : (spec?.comparator ?? { kind: 'exact' }));
  } catch {
    return hashPayload(miner) === hashPayload(other);
  }
  return compareOutputs(comparator, miner, other).match;
}
