import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from './runtime.js';
import type { Runtime } from './runtime.js';
import { InfermarketError } from '@infermarket/protocol';
import { InferenceError } from './errors.js';
import { loadDigits, DIGIT_PIXELS } from './digits-data.js';
import { DEFAULT_MODELS_DIR } from './paths.js';
import { sampleInput } from './sample-input.js';
import type { Variant } from './graph-builder.js';

let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ threads: 1 });
});
afterAll(async () => {
  await rt.close();
});

async function digitsAccuracy(variant: Variant): Promise<number> {
  const d = loadDigits();
  const n = d.testY.length;
  const { primary } = await rt.run('digits', variant, { pixels: { dtype: 'float32', dims: [n, DIGIT_PIXELS], data: d.testX } });
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < 10; j++) if (primary.data[i * 10 + j]! > primary.data[i * 10 + best]!) best = j;
    if (best === d.testY[i]) correct++;
  }
  return correct / n;
}

/** Copies manifest.json and the digits files into a temp models dir. */
function tempModelsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'infermarket-models-'));
  cpSync(join(DEFAULT_MODELS_DIR, 'manifest.json'), join(dir, 'manifest.json'));
  mkdirSync(join(dir, 'digits'));
  cpSync(join(DEFAULT_MODELS_DIR, 'digits'), join(dir, 'digits'), { recursive: true });
  return dir;
}

describe('runtime: digits', () => {
  it('classifies held-out digits with fp32 >= 90% and int8 within 1 point of fp32', async () => {
    const fp32 = await digitsAccuracy('fp32');
    const int8 = await digitsAccuracy('int8');
    expect(fp32).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(int8 - fp32)).toBeLessThanOrEqual(0.01);
    for (const v of ['fp16', 'int4'] as const) expect(Math.abs((await digitsAccuracy(v)) - fp32)).toBeLessThanOrEqual(0.01);
  });

  it('runBatch returns each item exactly as a single run does (int8 is batch-invariant)', async () => {
    const items = [3, 11, 42].map((s) => sampleInput('digits', s).input);
    const batched = await rt.runBatch('digits', 'int8', items);
    for (let i = 0; i < items.length; i++) {
      const alone = await rt.run('digits', 'int8', items[i]!);
      expect(Array.from(batched[i]!.primary.data)).toEqual(Array.from(alone.primary.data));
      expect(batched[i]!.primary.dims).toEqual([1, 10]);
    }
  });

  it('returns named intermediate outputs only on request', async () => {
    const input = sampleInput('digits', 5).input;
    const plain = await rt.run('digits', 'fp32', input);
    expect(Object.keys(plain.outputs)).toEqual(['logits']);
    const withH = await rt.run('digits', 'fp32', input, { intermediates: ['h1'] });
    expect(withH.outputs.h1!.dims).toEqual([1, 128]);
    expect(Math.min(...withH.outputs.h1!.data)).toBeGreaterThanOrEqual(0); // post-ReLU boundary
    await expect(rt.run('digits', 'fp32', input, { intermediates: ['nope'] })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
  });

  it('reference execution equals a 2-thread run bit for bit', async () => {
    const rt2 = createRuntime({ threads: 2 });
    try {
      const input = sampleInput('digits', 9).input;
      const a = await rt.reference('digits', 'fp32', input);
      const b = await rt2.run('digits', 'fp32', input);
      expect(Array.from(a.primary.data)).toEqual(Array.from(b.primary.data));
    } finally {
      await rt2.close();
    }
  });

  it('sampleInput is deterministic and labelled', () => {
    const a = sampleInput('digits', 17);
    const b = sampleInput('digits', 17);
    expect(a.label).toBe(b.label);
    expect(Array.from(a.input.pixels!.data)).toEqual(Array.from(b.input.pixels!.data));
    expect(sampleInput('charlm', 3).prompt).toBe(sampleInput('charlm', 3).prompt);
  });
});

