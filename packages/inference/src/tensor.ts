import { InferenceError } from './errors.js';
import type { IoSpec } from './manifest.js';

/**
 * A tensor at the runtime boundary. Structurally the same as `TensorData` in the protocol comparators,
 * so run outputs can be compared directly.
 */
export interface Tensor {
  dtype: 'float32' | 'int32';
  dims: number[];
  data: Float32Array | Int32Array;
}

/** Named inputs of one run, keyed by graph input name. */
export type ModelInput = Record<string, Tensor>;

/** Creates a float32 tensor. */
export function float32Tensor(data: ArrayLike<number>, dims: number[]): Tensor {
  return { dtype: 'float32', dims, data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

/** Creates an int32 tensor. */
export function int32Tensor(data: ArrayLike<number>, dims: number[]): Tensor {
  return { dtype: 'int32', dims, data: data instanceof Int32Array ? data : Int32Array.from(data) };
}

const fmt = (dtype: string, dims: readonly (number | string)[]): string => `${dtype} [${dims.join(', ')}]`;

/**
 * Checks inputs against the manifest spec; returns the batch size.
 * @throws InferenceError `ERR_BAD_INPUT` naming the expected and the received dtype/shape.
 */
export function validateInputs(model: string, specs: IoSpec[], input: ModelInput): number {
  if (input === null || typeof input !== 'object') {
    throw new InferenceError('ERR_BAD_INPUT', `${model}: input must be an object of named tensors (${specs.map((s) => s.name).join(', ')}), got ${String(input)}`);
  }
  for (const name of Object.keys(input)) {
    if (!specs.some((s) => s.name === name)) {
      throw new InferenceError('ERR_BAD_INPUT', `${model}: unknown input "${name}"; expected inputs: ${specs.map((s) => `"${s.name}" ${fmt(s.dtype, s.shape)}`).join(', ')}`);
    }
  }
  let batch: number | undefined;
  for (const spec of specs) {
    const t = input[spec.name];
    const expected = fmt(spec.dtype, spec.shape);
    if (!t) throw new InferenceError('ERR_BAD_INPUT', `${model}: missing input "${spec.name}"; expected ${expected}`);
    const dims = Array.isArray(t.dims) ? t.dims : [];
    const received = fmt(String(t.dtype), dims);
    const arrayOk = spec.dtype === 'float32' ? t.data instanceof Float32Array : t.data instanceof Int32Array;
    if (t.dtype !== spec.dtype || !arrayOk) {
      throw new InferenceError('ERR_BAD_INPUT', `${model}: input "${spec.name}" has the wrong dtype: expected ${expected}, received ${received}${arrayOk ? '' : ` (data is ${t.data?.constructor?.name ?? typeof t.data})`}`, {
        details: { expected: spec, received: { dtype: t.dtype, dims } },
      });
    }
    const shapeOk = dims.length === spec.shape.length && spec.shape.every((d, i) => {
      const v = dims[i];
      if (!Number.isInteger(v) || v! < 0) return false;
      return typeof d === 'number' ? d === v : true;
    });
    if (!shapeOk) {
      throw new InferenceError('ERR_BAD_INPUT', `${model}: input "${spec.name}" has the wrong shape: expected ${expected}, received ${received}`, {
        details: { expected: spec, received: { dtype: t.dtype, dims } },
      });
    }
    const size = dims.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) {
      throw new InferenceError('ERR_BAD_INPUT', `${model}: input "${spec.name}" ${received} needs ${size} elements, received ${t.data.length}`);
    }
    if (spec.range) {
      const [lo, hi] = spec.range;
      for (let i = 0; i < t.data.length; i++) {
        const v = t.data[i]!;
        if (!(v >= lo && v <= hi)) {
          throw new InferenceError('ERR_BAD_INPUT', `${model}: input "${spec.name}"[${i}] must be in ${lo}..${hi}, received ${v}`);
        }
      }
    }
    const b = dims[0]!;
    if (batch !== undefined && b !== batch) {
      throw new InferenceError('ERR_BAD_INPUT', `${model}: inputs disagree on the batch size: expected ${batch} for "${spec.name}", received ${b}`);
    }
    batch = b;
    if (b === 0) throw new InferenceError('ERR_BAD_INPUT', `${model}: input "${spec.name}" has an empty batch; expected ${expected} with batch >= 1`);
  }
  return batch ?? 0;
}

/** Concatenates tensors along dim 0. */
export function concatBatch(tensors: Tensor[]): Tensor {
  const first = tensors[0]!;
  const total = tensors.reduce((n, t) => n + t.data.length, 0);
  const data = first.dtype === 'float32' ? new Float32Array(total) : new Int32Array(total);
  let off = 0;
  for (const t of tensors) {
    data.set(t.data, off);
    off += t.data.length;
  }
  return { dtype: first.dtype, dims: [tensors.reduce((n, t) => n + t.dims[0]!, 0), ...first.dims.slice(1)], data };
}

/** Row `i..i+n` of a tensor along dim 0 (a copy). */
export function sliceBatch(t: Tensor, start: number, count: number): Tensor {
  const row = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return { dtype: t.dtype, dims: [count, ...t.dims.slice(1)], data: t.data.slice(start * row, (start + count) * row) };
}
