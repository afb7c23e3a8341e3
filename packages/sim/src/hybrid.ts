import { checkHybrid, hybridFallsBack, hybridFirstRoute, type HybridPolicy } from '@infermarket/agents';
import { imtToUsdMicro, jobToken, type Effect, type ResolvedScenario, type Scenario } from '@infermarket/protocol';
import { computeMs } from './cost-model.js';
import type { ClientAgent, SimWorld } from './sim-world.js';

/** The baseline's price per job when a group gives none: `infermarket cloud`'s default (micro-mUSD). */
export const SIM_CLOUD_PRICE_MICRO = 10_000n;

/** Per hybrid client group: jobs routed each way, their cost and latency (docs/economics.md). */
export interface HybridGroupReport {
  group: string;
  policy: HybridPolicy;
  fallbackAfterMs: number;
  cloudPriceMicro: string;
  cloudLatencyMs: number;
  /** Jobs answered by the market, by the baseline directly (`split`), and by the baseline after the market (`fallback`). */
  routed: { market: number; cloud: number; fallback: number };
  /** Share of answered jobs per route. */
  share: { market: number; cloud: number; fallback: number };
  /** USD paid per 1,000 answered jobs: market escrow payouts (at the cost basis; a fallen-back market job that settles later is paid too) plus the baseline's price. */
  usdPer1000Jobs: number | null;
  /** Latency (submit → answer, ms) over all answered jobs and per route; `latencySensitive` = the jobs the policy treats as latency-sensitive. */
  latencyMs: { p50: number | null; p95: number | null; byRoute: Record<'market' | 'cloud' | 'fallback', { p50: number | null; p95: number | null }>; latencySensitiveP95: number | null };
}

interface GroupSpec {
  name: string;
  policy: HybridPolicy;
  fallbackAfterMs: number;
  cloudPriceMicro: bigint;
  cloudLatencyMs: number;
  sensitive: Set<string>;
  routed: { market: number; cloud: number; fallback: number };
  lat: { market: number[]; cloud: number[]; fallback: number[] };
  latSensitive: number[];
  usdMicro: number;
}

interface Tracked {
  g: GroupSpec;
  submittedAtMs: number;
  model: string;
  tokens: number;
  /** Rows of the job (a batch job): the baseline charges and computes per row. */
  rows: number;
  done: boolean;
}

export interface SimHybrid {
  /** Whether this client is hybrid. */
  has(c: ClientAgent): boolean;
  /** An arrival: `cloud` means the baseline served it (no market job); `market` means submit it. */
  arrive(c: ClientAgent, model: string, tokens: number): 'market' | 'cloud';
  /** The market accepted (true) or refused (false) the job just submitted. */
  submitted(c: ClientAgent, jobId: string, model: string, tokens: number, accepted: boolean): void;
  /** Effects of the run (settlements, failures and payouts of hybrid jobs). */
  observe(fx: readonly Effect[]): void;
  /** The `hybrid` item: a fallback deadline passed. */
  deadline(jobId: string): void;
  report(): HybridGroupReport[];
}

const q = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

