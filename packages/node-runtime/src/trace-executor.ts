import { InfermarketError, type JobInput, type JobOutput, type WireTensor } from '@infermarket/protocol';
import { assertLayerTolerances, boundariesAgree, createSegmentRunner, tensorHash, segmentBoundaries, type ModelId, type Runtime, type SegmentRunner, type Variant } from '@infermarket/inference';
import { fromWireTensor, toWireTensor } from './executor.js';

/**
 * What the parties of a bisection dispute (docs/verification.md "Disputes by bisection") need from the runtime:
 * the miner and the challenger keep the tensors at every layer boundary of their run, a referee re-executes one
 * segment, the challenger judges a relayed boundary. Over `@infermarket/inference` (`segments.ts`,
 * `bisection-parties.ts`), written once for the live miner and validator.
 */
export interface TraceMethods {
  /** Layers of `model`'s committed trace (the manifest's `layerBoundaries` + 1), or null when it commits none (charlm). */
  layers(model: string): number | null;
  /**
   * Run a tensor job keeping its hidden boundary tensors (`layerBoundaries` order): what the miner commits and
   * the challenger judges against. Null when the model commits no trace or the input is not a tensor.
   */
  run(req: { model: string; variant: string; input: JobInput; reference?: boolean }): Promise<{ output: JobOutput; boundaries: WireTensor[]; boundaryHashes: string[]; ms: number } | null>;
  /** Re-execute layers `fromIndex+1..toIndex` from the tensor at boundary `fromIndex` (a referee). */
  segment(req: { model: string; variant: string; fromIndex: number; toIndex: number; input: WireTensor }): Promise<{ tensor: WireTensor; ms: number }>;
  /**
   * Load the one-layer sessions of `model`/`variant` and run each once on zeros of `batch` rows (onnxruntime's
   * first run plans memory and packs weights): a referee's first segment then costs what the others do.
   * Nothing for a model without a trace.
   */
  warm(model: string, variant: string, batch?: number): Promise<void>;
  /**
   * Throws `ERR_VALIDATION` (naming the model, variant, boundary and the command that records it) when a traced
   * model variant has no per-layer tolerances in the manifest: a party cannot judge a boundary without them.
   */
  checkTolerances(model: string, variant: string): void;
  /** Do two tensors at boundary `index` agree under that boundary's comparison (`boundariesAgree`)? */
  agree(req: { model: string; variant: string; index: number; a: WireTensor; b: WireTensor }): boolean;
}

/** The trace methods over one runtime (segment sessions cached per model and variant, 1 thread as the reference). */
export function traceMethods(runtime: Runtime): TraceMethods {
  const manifest = runtime.manifest;
  const entryOf = (model: string) => {
    const e = (manifest.models as Partial<Record<string, Runtime['manifest']['models']['digits']>>)[model];
    if (!e) throw new InfermarketError('ERR_UNKNOWN_MODEL', `"model" ${JSON.stringify(model)} is not in the models manifest`);
    return e;
  };
  const layers = (model: string): number | null => {
    const e = entryOf(model);
    return e.inputs.length === 1 && Array.isArray(e.layerBoundaries) && e.layerBoundaries.length > 0 ? e.layerBoundaries.length + 1 : null;
  };
  const runners = new Map<string, SegmentRunner>();
  const runner = (model: string, variant: string): SegmentRunner => {
    const key = `${model}/${variant}`;
    let r = runners.get(key);
    if (!r) {
      r = createSegmentRunner({ manifest, model: model as ModelId, variant: variant as Variant, modelsDir: runtime.modelsDir, threads: 1 });
      runners.set(key, r);
    }
    return r;
  };
  const asTensor = (w: WireTensor) => fromWireTensor(w);
  return {
    layers,
    async run(req) {
      if (req.input.kind !== 'tensor' || layers(req.model) === null) return null;
      const e = entryOf(req.model);
      const names = segmentBoundaries(e);
      const m = req.model as ModelId;
      const v = req.variant as Variant;
      assertLayerTolerances(manifest, m, v); // a trace nobody could judge is a misconfiguration: fail loud, naming the fix
      const input = { [names[0]!]: fromWireTensor(req.input.tensor) };
      const r = req.reference ? await runtime.reference(m, v, input, { intermediates: true }) : await runtime.run(m, v, input, { intermediates: true });
      const hidden = e.layerBoundaries.map((b) => r.outputs[b]!);
      return { output: { kind: 'tensor', tensor: toWireTensor(r.primary) }, boundaries: hidden.map(toWireTensor), boundaryHashes: hidden.map(tensorHash), ms: r.ms };
    },
    async segment(req) {
      const L = layers(req.model);
      if (L === null) throw new InfermarketError('ERR_VALIDATION', `model ${req.model} commits no layer trace`);
      if (!Number.isInteger(req.fromIndex) || !Number.isInteger(req.toIndex) || req.fromIndex < 0 || req.toIndex > L || req.toIndex <= req.fromIndex) {
        throw new InfermarketError('ERR_VALIDATION', `segment ${req.fromIndex}..${req.toIndex} is not within 0..${L}`);
      }
      assertLayerTolerances(manifest, req.model as ModelId, req.variant as Variant);
      const run = runner(req.model, req.variant);
      // the layers' sessions are cut and created once per process (a cold start, not the segment's compute)
      for (let k = req.fromIndex + 1; k <= req.toIndex; k++) await run.load(k);
      const t0 = performance.now();
      let x = asTensor(req.input) as Parameters<SegmentRunner['run']>[1];
      for (let k = req.fromIndex + 1; k <= req.toIndex; k++) x = await run.run(k, x);
      return { tensor: toWireTensor(x as { dtype: string; dims: number[]; data: Float32Array }), ms: performance.now() - t0 };
    },
    async warm(model, variant, batch = 1) {
      const L = layers(model);
      if (L === null) return;
      assertLayerTolerances(manifest, model as ModelId, variant as Variant);
      const e = entryOf(model);
      const spec = e.inputs[0]!;
      const dims = spec.shape.map((d) => (typeof d === 'number' ? d : batch));
      const x = { dtype: 'float32' as const, dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) };
      const r = await runtime.reference(model as ModelId, variant as Variant, { [spec.name]: x }, { intermediates: true });
      const bounds = [x, ...e.layerBoundaries.map((b) => r.outputs[b]!)];
      const run = runner(model, variant);
      for (let k = 1; k <= L; k++) await run.run(k, bounds[k - 1] as Parameters<SegmentRunner['run']>[1]);
    },
    checkTolerances(model, variant) {
      // an unknown variant is not a misconfiguration of ours: the segment itself refuses it
      if (layers(model) !== null && variant in entryOf(model).variants) assertLayerTolerances(manifest, model as ModelId, variant as Variant);
    },
    agree(req) {
      const L = layers(req.model);
      if (L === null) return false;
      return boundariesAgree({ manifest, model: req.model as ModelId, variant: req.variant as Variant, index: req.index, layers: L, a: asTensor(req.a) as never, b: asTensor(req.b) as never });
    },
  };
}
