import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from '@infermarket/client';
import { keyPairFromSeed, percentile, seedFromLabel } from '@infermarket/protocol';
import { sampleJobInput } from '../testnet/inputs.js';
import { closedLoop, marketJob, type LoopResult } from './closed-loop.js';
import type { DirectSpec } from './direct-worker.js';
import { machineLoadNote } from './machine-load.js';
import { median, type BenchRow } from './harness.js';
import { startLiveNet } from './live-net.js';

const DIRECT_WORKER = fileURLToPath(new URL('./direct-worker.js', import.meta.url));

/** Settings of the overhead suite (all fixed so runs compare; `quick` only shrinks the counts). */
export const OVERHEAD_SETTINGS = Object.freeze({
  models: ['digits', 'charlm', 'heavy'] as const,
  variant: 'int8',
  maxTokens: 16,
  /** Jobs in flight in the throughput test (the miner bids on up to twice that, so it never declines one). */
  inFlight: 8,
  /**
   * The market's fixed wait for bids (the default): counted in the "incl." latency, subtracted in the
   * "excl." one. Shorter windows lose bids on a loaded 2-core machine (the window's timer fires before
   * the bid waiting in the socket is read), which fails jobs with no-bids.
   */
  bidWindowMs: 50,
  seed: 8,
});

/** Run the direct side in its own process; resolves with each phase's loop result by name. */
function runDirect(spec: DirectSpec): Promise<Map<string, LoopResult>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DIRECT_WORKER, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`direct worker exited with code ${code}: ${err.slice(-500)}`));
      const phases = new Map<string, LoopResult>();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const j = JSON.parse(line) as LoopResult & { name: string };
        phases.set(j.name, j);
      }
      resolve(phases);
    });
  });
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Market overhead: the same honest miner process and the same closed-loop load, once through a live
 * market (real processes, HTTP + WebSocket on loopback, signing, matching, SQLite) and once calling
 * onnxruntime directly in a process of the same kind (same model, variant, one intra-op thread, same
 * number of jobs in flight). Reports the throughput ratio (physical limit 1.0) at `inFlight` jobs in
 * flight, and the latency the market adds at concurrency 1, per model (charlm per token).
 */
