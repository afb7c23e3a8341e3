import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchCatchProbability, checkBatchRows, compareSampledRows, sampleAuditRows, sliceTensorRows } from './batch.js';
import { hashHex } from './crypto.js';
import { InfermarketError } from './errors.js';
import { bpsOf } from './ledger.js';
import { resolveParams } from './params.js';
import { MUSD, addNode, createHarness, fund, type Harness } from './testing.js';
import type { Effect, MarketState } from './types.js';
import type { JobOutput, WireTensor } from './wire.js';

const H = (c: string) => c.repeat(64);

function offer(h: Harness, miner: string, price: bigint, capacity = 4): Effect[] {
  return h.send({ type: 'offer.post', by: miner, prices: { digits: price }, capacity, variant: 'int8', untilMs: h.now + 600_000 });
}

function submit(h: Harness, client: string, jobId: string, extra: Record<string, unknown> = {}): Effect[] {
  return h.send({ type: 'job.submit', by: client, jobId, model: 'digits', inputHash: H('a'), maxPriceMicro: 10_000n, ...extra } as never);
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof InfermarketError) return `${e.code}:${String(e.details?.field)}`;
    throw e;
  }
  return 'accepted';
}

function snap(s: MarketState): string {
  return JSON.stringify([[...s.ledger], [...s.busy], [...s.jobs.keys()], s.stats], (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}

function f32(rows: number[][]): WireTensor {
  const a = Float32Array.from(rows.flat());
  return { dtype: 'float32', dims: [rows.length, rows[0]!.length], data: Buffer.from(a.buffer).toString('base64') };
}

describe('batch jobs: rules', () => {
  it('prices per row: escrow is maxPrice × rows, the miner is paid its offer × rows, and the client gets the rest back (exact)', () => {
    const h = createHarness({ auditRate: 0 });
    const m = addNode(h, 'm', 'miner');
    offer(h, m, 1_234n);
    const client = fund(h, 'c');
    const before = h.state.ledger.get(`balance:${client}`)!;
    const fx = submit(h, client, 'b1', { rows: 32 });
    expect(h.state.ledger.get('escrow:b1')).toBe(10_000n * 32n);
    expect(fx.find((e) => e.type === 'job.assigned')).toMatchObject({ miner: m, priceMicro: 1_234n * 32n });
    h.send({ type: 'job.result', by: m, jobId: 'b1', outputHash: H('b') });
    h.advance(h.state.params.challengeWindowMs);
    const price = 1_234n * 32n;
    const fee = bpsOf(price, h.state.params.protocolFeeBps);
    expect(h.effects.find((e) => e.type === 'job.settled')).toMatchObject({ priceMicro: price, refundMicro: 10_000n * 32n - price - fee });
    expect(h.state.ledger.get(`balance:${client}`)).toBe(before - price - fee);
    h.check();
  });

  it('an offer matches a batch only if its price × rows plus fees fits the per-row max × rows; a batch takes one slot of capacity', () => {
    const h = createHarness({ auditRate: 0 });
    const m = addNode(h, 'm', 'miner');
    offer(h, m, 4_000n, 1);
    const client = fund(h, 'c');
    // worst case at 4,000 per row (sampled: price + 2 % fee + 100 % validator fee = 8,080) exceeds 5,000 per row
    const fx = submit(h, client, 'b1', { rows: 8, maxPriceMicro: 5_000n });
    expect(fx.some((e) => e.type === 'job.assigned')).toBe(false);
    const ok = submit(h, client, 'b2', { rows: 8, maxPriceMicro: 8_080n });
    expect(ok.find((e) => e.type === 'job.assigned')).toMatchObject({ miner: m, priceMicro: 32_000n });
    expect(h.state.busy.get(m)).toBe(1);
    h.check();
  });

  it('auction mode: a bid is per row, charged × rows', () => {
    const h = createHarness({ auditRate: 0, matchingMode: 'auction' });
    const m = addNode(h, 'm', 'miner');
    const client = fund(h, 'c');
    submit(h, client, 'b1', { rows: 4 });
    expect(code(() => h.send({ type: 'job.bid', by: m, jobId: 'b1', priceMicro: 6_000n }))).toBe('ERR_PRICE_TOO_HIGH:priceMicro');
    h.send({ type: 'job.bid', by: m, jobId: 'b1', priceMicro: 3_000n });
    h.advance(h.state.params.bidWindowMs);
    expect(h.effects.find((e) => e.type === 'job.assigned')).toMatchObject({ priceMicro: 12_000n });
    h.check();
  });

  it('error: rows 0, negative, fractional, above maxBatchRows, or on a private job → ERR_BAD_BATCH naming "rows"; nothing changes', () => {
    const h = createHarness({ auditRate: 0, maxBatchRows: 16 });
    const m = addNode(h, 'm', 'miner');
    offer(h, m, 1_000n);
    const client = fund(h, 'c');
    const before = snap(h.state);
    for (const rows of [0, -1, 1.5, 17, '4', null]) expect(code(() => submit(h, client, 'x', { rows }))).toBe('ERR_BAD_BATCH:rows');
    expect(code(() => submit(h, client, 'x', { rows: 2, private: true }))).toBe('ERR_BAD_BATCH:rows');
    expect(snap(h.state)).toBe(before);
    expect(submit(h, client, 'x', { rows: 16 }).some((e) => e.type === 'job.assigned')).toBe(true);
  });

  it('an audited batch job draws its sample after the commit: auditSampleRows distinct rows, the same the seed gives anyone', () => {
    const h = createHarness({ auditRate: 1, auditSampleRows: 3 });
    const m = addNode(h, 'm', 'miner');
    addNode(h, 'v', 'validator');
    offer(h, m, 1_000n);
    const client = fund(h, 'c');
    submit(h, client, 'b1', { rows: 20 });
    expect(h.state.jobs.get('b1')!.auditRows).toBeUndefined();
    h.send({ type: 'job.result', by: m, jobId: 'b1', outputHash: H('b') });
    const job = h.state.jobs.get('b1')!;
    expect(job.status).toBe('auditing');
    expect(job.auditRows).toEqual(sampleAuditRows(h.state.epoch!.seed, 'b1', 20, 3));
    expect(job.auditRows).toHaveLength(3);
    // a job of no more rows than the sample is audited whole
    submit(h, client, 'b2', { rows: 3 });
    h.send({ type: 'job.result', by: m, jobId: 'b2', outputHash: H('b') });
    expect(h.state.jobs.get('b2')!.auditRows).toBeUndefined();
    h.check();
  });

  it('a failed sampled audit slashes the batch miner like any failed audit, and the client is refunded in full', () => {
    const h = createHarness({ auditRate: 1, disputeQuorum: 1 });
    const m = addNode(h, 'm', 'miner');
    const v = addNode(h, 'v', 'validator');
    const r = addNode(h, 'r', 'validator');
    offer(h, m, 1_000n);
    const client = fund(h, 'c');
    const before = h.state.ledger.get(`balance:${client}`)!;
    submit(h, client, 'b1', { rows: 10 });
    h.send({ type: 'job.result', by: m, jobId: 'b1', outputHash: H('b') });
    h.send({ type: 'audit.report', by: v, jobId: 'b1', outputHash: H('c'), match: false });
    h.send({ type: 'dispute.vote', by: r, jobId: 'b1', minerCorrect: false });
    expect(h.effects.some((e) => e.type === 'node.slashed' && e.address === m)).toBe(true);
    expect(h.effects.find((e) => e.type === 'job.failed' && e.jobId === 'b1')).toBeTruthy();
    expect(h.state.ledger.get(`balance:${client}`)! >= before).toBe(true);
    h.check();
  });

  it('a challenge after a passed sampled audit disputes every row: the referees are not limited to the sample', () => {
    const h = createHarness({ auditRate: 1, disputeQuorum: 1 });
    const m = addNode(h, 'm', 'miner');
    const v = addNode(h, 'v', 'validator');
    const c = addNode(h, 'c2', 'validator');
    addNode(h, 'r', 'validator');
    offer(h, m, 1_000n);
    const client = fund(h, 'c');
    submit(h, client, 'b1', { rows: 10 });
    h.send({ type: 'job.result', by: m, jobId: 'b1', outputHash: H('b') });
    expect(h.state.jobs.get('b1')!.auditRows).toHaveLength(4);
    h.send({ type: 'audit.report', by: h.state.jobs.get('b1')!.validator!, jobId: 'b1', outputHash: H('b'), match: true });
    expect(h.state.jobs.get('b1')!.status).toBe('committed');
    const challenger = [v, c].find((x) => x !== h.state.jobs.get('b1')!.validator)!;
    h.send({ type: 'job.challenge', by: challenger, jobId: 'b1', outputHash: H('d') });
    expect(h.state.jobs.get('b1')!.status).toBe('disputed');
    expect(h.state.jobs.get('b1')!.auditRows).toBeUndefined();
    h.check();
  });

  it('property: random batch jobs keep conservation and pay exactly offer × rows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ rows: fc.integer({ min: 1, max: 64 }), price: fc.bigInt({ min: 1n, max: 5_000n }), none: fc.boolean(), settle: fc.boolean() }), { minLength: 1, maxLength: 8 }),
        (jobs) => {
          const h = createHarness({ auditRate: 0 });
          const m = addNode(h, 'm', 'miner');
          const client = fund(h, 'c', 10_000n * MUSD);
          jobs.forEach((j, i) => {
            offer(h, m, j.price, 64);
            const verification = j.none ? 'none' : 'sampled';
            const fx = submit(h, client, `p${i}`, { rows: j.rows, maxPriceMicro: 20_000n, verification });
            expect(fx.find((e) => e.type === 'job.assigned')).toMatchObject({ priceMicro: j.price * BigInt(j.rows) });
            expect(h.state.ledger.get(`escrow:p${i}`)).toBe(20_000n * BigInt(j.rows));
            if (j.settle) h.send({ type: 'job.result', by: m, jobId: `p${i}`, outputHash: H('b') });
            h.check();
          });
          h.advance(60_000);
          h.check();
          for (const [i, j] of jobs.entries()) {
            const s = h.effects.find((e) => e.type === 'job.settled' && e.jobId === `p${i}`);
            if (j.settle) expect(s).toMatchObject({ priceMicro: j.price * BigInt(j.rows) });
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('batch jobs: the row sample', () => {
  it('property: deterministic, distinct, sorted, within [0, rows), min(count, rows) long', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 64 }), (jobId, rows, count) => {
        const seed = hashHex(`seed-${jobId}`);
        const a = sampleAuditRows(seed, jobId, rows, count);
        expect(a).toEqual(sampleAuditRows(seed, jobId, rows, count));
        expect(a).toHaveLength(Math.min(rows, count));
        expect(new Set(a).size).toBe(a.length);
        expect([...a].sort((x, y) => x - y)).toEqual(a);
        for (const r of a) expect(r >= 0 && r < rows && Number.isInteger(r)).toBe(true);
      }),
    );
  });

  it('depends on the seed: another epoch seed draws other rows (so the miner cannot know them before the reveal)', () => {
    const seen = new Set<string>();
    for (let e = 0; e < 20; e++) seen.add(sampleAuditRows(hashHex(`epoch-${e}`), 'job', 64, 4).join(','));
    expect(seen.size).toBeGreaterThan(15);
  });

  it('is close to uniform over rows (each of 16 rows drawn about 4/16 of the time)', () => {
    const hits = new Array<number>(16).fill(0);
    const n = 4000;
    for (let i = 0; i < n; i++) for (const r of sampleAuditRows(hashHex(`s${i}`), 'j', 16, 4)) hits[r]!++;
    for (const c of hits) expect(Math.abs(c / n - 0.25)).toBeLessThan(0.03);
  });

  it('catch probability is 1 − C(n−k, s)/C(n, s), and matches the draw empirically', () => {
    expect(batchCatchProbability(32, 1, 4)).toBeCloseTo(4 / 32, 12);
    expect(batchCatchProbability(32, 0, 4)).toBe(0);
    expect(batchCatchProbability(32, 29, 4)).toBe(1);
    expect(batchCatchProbability(4, 1, 8)).toBe(1);
    const bad = new Set([5, 6, 7]);
    let caught = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) if (sampleAuditRows(hashHex(`x${i}`), 'j', 32, 4).some((r) => bad.has(r))) caught++;
    expect(Math.abs(caught / n - batchCatchProbability(32, 3, 4))).toBeLessThan(0.03);
  });
});

describe('batch jobs: slicing and the per-row comparison', () => {
  const spec = { comparator: { kind: 'argmax-maxabs', tolerance: 1e-4 } };
  const mined: JobOutput = { kind: 'tensor', tensor: f32([[1, 0], [0, 1], [2, 0], [0, 3]]) };

  it('slices rows in the order asked; a row outside the batch is ERR_BAD_BATCH', () => {
    expect(sliceTensorRows(f32([[1, 2], [3, 4], [5, 6]]), [2, 0])).toEqual(f32([[5, 6], [1, 2]]));
    expect(sliceTensorRows(f32([[1, 2, 3]]), [0])).toEqual(f32([[1, 2, 3]]));
    expect(code(() => sliceTensorRows(f32([[1, 2]]), [1]))).toBe('ERR_BAD_BATCH:rows');
  });

  it('agrees when every sampled row agrees within tolerance', () => {
    const r = compareSampledRows(spec, mined, { kind: 'tensor', tensor: f32([[0, 1.00001], [0, 3]]) }, [1, 3]);
    expect(r).toMatchObject({ match: true, badRow: null });
  });

  it('one bad sampled row fails the whole audit and is named', () => {
    const r = compareSampledRows(spec, mined, { kind: 'tensor', tensor: f32([[1, 0], [0, 2.5]]) }, [0, 3]);
    expect(r.match).toBe(false);
    expect(r.badRow).toBe(3);
    expect(r.reason).toMatch(/^row 3:/);
  });

  it('a re-execution of the wrong number of rows disagrees', () => {
    expect(compareSampledRows(spec, mined, { kind: 'tensor', tensor: f32([[1, 0]]) }, [0, 3]).match).toBe(false);
  });

  it('maxBatchRows and auditSampleRows are parameters with bounds', () => {
    expect(resolveParams({}).maxBatchRows).toBe(64);
    expect(() => resolveParams({ maxBatchRows: 0 })).toThrow(/maxBatchRows/);
    expect(() => resolveParams({ auditSampleRows: 1.5 })).toThrow(/auditSampleRows/);
    expect(checkBatchRows(resolveParams({}), undefined)).toBe(1);
  });
});
