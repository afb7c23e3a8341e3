// Price-driven churn and token pricing on a live testnet (docs/economics.md): scenarios/economics-live.json
// runs as real processes — the market publishes the scenario's IMT price path (a crash from 1 USD to 0.001 USD
// at 18 s of its clock, back to 1 USD at 30 s), prices and pays in IMT (token-native), and two miners with a USD
// cost per second of measured compute run the participation rule: they must leave after the crash and return
// after the recovery; the lean miner (no USD cost) stays. Money is conserved per token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EconomicsReport } from '@infermarket/sim';
import { removeRun, runCli, tempDir } from './testnet-helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeRun));

describe('economics on the live testnet', () => {
  it('token-native pricing with the market oracle: costly miners leave after the price crash, return after the recovery; conserved per token', async () => {
    const dir = tempDir('economics-live');
    dirs.push(dir);
    const out = join(dir, 'out');
    const scenarioFile = new URL('../scenarios/economics-live.json', import.meta.url).pathname;
    const r = await runCli(['testnet', '--scenario', scenarioFile, '--wait-all', '--out', out], { timeoutMs: 170_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { economics: EconomicsReport; ledger: { conserved: boolean }; invariants: { violations: string[] }; jobs: { settled: number } };
    const e = report.economics;
    expect(e.pricingMode).toBe('token-native');
    // the oracle published the scenario's path (seed recorded), and nobody else moved it
    expect(e.oracle).toMatchObject({ seed: 16, startPriceMicro: 1_000_000, minPriceMicro: 1000, maxPriceMicro: 1_000_000, updates: 3 });
    // per-token conservation at the end (replayed log) and every invariant the market checked while it ran
    expect(e.conservedByToken).toEqual({ mUSD: true, IMT: true });
    expect(BigInt(e.mintedByToken.IMT)).toBeGreaterThan(0n);
    expect(report.ledger.conserved).toBe(true);
    expect(report.invariants.violations).toEqual([]);
    // churn: both costly miners left after the crash and came back after the recovery; the lean one never left
    const ev = e.churn.events;
    const leaves = ev.filter((x) => x.action === 'leave');
    const returns = ev.filter((x) => x.action === 'return');
    expect(new Set(leaves.map((x) => x.miner))).toEqual(new Set(['costly-0', 'costly-1']));
    expect(new Set(returns.map((x) => x.miner))).toEqual(new Set(['costly-0', 'costly-1']));
    for (const l of leaves) {
      expect(l.atMs).toBeGreaterThanOrEqual(18_000);
      expect(l.priceMicro).toBe(1000);
    }
    for (const x of returns) {
      expect(x.atMs).toBeGreaterThanOrEqual(30_000);
      expect(x.priceMicro).toBe(1_000_000);
    }
    expect(e.churn.minActive).toBe(1);
    expect(e.churn.minersTotal).toBe(3);
    // active miners over time: all three before the crash, one during it
    const before = e.windows.tMs.map((t, i) => [t, e.windows.activeMiners[i]!] as const).filter(([t]) => t <= 18_000);
    expect(before.length).toBeGreaterThan(0);
    for (const [, n] of before) expect(n).toBe(3);
    expect(e.windows.activeMiners).toContain(1);
    // client cost per 1,000 jobs in USD, with its spread, and the miners' USD earnings
    expect(e.clientUsdPer1000Jobs).toBeGreaterThan(0);
    expect(e.clientUsdPer1000JobsStd).not.toBeNull();
    expect(Object.keys(e.minerUsdProfit.perMiner).sort()).toEqual(['costly-0', 'costly-1', 'lean-0']);
    expect(report.jobs.settled).toBeGreaterThan(0);
  }, 180_000);
});
