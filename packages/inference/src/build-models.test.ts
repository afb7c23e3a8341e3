import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildModels, buildDigitsModel, sha256Hex } from './build-models.js';
import { loadManifest } from './manifest.js';
import { DEFAULT_MODELS_DIR } from './paths.js';
import { encodeMlp } from './mlp-graph.js';
import { quantizeInt4Blocks, dequantizeInt4Blocks, quantizeInt8PerColumn } from './quantize.js';
import { createPrng } from './prng.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from './fp16.js';

const committed = loadManifest(DEFAULT_MODELS_DIR);

describe('buildModels: reproducibility', () => {
  it('rebuilding heavy from its seed reproduces the manifest sha256 of every variant', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'infermarket-build-'));
    try {
      const m = await buildModels({ outDir: dir, only: ['heavy'], seed: committed.seed });
      for (const [variant, v] of Object.entries(m.models.heavy.variants)) {
        expect(v.sha256, `heavy/${variant}`).toBe(committed.models.heavy.variants[variant as 'fp32'].sha256);
        expect(sha256Hex(new Uint8Array(readFileSync(join(dir, v.file))))).toBe(v.sha256);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a small digits training build reproduces the pinned smallBuild sha256', () => {
    const small = buildDigitsModel({ seed: committed.seed, small: true });
    expect(committed.smallBuild).toBeDefined();
    for (const v of small.variants) expect(sha256Hex(v.bytes), `digits small ${v.variant}`).toBe(committed.smallBuild!.sha256[v.variant]);
  });
});

describe('quantizers and the ONNX writer', () => {
  const rng = createPrng('quant-test');
  const K = 70; // not a multiple of the block size: exercises padding
  const N = 5;
  const W = Float32Array.from({ length: K * N }, () => rng.normal());
  const b = Float32Array.from({ length: N }, () => rng.normal());

  it('int4 MatMulNBits packing equals an fp32 model of the dequantized weights', async () => {
    const deq = dequantizeInt4Blocks(quantizeInt4Blocks(W, K, N), K, N);
    const x = Float32Array.from({ length: 4 * K }, () => rng.normal());
    const run = async (variant: 'fp32' | 'int4', w: Float32Array): Promise<Float32Array> => {
      const { bytes } = encodeMlp({ name: 't', layers: [{ W: w, b, K, N }], variant, input: 'x', output: 'y', doc: '' });
      const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
      const out = (await s.run({ x: new ort.Tensor('float32', x, [4, K]) })).y!.data as Float32Array;
      await s.release();
      return out;
    };
    const a = await run('int4', W);
    const c = await run('fp32', deq);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - c[i]!)).toBeLessThan(1e-4);
  });

  it('int8 weights stay within 7 bits (±63)', () => {
    const q = quantizeInt8PerColumn(W, K, N);
    expect(Math.max(...Array.from(q.q, Math.abs))).toBe(63);
  });

  it('fp16 conversion rounds to nearest even and round-trips', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00);
    expect(float16BitsToFloat32(float32ToFloat16Bits(0.1))).toBeCloseTo(0.1, 3);
    expect(float16BitsToFloat32(float32ToFloat16Bits(-3.5e-6))).toBeCloseTo(-3.5e-6, 7);
  });
});
