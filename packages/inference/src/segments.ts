import { hashHex } from '@infermarket/protocol';
import * as ort from 'onnxruntime-node';
import { heavyLayers } from './build-models.js';
import { InferenceError } from './errors.js';
import { GraphBuilder, type Variant } from './graph-builder.js';
import type { Manifest } from './manifest.js';
import type { DenseLayer } from './mlp-graph.js';
import { OnnxDataType } from './onnx-writer.js';
import type { Tensor } from './tensor.js';

/**
 * Layer segments for the bisection game (issue #15): the hash a miner commits for a layer-boundary tensor, and
 * one layer of an MLP model run on its own, as a referee re-executes it from the miner's boundary.
 *
 * A segment graph is the full model's layer `k` with the same `linear()` (so the same quantization of its
 * weights in every variant) and the same ReLU after it (all but the last layer); its input is boundary `k-1`
 * (`h{k-1}`, or the model input for `k = 1`) and its output boundary `k` (`h{k}`, or the model output).
 * Only `heavy` is supported here: its weights come from its build seed. `digits` (trained weights that live
 * only in its ONNX files) needs segment files written by the build — not done yet (see docs/verification.md).
 */

const utf8 = new TextEncoder();

/**
 * sha256 (hex) of a boundary tensor: dtype, dims and the little-endian element bytes, so the same values in
 * another shape never hash alike. This is the leaf a miner commits for boundaries 1..L-1 of its trace.
 */
export function tensorHash(t: Tensor): string {
  const head = utf8.encode(`${t.dtype}[${t.dims.join(',')}]`);
  const body = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const buf = new Uint8Array(head.length + 1 + body.length);
  buf.set(head, 0);
  buf[head.length] = 0x00;
  buf.set(body, head.length + 1);
  return hashHex(buf);
}

/**
 * The boundary hashes a miner commits with its result: the job's input hash, each hidden boundary's
 * `tensorHash` in the manifest's `layerBoundaries` order, the job's output hash. Feed it to the protocol's
 * `traceRoot`.
 */
export function traceBoundaryHashes(opts: { inputHash: string; outputHash: string; boundaries: readonly Tensor[] }): string[] {
  return [opts.inputHash, ...opts.boundaries.map(tensorHash), opts.outputHash];
}

/** The dense layers of a model whose weights the runtime can rebuild (heavy, from its build seed and dims). */
export function segmentLayers(manifest: Manifest, model: string): DenseLayer[] {
  const entry = manifest.models[model as keyof Manifest['models']];
  if (model !== 'heavy' || !entry) {
    throw new InferenceError('ERR_VALIDATION', `layer segments are available for "heavy" only, got "${model}" (digits needs segment files from the build; charlm is recurrent)`);
  }
  const dims = Array.isArray(entry.build.dims) ? (entry.build.dims as number[]) : undefined;
  return heavyLayers(Number(entry.build.seed), dims);
}

/** ONNX bytes of layer `layer` (1-based) of an MLP, alone: input `x [batch, K]`, output `y [batch, N]`. */
export function encodeLayerSegment(layers: readonly DenseLayer[], layer: number, variant: Variant): Uint8Array {
  if (!Number.isInteger(layer) || layer < 1 || layer > layers.length) {
    throw new InferenceError('ERR_VALIDATION', `"layer" must be an integer in 1..${layers.length}, got ${JSON.stringify(layer)}`);
  }
  const l = layers[layer - 1]!;
  const last = layer === layers.length;
  const g = new GraphBuilder(variant);
  g.linear(`fc${layer}`, 'x', l.W, l.b, l.K, l.N, last ? 'y' : `fc${layer}.out`);
  if (!last) g.node('Relu', [`fc${layer}.out`], ['y']);
  return g.encode({
    graphName: `segment${layer}`,
    doc: `infermarket MLP layer ${layer} of ${layers.length} (${variant})`,
    inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['batch', l.K] }],
    outputs: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: ['batch', l.N] }],
  });
}

/** Runs layers of one model variant alone; sessions are cached per layer. */
export interface SegmentRunner {
  layers: number;
  /** Re-execute layer `layer` on the tensor at boundary `layer - 1`; returns boundary `layer`. */
  run(layer: number, input: Tensor): Promise<Tensor>;
}

/**
 * A runner for the one-layer segments of `model`/`variant` (CPU, `threads` intra-op threads, the manifest's
 * graph optimisation level).
 * @example const seg = createSegmentRunner({ manifest, model: 'heavy', variant: 'int8' }); await seg.run(2, h1);
 */
export function createSegmentRunner(opts: { manifest: Manifest; model: string; variant: Variant; threads?: number }): SegmentRunner {
  const layers = segmentLayers(opts.manifest, opts.model);
  const entry = opts.manifest.models[opts.model as keyof Manifest['models']]!;
  const sessions = new Map<number, Promise<ort.InferenceSession>>();
  const session = (layer: number): Promise<ort.InferenceSession> => {
    let s = sessions.get(layer);
    if (!s) {
      s = ort.InferenceSession.create(encodeLayerSegment(layers, layer, opts.variant), {
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
  return {
    layers: layers.length,
    async run(layer, input) {
      const l = layers[layer - 1];
      if (!l) throw new InferenceError('ERR_VALIDATION', `"layer" must be an integer in 1..${layers.length}, got ${JSON.stringify(layer)}`);
      if (input.dtype !== 'float32' || input.dims.length !== 2 || input.dims[1] !== l.K) {
        throw new InferenceError('ERR_BAD_INPUT', `layer ${layer} takes float32 [batch, ${l.K}], got ${input.dtype} [${input.dims.join(', ')}]`);
      }
      const out = await (await session(layer)).run({ x: new ort.Tensor('float32', input.data as Float32Array, input.dims) });
      const y = out.y!;
      return { dtype: 'float32', dims: [...y.dims], data: y.data as Float32Array };
    },
  };
}
