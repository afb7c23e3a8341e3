import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyReceipt } from '@infermarket/client';
import { createRuntime, DEFAULT_MODELS_DIR, sampleToken, type Runtime } from '@infermarket/inference';
import { createInferenceExecutor, type Executor } from '@infermarket/node-runtime';
import { checkInvariants, compareJobOutputs, hashPayload, keyPairFromSeed, makeReadToken, READ_TOKEN_HEADER, recheckSampledTokens, sampledRecheckDue, sealEnvelope, seedFromLabel, type JobInput, type JobOutput, type JobView, type ServerMessage } from '@infermarket/protocol';
import { createValidator, type Validator } from '@infermarket/validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMarket, type Market } from '../packages/market/src/market.js';
import { connectNode, keysOf, registerAndBond, until, type TestNode } from '../packages/market/src/test-node.js';

// Sampled generation near a sampling boundary, on the real charlm through onnxruntime: an honest miner whose
// hardware flipped a near-boundary draw is accepted (and flagged) by the validator's teacher-forced re-check;
// a miner that changes a token anywhere else is caught. First the comparison on real logits, then over the
// live market with a real validator process logic (createValidator) re-executing blind, then re-checking.

const T = 0.8;
const MAX_TOKENS = 48;
const manifest = JSON.parse(readFileSync(join(DEFAULT_MODELS_DIR, 'manifest.json'), 'utf8')) as { models: { charlm: { variants: { fp32: { comparator: { kind: string; tolerance: number } } } } } };
const comparator = manifest.models.charlm.variants.fp32.comparator;
const MARGIN = (2 * comparator.tolerance) / T;

let runtime: Runtime;
let executor: Executor;

/** Generate from `prefix` on, as an honest node does, drawing the job's own u at every step (teacher-forced on the prefix). */
async function continueFrom(input: Extract<JobInput, { kind: 'prompt' }>, prefix: number[]): Promise<number[]> {
  const tokens = [...prefix, ...new Array<number>(input.maxTokens - prefix.length).fill(0)];
  for (let j = prefix.length; j < input.maxTokens; j++) {
    const steps = await executor.forcedSteps!({ model: 'charlm', variant: 'fp32', input, tokens });
    tokens[j] = sampleToken(steps[j]!.logits, input.temperature, { next: () => steps[j]!.u } as never);
  }
  return tokens;
}

interface Case {
  input: Extract<JobInput, { kind: 'prompt' }>;
  honest: number[];
  /** The near-boundary step and the token on the other side of its boundary. */
  at: number;
  neighbour: number;
}

/** Search seeds for a sampled generation with a draw within the calibrated margin of a boundary (≈ 4 % of 48-token jobs). */
async function findNearBoundary(): Promise<Case> {
  for (let seed = 1; seed < 2_000; seed++) {
    const req = { prompt: 'the ', maxTokens: MAX_TOKENS, temperature: T, seed };
    const margins: number[] = [];
    const r = await runtime.generate('charlm', 'fp32', req, (t) => margins.push(t.margin));
    const at = margins.findIndex((m) => m < MARGIN / 4);
    if (at < 0) continue;
    const input = { kind: 'prompt' as const, ...req };
    const steps = await executor.forcedSteps!({ model: 'charlm', variant: 'fp32', input, tokens: r.tokens });
    // which side of the chosen token's interval the draw is near: the neighbour there is what other hardware picks
    const { logits, u } = steps[at]!;
    let mx = -Infinity;
    for (let j = 0; j < logits.length; j++) mx = Math.max(mx, logits[j]!);
    const p = Array.from(logits, (l) => Math.exp((l - mx) / T));
    const sum = p.reduce((a, b) => a + b, 0);
    const id = r.tokens[at]!;
    const lo = p.slice(0, id).reduce((a, b) => a + b, 0) / sum;
    const neighbour = u - lo < (lo + p[id]! / sum) - u ? id - 1 : id + 1;
    return { input, honest: r.tokens, at, neighbour };
  }
  throw new Error('no near-boundary draw in 2,000 seeds');
}

let c: Case;
let flipped: number[];

