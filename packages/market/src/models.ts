import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfermarketError, type JobInput } from '@infermarket/protocol';

/**
 * The repository's `models/` directory, found from this file (packages/market/{src,dist}/models.*) the way
 * `@infermarket/inference` finds it (`DEFAULT_MODELS_DIR`; a test checks they agree), so the market reads
 * the same manifest from any working directory without loading the ONNX runtime.
 */
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../../models', import.meta.url));

/** One graph input as the manifest declares it; a string dim is symbolic (`'batch'`). */
export interface ModelIo {
  name: string;
  dtype: string;
  shape: (number | string)[];
}

/** What the market needs to know about a model: its input contract and its comparator. */
export interface ModelSpec {
  id: string;
  kind: 'classifier' | 'charlm' | 'dense' | string;
  description: string;
  inputs: ModelIo[];
  outputs: ModelIo[];
  /** Comparator for tensor outputs (manifest JSON, e.g. `{kind:'argmax-maxabs', tolerance}`). */
  comparator: Record<string, unknown>;
  /** Comparator for generated tokens. */
  generationComparator: Record<string, unknown> | null;
  variants: string[];
  /** Per-variant comparators where the manifest calibrates them separately (else `comparator` applies). */
  variantComparators?: Record<string, { comparator: Record<string, unknown>; generationComparator: Record<string, unknown> | null }>;
  /** Layers of the trace a miner commits with its result (the manifest's `layerBoundaries` + 1, single-input models); absent: none (bisection disputes, docs/verification.md). */
  traceLayers?: number;
}

/** Limits the market puts on inputs, whatever the model. */
export const INPUT_LIMITS = Object.freeze({
  maxBatch: 64,
  maxPromptChars: 1024,
  maxTokens: 512,
  maxTemperature: 10,
});

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, int64: 8, uint8: 1, float16: 2 };

/**
 * Model specs from `<modelsDir>/manifest.json` (the inference package's manifest, read structurally).
 * `modelsDir` defaults to the repository's `models/`, found from this package's location (like the miner
 * finds it), so the market reads the same manifest from any working directory. There is no built-in
 * fallback: a market without a manifest would accept inputs and compare outputs by rules nobody calibrated.
 * @throws InfermarketError `ERR_NOT_FOUND` naming the path and the `--models-dir` flag when there is no
 *   manifest; `ERR_VALIDATION` when the manifest exists but cannot be read.
 */
export function loadModelSpecs(modelsDir: string = DEFAULT_MODELS_DIR): { specs: Map<string, ModelSpec>; source: string } {
  const path = join(modelsDir, 'manifest.json');
  if (!existsSync(path)) {
    throw new InfermarketError(
      'ERR_NOT_FOUND',
      `no models manifest at ${path}; pass "--models-dir <dir>" naming the directory that holds manifest.json (the repository's models/ is ${DEFAULT_MODELS_DIR}), or build one with "infermarket models build"`,
      { details: { field: '--models-dir', path } },
    );
  }
  let m: { models?: Record<string, Record<string, unknown>> };
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as typeof m;
  } catch (cause) {
    throw new InfermarketError('ERR_VALIDATION', `models manifest "${path}" is not valid JSON`, { cause });
  }
  if (!m.models || typeof m.models !== 'object') throw new InfermarketError('ERR_VALIDATION', `models manifest "${path}" has no "models" object`);
  const specs = new Map<string, ModelSpec>();
  for (const [id, e] of Object.entries(m.models)) {
    const variants = (e.variants ?? {}) as Record<string, { comparator?: Record<string, unknown>; generationComparator?: Record<string, unknown> }>;
    const first = Object.values(variants)[0];
    specs.set(id, {
      id,
      kind: String(e.kind ?? 'dense'),
      description: String(e.description ?? ''),
      inputs: (e.inputs as ModelIo[] | undefined) ?? [],
      outputs: (e.outputs as ModelIo[] | undefined) ?? [],
      comparator: first?.comparator ?? { kind: 'exact' },
      generationComparator: first?.generationComparator ?? null,
      variants: Object.keys(variants),
      ...traceLayersOf(e),
      variantComparators: Object.fromEntries(
        Object.entries(variants).map(([v, e]) => [v, { comparator: e.comparator ?? { kind: 'exact' }, generationComparator: e.generationComparator ?? null }]),
      ),
    });
  }
  return { specs, source: path };
}

/** A model commits a layer trace when it has a single input and named layer boundaries (charlm's recurrent state is a second input). */
function traceLayersOf(e: Record<string, unknown>): { traceLayers?: number } {
  const b = e.layerBoundaries;
  return Array.isArray(b) && b.length > 0 && Array.isArray(e.inputs) && e.inputs.length === 1 ? { traceLayers: b.length + 1 } : {};
}

