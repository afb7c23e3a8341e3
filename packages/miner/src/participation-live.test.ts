import { describe, expect, it } from 'vitest';
import { createMinerChurn } from './participation-live.js';

// the live miner's loop around the agents' participation rule, on a clock the test moves and an oracle view it sets
function setup(o: { pricingMode: 'stable' | 'token' | 'token-native'; cost: number }) {
  let now = 0;
  let price: string | null = '1000000';
  const acts: string[] = [];
  const churn = createMinerChurn({
    costUsdMicroPerComputeSecond: o.cost,
    settings: { checkEveryMs: 1000, checksToLeave: 2, checksToReturn: 2, minDwellMs: 3000, holdMs: 1000, trendHalfLifeMs: 1000 },
    defaultAskMicro: 1000,
    readOracle: async () => ({ pricingMode: o.pricingMode, priceMicro: price }),
    onLeave: () => acts.push('leave'),
    onReturn: () => acts.push('return'),
    log: () => {},
    now: () => now,
  });
  const step = async (p: string | null) => {
    now += 1000;
    price = p;
    return churn.check();
  };
  return { churn, acts, step };
}

describe('live miner churn (the agents\' participation rule on the market oracle)', () => {
  it('token-native: leaves after the price crashes below its measured cost, returns once it recovers, within the dwell bound', async () => {
    const { churn, acts, step } = setup({ pricingMode: 'token-native', cost: 100_000 });
    churn.observeJob(1000, 0.002); // ask 1000 micro-IMT, 2 ms of compute = 200 micro-USD
    for (let i = 0; i < 3; i++) expect(await step('1000000')).toBe('stay');
    expect(await step('1000')).toBe('stay'); // one negative check is not enough
    expect(await step('1000')).toBe('leave');
    expect(churn.active()).toBe(false);
    expect(await step('1000000')).toBe('stay');
    // two positive checks, but the dwell (3 s since leaving) is not over yet at the second
    expect(await step('1000000')).toBe('stay');
    expect(await step('1000000')).toBe('return');
    expect(acts).toEqual(['leave', 'return']);
  });

  it('stable: the oracle price plays no part; a miner whose cost exceeds its ask leaves, one below never does', async () => {
    const rich = setup({ pricingMode: 'stable', cost: 100_000 });
    rich.churn.observeJob(1000, 0.002);
    for (const p of ['1000000', '1', '1', '1', '1', '1']) expect(await rich.step(p)).toBe('stay');
    const poor = setup({ pricingMode: 'stable', cost: 1_000_000 });
    poor.churn.observeJob(1000, 0.002); // 2000 micro-USD of compute for a 1000 ask
    await poor.step('1000000');
    await poor.step('1000000');
    expect(await poor.step('1000000')).toBe('leave');
  });

  it('skips a check it cannot read (market down, or no price yet in a token mode) without changing anything', async () => {
    const { churn, step } = setup({ pricingMode: 'token', cost: 100_000 });
    churn.observeJob(1000, 0.5);
    expect(await step(null)).toBe('skipped');
    expect(churn.active()).toBe(true);
  });

  it('error: a negative or non-finite USD cost is refused naming the field', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createMinerChurn({ costUsdMicroPerComputeSecond: bad, defaultAskMicro: 1, readOracle: async () => null, onLeave: () => {}, onReturn: () => {}, log: () => {} })).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION', details: { field: 'usdCostPerComputeSecond' } }));
    }
  });
});
