import { readFileSync } from 'node:fs';
import { parseScenario } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { runSimulation } from './run-simulation.js';

const scenario = parseScenario(JSON.parse(readFileSync(new URL('../../../scenarios/sim-only/economics.json', import.meta.url), 'utf8')));
const run = (o: Record<string, string | number | boolean>, checkInvariants = false) => runSimulation(scenario, { overrides: { durationMs: 60_000, 'clients[0].ratePerSec': 3, ...o }, checkInvariants });

describe('economics in the simulator (reward token, USD costs, churn)', () => {
  it('stable pricing: the client cost ignores the oracle entirely and no miner leaves, whatever the volatility', () => {
    const calm = run({ pricingMode: 'stable', 'economics.oracle.volatilityPerSqrtHour': 0 }).economics!;
    const wild = run({ pricingMode: 'stable', 'economics.oracle.volatilityPerSqrtHour': 4 }).economics!;
    expect(wild.oracle.minPriceMicro).toBeLessThan(wild.oracle.maxPriceMicro);
    expect(wild.clientUsdPer1000Jobs).toBe(calm.clientUsdPer1000Jobs);
    expect(wild.windows.usdPer1000Jobs).toEqual(calm.windows.usdPer1000Jobs);
    expect([wild.churn.leaves, calm.churn.leaves]).toEqual([0, 0]);
    expect(wild.conservedByToken).toEqual({ mUSD: true, IMT: true });
  });

  it('token pricing: the USD cost spread grows with volatility, and miners leave while the price is down', () => {
    const calm = run({ pricingMode: 'token', 'economics.oracle.volatilityPerSqrtHour': 0 }).economics!;
    const wild = run({ pricingMode: 'token', 'economics.oracle.volatilityPerSqrtHour': 4 }).economics!;
    expect(calm.churn.leaves).toBe(0);
    expect(wild.clientUsdPer1000JobsCv!).toBeGreaterThan(calm.clientUsdPer1000JobsCv!);
    expect(wild.churn.leaves).toBeGreaterThan(0);
    expect(wild.churn.minActive).toBeLessThan(wild.churn.minersTotal);
    // they leave on a fall: the price dropped over the trend window before every leave
    const leaves = wild.churn.events.filter((x) => x.action === 'leave');
    expect(leaves.length).toBe(wild.churn.leaves);
    for (const l of leaves) expect(l.priceChangeLog).toBeLessThan(0);
    expect(wild.conservedByToken).toEqual({ mUSD: true, IMT: true });
    expect(BigInt(wild.mintedByToken.IMT)).toBeGreaterThan(0n);
  });

  it('every invariant holds per token after every event in token, token-native and IMT-stake runs', () => {
    const cases: Record<string, string>[] = [{ pricingMode: 'token' }, { pricingMode: 'token-native' }, { pricingMode: 'stable', stakeToken: 'IMT' }];
    for (const o of cases) {
      const r = run({ ...o, 'economics.oracle.volatilityPerSqrtHour': 3, durationMs: 20_000 }, true);
      expect(r.economics!.conservedByToken).toEqual({ mUSD: true, IMT: true });
      expect(r.jobs.settled).toBeGreaterThan(0);
    }
  });

  it('records the oracle seed and process in the report', () => {
    const e = run({ 'economics.oracle.volatilityPerSqrtHour': 1 }).economics!;
    expect(e.oracle.seed).toBe(scenario.seed);
    expect(e.oracle.spec).toMatchObject({ kind: 'gbm', volatilityPerSqrtHour: 1 });
  });

  it('error: a series oracle without points is refused naming the field', () => {
    expect(() => run({ 'economics.oracle.kind': 'series' })).toThrow(/economics\.oracle/);
  });
});

describe('economics in the run report', () => {
  it('report.html plots the price, active miners, cost and success per window of an economics run', async () => {
    const { renderReportHtml } = await import('./report-html.js');
    const html = renderReportHtml(run({ durationMs: 10_000 }));
    for (const id of ['plot-econ-price', 'plot-econ-active', 'plot-econ-cost', 'plot-econ-success']) expect(html).toContain(`id="${id}"`);
    const plain = parseScenario(JSON.parse(readFileSync(new URL('../../../scenarios/sim-small.json', import.meta.url), 'utf8')));
    expect(renderReportHtml(runSimulation(plain, { overrides: { durationMs: 5_000 } }))).not.toContain('id="plot-econ-price"');
  });
});
