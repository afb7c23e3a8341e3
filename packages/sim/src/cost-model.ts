/**
 * Compute cost model: CPU milliseconds per job for each model variant, on one x86-64 core.
 *
 * Source: /work/shared/research/onnx-feasibility.md (onnxruntime-node 1.30, CPU EP):
 * - digits (MLP 784-256-10, batch 32, 1 thread): fp32 0.15–0.18 ms, int8 dynamic 0.06–0.09 ms,
 *   int4 MatMulNBits 0.18–0.25 ms; fp16 is stored as fp16 and computed in fp32 (taken = fp32).
 * - charlm (2-layer transformer, KV cache, 1 thread): fp32 0.16–0.21 ms/token, int8 0.10–0.13 ms/token;
 *   int4 not measured there — taken as the midpoint 0.15 ms/token (an estimate).
 * - heavy (MLP 1024-4096-4096-256, batch 32): fp32 24.4 ms on 1 thread; int8 dynamic 2.6 ms and
 *   int4 MatMulNBits 7.0 ms on 2 threads (CPU time = 2 × wall: 5.2 and 14.0 ms).
 * Midpoints are used. Note what the measurements imply: on CPU, int4 is *slower* than int8 dynamic,
 * so a `downgrade` miner claiming int8 and running int4 saves no compute; claiming fp32 it does.
 * Models not listed cost `UNKNOWN_MODEL_MS`. A scenario may override any entry with `sim.computeMsPerJob`
 * (keys `model` or `model:variant`).
 */
export const COMPUTE_MS: Readonly<Record<string, Readonly<Record<string, number>>>> = Object.freeze({
  digits: { fp32: 0.165, fp16: 0.165, int8: 0.075, int4: 0.215 },
  charlm: { fp32: 0.185, fp16: 0.185, int8: 0.115, int4: 0.15 },
  heavy: { fp32: 24.4, fp16: 24.4, int8: 5.2, int4: 14.0 },
});

/** Per-token models: their cost is per generated token. */
export const PER_TOKEN_MODELS: ReadonlySet<string> = new Set(['charlm']);

export const UNKNOWN_MODEL_MS = 1;
/** Tokens generated per charlm job when the client group gives no `maxTokens`. */
export const DEFAULT_MAX_TOKENS = 32;

/**
 * Probability that a downgraded output (int4 run, int8 claimed) fails the model's comparator.
 * Source: the same research note — 7-bit int8 outputs are bit-identical across machines (honest divergence 0),
 * so the comparator tolerance is calibrated near 0 (argmax + max|Δ| ≤ ~1e-4), while int4 differs from the
 * reference by max|Δlogit| 0.86–0.97: every int4 output falls outside that tolerance. The models manifest
 * agrees (`models/manifest.json`, eval of 2026-11-22): comparator `argmax-maxabs` with tolerance 1e-4,
 * honest max|Δ| ≤ 7.4e-6, while int4 differs from fp32 by max|Δ| 1.284 (digits), 1.143 (charlm),
 * 0.839 (heavy). Default 1.0;
 * an argmax-only comparator would catch just the top-1 disagreements (~2% on trained MNIST):
 * set `sim.downgradeMismatchRate` to study that.
 */
export const DOWNGRADE_MISMATCH_RATE = 1.0;

/**
 * CPU milliseconds for one job of `model` run as `variant`, generating `tokens` tokens (per-token models), of
 * `rows` input rows (a batch job; linear in rows — the batched run's per-row saving is not modelled).
 */
export function computeMs(model: string, variant: string, tokens: number, overrides?: Readonly<Record<string, number>>, rows = 1): number {
  const o = overrides?.[`${model}:${variant}`] ?? overrides?.[model];
  const per = o ?? COMPUTE_MS[model]?.[variant] ?? UNKNOWN_MODEL_MS;
  return (PER_TOKEN_MODELS.has(model) ? per * tokens : per) * rows;
}

/** Cost in micro-mUSD (fractional; summed as a float and rounded in reports) of `cpuMs` at a price per CPU-second. */
export function computeCostMicro(cpuMs: number, costPerCpuSecondMicro: number): number {
  return (cpuMs / 1000) * costPerCpuSecondMicro;
}

/**
 * Compute-time table (`model:variant` → CPU-ms per job) from a models manifest's measured eval numbers
 * (`models/manifest.json`, written by `infermarket models eval`): `eval.p50Batch1Ms` of each variant — one
 * request per job (per token for charlm). Entries without a measurement are left out (the research
 * constants apply). Pure: pass the parsed JSON.
 */
export function computeTableFromManifest(manifest: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  const models = (manifest as { models?: Record<string, { variants?: Record<string, { eval?: Record<string, unknown> }> }> } | null)?.models;
  if (!models || typeof models !== 'object') return out;
  for (const [model, entry] of Object.entries(models)) {
    for (const [variant, v] of Object.entries(entry?.variants ?? {})) {
      const ms = v?.eval?.p50Batch1Ms;
      if (typeof ms === 'number' && Number.isFinite(ms) && ms > 0) out[`${model}:${variant}`] = ms;
    }
  }
  return out;
}
