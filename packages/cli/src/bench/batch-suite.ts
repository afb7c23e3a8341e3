import { createClient, stackRows } from '@infermarket/client';
import { keyPairFromSeed, seedFromLabel } from '@infermarket/protocol';
import { sampleJobInput } from '../testnet/inputs.js';
import { closedLoop, marketJob } from './closed-loop.js';
import { startDirectWorker } from './direct-client.js';
import { median, type BenchRow } from './harness.js';
import { startLiveNet } from './live-net.js';
import { processCpuMs, selfCpuMs } from './proc-cpu.js';
import type { SuiteContext } from './suites.js';

/** Settings of the batch-job row (fixed so runs compare; `quick` only shrinks the counts). */
export const BATCH_SETTINGS = Object.freeze({
  model: 'heavy',
  variant: 'int8',
  /** Rows per job on the market side and per onnxruntime run on the direct side. */
  rows: 32,
  inFlight: 8,
  /** Jobs per block (`--quick`: `quickJobs`). */
  jobs: 60,
  quickJobs: 24,
  /** Alternating market/direct blocks (`--quick`: 2, so both orders run). */
  blocks: 4,
  quickBlocks: 2,
  /** No audits (the verification suite measures those); a short challenge window; the protocol's other defaults (offers). */
  params: Object.freeze({ auditRate: 0, challengeWindowMs: 50, jobDeadlineMs: 30_000, epochMs: 60_000 }),
  /** The offer's price per row and the client's max price per row. */
  priceMicro: '1000',
  maxPriceMicro: 5_000n,
  seed: 13,
});

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Heavy batch jobs of 32 rows through the market against direct onnxruntime at batch 32 (issue #13's target
 * ≥ 0.95×): the same rows (the direct worker's seeds: job i holds rows seedBase + 32·i + r), the same closed-loop
 * concurrency, in blocks alternating market → direct, direct → market. Market time stops at the miner's result
 * (as in the overhead suite); the miner runs each job as one onnxruntime run on its 32 rows.
 *
 * Rows: the direct baseline (rows/s), the market (rows/s), their ratio (the target), CPU per job per process.
 */
export async function batchSuite(ctx: SuiteContext): Promise<BenchRow[]> {
  const S = BATCH_SETTINGS;
  const blocks = ctx.quick ? S.quickBlocks : S.blocks;
  const jobs = ctx.quick ? S.quickJobs : S.jobs;
  const rows: BenchRow[] = [];
  const net = await startLiveNet({
    seed: S.seed,
    params: { ...S.params },
    miners: [{ models: [S.model], variant: S.variant, concurrency: 64, priceMicro: S.priceMicro }],
  });
  const direct = startDirectWorker();
  try {
    const label = `bench/${S.seed}/batch-client`;
    const client = createClient({ url: net.url, key: keyPairFromSeed(seedFromLabel(label)) });
    await client.faucet(5_000_000_000n);
    const marketPid = net.market.child?.pid;
    const minerPid = net.miners[0]?.child?.pid;
    if (!marketPid || !minerPid) throw new Error('bench: the market or miner process has no pid (not started?)');
    const record: Record<string, unknown> = { seed: S.seed, clientKeyLabel: label, model: S.model, variant: S.variant, rowsPerJob: S.rows, inFlight: S.inFlight, jobs, blocks, params: S.params, blocksRun: [] as unknown[] };
    ctx.record(record);
    const inputsOf = (seedBase: number) => Array.from({ length: jobs }, (_, i) => stackRows(Array.from({ length: S.rows }, (_, r) => sampleJobInput(S.model, seedBase + i * S.rows + r).input)));
    const marketBlock = async (seedBase: number) => {
      const inputs = inputsOf(seedBase); // made before the clock starts, as the direct side does
      const m0 = processCpuMs(marketPid);
      const n0 = processCpuMs(minerPid);
      const c0 = selfCpuMs();
      const loop = await closedLoop({ jobs, inFlight: S.inFlight, job: (i) => marketJob(client, { model: S.model, input: inputs[i]!, maxPriceMicro: S.maxPriceMicro, timeoutMs: 60_000 }) });
      return { loop, cpuMs: { market: processCpuMs(marketPid) - m0, miner: processCpuMs(minerPid) - n0, client: selfCpuMs() - c0 } };
    };
    const directBlock = (seedBase: number, b: number) => direct.run({ name: `heavy/batch${S.rows}/${b}`, model: S.model, variant: S.variant, maxTokens: 0, inFlight: S.inFlight, jobs, seedBase, batch: S.rows });

    ctx.log(`batch: warm-up (${S.model} ${S.variant}, ${S.rows} rows per job)`);
    await marketBlock(5_000_000);
    await directBlock(5_000_000, -1);
    const market: number[] = [];
    const dir: number[] = [];
    const ratios: number[] = [];
    const cpu: { market: number[]; miner: number[]; client: number[]; direct: number[] } = { market: [], miner: [], client: [], direct: [] };
    let failed = 0;
    for (let b = 0; b < blocks; b++) {
      const seedBase = 1_000_000 + b * jobs * S.rows;
      ctx.log(`batch: block ${b + 1}/${blocks} (${jobs} jobs of ${S.rows} rows, ${S.inFlight} in flight, ${b % 2 === 0 ? 'market first' : 'direct first'})`);
      // alternate which side goes first: a trend in the machine's load does not favour either
      const [m, d] = b % 2 === 0 ? [await marketBlock(seedBase), await directBlock(seedBase, b)] : await (async () => { const dd = await directBlock(seedBase, b); return [await marketBlock(seedBase), dd] as const; })();
      const mRate = (m.loop.latencies.length * S.rows * 1000) / m.loop.elapsedMs;
      const dRate = (d.latencies.length * S.rows * 1000) / d.elapsedMs;
      market.push(mRate);
      dir.push(dRate);
      ratios.push(mRate / dRate);
      failed += m.loop.failed;
      const per = (x: number, n: number): number => x / Math.max(1, n);
      cpu.market.push(per(m.cpuMs.market, m.loop.latencies.length));
      cpu.miner.push(per(m.cpuMs.miner, m.loop.latencies.length));
      cpu.client.push(per(m.cpuMs.client, m.loop.latencies.length));
      cpu.direct.push(per(d.cpuMs, d.latencies.length));
      (record.blocksRun as unknown[]).push({ block: b, seedBase, marketFirst: b % 2 === 0, market: { finished: m.loop.latencies.length, failed: m.loop.failed, elapsedMs: m.loop.elapsedMs, cpuMs: m.cpuMs }, direct: { finished: d.latencies.length, failed: d.failed, elapsedMs: d.elapsedMs, cpuMs: d.cpuMs } });
    }
    const v = median(ratios);
    rows.push({ suite: 'batch', name: `heavy direct onnxruntime at batch ${S.rows} (the batch-job baseline)`, value: median(dir), unit: 'rows/s', min: Math.min(...dir), max: Math.max(...dir), repeats: blocks, note: `${S.inFlight} in flight, ${S.rows} rows per run, ${S.variant}, one intra-op thread` });
    rows.push({ suite: 'batch', name: `heavy batch jobs of ${S.rows} rows through the market`, value: median(market), unit: 'rows/s', min: Math.min(...market), max: Math.max(...market), repeats: blocks, note: `${S.inFlight} jobs in flight; ${round(median(market) / S.rows, 1)} jobs/s${failed ? `; ${failed} jobs without a result` : ''}` });
    rows.push({
      suite: 'batch',
      name: `heavy batch jobs of ${S.rows} rows, market ÷ direct at batch ${S.rows}`,
      value: v,
      unit: '×',
      min: Math.min(...ratios),
      max: Math.max(...ratios),
      repeats: blocks,
      target: { op: '>=', value: 0.95, met: v >= 0.95 },
      note: `interleaved blocks, same rows both sides; market ${round(median(market), 0)} vs direct ${round(median(dir), 0)} rows/s`,
    });
    for (const [who, xs] of [
      ['market process', cpu.market],
      ['miner process', cpu.miner],
      ['client (the bench process)', cpu.client],
      ['direct onnxruntime process', cpu.direct],
    ] as const) {
      rows.push({ suite: 'batch', name: `heavy batch-${S.rows} CPU per job, ${who}`, value: median(xs), unit: 'ms', min: Math.min(...xs), max: Math.max(...xs), repeats: blocks, note: `per job of ${S.rows} rows; /proc ticks of 10 ms over the block for market and miner` });
    }
  } finally {
    await direct.close().catch(() => undefined);
    await net.stop();
  }
  return rows;
}
