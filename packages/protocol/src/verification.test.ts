import { describe, expect, it } from 'vitest';
import { InfermarketError } from './errors.js';
import { worstCaseCost } from './jobs.js';
import { balanceOf } from './ledger.js';
import { outputLength, checkOutputLength } from './output-shape.js';
import { receiptChecks } from './receipt-checks.js';
import { rankValidators } from './selection.js';
import { addNode, createHarness, fund, MUSD, type Harness } from './testing.js';
import type { Effect, VerificationLevel } from './types.js';

const H = (s: string) => s.repeat(64).slice(0, 64);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof InfermarketError) return e.code;
    throw e;
  }
  return 'no error';
}

function submit(h: Harness, client: string, jobId: string, verification?: VerificationLevel, maxPriceMicro = 10n * MUSD): void {
  h.send({ type: 'job.submit', by: client, jobId, model: 'digits', inputHash: H('a'), maxPriceMicro, ...(verification ? { verification } : {}) });
}

function assign(h: Harness, client: string, jobId: string, miner: string, verification?: VerificationLevel): void {
  submit(h, client, jobId, verification);
  h.send({ type: 'job.bid', by: miner, jobId, priceMicro: 2n * MUSD });
  h.advance(h.state.params.bidWindowMs);
}

const requested = (fx: Effect[]) => fx.filter((e): e is Extract<Effect, { type: 'audit.requested' }> => e.type === 'audit.requested');

describe('verification levels', () => {
  it('prices each level in the escrow: none < sampled = always < redundant', () => {
    const h = createHarness({ matchingMode: 'auction' });
    const p = 1_000_000n;
    expect(worstCaseCost(h.state, p, 'none')).toBe(1_020_000n);
    expect(worstCaseCost(h.state, p, 'sampled')).toBe(2_020_000n);
    expect(worstCaseCost(h.state, p, 'always')).toBe(2_020_000n);
    expect(worstCaseCost(h.state, p, 'redundant')).toBe(3_060_000n);
  });

  it('error: rejects an unknown verification level and changes nothing', () => {
    const h = createHarness({ matchingMode: 'auction' });
    const client = fund(h, 'c1');
    const before = balanceOf(h.state, `balance:${client}`);
    expect(codeOf(() => h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: MUSD, verification: 'maybe' as VerificationLevel }))).toBe('ERR_VALIDATION');
    expect(h.state.jobs.size).toBe(0);
    expect(balanceOf(h.state, `balance:${client}`)).toBe(before);
  });

  it('error: a bid whose price plus the level\'s fees exceeds the max price is refused (redundant pays k miners)', () => {
    const h = createHarness({ matchingMode: 'auction' });
    const miner = addNode(h, 'm1', 'miner');
    const client = fund(h, 'c1');
    submit(h, client, 'j1', 'redundant', 6n * MUSD);
    // 2 mUSD × 1.02 × 3 = 6.12 mUSD > 6
    expect(codeOf(() => h.send({ type: 'job.bid', by: miner, jobId: 'j1', priceMicro: 2n * MUSD }))).toBe('ERR_PRICE_TOO_HIGH');
    submit(h, client, 'j2', 'none', 6n * MUSD);
    h.send({ type: 'job.bid', by: miner, jobId: 'j2', priceMicro: 5n * MUSD });
  });

  it('"none" is never audited even at auditRate 1, and its receipt says unchecked', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 1 });
    const miner = addNode(h, 'm1', 'miner');
    addNode(h, 'v1', 'validator');
    const client = fund(h, 'c1');
    assign(h, client, 'j1', miner, 'none');
    const fx = h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: H('b') });
    expect(requested(fx)).toHaveLength(0);
    h.advance(h.state.params.challengeWindowMs);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('settled');
    expect(receiptChecks(job)).toEqual({ verification: 'none', verdict: 'unchecked', checkedBy: [], auditors: [] });
    // no validator fee: price + 2 %
    expect(balanceOf(h.state, `balance:${client}`)).toBe(1_000n * MUSD - 2_040_000n);
    h.check();
  });

  it('"always" is audited even at auditRate 0; the receipt names the auditor and says verified', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0 });
    const miner = addNode(h, 'm1', 'miner');
    const v = addNode(h, 'v1', 'validator');
    const client = fund(h, 'c1');
    assign(h, client, 'j1', miner, 'always');
    const fx = h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: H('b') });
    expect(requested(fx).map((e) => e.validator)).toEqual([v]);
    // the job cannot settle before the audit: the challenge window is not open yet
    h.advance(h.state.params.challengeWindowMs);
    expect(h.state.jobs.get('j1')!.status).toBe('auditing');
    h.send({ type: 'audit.report', by: v, jobId: 'j1', outputHash: H('b'), match: true });
    h.advance(h.state.params.challengeWindowMs);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('settled');
    expect(receiptChecks(job)).toEqual({ verification: 'always', verdict: 'verified', checkedBy: [v], auditors: [v] });
    h.check();
  });

  it('"always" with no validator at all is refunded in full, never settled (audit-unavailable)', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0 });
    const miner = addNode(h, 'm1', 'miner');
    const client = fund(h, 'c1');
    assign(h, client, 'j1', miner, 'always');
    h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: H('b') });
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('failed');
    expect(job.failure).toBe('audit-unavailable');
    expect(job.payouts).toBe(0);
    expect(balanceOf(h.state, `balance:${client}`)).toBe(1_000n * MUSD);
    expect(h.state.stats.auditsUnavailable).toBe(1);
    h.check();
  });
});

