import { createPrng, createRuntime, createSegmentRunner, tensorHash, type ModelId, type Variant } from '@infermarket/inference';
import { hashPayload, keyPairFromSeed, sealEnvelope, seedFromLabel, traceRoot } from '@infermarket/protocol';
import { median, type BenchRow } from './harness.js';
import { machineLoadNote } from './machine-load.js';
import { startLiveNet } from './live-net.js';
import { seededTensorInput, startCorruptMiner } from './corrupt-miner.js';
import type { SuiteContext } from './suites.js';

/** Settings of the disputes suite (issue #15). */
export const DISPUTES_SETTINGS = Object.freeze({
  model: 'heavy' as ModelId,
  variant: 'int8' as Variant,
  /** A batch large enough that a layer's compute is well above the per-run overhead of a session. */
  batch: 64,
  referees: 2,
  validators: 3,
  seed: 15,
  params: {
    matchingMode: 'auction',
    auditRate: 1,
    bidWindowMs: 100,
    challengeWindowMs: 100,
    auditWindowMs: 60_000,
    disputeWindowMs: 60_000,
    bisectionRoundMs: 10_000,
    jobDeadlineMs: 30_000,
    unbondingPeriodMs: 600_000,
    jailDurationMs: 0,
    maxSlashes: 100,
    slashFractionBps: 10,
    /** Audit every row of the batch, so a quorum referee re-executes the whole job (as a bisection referee's layer covers every row). */
    auditSampleRows: 64,
  },
});

interface Dispute {
  jobId: string;
  layer: number;
  openedAt: number;
  resolvedAt: number;
  /** Halvings + the referees' round (bisection); 1 (quorum). */
  rounds: number;
  /** Referees' re-execution compute, summed over the panel (ms, as each executor timed it). */
  refereeMs: number;
  minerCorrect: boolean;
  segment: [number, number] | null;
}

/**
 * Disputes settled live, by each `disputeMode`: a market and 3 honest validators as OS processes
 * (`startLiveNet`, as `infermarket testnet` starts them: real sockets, the market's log and timers, one
 * intra-op thread per validator, the validator's own warm-up of its reference and one-layer sessions), and in
 * this process a miner that corrupts one layer of each job (layers in turn, so disputes land evenly over them).
 * Each job is audited (auditRate 1), the honest auditor reports the mismatch, and the dispute is settled by a
 * quorum re-executing the whole model or by the bisection game with referees re-executing one layer. Jobs run
 * one at a time, each waited on (the miner's `job.lost`); the first job on each layer is not counted.
 * Referee compute is what each referee's executor timed (`audit.sent` of purpose `dispute`, or `bisect.segment`).
 * Latency: the challenger's report (its `audit.sent` line) to the miner's `job.lost` (slashed).
 */
