#!/usr/bin/env node
// The "direct" side of the market-overhead benchmark: a process of the same kind as a miner (Node, the
// inference runtime, one intra-op thread) running the same jobs on onnxruntime with the same closed-loop
// concurrency, with no market in between. Reads a JSON spec from argv[2]; prints one JSON line per phase.
import { createRuntime, sampleInput, type ModelId, type Variant } from '@infermarket/inference';
import { closedLoop } from './closed-loop.js';

/** What `overhead-suite` asks the worker to run. */
export interface DirectSpec {
  model: string;
  variant: string;
  maxTokens: number;
  phases: { name: string; inFlight: number; jobs: number; seedBase: number }[];
}

const spec = JSON.parse(process.argv[2] ?? '{}') as DirectSpec;
const rt = createRuntime({ threads: 1, log: () => {} });
const model = spec.model as ModelId;
const variant = spec.variant as Variant;
await rt.load(model, variant);
for (const phase of spec.phases) {
  // inputs are made before the clock starts, as the market side does
  const inputs = Array.from({ length: phase.jobs }, (_, i) => sampleInput(model, phase.seedBase + i));
  const r = await closedLoop({
    jobs: phase.jobs,
    inFlight: phase.inFlight,
    job: async (i) => {
      const s = inputs[i]!;
      const t0 = performance.now();
      if (model === 'charlm') {
        let first: number | undefined;
        const g = await rt.generate(model, variant, { prompt: s.prompt ?? 'The ', maxTokens: spec.maxTokens, temperature: 0, seed: phase.seedBase + i }, () => void (first ??= performance.now() - t0));
        return { ms: performance.now() - t0, ...(first !== undefined ? { ttftMs: first } : {}), tokens: g.tokens.length };
      }
      await rt.run(model, variant, s.input);
      return { ms: performance.now() - t0 };
    },
  });
  process.stdout.write(`${JSON.stringify({ event: 'phase', name: phase.name, ...r })}\n`);
}
await rt.close();