beforeAll(async () => {
  runtime = createRuntime({ log: () => {} });
  executor = createInferenceExecutor({});
  c = await findNearBoundary();
  // another CPU's rounding flips the near-boundary draw; the honest node then generates on from its own token
  flipped = await continueFrom(c.input, [...c.honest.slice(0, c.at), c.neighbour]);
}, 120_000);
afterAll(async () => {
  await runtime?.close();
  await executor?.close();
});

describe('sampled generation: the teacher-forced re-check on real charlm logits', () => {
  it('an honest near-boundary flip fails the exact token comparator but is accepted and flagged by the re-check', async () => {
    expect(flipped).not.toEqual(c.honest);
    expect(flipped.slice(0, c.at)).toEqual(c.honest.slice(0, c.at));
    const mined: JobOutput = { kind: 'tokens', tokens: flipped, text: '' };
    const blind: JobOutput = { kind: 'tokens', tokens: c.honest, text: '' };
    expect(compareJobOutputs({ generationComparator: { kind: 'tokens' } }, blind, mined).match).toBe(false);
    expect(sampledRecheckDue(c.input, mined, blind)).toBe(true);
    const steps = await executor.forcedSteps!({ model: 'charlm', variant: 'fp32', input: c.input, tokens: flipped });
    const r = recheckSampledTokens(c.input, comparator, steps, flipped);
    expect(r.reason).toContain('within the boundary margin');
    expect(r).toMatchObject({ match: true, flagged: [c.at] });
    expect(r.margin).toBeCloseTo(MARGIN, 12);
  });

  it('a different-token cheat is caught: a token changed away from any boundary, and a far token at the boundary step', async () => {
    // a step whose draw is far from every boundary, after the near-boundary one
    const margins: number[] = [];
    await runtime.generate('charlm', 'fp32', c.input, (t) => margins.push(t.margin));
    const k = margins.findIndex((m, i) => i !== c.at && m > 0.05);
    expect(k).toBeGreaterThanOrEqual(0);
    const cheat = await continueFrom(c.input, [...c.honest.slice(0, k), (c.honest[k]! + 40) % 96]);
    const steps = await executor.forcedSteps!({ model: 'charlm', variant: 'fp32', input: c.input, tokens: cheat });
    const r = recheckSampledTokens(c.input, comparator, steps, cheat);
    expect(r.match).toBe(false);
    expect(r.reason).toContain(`tokens diverge at position ${k}`);
    // at the near-boundary step itself, only the neighbour passes: a token of the cheat's choosing does not
    const far = await continueFrom(c.input, [...c.honest.slice(0, c.at), (c.honest[c.at]! + 40) % 96]);
    const steps2 = await executor.forcedSteps!({ model: 'charlm', variant: 'fp32', input: c.input, tokens: far });
    expect(recheckSampledTokens(c.input, comparator, steps2, far)).toMatchObject({ match: false });
    // the miner's exact honest output passes with nothing flagged
    const steps3 = await executor.forcedSteps!({ model: 'charlm', variant: 'fp32', input: c.input, tokens: c.honest });
    expect(recheckSampledTokens(c.input, comparator, steps3, c.honest)).toMatchObject({ match: true, flagged: [] });
  });

  it('error: a comparator without a logit tolerance is refused (ERR_BAD_COMPARATOR), never a silent default', () => {
    expect(() => recheckSampledTokens(c.input, { kind: 'exact' }, [], [])).toThrow(/argmax-maxabs/);
  });
});

