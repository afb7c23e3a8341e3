import { describe, expect, it } from 'vitest';
import { hashPayload } from '@infermarket/protocol';
import { bidPrice, fakeOutput, injectedDelay, planJob } from './strategy.js';
import { createCheatBandit } from './bandit.js';
import { createNodeRng } from './prng.js';
import { httpUrlOf, nodeSocketUrl } from './setup.js';

const tensorInput = { kind: 'tensor' as const, tensor: { dtype: 'float32' as const, dims: [1, 784], data: '' } };
const ctx = { deadlineMs: 1_000, hasReplay: true };

describe('planJob', () => {
  it('runs the claimed variant when honest', () => {
    expect(planJob({ strategy: 'honest', variant: 'int8' }, ctx, createNodeRng(1, 'a'))).toEqual({ kind: 'run', variant: 'int8', extraDelayMs: 0 });
  });
  it('fakes the output when lazy and runs int4 when downgrading', () => {
    expect(planJob({ strategy: 'lazy', variant: 'int8' }, ctx, createNodeRng(1, 'a')).kind).toBe('fake');
    expect(planJob({ strategy: 'downgrade', variant: 'int8' }, ctx, createNodeRng(1, 'a'))).toMatchObject({ kind: 'run', variant: 'int4' });
  });
  it('replays only once it has an earlier output', () => {
    expect(planJob({ strategy: 'replay', variant: 'int8' }, { ...ctx, hasReplay: false }, createNodeRng(1, 'a')).kind).toBe('run');
    expect(planJob({ strategy: 'replay', variant: 'int8' }, ctx, createNodeRng(1, 'a')).kind).toBe('replay');
  });
  it('drops about the configured share of jobs when flaky', () => {
    const rng = createNodeRng(3, 'flaky');
    let drops = 0;
    for (let i = 0; i < 2_000; i++) if (planJob({ strategy: 'flaky', variant: 'int8', cheatProbability: 0.3 }, ctx, rng).kind === 'drop') drops++;
    expect(drops / 2_000).toBeGreaterThan(0.25);
    expect(drops / 2_000).toBeLessThan(0.35);
  });
  it('delays by 2/3 of the deadline when slow, or by what it is told', () => {
    const p = planJob({ strategy: 'slow', variant: 'int8' }, ctx, createNodeRng(1, 'a'));
    expect(p.kind === 'run' && p.extraDelayMs).toBe(667);
    const q = planJob({ strategy: 'slow', variant: 'int8', slowExtraMs: 5_000 }, ctx, createNodeRng(1, 'a'));
    expect(q.kind === 'run' && q.extraDelayMs).toBe(5_000);
  });
  it('cheats with the probability its bandit chose when adaptive', () => {
    expect(planJob({ strategy: 'adaptive', variant: 'int8' }, { ...ctx, adaptiveP: 0 }, createNodeRng(1, 'a')).kind).toBe('run');
    expect(planJob({ strategy: 'adaptive', variant: 'int8' }, { ...ctx, adaptiveP: 1 }, createNodeRng(1, 'a')).kind).toBe('fake');
  });
});

describe('fakeOutput', () => {
  it('has the shape of the real output and differs from run to run', () => {
    const a = fakeOutput(tensorInput, [1, 10], createNodeRng(1, 'x'));
    const b = fakeOutput(tensorInput, [1, 10], createNodeRng(2, 'x'));
    expect(a.kind === 'tensor' && a.tensor.dims).toEqual([1, 10]);
    expect(a.kind === 'tensor' && Buffer.from(a.tensor.data, 'base64').byteLength).toBe(40);
    expect(hashPayload(a)).not.toBe(hashPayload(b));
  });
  it('generates maxTokens printable tokens for a prompt', () => {
    const o = fakeOutput({ kind: 'prompt', prompt: 'a', maxTokens: 12, temperature: 0, seed: 1 }, [1], createNodeRng(1, 'x'));
    expect(o.kind === 'tokens' && o.tokens.length).toBe(12);
    expect(o.kind === 'tokens' && o.tokens.every((t) => t >= 1 && t <= 95)).toBe(true);
  });
});

describe('bidPrice', () => {
  it('bids the model price, or nothing when price plus fees exceed the max price', () => {
    const rng = createNodeRng(1, 'b');
    expect(bidPrice({ pricing: { priceMicro: { digits: '1000', charlm: '3000' } }, model: 'charlm', maxPriceMicro: 10_000n, feeBps: 10_200, rng })).toBe(3000n);
    expect(bidPrice({ pricing: { priceMicro: '6000' }, model: 'digits', maxPriceMicro: 10_000n, feeBps: 10_200, rng })).toBeNull();
  });
  it('spreads bids within ±spreadBps', () => {
    const rng = createNodeRng(1, 'spread');
    for (let i = 0; i < 200; i++) {
      const p = bidPrice({ pricing: { priceMicro: '10000', spreadBps: 1000 }, model: 'digits', maxPriceMicro: 1_000_000n, feeBps: 0, rng })!;
      expect(p).toBeGreaterThanOrEqual(9000n);
      expect(p).toBeLessThanOrEqual(11000n);
    }
  });
});

describe('injectedDelay and seeds', () => {
  it('is reproducible from the seed and stays within latency ± jitter', () => {
    const a = Array.from({ length: 5 }, ((r) => () => injectedDelay(100, 20, r))(createNodeRng(9, 'd')));
    const b = Array.from({ length: 5 }, ((r) => () => injectedDelay(100, 20, r))(createNodeRng(9, 'd')));
    expect(a).toEqual(b);
    for (const d of a) expect(d).toBeGreaterThanOrEqual(80), expect(d).toBeLessThanOrEqual(120);
  });
});

describe('createCheatBandit', () => {
  it('learns to stop cheating when cheating is slashed', () => {
    const bandit = createCheatBandit(createNodeRng(5, 'bandit'), { epsilon: 0.1 });
    const rng = createNodeRng(5, 'world');
    for (let i = 0; i < 400; i++) {
      const arm = bandit.choose();
      const cheat = rng.next() < bandit.probability(arm);
      // honest work earns 10,000; a cheat saves 2,000 but is audited 30% of the time and slashed 1,000,000
      const profit = cheat ? (rng.next() < 0.3 ? -1_000_000 : 12_000) : 10_000;
      bandit.reward(arm, profit);
    }
    const table = bandit.table();
    const best = table.reduce((a, b) => (b.meanProfitMicro > a.meanProfitMicro ? b : a));
    expect(best.probability).toBe(0);
    expect(table[0]!.plays).toBeGreaterThan(300);
  });
  it('learns to cheat when nobody audits', () => {
    const bandit = createCheatBandit(createNodeRng(6, 'bandit'));
    const rng = createNodeRng(6, 'world');
    for (let i = 0; i < 400; i++) {
      const arm = bandit.choose();
      bandit.reward(arm, rng.next() < bandit.probability(arm) ? 12_000 : 10_000);
    }
    const best = bandit.table().reduce((a, b) => (b.meanProfitMicro > a.meanProfitMicro ? b : a));
    expect(best.probability).toBe(1);
  });
});

describe('market URLs', () => {
  it('derives the node socket and the HTTP base from what the user typed', () => {
    expect(nodeSocketUrl('ws://10.0.0.5:8545')).toBe('ws://10.0.0.5:8545/v1/nodes');
    expect(nodeSocketUrl('http://h:1')).toBe('ws://h:1/v1/nodes');
    expect(nodeSocketUrl('h:2')).toBe('ws://h:2/v1/nodes');
    expect(httpUrlOf('ws://h:3/v1/nodes')).toBe('http://h:3');
  });
});
