import { compareOutputs, parseComparatorSpec } from '@infermarket/protocol';
import type { Variant } from './graph-builder.js';
import type { Manifest, ModelId } from './manifest.js';
import type { SegmentRunner } from './segments.js';
import type { Tensor } from './tensor.js';

/**
 * What the parties of a bisection game decide over real tensors (issue #15), written once for the live miner,
 * validator and referee to call. The rules (`@infermarket/protocol` bisection.ts) see only hashes and answers.
 *
 * Boundary comparison: a hidden boundary (1..L-1) is compared by max|Δ| within the variant's comparator tolerance
 * (an argmax over a row of hidden activations means nothing, and ReLU's zeros tie); the output boundary L by
 * the model's own comparator. Per-layer tolerances are the model's tolerance: the measured honest divergence of
 * a layer re-executed alone is 0 in every variant of digits and heavy (docs/verification.md); a per-layer
 * calibration in the manifest is not done.
 */

function toleranceOf(manifest: Manifest, model: ModelId, variant: Variant): number {
  const c = manifest.models[model].variants[variant].comparator;
  return 'tolerance' in c && typeof c.tolerance === 'number' ? c.tolerance : 0;
}

/** Do two tensors at boundary `index` of an `layers`-layer trace agree under that boundary's comparison? */
export function boundariesAgree(opts: { manifest: Manifest; model: ModelId; variant: Variant; index: number; layers: number; a: Tensor; b: Tensor }): boolean {
  const { a, b } = opts;
  if (a.dtype !== b.dtype || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i]) || a.data.length !== b.data.length) return false;
  if (opts.index === opts.layers) {
    const spec = parseComparatorSpec(opts.manifest.models[opts.model].variants[opts.variant].comparator);
    return compareOutputs(spec, a, b).match;
  }
  const tol = toleranceOf(opts.manifest, opts.model, opts.variant);
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
