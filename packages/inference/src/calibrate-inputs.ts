/**
 * The deterministic inputs of cross-CPU calibration and the JSON exchanged with the per-CPU worker
 * (`calibrate-worker.ts`). Both sides derive inputs from (model, seed, index), so only the spec and
 * the outputs cross the process boundary.
 */
import { createPrng } from './prng.js';
import { sampleInput, CHARLM_PROMPTS } from './sample-input.js';
import { CHARLM_VOCAB } from './charlm-vocab.js';
import { DEFAULT_BUILD_CONFIG } from './build-models.js';
import type { ModelId } from './manifest.js';
import type { Variant } from './graph-builder.js';
import type { ModelInput } from './tensor.js';

/**
 * Input `index` of a calibration run. digits/heavy: the load generator's sample inputs; charlm: one
 * GRU step from a random token and a random recurrent state tanh(N(0,1)) (the single-step jobs the
 * market verifies), so the state is not the all-zero start state.
 */
export function calibrationInput(model: ModelId, seed: number, index: number): ModelInput {
  if (model !== 'charlm') return sampleInput(model, seed * 1_000_003 + index).input;
  const H = DEFAULT_BUILD_CONFIG.charlm.hidden;
  const rng = createPrng(`calibrate:charlm:${seed}:${index}`);
  const h = new Float32Array(H);
  for (let i = 0; i < H; i++) h[i] = Math.tanh(rng.normal());
  return { tok: { dtype: 'int32', dims: [1], data: Int32Array.of(rng.int(CHARLM_VOCAB)) }, h: { dtype: 'float32', dims: [1, H], data: h } };
}

/** Prompt of generation job `index`. */
export function calibrationPrompt(seed: number, index: number): string {
  return CHARLM_PROMPTS[(seed + index) % CHARLM_PROMPTS.length]!;
}

/** What the parent sends a worker on stdin. */
export interface WorkerSpec {
  /** Label of the CPU (`native` or the qemu `-cpu` model). */
  cpu: string;
  modelsDir: string;
  jobs: { model: ModelId; variant: Variant }[];
  /** Single-step run jobs per model × variant. */
  samples: number;
  seed: number;
  /** charlm generation jobs per variant (each greedy and sampled). */
  genJobs: number;
  genTokens: number;
  temperature: number;
  /** Where the worker writes its {@link WorkerResult}. */
  outPath: string;
}

/** What a worker writes: primary outputs per `model/variant` (base64 float32, samples × row), token lists. */
export interface WorkerResult {
  cpu: string;
  node: string;
  tensors: Record<string, string>;
  generation: Record<string, { greedy: number[][]; sampled: number[][]; margins: number[][] }>;
}
