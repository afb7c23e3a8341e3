import { describe, expect, it } from 'vitest';
import { apply } from './apply.js';
import { InfermarketError } from './errors.js';
import { balanceOf } from './ledger.js';
import { isAudited } from './selection.js';
import { addNode, addr, createHarness, fund, MUSD } from './testing.js';
import type { Effect } from './types.js';

const H = (s: string) => s.repeat(64).slice(0, 64);

function findJobId(prefix: string, seed: string, auditRate: number, audited: boolean): string {
  for (let i = 0; ; i++) if (isAudited(seed, `${prefix}${i}`, auditRate) === audited) return `${prefix}${i}`;
}

/** Submit a digits job (max price 10 mUSD), one bid, and close the bid window: the miner is assigned. */
function assignOne(h: ReturnType<typeof createHarness>, client: string, jobId: string, miner: string, priceMicro: bigint): void {
  h.send({ type: 'job.submit', by: client, jobId, model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
  h.send({ type: 'job.bid', by: miner, jobId, priceMicro });
  h.advance(h.state.params.bidWindowMs);
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof InfermarketError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('job lifecycle', () => {
  it('settles escrow to the miner after the challenge window', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0 });
    const miner = addNode(h, 'm1', 'miner');
    const client = fund(h, 'c1');
    h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
    expect(balanceOf(h.state, 'escrow:j1')).toBe(10n * MUSD);
    h.send({ type: 'job.bid', by: miner, jobId: 'j1', priceMicro: 2n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    expect(h.state.jobs.get('j1')!.status).toBe('assigned');
    h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: H('b') });
    h.advance(h.state.params.challengeWindowMs);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('settled');
    expect(balanceOf(h.state, `balance:${miner}`)).toBe(500n * MUSD + 2n * MUSD);
    // client pays price + 2% protocol fee, no audit fee
    expect(balanceOf(h.state, `balance:${client}`)).toBe(1_000n * MUSD - 2n * MUSD - 40_000n);
    expect(balanceOf(h.state, 'fees')).toBe(40_000n);
    h.check();
  });

  it('reassigns a job whose miner misses the deadline, penalises it, and pays the second miner', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0 });
    const m1 = addNode(h, 'm1', 'miner');
    const m2 = addNode(h, 'm2', 'miner');
    const client = fund(h, 'c1');
    h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
    h.send({ type: 'job.bid', by: m1, jobId: 'j1', priceMicro: 1n * MUSD });
    h.send({ type: 'job.bid', by: m2, jobId: 'j1', priceMicro: 2n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    expect(h.state.jobs.get('j1')!.miner).toBe(m1);
    h.advance(h.state.params.jobDeadlineMs);
    expect(h.state.stats.reassigned).toBe(1);
    expect(codeOf(() => h.send({ type: 'job.bid', by: m1, jobId: 'j1', priceMicro: 1n * MUSD }))).toBe('ERR_NOT_ELIGIBLE');
    h.send({ type: 'job.bid', by: m2, jobId: 'j1', priceMicro: 2n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    h.send({ type: 'job.result', by: m2, jobId: 'j1', outputHash: H('c') });
    h.advance(h.state.params.challengeWindowMs);
    expect(h.state.jobs.get('j1')!.status).toBe('settled');
    expect(h.state.nodes.get(m1)!.stakeMicro).toBe(500n * MUSD - 5n * MUSD); // 1% miss penalty
    h.check();
  });

  it('refunds the client when attempts run out', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0, maxAttempts: 1 });
    const m1 = addNode(h, 'm1', 'miner');
    const client = fund(h, 'c1');
    h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
    h.send({ type: 'job.bid', by: m1, jobId: 'j1', priceMicro: 1n * MUSD });
    h.advance(h.state.params.bidWindowMs + h.state.params.jobDeadlineMs);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('failed');
    expect(job.failure).toBe('attempts-exhausted');
    expect(balanceOf(h.state, `balance:${client}`)).toBe(1_000n * MUSD + 5n * MUSD); // refund + miss penalty
    h.check();
  });

  it('slashes a miner whose audited result mismatches, refunds the client and pays the auditor', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0.5, disputeQuorum: 0 });
    const miner = addNode(h, 'm1', 'miner');
    const val = addNode(h, 'v1', 'validator');
    const client = fund(h, 'c1');
    const jobId = findJobId('job', h.state.epoch!.seed, 0.5, true);
    assignOne(h, client, jobId, miner, 2n * MUSD);
    const fx = h.send({ type: 'job.result', by: miner, jobId, outputHash: H('b') });
    expect(fx).toContainEqual<Effect>(expect.objectContaining({ type: 'audit.requested', validator: val }));
    h.send({ type: 'audit.report', by: val, jobId, outputHash: H('c'), match: false });
    const job = h.state.jobs.get(jobId)!;
    expect(job.status).toBe('failed');
    expect(job.failure).toBe('miner-slashed');
    const node = h.state.nodes.get(miner)!;
    expect(node.stakeMicro).toBe(250n * MUSD);
    expect(node.jailedUntilMs).toBeGreaterThan(h.now);
    // client: full refund + harmed share (25% of 250)
    expect(balanceOf(h.state, `balance:${client}`)).toBe(1_000n * MUSD + 62_500_000n);
    expect(balanceOf(h.state, `balance:${val}`)).toBe(500n * MUSD + 62_500_000n);
    expect(balanceOf(h.state, 'burn')).toBe(125n * MUSD);
    h.check();
  });

  it('slashes a validator whose accusation the referees reject, and settles the job', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0.5, disputeQuorum: 2 });
    const miner = addNode(h, 'm1', 'miner');
    const vs = ['v1', 'v2', 'v3'].map((l) => addNode(h, l, 'validator'));
    const client = fund(h, 'c1');
    const jobId = findJobId('job', h.state.epoch!.seed, 0.5, true);
    assignOne(h, client, jobId, miner, 2n * MUSD);
    h.send({ type: 'job.result', by: miner, jobId, outputHash: H('b') });
    const auditor = h.state.jobs.get(jobId)!.validator!;
    const fx = h.send({ type: 'audit.report', by: auditor, jobId, outputHash: H('c'), match: false });
    const opened = fx.find((e) => e.type === 'dispute.opened');
    expect(opened && opened.type === 'dispute.opened' && opened.referees.length).toBe(2);
    const referees = h.state.jobs.get(jobId)!.dispute!.referees;
    expect(referees).not.toContain(auditor);
    expect(vs).toEqual(expect.arrayContaining(referees));
    h.send({ type: 'dispute.vote', by: referees[0]!, jobId, minerCorrect: true });
    h.send({ type: 'dispute.vote', by: referees[1]!, jobId, minerCorrect: true });
    expect(h.state.jobs.get(jobId)!.status).toBe('settled');
    expect(h.state.nodes.get(auditor)!.slashes).toBe(1);
    expect(h.state.nodes.get(miner)!.slashes).toBe(0);
    h.check();
  });

  it('keeps unbonding stake slashable during a dispute', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0.5, disputeQuorum: 0 });
    const miner = addNode(h, 'm1', 'miner');
    const val = addNode(h, 'v1', 'validator');
    const client = fund(h, 'c1');
    const jobId = findJobId('job', h.state.epoch!.seed, 0.5, true);
    assignOne(h, client, jobId, miner, 2n * MUSD);
    h.send({ type: 'job.result', by: miner, jobId, outputHash: H('b') });
    h.send({ type: 'stake.unbond', by: miner, amountMicro: 500n * MUSD });
    expect(h.state.nodes.get(miner)!.stakeMicro).toBe(0n);
    h.send({ type: 'audit.report', by: val, jobId, outputHash: H('c'), match: false });
    expect(h.state.nodes.get(miner)!.slashedMicro).toBe(250n * MUSD);
    h.advance(h.state.params.unbondingPeriodMs);
    expect(balanceOf(h.state, `balance:${miner}`)).toBe(500n * MUSD + 250n * MUSD);
    h.check();
  });
});

