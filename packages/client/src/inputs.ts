import type { JobInput, WireTensor } from '@infermarket/protocol';
import type { Rng } from './prng.js';

/** A float32 tensor in wire form (little-endian bytes, base64). */
export function float32Tensor(values: Float32Array, dims: number[]): WireTensor {
  return { dtype: 'float32', dims, data: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64') };
}

/** The float32 values of a wire tensor. */
export function tensorValues(t: WireTensor): Float32Array | Int32Array {
  const buf = Buffer.from(t.data, 'base64');
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return t.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
}

/**
 * One batch input of the rows of `inputs` (tensor inputs of one dtype and row shape), stacked along the first
 * dim in order: what a batch job carries.
 * @throws Error when the inputs are not tensors of one dtype and row shape.
 */
export function stackRows(inputs: readonly JobInput[]): JobInput {
  const ts = inputs.map((x) => {
    if (x.kind !== 'tensor') throw new Error(`a batch stacks tensor inputs, got "${x.kind}"`);
    return x.tensor;
  });
  const first = ts[0];
  if (!first) throw new Error('a batch needs at least one row');
  const rowDims = first.dims.slice(1).join(',');
  let rows = 0;
  const parts: Buffer[] = [];
  for (const t of ts) {
    if (t.dtype !== first.dtype || t.dims.slice(1).join(',') !== rowDims) throw new Error(`rows of a batch must share dtype and row shape: ${first.dtype} [${rowDims}] vs ${t.dtype} [${t.dims.slice(1).join(',')}]`);
    rows += t.dims[0] ?? 1;
    parts.push(Buffer.from(t.data, 'base64'));
  }
  return { kind: 'tensor', tensor: { dtype: first.dtype, dims: [rows, ...first.dims.slice(1)], data: Buffer.concat(parts).toString('base64') } };
}

const PROMPTS = ['The market ', 'A miner ', 'Once upon a time ', 'The validator ', 'In the beginning ', 'Tokens ', 'We ', 'It was '];

/**
 * A seeded job input for a model when no sample set is at hand: a 28×28 stroke-like image for `digits`
 * (values in [0,1], shape [1,784]) and a short prompt for `charlm`.
 */
export function syntheticInput(model: string, rng: Rng, opts: { maxTokens?: number } = {}): JobInput {
  if (model === 'charlm') {
    return { kind: 'prompt', prompt: PROMPTS[rng.int(PROMPTS.length)]!, maxTokens: opts.maxTokens ?? 16, temperature: 0, seed: rng.int(1_000_000) };
  }
  const px = new Float32Array(784);
  // a random thick line: gives the classifier a confident, non-uniform input
  const x0 = 6 + rng.int(16), y0 = 4, x1 = 6 + rng.int(16), y1 = 24;
  for (let s = 0; s <= 40; s++) {
    const x = Math.round(x0 + ((x1 - x0) * s) / 40), y = Math.round(y0 + ((y1 - y0) * s) / 40);
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) {
      const xx = x + dx, yy = y + dy;
      if (xx >= 0 && xx < 28 && yy >= 0 && yy < 28) px[yy * 28 + xx] = 1;
    }
  }
  return { kind: 'tensor', tensor: float32Tensor(px, [1, 784]) };
}
