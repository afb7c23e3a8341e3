import { InfermarketError, type JobView } from '@infermarket/protocol';
import { checkHybrid, hybridFirstRoute, type HybridPolicy as AgentsHybridPolicy } from '@infermarket/agents';
import type { Client, SubmitRequest, Submitted } from './client.js';

/**
 * How a hybrid client routes a job: `split` (latency-sensitive jobs to the centralized baseline, batch jobs to
 * the market) or `fallback` (the market first; the baseline too if it has not settled after `fallbackAfterMs`).
 * The rule itself is the agents' `hybridFirstRoute`, which the simulator's hybrid client groups use too.
 */
export type HybridPolicy = AgentsHybridPolicy;

/** Defaults of `createHybridClient`. */
export const HYBRID_DEFAULTS = Object.freeze({
  policy: 'fallback' as HybridPolicy,
  /** How long the market gets before the job is sent to the baseline too (ms). */
  fallbackAfterMs: 2_000,
  /** How long a job may take in all (ms). */
  timeoutMs: 60_000,
});

/** Options for `createHybridClient`. */
export interface HybridOptions {
  /** An SDK client of the market. */
  market: Client;
  /** An SDK client of the centralized baseline (`infermarket cloud`). */
  cloud: Client;
  policy?: HybridPolicy;
  fallbackAfterMs?: number;
  /**
   * Which jobs are latency-sensitive (policy `split`); default: generation jobs (`input.kind === 'prompt'`),
   * which a user watches token by token. A request's own `latencySensitive` wins.
   */
  isLatencySensitive?: (req: SubmitRequest) => boolean;
}

/** Where a job went. `market→cloud`: the market missed the deadline and the baseline served it. */
export type HybridRoute = 'market' | 'cloud' | 'market→cloud';

/** A finished hybrid job. */
export interface HybridResult {
  route: HybridRoute;
  /** The job that answered (the baseline's job on a fallback). */
  job: JobView;
  /** Client-side time from the first submission to the answer (ms). */
  latencyMs: number;
  /** Every submission made, in order (a fallback leaves the market job running: its escrow may still be paid). */
  submitted: { to: 'market' | 'cloud'; sub: Submitted }[];
}

/** Jobs routed each way so far. */
export interface HybridCounts {
  market: number;
  cloud: number;
  fallback: number;
}

/** A client that routes each job to the market or the centralized baseline. */
export interface HybridClient {
  readonly policy: HybridPolicy;
  /** Submit a job by the policy and wait for its answer. */
  run(req: SubmitRequest & { latencySensitive?: boolean }, options?: { timeoutMs?: number }): Promise<HybridResult>;
  counts(): HybridCounts;
}

/**
 * The seed's hybrid: a centralized path for latency-sensitive calls, the market for batch work — or the
 * market first, with the baseline as the fallback once `fallbackAfterMs` passed without a settled job (or
 * the market failed it). A fallback does not cancel the market job (the API has no cancel): if that job
 * settles later its client pays for it too — `submitted` lists both, so a report can count the cost.
 * @example
 * const h = createHybridClient({ market, cloud, policy: 'fallback', fallbackAfterMs: 1500 });
 * const { route, job } = await h.run({ model: 'charlm', input, maxPriceMicro: 50_000n });
 */
export function createHybridClient(options: HybridOptions): HybridClient {
  // the one routing rule, shared with the simulator's hybrid client groups
  const { policy, fallbackAfterMs } = checkHybrid(options.policy ?? HYBRID_DEFAULTS.policy, options.fallbackAfterMs ?? HYBRID_DEFAULTS.fallbackAfterMs);
  const sensitive = options.isLatencySensitive ?? ((r: SubmitRequest) => r.input.kind === 'prompt');
  const counts: HybridCounts = { market: 0, cloud: 0, fallback: 0 };

  /** Poll until finished or until `untilMs` (local time); null when time ran out. */
  const waitUntil = async (client: Client, jobId: string, untilMs: number): Promise<JobView | null> => {
    for (;;) {
      const left = untilMs - Date.now();
      if (left <= 0) return null;
      try {
        return await client.wait(jobId, { timeoutMs: left, pollMs: 25 });
      } catch (e) {
        if (e instanceof InfermarketError && e.code === 'ERR_LATE') return null;
        throw e;
      }
    }
  };

  const strip = (req: SubmitRequest & { latencySensitive?: boolean }): SubmitRequest => {
    const { latencySensitive: _l, jobId: _j, ...rest } = req;
    return rest;
  };

  return {
    policy,
    counts: () => ({ ...counts }),
    async run(req, o = {}) {
      const t0 = Date.now();
      const deadline = t0 + (o.timeoutMs ?? HYBRID_DEFAULTS.timeoutMs);
      const submitted: HybridResult['submitted'] = [];
      const on = async (to: 'market' | 'cloud', route: HybridRoute, untilMs: number): Promise<HybridResult | null> => {
        const client = to === 'market' ? options.market : options.cloud;
        const sub = await client.submit(strip(req));
        submitted.push({ to, sub });
        const job = await waitUntil(client, sub.jobId, untilMs);
        if (!job) return null;
        return { route, job, latencyMs: Date.now() - t0, submitted };
      };
      const late = (where: string): InfermarketError => new InfermarketError('ERR_LATE', `the job did not finish on ${where} within ${o.timeoutMs ?? HYBRID_DEFAULTS.timeoutMs} ms`);

      if (policy === 'split') {
        const toCloud = hybridFirstRoute(policy, req.latencySensitive ?? sensitive(req)) === 'cloud';
        const r = await on(toCloud ? 'cloud' : 'market', toCloud ? 'cloud' : 'market', deadline);
        if (!r) throw late(toCloud ? 'the baseline' : 'the market');
        counts[toCloud ? 'cloud' : 'market']++;
        return r;
      }
      // fallback: the market first, the baseline once the market missed its time or failed the job
      // the market's whole attempt — its submission included (a market that is down may not even refuse at
      // once) — gets `fallbackAfterMs`; then the baseline serves the job (the market's job, if any, runs on)
      const untilMs = Math.min(deadline, t0 + fallbackAfterMs);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<null>((r) => (timer = setTimeout(() => r(null), Math.max(0, untilMs - Date.now()))));
      const first: HybridResult | null = await Promise.race([
        // the market refused or is unreachable: the baseline serves it
        on('market', 'market', untilMs).catch(() => null),
        expired,
      ]).finally(() => clearTimeout(timer));
      if (first && first.job.status === 'settled') {
        counts.market++;
        return first;
      }
      const r = await on('cloud', 'market→cloud', deadline);
      if (!r) throw late('the baseline after the market');
      counts.fallback++;
      return r;
    },
  };
}