describe('audits that cannot be silenced', () => {
  it('a silent validator is penalised and the audit goes to another validator, who catches the wrong output', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0, disputeQuorum: 0 });
    const miner = addNode(h, 'm1', 'miner');
    const v1 = addNode(h, 'v1', 'validator');
    const v2 = addNode(h, 'v2', 'validator');
    const client = fund(h, 'c1');
    assign(h, client, 'j1', miner, 'always');
    const first = requested(h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: H('b') }))[0]!.validator;
    const other = first === v1 ? v2 : v1;
    const stakeBefore = h.state.nodes.get(first)!.stakeMicro;
    const clientBefore = balanceOf(h.state, `balance:${client}`);
    h.advance(h.state.params.auditWindowMs);
    const missed = h.effects.find((e): e is Extract<Effect, { type: 'audit.missed' }> => e.type === 'audit.missed')!;
    expect(missed).toMatchObject({ validator: first, reassignedTo: other, penaltyMicro: 5n * MUSD });
    expect(h.state.nodes.get(first)!.stakeMicro).toBe(stakeBefore - 5n * MUSD);
    expect(balanceOf(h.state, `balance:${client}`)).toBe(clientBefore + 5n * MUSD);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('auditing');
    expect(job.validator).toBe(other);
    // the late answer of the first validator is refused
    expect(codeOf(() => h.send({ type: 'audit.report', by: first, jobId: 'j1', outputHash: H('b'), match: true }))).toBe('ERR_NOT_ASSIGNED');
    h.send({ type: 'audit.report', by: other, jobId: 'j1', outputHash: H('c'), match: false });
    expect(h.state.jobs.get('j1')!.status).toBe('failed');
    expect(h.state.jobs.get('j1')!.failure).toBe('miner-slashed');
    expect(receiptChecks(h.state.jobs.get('j1')!).verdict).toBe('caught');
    expect(h.state.stats).toMatchObject({ auditsMissed: 1, auditsReassigned: 1 });
    h.check();
  });

  it('a validator that stays silent on an audited wrong output: the job is never paid as verified', () => {
    // sampled (drawn) with the only validator silent: settles as unverified, with no validator fee
    const h = createHarness({ matchingMode: 'auction', auditRate: 1 });
    const miner = addNode(h, 'm1', 'miner');
    const v = addNode(h, 'v1', 'validator');
    const client = fund(h, 'c1');
    assign(h, client, 'j1', miner);
    h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: H('b') });
    h.advance(h.state.params.auditWindowMs + h.state.params.challengeWindowMs);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('settled');
    expect(receiptChecks(job)).toEqual({ verification: 'sampled', verdict: 'unavailable', checkedBy: [], auditors: [v] });
    expect(h.state.nodes.get(v)!.earnedMicro).toBe(0n);
    // "always": the same silence refunds the client and pays nobody
    h.advance(1);
    assign(h, client, 'j2', miner, 'always');
    const before = balanceOf(h.state, `balance:${client}`);
    h.send({ type: 'job.result', by: miner, jobId: 'j2', outputHash: H('b') });
    h.advance(h.state.params.auditWindowMs * h.state.params.maxAuditAttempts + h.state.params.challengeWindowMs);
    const j2 = h.state.jobs.get('j2')!;
    expect(j2.status).toBe('failed');
    expect(j2.failure).toBe('audit-unavailable');
    expect(j2.payouts).toBe(0);
    // refunded in full, plus the silent validator's missed-audit penalty
    expect(balanceOf(h.state, `balance:${client}`)).toBeGreaterThan(before + 10n * MUSD - 1n);
    h.check();
  });

  it('jails a validator after auditMissesToJail missed audits in a row', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 1, auditMissesToJail: 2, jailDurationMs: 60_000 });
    const miner = addNode(h, 'm1', 'miner');
    const v = addNode(h, 'v1', 'validator');
    const client = fund(h, 'c1');
    for (const id of ['j1', 'j2']) {
      assign(h, client, id, miner);
      h.send({ type: 'job.result', by: miner, jobId: id, outputHash: H('b') });
      h.advance(h.state.params.auditWindowMs + h.state.params.challengeWindowMs);
    }
    const node = h.state.nodes.get(v)!;
    expect(node.auditsMissed).toBe(2);
    expect(node.jailedUntilMs).toBeGreaterThan(h.now);
    // jailed: the next drawn audit finds no validator and settles unverified without asking it
    assign(h, client, 'j3', miner);
    const fx = h.send({ type: 'job.result', by: miner, jobId: 'j3', outputHash: H('b') });
    expect(requested(fx)).toHaveLength(0);
    expect(h.state.jobs.get('j3')!.verdict).toBe('unavailable');
    h.check();
  });
});