export async function overheadSuite(ctx: { quick: boolean; log: (m: string) => void }): Promise<BenchRow[]> {
  const S = OVERHEAD_SETTINGS;
  const latencyChunks = ctx.quick ? 2 : 5;
  const latencyJobs = ctx.quick ? 20 : 40;
  const windows = ctx.quick ? 2 : 4;
  const windowJobs = ctx.quick ? 40 : 120;
  const warmup = ctx.quick ? 10 : 30;
  const load = machineLoadNote();
  const rows: BenchRow[] = [];
  const net = await startLiveNet({
    seed: S.seed,
    params: { auditRate: 0, bidWindowMs: S.bidWindowMs, challengeWindowMs: 50, jobDeadlineMs: 10_000, epochMs: 60_000 },
    miners: [{ models: [...S.models], variant: S.variant, concurrency: S.inFlight * 2, priceMicro: '1000' }],
  });
  try {
    const client = createClient({ url: net.url, key: keyPairFromSeed(seedFromLabel(`bench/${S.seed}/client`)) });
    await client.faucet(1_000_000_000n);
    // the floor of one hop on this machine right now: an HTTP round trip to the same market process
    const rtts: number[] = [];
    for (let i = 0; i < (ctx.quick ? 20 : 100); i++) {
      const t0 = performance.now();
      await (await fetch(`${net.url}/v1/health`)).arrayBuffer();
      rtts.push(performance.now() - t0);
    }
    const floor = rtts.slice(5);
    rows.push({ suite: 'overhead', name: 'HTTP round trip to the market (GET /v1/health), p50', value: percentile(floor, 50), unit: 'ms', min: Math.min(...floor), max: percentile(floor, 95), repeats: floor.length, note: 'the cost of one hop here; spread = min … p95' });
    for (const model of S.models) {
      const perToken = model === 'charlm';
      const phases: DirectSpec['phases'] = [
        { name: 'warmup', inFlight: S.inFlight, jobs: warmup, seedBase: 0 },
        ...Array.from({ length: latencyChunks }, (_, c) => ({ name: `latency-${c}`, inFlight: 1, jobs: latencyJobs, seedBase: 1_000 + c * latencyJobs })),
        ...Array.from({ length: windows }, (_, w) => ({ name: `throughput-${w}`, inFlight: S.inFlight, jobs: windowJobs, seedBase: 10_000 + w * windowJobs })),
      ];
      ctx.log(`overhead ${model}: direct onnxruntime (${phases.length} phases)`);
      const direct = await runDirect({ model, variant: S.variant, maxTokens: S.maxTokens, phases });
      ctx.log(`overhead ${model}: through the market`);
      const market = new Map<string, LoopResult>();
      let failed = 0;
      for (const ph of phases) {
        const inputs = Array.from({ length: ph.jobs }, (_, i) => sampleJobInput(model, ph.seedBase + i, { maxTokens: S.maxTokens }).input);
        const r = await closedLoop({ jobs: ph.jobs, inFlight: ph.inFlight, job: (i) => marketJob(client, { model, input: inputs[i]!, maxPriceMicro: 5_000n }) });
        // the warm-up is not measured: its failures (bids late while the miner's sessions finish loading) are not counted either
        if (ph.name !== 'warmup') failed += r.failed;
        market.set(ph.name, r);
      }
      // throughput: finished jobs (tokens for charlm) per second of each window
      const rate = (r: LoopResult): number => ((perToken ? r.tokens : r.latencies.length) * 1000) / r.elapsedMs;
      const tp = (m: Map<string, LoopResult>): number[] => Array.from({ length: windows }, (_, w) => rate(m.get(`throughput-${w}`)!));
      const directRate = median(tp(direct));
      const ratios = tp(market).map((x) => x / directRate);
      const unitRate = perToken ? 'tokens/s' : 'jobs/s';
      const tpRow = rows.length;
      rows.push({
        suite: 'overhead',
        name: `${model} throughput, market ÷ direct`,
        value: median(ratios),
        unit: '×',
        min: Math.min(...ratios),
        max: Math.max(...ratios),
        repeats: windows,
        ...(model === 'heavy' ? { target: { op: '>=' as const, value: 0.95, met: median(ratios) >= 0.95 } } : {}),
        note: `${S.inFlight} in flight: ${round(median(tp(market)), 0)} vs ${round(directRate, 0)} ${unitRate}`,
      });
      // latency at concurrency 1: per chunk, market percentile − direct percentile (per token for charlm)
      const perJob = (m: Map<string, LoopResult>, c: number): LoopResult => m.get(`latency-${c}`)!;
      const tokensPerJob = perToken ? S.maxTokens : 1;
      for (const p of [50, 95]) {
        const added = Array.from({ length: latencyChunks }, (_, c) => (percentile(perJob(market, c).latencies, p) - percentile(perJob(direct, c).latencies, p)) / tokensPerJob);
        const all = (m: Map<string, LoopResult>): number[] => Array.from({ length: latencyChunks }, (_, c) => perJob(m, c).latencies).flat();
        const note = `concurrency 1${perToken ? `, per token of ${S.maxTokens}` : ''}; market ${round(percentile(all(market), p))} ms vs direct ${round(percentile(all(direct), p), 3)} ms per job`;
        rows.push({ suite: 'overhead', name: `${model} added latency p${p}, incl. ${S.bidWindowMs} ms bid window`, value: median(added), unit: 'ms', min: Math.min(...added), max: Math.max(...added), repeats: latencyChunks, note });
        if (p === 50) {
          const excl = added.map((a) => a - S.bidWindowMs / tokensPerJob);
          const v = median(excl);
          rows.push({ suite: 'overhead', name: `${model} added latency p50, excl. bid window`, value: v, unit: 'ms', min: Math.min(...excl), max: Math.max(...excl), repeats: latencyChunks, target: { op: '<=', value: 1, met: v <= 1 } });
        }
      }
      if (!perToken) {
        // the market's own share: its clock from receiving the submit to having the result (JobView.ttftMs),
        // minus the bid window and the compute; the rest of the added latency is the client's HTTP and stream hops
        const ids = Array.from({ length: latencyChunks }, (_, c) => perJob(market, c).jobIds).flat();
        const views = await Promise.all(ids.map((id) => client.job(id).catch(() => null)));
        const internal = views.map((v) => v?.ttftMs).filter((x): x is number => typeof x === 'number');
        if (internal.length) {
          const directP50 = percentile(Array.from({ length: latencyChunks }, (_, c) => perJob(direct, c).latencies).flat(), 50);
          const v = percentile(internal, 50) - S.bidWindowMs - directP50;
          rows.push({ suite: 'overhead', name: `${model} market-internal share of the added p50`, value: v, unit: 'ms', min: v, max: v, repeats: internal.length, note: 'market clock, submit received → result committed, minus bid window and compute' });
        }
      }
      if (failed > 0) rows[tpRow]!.note += `; ${failed} jobs through the market ended without a result`;
      ctx.log(`overhead ${model}: ratio ${round(median(ratios))}, added p50 excl. bid window ${round(rows[tpRow + 2]!.value)} ms`);
    }
  } finally {
    await net.stop();
  }
  if (rows[0]) rows[0].note = `${rows[0].note ?? ''}; ${load}`;
  return rows;
}
