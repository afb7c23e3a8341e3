import { loadDigits, DIGIT_PIXELS } from './digits-data.js';
import { createPrng } from './prng.js';
import type { ModelId } from './manifest.js';
import type { ModelInput } from './tensor.js';
import { CHARLM_BOS } from './charlm-vocab.js';

import { DEFAULT_BUILD_CONFIG } from './build-models.js';

const CHARLM_HIDDEN = DEFAULT_BUILD_CONFIG.charlm.hidden;
const HEAVY_INPUT = DEFAULT_BUILD_CONFIG.heavy.dims[0]!;
const DEEP_INPUT = DEFAULT_BUILD_CONFIG.deep.dims[0]!;

/** Prompt starters for charlm samples (text-like openings from the training domain). */
export const CHARLM_PROMPTS: readonly string[] = [
  'The ', 'And God said, ', 'Once upon a ', 'We hold these ', 'Shall I compare ', 'He has ', 'In the ',
  'Quoth the Raven ', 'Four score and ', 'Love is ', 'When in the ', 'Tyger Tyger, ', 'With malice toward ',
  'I wandered ', 'Because I could ', 'Let there be ',
];

/** A deterministic sample job input for a model. */
export interface SampleInput {
  /** Tensors for `runtime.run` (batch 1). */
  input: ModelInput;
  /** digits: the true label of the held-out image. */
  label?: number;
  /** charlm: a prompt for `runtime.generate`. */
  prompt?: string;
}

/**
 * Produces a sample input from a seed, deterministically (the load generator and the simulator use it).
 * digits: held-out image number `seed mod 1996` with its label; heavy, deep: a seeded N(0,1) vector;
 * charlm: a prompt picked by the seed, plus the first-step tensors (start token, zero state).
 */
export function sampleInput(model: ModelId, seed: number): SampleInput {
  switch (model) {
    case 'digits': {
      const d = loadDigits();
      const n = d.testY.length;
      const i = ((Math.floor(seed) % n) + n) % n;
      return {
        input: { pixels: { dtype: 'float32', dims: [1, DIGIT_PIXELS], data: d.testX.slice(i * DIGIT_PIXELS, (i + 1) * DIGIT_PIXELS) } },
        label: d.testY[i]!,
      };
    }
    case 'heavy': {
      const rng = createPrng(`heavy-input:${seed}`);
      const x = new Float32Array(HEAVY_INPUT);
      for (let i = 0; i < x.length; i++) x[i] = rng.normal();
      return { input: { x: { dtype: 'float32', dims: [1, HEAVY_INPUT], data: x } } };
    }
    case 'deep': {
      const rng = createPrng(`deep-input:${seed}`);
      const x = new Float32Array(DEEP_INPUT);
      for (let i = 0; i < x.length; i++) x[i] = rng.normal();
      return { input: { x: { dtype: 'float32', dims: [1, DEEP_INPUT], data: x } } };
    }
    case 'charlm': {
      const rng = createPrng(`charlm-prompt:${seed}`);
      return {
        prompt: CHARLM_PROMPTS[rng.int(CHARLM_PROMPTS.length)]!,
        input: {
          tok: { dtype: 'int32', dims: [1], data: Int32Array.of(CHARLM_BOS) },
          h: { dtype: 'float32', dims: [1, CHARLM_HIDDEN], data: new Float32Array(CHARLM_HIDDEN) },
        },
      };
    }
  }
}
