import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { InferenceError } from './errors.js';
import type { Variant } from './graph-builder.js';
import type { Manifest, ModelEntry, ModelId } from './manifest.js';
import { extractSegment } from './onnx-extract.js';
import { DEFAULT_MODELS_DIR } from './paths.js';
import { readVerifiedModel } from './runtime.js';
import type { Tensor } from './tensor.js';

/**
 * Layer segments for the bisection game (issue #15): the hash a miner commits for a layer-boundary tensor, and
 * one layer of an MLP model run on its own, as a referee re-executes it from the miner's boundary.
 *
 * A segment is cut out of the model's own sha256-checked file (`extractSegment`): the nodes between boundary
 * `k-1` (the model input for `k = 1`) and boundary `k` (the primary output for `k = L`), so its arithmetic —
 * quantization included — is the model's own in every variant. Single-input models only (digits, heavy);
 * charlm's recurrent state is a second input.
 */

const utf8 = new TextEncoder();

/**
 * sha256 (hex) of a boundary tensor: dtype, dims and the little-endian element bytes, so the same values in
 * another shape never hash alike. This is the leaf a miner commits for boundaries 1..L-1 of its trace.
 */
export function tensorHash(t: Tensor): string {
  return boundaryHash(t.dtype, t.dims, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/**
 * `tensorHash` of a tensor as it travels on the wire (base64 little-endian bytes): what the market checks a
 * relayed boundary tensor against before it reaches the challenger or a referee.
 */
export function wireTensorHash(t: { dtype: string; dims: readonly number[]; data: string }): string {
  const b = Buffer.from(t.data, 'base64');
  return boundaryHash(t.dtype, t.dims, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

// sha256 over `dtype[dims]`, a 0x00 separator and the element bytes (OpenSSL's, without copying the tensor)
function boundaryHash(dtype: string, dims: readonly number[], body: Uint8Array): string {
  return createHash('sha256').update(utf8.encode(`${dtype}[${dims.join(',')}]`)).update(SEPARATOR).update(body).digest('hex');
}
const SEPARATOR = new Uint8Array([0x00]);

/**
 * The boundary hashes a miner commits with its result: the job's input hash, each hidden boundary's
 * `tensorHash` in the manifest's `layerBoundaries` order, the job's output hash. Feed it to the protocol's
 * `traceRoot`.
 */
export function traceBoundaryHashes(opts: { inputHash: string; outputHash: string; boundaries: readonly Tensor[] }): string[] {
  return [opts.inputHash, ...opts.boundaries.map(tensorHash), opts.outputHash];
}

/** Runs layers of one model variant alone; sessions are cached per layer. */
export interface SegmentRunner {
  layers: number;
  /** Re-execute layer `layer` on the tensor at boundary `layer - 1`; returns boundary `layer`. */
  run(layer: number, input: Tensor): Promise<Tensor>;
  /** Cut layer `layer` out of the model and create its session now (otherwise its first `run` does). */
  load(layer: number): Promise<void>;
}

/**
 * A runner for the one-layer segments of `model`/`variant`, cut from its verified file (CPU, `threads`
 * intra-op threads, the manifest's graph optimisation level).
 * @throws InferenceError `ERR_MODEL_TAMPERED` if the file does not match the manifest, `ERR_VALIDATION` for a multi-input model.
 * @example const seg = createSegmentRunner({ manifest, model: 'heavy', variant: 'int8' }); await seg.run(2, h1);
 */
export function createSegmentRunner(opts: { manifest: Manifest; model: ModelId; variant: Variant; modelsDir?: string; threads?: number }): SegmentRunner {
  const entry = opts.manifest.models[opts.model];
  if (!entry) throw new InferenceError('ERR_UNKNOWN_MODEL', `unknown model "${opts.model}"`);
  const names = segmentBoundaries(entry);
  const { bytes } = readVerifiedModel(opts.modelsDir ?? DEFAULT_MODELS_DIR, opts.manifest, opts.model, opts.variant);
  const sessions = new Map<number, Promise<ort.InferenceSession>>();
  const session = (layer: number): Promise<ort.InferenceSession> => {
    let s = sessions.get(layer);
    if (!s) {
      const seg = extractSegment(bytes, { input: names[layer - 1]!, output: names[layer]!, name: `${opts.model}.${opts.variant}.layer${layer}` });
      s = ort.InferenceSession.create(seg, {
        graphOptimizationLevel: entry.sessionOptions.graphOptimizationLevel,
        intraOpNumThreads: opts.threads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        executionProviders: ['cpu'],
        logSeverityLevel: 3,
      });
      sessions.set(layer, s);
    }
    return s;
  };
  const checkLayer = (layer: number): void => {
    if (!Number.isInteger(layer) || layer < 1 || layer >= names.length) {
      throw new InferenceError('ERR_VALIDATION', `"layer" must be an integer in 1..${names.length - 1}, got ${JSON.stringify(layer)}`);
    }
  };
  return {
    layers: names.length - 1,
    async load(layer) {
      checkLayer(layer);
      await session(layer);
    },
    async run(layer, input) {
      checkLayer(layer);
      if (input.dtype !== 'float32') throw new InferenceError('ERR_BAD_INPUT', `layer ${layer} takes a float32 tensor, got ${input.dtype}`);
      const out = await (await session(layer)).run({ [names[layer - 1]!]: new ort.Tensor('float32', input.data as Float32Array, input.dims) });
      const y = out[names[layer]!]!;
      return { dtype: 'float32', dims: [...y.dims], data: y.data as Float32Array };
    },
  };
}

/**
 * The boundary tensor names of a model's trace, 0..L: its input, its `layerBoundaries`, its primary output.
 * Only single-input models have a layer trace (charlm's recurrent state is a second input).
 * @throws InferenceError `ERR_VALIDATION` for a model with more than one input.
 */
export function segmentBoundaries(entry: ModelEntry): string[] {
  if (entry.inputs.length !== 1) {
    throw new InferenceError('ERR_VALIDATION', `a layer trace needs a single-input model; this one takes ${entry.inputs.map((i) => i.name).join(', ')}`);
  }
  return [entry.inputs[0]!.name, ...entry.layerBoundaries, entry.primaryOutput];
}
