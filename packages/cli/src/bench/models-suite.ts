import { createRuntime, sampleInput, VARIANTS, type ModelId, type ModelInput, type Tensor } from '@infermarket/inference';
import { median, type BenchRow } from './harness.js';

function batchOf(input: ModelInput, n: number): ModelInput {
  const out: ModelInput = {};
  for (const [name, t] of Object.entries(input) as [string, Tensor][]) {
    const per = t.data.length;
    const data = new (t.data.constructor as Float32ArrayConstructor)(per * n);
    for (let i = 0; i < n; i++) data.set(t.data as Float32Array, i * per);
    out[name] = { ...t, dims: [n, ...t.dims.slice(1)], data } as Tensor;
  }
  return out;
}

/**
 * Load time and batch throughput (batch 1, 8, 32) per classifier model × variant, and per-token
 * generation speed for charlm; one intra-op thread so runs compare.
 */
export async function modelsSuite(opts: { quick: boolean; log: (m: string) => void }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const iters = opts.quick ? 10 : 60;
  for (const model of ['digits', 'heavy'] as ModelId[]) {
    for (const variant of VARIANTS) {
      const rt = createRuntime({ threads: 1, log: () => {} });
      const info = await rt.load(model, variant);
      rows.push({ suite: 'models', name: `${model} ${variant} load`, value: info.loadMs, unit: 'ms', min: info.loadMs, max: info.loadMs, repeats: 1 });
      const one = sampleInput(model, 1).input;
      for (const b of [1, 8, 32]) {
        const input = batchOf(one, b);
        for (let i = 0; i < 3; i++) await rt.run(model, variant, input);
        const ms: number[] = [];
        for (let i = 0; i < iters; i++) ms.push((await rt.run(model, variant, input)).ms);
        const perSec = (x: number) => (b * 1000) / x;
        rows.push({ suite: 'models', name: `${model} ${variant} batch ${b}`, value: perSec(median(ms)), unit: 'rows/s', min: perSec(Math.max(...ms)), max: perSec(Math.min(...ms)), repeats: ms.length });
      }
      await rt.close();
      opts.log(`${model} ${variant} done`);
    }
  }
  for (const variant of VARIANTS) {
    const rt = createRuntime({ threads: 1, log: () => {} });
    const info = await rt.load('charlm', variant);
    rows.push({ suite: 'models', name: `charlm ${variant} load`, value: info.loadMs, unit: 'ms', min: info.loadMs, max: info.loadMs, repeats: 1 });
    const perToken: number[] = [];
    for (let i = 0; i < (opts.quick ? 2 : 6); i++) {
      const r = await rt.generate('charlm', variant, { prompt: 'The ', maxTokens: 64, seed: i });
      perToken.push(r.totalMs / Math.max(1, r.tokens.length));
    }
    const tps = perToken.map((x) => 1000 / x);
    rows.push({ suite: 'models', name: `charlm ${variant} generation`, value: median(tps), unit: 'tokens/s', min: Math.min(...tps), max: Math.max(...tps), repeats: tps.length });
    await rt.close();
  }
  return rows;
}