describe('sampled generation over the live market: blind audit, reveal, teacher-forced verdict', () => {
  let dir: string;
  let market: Market;
  let validator: Validator;
  const nodes: TestNode[] = [];
  const logs: Record<string, unknown>[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-sampled-'));
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { bidWindowMs: 300, challengeWindowMs: 100, auditWindowMs: 20_000, disputeWindowMs: 20_000, jobDeadlineMs: 5_000, unbondingPeriodMs: 60_000, auditRate: 0 } });
    const keys = keyPairFromSeed(seedFromLabel('sampled/validator'));
    validator = createValidator({ wsUrl: market.wsUrl, keys, executor, models: ['charlm'], log: (e) => logs.push(e) });
    await validator.ready();
  }, 60_000);
  afterAll(async () => {
    for (const n of nodes) n.close();
    await validator?.stop();
    await market?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A raw miner that bids on the next offer and answers it with `tokens`; returns the finished job. */
  async function runWith(label: string, jobId: string, tokens: number[]): Promise<{ job: JobView; miner: TestNode }> {
    const miner = await connectNode(market.wsUrl, label);
    nodes.push(miner);
    await fetch(`${market.url}/v1/faucet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: miner.address, amountMicro: '500000000' }) });
    await registerAndBond(miner, 'miner', '200000000', ['charlm']);
    miner.onFrame((f) => {
      if (f.type === 'job.offer' && (f as { jobId: string }).jobId === jobId) miner.raw({ type: 'job.bid', envelope: miner.sign('job.bid', { jobId, priceMicro: '1000' }) });
      if (f.type === 'job.assign' && (f as { jobId: string }).jobId === jobId) {
        const a = f as Extract<ServerMessage, { type: 'job.assign' }>;
        const output: JobOutput = { kind: 'tokens', tokens, text: tokens.map((t) => (t === 0 ? '\n' : String.fromCharCode(t + 31))).join('') };
        miner.raw({ type: 'job.result', envelope: miner.sign('job.result', { jobId, inputHash: a.inputHash, outputHash: hashPayload(output) }), output });
      }
    });
    const client = keysOf(`${label}/client`);
    await fetch(`${market.url}/v1/faucet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: client.address, amountMicro: '1000000' }) });
    const envelope = sealEnvelope(client, 'job.submit', { jobId, model: 'charlm', inputHash: hashPayload(c.input), maxPriceMicro: '50000', nonce: jobId, expiresAtMs: Date.now() + 30_000, verification: 'always' });
    const res = await fetch(`${market.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope, input: c.input }) });
    expect(res.status).toBe(202);
    const job = await until(async () => {
      const j = (await (await fetch(`${market.url}/v1/jobs/${jobId}`, { headers: { [READ_TOKEN_HEADER]: makeReadToken(client, jobId, Date.now() + 60_000) } })).json()) as JobView;
      return j.status === 'settled' || j.status === 'failed' || j.status === 'disputed' ? j : null;
    }, 60_000, `${jobId} to finish`);
    return { job, miner };
  }

  it('"always" on a sampled job: the honest near-boundary flip settles verified; the validator logged the flagged step', async () => {
    const { job } = await runWith('sampled/honest-flip', 'sflip-1', flipped);
    expect(job.status).toBe('settled');
    const r = verifyReceipt(job.receipt, market.marketKey, { jobId: 'sflip-1', output: job.output });
    // the receipt says which token was accepted only within the boundary margin
    expect(r).toMatchObject({ verdict: 'verified', verified: true, outputLength: MAX_TOKENS, flaggedTokens: [c.at] });
    expect(r.checked).toContain(`token(s) ${c.at} accepted within a sampling-boundary margin`);
    expect(logs.find((e) => e.event === 'audit.recheck' && e.jobId === 'sflip-1')).toMatchObject({ match: true, flagged: [c.at] });
    expect(checkInvariants(market.core.state)).toEqual([]);
  });

  it('"always" on a sampled job: a different-token cheat is reported a mismatch and never settles verified', async () => {
    const k = c.at === 5 ? 6 : 5;
    const cheat = [...flipped];
    cheat[k] = (cheat[k]! + 40) % 96;
    const { job } = await runWith('sampled/cheat', 'scheat-1', cheat);
    expect(logs.find((e) => e.event === 'audit.recheck' && e.jobId === 'scheat-1')).toMatchObject({ match: false });
    expect(job.status).not.toBe('settled');
    expect(market.core.state.jobs.get('scheat-1')!.verdict).not.toBe('verified');
    // a rejected output leaves no flagged steps behind for a receipt
    expect(market.core.store.payload('scheat-1', 'flagged:' + validator.address)).toBeUndefined();
    expect(checkInvariants(market.core.state)).toEqual([]);
  });
});
