import { createClient } from '@infermarket/client';
import { keyPairFromSeed, seedFromLabel, type MarketStatsView } from '@infermarket/protocol';
import { sampleJobInput } from '../testnet/inputs.js';
import { closedLoop, marketJob } from './closed-loop.js';
import { machineLoadNote } from './machine-load.js';
import { median, type BenchRow } from './harness.js';
import { startLiveNet } from './live-net.js';
import { startDirectWorker } from './direct-client.js';
import type { SuiteContext } from './suites.js';
import type { DirectAnswer } from './direct-worker.js';

/** Settings of the verification-cost suite. */
export const VERIFICATION_SETTINGS = Object.freeze({
  rates: [0.01, 0.05, 0.1] as const,
  /** One model so per-job compute is comparable on both sides; heavy's run time is well above timer noise. */
  model: 'heavy',
  variant: 'int8',
  /** Two in flight: the miner rarely runs two jobs at once, so each job's wall `ms` is its own compute. */
  inFlight: 2,
  seed: 9,
});

const sumMs = (lines: Record<string, unknown>[], event: string): { ms: number; n: number; median: number } => {
  const all: number[] = [];
  for (const l of lines) if (l.event === event && typeof l.ms === 'number' && l.ms > 0) all.push(l.ms);
  return { ms: all.reduce((a, b) => a + b, 0), n: all.length, median: all.length ? median(all) : 0 };
};

async function stats(url: string): Promise<MarketStatsView | null> {
  try {
    const res = await fetch(`${url}/v1/stats`, { signal: AbortSignal.timeout(3_000) });
    return res.ok ? ((await res.json()) as MarketStatsView) : null;
  } catch {
    return null;
  }
}

/**
 * Verification cost in a live run: honest miner and honest validator processes, closed-loop client load,
 * at audit rates 1%, 5%, 10%. Compute is what each side actually spent in onnxruntime: the sum of the
 * executor's `ms` over the miner's `job.committed` lines and the validator's `audit.sent` lines (its
 * re-executions on the reference session). Reports validator ÷ miner compute against the audit rate.
 */
