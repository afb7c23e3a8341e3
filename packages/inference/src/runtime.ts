import { readFileSync, existsSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { InferenceError } from './errors.js';
import { loadManifest, MODEL_IDS } from './manifest.js';
import type { Manifest, ModelEntry, ModelId, PinnedSessionOptions } from './manifest.js';
import { VARIANTS } from './graph-builder.js';
import type { Variant } from './graph-builder.js';
import { validateInputs, concatBatch, sliceBatch } from './tensor.js';
import type { ModelInput, Tensor } from './tensor.js';
import { buildHeavyVariant, heavyLayers, sha256Hex } from './build-models.js';
import { DEFAULT_MODELS_DIR } from './paths.js';
import { createPrng } from './prng.js';
import { sampleTokenWithMargin } from './sampler.js';
import { CHARLM_BOS, decodeChar, encodeChars } from './charlm-vocab.js';

/** Execution providers the runtime can select. */
export type ExecutionProvider = 'cpu' | 'cuda';

export const CUDA_INSTALL_HINT =
  'the CUDA execution provider is not installed: onnxruntime-node ships only the CPU provider on linux-x64 by default. ' +
  'Install the CUDA 12 provider with network access: `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12` ' +
  '(or set ONNXRUNTIME_NODE_INSTALL=cuda12 and reinstall; needs CUDA 12 + cuDNN 9 on the machine), ' +
  'or run with --ep cpu, or --ep cuda,cpu to fall back to the CPU.';

export interface RuntimeOptions {
  /** Directory holding manifest.json and the model files (default: the repo's models/). */
  modelsDir?: string;
  /** Provider or ordered fallback list. `'cuda'` alone fails if CUDA is missing; `['cuda','cpu']` falls back. Default `'cpu'`. */
  ep?: ExecutionProvider | ExecutionProvider[];
  /** intraOpNumThreads (default 1). Results are bit-identical across thread counts (see docs/models.md). */
  threads?: number;
  /** Overrides the manifest's pinned graphOptimizationLevel (for determinism checks only). */
  graphOptimizationLevel?: PinnedSessionOptions['graphOptimizationLevel'];
  /** Receives notices such as an EP fallback (default: console.warn). */
  log?: (line: string) => void;
}

export interface RunOptions {
  /** Also return these layer-boundary outputs (`true`: all of the model's boundaries). */
  intermediates?: string[] | boolean;
}

export interface RunResult {
  /** Every fetched output by name (the primary output, its companions such as `h_out`, requested intermediates). */
  outputs: Record<string, Tensor>;
  /** The output validators compare (`manifest.models[m].primaryOutput`). */
  primary: Tensor;
  /** Wall time of the session run in ms. */
  ms: number;
}

export interface GenerateRequest {
  prompt: string;
  maxTokens: number;
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Sampler seed (default 0). */
  seed?: number;
}

export interface GeneratedToken {
  index: number;
  id: number;
  text: string;
  /** ms since the request started (the first token's value is the time to first token). */
  atMs: number;
  /** How far the draw landed from a sampling boundary (see `sampleTokenWithMargin`); for calibration. */
  margin: number;
}

export interface GenerateResult {
  text: string;
  tokens: number[];
  promptTokens: number;
  ttftMs: number;
  totalMs: number;
}

export interface SessionInfo {
  model: ModelId;
  variant: Variant;
  ep: ExecutionProvider;
  file: string;
  loadMs: number;
}

/** The runtime miners and validators share. Create with {@link createRuntime}. */
export interface Runtime {
  readonly manifest: Manifest;
  readonly modelsDir: string;
  /** Loads (sha256-checked) and caches a session; returns how it was loaded. `reference: true` loads the reference session (validators warm it). */
  load(model: ModelId, variant: Variant, opts?: { reference?: boolean }): Promise<SessionInfo>;
  /** Runs one batch. @throws InferenceError ERR_BAD_INPUT | ERR_MODEL_TAMPERED | ERR_UNKNOWN_MODEL | ERR_EP_UNAVAILABLE */
  run(model: ModelId, variant: Variant, input: ModelInput, opts?: RunOptions): Promise<RunResult>;
  /** Runs several inputs as one batch (concatenated on dim 0) and splits the results back. */
  runBatch(model: ModelId, variant: Variant, inputs: ModelInput[], opts?: RunOptions): Promise<RunResult[]>;
  /** Reference execution: CPU, 1 thread, the manifest's pinned options (what validators replay). */
  reference(model: ModelId, variant: Variant, input: ModelInput, opts?: RunOptions): Promise<RunResult>;
  /** Streams generated tokens of a `charlm` model; `onToken` is called per token. */
  generate(model: ModelId, variant: Variant, req: GenerateRequest, onToken?: (t: GeneratedToken) => void): Promise<GenerateResult>;
  /** The same as {@link Runtime.generate} as an async iterator. */
  stream(model: ModelId, variant: Variant, req: GenerateRequest): AsyncIterable<GeneratedToken>;
  /**
   * Teacher-forced re-execution of a generation: runs the model on the prompt and then on `tokens` (someone
   * else's output), returning at each step the logits and the sampler's draw `u` (the job's seeded PRNG, one
   * draw per step when temperature > 0, 0 when greedy), which is what `compareSampledTokens` checks.
   */
  forcedSteps(model: ModelId, variant: Variant, req: GenerateRequest, tokens: readonly number[]): Promise<{ logits: Float32Array; u: number }[]>;
  /** Releases every cached session. */
  close(): Promise<void>;
}

interface Loaded {
  session: ort.InferenceSession;
  info: SessionInfo;
}

function modelEntry(manifest: Manifest, model: string, variant: string): ModelEntry {
  const entry = (manifest.models as Partial<Record<string, ModelEntry>>)[model];
  if (!entry) {
    throw new InferenceError('ERR_UNKNOWN_MODEL', `unknown model "${model}"; the manifest has: ${Object.keys(manifest.models).join(', ')}`);
  }
  if (!(VARIANTS as readonly string[]).includes(variant) || !entry.variants[variant as Variant]) {
    throw new InferenceError('ERR_UNKNOWN_MODEL', `unknown variant "${variant}" of model "${model}"; expected one of ${VARIANTS.join(', ')}`);
  }
  return entry;
}

/**
 * Reads a model file and checks its sha256 against the manifest. Files of non-committed models
 * (heavy) are regenerated from their build seed when missing.
 * @throws InferenceError `ERR_MODEL_TAMPERED` (hash mismatch) or `ERR_NOT_FOUND` (a committed file is missing)
 */
export function readVerifiedModel(modelsDir: string, manifest: Manifest, model: ModelId, variant: Variant): { bytes: Uint8Array; path: string } {
  const entry = modelEntry(manifest, model, variant);
  const v = entry.variants[variant];
  const path = join(modelsDir, v.file);
  if (!existsSync(path)) {
    if (entry.committed) {
      throw new InferenceError('ERR_NOT_FOUND', `model file "${path}" is missing; restore it from git or run "infermarket models build"`);
    }
    const seed = Number(entry.build.seed);
    const dims = Array.isArray(entry.build.dims) ? (entry.build.dims as number[]) : undefined;
    mkdirSync(dirname(path), { recursive: true });
    // Write then rename so concurrent processes regenerating the same file never read a partial one.
    const tmp = `${path}.tmp-${process.pid}-${Math.floor(performance.now() * 1000)}`;
    writeFileSync(tmp, buildHeavyVariant(seed, variant, heavyLayers(seed, dims)).bytes);
    renameSync(tmp, path);
  }
  const bytes = new Uint8Array(readFileSync(path));
  const actual = sha256Hex(bytes);
  if (actual !== v.sha256) {
    throw new InferenceError(
      'ERR_MODEL_TAMPERED',
      `model file "${path}" does not match the manifest: expected sha256 ${v.sha256}, got ${actual}; refusing to load it (rebuild with "infermarket models build" or restore the file)`,
      { details: { path, expected: v.sha256, actual } },
    );
  }
  return { bytes, path };
}

function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data, t.dims);
}

