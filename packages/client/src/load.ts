import type { JobInput, JobView, VerificationLevel } from '@infermarket/protocol';
import type { Client } from './client.js';
import type { HybridClient, HybridRoute } from './hybrid.js';
import { createRng, type Rng } from './prng.js';
import { stackRows, syntheticInput } from './inputs.js';

/** Options for `runLoad`. */
export interface LoadOptions {
  /** One or more clients; each runs its own Poisson process at `ratePerSec`. */
  clients: Client[];
  ratePerSec: number;
  /** Model mix as weights, e.g. `{ digits: 3, charlm: 1 }`. */
  models: Record<string, number>;
  maxPriceMicro: bigint;
  /** Jobs in flight per client; arrivals beyond it are counted as `throttled` and skipped. */
  concurrency?: number;
  durationMs: number;
  /** Seeds arrivals, the model choice and the inputs. */
  seed: number | string;
  /** Makes a job input (default `syntheticInput`). */
  makeInput?: (model: string, rng: Rng) => JobInput;
  regions?: string[];
  /** Submit every job as private (sealed input and output; docs/privacy.md). */
  private?: boolean;
  /** How every job is checked (default the market's `sampled`; docs/verification.md). */
  verification?: VerificationLevel;
  /** Batch jobs: rows per job (default 1), each row made by `makeInput` and stacked (`stackRows`); `maxPriceMicro` is per row. */
  batchRows?: number;
  /** Stream tokens for generation jobs (measures client-side time to first token). */
  stream?: boolean;
  /** Called after each job finishes (or fails to submit). */
  onJob?: (r: LoadJobResult) => void;
  /**
   * Hybrid clients (docs/economics.md), one per client in `clients` order: each job is routed by the client's
   * policy (`createHybridClient`) instead of going to the market; `latencySensitive` names the models the policy
   * treats as latency-sensitive.
   */
  hybrid?: { clients: HybridClient[]; latencySensitive: (model: string) => boolean };
  /** Stop early. */
  signal?: AbortSignal;
  /** How long to wait for jobs in flight at the end (default 15 s). */
  drainMs?: number;
}

/** One job of a load run. */
export interface LoadJobResult {
  client: string;
  model: string;
  jobId: string | null;
  status: 'settled' | 'failed' | 'rejected' | 'timeout';
  error?: string;
  latencyMs: number;
  ttftMs: number | null;
  job?: JobView;
  /** Hybrid loads: where the job was answered, whether it counted as latency-sensitive, and every submission made (market and baseline job ids). */
  route?: HybridRoute;
  latencySensitive?: boolean;
  submittedTo?: { to: 'market' | 'cloud'; jobId: string }[];
}

/** Totals of a load run. */
export interface LoadSummary {
  seed: number | string;
  submitted: number;
  settled: number;
  failed: number;
  rejected: number;
  timeout: number;
  throttled: number;
  results: LoadJobResult[];
}

function pickModel(models: Record<string, number>, rng: Rng): string {
  const entries = Object.entries(models).filter(([, w]) => w > 0);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = rng.next() * total;
  for (const [m, w] of entries) {
    x -= w;
    if (x < 0) return m;
  }
  return entries[entries.length - 1]![0];
}

/**
 * A load generator: each client submits jobs at seeded Poisson arrival times (mean gap 1/ratePerSec),
 * choosing a model from the weighted mix, with at most `concurrency` jobs in flight; then waits for each
 * job to finish. Same seed → same arrival times, models and inputs.
 */
export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const concurrency = options.concurrency ?? 4;
  const makeInput = options.makeInput ?? ((m, rng) => syntheticInput(m, rng));
  const summary: LoadSummary = { seed: options.seed, submitted: 0, settled: 0, failed: 0, rejected: 0, timeout: 0, throttled: 0, results: [] };
  const startedAt = Date.now();
  const endAt = startedAt + options.durationMs;
  const pending: Promise<void>[] = [];

  const record = (r: LoadJobResult): void => {
    summary[r.status]++;
    summary.results.push(r);
    options.onJob?.(r);
  };

  const viaHybrid = async (h: HybridClient, client: Client, model: string, input: JobInput): Promise<void> => {
    const t0 = Date.now();
    const latencySensitive = options.hybrid!.latencySensitive(model);
    try {
      const timeoutMs = Math.max(5_000, endAt + (options.drainMs ?? 15_000) - Date.now());
      const r = await h.run({ model, input, maxPriceMicro: options.maxPriceMicro, latencySensitive, ...(options.regions ? { regions: options.regions } : {}), ...(options.verification ? { verification: options.verification } : {}) }, { timeoutMs });
      summary.submitted++;
      const submittedTo = r.submitted.map((x) => ({ to: x.to, jobId: x.sub.jobId }));
      record({ client: client.address, model, jobId: r.job.id, status: r.job.status === 'settled' ? 'settled' : 'failed', latencyMs: r.latencyMs, ttftMs: r.job.ttftMs ?? null, job: r.job, route: r.route, latencySensitive, submittedTo });
    } catch (e) {
      record({ client: client.address, model, jobId: null, status: 'timeout', error: (e as Error).message, latencyMs: Date.now() - t0, ttftMs: null, latencySensitive });
    }
  };

  const one = async (client: Client, model: string, input: JobInput, i: number): Promise<void> => {
    const h = options.hybrid?.clients[i];
    if (h) return viaHybrid(h, client, model, input);
    const t0 = Date.now();
    let jobId: string | null = null;
    try {
      const sub = await client.submit({ model, input, maxPriceMicro: options.maxPriceMicro, ...(options.batchRows && options.batchRows > 1 ? { rows: options.batchRows } : {}), ...(options.regions ? { regions: options.regions } : {}), ...(options.private ? { private: true } : {}), ...(options.verification ? { verification: options.verification } : {}) });
      jobId = sub.jobId;
      summary.submitted++;
      let first: number | null = null;
      const timeoutMs = Math.max(5_000, endAt + (options.drainMs ?? 15_000) - Date.now());
      const job =
        options.stream && input.kind === 'prompt'
          ? await client.stream(jobId, { timeoutMs, onToken: (t) => void (first ??= t.atMs - t0) })
          : await client.wait(jobId, { timeoutMs });
      record({ client: client.address, model, jobId, status: job.status === 'settled' ? 'settled' : 'failed', latencyMs: Date.now() - t0, ttftMs: job.ttftMs ?? first, job });
    } catch (e) {
      const msg = (e as Error).message;
      record({ client: client.address, model, jobId, status: jobId === null ? 'rejected' : 'timeout', error: msg, latencyMs: Date.now() - t0, ttftMs: null });
    }
  };

  const perClient = async (client: Client, i: number): Promise<void> => {
    const rng = createRng(options.seed, `load/${i}`);
    let inFlight = 0;
    let t = startedAt;
    for (;;) {
      t += rng.exp(1000 / options.ratePerSec);
      const model = pickModel(options.models, rng);
      const rows = options.batchRows ?? 1;
      const input = rows > 1 ? stackRows(Array.from({ length: rows }, () => makeInput(model, rng))) : makeInput(model, rng);
      if (t >= endAt || options.signal?.aborted) break;
      const wait = t - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (options.signal?.aborted) break;
      if (inFlight >= concurrency) {
        summary.throttled++;
        continue;
      }
      inFlight++;
      pending.push(one(client, model, input, i).finally(() => void inFlight--));
    }
  };

  await Promise.all(options.clients.map((c, i) => perClient(c, i)));
  await Promise.all(pending);
  return summary;
}