async function runMode(model: ModelId, mode: 'quorum' | 'bisection', jobs: number, log: (m: string) => void): Promise<{ disputes: Dispute[]; fullMs: number[]; hashMs: number[] }> {
  const S = { ...DISPUTES_SETTINGS, model };
  const runtime = createRuntime({ log: () => {} });
  const L = runtime.manifest.models[S.model].layerBoundaries.length + 1;
  const net = await startLiveNet({ params: { ...S.params, disputeMode: mode, disputeQuorum: S.referees }, miners: [], validators: S.validators, validatorModels: [S.model], seed: S.seed, settleMs: 3_000 });
  const lostAt = new Map<string, number>();
  const turns = new Map<string, number>();
  const finished = new Map<string, () => void>();
  // stopped on every path: a suite that fails must not leave the miner reconnecting to a stopped market
  let miner: ReturnType<typeof startCorruptMiner> | null = null;
  try {
    const layerOf = new Map<string, number>();
    miner = startCorruptMiner({
      wsUrl: net.wsUrl,
      keys: keyPairFromSeed(seedFromLabel('bench-disputes/miner')),
      runtime,
      model: S.model,
      variant: S.variant,
      corruptLayer: (id) => layerOf.get(id) ?? null,
      log: (e) => {
        if (e.event !== 'ready') log(`disputes bench miner: ${JSON.stringify(e)}`);
      },
      onMessage: (msg) => {
        if (msg.type === 'bisect.turn') turns.set(msg.jobId, (turns.get(msg.jobId) ?? 0) + 1);
        if (msg.type === 'job.lost' || msg.type === 'job.settled') {
          lostAt.set(msg.jobId, Date.now());
          finished.get(msg.jobId)?.();
        }
      },
    });
    await miner.ready();
    const client = keyPairFromSeed(seedFromLabel('bench-disputes/client'));
    await fetch(`${net.url}/v1/faucet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: client.address, amountMicro: '5000000000' }) });
    const rng = createPrng(S.seed);
    const inDim = runtime.manifest.models[S.model].inputs[0]!.shape[1] as number;
    let nonce = Date.now() * 1000;
    const health = (await (await fetch(`${net.url}/v1/health`)).json()) as { nowMs?: number };
    const skew = typeof health.nowMs === 'number' ? health.nowMs - Date.now() : 0;
    for (let i = 0; i < jobs + L; i++) {
      const jobId = `${mode}-${i}`;
      layerOf.set(jobId, 1 + (i % L));
      const input = seededTensorInput([S.batch, inDim], () => rng.next());
      const done = new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`disputes bench: job ${jobId} did not finish in 120 s`)), 120_000);
        finished.set(jobId, () => (clearTimeout(t), resolve()));
      });
      const envelope = sealEnvelope(client, 'job.submit', { jobId, model: S.model, rows: S.batch, inputHash: hashPayload(input), maxPriceMicro: '1000000', nonce: String(++nonce), expiresAtMs: Date.now() + skew + 30_000 });
      const res = await fetch(`${net.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope, input }) });
      if (res.status !== 202) throw new Error(`disputes bench: submit ${jobId}: ${res.status} ${await res.text()}`);
      await done;
    }
    await miner.stop();
    const vlines = net.validators.flatMap((p) => net.lines(p));
    // a validator that could not judge a boundary or re-execute a segment says why
    for (const e of vlines) if (e.event === 'bisect.error' || e.event === 'bisect.segment.error') log(`disputes bench (${mode}) validator: ${JSON.stringify(e)}`);
    const disputes: Dispute[] = [];
    for (let i = L; i < jobs + L; i++) {
      const jobId = `${mode}-${i}`;
      const challenge = vlines.find((e) => e.jobId === jobId && e.event === 'audit.sent' && e.purpose === 'audit');
      const refereeLines = vlines.filter((e) => e.jobId === jobId && (mode === 'bisection' ? e.event === 'bisect.segment' : e.event === 'audit.sent' && e.purpose === 'dispute'));
      if (!challenge || !lostAt.has(jobId) || refereeLines.length === 0) {
        log(`disputes bench (${mode}): job ${jobId} was not settled by referees`);
        continue;
      }
      const seg = mode === 'bisection' ? refereeLines[0]! : null;
      disputes.push({
        jobId,
        layer: layerOf.get(jobId)!,
        openedAt: challenge.t as number,
        resolvedAt: lostAt.get(jobId)!,
        rounds: mode === 'bisection' ? (turns.get(jobId) ?? 0) + 1 : 1,
        refereeMs: refereeLines.reduce((a, e) => a + (e.ms as number), 0),
        minerCorrect: refereeLines.some((e) => e.minerCorrect === true),
        segment: seg ? [seg.fromIndex as number, seg.toIndex as number] : null,
      });
    }
    // a full traced re-execution and the hashing of its trace on the same kind of inputs, in this process
    const fullMs: number[] = [];
    const hashMs: number[] = [];
    const entry = runtime.manifest.models[S.model];
    for (let i = 0; i < Math.min(jobs, 20); i++) {
      const x = seededTensorInput([S.batch, inDim], () => rng.next());
      const data = Buffer.from((x as { tensor: { data: string } }).tensor.data, 'base64');
      const t = { dtype: 'float32' as const, dims: [S.batch, inDim], data: new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4) };
      const r = await runtime.reference(S.model, S.variant, { [entry.inputs[0]!.name]: t }, { intermediates: true });
      fullMs.push(r.ms);
      const h0 = performance.now();
      // the extra work of the commitment: the hidden boundaries' hashes and the Merkle root (the input and output hashes exist anyway)
      traceRoot(['0'.repeat(64), ...entry.layerBoundaries.map((b) => tensorHash(r.outputs[b]!)), '0'.repeat(64)]);
      hashMs.push(performance.now() - h0);
    }
    return { disputes, fullMs, hashMs };
  } finally {
    await miner?.stop();
    await net.stop();
    await runtime.close();
  }
}