describe('liveness-aware, stake-weighted audit selection', () => {
  it('never picks a validator not seen within livenessWindowMs; a heartbeat makes it eligible again', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 1, livenessWindowMs: 10_000 });
    const miner = addNode(h, 'm1', 'miner');
    const v = addNode(h, 'v1', 'validator');
    const client = fund(h, 'c1');
    h.advance(20_000);
    expect(rankValidators(h.state, h.state.epoch!, 'audit', 'x', 'digits', h.now, [], false)).toEqual([]);
    h.send({ type: 'node.heartbeat', address: v });
    expect(rankValidators(h.state, h.state.epoch!, 'audit', 'x', 'digits', h.now, [], false)).toEqual([v]);
    assign(h, client, 'j1', miner);
    expect(requested(h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: H('b') }))[0]!.validator).toBe(v);
  });

  it('error: a heartbeat for an unknown node is refused', () => {
    const h = createHarness({ matchingMode: 'auction' });
    expect(codeOf(() => h.send({ type: 'node.heartbeat', address: 'not-an-address' }))).toBe('ERR_VALIDATION');
    expect(codeOf(() => h.send({ type: 'node.heartbeat', address: fund(h, 'nobody') }))).toBe('ERR_UNKNOWN_ACCOUNT');
  });

  it('weighs selection by stake: five minimum-stake sybils are first about as often as their share of stake', () => {
    const h = createHarness({ matchingMode: 'auction', minValidatorStakeMicro: 10n * MUSD });
    const big = addNode(h, 'big', 'validator', { stake: 500n * MUSD });
    for (let i = 0; i < 5; i++) addNode(h, `sybil${i}`, 'validator', { stake: 10n * MUSD });
    let bigFirst = 0;
    const N = 4_000;
    for (let i = 0; i < N; i++) if (rankValidators(h.state, h.state.epoch!, 'audit', `job${i}`, 'digits', h.now, [], false)[0] === big) bigFirst++;
    // share of stake 500/550 ≈ 0.909; uniform selection would give 1/6
    expect(bigFirst / N).toBeGreaterThan(0.88);
    expect(bigFirst / N).toBeLessThan(0.94);
  });
});

