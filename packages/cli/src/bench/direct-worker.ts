#!/usr/bin/env node
// The "direct" side of the market benchmarks: a process of the same kind as a miner (Node, the inference
// runtime, one intra-op thread) running the same jobs on onnxruntime with the same closed-loop
// concurrency, with no market in between. It stays up for the whole suite so its blocks can alternate
// with the market's: it reads one JSON phase per stdin line and answers one JSON line per phase.
import { createInterface } from 'node:readline';
import { createRuntime, sampleInput, type ModelId, type ModelInput, type Tensor, type Variant } from '@infermarket/inference';
import { closedLoop } from './closed-loop.js';

/** One block the worker runs: `jobs` jobs with `inFlight` in flight, inputs seeded from `seedBase`. */
export interface DirectPhase {
  name: string;
  model: string;
  variant: string;
  maxTokens: number;
  inFlight: number;
  jobs: number;
  seedBase: number;
  /** Rows per job (default 1): each job is one onnxruntime run on a batch of that many distinct rows. */
  batch?: number;
  /** `reference` runs the validators' reference session instead of the miner's (warm either way). */
  session?: 'run' | 'reference';
}

/** What the worker answers per phase: the loop's result plus its own CPU time over the phase. */
export interface DirectAnswer {
  event: 'phase';
  name: string;
  latencies: number[];
  ttfts: number[];
  tokens: number;
  elapsedMs: number;
  failed: number;
  cpuMs: number;
}

/** Concatenate single-row inputs on dim 0 (built before the clock starts). */
function concatRows(rows: ModelInput[]): ModelInput {
  const out: ModelInput = {};
  for (const name of Object.keys(rows[0]!)) {
    const ts = rows.map((r) => r[name] as Tensor);
    const per = ts[0]!.data.length;
    const data = new (ts[0]!.data.constructor as Float32ArrayConstructor)(per * ts.length);
    ts.forEach((t, i) => data.set(t.data as Float32Array, i * per));
    out[name] = { ...ts[0]!, dims: [ts.length, ...ts[0]!.dims.slice(1)], data } as Tensor;
  }
  return out;
}

async function main(): Promise<void> {
  const rt = createRuntime({ threads: 1, log: () => {} });
  const loaded = new Set<string>();
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const ph = JSON.parse(line) as DirectPhase;
    const model = ph.model as ModelId;
    const variant = ph.variant as Variant;
    const reference = ph.session === 'reference';
    const key = `${model}/${variant}/${reference}`;
    if (!loaded.has(key)) {
      await rt.load(model, variant, { reference });
      loaded.add(key);
    }
    const b = Math.max(1, ph.batch ?? 1);
    // inputs are made before the clock starts, as the market side does
    const inputs = Array.from({ length: ph.jobs }, (_, i) =>
      b === 1 ? sampleInput(model, ph.seedBase + i) : { ...sampleInput(model, ph.seedBase + i * b), input: concatRows(Array.from({ length: b }, (_, r) => sampleInput(model, ph.seedBase + i * b + r).input)) },
    );
    const c0 = process.cpuUsage();
    const r = await closedLoop({
      jobs: ph.jobs,
      inFlight: ph.inFlight,
      job: async (i) => {
        const s = inputs[i]!;
        const t0 = performance.now();
        if (model === 'charlm') {
          let first: number | undefined;
          const g = await rt.generate(model, variant, { prompt: s.prompt ?? 'The ', maxTokens: ph.maxTokens, temperature: 0, seed: ph.seedBase + i }, () => void (first ??= performance.now() - t0));
          return { ms: performance.now() - t0, ...(first !== undefined ? { ttftMs: first } : {}), tokens: g.tokens.length };
        }
        await (reference ? rt.reference(model, variant, s.input) : rt.run(model, variant, s.input));
        return { ms: performance.now() - t0 };
      },
    });
    const c = process.cpuUsage(c0);
    const answer: DirectAnswer = { event: 'phase', name: ph.name, latencies: r.latencies, ttfts: r.ttfts, tokens: r.tokens, elapsedMs: r.elapsedMs, failed: r.failed, cpuMs: (c.user + c.system) / 1000 };
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  }
  await rt.close();
}

await main();