function fromOrt(t: ort.Tensor): Tensor {
  const dims = [...t.dims];
  if (t.type === 'float32') return { dtype: 'float32', dims, data: t.data as Float32Array };
  if (t.type === 'int32') return { dtype: 'int32', dims, data: t.data as Int32Array };
  throw new InferenceError('ERR_VALIDATION', `unexpected output type ${t.type}`);
}

/**
 * Creates a runtime over a models directory.
 * @example
 * const rt = createRuntime({ ep: 'cpu', threads: 1 });
 * const { primary } = await rt.run('digits', 'int8', sampleInput('digits', 7).input);
 */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const manifest = loadManifest(modelsDir);
  const eps: ExecutionProvider[] = Array.isArray(options.ep) ? [...options.ep] : [options.ep ?? 'cpu'];
  for (const ep of eps) {
    if (ep !== 'cpu' && ep !== 'cuda') {
      throw new InferenceError('ERR_VALIDATION', `"ep" must be "cpu", "cuda" or a list of them such as ["cuda","cpu"], got ${JSON.stringify(ep)}`);
    }
  }
  if (eps.length === 0) throw new InferenceError('ERR_VALIDATION', '"ep" must name at least one execution provider');
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InferenceError('ERR_VALIDATION', `"threads" must be a positive integer, got ${String(options.threads)}`);
  }
  const log = options.log ?? ((l: string) => console.warn(l));
  const cache = new Map<string, Promise<Loaded>>();
  const failedEps = new Set<ExecutionProvider>();

  async function createSession(model: ModelId, variant: Variant, reference: boolean): Promise<Loaded> {
    const entry = modelEntry(manifest, model, variant);
    const t0 = performance.now();
    const { bytes, path } = readVerifiedModel(modelsDir, manifest, model, variant);
    const pinned = entry.sessionOptions;
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: reference ? pinned.graphOptimizationLevel : (options.graphOptimizationLevel ?? pinned.graphOptimizationLevel),
      intraOpNumThreads: reference ? 1 : (pinned.intraOpNumThreads ?? threads),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
      ...(Object.keys(pinned.extra).length ? { extra: { session: { ...pinned.extra } } } : {}),
    };
    const order = reference ? (['cpu'] as ExecutionProvider[]) : eps;
    let lastError: unknown;
    for (let i = 0; i < order.length; i++) {
      const ep = order[i]!;
      const hasFallback = i < order.length - 1;
      if (failedEps.has(ep) && hasFallback) continue;
      try {
        const session = await ort.InferenceSession.create(bytes, { ...base, executionProviders: [ep] });
        return { session, info: { model, variant, ep, file: path, loadMs: performance.now() - t0 } };
      } catch (cause) {
        lastError = cause;
        if (ep === 'cpu') throw cause;
        failedEps.add(ep);
        const msg = `execution provider "${ep}" is unavailable (${(cause as Error).message.split('\n')[0]}); ${CUDA_INSTALL_HINT}`;
        if (!hasFallback) throw new InferenceError('ERR_EP_UNAVAILABLE', msg, { cause });
        log(`[inference] ${msg} Falling back to "${order[i + 1]}" as requested by the ep list.`);
      }
    }
    throw new InferenceError('ERR_EP_UNAVAILABLE', `no execution provider in ${JSON.stringify(order)} could load ${model}/${variant}`, { cause: lastError });
  }

  function get(model: ModelId, variant: Variant, reference = false): Promise<Loaded> {
    modelEntry(manifest, model, variant);
    const key = `${model}/${variant}/${reference ? 'ref' : 'run'}`;
    let p = cache.get(key);
    if (!p) {
      p = createSession(model, variant, reference);
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  }

  function fetchNames(entry: ModelEntry, opts?: RunOptions): string[] {
    const names = entry.outputs.map((o) => o.name);
    const extra = opts?.intermediates === true ? entry.layerBoundaries : (opts?.intermediates || []);
    for (const n of extra) {
      if (!entry.layerBoundaries.includes(n)) {
        throw new InferenceError('ERR_VALIDATION', `unknown intermediate output "${n}"; this model's layer boundaries are: ${entry.layerBoundaries.join(', ')}`);
      }
      if (!names.includes(n)) names.push(n);
    }
    return names;
  }

  async function runWith(model: ModelId, variant: Variant, input: ModelInput, opts: RunOptions | undefined, reference: boolean): Promise<RunResult> {
    const entry = modelEntry(manifest, model, variant);
    validateInputs(`${model}/${variant}`, entry.inputs, input);
    const fetches = fetchNames(entry, opts);
    const { session } = await get(model, variant, reference);
    const feeds: Record<string, ort.Tensor> = {};
    for (const spec of entry.inputs) feeds[spec.name] = toOrt(input[spec.name]!);
    const t0 = performance.now();
    const out = await session.run(feeds, fetches);
    const ms = performance.now() - t0;
    const outputs: Record<string, Tensor> = {};
    for (const n of fetches) outputs[n] = fromOrt(out[n]!);
    return { outputs, primary: outputs[entry.primaryOutput]!, ms };
  }

  const runtime: Runtime = {
    manifest,
    modelsDir,
    async load(model, variant, opts) {
      return (await get(model, variant, opts?.reference ?? false)).info;
    },
    run: (model, variant, input, opts) => runWith(model, variant, input, opts, false),
    reference: (model, variant, input, opts) => runWith(model, variant, input, opts, true),
    async runBatch(model, variant, inputs, opts) {
      const entry = modelEntry(manifest, model, variant);
      if (inputs.length === 0) return [];
      const sizes = inputs.map((inp, i) => {
        try {
          return validateInputs(`${model}/${variant}`, entry.inputs, inp);
        } catch (e) {
          if (e instanceof InferenceError) e.message = `batch item ${i}: ${e.message}`;
          throw e;
        }
      });
      const merged: ModelInput = {};
      for (const spec of entry.inputs) merged[spec.name] = concatBatch(inputs.map((inp) => inp[spec.name]!));
      const r = await runWith(model, variant, merged, opts, false);
      let off = 0;
      return sizes.map((n) => {
        const outputs: Record<string, Tensor> = {};
        for (const [k, t] of Object.entries(r.outputs)) outputs[k] = sliceBatch(t, off, n);
        off += n;
        return { outputs, primary: outputs[entry.primaryOutput]!, ms: r.ms };
      });
    },
    async generate(model, variant, req, onToken) {
      const t0 = performance.now();
      const tokens: number[] = [];
      let ttft = 0;
      let promptTokens = 0;
      for await (const t of generateTokens(model, variant, req, (n) => (promptTokens = n))) {
        if (t.index === 0) ttft = t.atMs;
        tokens.push(t.id);
        onToken?.(t);
      }
      return { text: tokens.map(decodeChar).join(''), tokens, promptTokens, ttftMs: ttft, totalMs: performance.now() - t0 };
    },
    stream: (model, variant, req) => generateTokens(model, variant, req),
    async forcedSteps(model, variant, req, tokens) {
      const entry = modelEntry(manifest, model, variant);
      if (entry.kind !== 'charlm') throw new InferenceError('ERR_VALIDATION', `model "${model}" is a ${entry.kind}, not a generative model`);
      const vocab = Number(entry.outputs.find((o) => o.name === 'logits')!.shape[1]);
      if (!Array.isArray(tokens) || tokens.some((t) => !Number.isInteger(t) || t < 0 || t >= vocab)) throw new InferenceError('ERR_BAD_INPUT', `"tokens" must be ids of the ${vocab}-token vocabulary`);
      const temperature = req.temperature ?? 0;
      const H = Number(entry.inputs.find((i) => i.name === 'h')!.shape[1]);
      const rng = createPrng(`sample:${req.seed ?? 0}`);
      let h: Tensor = { dtype: 'float32', dims: [1, H], data: new Float32Array(H) };
      let logits = new Float32Array(0);
      const step = async (tok: number): Promise<void> => {
        const r = await runWith(model, variant, { tok: { dtype: 'int32', dims: [1], data: Int32Array.of(tok) }, h }, undefined, false);
        h = r.outputs.h_out!;
        logits = Float32Array.from(r.outputs.logits!.data as Float32Array);
      };
      for (const tok of [CHARLM_BOS, ...encodeChars(req.prompt)]) await step(tok);
      const steps: { logits: Float32Array; u: number }[] = [];
      for (let i = 0; i < tokens.length; i++) {
        // the same draw the sampler makes at this step (sampleTokenWithMargin draws once when temperature > 0)
        steps.push({ logits, u: temperature > 0 ? rng.next() : 0 });
        if (i < tokens.length - 1) await step(tokens[i]!);
      }
      return steps;
    },
    async close() {
      const all = [...cache.values()];
      cache.clear();
      for (const p of all) {
        try {
          await (await p).session.release();
        } catch {
          // a session that failed to load has nothing to release
        }
      }
    },
  };

  async function* generateTokens(model: ModelId, variant: Variant, req: GenerateRequest, onPrompt?: (n: number) => void): AsyncGenerator<GeneratedToken> {
    const entry = modelEntry(manifest, model, variant);
    if (entry.kind !== 'charlm') throw new InferenceError('ERR_VALIDATION', `model "${model}" is a ${entry.kind}, not a generative model; use run()`);
    if (typeof req?.prompt !== 'string') throw new InferenceError('ERR_BAD_INPUT', `"prompt" must be a string, got ${typeof req?.prompt}`);
    if (!Number.isInteger(req.maxTokens) || req.maxTokens < 0 || req.maxTokens > 100_000) {
      throw new InferenceError('ERR_BAD_INPUT', `"maxTokens" must be an integer in 0..100000, got ${String(req.maxTokens)}`);
    }
    const temperature = req.temperature ?? 0;
    if (!Number.isFinite(temperature) || temperature < 0) throw new InferenceError('ERR_BAD_INPUT', `"temperature" must be >= 0, got ${String(req.temperature)}`);
    const H = Number(entry.inputs.find((i) => i.name === 'h')!.shape[1]);
    const rng = createPrng(`sample:${req.seed ?? 0}`);
    const t0 = performance.now();
    const prompt = [CHARLM_BOS, ...encodeChars(req.prompt)];
    onPrompt?.(prompt.length);
    let h: Tensor = { dtype: 'float32', dims: [1, H], data: new Float32Array(H) };
    let logits: Float32Array | undefined;
    const step = async (tok: number): Promise<void> => {
      const r = await runWith(model, variant, { tok: { dtype: 'int32', dims: [1], data: Int32Array.of(tok) }, h }, undefined, false);
      h = r.outputs.h_out!;
      logits = r.outputs.logits!.data as Float32Array;
    };
    for (const tok of prompt) await step(tok);
    for (let i = 0; i < req.maxTokens; i++) {
      const { id, margin } = sampleTokenWithMargin(logits!, temperature, rng);
      yield { index: i, id, text: decodeChar(id), atMs: performance.now() - t0, margin };
      if (i < req.maxTokens - 1) await step(id);
    }
  }

  return runtime;
}

export { MODEL_IDS };
