import { compareJobOutputs, compareSampledRows, hashPayload, type JobOutput } from '@infermarket/protocol';
import type { ModelSpec } from './models.js';

/**
 * Does a validator's re-execution agree with the miner's output, by the model's comparator (from the
 * manifest, for the variant the miner claimed when it has its own)? The comparison is the protocol's
 * `compareJobOutputs`, the one the validator and the testnet use. Sealed outputs (which the market
 * cannot open) agree when their hashes are equal.
 * A batch job audited on a sample of its rows (`rows`, the job's `auditRows`): `other` holds those rows only, and
 * the comparator is applied row by row to the miner's same rows (`compareSampledRows`); one bad row disagrees.
 * @throws InfermarketError `ERR_BAD_COMPARATOR` when the model's comparator spec is malformed (never a
 *   fallback to hash equality, which would slash honest float variance).
 */
export function outputsAgree(spec: ModelSpec | undefined, miner: JobOutput, other: JobOutput, variant?: string | null, rows?: readonly number[]): boolean {
  if (miner.kind === 'sealed' || other.kind === 'sealed') return hashPayload(miner) === hashPayload(other);
  if (rows) return compareSampledRows(comparatorsFor(spec, variant), miner, other, rows).match;
  return compareJobOutputs(comparatorsFor(spec, variant), miner, other).match;
}

/** The comparators a validator applies itself to a private job (the market never sees its plaintext). */
export function comparatorsFor(spec: ModelSpec | undefined, variant?: string | null): { comparator: unknown; generationComparator: unknown } {
  const c = (variant && spec?.variantComparators?.[variant]) || spec;
  return { comparator: c?.comparator ?? { kind: 'exact' }, generationComparator: c?.generationComparator ?? { kind: 'tokens' } };
}