function badInput(message: string): never {
  throw new InfermarketError('ERR_BAD_INPUT', message, { details: { field: 'input' } });
}

/**
 * Check a job input against the model's input contract: tensor dtype, dims (symbolic dims any size up to
 * `maxBatch`) and byte length; prompt length and `maxTokens` bounds. Sealed inputs only for private jobs.
 * @throws InfermarketError `ERR_BAD_INPUT` naming the expected and the received value.
 */
export function validateInput(spec: ModelSpec, input: JobInput, opts: { private: boolean }): void {
  if (input.kind === 'sealed') {
    if (!opts.private) badInput('"input.kind" "sealed" needs a private job ("private": true in the signed body)');
    return;
  }
  if (opts.private) badInput(`a private job must send a "sealed" input, got "${input.kind}"`);
  if (spec.kind === 'charlm') {
    if (input.kind !== 'prompt') badInput(`model "${spec.id}" takes a prompt ("input.kind": "prompt"), got "${input.kind}"`);
    const L = INPUT_LIMITS;
    if (input.prompt.length < 1 || input.prompt.length > L.maxPromptChars) {
      badInput(`"input.prompt" must have 1 to ${L.maxPromptChars} characters, got ${input.prompt.length}`);
    }
    if (!Number.isInteger(input.maxTokens) || input.maxTokens < 1 || input.maxTokens > L.maxTokens) {
      badInput(`"input.maxTokens" must be an integer from 1 to ${L.maxTokens}, got ${input.maxTokens}`);
    }
    if (!(input.temperature >= 0 && input.temperature <= L.maxTemperature)) {
      badInput(`"input.temperature" must be between 0 and ${L.maxTemperature}, got ${input.temperature}`);
    }
    return;
  }
  if (input.kind !== 'tensor') badInput(`model "${spec.id}" takes a tensor ("input.kind": "tensor"), got "${input.kind}"`);
  const io = spec.inputs[0];
  if (!io) return;
  const t = input.tensor;
  if (t.dtype !== io.dtype) badInput(`"input.tensor.dtype" must be "${io.dtype}" for model "${spec.id}", got "${t.dtype}"`);
  const want = io.shape.map((d) => (typeof d === 'number' ? String(d) : d)).join(', ');
  const got = t.dims.join(', ');
  if (t.dims.length !== io.shape.length) badInput(`"input.tensor.dims" must be [${want}] for model "${spec.id}", got [${got}]`);
  let count = 1;
  for (let i = 0; i < io.shape.length; i++) {
    const d = io.shape[i]!;
    const g = t.dims[i]!;
    if (typeof d === 'number' ? g !== d : g < 1 || g > INPUT_LIMITS.maxBatch) {
      badInput(`"input.tensor.dims" must be [${want}] (${typeof d === 'number' ? `dim ${i} = ${d}` : `${d} from 1 to ${INPUT_LIMITS.maxBatch}`}) for model "${spec.id}", got [${got}]`);
    }
    count *= g;
  }
  const bytes = Buffer.byteLength(t.data, 'base64');
  const expected = count * (DTYPE_BYTES[t.dtype] ?? 1);
  if (bytes !== expected || !isBase64(t.data)) {
    badInput(`"input.tensor.data" must be base64 of ${expected} bytes (${count} × ${t.dtype}), got ${bytes} bytes`);
  }
}

const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/** Standard base64, padding only at the end: the same set as /^[A-Za-z0-9+/]*={0,2}$/, ~10× faster on a batch's 170 KB. */
export function isBase64(s: string): boolean {
  if (NOT_BASE64.test(s)) return false;
  const eq = s.indexOf('=');
  return eq === -1 || (eq >= s.length - 2 && (eq === s.length - 1 || s[s.length - 1] === '='));
}

/**
 * Bytes of the largest input a model takes as base64 text: a batch of `INPUT_LIMITS.maxBatch` rows (or
 * `maxPromptChars` for a prompt model), of the first input's dtype.
 */
export function inputBytesOf(spec: ModelSpec): number {
  if (spec.kind === 'charlm') return INPUT_LIMITS.maxPromptChars * 4; // UTF-8, up to 4 bytes a character
  const io = spec.inputs[0];
  if (!io) return 0;
  let count = 1;
  for (const d of io.shape) count *= typeof d === 'number' ? d : INPUT_LIMITS.maxBatch;
  return Math.ceil((count * (DTYPE_BYTES[io.dtype] ?? 8)) / 3) * 4;
}