/** Hybrid client groups of a run, or null when there are none. */
export function createSimHybrid(w: SimWorld, scenario: Scenario, resolved: ResolvedScenario): SimHybrid | null {
  const byClient = new Map<string, GroupSpec>();
  resolved.clients.forEach((g) => {
    const h = scenario.clients[g.groupIndex]?.hybrid;
    if (!h) return;
    const { policy, fallbackAfterMs } = checkHybrid(h.policy, h.fallbackAfterMs ?? 2_000);
    const spec: GroupSpec = {
      name: g.group,
      policy,
      fallbackAfterMs,
      cloudPriceMicro: h.cloudPriceMicro !== undefined ? BigInt(h.cloudPriceMicro) : SIM_CLOUD_PRICE_MICRO,
      cloudLatencyMs: h.cloudLatencyMs ?? 2 * w.netMs,
      sensitive: new Set(h.latencySensitiveModels ?? ['charlm']),
      routed: { market: 0, cloud: 0, fallback: 0 },
      lat: { market: [], cloud: [], fallback: [] },
      latSensitive: [],
      usdMicro: 0,
    };
    for (const id of g.instances) byClient.set(id, spec);
  });
  if (byClient.size === 0) return null;
  const jobs = new Map<string, Tracked>();
  const token = jobToken(w.P);
  let basis: bigint | null = null;

  // the baseline runs the job directly: its compute plus its own fixed latency
  // a batch job: the baseline's price and compute are per row, as the market's
  const cloudServe = (g: GroupSpec, model: string, tokens: number, rows: number, startedAfterMs: number, route: 'cloud' | 'fallback'): void => {
    const lat = startedAfterMs + g.cloudLatencyMs + computeMs(model, 'int8', tokens, w.costOverrides, rows);
    g.routed[route]++;
    g.lat[route].push(lat);
    if (g.sensitive.has(model)) g.latSensitive.push(lat);
    g.usdMicro += Number(g.cloudPriceMicro) * rows;
  };

  return {
    has: (c) => byClient.has(c.id),
    arrive(c, model, tokens) {
      const g = byClient.get(c.id)!;
      if (hybridFirstRoute(g.policy, g.sensitive.has(model)) === 'market') return 'market';
      cloudServe(g, model, tokens, c.rows, 0, 'cloud');
      return 'cloud';
    },
    submitted(c, jobId, model, tokens, accepted) {
      const g = byClient.get(c.id)!;
      if (!accepted) {
        // the market refused it: the baseline serves it at once (fallback), or it is lost (split)
        if (hybridFallsBack(g.policy, { outcome: 'refused', elapsedMs: 0 }, g.fallbackAfterMs)) cloudServe(g, model, tokens, c.rows, 0, 'fallback');
        return;
      }
      jobs.set(jobId, { g, submittedAtMs: w.now, model, tokens, rows: c.rows, done: false });
      if (g.policy === 'fallback') w.queue.push(w.now + g.fallbackAfterMs, { k: 'hybrid', jobId });
    },
    observe(fx) {
      if (basis === null && w.state.oracle) basis = w.state.oracle.priceMicro;
      for (const e of fx) {
        if (e.type === 'ledger.entry') {
          const en = e.entry;
          if (en.reason !== 'pay-miner' && en.reason !== 'protocol-fee' && en.reason !== 'validator-fee') continue;
          const t = jobs.get(en.ref);
          if (!t) continue;
          t.g.usdMicro += token === 'IMT' ? Number(imtToUsdMicro(en.amountMicro, basis ?? 1_000_000n)) : Number(en.amountMicro);
          continue;
        }
        if (e.type !== 'job.settled' && e.type !== 'job.failed') continue;
        const t = jobs.get(e.jobId);
        if (!t) continue;
        // the market job is over (its payouts came earlier in this same batch)
        jobs.delete(e.jobId);
        if (t.done) continue;
        const elapsed = w.now - t.submittedAtMs + w.netMs;
        if (e.type === 'job.settled') {
          t.done = true;
          t.g.routed.market++;
          t.g.lat.market.push(elapsed);
          if (t.g.sensitive.has(t.model)) t.g.latSensitive.push(elapsed);
        } else if (hybridFallsBack(t.g.policy, { outcome: 'failed', elapsedMs: elapsed }, t.g.fallbackAfterMs)) {
          t.done = true;
          cloudServe(t.g, t.model, t.tokens, t.rows, elapsed, 'fallback');
        }
      }
    },
    deadline(jobId) {
      const t = jobs.get(jobId);
      if (!t || t.done) return;
      const elapsed = w.now - t.submittedAtMs;
      if (!hybridFallsBack(t.g.policy, { outcome: 'pending', elapsedMs: elapsed }, t.g.fallbackAfterMs)) return;
      t.done = true;
      cloudServe(t.g, t.model, t.tokens, t.rows, elapsed, 'fallback');
    },
    report() {
      return [...new Set(byClient.values())].map((g) => hybridGroupReport({ group: g.name, policy: g.policy, fallbackAfterMs: g.fallbackAfterMs, cloudPriceMicro: g.cloudPriceMicro, cloudLatencyMs: g.cloudLatencyMs, latencyMs: g.lat, latencySensitiveMs: g.latSensitive, usdMicro: g.usdMicro }));
    },
  };
}

/** What a hybrid group's report is made from: its settings, the latency of each answered job by route, and what it paid. */
export interface HybridGroupTally {
  group: string;
  policy: HybridPolicy;
  fallbackAfterMs: number;
  cloudPriceMicro: bigint;
  cloudLatencyMs: number;
  /** Latency (ms) of every answered job, by the route that answered it. */
  latencyMs: { market: number[]; cloud: number[]; fallback: number[] };
  /** Latency of the answered jobs the policy treats as latency-sensitive. */
  latencySensitiveMs: number[];
  /** Everything the group paid, in micro-USD (market payouts, a fallen-back market job's included, and the baseline's prices). */
  usdMicro: number;
}

/**
 * A hybrid group's report: jobs and share per route, USD per 1,000 answered jobs, latency p50/p95 overall and per
 * route, and the p95 of latency-sensitive jobs. One implementation for the simulator and the testnet report.
 */
export function hybridGroupReport(t: HybridGroupTally): HybridGroupReport {
  const routed = { market: t.latencyMs.market.length, cloud: t.latencyMs.cloud.length, fallback: t.latencyMs.fallback.length };
  const n = routed.market + routed.cloud + routed.fallback;
  const all = [...t.latencyMs.market, ...t.latencyMs.cloud, ...t.latencyMs.fallback];
  const pq = (xs: number[]) => ({ p50: q(xs, 0.5), p95: q(xs, 0.95) });
  return {
    group: t.group,
    policy: t.policy,
    fallbackAfterMs: t.fallbackAfterMs,
    cloudPriceMicro: t.cloudPriceMicro.toString(),
    cloudLatencyMs: t.cloudLatencyMs,
    routed,
    share: { market: n ? routed.market / n : 0, cloud: n ? routed.cloud / n : 0, fallback: n ? routed.fallback / n : 0 },
    usdPer1000Jobs: n ? (t.usdMicro / 1e6 / n) * 1000 : null,
    latencyMs: { ...pq(all), byRoute: { market: pq(t.latencyMs.market), cloud: pq(t.latencyMs.cloud), fallback: pq(t.latencyMs.fallback) }, latencySensitiveP95: q(t.latencySensitiveMs, 0.95) },
  };
}
