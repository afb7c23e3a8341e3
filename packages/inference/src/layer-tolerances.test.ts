import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundariesAgree, refereeVote } from './bisection-parties.js';
import { VARIANTS, type Variant } from './graph-builder.js';
import { layerToleranceBetween, layerToleranceOf, tracedModels } from './layer-tolerances.js';
import type { Manifest, ModelId } from './manifest.js';
import { createRuntime, type Runtime } from './runtime.js';
import { sampleInput } from './sample-input.js';
import { createSegmentRunner, segmentBoundaries, type SegmentRunner } from './segments.js';
import { concatBatch, sliceBatch, type Tensor } from './tensor.js';

/**
 * Per-layer tolerances on the real onnxruntime, with inputs the calibration did not see (seeds 500+; it used
 * 1..32): an honest party under honest variation never loses at any boundary, a one-layer corruption is caught
 * at that layer and only there.
 */

let rt1: Runtime;
let rt2: Runtime;
beforeAll(() => {
  rt1 = createRuntime({ threads: 1 });
  rt2 = createRuntime({ threads: 2 });
});
afterAll(async () => {
  await Promise.all([rt1.close(), rt2.close()]);
});

const ROWS = 8;
const SEED = 500;

function inputs(model: ModelId, name: string): Tensor {
  return concatBatch(Array.from({ length: ROWS }, (_, i) => sampleInput(model, SEED + i).input[name]!));
}

/** Boundaries 0..L of a full run, run in chunks of `chunk` rows. */
async function trace(rt: Runtime, model: ModelId, variant: Variant, x: Tensor, chunk: number): Promise<Tensor[]> {
  const names = segmentBoundaries(rt.manifest.models[model]);
  const parts: Tensor[][] = names.map(() => []);
  for (let s = 0; s < ROWS; s += chunk) {
    const xin = sliceBatch(x, s, Math.min(chunk, ROWS - s));
    const r = await rt.run(model, variant, { [names[0]!]: xin }, { intermediates: true });
    parts[0]!.push(xin);
    for (let k = 1; k < names.length; k++) parts[k]!.push(k === names.length - 1 ? r.primary : r.outputs[names[k]!]!);
  }
  return parts.map((p) => concatBatch(p));
}

/** The next-lower-precision variant (int4: int8), whose layer a cheat substitutes. */
const LOWER: Record<Variant, Variant> = { fp32: 'fp16', fp16: 'int8', int8: 'int4', int4: 'int8' };

