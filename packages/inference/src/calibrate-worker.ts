/**
 * Calibration worker: one process per CPU (run under `qemu-x86_64 -cpu <model>` for emulated tiers).
 * Reads a {@link WorkerSpec} as JSON on stdin, runs every listed model × variant on the deterministic
 * calibration inputs, writes a {@link WorkerResult} as JSON to `spec.outPath`, and progress lines on
 * stderr. It decides nothing; the parent compares the results of all CPUs.
 */
import { writeFileSync } from 'node:fs';
import { createRuntime } from './runtime.js';
import { calibrationInput, calibrationPrompt } from './calibrate-inputs.js';
import type { WorkerResult, WorkerSpec } from './calibrate-inputs.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const spec = JSON.parse(await readStdin()) as WorkerSpec;
  const rt = createRuntime({ modelsDir: spec.modelsDir, log: (l) => process.stderr.write(`${spec.cpu}: ${l}\n`) });
  const result: WorkerResult = { cpu: spec.cpu, node: process.version, tensors: {}, generation: {} };
  const t0 = Date.now();
  for (const { model, variant } of spec.jobs) {
    const key = `${model}/${variant}`;
    const t1 = Date.now();
    const rows: Float32Array[] = [];
    for (let i = 0; i < spec.samples; i++) {
      const r = await rt.run(model, variant, calibrationInput(model, spec.seed, i));
      rows.push(r.primary.data as Float32Array);
    }
    const flat = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
    let off = 0;
    for (const r of rows) flat.set(r, (off += r.length) - r.length);
    result.tensors[key] = Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength).toString('base64');
    if (rt.manifest.models[model].kind === 'charlm' && spec.genJobs > 0) {
      const gen = { greedy: [] as number[][], sampled: [] as number[][], margins: [] as number[][] };
      for (let i = 0; i < spec.genJobs; i++) {
        const prompt = calibrationPrompt(spec.seed, i);
        gen.greedy.push((await rt.generate(model, variant, { prompt, maxTokens: spec.genTokens, temperature: 0, seed: spec.seed + i })).tokens);
        const margins: number[] = [];
        const s = await rt.generate(model, variant, { prompt, maxTokens: spec.genTokens, temperature: spec.temperature, seed: spec.seed + i }, (t) => margins.push(t.margin));
        gen.sampled.push(s.tokens);
        gen.margins.push(margins);
      }
      result.generation[key] = gen;
    }
    process.stderr.write(`${spec.cpu}: ${key} done in ${((Date.now() - t1) / 1000).toFixed(1)} s (${((Date.now() - t0) / 1000).toFixed(0)} s total)\n`);
  }
  await rt.close();
  writeFileSync(spec.outPath, JSON.stringify(result));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