describe('hostile events', () => {
  it('error: refuses a replayed nonce and changes nothing', () => {
    const h = createHarness({ matchingMode: 'auction' });
    const a = addr('x');
    h.send({ type: 'account.faucet', address: a, amountMicro: 10n * MUSD });
    h.send({ type: 'node.register', by: a, role: 'miner', models: ['digits'], region: 'local', nonce: '900' });
    expect(codeOf(() => h.send({ type: 'stake.bond', by: a, amountMicro: 1n, nonce: '900' }))).toBe('ERR_REPLAY');
    expect(h.state.nodes.get(a)!.stakeMicro).toBe(0n);
  });

  it('error: refuses a result from a miner that was not assigned', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0 });
    const m1 = addNode(h, 'm1', 'miner');
    const m2 = addNode(h, 'm2', 'miner');
    const client = fund(h, 'c1');
    assignOne(h, client, 'j1', m1, 1n * MUSD);
    const seq = h.state.seq;
    expect(codeOf(() => h.send({ type: 'job.result', by: m2, jobId: 'j1', outputHash: H('b') }))).toBe('ERR_NOT_ASSIGNED');
    expect(h.state.seq).toBe(seq);
    h.send({ type: 'job.result', by: m1, jobId: 'j1', outputHash: H('b') });
    expect(codeOf(() => h.send({ type: 'job.result', by: m1, jobId: 'j1', outputHash: H('b') }))).toBe('ERR_WRONG_STATE');
  });

  it('error: refuses a late result', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0 });
    const m1 = addNode(h, 'm1', 'miner');
    const client = fund(h, 'c1');
    assignOne(h, client, 'j1', m1, 1n * MUSD);
    const deadline = h.state.jobs.get('j1')!.deadlineAtMs;
    expect(codeOf(() => h.send({ type: 'job.result', by: m1, jobId: 'j1', outputHash: H('b'), atMs: deadline + 1 }))).toBe('ERR_LATE');
  });

  it('error: refuses negative, zero and oversized amounts, and unknown models', () => {
    const h = createHarness({ matchingMode: 'auction' });
    const client = fund(h, 'c1');
    const base = { type: 'job.submit' as const, by: client, jobId: 'j1', model: 'digits', inputHash: H('a') };
    expect(codeOf(() => h.send({ ...base, maxPriceMicro: -5n }))).toBe('ERR_VALIDATION');
    expect(codeOf(() => h.send({ ...base, maxPriceMicro: 0n }))).toBe('ERR_VALIDATION');
    expect(codeOf(() => h.send({ ...base, maxPriceMicro: 10n ** 30n }))).toBe('ERR_VALIDATION');
    expect(codeOf(() => h.send({ ...base, maxPriceMicro: 2_000n * MUSD }))).toBe('ERR_VALIDATION');
    expect(codeOf(() => h.send({ ...base, maxPriceMicro: 500n * MUSD, model: 'nope' }))).toBe('ERR_UNKNOWN_MODEL');
    expect(codeOf(() => h.send({ ...base, maxPriceMicro: 999n * MUSD, jobId: 'j2' }))).toBe('no error');
    expect(codeOf(() => h.send({ ...base, maxPriceMicro: 2n * MUSD, jobId: 'j3' }))).toBe('ERR_INSUFFICIENT_BALANCE');
    h.check();
  });

  it('error: refuses time going backwards', () => {
    const h = createHarness({ matchingMode: 'auction' });
    h.advance(100);
    h.send({ type: 'account.faucet', address: addr('a'), amountMicro: 1n });
    expect(codeOf(() => apply(h.state, { type: 'account.faucet', atMs: 50, address: addr('a'), amountMicro: 1n }))).toBe('ERR_VALIDATION');
  });
});
