import { randomBytes } from 'node:crypto';
import { createClient, type Client } from '@infermarket/client';
import { encryptionKeyPairFromSeed, keyPairFromSeed, percentile, sealJson, seedFromLabel, unsealJson, type Canonical, type JobInput } from '@infermarket/protocol';
import { sampleJobInput } from '../testnet/inputs.js';
import { closedLoop, type LoopResult } from './closed-loop.js';
import { median, type BenchRow } from './harness.js';
import { startLiveNet } from './live-net.js';
import { machineLoadNote } from './machine-load.js';

/** Settings of the privacy suite (fixed so runs compare; `quick` only shrinks the counts). */
export const PRIVACY_SETTINGS = Object.freeze({
  models: ['digits', 'charlm'] as const,
  maxTokens: 16,
  inFlight: 8,
  bidWindowMs: 50,
  seed: 9,
});

/** One job as the client sees it, public or private: submit, stream, stop the clock at the (opened) result. */
function timedJob(client: Client, opts: { model: string; input: JobInput; private: boolean }): Promise<{ ms: number; jobId: string } | null> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: { ms: number; jobId: string } | null): void => {
      if (!done) (done = true), resolve(v);
    };
    client
      .submit({ model: opts.model, input: opts.input, maxPriceMicro: 5_000n, ...(opts.private ? { private: true } : {}) })
      .then(({ jobId }) => client.stream(jobId, { timeoutMs: 30_000, onResult: ({ output }) => finish(output.kind === 'sealed' ? null : { ms: performance.now() - t0, jobId }) }))
      .then(
        () => finish(null),
        () => finish(null),
      );
  });
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * What privacy costs: the same load through the same live market and miner, public jobs vs private ones
 * (input sealed to a per-job key, the key handed to the miner after assignment — one extra client round
 * trip —, output sealed back). Latency at concurrency 1 (p50/p95, interleaved chunks) and throughput at
 * `inFlight` jobs in flight, per model; and the cost of sealing itself.
 */
export async function privacySuite(ctx: { quick: boolean; log: (m: string) => void }): Promise<BenchRow[]> {
  const S = PRIVACY_SETTINGS;
  const chunks = ctx.quick ? 2 : 4;
  const perChunk = ctx.quick ? 10 : 30;
  const windowJobs = ctx.quick ? 24 : 80;
  const rows: BenchRow[] = [];

  // sealing alone: a digits input (784 float32) sealed and opened
  const input = sampleJobInput('digits', 1).input as unknown as Canonical;
  const jk = encryptionKeyPairFromSeed(new Uint8Array(randomBytes(32)));
  const reps = ctx.quick ? 200 : 1_000;
  let t0 = performance.now();
  const boxes = Array.from({ length: reps }, () => sealJson(jk.publicKey, input, randomBytes(56)));
  const sealUs = ((performance.now() - t0) * 1000) / reps;
  t0 = performance.now();
  for (const b of boxes) unsealJson(jk, b);
  const openUs = ((performance.now() - t0) * 1000) / reps;
  rows.push({ suite: 'privacy', name: 'seal + open a digits input (3 KiB)', value: round(sealUs + openUs), unit: 'µs', min: round(sealUs + openUs), max: round(sealUs + openUs), repeats: reps, note: `one pass of ${reps}: seal ${round(sealUs)} µs, open ${round(openUs)} µs (x25519 + HKDF + XChaCha20-Poly1305)` });

  const net = await startLiveNet({
    seed: S.seed,
    params: { auditRate: 0, bidWindowMs: S.bidWindowMs, challengeWindowMs: 50, jobDeadlineMs: 10_000, epochMs: 60_000 },
    miners: [{ models: [...S.models], variant: 'int8', concurrency: S.inFlight * 2, priceMicro: '1000' }],
  });
  try {
    const client = createClient({ url: net.url, key: keyPairFromSeed(seedFromLabel(`bench/${S.seed}/privacy-client`)) });
    await client.faucet(1_000_000_000n);
    for (const model of S.models) {
      const inputs = (n: number, base: number): JobInput[] => Array.from({ length: n }, (_, i) => sampleJobInput(model, base + i, { maxTokens: S.maxTokens }).input);
      const run = (jobs: JobInput[], inFlight: number, priv: boolean): Promise<LoopResult> =>
        closedLoop({ jobs: jobs.length, inFlight, job: (i) => timedJob(client, { model, input: jobs[i]!, private: priv }) });
      ctx.log(`privacy ${model}: warm-up`);
      await run(inputs(8, 0), 4, false);
      await run(inputs(8, 0), 4, true);
      // latency at concurrency 1, public and private chunks interleaved so drift hits both alike
      const lat = { public: [] as number[][], private: [] as number[][] };
      let failed = 0;
      for (let c = 0; c < chunks; c++) {
        ctx.log(`privacy ${model}: latency chunk ${c + 1}/${chunks}`);
        for (const priv of [false, true]) {
          const r = await run(inputs(perChunk, 1_000 + c * perChunk), 1, priv);
          failed += r.failed;
          lat[priv ? 'private' : 'public'].push(r.latencies);
        }
      }
      for (const p of [50, 95]) {
        const pub = lat.public.map((l) => percentile(l, p));
        const prv = lat.private.map((l) => percentile(l, p));
        const added = prv.map((x, i) => x - pub[i]!);
        rows.push({
          suite: 'privacy',
          name: `${model} latency p${p} added by privacy`,
          value: round(median(added), 2),
          unit: 'ms',
          min: round(Math.min(...added), 2),
          max: round(Math.max(...added), 2),
          repeats: chunks,
          note: `concurrency 1, to the result: public ${round(median(pub))} ms, private ${round(median(prv))} ms`,
        });
      }
      // throughput: windows of jobs at `inFlight`, public then private
      const tp = { public: [] as number[], private: [] as number[] };
      for (let w = 0; w < chunks; w++) {
        ctx.log(`privacy ${model}: throughput window ${w + 1}/${chunks}`);
        for (const priv of [false, true]) {
          const r = await run(inputs(windowJobs, 10_000 + w * windowJobs), S.inFlight, priv);
          failed += r.failed;
          tp[priv ? 'private' : 'public'].push((r.latencies.length * 1000) / r.elapsedMs);
        }
      }
      const ratios = tp.private.map((x, i) => x / tp.public[i]!);
      rows.push({
        suite: 'privacy',
        name: `${model} throughput, private ÷ public`,
        value: round(median(ratios), 3),
        unit: '×',
        min: round(Math.min(...ratios), 3),
        max: round(Math.max(...ratios), 3),
        repeats: chunks,
        note: `${S.inFlight} in flight: ${round(median(tp.private))} vs ${round(median(tp.public))} jobs/s${failed ? `; ${failed} jobs ended without a result` : ''}`,
      });
    }
  } finally {
    await net.stop();
  }
  if (rows[0]) rows[0].note = `${rows[0].note ?? ''}; ${machineLoadNote()}`;
  return rows;
}
