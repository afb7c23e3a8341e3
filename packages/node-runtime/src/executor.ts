import { InfermarketError, type JobInput, type JobOutput, type SampledStep, type WireTensor } from '@infermarket/protocol';
import { createRuntime, type Runtime, type RuntimeOptions } from '@infermarket/inference';
import { traceMethods, type TraceMethods } from './trace-executor.js';

/** A token as it is produced (for streaming to the client). */
export interface ExecToken {
  index: number;
  token: number;
  text: string;
}

/** One execution request: a wire input on a model variant. */
export interface ExecRequest {
  model: string;
  variant: string;
  input: JobInput;
  onToken?: (t: ExecToken) => void;
  /** Use the reference session (CPU, 1 thread, the manifest's pinned options): what validators replay. */
  reference?: boolean;
}

/** Runs job inputs. Miners, validators and `probe` use the inference runtime through this. */
export interface Executor {
  execute(req: ExecRequest): Promise<{ output: JobOutput; ms: number }>;
  /**
   * Teacher-forced re-execution of a prompt job on someone else's `tokens`: per step the logits and the
   * sampler's draw, for `compareSampledTokens` (validators re-checking a sampled generation that differs).
   * Optional: an executor without it cannot re-check sampled generations.
   */
  forcedSteps?(req: { model: string; variant: string; input: Extract<JobInput, { kind: 'prompt' }>; tokens: readonly number[] }): Promise<SampledStep[]>;
  /** Output shape of a model (batch dimension as in the manifest), for strategies that fake outputs. */
  outputDims(model: string, input: JobInput): number[];
  /** Load the model variants ahead of the first job (startup latency); `reference` warms the reference session validators replay on. */
  warm(models: { model: string; variant: string; reference?: boolean }[]): Promise<void>;
  close(): Promise<void>;
  /** Layer traces for bisection disputes (`trace-executor.ts`); absent on executors without a runtime (fakes). */
  tracing?: TraceMethods;
}

/** A wire tensor (base64 little-endian) → runtime tensor. */
export function fromWireTensor(t: WireTensor): { dtype: 'float32' | 'int32'; dims: number[]; data: Float32Array | Int32Array } {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new InfermarketError('ERR_BAD_INPUT', `"input.tensor.dtype" must be float32 or int32, got ${JSON.stringify(t.dtype)}`);
  const buf = Buffer.from(t.data, 'base64');
  const bytes = new Uint8Array(buf.byteLength);
  bytes.set(buf);
  const data = t.dtype === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
  return { dtype: t.dtype, dims: [...t.dims], data };
}

/** A runtime tensor → wire tensor. */
export function toWireTensor(t: { dtype: string; dims: readonly number[]; data: Float32Array | Int32Array }): WireTensor {
  return { dtype: t.dtype as WireTensor['dtype'], dims: [...t.dims], data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64') };
}

/** Options for `createInferenceExecutor`: those of the inference runtime. */
export type InferenceExecutorOptions = RuntimeOptions;

/**
 * An executor on the real ONNX runtime (`@infermarket/inference`): tensor jobs go through `run`
 * (or `reference` for validators), prompt jobs through `generate` with the job's seeded sampler.
 */
export function createInferenceExecutor(options: InferenceExecutorOptions = {}): Executor {
  const runtime: Runtime = createRuntime({ log: () => {}, ...options });
  const entry = (model: string) => {
    const e = (runtime.manifest.models as Partial<Record<string, Runtime['manifest']['models']['digits']>>)[model];
    if (!e) throw new InfermarketError('ERR_UNKNOWN_MODEL', `"model" ${JSON.stringify(model)} is not in the models manifest`);
    return e;
  };
  return {
    async execute(req) {
      const variant = req.variant as Parameters<Runtime['run']>[1];
      const model = req.model as Parameters<Runtime['run']>[0];
      const t0 = performance.now();
      if (req.input.kind === 'prompt') {
        const r = await runtime.generate(model, variant, { prompt: req.input.prompt, maxTokens: req.input.maxTokens, temperature: req.input.temperature, seed: req.input.seed }, (t) =>
          req.onToken?.({ index: t.index, token: t.id, text: t.text }),
        );
        return { output: { kind: 'tokens', tokens: r.tokens, text: r.text }, ms: performance.now() - t0 };
      }
      if (req.input.kind !== 'tensor') throw new InfermarketError('ERR_BAD_INPUT', `"input.kind" ${JSON.stringify(req.input.kind)} cannot be executed here (sealed jobs need the node's key)`);
      const spec = entry(req.model);
      const name = spec.inputs[0]!.name;
      const input = { [name]: fromWireTensor(req.input.tensor) };
      const r = req.reference ? await runtime.reference(model, variant, input) : await runtime.run(model, variant, input);
      return { output: { kind: 'tensor', tensor: toWireTensor(r.primary) }, ms: performance.now() - t0 };
    },
    async forcedSteps(req) {
      const i = req.input;
      return runtime.forcedSteps(req.model as Parameters<Runtime['run']>[0], req.variant as Parameters<Runtime['run']>[1], { prompt: i.prompt, maxTokens: i.maxTokens, temperature: i.temperature, seed: i.seed }, req.tokens);
    },
    outputDims(model, input) {
      const spec = entry(model);
      const out = spec.outputs.find((o) => o.name === spec.primaryOutput) ?? spec.outputs[0]!;
      const batch = input.kind === 'tensor' ? (input.tensor.dims[0] ?? 1) : 1;
      return out.shape.map((d) => (typeof d === 'number' ? d : batch));
    },
    async warm(list) {
      for (const { model, variant, reference } of list) {
        const m = model as Parameters<Runtime['load']>[0];
        const v = variant as Parameters<Runtime['load']>[1];
        await runtime.load(m, v, { reference: reference ?? false });
        // one throw-away run on zeros: onnxruntime's first run plans memory and packs weights, and the
        // first job (or a validator's first audit) would otherwise pay for it
        const input = Object.fromEntries(
          entry(model).inputs.map((spec) => {
            const dims = spec.shape.map((d) => (typeof d === 'number' ? d : 1));
            const n = dims.reduce((a, b) => a * b, 1);
            return [spec.name, spec.dtype === 'int32' ? { dtype: 'int32' as const, dims, data: new Int32Array(n) } : { dtype: 'float32' as const, dims, data: new Float32Array(n) }];
          }),
        );
        try {
          await (reference ? runtime.reference(m, v, input) : runtime.run(m, v, input));
        } catch {
          // a model that refuses zeros still works for real inputs: the warm-up is only an optimisation
        }
      }
    },
    close: () => runtime.close(),
    tracing: traceMethods(runtime),
  };
}
