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

  it('attack: on a token-pricing market nobody but its oracle moves the price: raw, signed (any key) and HTTP posts change nothing', async () => {
    const m = await createMarket({ dbPath: join(dir, 'tok.db'), params: { pricingMode: 'token' }, oracle: { points: [[0, 1_000_000]] } });
    const n = await connectNode(m.wsUrl, 'oracle/foreign-key');
    try {
      expect(m.core.state.oracle).toMatchObject({ priceMicro: 1_000_000n, updates: 1 });
      const seq = m.core.state.seq;
      for (const priceMicro of ['1', '0', '-5', '1000000000000000000000']) {
        const raw = await n.request({ type: 'oracle.price', priceMicro });
        expect(raw).toMatchObject({ type: 'error' });
        const signed = await n.request({ type: 'oracle.price', envelope: n.sign('oracle.price', { priceMicro }) });
        expect(signed).toMatchObject({ type: 'error' });
        for (const path of ['/v1/oracle', '/v1/oracle/price']) {
          const post = await fetch(`${m.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ priceMicro, envelope: n.sign('oracle.price', { priceMicro }) }) });
          expect(post.status).toBe(404);
        }
      }
      expect(m.core.state.oracle).toMatchObject({ priceMicro: 1_000_000n, updates: 1 });
      expect(m.core.state.seq).toBe(seq);
      const view = (await (await fetch(`${m.url}/v1/oracle`)).json()) as { priceMicro: string };
      expect(view.priceMicro).toBe('1000000');
    } finally {
      n.close();
      await m.close();
    }
  });

  it('error: a token-pricing market without a price path refuses to start, naming pricingMode; IMT stakes alone need none', async () => {
    await expect(createMarket({ dbPath: join(dir, 'token.db'), params: { pricingMode: 'token' } })).rejects.toThrow(expect.objectContaining({ code: 'ERR_INVALID_PARAM', details: { field: 'pricingMode' } }));
    await expect(createMarket({ dbPath: join(dir, 'native.db'), params: { pricingMode: 'token-native' } })).rejects.toThrow(/oracle-prices/);
    const m = await createMarket({ dbPath: join(dir, 'stake.db'), params: { stakeToken: 'IMT' } });
    expect(m.core.params.stakeToken).toBe('IMT');
    await m.close();
  });

  it('error: a price path with a price of 0, negative, absurd or out of order is refused at start, naming the point', async () => {
    const bad: [string, [number, number | string][]][] = [
      ['oracle.points[1]', [[0, 1_000_000], [1_000, 0]]],
      ['oracle.points[0]', [[0, -5]]],
      ['oracle.points[2]', [[0, 1], [10, 2], [20, '1000000000000000001']]],
      ['oracle.points[1]', [[0, 1], [0, 2]]],
      ['oracle.points[0]', [[5, 1]]],
      ['oracle.points[0]', [[0, 1.5]]],
    ];
    for (const [i, [field, points]] of bad.entries()) {
      await expect(createMarket({ dbPath: join(dir, `bad-${i}.db`), params: { pricingMode: 'token' }, oracle: { points } })).rejects.toThrow(expect.objectContaining({ code: 'ERR_VALIDATION', details: { field } }));
    }
  });
});
