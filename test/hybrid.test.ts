import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createHybridClient, createRng, syntheticInput, type Client } from '@infermarket/client';
import { keyPairFromSeed, seedFromLabel } from '@infermarket/protocol';
import { createInferenceExecutor, type Executor } from '@infermarket/miner';
import { createCloud, type Cloud } from '../packages/cli/src/cloud/server.js';

// Two real servers over HTTP with real onnxruntime: a fast baseline, and a "market" side that answers
// only after SLOW_MS (a slow server, as a congested market is). The hybrid client routes between them.
const SLOW_MS = 1_500;

function slowed(ex: Executor, ms: number): Executor {
  return { ...ex, execute: async (req) => (await new Promise((r) => setTimeout(r, ms)), ex.execute(req)) };
}

describe('hybrid client (SDK routing policy)', () => {
  let fast: Cloud;
  let slow: Cloud;
  let cloud: Client;
  let market: Client;

  beforeAll(async () => {
    fast = createCloud({ keys: keyPairFromSeed(seedFromLabel('hyb-fast')), executor: createInferenceExecutor(), defaultPriceMicro: 10_000n });
    slow = createCloud({ keys: keyPairFromSeed(seedFromLabel('hyb-slow')), executor: slowed(createInferenceExecutor(), SLOW_MS), defaultPriceMicro: 8_000n });
    const fastUrl = await fast.app.listen({ host: '127.0.0.1', port: 0 });
    const slowUrl = await slow.app.listen({ host: '127.0.0.1', port: 0 });
    cloud = createClient({ url: fastUrl, key: seedFromLabel('hyb-client'), transport: 'http' });
    market = createClient({ url: slowUrl, key: seedFromLabel('hyb-client'), transport: 'http' });
    await cloud.faucet(1_000_000n);
    await market.faucet(1_000_000n);
  });
  afterAll(async () => {
    await fast?.close();
    await slow?.close();
  });

  it('split: latency-sensitive (generation) jobs go to the baseline, batch jobs to the market', async () => {
    const h = createHybridClient({ market, cloud, policy: 'split' });
    const gen = await h.run({ model: 'charlm', input: { kind: 'prompt', prompt: 'The market ', maxTokens: 8, temperature: 0, seed: 1 }, maxPriceMicro: 50_000n });
    expect(gen.route).toBe('cloud');
    expect(gen.job.status).toBe('settled');
    const batch = await h.run({ model: 'digits', input: syntheticInput('digits', createRng(1, 'h')), maxPriceMicro: 50_000n });
    expect(batch.route).toBe('market');
    expect(batch.latencyMs).toBeGreaterThanOrEqual(SLOW_MS);
    expect(h.counts()).toEqual({ market: 1, cloud: 1, fallback: 0 });
  });

  it('fallback: a market job not settled after fallbackAfterMs is served by the baseline within the deadline plus a margin', async () => {
    const fallbackAfterMs = 300;
    const h = createHybridClient({ market, cloud, policy: 'fallback', fallbackAfterMs });
    const r = await h.run({ model: 'digits', input: syntheticInput('digits', createRng(2, 'h')), maxPriceMicro: 50_000n });
    expect(r.route).toBe('market→cloud');
    expect(r.job.status).toBe('settled');
    expect(r.submitted.map((s) => s.to)).toEqual(['market', 'cloud']);
    expect(r.latencyMs).toBeLessThan(fallbackAfterMs + 1_000);
    // with time enough the market serves it itself
    const patient = createHybridClient({ market, cloud, policy: 'fallback', fallbackAfterMs: SLOW_MS + 3_000 });
    const m = await patient.run({ model: 'digits', input: syntheticInput('digits', createRng(3, 'h')), maxPriceMicro: 50_000n });
    expect(m.route).toBe('market');
    expect(m.submitted).toHaveLength(1);
    expect(h.counts().fallback).toBe(1);
  });

  it('refuses an unknown policy', () => {
    expect(() => createHybridClient({ market, cloud, policy: 'random' as never })).toThrow(/"policy"/);
  });
});
