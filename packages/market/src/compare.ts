import * as protocol from '@infermarket/protocol';
import type { JobOutput } from '@infermarket/protocol';
import type { ModelSpec } from './models.js';

type CompareFn = (spec: unknown, a: JobOutput, b: JobOutput) => unknown;

/**
 * Does a validator's re-execution agree with the miner's output, by the model's comparator?
 * Uses the protocol's `compareOutputs` when it is exported; until then, equal hashes, or for float32
 * tensors under an `argmax-maxabs` comparator, the same argmax per row and max |a-b| within tolerance.
 */
export function outputsAgree(spec: ModelSpec | undefined, miner: JobOutput, other: JobOutput): boolean {
  const comparatorSpec = miner.kind === 'tokens' ? (spec?.generationComparator ?? { kind: 'tokens' }) : (spec?.comparator ?? { kind: 'exact' });
  const fn = (protocol as unknown as Record<string, unknown>).compareOutputs as CompareFn | undefined;
  if (typeof fn === 'function') {
    const r = fn(comparatorSpec, miner, other);
    if (typeof r === 'boolean') return r;
    if (r && typeof r === 'object' && typeof (r as { match?: unknown }).match === 'boolean') return (r as { match: boolean }).match;
  }
  if (protocol.hashPayload(miner) === protocol.hashPayload(other)) return true;
  if (miner.kind === 'tensor' && other.kind === 'tensor' && comparatorSpec.kind === 'argmax-maxabs') {
    return argmaxMaxAbs(miner, other, Number(comparatorSpec.tolerance ?? 0));
  }
  return false;
}

function floats(t: { dtype: string; dims: number[]; data: string }): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const b = Buffer.from(t.data, 'base64');
  if (b.length % 4) return null;
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function argmaxMaxAbs(a: Extract<JobOutput, { kind: 'tensor' }>, b: Extract<JobOutput, { kind: 'tensor' }>, tol: number): boolean {
  if (a.tensor.dims.join(',') !== b.tensor.dims.join(',')) return false;
  const x = floats(a.tensor);
  const y = floats(b.tensor);
  if (!x || !y || x.length !== y.length) return false;
  const row = a.tensor.dims[a.tensor.dims.length - 1] ?? x.length;
  for (let r = 0; r < x.length; r += row) {
    let ax = r;
    let ay = r;
    for (let i = r; i < r + row; i++) {
      if (!(Math.abs(x[i]! - y[i]!) <= tol)) return false;
      if (x[i]! > x[ax]!) ax = i;
      if (y[i]! > y[ay]!) ay = i;
    }
    if (ax !== ay) return false;
  }
  return true;
}
