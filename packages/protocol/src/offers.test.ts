import { describe, expect, it } from 'vitest';
import { InfermarketError } from './errors.js';
import { MUSD, addNode, addr, createHarness, fund, type Harness } from './testing.js';
import type { Effect, MarketState } from './types.js';

const H = (c: string) => c.repeat(64);

function offer(h: Harness, miner: string, o: { price?: bigint; capacity?: number; untilMs?: number; models?: string[] } = {}): Effect[] {
  const prices: Record<string, bigint> = {};
  for (const m of o.models ?? ['digits']) prices[m] = o.price ?? 1_000n;
  return h.send({ type: 'offer.post', by: miner, prices, capacity: o.capacity ?? 1, variant: 'int8', untilMs: o.untilMs ?? h.now + 60_000 });
}

function submit(h: Harness, client: string, jobId: string, extra: Record<string, unknown> = {}): Effect[] {
  return h.send({ type: 'job.submit', by: client, jobId, model: 'digits', inputHash: H('a'), maxPriceMicro: 10_000n, ...extra } as never);
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof InfermarketError) return e.code;
    throw e;
  }
  return 'accepted';
}

/** What a rejected event must leave alone. */
function snap(s: MarketState): string {
  return JSON.stringify([[...s.ledger], [...s.offers.values()].map((o) => ({ ...o, prices: [...o.prices] })), [...s.busy], [...s.waiting], [...s.jobs.values()].map((j) => [j.id, j.status, j.miner, j.priceMicro])], (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}

describe('standing offers (matchingMode offers, the default)', () => {
  it('is the default, and a submitted job is assigned at once to the best live offer: no bid window, no job.opened', () => {
    const h = createHarness({ auditRate: 0 });
    expect(h.state.params.matchingMode).toBe('offers');
    const cheap = addNode(h, 'm-cheap', 'miner');
    const dear = addNode(h, 'm-dear', 'miner');
    offer(h, dear, { price: 3_000n });
    offer(h, cheap, { price: 2_000n });
    const client = fund(h, 'c');
    const fx = submit(h, client, 'j1');
    expect(fx.some((e) => e.type === 'job.opened')).toBe(false);
    const a = fx.find((e) => e.type === 'job.assigned');
    expect(a).toMatchObject({ miner: cheap, priceMicro: 2_000n, attempt: 1 });
    expect(h.state.jobs.get('j1')!.status).toBe('assigned');
    h.send({ type: 'job.result', by: cheap, jobId: 'j1', outputHash: H('b') });
    h.advance(h.state.params.challengeWindowMs);
    const s = h.effects.find((e) => e.type === 'job.settled');
    expect(s).toMatchObject({ miner: cheap, priceMicro: 2_000n });
    h.check();
  });

  it('price is fixed at the match: a later, dearer offer does not change what the job pays', () => {
    const h = createHarness({ auditRate: 0 });
    const m = addNode(h, 'm', 'miner');
    offer(h, m, { price: 1_000n, capacity: 2 });
    const client = fund(h, 'c');
    submit(h, client, 'j1');
    offer(h, m, { price: 9_000n, capacity: 2 });
    h.send({ type: 'job.result', by: m, jobId: 'j1', outputHash: H('b') });
    h.advance(h.state.params.challengeWindowMs);
    expect(h.effects.find((e) => e.type === 'job.settled')).toMatchObject({ priceMicro: 1_000n });
    // the client paid price + protocol fee, not a micro more
    const fee = (1_000n * BigInt(h.state.params.protocolFeeBps)) / 10_000n;
    expect(h.state.ledger.get(`balance:${client}`)).toBe(1_000n * MUSD - 1_000n - fee);
  });

  it('capacity is never exceeded: a full miner gets no more jobs; the next waits and is matched when a slot frees (oldest first)', () => {
    const h = createHarness({ auditRate: 0 });
    const m = addNode(h, 'm', 'miner');
    offer(h, m, { capacity: 1 });
    const client = fund(h, 'c');
    submit(h, client, 'j1');
    submit(h, client, 'j2');
    submit(h, client, 'j3');
    expect(h.state.jobs.get('j1')!.status).toBe('assigned');
    expect(h.state.jobs.get('j2')!.status).toBe('bidding');
    expect(h.state.jobs.get('j3')!.status).toBe('bidding');
    expect(h.state.busy.get(m)).toBe(1);
    h.advance(10);
    const fx = h.send({ type: 'job.result', by: m, jobId: 'j1', outputHash: H('b') });
    // the freed slot goes to the oldest waiting job
    expect(fx.filter((e) => e.type === 'job.assigned').map((e) => (e as { jobId: string }).jobId)).toEqual(['j2']);
    expect(h.state.jobs.get('j3')!.status).toBe('bidding');
    expect(h.state.busy.get(m)).toBe(1);
    h.check();
  });

  it('a job no offer takes fails no-bids after bidWindowMs × bidRounds, refunded in full', () => {
    const h = createHarness({ auditRate: 0, bidWindowMs: 50, bidRounds: 3 });
    const client = fund(h, 'c');
    const before = h.state.ledger.get(`balance:${client}`);
    submit(h, client, 'j1');
    h.advance(149);
    expect(h.state.jobs.get('j1')!.status).toBe('bidding');
    h.advance(1);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('failed');
    expect(job.failure).toBe('no-bids');
    expect(h.state.ledger.get(`balance:${client}`)).toBe(before);
    expect(h.state.waiting.size).toBe(0);
    h.check();
  });

  it('an offer posted while a job waits takes it at once', () => {
    const h = createHarness({ auditRate: 0 });
    const client = fund(h, 'c');
    submit(h, client, 'j1');
    const m = addNode(h, 'm', 'miner');
    const fx = offer(h, m);
    expect(fx.find((e) => e.type === 'job.assigned')).toMatchObject({ jobId: 'j1', miner: m });
  });

  it('expired, withdrawn, lapsed and jailed miners\' offers never match', () => {
    const h = createHarness({ auditRate: 0, jailDurationMs: 60_000 });
    const client = fund(h, 'c');
    const exp = addNode(h, 'm-exp', 'miner');
    offer(h, exp, { untilMs: h.now + 5 });
    h.advance(5);
    submit(h, client, 'j-exp');
    expect(h.state.jobs.get('j-exp')!.miner).toBeNull();

    const wd = addNode(h, 'm-wd', 'miner', { models: ['charlm'] });
    h.send({ type: 'offer.post', by: wd, prices: { charlm: 1_000n }, capacity: 1, variant: 'int8', untilMs: h.now + 60_000 });
    h.send({ type: 'offer.withdraw', by: wd });
    h.send({ type: 'job.submit', by: client, jobId: 'j-wd', model: 'charlm', inputHash: H('a'), maxPriceMicro: 10_000n });
    expect(h.state.jobs.get('j-wd')!.miner).toBeNull();
    // withdrawing twice is refused and changes nothing
    const s0 = snap(h.state);
    expect(code(() => h.send({ type: 'offer.withdraw', by: wd }))).toBe('ERR_WRONG_STATE');
    expect(snap(h.state)).toBe(s0);

    const h2 = createHarness({ auditRate: 0 });
    const c2 = fund(h2, 'c');
    const lap = addNode(h2, 'm-lap', 'miner');
    offer(h2, lap);
    h2.send({ type: 'offer.lapse', address: lap });
    submit(h2, c2, 'j-lap');
    expect(h2.state.jobs.get('j-lap')!.miner).toBeNull();

    const h3 = createHarness({ auditRate: 0, jailDurationMs: 60_000 });
    const c3 = fund(h3, 'c');
    const jailed = addNode(h3, 'm-jail', 'miner');
    offer(h3, jailed, { capacity: 4 });
    h3.state.nodes.get(jailed)!.jailedUntilMs = h3.now + 60_000; // as a slash leaves it
    submit(h3, c3, 'j-jail');
    expect(h3.state.jobs.get('j-jail')!.miner).toBeNull();
  });

  it('a job waiting while the only offer\'s miner is jailed is matched when the jail ends, not failed no-bids', () => {
    const h = createHarness({ auditRate: 1, disputeQuorum: 0, jailDurationMs: 1_000, bidWindowMs: 1_000, bidRounds: 3 });
    const m = addNode(h, 'm', 'miner');
    addNode(h, 'v', 'validator');
    const client = fund(h, 'c');
    offer(h, m, { capacity: 4 });
    submit(h, client, 'j1');
    h.send({ type: 'job.result', by: m, jobId: 'j1', outputHash: H('b') });
    const v = h.effects.find((e) => e.type === 'audit.requested') as Extract<Effect, { type: 'audit.requested' }>;
    h.send({ type: 'audit.report', by: v.validator, jobId: 'j1', outputHash: H('c'), match: false });
    expect(h.state.jobs.get('j1')!.failure).toBe('miner-slashed');
    const jailEnd = h.state.nodes.get(m)!.jailedUntilMs;
    expect(jailEnd).toBe(h.now + 1_000);
    submit(h, client, 'j2');
    expect(h.state.jobs.get('j2')!.status).toBe('bidding');
    h.advance(999);
    expect(h.state.jobs.get('j2')!.status).toBe('bidding');
    h.advance(1);
    // the jail ended at 1 000 ms, long before the job's wait bound (3 000 ms): the offer takes it then
    expect(h.state.jobs.get('j2')).toMatchObject({ status: 'assigned', miner: m });
    h.check();
  });

  it('deadline reassignment excludes the miner that missed, and frees its slot', () => {
    const h = createHarness({ auditRate: 0, jobDeadlineMs: 1_000 });
    const client = fund(h, 'c');
    const a = addNode(h, 'm-a', 'miner');
    offer(h, a, { price: 1_000n, capacity: 4 });
    submit(h, client, 'j1');
    expect(h.state.jobs.get('j1')!.miner).toBe(a);
    const b = addNode(h, 'm-b', 'miner');
    offer(h, b, { price: 4_000n, capacity: 4 });
    h.advance(1_000);
    const job = h.state.jobs.get('j1')!;
    // a is cheaper, but it missed this job: b takes it
    expect(job.miner).toBe(b);
    expect(job.excluded).toEqual([a]);
    expect(h.state.busy.get(a) ?? 0).toBe(0);
    expect(h.effects.some((e) => e.type === 'job.opened' && e.jobId === 'j1' && e.attempt === 1)).toBe(true);
    h.check();
  });

  it('a redundant job takes k offers of different miners at once, or waits; with fewer than k it fails too-few-bids', () => {
    const h = createHarness({ auditRate: 0, redundancyK: 3 });
    const client = fund(h, 'c');
    const ms = ['r0', 'r1'].map((l) => addNode(h, l, 'miner'));
    for (const m of ms) offer(h, m, { capacity: 5 });
    submit(h, client, 'j1', { verification: 'redundant' });
    expect(h.state.jobs.get('j1')!.status).toBe('bidding');
    expect(h.state.busy.size).toBe(0);
    const third = addNode(h, 'r2', 'miner');
    offer(h, third, { capacity: 5 });
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('assigned');
    expect(new Set(job.replicas.map((r) => r.miner)).size).toBe(3);
    for (const m of [...ms, third]) expect(h.state.busy.get(m)).toBe(1);

    const h2 = createHarness({ auditRate: 0, redundancyK: 3 });
    const c2 = fund(h2, 'c');
    for (const l of ['q0', 'q1']) offer(h2, addNode(h2, l, 'miner'));
    submit(h2, c2, 'j2', { verification: 'redundant' });
    h2.advance(h2.state.params.bidWindowMs * h2.state.params.bidRounds);
    expect(h2.state.jobs.get('j2')!.failure).toBe('too-few-bids');
  });

  it('an offer whose price plus the level\'s fees exceeds a job\'s max price does not match it', () => {
    const h = createHarness({ auditRate: 0 });
    const client = fund(h, 'c');
    const m = addNode(h, 'm', 'miner');
    offer(h, m, { price: 9_000n });
    // sampled: 9000 + 2% + 100% validator fee > 10000
    submit(h, client, 'j1');
    expect(h.state.jobs.get('j1')!.miner).toBeNull();
    submit(h, client, 'j2', { verification: 'none' });
    expect(h.state.jobs.get('j2')!.miner).toBe(m);
  });

  it('hostile: bad offers are refused with a code naming the field and change nothing', () => {
    const h = createHarness({ auditRate: 0 });
    const m = addNode(h, 'm', 'miner', { models: ['digits'] });
    const v = addNode(h, 'v', 'validator');
    const client = fund(h, 'c');
    const base = { type: 'offer.post' as const, by: m, prices: { digits: 1_000n }, capacity: 1, variant: 'int8', untilMs: h.now + 1_000 };
    const s0 = snap(h.state);
    expect(code(() => h.send({ ...base, prices: { charlm: 1_000n } }))).toBe('ERR_VALIDATION'); // a model it does not serve
    expect(code(() => h.send({ ...base, prices: { nope: 1_000n } }))).toBe('ERR_UNKNOWN_MODEL');
    expect(code(() => h.send({ ...base, prices: {} }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...base, prices: { digits: 0n } }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...base, prices: { digits: 10n ** 15n } }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...base, capacity: 0 }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...base, capacity: 1.5 }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...base, untilMs: h.now }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...base, variant: 'x'.repeat(40) }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...base, by: v }))).toBe('ERR_UNKNOWN_ACCOUNT'); // validators do not offer
    expect(code(() => h.send({ ...base, by: client }))).toBe('ERR_UNKNOWN_ACCOUNT');
    expect(code(() => h.send({ ...base, by: addr('stranger') }))).toBe('ERR_UNKNOWN_ACCOUNT');
    expect(snap(h.state)).toBe(s0);
    // replay of the same signed offer (same nonce) is refused
    h.send({ ...base, nonce: '900000000000' });
    expect(code(() => h.send({ ...base, nonce: '900000000000' }))).toBe('ERR_REPLAY');
    // bids are the auction's: refused in offers mode
    submit(h, client, 'j1');
    const a2 = addNode(h, 'm2', 'miner');
    expect(code(() => h.send({ type: 'job.bid', by: a2, jobId: 'j1', priceMicro: 1n }))).toMatch(/ERR_WRONG_STATE/);
  });

  it('a miner that is also the client never takes its own job', () => {
    const h = createHarness({ auditRate: 0 });
    const m = addNode(h, 'm', 'miner');
    offer(h, m, { capacity: 3 });
    submit(h, m, 'self');
    expect(h.state.jobs.get('self')!.miner).toBeNull();
  });
});
