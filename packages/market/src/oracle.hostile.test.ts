import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMarket, type Market } from './market.js';
import { connectNode, type TestNode } from './test-node.js';

let dir: string;
let market: Market;
let node: TestNode;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'im-oracle-'));
  market = await createMarket({ dbPath: join(dir, 'm.db') });
  node = await connectNode(market.wsUrl, 'oracle/attacker');
});
afterAll(async () => {
  node.close();
  await market.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('market: nobody but the market sets the IMT price', () => {
  it('attack: a raw and a signed oracle.price from a participant are refused and change nothing', async () => {
    const before = market.core.state.seq;
    const raw = await node.request({ type: 'oracle.price', priceMicro: '1' });
    expect(raw.type).toBe('error');
    const signed = await node.request({ type: 'oracle.price', envelope: node.sign('oracle.price', { priceMicro: '1' }) });
    expect(signed.type).toBe('error');
    const post = await fetch(`${market.url}/v1/oracle/price`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ priceMicro: '1' }) });
    expect(post.status).toBe(404);
    expect(market.core.state.oracle ?? null).toBeNull();
    expect(market.core.state.seq).toBe(before);
    expect((await fetch(`${market.url}/v1/health`)).status).toBe(200);
  });

  it('error: a market asked for token pricing refuses to start, naming the parameter', async () => {
    await expect(createMarket({ dbPath: join(dir, 'token.db'), params: { pricingMode: 'token' } })).rejects.toThrow(/pricingMode/);
    await expect(createMarket({ dbPath: join(dir, 'stake.db'), params: { stakeToken: 'IMT' } })).rejects.toThrow(/stakeToken/);
  });
});
