import type { Client } from '@infermarket/client';
import type { JobInput } from '@infermarket/protocol';

/** What one closed-loop run measured. */
export interface LoopResult {
  /** Per finished job: ms from the start of the request to the result (client side). */
  latencies: number[];
  /** Per finished generation job: ms to the first token. */
  ttfts: number[];
  /** Tokens generated over all finished jobs (0 for tensor models). */
  tokens: number;
  /** Wall time of the whole run (first start to last result). */
  elapsedMs: number;
  /** Jobs that ended without a result (failed, refused, timed out). */
  failed: number;
  /** Job ids of the finished jobs (market side only), in finishing order. */
  jobIds: string[];
}

/** Closed loop: `inFlight` workers, each starting its next job as soon as its last one returned, until `jobs` started. */
export async function closedLoop(opts: { jobs: number; inFlight: number; job: (i: number) => Promise<{ ms: number; ttftMs?: number; tokens?: number; jobId?: string } | null> }): Promise<LoopResult> {
  const res: LoopResult = { latencies: [], ttfts: [], tokens: 0, elapsedMs: 0, failed: 0, jobIds: [] };
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < opts.jobs) {
      const i = next++;
      const r = await opts.job(i);
      if (!r) {
        res.failed++;
        continue;
      }
      res.latencies.push(r.ms);
      if (r.ttftMs !== undefined) res.ttfts.push(r.ttftMs);
      res.tokens += r.tokens ?? 0;
      if (r.jobId !== undefined) res.jobIds.push(r.jobId);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.inFlight) }, worker));
  res.elapsedMs = performance.now() - t0;
  return res;
}

/**
 * One job through the market as a client sees it: sign and submit, open the job's stream, and stop the
 * clock at the miner's result (the `result` stream message at commit — not settlement, which waits the
 * protocol's challenge window on purpose). Resolves null when the job ends without a result.
 */
export function marketJob(client: Client, opts: { model: string; input: JobInput; maxPriceMicro: bigint; timeoutMs?: number }): Promise<{ ms: number; ttftMs?: number; tokens?: number; jobId: string } | null> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    let first: number | undefined;
    const finish = (v: { ms: number; ttftMs?: number; tokens?: number; jobId: string } | null): void => {
      if (done) return;
      done = true;
      resolve(v);
    };
    client
      .submit({ model: opts.model, input: opts.input, maxPriceMicro: opts.maxPriceMicro })
      .then(({ jobId }) =>
        client.stream(jobId, {
          timeoutMs: opts.timeoutMs ?? 30_000,
          onToken: () => void (first ??= performance.now() - t0),
          onResult: ({ output }) => {
            const ms = performance.now() - t0;
            finish({ ms, jobId, ...(first !== undefined ? { ttftMs: first } : {}), ...(output.kind === 'tokens' ? { tokens: output.tokens.length } : {}) });
          },
        }),
      )
      .then(
        // an audited job's output may be held back until it settles: then the finished job carries it
        (job) => finish(job.status === 'settled' && job.output ? { ms: performance.now() - t0, jobId: job.id } : null),
        () => finish(null),
      );
  });
}
