import { createClient } from '@infermarket/client';
import { keyPairFromSeed, percentile, seedFromLabel } from '@infermarket/protocol';
import { sampleJobInput } from '../testnet/inputs.js';
import { closedLoop, marketJob, type LoopResult } from './closed-loop.js';
import { startDirectWorker } from './direct-client.js';
import type { DirectAnswer } from './direct-worker.js';
import { median, type BenchRow } from './harness.js';
import { startLiveNet, type LiveNet } from './live-net.js';
import { processCpuMs, selfCpuMs } from './proc-cpu.js';
import type { SuiteContext } from './suites.js';

/** Settings of the market suite (fixed so runs compare; `quick` only shrinks the counts). */
export const OVERHEAD_SETTINGS = Object.freeze({
  models: ['digits', 'charlm', 'heavy'] as const,
  variant: 'int8',
  maxTokens: 16,
  /** Jobs in flight swept to find the knee (full run; `--quick` uses `quickInFlight`). */
  inFlight: Object.freeze([1, 2, 4, 8, 16, 32, 64]),
  quickInFlight: Object.freeze([1, 8, 64]),
  /** charlm's throughput is measured at these levels only (its jobs are 16 tokens long). */
  charlmInFlight: Object.freeze([1, 8]),
  /** Alternating market/direct blocks per measured condition (full run; `--quick`: 1). */
  blocks: 3,
  /** Jobs per throughput block: max(this, 10 × in flight) (`--quick`: max(20, 4 × in flight)). */
  minBlockJobs: 40,
  /** Jobs per concurrency-1 latency block. */
  latencyBlockJobs: 40,
  /** The miner's `--concurrency`: at least the most jobs in flight, so it never declines one for capacity. */
  minerConcurrency: 64,
  /** The knee: the fewest jobs in flight whose throughput reaches this share of the sweep's peak. */
  kneeShare: 0.9,
  /**
   * Protocol parameters given to the market. No audits (verification has its own suite), a short
   * challenge window. `matchingMode` and `bidWindowMs` are left at the protocol's defaults; the suite
   * reads the effective values back from `GET /v1/params` and reports them.
   */
  params: Object.freeze({ auditRate: 0, challengeWindowMs: 50, jobDeadlineMs: 10_000, epochMs: 60_000 }),
  seed: 8,
});

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** One measured market block: the client's loop plus the CPU each process spent over it. */
interface MarketBlock {
  loop: LoopResult;
  cpuMs: { market: number; miner: number; client: number };
}

/** A condition measured in alternating blocks: per block the market side and the direct side. */
interface Paired {
  market: MarketBlock[];
  direct: DirectAnswer[];
}

/** The effective matching of the market under test, read from `GET /v1/params`. */
export interface MatchingInfo {
  /** `params.matchingMode` when the protocol has one; `auction` when it has only the per-job auction. */
  matchingMode: string;
  /** The per-job bid window (counts in the latency only in auction mode). */
  bidWindowMs: number;
  /** True when the bid window is part of every job's latency. */
  windowInLatency: boolean;
}

/** Read the market's matching mode and bid window from its parameters. */
export function matchingInfo(params: Record<string, unknown>): MatchingInfo {
  const mode = typeof params.matchingMode === 'string' ? params.matchingMode : 'auction';
  const bidWindowMs = Number(params.bidWindowMs ?? 0);
  return { matchingMode: mode, bidWindowMs, windowInLatency: mode === 'auction' };
}

/** The knee of a throughput sweep: the fewest jobs in flight reaching `share` of the peak. */
export function kneeOf(points: { inFlight: number; perSec: number }[], share: number): { inFlight: number; perSec: number; peak: { inFlight: number; perSec: number } } {
  const peak = points.reduce((a, b) => (b.perSec > a.perSec ? b : a));
  const knee = [...points].sort((a, b) => a.inFlight - b.inFlight).find((p) => p.perSec >= share * peak.perSec) ?? peak;
  return { ...knee, peak };
}