describe('per-layer tolerances (manifest layerTolerances) on the real runtime', () => {
  it('every traced model variant records a tolerance for every hidden boundary, between its honest divergence and its nearest cheat', () => {
    const models = tracedModels(rt1.manifest);
    expect(models).toEqual(expect.arrayContaining(['digits', 'heavy', 'deep']));
    for (const model of models) {
      const entry = rt1.manifest.models[model];
      for (const variant of VARIANTS) {
        const lt = entry.variants[variant].layerTolerances!;
        expect(lt.map((l) => l.boundary)).toEqual(entry.layerBoundaries);
        for (const l of lt) {
          expect(l.tolerance).toBeGreaterThan(l.honestMaxAbsDiff);
          expect(l.tolerance).toBeLessThan(l.nearestCheatMinMaxAbsDiff);
        }
      }
    }
  });

  for (const model of ['digits', 'heavy', 'deep'] as const) {
    for (const variant of VARIANTS) {
      it(`${model}/${variant}: an honest miner (2 threads, batch ${ROWS} and batch 1) never loses at any boundary against a 1-thread batch-1 challenger or a referee`, async () => {
        const manifest = rt1.manifest;
        const names = segmentBoundaries(manifest.models[model]);
        const L = names.length - 1;
        const x = inputs(model, names[0]!);
        const challenger = await trace(rt1, model, variant, x, 1);
        const referee = createSegmentRunner({ manifest, model, variant, threads: 1 });
        for (const miner of [await trace(rt2, model, variant, x, ROWS), await trace(rt1, model, variant, x, ROWS), await trace(rt2, model, variant, x, 1)]) {
          for (let r = 0; r < ROWS; r++) {
            const row = (t: Tensor) => sliceBatch(t, r, 1);
            for (let k = 1; k <= L; k++) {
              expect(boundariesAgree({ manifest, model, variant, index: k, layers: L, a: row(challenger[k]!), b: row(miner[k]!) }), `challenger at boundary ${k}, row ${r}`).toBe(true);
              expect(await refereeVote({ manifest, model, variant, runner: referee, fromIndex: k - 1, toIndex: k, from: row(miner[k - 1]!), claimed: row(miner[k]!) }), `referee on layer ${k}, row ${r}`).toBe(true);
            }
          }
        }
      });
    }
  }

  const corruptions: [ModelId, Variant, number][] = [
    ['heavy', 'fp32', 2],
    ['heavy', 'fp16', 1],
    ['heavy', 'int8', 2],
    ['heavy', 'int4', 1],
    ['digits', 'fp32', 1],
    ['digits', 'int8', 1],
    ['deep', 'int8', 5],
    ['deep', 'fp32', 8],
    ['deep', 'int4', 3],
  ];
  for (const [model, variant, bad] of corruptions) {
    it(`${model}/${variant}: layer ${bad} computed with ${LOWER[variant]}'s weights is caught at layer ${bad} and only there; so is that layer's activation scaled by 1.001`, async () => {
      const manifest = rt1.manifest;
      const names = segmentBoundaries(manifest.models[model]);
      const L = names.length - 1;
      const x = inputs(model, names[0]!);
      const honest = await trace(rt1, model, variant, x, ROWS);
      const own = createSegmentRunner({ manifest, model, variant, threads: 1 });
      const lower = createSegmentRunner({ manifest, model, variant: LOWER[variant], threads: 1 });
      const cheats: [string, (t: Tensor) => Promise<Tensor>][] = [
        [`${LOWER[variant]} weights`, (t) => lower.run(bad, t)],
        ['scaled activation', async (t) => { const y = await own.run(bad, t); return { ...y, data: Float32Array.from(y.data as Float32Array, (v) => v * 1.001) }; }],
      ];
      for (const [name, layer] of cheats) {
        // the cheat's trace: honest up to bad−1, the corrupted layer, then its own layers honestly on the corrupted boundary
        const t: Tensor[] = honest.slice(0, bad);
        t[bad] = await layer(t[bad - 1]!);
        for (let k = bad + 1; k <= L; k++) t[k] = await own.run(k, t[k - 1]!);
        for (let r = 0; r < ROWS; r++) {
          const row = (z: Tensor) => sliceBatch(z, r, 1);
          const referees: boolean[] = [];
          for (let k = 1; k <= L; k++) referees.push(await refereeVote({ manifest, model, variant, runner: own, fromIndex: k - 1, toIndex: k, from: row(t[k - 1]!), claimed: row(t[k]!) }));
          expect(referees, `${name}, row ${r}: referee verdicts per layer`).toEqual(Array.from({ length: L }, (_, i) => i + 1 !== bad));
          // the honest challenger agrees below the corrupted layer and disagrees at it (so the bisection narrows to it)
          for (let k = 1; k <= L; k++) {
            const agree = boundariesAgree({ manifest, model, variant, index: k, layers: L, a: row(honest[k]!), b: row(t[k]!) });
            if (k < bad) expect(agree, `${name}, row ${r}, boundary ${k}`).toBe(true);
            if (k === bad) expect(agree, `${name}, row ${r}, boundary ${k}`).toBe(false);
          }
        }
      }
    });
  }

  it('error: a traced model variant whose manifest lacks its layer tolerances fails loud, naming the model, variant, boundary and the command', async () => {
    const manifest = structuredClone(rt1.manifest) as Manifest;
    delete manifest.models.heavy.variants.int8.layerTolerances;
    const h1 = { dtype: 'float32' as const, dims: [1, 4], data: new Float32Array(4) };
    expect(() => boundariesAgree({ manifest, model: 'heavy', variant: 'int8', index: 1, layers: 3, a: h1, b: h1 })).toThrow(
      /heavy\/int8 has no layer tolerance for boundary "h1".*infermarket models calibrate --layers --models heavy/,
    );
    expect(() => layerToleranceOf(manifest, 'heavy', 'int8', 2)).toThrow(/heavy\/int8 has no layer tolerance for boundary "h2"/);
    // the output boundary is compared by the model's comparator and needs no layer tolerance
    const out = { dtype: 'float32' as const, dims: [1, 2], data: Float32Array.of(1, 0) };
    expect(boundariesAgree({ manifest, model: 'heavy', variant: 'int8', index: 3, layers: 3, a: out, b: out })).toBe(true);
    // a referee on a hidden boundary fails the same way
    const runner: SegmentRunner = createSegmentRunner({ manifest, model: 'heavy', variant: 'int8' });
    const x = sampleInput('heavy', 1).input.x!;
    await expect(refereeVote({ manifest, model: 'heavy', variant: 'int8', runner, fromIndex: 0, toIndex: 1, from: x, claimed: await runner.run(1, x) })).rejects.toThrow(/heavy\/int8 has no layer tolerance/);
  });

  it('the margin rule: a geometric mean rounded down to one digit, separated only with 3.5× room on both sides', () => {
    expect(layerToleranceBetween({ honestMaxAbsDiff: 1e-6, nearestCheatMinMaxAbsDiff: 1e-3, maxAbsActivation: 1 })).toEqual({ tolerance: 3e-5, separated: true });
    // bit-identical honest runs: the floor is one float32 ulp of the largest activation, never a 0 tolerance
    const z = layerToleranceBetween({ honestMaxAbsDiff: 0, nearestCheatMinMaxAbsDiff: 1e-2, maxAbsActivation: 8 });
    expect(z.tolerance).toBeGreaterThan(0);
    expect(z.separated).toBe(true);
    expect(layerToleranceBetween({ honestMaxAbsDiff: 1e-4, nearestCheatMinMaxAbsDiff: 2e-4, maxAbsActivation: 1 }).separated).toBe(false);
  });
});