/**
 * The same compute warm and in one process, away from the sockets: a full reference run against each one-layer
 * segment run on the same inputs, in alternating blocks (the machine's load moves both alike). Per layer:
 * segment ÷ full, medians over blocks.
 */
async function warmSegmentRatios(model: ModelId, blocks: number, runs: number): Promise<{ perLayer: number[]; blocks: number[][]; fullMs: number }> {
  const S = { ...DISPUTES_SETTINGS, model };
  const runtime = createRuntime({ log: () => {} });
  try {
    const entry = runtime.manifest.models[S.model];
    const seg = createSegmentRunner({ manifest: runtime.manifest, model: S.model, variant: S.variant, modelsDir: runtime.modelsDir });
    const rng = createPrng(S.seed + 1);
    const dims = [S.batch, entry.inputs[0]!.shape[1] as number];
    const x = { dtype: 'float32' as const, dims, data: Float32Array.from({ length: dims[0]! * dims[1]! }, () => rng.next()) };
    const r = await runtime.reference(S.model, S.variant, { [entry.inputs[0]!.name]: x }, { intermediates: true });
    const bounds = [x, ...entry.layerBoundaries.map((b) => r.outputs[b]!)];
    const L = bounds.length;
    for (let k = 1; k <= L; k++) await seg.run(k, bounds[k - 1]!);
    const time = async (f: () => Promise<unknown>): Promise<number> => {
      const t = performance.now();
      for (let i = 0; i < runs; i++) await f();
      return (performance.now() - t) / runs;
    };
    const out: number[][] = [];
    const fulls: number[] = [];
    for (let b = 0; b < blocks; b++) {
      const full = await time(() => runtime.reference(S.model, S.variant, { [entry.inputs[0]!.name]: x }));
      fulls.push(full);
      const row: number[] = [];
      for (let k = 1; k <= L; k++) row.push((await time(() => seg.run(k, bounds[k - 1]!))) / full);
      out.push(row);
    }
    return { perLayer: [...Array(L).keys()].map((k) => median(out.map((row) => row[k]!))), blocks: out, fullMs: median(fulls) };
  } finally {
    await runtime.close();
  }
}