describe('runtime: input validation', () => {
  it('error: rejects a wrong input shape naming expected and received', async () => {
    const bad = { pixels: { dtype: 'float32' as const, dims: [1, 783], data: new Float32Array(783) } };
    const err = await rt.run('digits', 'fp32', bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect(err).toBeInstanceOf(InfermarketError);
    expect(err).toMatchObject({ code: 'ERR_BAD_INPUT', status: 400 });
    expect((err as Error).message).toContain('expected float32 [batch, 784]');
    expect((err as Error).message).toContain('received float32 [1, 783]');
  });

  it('error: rejects a wrong dtype naming expected and received', async () => {
    const bad = { pixels: { dtype: 'int32' as const, dims: [1, 784], data: new Int32Array(784) } };
    const err = await rt.run('digits', 'fp32', bad).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_BAD_INPUT' });
    expect((err as Error).message).toMatch(/expected float32 \[batch, 784\], received int32 \[1, 784\]/);
  });

  it('error: rejects missing inputs, unknown inputs, unknown models and variants', async () => {
    await expect(rt.run('charlm', 'fp32', { tok: { dtype: 'int32', dims: [1], data: Int32Array.of(0) } })).rejects.toThrow(/missing input "h"/);
    await expect(rt.run('digits', 'fp32', { ...sampleInput('digits', 1).input, extra: sampleInput('digits', 1).input.pixels! })).rejects.toThrow(/unknown input "extra"/);
    const h = { dtype: 'float32' as const, dims: [1, 96], data: new Float32Array(96) };
    await expect(rt.run('charlm', 'fp32', { tok: { dtype: 'int32', dims: [1], data: Int32Array.of(96) }, h })).rejects.toThrow(/"tok"\[0\] must be in 0..95, received 96/);
    await expect(rt.run('nope' as 'digits', 'fp32', {})).rejects.toMatchObject({ code: 'ERR_UNKNOWN_MODEL' });
    await expect(rt.run('digits', 'int3' as 'int8', {})).rejects.toMatchObject({ code: 'ERR_UNKNOWN_MODEL' });
  });
});

describe('runtime: model integrity', () => {
  it('error: refuses a tampered model file, naming the file and both hashes', async () => {
    const dir = tempModelsDir();
    try {
      const file = join(dir, 'digits', 'digits.int8.onnx');
      const bytes = readFileSync(file);
      bytes[bytes.length - 100]! ^= 0x01;
      writeFileSync(file, bytes);
      const tampered = createRuntime({ modelsDir: dir });
      const err = await tampered.run('digits', 'int8', sampleInput('digits', 0).input).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_MODEL_TAMPERED' });
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toContain(manifest.models.digits.variants.int8.sha256);
      // an untouched variant in the same directory still loads
      await expect(tampered.run('digits', 'fp32', sampleInput('digits', 0).input)).resolves.toBeDefined();
      await tampered.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('error: reports a missing committed model file', async () => {
    const dir = tempModelsDir();
    try {
      rmSync(join(dir, 'digits', 'digits.fp16.onnx'));
      const r = createRuntime({ modelsDir: dir });
      await expect(r.load('digits', 'fp16')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runtime: regenerated models', () => {
  it('regenerates a missing heavy file from its seed and checks it against the manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'infermarket-heavy-'));
    try {
      cpSync(join(DEFAULT_MODELS_DIR, 'manifest.json'), join(dir, 'manifest.json'));
      const r = createRuntime({ modelsDir: dir });
      const info = await r.load('heavy', 'int4');
      expect(info.file).toBe(join(dir, 'heavy', 'heavy.int4.onnx'));
      const out = await r.run('heavy', 'int4', sampleInput('heavy', 1).input);
      expect(out.primary.dims).toEqual([1, 256]);
      await r.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runtime: execution providers', () => {
  it('error: cuda alone fails with a message saying how to install it', async () => {
    const cuda = createRuntime({ ep: 'cuda', log: () => {} });
    const err = await cuda.load('digits', 'fp32').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_EP_UNAVAILABLE' });
    expect((err as Error).message).toContain('--onnxruntime-node-install=cuda12');
    await cuda.close();
  });

  it("['cuda','cpu'] falls back to cpu and logs the fallback", async () => {
    const lines: string[] = [];
    const r = createRuntime({ ep: ['cuda', 'cpu'], log: (l) => lines.push(l) });
    const info = await r.load('digits', 'fp32');
    expect(info.ep).toBe('cpu');
    expect(lines.join('\n')).toMatch(/Falling back to "cpu"/);
    const out = await r.run('digits', 'fp32', sampleInput('digits', 2).input);
    const ref = await rt.run('digits', 'fp32', sampleInput('digits', 2).input);
    expect(Array.from(out.primary.data)).toEqual(Array.from(ref.primary.data));
    await r.close();
  });

  it('error: rejects unknown providers and bad thread counts', () => {
    expect(() => createRuntime({ ep: 'tpu' as 'cpu' })).toThrow(/"ep" must be/);
    expect(() => createRuntime({ threads: 0 })).toThrow(/"threads" must be a positive integer/);
  });
});

describe('runtime: charlm generation', () => {
  it('generates the same tokens for the same seed, different ones for another seed', async () => {
    const req = { prompt: 'The ', maxTokens: 48, temperature: 0.8, seed: 42 };
    const a = await rt.generate('charlm', 'int8', req);
    const b = await rt.generate('charlm', 'int8', req);
    const c = await rt.generate('charlm', 'int8', { ...req, seed: 43 });
    expect(a.tokens).toHaveLength(48);
    expect(b.tokens).toEqual(a.tokens);
    expect(c.tokens).not.toEqual(a.tokens);
    expect(a.text).toMatch(/ /); // word-shaped output
  });

  it('streams tokens through the async iterator and the callback identically; greedy is seed-independent', async () => {
    const req = { prompt: 'And God said, ', maxTokens: 20, temperature: 0 };
    const viaCb: string[] = [];
    const res = await rt.generate('charlm', 'fp32', { ...req, seed: 1 }, (t) => viaCb.push(t.text));
    const viaIter: string[] = [];
    for await (const t of rt.stream('charlm', 'fp32', { ...req, seed: 2 })) viaIter.push(t.text);
    expect(viaCb.join('')).toBe(res.text);
    expect(viaIter.join('')).toBe(res.text);
    expect(res.ttftMs).toBeGreaterThan(0);
  });

  it('error: refuses generation on a non-generative model and bad requests', async () => {
    await expect(rt.generate('digits', 'fp32', { prompt: 'x', maxTokens: 1 })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    await expect(rt.generate('charlm', 'fp32', { prompt: 'x', maxTokens: -1 })).rejects.toMatchObject({ code: 'ERR_BAD_INPUT' });
    await expect(rt.generate('charlm', 'fp32', { prompt: 'x', maxTokens: 1, temperature: -1 })).rejects.toMatchObject({ code: 'ERR_BAD_INPUT' });
  });
});

describe('errors', () => {
  it('documents every error code in docs/models.md', async () => {
    const { INFERENCE_ERROR_CODES } = await import('./errors.js');
    const doc = readFileSync(join(DEFAULT_MODELS_DIR, '..', 'docs', 'models.md'), 'utf8');
    for (const code of INFERENCE_ERROR_CODES) expect(doc).toContain(`\`${code}\``);
  });
});
