import { describe, expect, it } from 'vitest';
import { createParticipation, createPriceTrend, decideParticipation, expectedUsdProfitPerJobMicro, resolveParticipation } from './participation.js';
import { checkPriceProcess, parsePriceSeries, pricePath } from './price-process.js';

const S = resolveParticipation({ checksToLeave: 2, checksToReturn: 2, minDwellMs: 5_000 });

describe('participation rule (miners with USD costs)', () => {
  it('leaves after checksToLeave negative checks in a row, returns after checksToReturn positive ones', () => {
    const m = createParticipation();
    expect(decideParticipation(m, { atMs: 10_000, profitMicro: -1 }, S)).toBe('stay');
    expect(decideParticipation(m, { atMs: 12_000, profitMicro: -1 }, S)).toBe('leave');
    expect(m.active).toBe(false);
    expect(decideParticipation(m, { atMs: 14_000, profitMicro: 5 }, S)).toBe('stay');
    // two positive checks, but only 4 s since leaving: the dwell bound holds it out
    expect(decideParticipation(m, { atMs: 16_000, profitMicro: 5 }, S)).toBe('stay');
    expect(decideParticipation(m, { atMs: 17_000, profitMicro: 5 }, S)).toBe('return');
    expect([m.leaves, m.returns]).toEqual([1, 1]);
  });

  it('a single bad check between good ones does not make a miner leave', () => {
    const m = createParticipation();
    for (const [t, p] of [[10_000, -1], [12_000, 1], [14_000, -1], [16_000, 1]] as const) expect(decideParticipation(m, { atMs: t, profitMicro: p }, S)).toBe('stay');
    expect(m.active).toBe(true);
  });

  it('stable pricing: the expected profit does not depend on the IMT price; token modes do', () => {
    const base = { askMicro: 1_000, computeSecondsPerJob: 0.001, costUsdMicroPerComputeSecond: 800_000 };
    const at = (pricingMode: 'stable' | 'token' | 'token-native', now: number, fc: number) => expectedUsdProfitPerJobMicro({ ...base, pricingMode, priceNowMicro: now, priceForecastMicro: fc });
    expect(at('stable', 1e6, 0.5e6)).toBe(200);
    expect(at('stable', 1e6, 2e6)).toBe(200);
    // token: paid IMT at the price now, sold at the forecast
    expect(at('token', 1e6, 0.5e6)).toBe(-300);
    expect(at('token', 2e6, 2e6)).toBe(200);
    // token-native: the ask is IMT
    expect(at('token-native', 0.5e6, 0.5e6)).toBe(-300);
  });

  it('the trend extrapolates a falling price downward', () => {
    const t = createPriceTrend(1_000);
    for (let i = 0; i <= 10; i++) t.observe(i * 1_000, 1e6 * Math.exp(-0.01 * i));
    expect(t.forecast(10_000)).toBeLessThan(t.now());
  });

  it('error: a bad setting is refused naming the field', () => {
    expect(() => resolveParticipation({ checksToLeave: 0 })).toThrow(/economics\.churn\.checksToLeave/);
  });
});

describe('price process (the market oracle)', () => {
  const gbm = { kind: 'gbm' as const, startPriceMicro: 1_000_000, driftPerHour: 0, volatilityPerSqrtHour: 2, stepMs: 1_000 };
  it('is deterministic in its seed and differs across seeds', () => {
    const a = pricePath(gbm, { seed: 1, durationMs: 30_000 });
    expect(pricePath(gbm, { seed: 1, durationMs: 30_000 })).toEqual(a);
    expect(pricePath(gbm, { seed: 2, durationMs: 30_000 })).not.toEqual(a);
    expect(a.length).toBe(31);
    expect(a[0]).toEqual({ atMs: 0, priceMicro: 1_000_000n });
  });

  it('zero volatility and drift is a constant price; a negative drift falls', () => {
    expect(new Set(pricePath({ ...gbm, volatilityPerSqrtHour: 0 }, { seed: 1, durationMs: 10_000 }).map((p) => p.priceMicro))).toEqual(new Set([1_000_000n]));
    const down = pricePath({ ...gbm, volatilityPerSqrtHour: 0, driftPerHour: -36 }, { seed: 1, durationMs: 10_000 });
    expect(down.at(-1)!.priceMicro).toBe(BigInt(Math.round(1e6 * Math.exp(-0.1))));
  });

  it('higher volatility spreads the log-returns more', () => {
    const sd = (v: number): number => {
      const p = pricePath({ ...gbm, volatilityPerSqrtHour: v }, { seed: 3, durationMs: 600_000 }).map((x) => Math.log(Number(x.priceMicro)));
      const r = p.slice(1).map((x, i) => x - p[i]!);
      const m = r.reduce((a, b) => a + b, 0) / r.length;
      return Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / r.length);
    };
    expect(sd(4)).toBeGreaterThan(1.5 * sd(1));
  });

  it('jumps move the price when they are on', () => {
    const noJ = pricePath({ ...gbm, volatilityPerSqrtHour: 0 }, { seed: 5, durationMs: 60_000 });
    const j = pricePath({ ...gbm, volatilityPerSqrtHour: 0, jumpsPerHour: 600, jumpMeanLog: -0.2, jumpStdLog: 0 }, { seed: 5, durationMs: 60_000 });
    expect(j.at(-1)!.priceMicro).toBeLessThan(noJ.at(-1)!.priceMicro);
  });

  it('reads a series from CSV or JSON and refuses a malformed one naming the line', () => {
    expect(parsePriceSeries('atMs,priceMicro\n0,1000000\n5000,900000\n')).toEqual({ kind: 'series', points: [[0, 1000000], [5000, 900000]] });
    expect(parsePriceSeries('[[0,5],[10,6]]')).toEqual({ kind: 'series', points: [[0, 5], [10, 6]] });
    expect(() => parsePriceSeries('0,1\nten,2')).toThrow(/line 2/);
    expect(() => checkPriceProcess({ kind: 'series', points: [[0, 1], [0, 2]] })).toThrow(/increasing/);
    expect(() => checkPriceProcess({ ...gbm, volatilityPerSqrtHour: -1 })).toThrow(/volatilityPerSqrtHour/);
  });
});
