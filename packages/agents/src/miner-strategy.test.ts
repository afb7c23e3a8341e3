import { describe, expect, it } from 'vitest';
import { createState, resolveParams, worstCaseCost } from '@infermarket/protocol';
import { basePriceFor, bidPrice, defaultCheatProbability, injectedDelay, MINER_STRATEGY_DEFAULTS, planJob } from './miner-strategy.js';
import { createLabeledRng } from './rng.js';

const ctx = { deadlineMs: 1_000, hasReplay: true };

describe('planJob', () => {
  it('runs the claimed variant when honest', () => {
    expect(planJob({ strategy: 'honest', variant: 'int8' }, ctx, createLabeledRng(1, 'a'))).toEqual({ kind: 'run', variant: 'int8', extraDelayMs: 0 });
  });
  it('fakes the output when lazy and runs int4 when downgrading', () => {
    expect(planJob({ strategy: 'lazy', variant: 'int8' }, ctx, createLabeledRng(1, 'a')).kind).toBe('fake');
    expect(planJob({ strategy: 'downgrade', variant: 'int8' }, ctx, createLabeledRng(1, 'a'))).toMatchObject({ kind: 'run', variant: 'int4' });
  });
  it('replays only once it has an earlier output', () => {
    expect(planJob({ strategy: 'replay', variant: 'int8' }, { ...ctx, hasReplay: false }, createLabeledRng(1, 'a')).kind).toBe('run');
    expect(planJob({ strategy: 'replay', variant: 'int8' }, ctx, createLabeledRng(1, 'a')).kind).toBe('replay');
  });
  it('drops about the configured share of jobs when flaky, 0.3 by default', () => {
    expect(defaultCheatProbability('flaky')).toBe(0.3);
    expect(defaultCheatProbability('lazy')).toBe(MINER_STRATEGY_DEFAULTS.cheatProbability);
    for (const cfg of [{ strategy: 'flaky' as const, variant: 'int8', cheatProbability: 0.3 }, { strategy: 'flaky' as const, variant: 'int8' }]) {
      const rng = createLabeledRng(3, 'flaky');
      let drops = 0;
      for (let i = 0; i < 2_000; i++) if (planJob(cfg, ctx, rng).kind === 'drop') drops++;
      expect(drops / 2_000).toBeGreaterThan(0.25);
      expect(drops / 2_000).toBeLessThan(0.35);
    }
  });
  it('cheats with the configured probability when lazy', () => {
    const rng = createLabeledRng(4, 'lazy');
    let fakes = 0;
    for (let i = 0; i < 2_000; i++) if (planJob({ strategy: 'lazy', variant: 'int8', cheatProbability: 0.5 }, ctx, rng).kind === 'fake') fakes++;
    expect(fakes / 2_000).toBeGreaterThan(0.45);
    expect(fakes / 2_000).toBeLessThan(0.55);
  });
  it('delays by 2/3 of the deadline when slow, or by what it is told', () => {
    const p = planJob({ strategy: 'slow', variant: 'int8' }, ctx, createLabeledRng(1, 'a'));
    expect(p.kind === 'run' && p.extraDelayMs).toBe(667);
    const q = planJob({ strategy: 'slow', variant: 'int8', slowExtraMs: 5_000 }, ctx, createLabeledRng(1, 'a'));
    expect(q.kind === 'run' && q.extraDelayMs).toBe(5_000);
  });
  it('cheats with the probability its learner chose when adaptive', () => {
    expect(planJob({ strategy: 'adaptive', variant: 'int8' }, { ...ctx, adaptiveP: 0 }, createLabeledRng(1, 'a')).kind).toBe('run');
    expect(planJob({ strategy: 'adaptive', variant: 'int8' }, { ...ctx, adaptiveP: 1 }, createLabeledRng(1, 'a')).kind).toBe('fake');
  });
});

describe('bidPrice with the protocol worst-case cost', () => {
  // fees that are not the defaults: a re-derived formula with hard-coded defaults would get the boundary wrong
  const state = createState({ params: { protocolFeeBps: 500, validatorFeeBps: 2_000 }, models: ['digits'] });
  const worstCase = (p: bigint): bigint => worstCaseCost(state, p);
  it('bids exactly when price + protocol fee + validator fee fits the max price', () => {
    const rng = createLabeledRng(1, 'b');
    // 8000 + 5% + 20% = 10000: fits a max of 10000, not of 9999
    expect(worstCase(8_000n)).toBe(10_000n);
    expect(bidPrice({ baseMicro: 8_000n, maxPriceMicro: 10_000n, worstCase, rng })).toBe(8_000n);
    expect(bidPrice({ baseMicro: 8_000n, maxPriceMicro: 9_999n, worstCase, rng })).toBeNull();
  });
  it('agrees with the live miner\'s params path (resolveParams of what the market announces)', () => {
    const p = resolveParams({ protocolFeeBps: 500, validatorFeeBps: 2_000 });
    expect(worstCaseCost({ params: p }, 8_000n)).toBe(worstCase(8_000n));
  });
  it('picks the model price and spreads bids within ±spreadBps', () => {
    expect(basePriceFor({ priceMicro: { digits: '1000', charlm: '3000' } }, 'charlm')).toBe(3000n);
    expect(basePriceFor({ priceMicro: '6000' }, 'digits')).toBe(6000n);
    const rng = createLabeledRng(1, 'spread');
    for (let i = 0; i < 200; i++) {
      const p = bidPrice({ baseMicro: 10_000n, spreadBps: 1_000, maxPriceMicro: 1_000_000n, worstCase: (x) => x, rng })!;
      expect(p).toBeGreaterThanOrEqual(9_000n);
      expect(p).toBeLessThanOrEqual(11_000n);
    }
  });
});

describe('injectedDelay and seeds', () => {
  it('is reproducible from the seed and stays within latency ± jitter', () => {
    const a = Array.from({ length: 5 }, ((r) => () => injectedDelay(100, 20, r))(createLabeledRng(9, 'd')));
    const b = Array.from({ length: 5 }, ((r) => () => injectedDelay(100, 20, r))(createLabeledRng(9, 'd')));
    expect(a).toEqual(b);
    for (const d of a) expect(d).toBeGreaterThanOrEqual(80), expect(d).toBeLessThanOrEqual(120);
  });
});
