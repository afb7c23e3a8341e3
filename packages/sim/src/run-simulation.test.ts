import { parseScenario, type Scenario } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { runSimulation } from './run-simulation.js';

function small(extra: Partial<Scenario> = {}): Scenario {
  return parseScenario({
    name: 'test-small',
    seed: 11,
    durationMs: 20_000,
    // the per-job auction: each job's bids draw a fresh spread, so every honest miner wins some (standing
    // offers give the cheapest offers all the work they can take: offers-mode.test.ts)
    params: { matchingMode: 'auction', auditRate: 0.3, jailDurationMs: 1_000 },
    miners: [
      { count: 3, strategy: 'honest', pricing: { priceMicro: '1000', spreadBps: 500 } },
      { count: 2, strategy: 'lazy', pricing: { priceMicro: '1000', spreadBps: 500 } },
    ],
    validators: [{ count: 3, strategy: 'honest' }],
    clients: [{ count: 2, ratePerSec: 10, models: { digits: 3, charlm: 1 } }],
    ...extra,
  });
}

describe('runSimulation', () => {
  it('same seed gives a byte-identical report; another seed a different one', () => {
    const a = JSON.stringify(runSimulation(small(), { seed: 5 }));
    const b = JSON.stringify(runSimulation(small(), { seed: 5 }));
    const c = JSON.stringify(runSimulation(small(), { seed: 6 }));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(JSON.parse(a).sim.runSeed).toBe(5);
  });

  it('slashes lazy miners and pays honest ones', () => {
    const r = runSimulation(small());
    const honest = r.miners.filter((m) => m.strategy === 'honest');
    const lazy = r.miners.filter((m) => m.strategy === 'lazy');
    for (const m of honest) {
      expect(BigInt(m.earnedMicro)).toBeGreaterThan(0n);
      expect(m.slashedMicro).toBe('0');
    }
    for (const m of lazy) expect(BigInt(m.slashedMicro)).toBeGreaterThan(0n);
    expect(r.slashes.every((s) => s.node.startsWith('lazy-') && s.reason === 'wrong result')).toBe(true);
    expect(r.sim.honestProfitMicro!).toBeGreaterThan(0);
    expect(r.sim.cheaterProfitMicro!).toBeLessThan(0);
    expect(r.sim.falseSlashes).toBe(0);
    expect(r.ledger.conserved).toBe(true);
    expect(r.invariants.violations).toEqual([]);
    // one series per node, each as long as the time axis (a validator named like a miner keeps its own)
    const keys = Object.keys(r.series.stakeMusd);
    expect(keys).toHaveLength(r.miners.length + r.validators.length);
    for (const k of keys) expect(r.series.stakeMusd[k]).toHaveLength(r.series.tMs.length);
    expect(r.series.stakeMusd['honest-0']!.every((v) => v === 100)).toBe(true);
  });

  // both matching modes; with standing offers the seeded stake-weighted draw spreads the jobs over every live
  // offer (lowest price would hand them all to the first offers at the same price), so the flaky miner gets work
  it.each([
    ['auction', {}],
    ['offers', { matchingPolicy: 'stake-weighted-random' }],
  ] as const)('keeps every invariant after every event under kills, churn, flaky, slow and colluding nodes (%s)', (matchingMode, extraParams) => {
    const s = parseScenario({
      name: 'test-faults',
      seed: 3,
      durationMs: 15_000,
      params: { matchingMode, ...extraParams, auditRate: 0.5, jailDurationMs: 500, maxSlashes: 2, unbondingPeriodMs: 12_000, epochMs: 2_000 },
      miners: [
        { count: 2, strategy: 'honest', jitterMs: 20 },
        { count: 1, strategy: 'flaky' },
        { count: 1, strategy: 'slow', slowExtraMs: 2_900, jitterMs: 200 },
        { count: 1, strategy: 'replay' },
        { count: 1, strategy: 'downgrade', variant: 'fp32' },
        { count: 2, strategy: 'adaptive' },
      ],
      validators: [
        { name: 'val', count: 2, strategy: 'honest' },
        { count: 1, strategy: 'lazy' },
        { count: 1, strategy: 'colluding', colludeWith: ['replay-0'] },
      ],
      clients: [{ count: 3, ratePerSec: 8, concurrency: 4, models: { digits: 1, charlm: 1 } }],
      faults: [
        { atMs: 2_000, action: 'kill', target: 'honest-0', restartAfterMs: 3_000 },
        { atMs: 4_000, action: 'partition', target: 'val-0' },
        { atMs: 6_000, action: 'kill', target: 'adaptive-1' },
      ],
      sim: { churnMtbfMs: 3_000, churnDowntimeMs: 500, honestDivergenceRate: 0.01, checkInvariants: true },
    });
    const r = runSimulation(s);
    expect(r.invariants.checks).toBeGreaterThan(r.jobs.submitted);
    expect(r.invariants.violations).toEqual([]);
    expect(r.ledger.conserved).toBe(true);
    expect(r.jobs.reassigned).toBeGreaterThan(0);
    expect(r.jobs.slashed).toBeGreaterThan(0);
    expect(r.miners.find((m) => m.id === 'flaky-0')!.missed).toBeGreaterThan(0);
    // an unnamed lazy validator group is named "lazy-validator" by the resolver (names are unique across roles)
    expect(r.validators.find((v) => v.id === 'lazy-validator-0')!.slashedMicro).not.toBe('0');
  });

  it('applies overrides by name and records them in the report', () => {
    const r = runSimulation(small(), { overrides: { auditRate: 0, 'miners[1].count': 1, 'sim.costPerCpuSecondMicro': 5 } });
    expect(r.params.auditRate).toBe(0);
    expect(r.jobs.audited).toBe(0);
    expect(r.miners.filter((m) => m.strategy === 'lazy')).toHaveLength(1);
  });

  it('adaptive miners learn to cheat when audits are rare and to stop when they are frequent', () => {
    const s = parseScenario({
      name: 'test-adaptive',
      seed: 4,
      durationMs: 12_000,
      params: { slashFractionBps: 1000, minMinerStakeMicro: '1000', jailDurationMs: 0, missPenaltyBps: 0, challengeWindowMs: 300 },
      miners: [{ count: 3, strategy: 'adaptive', models: ['heavy'], stakeMicro: '10000', pricing: { priceMicro: '1000', spreadBps: 100 } }],
      validators: [{ count: 3, strategy: 'honest', models: ['heavy'], stakeMicro: '100000000' }],
      clients: [{ count: 2, ratePerSec: 100, concurrency: 1000, models: { heavy: 1 } }],
      sim: { costPerCpuSecondMicro: '60000', rejoinEjected: true },
    });
    const rare = runSimulation(s, { overrides: { auditRate: 0.02 } });
    const often = runSimulation(s, { overrides: { auditRate: 0.5 } });
    expect(rare.sim.adaptiveLearnedLevel!).toBeGreaterThanOrEqual(0.75);
    expect(rare.sim.adaptiveCheatRate!).toBeGreaterThan(0.6);
    expect(often.sim.adaptiveLearnedLevel!).toBeLessThanOrEqual(0.25);
    expect(often.sim.adaptiveCheatRate!).toBeLessThan(0.15);
  });
});
