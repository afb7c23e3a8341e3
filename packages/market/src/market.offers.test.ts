import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPayload, sealEnvelope, type JobView, type ServerMessage } from '@infermarket/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMarket, type Market } from './market.js';
import { connectNode, fakeInference, keysOf, offerFrame, readTokenOf, registerAndBond, submitRequest, until, type TestNode } from './test-node.js';

// Standing offers attacked over the public API with raw frames and raw HTTP (no SDK): every party may lie.
const PARAMS = { bidWindowMs: 100, bidRounds: 2, challengeWindowMs: 50, jobDeadlineMs: 5_000, auditRate: 0 };

let dir: string;
let market: Market;
const nodes: TestNode[] = [];
const client = keysOf('offers/client');

async function post(path: string, body: Record<string, unknown>) {
  const r = await fetch(`${market.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as JobView & { error?: { code: string; message: string } } };
}
async function miner(label: string, models = ['digits', 'charlm']): Promise<TestNode> {
  const n = await connectNode(market.wsUrl, label);
  nodes.push(n);
  expect((await post('/v1/faucet', { address: n.address, amountMicro: '500000000' })).status).toBe(200);
  await registerAndBond(n, 'miner', '200000000', models);
  return n;
}
/** Answer every assignment honestly (a result signed by the node). */
function answer(n: TestNode): void {
  n.onFrame((f) => {
    if (f.type !== 'job.assign') return;
    const a = f as Extract<ServerMessage, { type: 'job.assign' }>;
    const output = fakeInference(a.input);
    n.raw({ type: 'job.result', envelope: n.sign('job.result', { jobId: a.jobId, inputHash: a.inputHash, outputHash: hashPayload(output) }), output });
  });
}
const view = async (id: string) => (await (await fetch(`${market.url}/v1/jobs/${id}`, { headers: { 'x-infermarket-read': readTokenOf(client, id) } })).json()) as JobView;
const submit = async (jobId: string, extra: Record<string, unknown> = {}) => post('/v1/jobs', { ...submitRequest(client, { jobId }), ...extra });
const state = () => JSON.stringify({ seq: market.core.state.seq, ledger: [...market.core.state.ledger].map(([k, v]) => [k, v.toString()]), offers: [...market.core.state.offers.keys()] });
const offers = async () => (await (await fetch(`${market.url}/v1/offers`)).json()) as { matchingMode: string; offers: Array<{ miner: string; pricesMicro: Record<string, string>; capacity: number; load: number; eligible: boolean }> };
const balance = () => market.core.state.ledger.get(`balance:${client.address}`) ?? 0n;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'im-offers-'));
  market = await createMarket({ dbPath: join(dir, 'm.db'), params: PARAMS });
  expect((await post('/v1/faucet', { address: client.address, amountMicro: '1000000' })).status).toBe(200);
});
afterEach(async () => {
  for (const n of nodes.splice(0)) n.close();
  await market.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('market: standing offers over the wire, attacked', () => {
  it('an offer is matched at submit (no bid window) and the job pays the price it had then: a later, dearer offer changes nothing', async () => {
    const m = await miner('offers/m');
    answer(m);
    expect((await m.request(offerFrame(m, { priceMicro: '1000', models: ['digits'] }))).type).toBe('ack');
    const before = balance();
    const res = await submit('j-lock');
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('assigned');
    expect(res.body.miner).toBe(m.address);
    // the miner raises its price right after the match
    expect((await m.request(offerFrame(m, { priceMicro: '2000', models: ['digits'] }))).type).toBe('ack');
    await until(async () => ((await view('j-lock')).status === 'settled' ? true : null), 10_000, 'j-lock settled');
    const done = await view('j-lock');
    expect(done.priceMicro).toBe('1000');
    // 1000 + 2 % protocol fee; the reserved validator fee is refunded (not audited)
    expect(balance()).toBe(before - 1020n);
  });

  it('error: an offer signed by another key, a replayed offer, a bid in offers mode and malformed fields are refused and change nothing', async () => {
    const m = await miner('offers/m');
    const other = keysOf('offers/other');
    const s0 = state();
    // signed by a key that is not this connection's
    const forged = sealEnvelope(other, 'offer.post', { prices: { digits: '1' }, capacity: 1, untilMs: Date.now() + 60_000, nonce: '1', expiresAtMs: Date.now() + 30_000 });
    const f1 = await m.request({ type: 'offer.post', envelope: forged });
    expect(f1).toMatchObject({ type: 'error', code: 'ERR_UNAUTHENTICATED' });
    for (const [body, field] of [
      [{ prices: { digits: 1000 }, capacity: 1, untilMs: Date.now() + 60_000 }, 'prices.digits'],
      [{ prices: { digits: '1000' }, capacity: 0, untilMs: Date.now() + 60_000 }, 'capacity'],
      [{ prices: { nope: '1000' }, capacity: 1, untilMs: Date.now() + 60_000 }, 'nope'],
      [{ prices: { digits: '1000' }, capacity: 1, untilMs: 5 }, 'untilMs'],
      [{ prices: { digits: '1000' }, capacity: 1, untilMs: Date.now() + 60_000, miner: 'x' }, 'miner'],
    ] as const) {
      const r = await m.request({ type: 'offer.post', envelope: m.sign('offer.post', body as never) });
      expect(r.type).toBe('error');
      expect((r as { message: string }).message).toContain(field);
    }
    expect(state()).toBe(s0);
    // the same signed offer twice: the second is a replay
    const once = offerFrame(m, { models: ['digits'] });
    expect((await m.request(once)).type).toBe('ack');
    const s1 = state();
    expect(await m.request(once)).toMatchObject({ type: 'error', code: 'ERR_REPLAY' });
    expect(state()).toBe(s1);
    // bids are the auction's
    expect((await submit('j-bid')).status).toBe(202);
    const bid = await m.request({ type: 'job.bid', envelope: m.sign('job.bid', { jobId: 'j-bid', priceMicro: '1' }) });
    expect(bid).toMatchObject({ type: 'error', code: 'ERR_WRONG_STATE' });
  });

  it('error: a client cannot pick its miner: a submit naming one is refused and changes nothing', async () => {
    const m = await miner('offers/m');
    expect((await m.request(offerFrame(m, { models: ['digits'] }))).type).toBe('ack');
    const s0 = state();
    const res = await submit('j-pick', { miner: m.address });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('ERR_VALIDATION');
    expect(res.body.error?.message).toMatch(/miner/);
    expect(state()).toBe(s0);
  });

  it('capacity cannot be exceeded: a silent miner with capacity 1 holds one job; the next waits and fails no-bids, refunded in full', async () => {
    const m = await miner('offers/full');
    expect((await m.request(offerFrame(m, { capacity: 1, models: ['digits'] }))).type).toBe('ack');
    const before = balance();
    expect((await offers()).offers).toEqual([expect.objectContaining({ miner: m.address, capacity: 1, load: 0, eligible: true })]);
    expect((await submit('j-a')).body.status).toBe('assigned');
    // anyone sees the offer is full: the load that stops it matching
    expect((await offers()).offers).toEqual([expect.objectContaining({ miner: m.address, capacity: 1, load: 1 })]);
    const second = await submit('j-b');
    expect(second.body.status).toBe('bidding');
    await until(async () => ((await view('j-b')).status === 'failed' ? true : null), 5_000, 'j-b to fail');
    expect(await view('j-b')).toMatchObject({ status: 'failed', failure: 'no-bids' });
    expect(m.frames.filter((f) => f.type === 'job.assign').map((f) => (f as { jobId: string }).jobId)).toEqual(['j-a']);
    // j-a's max price is still escrowed; j-b's came back whole
    expect(balance()).toBe(before - 5000n);
  });

  it('withdrawn and lapsed offers never match; a waiting job is matched when an offer arrives', async () => {
    const w = await miner('offers/withdraws');
    expect((await w.request(offerFrame(w, { models: ['digits'] }))).type).toBe('ack');
    expect((await w.request({ type: 'offer.withdraw', envelope: w.sign('offer.withdraw', {}) })).type).toBe('ack');
    expect(await w.request({ type: 'offer.withdraw', envelope: w.sign('offer.withdraw', {}) })).toMatchObject({ type: 'error', code: 'ERR_WRONG_STATE' });
    const gone = await miner('offers/gone');
    expect((await gone.request(offerFrame(gone, { models: ['digits'] }))).type).toBe('ack');
    gone.close();
    await until(async () => (market.core.state.offers.has(gone.address) ? null : true), 5_000, 'the offer to lapse');
    // GET /v1/offers lists neither the withdrawn nor the lapsed offer
    expect(await offers()).toMatchObject({ matchingMode: 'offers', offers: [] });
    const res = await submit('j-wait');
    expect(res.body.status).toBe('bidding');
    const late = await miner('offers/late');
    answer(late);
    expect((await late.request(offerFrame(late, { models: ['digits'], priceMicro: '1234' }))).type).toBe('ack');
    expect((await offers()).offers.map((o) => [o.miner, o.pricesMicro])).toEqual([[late.address, { digits: '1234' }]]);
    await until(async () => ((await view('j-wait')).status === 'settled' ? true : null), 10_000, 'j-wait settled');
    expect((await view('j-wait')).miner).toBe(late.address);
    expect(w.frames.some((f) => f.type === 'job.assign')).toBe(false);
    expect(gone.frames.some((f) => f.type === 'job.assign')).toBe(false);
  });

  it('an expired offer never matches', async () => {
    const m = await miner('offers/expiring');
    expect((await m.request(offerFrame(m, { models: ['digits'], untilMs: market.core.now() + 50 }))).type).toBe('ack');
    await until(async () => (market.core.now() > market.core.state.offers.get(m.address)!.untilMs ? true : null), 2_000, 'the offer to expire');
    expect((await submit('j-exp')).body.status).toBe('bidding');
    await until(async () => ((await view('j-exp')).status === 'failed' ? true : null), 5_000, 'j-exp to fail');
    expect(m.frames.some((f) => f.type === 'job.assign')).toBe(false);
  });
});