/** Layers of a model's trace (the manifest's `layerBoundaries` + 1). @throws Error for a model that commits no trace. */
function layersOf(model: ModelId): number {
  const rt = createRuntime({ log: () => {} });
  const e = rt.manifest.models[model];
  if (!e || e.inputs.length !== 1 || e.layerBoundaries.length === 0) throw new Error(`--model ${JSON.stringify(model)}: the disputes suite needs a model with a layer trace (digits, heavy, deep)`);
  void rt.close();
  return e.layerBoundaries.length + 1;
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

/** Dispute cost and latency live, by `disputeMode` (issue #15): referee compute bisection ÷ quorum against ≈ 1/L, rounds, latency. */
export async function disputesSuite(ctx: Pick<SuiteContext, 'quick' | 'log'> & Partial<Pick<SuiteContext, 'record' | 'model'>>): Promise<BenchRow[]> {
  const S = { ...DISPUTES_SETTINGS, model: (ctx.model ?? DISPUTES_SETTINGS.model) as ModelId };
  const L = layersOf(S.model);
  // every layer disputed at least once (quick) or about evenly (full)
  const jobs = ctx.quick ? Math.max(6, L) : Math.max(30, 3 * L);
  const load = machineLoadNote();
  const warm = await warmSegmentRatios(S.model, ctx.quick ? 3 : 7, ctx.quick ? 50 : 200);
  const q = await runMode(S.model, 'quorum', jobs, ctx.log);
  const b = await runMode(S.model, 'bisection', jobs, ctx.log);
  const layerNames = [...Array(L).keys()].map((k) => k + 1);
  const perDisputeQ = q.disputes.map((d) => d.refereeMs);
  const perDisputeB = b.disputes.map((d) => d.refereeMs);
  const ratio = mean(perDisputeB) / mean(perDisputeQ);
  const byLayer = layerNames.map((k) => round(mean(b.disputes.filter((d) => d.layer === k).map((d) => d.refereeMs)) / mean(perDisputeQ)));
  const latQ = q.disputes.map((d) => d.resolvedAt - d.openedAt);
  const latB = b.disputes.map((d) => d.resolvedAt - d.openedAt);
  const caught = b.disputes.filter((d) => !d.minerCorrect && d.segment && d.segment[1] === d.layer).length;
  const hashShare = mean(b.hashMs) / mean(b.fullMs);
  ctx.record?.({
    seed: S.seed,
    model: S.model,
    variant: S.variant,
    batch: S.batch,
    referees: S.referees,
    params: S.params,
    jobsPerMode: jobs,
    quorum: q.disputes,
    bisection: b.disputes,
    fullTracedRunMs: b.fullMs,
    traceHashMs: b.hashMs,
    warm,
  });
  const note = `${S.model} ${S.variant}, batch ${S.batch}, ${S.referees} referees, ${b.disputes.length}/${q.disputes.length} disputes (bisection/quorum), corrupted layer in turn 1..${L}; ${load}`;
  const warmMean = mean(warm.perLayer);
  return [
    {
      suite: 'disputes',
      name: `one-layer re-execution ÷ full re-execution, warm, one process (layers ${layerNames.join('/')}: ${warm.perLayer.map((r) => round(r)).join(' / ')}; full run ${round(warm.fullMs)} ms; mean over layers, as disputes land evenly)`,
      value: round(warmMean),
      unit: '×',
      min: round(Math.min(...warm.perLayer)),
      max: round(Math.max(...warm.perLayer)),
      repeats: warm.blocks.length,
      target: { op: '<=', value: round(1 / L + hashShare), met: warmMean <= 1 / L + hashShare },
    },
    {
      suite: 'disputes',
      name: `referee compute per dispute, bisection ÷ quorum (per disputed layer ${layerNames.join('/')}: ${byLayer.join(' / ')}; quorum ${round(mean(perDisputeQ))} ms, bisection ${round(mean(perDisputeB))} ms per panel; ${note})`,
      value: round(ratio),
      unit: '×',
      min: Math.min(...byLayer),
      max: Math.max(...byLayer),
      repeats: b.disputes.length,
      target: { op: '<=', value: round(1 / L + hashShare), met: ratio <= 1 / L + hashShare },
    },
    {
      suite: 'disputes',
      name: `trace hashing per job ÷ one full re-execution (the miner's commitment; ${round(mean(b.hashMs))} ms vs ${round(mean(b.fullMs))} ms)`,
      value: round(hashShare),
      unit: '×',
      min: round(Math.min(...b.hashMs) / mean(b.fullMs)),
      max: round(Math.max(...b.hashMs) / mean(b.fullMs)),
      repeats: b.hashMs.length,
    },
    {
      suite: 'disputes',
      name: `bisection rounds per dispute (halvings + the referees' round; max ⌈log2 ${L}⌉ + 1 = ${Math.ceil(Math.log2(L)) + 1}); the corrupted layer found in ${caught}/${b.disputes.length}`,
      value: round(mean(b.disputes.map((d) => d.rounds)), 2),
      unit: 'rounds',
      min: Math.min(...b.disputes.map((d) => d.rounds)),
      max: Math.max(...b.disputes.map((d) => d.rounds)),
      repeats: b.disputes.length,
    },
    {
      suite: 'disputes',
      name: 'dispute latency p50 (opened → resolved), bisection',
      value: round(median(latB), 1),
      unit: 'ms',
      min: round(Math.min(...latB), 1),
      max: round(Math.max(...latB), 1),
      repeats: latB.length,
    },
    {
      suite: 'disputes',
      name: 'dispute latency p50 (opened → resolved), quorum',
      value: round(median(latQ), 1),
      unit: 'ms',
      min: round(Math.min(...latQ), 1),
      max: round(Math.max(...latQ), 1),
      repeats: latQ.length,
    },
  ];
}
