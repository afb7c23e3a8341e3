import { compareOutputs, parseComparatorSpec } from '@infermarket/protocol';
import type { Variant } from './graph-builder.js';
import { layerToleranceOf } from './layer-tolerances.js';
import type { Manifest, ModelId } from './manifest.js';
import type { SegmentRunner } from './segments.js';
import type { Tensor } from './tensor.js';

/**
 * What the parties of a bisection game decide over real tensors (issue #15), written once for the live miner,
 * validator and referee to call. The rules (`@infermarket/protocol` bisection.ts) see only hashes and answers.
 *
 * Boundary comparison: a hidden boundary (1..L-1) is compared by max|Δ| within that boundary's own tolerance,
 * calibrated from measured honest divergence and recorded in the manifest (`variants.<v>.layerTolerances`,
 * `infermarket models calibrate --layers`; an argmax over a row of hidden activations means nothing, and ReLU's
 * zeros tie); the output boundary L by the model's own comparator.
 */

/**
 * Do two tensors at boundary `index` of an `layers`-layer trace agree under that boundary's comparison?
 * @throws InferenceError `ERR_VALIDATION` when the manifest records no tolerance for hidden boundary `index` of the model/variant.
 */
export function boundariesAgree(opts: { manifest: Manifest; model: ModelId; variant: Variant; index: number; layers: number; a: Tensor; b: Tensor }): boolean {
  const { a, b } = opts;
  const tol = opts.index === opts.layers ? 0 : layerToleranceOf(opts.manifest, opts.model, opts.variant, opts.index); // fails loud before any shape check
  if (a.dtype !== b.dtype || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i]) || a.data.length !== b.data.length) return false;
  if (opts.index === opts.layers) {
    const spec = parseComparatorSpec(opts.manifest.models[opts.model].variants[opts.variant].comparator);
    return compareOutputs(spec, a, b).match;
  }
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    if (!(d <= tol)) return false; // NaN never agrees
  }
  return true;
}

/**
 * The referee's vote on segment `fromIndex → toIndex` (one layer): re-execute it from the miner's boundary
 * `fromIndex` and compare with the miner's boundary `toIndex`.
 */
export async function refereeVote(opts: {
  manifest: Manifest;
  model: ModelId;
  variant: Variant;
  runner: SegmentRunner;
  fromIndex: number;
  toIndex: number;
  from: Tensor;
  claimed: Tensor;
}): Promise<boolean> {
  let x = opts.from;
  for (let k = opts.fromIndex + 1; k <= opts.toIndex; k++) x = await opts.runner.run(k, x);
  return boundariesAgree({ manifest: opts.manifest, model: opts.model, variant: opts.variant, index: opts.toIndex, layers: opts.runner.layers, a: x, b: opts.claimed });
}
