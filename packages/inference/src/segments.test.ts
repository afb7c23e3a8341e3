import { traceProof, traceRoot, verifyTraceProof } from '@infermarket/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Variant } from './graph-builder.js';
import { createRuntime, type Runtime } from './runtime.js';
import { sampleInput } from './sample-input.js';
import { createSegmentRunner, tensorHash, traceBoundaryHashes } from './segments.js';
import { extractSegment } from './onnx-extract.js';
import { readVerifiedModel } from './runtime.js';
import { DEFAULT_MODELS_DIR } from './paths.js';
import type { ModelId } from './manifest.js';
import type { Tensor } from './tensor.js';
import type { ManifestComparator } from './manifest.js';

const toleranceOf = (c: ManifestComparator): number => ('tolerance' in c && typeof c.tolerance === 'number' ? c.tolerance : 0);

let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ threads: 1 });
});
afterAll(async () => {
  await rt.close();
});

const maxAbs = (a: Tensor, b: Tensor) => {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
};

/** A full run's boundary tensors, 0..L: the input, every hidden boundary, the output. */
async function fullTrace(variant: Variant, seed: number, model: ModelId = 'heavy'): Promise<Tensor[]> {
  const entry = rt.manifest.models[model];
  const { input } = sampleInput(model, seed);
  const r = await rt.run(model, variant, input, { intermediates: true });
  return [input[entry.inputs[0]!.name]!, ...entry.layerBoundaries.map((b) => r.outputs[b]!), r.primary];
}

describe('layer segments (bisection referee re-execution on the real runtime)', () => {
  const cases: [ModelId, Variant][] = [['heavy', 'int8'], ['heavy', 'int4'], ['digits', 'fp32'], ['digits', 'fp16'], ['digits', 'int8'], ['digits', 'int4']];
  for (const [model, variant] of cases) {
    it(`re-executing one layer of ${model}/${variant} (cut from its file) from the full run's boundary reproduces the next boundary within the comparator's tolerance`, async () => {
      const seg = createSegmentRunner({ manifest: rt.manifest, model, variant });
      const tolerance = toleranceOf(rt.manifest.models[model].variants[variant].comparator);
      const t = await fullTrace(variant, 3, model);
      expect(seg.layers).toBe(t.length - 1);
      for (let k = 1; k < t.length; k++) {
        const y = await seg.run(k, t[k - 1]!);
        expect(y.dims).toEqual(t[k]!.dims);
        expect(maxAbs(y, t[k]!)).toBeLessThanOrEqual(tolerance);
      }
    });
  }

  it('a trace corrupted at one layer is caught at that layer and only there', async () => {
    const seg = createSegmentRunner({ manifest: rt.manifest, model: 'heavy', variant: 'int8' });
    const tolerance = toleranceOf(rt.manifest.models.heavy.variants.int8.comparator);
    const t = await fullTrace('int8', 4);
    // the miner corrupts boundary 2 and runs the later layers honestly on it
    const bad = [...t];
    const h2 = new Float32Array(t[2]!.data as Float32Array);
    for (let i = 0; i < h2.length; i += 7) h2[i] = h2[i]! + 0.25;
    bad[2] = { ...t[2]!, data: h2 };
    for (let k = 3; k < bad.length; k++) bad[k] = await seg.run(k, bad[k - 1]!);
    const stepOk: boolean[] = [];
    for (let k = 1; k < bad.length; k++) stepOk.push(maxAbs(await seg.run(k, bad[k - 1]!), bad[k]!) <= tolerance);
    expect(stepOk).toEqual(bad.map((_, k) => k !== 2).slice(1));
  });

  it('error: a segment that also reads another graph input, or an unknown boundary, is refused', () => {
    const { bytes } = readVerifiedModel(DEFAULT_MODELS_DIR, rt.manifest, 'charlm', 'int8');
    expect(() => extractSegment(bytes, { input: 'tok', output: 'logits' })).toThrow(/also reads graph input "h"/);
    expect(() => createSegmentRunner({ manifest: rt.manifest, model: 'charlm', variant: 'int8' })).toThrow(/single-input model/);
    const digits = readVerifiedModel(DEFAULT_MODELS_DIR, rt.manifest, 'digits', 'int8').bytes;
    expect(() => extractSegment(digits, { input: 'h9', output: 'logits' })).toThrow(/segment input "h9"/);
  });

  it('commits the trace: boundary hashes open against the protocol root; the hash binds dims and values', async () => {
    const t = await fullTrace('int8', 5);
    const hashes = traceBoundaryHashes({ inputHash: tensorHash(t[0]!), outputHash: tensorHash(t[t.length - 1]!), boundaries: t.slice(1, -1) });
    const root = traceRoot(hashes);
    for (let i = 0; i < hashes.length; i++) expect(verifyTraceProof({ root, layers: hashes.length - 1, index: i, boundaryHash: tensorHash(t[i]!), proof: traceProof(hashes, i) })).toBe(true);
    const reshaped = { ...t[1]!, dims: [t[1]!.dims[1]!, t[1]!.dims[0]!] };
    expect(tensorHash(reshaped)).not.toBe(tensorHash(t[1]!));
  });
});