/**
 * The market against direct onnxruntime, like with like: the same inputs (same seeds), the same closed-loop
 * concurrency, the same batch size (1 row per job), in blocks that alternate market → direct, direct →
 * market, so drift in the machine's load falls on both sides alike. Timings are `performance.now()` on the
 * client side of each; CPU is per process (market and miner from /proc, the client — this process — and
 * the direct worker from `process.cpuUsage`).
 *
 * Rows: per model, per-job latency at concurrency 1 (market, added over direct, p50/p95), charlm's
 * time to first token and its per-token figures as extra rows; per model, throughput against jobs in flight
 * (market and direct jobs/s, the ratio, the knee), CPU per job per process at the peak.
 */
export async function overheadSuite(ctx: SuiteContext): Promise<BenchRow[]> {
  const S = OVERHEAD_SETTINGS;
  const blocks = ctx.quick ? 1 : S.blocks;
  const levels = ctx.quick ? S.quickInFlight : S.inFlight;
  const blockJobs = (n: number): number => (ctx.quick ? Math.max(20, 4 * n) : Math.max(S.minBlockJobs, 10 * n));
  const latencyJobs = ctx.quick ? 20 : S.latencyBlockJobs;
  const rows: BenchRow[] = [];
  const net = await startLiveNet({
    seed: S.seed,
    params: { ...S.params },
    miners: [{ models: [...S.models], variant: S.variant, concurrency: S.minerConcurrency, priceMicro: '1000' }],
  });
  const direct = startDirectWorker();
  try {
    const client = createClient({ url: net.url, key: keyPairFromSeed(seedFromLabel(`bench/${S.seed}/client`)) });
    await client.faucet(1_000_000_000n);
    const params = (await (await fetch(`${net.url}/v1/params`)).json()) as Record<string, unknown>;
    const M = matchingInfo(params);
    const marketPid = net.market.child?.pid;
    const minerPid = net.miners[0]?.child?.pid;
    if (!marketPid || !minerPid) throw new Error('bench: the market or miner process has no pid (not started?)');
    const record: Record<string, unknown> = { seed: S.seed, clientKeyLabel: `bench/${S.seed}/client`, variant: S.variant, maxTokens: S.maxTokens, blocks, levels, ...M, params, conditions: [] as unknown[] };
    ctx.record(record);
    const conditions = record.conditions as unknown[];
    const modeNote = M.windowInLatency ? `matching ${M.matchingMode}: includes the ${M.bidWindowMs} ms bid window` : `matching ${M.matchingMode}`;

    const marketBlock = async (model: string, inFlight: number, jobs: number, seedBase: number): Promise<MarketBlock> => {
      const inputs = Array.from({ length: jobs }, (_, i) => sampleJobInput(model, seedBase + i, { maxTokens: S.maxTokens }).input);
      const m0 = processCpuMs(marketPid);
      const n0 = processCpuMs(minerPid);
      const c0 = selfCpuMs();
      const loop = await closedLoop({ jobs, inFlight, job: (i) => marketJob(client, { model, input: inputs[i]!, maxPriceMicro: 5_000n }) });
      return { loop, cpuMs: { market: processCpuMs(marketPid) - m0, miner: processCpuMs(minerPid) - n0, client: selfCpuMs() - c0 } };
    };
    const paired = async (kind: 'warm-up' | 'latency' | 'throughput', model: string, inFlight: number, jobs: number, seedBase: number, n: number): Promise<Paired> => {
      const out: Paired = { market: [], direct: [] };
      for (let b = 0; b < n; b++) {
        const seed = seedBase + b * jobs;
        const d = (): Promise<DirectAnswer> => direct.run({ name: `${model}/${inFlight}/${b}`, model, variant: S.variant, maxTokens: S.maxTokens, inFlight, jobs, seedBase: seed });
        // alternate which side goes first: a trend in the machine's load does not favour either
        if (b % 2 === 0) {
          out.market.push(await marketBlock(model, inFlight, jobs, seed));
          out.direct.push(await d());
        } else {
          out.direct.push(await d());
          out.market.push(await marketBlock(model, inFlight, jobs, seed));
        }
      }
      conditions.push({ kind, model, inFlight, jobs, seedBase, market: out.market.map((m) => ({ finished: m.loop.latencies.length, failed: m.loop.failed, elapsedMs: m.loop.elapsedMs, tokens: m.loop.tokens, cpuMs: m.cpuMs, p50Ms: percentile(m.loop.latencies, 50) })), direct: out.direct.map((d) => ({ finished: d.latencies.length, failed: d.failed, elapsedMs: d.elapsedMs, tokens: d.tokens, cpuMs: d.cpuMs, p50Ms: percentile(d.latencies, 50) })) });
      return out;
    };

    for (const [mi, model] of S.models.entries()) {
      const gen = model === 'charlm';
      const seedBase = 100_000 * (mi + 1);
      ctx.log(`market ${model}: warm-up`);
      await paired('warm-up', model, 4, ctx.quick ? 10 : 30, seedBase, 1);
      conditions.pop(); // the warm-up is not measured

      // --- latency at concurrency 1, per job
      // latency blocks are small: even --quick runs two, so both orders (market first, direct first) run
      const latBlocks = Math.max(2, blocks);
      ctx.log(`market ${model}: latency at concurrency 1 (${latBlocks} × 2 blocks of ${latencyJobs})`);
      const lat = await paired('latency', model, 1, latencyJobs, seedBase + 10_000, latBlocks);
      const failedLat = lat.market.reduce((a, m) => a + m.loop.failed, 0);
      const all = (xs: { latencies: number[] }[]): number[] => xs.flatMap((x) => x.latencies);
      for (const p of [50, 95]) {
        const added = lat.market.map((m, b) => percentile(m.loop.latencies, p) - percentile(lat.direct[b]!.latencies, p));
        const v = median(added);
        const target = p === 50 && !gen ? { target: { op: '<=' as const, value: 1, met: v <= 1 } } : {};
        rows.push({
          suite: 'overhead',
          name: `${model} added latency per job p${p}, concurrency 1`,
          value: v,
          unit: 'ms',
          min: Math.min(...added),
          max: Math.max(...added),
          repeats: latBlocks,
          ...target,
          note: `${modeNote}; market ${round(percentile(all(lat.market.map((m) => m.loop)), p), 3)} ms vs direct ${round(percentile(all(lat.direct), p), 3)} ms per job${gen ? ` of ${S.maxTokens} tokens` : ''}${failedLat ? `; ${failedLat} jobs without a result` : ''}`,
        });
        if (p === 50 && M.windowInLatency) {
          const excl = added.map((a) => a - M.bidWindowMs);
          rows.push({ suite: 'overhead', name: `${model} added latency per job p50 minus the bid window (arithmetic)`, value: median(excl), unit: 'ms', min: Math.min(...excl), max: Math.max(...excl), repeats: latBlocks, note: `the row above less ${M.bidWindowMs} ms; the window's own overrun stays in` });
        }
      }
      if (gen) {
        // time to first token: the target for generation; then per-token figures as extra rows only
        const ttft = lat.market.map((m, b) => percentile(m.loop.ttfts, 50) - percentile(lat.direct[b]!.ttfts, 50));
        const v = median(ttft);
        rows.push({ suite: 'overhead', name: 'charlm added time to first token p50, concurrency 1', value: v, unit: 'ms', min: Math.min(...ttft), max: Math.max(...ttft), repeats: latBlocks, target: { op: '<=', value: 2, met: v <= 2 }, note: `${modeNote}; market ${round(percentile(lat.market.flatMap((m) => m.loop.ttfts), 50), 3)} ms vs direct ${round(percentile(lat.direct.flatMap((d) => d.ttfts), 50), 3)} ms` });
        const perTok = lat.market.map((m, b) => (percentile(m.loop.latencies, 50) - percentile(lat.direct[b]!.latencies, 50)) / S.maxTokens);
        rows.push({ suite: 'overhead', name: `charlm added latency p50 per token (extra: per job ÷ ${S.maxTokens})`, value: median(perTok), unit: 'ms/token', min: Math.min(...perTok), max: Math.max(...perTok), repeats: latBlocks, note: 'not a target: the per-job row above is the latency a client sees' });
      }

      // --- throughput against jobs in flight
      const sweep: { inFlight: number; perSec: number; direct: number; pair: Paired }[] = [];
      for (const n of gen ? S.charlmInFlight : levels) {
        const jobs = blockJobs(n);
        ctx.log(`market ${model}: ${n} in flight (${blocks} × 2 blocks of ${jobs})`);
        const pair = await paired('throughput', model, n, jobs, seedBase + 20_000 + n * 1_000, blocks);
        const rate = (r: { latencies: number[]; elapsedMs: number }): number => (r.latencies.length * 1000) / r.elapsedMs;
        const mk = pair.market.map((m) => rate(m.loop));
        const dr = pair.direct.map(rate);
        const ratios = mk.map((x, b) => x / dr[b]!);
        const failed = pair.market.reduce((a, m) => a + m.loop.failed, 0);
        sweep.push({ inFlight: n, perSec: median(mk), direct: median(dr), pair });
        rows.push({
          suite: 'overhead',
          name: `${model} jobs/s through the market, ${n} in flight`,
          value: median(mk),
          unit: 'jobs/s',
          min: Math.min(...mk),
          max: Math.max(...mk),
          repeats: blocks,
          note: `direct ${round(median(dr), 0)} jobs/s at ${n} in flight, batch 1; market ÷ direct ${round(median(ratios), 4)}×${failed ? `; ${failed} jobs without a result` : ''}${gen ? `; ${round((median(mk) * S.maxTokens), 0)} tokens/s` : ''}`,
        });
      }
      const k = kneeOf(sweep, S.kneeShare);
      const peak = sweep.find((s) => s.inFlight === k.peak.inFlight)!;
      if (!gen) {
        rows.push({ suite: 'overhead', name: `${model} throughput knee`, value: k.inFlight, unit: 'in flight', min: k.inFlight, max: k.inFlight, repeats: 1, note: `fewest in flight reaching ${S.kneeShare * 100}% of the peak, ${round(k.peak.perSec, 0)} jobs/s at ${k.peak.inFlight} in flight` });
        const ratios = peak.pair.market.map((m, b) => (m.loop.latencies.length / m.loop.elapsedMs) / (peak.pair.direct[b]!.latencies.length / peak.pair.direct[b]!.elapsedMs));
        rows.push({ suite: 'overhead', name: `${model} throughput at the peak, market ÷ direct (batch 1 both)`, value: median(ratios), unit: '×', min: Math.min(...ratios), max: Math.max(...ratios), repeats: blocks, note: `${peak.inFlight} in flight: ${round(peak.perSec, 0)} vs ${round(peak.direct, 0)} jobs/s` });
      }
      if (model === 'digits') {
        const v = k.peak.perSec;
        rows.push({ suite: 'overhead', name: 'digits single-row jobs/s through the market, peak of the sweep', value: v, unit: 'jobs/s', min: Math.min(...peak.pair.market.map((m) => (m.loop.latencies.length * 1000) / m.loop.elapsedMs)), max: Math.max(...peak.pair.market.map((m) => (m.loop.latencies.length * 1000) / m.loop.elapsedMs)), repeats: blocks, target: { op: '>=', value: 1_000, met: v >= 1_000 }, note: `at ${peak.inFlight} in flight; ${modeNote}` });
      }
      // CPU per finished job per process at the peak: where the market's cost goes
      const per = (pick: (m: MarketBlock) => number): number[] => peak.pair.market.map((m) => pick(m) / Math.max(1, m.loop.latencies.length));
      for (const [who, xs] of [
        ['market process', per((m) => m.cpuMs.market)],
        ['miner process', per((m) => m.cpuMs.miner)],
        ['client (the bench process)', per((m) => m.cpuMs.client)],
        ['direct onnxruntime process', peak.pair.direct.map((d) => d.cpuMs / Math.max(1, d.latencies.length))],
      ] as const) {
        rows.push({ suite: 'overhead', name: `${model} CPU per job, ${who}`, value: median(xs), unit: 'ms', min: Math.min(...xs), max: Math.max(...xs), repeats: blocks, note: `at ${peak.inFlight} in flight (the peak); /proc ticks of 10 ms over the block for market and miner` });
      }
      ctx.log(`market ${model}: added p50 ${round(rows.find((r) => r.name === `${model} added latency per job p50, concurrency 1`)!.value)} ms, peak ${round(k.peak.perSec, 0)} jobs/s at ${k.peak.inFlight} in flight`);
    }
    // batch jobs (heavy, 32 rows per job, against direct onnxruntime at batch 32) are the `batch` suite
  } finally {
    await direct.close().catch(() => undefined);
    await net.stop();
  }
  return rows;
}