export async function verificationSuite(ctx: Pick<SuiteContext, 'quick' | 'log'> & Partial<Pick<SuiteContext, 'record'>>): Promise<BenchRow[]> {
  const S = VERIFICATION_SETTINGS;
  const load = machineLoadNote();
  const rows: BenchRow[] = [];
  // warm cost of one re-execution: the validator's reference session against the miner's session, both
  // warm (back-to-back runs in one process, alternating blocks, the same inputs); a live validator runs
  // only the audited few, so its caches are colder than the miner's
  const warm = await warmReexecutionRatio(ctx.quick ? 2 : 4, ctx.quick ? 100 : 300);
  ctx.record?.({ seed: S.seed, model: S.model, variant: S.variant, inFlight: S.inFlight, warm });
  rows.push({
    suite: 'verification',
    name: 're-execution ÷ execution compute per job, both warm',
    value: warm.ratio,
    unit: '×',
    min: Math.min(...warm.blocks),
    max: Math.max(...warm.blocks),
    repeats: warm.blocks.length,
    note: `${S.model} ${S.variant}: reference session ${warm.referenceMs.toFixed(3)} ms vs miner session ${warm.runMs.toFixed(3)} ms per job (median), one process, alternating blocks`,
  });
  const audits: { rate: number; realized: number; sd: number; jobs: number }[] = [];
  for (const rate of S.rates) {
    // at least ~20 expected audits per rate (2,000 jobs at 1%), else the audit sample's noise hides the cost
    const jobs = ctx.quick ? 150 : Math.max(900, Math.ceil(20 / rate));
    const net = await startLiveNet({
      seed: S.seed,
      params: { auditRate: rate, bidWindowMs: 50, challengeWindowMs: 50, auditWindowMs: 5_000, jobDeadlineMs: 10_000, disputeQuorum: 1, epochMs: 60_000 },
      miners: [{ models: [S.model], variant: S.variant, concurrency: S.inFlight * 2, priceMicro: '1000' }],
      validators: 1,
      validatorModels: [S.model],
    });
    let audited = 0;
    let failed = 0;
    try {
      const client = createClient({ url: net.url, key: keyPairFromSeed(seedFromLabel(`bench/${S.seed}/client`)) });
      await client.faucet(1_000_000_000n);
      const inputs = Array.from({ length: jobs }, (_, i) => sampleJobInput(S.model, i).input);
      ctx.log(`verification ${rate * 100}%: ${jobs} ${S.model} jobs`);
      const r = await closedLoop({ jobs, inFlight: S.inFlight, job: (i) => marketJob(client, { model: S.model, input: inputs[i]!, maxPriceMicro: 5_000n }) });
      failed = r.failed;
      // drain: audits of the last jobs finish after their results
      const until = Date.now() + 15_000;
      for (;;) {
        const s = await stats(net.url);
        if (s) audited = s.stats.audited;
        if ((s && BigInt(s.ledger.escrowMicro) === 0n) || Date.now() > until) break;
        await new Promise((res) => setTimeout(res, 200));
      }
    } finally {
      await net.stop().catch(() => undefined);
    }
    const miner = sumMs(net.miners.flatMap((p) => net.lines(p)), 'job.committed');
    const validator = sumMs(net.validators.flatMap((p) => net.lines(p)), 'audit.sent');
    const ratio = validator.ms / miner.ms;
    const perAudit = validator.n ? validator.ms / validator.n / (miner.ms / miner.n) : 0;
    const realized = miner.n ? validator.n / miner.n : 0;
    // binomial spread of the number of audits: the cost ratio cannot be steadier than the sample it re-executes
    const sd = Math.sqrt((rate * (1 - rate)) / Math.max(1, miner.n));
    // no audit drawn: the sample says nothing about the cost, so the row is unmeasured (never met)
    const measured = validator.n > 0;
    rows.push({
      suite: 'verification',
      name: `validator ÷ miner compute at audit rate ${rate * 100}%`,
      value: measured ? ratio * 100 : Number.NaN,
      unit: '%',
      min: measured ? (realized - 2 * sd) * perAudit * 100 : Number.NaN,
      max: measured ? (realized + 2 * sd) * perAudit * 100 : Number.NaN,
      repeats: 1,
      target: { op: '<=', value: rate * 110, met: measured && ratio * 100 <= rate * 110 },
      note: `${miner.n} jobs, ${validator.n} re-executions (${(realized * 100).toFixed(2)}%; market audited ${audited})${failed ? `, ${failed} without result` : ''}; spread = ±2σ of the audit sample${measured ? '' : '; no audit drawn: not measured'}`,
    });
    // no audit in the sample: nothing to say about the cost of one
    if (validator.n > 0) {
      rows.push({
        suite: 'verification',
        name: `re-execution ÷ execution compute per job at ${rate * 100}%`,
        value: perAudit,
        unit: '×',
        min: perAudit,
        max: perAudit,
        repeats: validator.n,
        note: `mean: miner ${(miner.ms / Math.max(1, miner.n)).toFixed(3)} ms/job, validator ${(validator.ms / Math.max(1, validator.n)).toFixed(3)} ms/re-execution; median: ${miner.median.toFixed(3)} vs ${validator.median.toFixed(3)} ms`,
      });
    }
    audits.push({ rate, realized, sd, jobs: miner.n });
    ctx.log(`verification ${rate * 100}%: validator/miner compute ${(ratio * 100).toFixed(2)}% (${validator.n}/${miner.n} re-executed)`);
  }
  // the cost with the re-execution warm like the miner's: the audits the market actually drew × the warm cost of one
  for (const a of audits) {
    const v = a.realized > 0 ? a.realized * warm.ratio * 100 : Number.NaN;
    rows.push({
      suite: 'verification',
      name: `validator ÷ miner compute at audit rate ${a.rate * 100}%, re-execution warm`,
      value: v,
      unit: '%',
      min: Math.max(0, a.realized - 2 * a.sd) * warm.ratio * 100,
      max: (a.realized + 2 * a.sd) * warm.ratio * 100,
      repeats: 1,
      target: { op: '<=', value: a.rate * 110, met: v <= a.rate * 110 },
      ...(a.realized > 0 ? {} : { min: Number.NaN, max: Number.NaN }),
      note: `${(a.realized * 100).toFixed(2)}% of ${a.jobs} jobs re-executed (the live run above) × ${warm.ratio.toFixed(3)}× the warm cost of one; spread = ±2σ of the audit sample`,
    });
  }
  if (rows[0]) rows[0].note = `${rows[0].note ?? ''}; ${load}`;
  return rows;
}

/** Median per-job cost of the reference session ÷ the miner's session, both warm, in alternating blocks. */
async function warmReexecutionRatio(blocks: number, jobs: number): Promise<{ ratio: number; blocks: number[]; runMs: number; referenceMs: number }> {
  const S = VERIFICATION_SETTINGS;
  const direct = startDirectWorker();
  try {
    const phase = (session: 'run' | 'reference', b: number) => direct.run({ name: `${session}/${b}`, model: S.model, variant: S.variant, maxTokens: 0, inFlight: 1, jobs, seedBase: 50_000 + b * jobs, session });
    await phase('run', -1);
    await phase('reference', -1);
    const ratios: number[] = [];
    const run: number[] = [];
    const ref: number[] = [];
    for (let b = 0; b < blocks; b++) {
      let x: DirectAnswer;
      let y: DirectAnswer;
      if (b % 2 === 0) {
        x = await phase('run', b);
        y = await phase('reference', b);
      } else {
        y = await phase('reference', b);
        x = await phase('run', b);
      }
      run.push(...x.latencies);
      ref.push(...y.latencies);
      ratios.push(median(y.latencies) / median(x.latencies));
    }
    return { ratio: median(ratios), blocks: ratios, runMs: median(run), referenceMs: median(ref) };
  } finally {
    await direct.close();
  }
}