describe('redundant jobs', () => {
  it('k miners run it; a lone cheater is outvoted and slashed without any validator, the majority is paid', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 1 });
    const [a, b, c] = ['r1', 'r2', 'r3'].map((l) => addNode(h, l, 'miner'));
    const client = fund(h, 'c1');
    submit(h, client, 'j1', 'redundant');
    for (const m of [a!, b!, c!]) h.send({ type: 'job.bid', by: m, jobId: 'j1', priceMicro: 2n * MUSD });
    const fx = (h.advance(h.state.params.bidWindowMs), h.effects.filter((e) => e.type === 'job.assigned'));
    expect(fx.map((e) => (e as { miner: string }).miner).sort()).toEqual([a, b, c].sort());
    h.send({ type: 'job.result', by: a!, jobId: 'j1', outputHash: H('b') });
    h.send({ type: 'job.result', by: c!, jobId: 'j1', outputHash: H('e'), agreesWith: [] }); // the cheater
    const last = h.send({ type: 'job.result', by: b!, jobId: 'j1', outputHash: H('b'), agreesWith: [a!] });
    expect(last.filter((e) => e.type === 'audit.requested')).toHaveLength(0);
    expect(last).toContainEqual(expect.objectContaining({ type: 'node.slashed', address: c }));
    h.advance(h.state.params.challengeWindowMs);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('settled');
    expect(job.outputHash).toBe(H('b'));
    const r = receiptChecks(job);
    expect(r.verdict).toBe('verified');
    expect(r.checkedBy).toEqual([b]);
    expect(balanceOf(h.state, `balance:${a}`)).toBe(502n * MUSD);
    expect(balanceOf(h.state, `balance:${b}`)).toBe(502n * MUSD);
    expect(balanceOf(h.state, `balance:${c}`)).toBe(500n * MUSD);
    // the client paid two miners + fees, and got the harmed share of the cheater's slash
    expect(balanceOf(h.state, `balance:${client}`)).toBeGreaterThan(1_000n * MUSD - 4_080_000n);
    h.check();
  });

  it('no majority: the job fails no-agreement, refunded, nobody slashed', () => {
    const h = createHarness({ matchingMode: 'auction', redundancyK: 2 });
    const [a, b] = ['r1', 'r2'].map((l) => addNode(h, l, 'miner'));
    const client = fund(h, 'c1');
    submit(h, client, 'j1', 'redundant');
    for (const m of [a!, b!]) h.send({ type: 'job.bid', by: m, jobId: 'j1', priceMicro: 2n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    h.send({ type: 'job.result', by: a!, jobId: 'j1', outputHash: H('b') });
    h.send({ type: 'job.result', by: b!, jobId: 'j1', outputHash: H('c'), agreesWith: [] });
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('failed');
    expect(job.failure).toBe('no-agreement');
    expect(balanceOf(h.state, `balance:${client}`)).toBe(1_000n * MUSD);
    expect(h.state.stats.minerSlashes).toBe(0);
    h.check();
  });

  it('error: fewer eligible bids than k fails too-few-bids; results from non-replicas and forged agreement are refused', () => {
    const h = createHarness({ matchingMode: 'auction' });
    const [a, b, c, d] = ['r1', 'r2', 'r3', 'r4'].map((l) => addNode(h, l, 'miner'));
    const client = fund(h, 'c1');
    submit(h, client, 'j1', 'redundant');
    h.send({ type: 'job.bid', by: a!, jobId: 'j1', priceMicro: 2n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    expect(h.state.jobs.get('j1')!.failure).toBe('too-few-bids');
    submit(h, client, 'j2', 'redundant');
    for (const m of [a!, b!, c!]) h.send({ type: 'job.bid', by: m, jobId: 'j2', priceMicro: 2n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    expect(codeOf(() => h.send({ type: 'job.result', by: d!, jobId: 'j2', outputHash: H('b') }))).toBe('ERR_NOT_ASSIGNED');
    // agreement can only name replicas that already committed
    expect(codeOf(() => h.send({ type: 'job.result', by: a!, jobId: 'j2', outputHash: H('b'), agreesWith: [b!] }))).toBe('ERR_VALIDATION');
    h.send({ type: 'job.result', by: a!, jobId: 'j2', outputHash: H('b') });
    expect(codeOf(() => h.send({ type: 'job.result', by: a!, jobId: 'j2', outputHash: H('b') }))).toBe('ERR_DUPLICATE');
    // a silent replica pays the miss penalty; the two that answered and agree decide
    h.send({ type: 'job.result', by: b!, jobId: 'j2', outputHash: H('b'), agreesWith: [a!] });
    h.advance(h.state.params.jobDeadlineMs + h.state.params.challengeWindowMs);
    const job = h.state.jobs.get('j2')!;
    expect(job.status).toBe('settled');
    expect(h.state.nodes.get(c!)!.jobsMissed).toBe(1);
    h.check();
  });
});

describe('output length against what was asked', () => {
  const prompt = { kind: 'prompt' as const, prompt: 'hello', maxTokens: 20, temperature: 0.8, seed: 1 };
  it('a truncated generation is not a valid result (charlm has no stop token: exactly maxTokens)', () => {
    expect(outputLength(prompt, { kind: 'tokens', tokens: Array(12).fill(40), text: 'x'.repeat(12) })).toMatchObject({ length: 12, expected: 20, ok: false });
    expect(outputLength(prompt, { kind: 'tokens', tokens: Array(20).fill(40), text: 'x'.repeat(20) })).toMatchObject({ length: 20, expected: 20, ok: true });
    expect(codeOf(() => checkOutputLength(prompt, { kind: 'tokens', tokens: [1], text: 'a' }))).toBe('ERR_BAD_OUTPUT');
  });

  it('a tensor must have the declared dtype, the input batch and the declared dims, with bytes to match', () => {
    const input = { kind: 'tensor' as const, tensor: { dtype: 'float32' as const, dims: [2, 784], data: '' } };
    const contract = { dtype: 'float32', shape: ['batch', 10] };
    const t = (dims: number[], bytes: number, dtype: 'float32' | 'int32' = 'float32') => ({ kind: 'tensor' as const, tensor: { dtype, dims, data: Buffer.alloc(bytes).toString('base64') } });
    expect(outputLength(input, t([2, 10], 80), contract)).toMatchObject({ ok: true, length: 20, expected: 20 });
    expect(outputLength(input, t([1, 10], 40), contract)).toMatchObject({ ok: false, expected: 20 });
    expect(outputLength(input, t([2, 10], 60), contract)!.ok).toBe(false);
    expect(outputLength(input, t([2, 10], 80, 'int32'), contract)!.ok).toBe(false);
    expect(outputLength(prompt, t([2, 10], 80))!.ok).toBe(false);
  });
});
