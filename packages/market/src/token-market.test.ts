import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInvariants, type JobView } from '@infermarket/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMarket, type Market } from './market.js';
import { actAsMiner, connectNode, keysOf, readTokenOf, registerAndBond, submitRequest, until, type TestNode } from './test-node.js';
import type { OracleView } from './token-views.js';

// market-clock skew the tests move forward by hand: prices and the challenge window then change exactly when the
// test says, not when the machine gets round to it
let skewMs = 0;
const now = (): number => Date.now() + skewMs;
const SLOW_SETTLE = { challengeWindowMs: 15_000, auditRate: 0, jobDeadlineMs: 60_000, unbondingPeriodMs: 120_000 };

let dir: string;
let market: Market | undefined;
const nodes: TestNode[] = [];

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${market!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}
async function get<T>(path: string): Promise<T> {
  return (await (await fetch(`${market!.url}${path}`)).json()) as T;
}
type Tokens = Record<'mUSD' | 'IMT', { balanceMicro: string; stakeMicro: string }>;
async function tokens(address: string): Promise<Tokens> {
  return (await get<{ tokens: Tokens }>(`/v1/accounts/${address}`)).tokens;
}
async function miner(label: string, token: 'mUSD' | 'IMT' = 'mUSD'): Promise<TestNode> {
  const n = await connectNode(market!.wsUrl, label);
  nodes.push(n);
  expect((await post('/v1/faucet', { address: n.address, amountMicro: '500000000', token })).status).toBe(200);
  await registerAndBond(n, 'miner');
  await actAsMiner(n, { priceMicro: '1000' });
  return n;
}
async function job(label: string, id: string): Promise<JobView> {
  return (await (await fetch(`${market!.url}/v1/jobs/${id}`, { headers: { 'x-infermarket-read': readTokenOf(keysOf(label), id) } })).json()) as JobView;
}
function conservedPerToken(m: Market): void {
  const o = m.core.state;
  expect(checkInvariants(o)).toEqual([]);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-token-'));
  skewMs = 0;
});
afterEach(async () => {
  for (const n of nodes.splice(0)) n.close();
  await market?.close();
  market = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('market: token pricing with the market\'s own IMT oracle', () => {
  it('token mode: escrows the max price in IMT at the submit price + margin and pays in IMT at the settlement price', async () => {
    // 2 USD per IMT from the start, 1 USD from 10 s on (market clock)
    market = await createMarket({ dbPath: join(dir, 'm.db'), now, params: { ...SLOW_SETTLE, pricingMode: 'token' }, oracle: { points: [[0, 2_000_000], [10_000, '1000000']], source: 'test path' } });
    const o0 = await get<OracleView>('/v1/oracle');
    expect(o0).toMatchObject({ pricingMode: 'token', jobToken: 'IMT', priceUnit: 'mUSD', stakeToken: 'mUSD', priceMicro: '2000000', updates: 1 });
    const m = await miner('tok/miner');
    const client = keysOf('tok/client');
    expect((await post('/v1/faucet', { address: client.address, amountMicro: '1000000', token: 'IMT' })).body).toMatchObject({ token: 'IMT', balanceMicro: '1000000' });
    const minerBefore = await tokens(m.address);

    const sub = await post('/v1/jobs', submitRequest(client, { jobId: 'tok-1', maxPriceMicro: '5000' }));
    expect(sub.status, JSON.stringify(sub.body)).toBe(202);
    // escrow: 5000 micro-mUSD + 50 % margin = 7500 micro-USD at 2 USD/IMT = 3750 micro-IMT
    expect((await tokens(client.address)).IMT.balanceMicro).toBe(String(1_000_000 - 3750));
    await until(async () => (await job('tok/client', 'tok-1')).status === 'committed', 10_000, 'the miner to commit');

    // the price halves before the challenge window ends: the job settles at the new price
    skewMs += 20_000; // (signed read tokens last 30 s: stay inside them)
    market.oracle!.poll();
    expect((await get<OracleView>('/v1/oracle')).priceMicro).toBe('1000000');
    market.core.scheduler.runDue();
    const done = await until(async () => {
      const j = await job('tok/client', 'tok-1');
      return j.status === 'settled' ? j : null;
    }, 10_000, 'settlement');
    expect(done.priceMicro).toBe('1000'); // the miner's ask, in the price unit (mUSD)
    // at 1 USD/IMT: the miner gets 1000 micro-IMT, the protocol fee (2 %) 20; the client the rest of its 3750 back
    const clientAfter = await tokens(client.address);
    expect(clientAfter.IMT.balanceMicro).toBe(String(1_000_000 - 1020));
    expect(clientAfter.mUSD.balanceMicro).toBe('0');
    const minerAfter = await tokens(m.address);
    expect(BigInt(minerAfter.IMT.balanceMicro) - BigInt(minerBefore.IMT.balanceMicro)).toBe(1000n);
    expect(minerAfter.mUSD).toEqual(minerBefore.mUSD);
    expect((done.receipt!.body as { paidMicro: string }).paidMicro).toBe('1020');
    const o = await get<OracleView>('/v1/oracle');
    expect(o.ledger.IMT).toEqual({ mintedMicro: String(1_000_000 + 500_000_000 * 0), conserved: true });
    expect(o.ledger.mUSD.conserved).toBe(true);
    expect(o.updates).toBe(2);
    conservedPerToken(market);
  });

  it('token-native: prices and pays in IMT; IMT stakes are bonded from an IMT faucet', async () => {
    market = await createMarket({ dbPath: join(dir, 'n.db'), now, params: { ...SLOW_SETTLE, challengeWindowMs: 60, pricingMode: 'token-native', stakeToken: 'IMT' }, oracle: { points: [[0, 500_000]] } });
    const m = await miner('nat/miner', 'IMT');
    expect((await tokens(m.address)).IMT.stakeMicro).toBe('200000000');
    const client = keysOf('nat/client');
    await post('/v1/faucet', { address: client.address, amountMicro: '100000', token: 'IMT' });
    expect((await post('/v1/jobs', submitRequest(client, { jobId: 'nat-1', maxPriceMicro: '5000' }))).status).toBe(202);
    await until(async () => (await job('nat/client', 'nat-1')).status === 'settled', 10_000, 'settlement');
    expect((await tokens(client.address)).IMT.balanceMicro).toBe(String(100_000 - 1020));
    expect((await get<OracleView>('/v1/oracle')).ledger).toMatchObject({ IMT: { conserved: true }, mUSD: { conserved: true, mintedMicro: '0' } });
    conservedPerToken(market);
  });

  it('attack: a client paying in the wrong token is refused and nothing moves', async () => {
    market = await createMarket({ dbPath: join(dir, 'w.db'), now, params: { ...SLOW_SETTLE, pricingMode: 'token' }, oracle: { points: [[0, 1_000_000]] } });
    await miner('wrong/miner');
    const client = keysOf('wrong/client');
    // it holds mUSD only: a token-mode job escrows IMT, so mUSD cannot pay for it
    await post('/v1/faucet', { address: client.address, amountMicro: '1000000' });
    const seq = market.core.state.seq;
    const r = await post('/v1/jobs', submitRequest(client, { jobId: 'wrong-1' }));
    expect(r.status).toBe(402);
    expect(r.body).toMatchObject({ error: { code: 'ERR_INSUFFICIENT_BALANCE' } });
    // naming a token in the submission is not a way around it: the body is refused before the rules see it
    const body = submitRequest(client, { jobId: 'wrong-2' }) as { envelope: Record<string, unknown> };
    const r2 = await post('/v1/jobs', { ...body, token: 'mUSD' });
    expect(r2.status).toBe(400);
    expect(r2.body).toMatchObject({ error: { code: 'ERR_VALIDATION' } });
    // nor is a faucet in a token that does not exist
    const r3 = await post('/v1/faucet', { address: client.address, amountMicro: '1', token: 'USDT' });
    expect(r3.status).toBe(400);
    expect(market.core.state.seq).toBe(seq);
    expect((await tokens(client.address)).mUSD.balanceMicro).toBe('1000000');
    expect((await tokens(client.address)).IMT.balanceMicro).toBe('0');
    conservedPerToken(market);
  });
});
