import { readFileSync } from 'node:fs';
import { parseScenario, type Scenario } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { runSimulation } from './run-simulation.js';
import { scenarioThreshold } from './threshold.js';

const posp = (): Scenario => parseScenario(JSON.parse(readFileSync(new URL('../../../scenarios/posp-threshold.json', import.meta.url), 'utf8')));

describe('scenarioThreshold', () => {
  it('derives C, R, S and p* of the PoSP study scenario from the cost model, the auction and the stake', () => {
    const t = scenarioThreshold(posp());
    expect(t.rows).toHaveLength(1);
    const row = t.rows[0]!;
    expect(row.miners).toEqual(['adaptive-0', 'adaptive-1', 'adaptive-2', 'adaptive-3', 'adaptive-4', 'adaptive-5']);
    const terms = row.threshold.terms;
    expect(terms.computeCostMicro).toBeCloseTo(312, 9); // 5.2 CPU-ms × 60,000 per CPU-second
    // lowest of 8 bids uniform on 1000 ± 1 %: 1000 · (1 − 0.01 + 0.02 / 9)
    expect(terms.rewardMicro).toBeCloseTo(1000 * (1 - 0.01 + 0.02 / 9), 1);
    expect(terms.slashMicro).toBe(1000); // 10 % of 10,000
    expect(terms.validators).toBe(3);
    expect(row.threshold.pStar).toBeCloseTo(312 / (terms.rewardMicro + 1000), 9);
    expect(t.notes.join('\n')).toMatch(/challenges outside audits/);
  });

  it('follows overrides (a sweep point or --set)', () => {
    const t = scenarioThreshold(posp(), { overrides: { 'sim.costPerCpuSecondMicro': '120000', slashFractionBps: 2000 } });
    const terms = t.rows[0]!.threshold.terms;
    expect(terms.computeCostMicro).toBeCloseTo(624, 9);
    expect(terms.slashMicro).toBe(2000);
  });

  it('counts the validators colluding with each miner, and takes timeouts as explicit inputs', () => {
    const s = posp();
    const colluded = ['adaptive-0', 'adaptive-1', 'adaptive-2', 'adaptive-3', 'adaptive-4', 'adaptive-5'];
    const scenario: Scenario = { ...s, validators: [{ count: 7, strategy: 'honest', models: ['heavy'], stakeMicro: '100000' }, { count: 3, strategy: 'colluding', models: ['heavy'], stakeMicro: '100000', colludeWith: colluded }] };
    const t = scenarioThreshold(scenario, { auditTimeoutRate: 0.1, auditReassignments: 0 });
    const terms = t.rows[0]!.threshold.terms;
    expect(terms.validators).toBe(10);
    expect(terms.colludingValidators).toBe(3);
    // silent colluding referees cast no vote, so they cannot shield a cheat: detection is the honest auditor's chance
    expect(terms.detectionGivenAudit).toBeCloseTo(0.7, 12);
    // by default a silent auditor is replaced up to maxAuditAttempts (3) times: three colluders in a row are needed
    const byRules = scenarioThreshold(scenario).rows[0]!.threshold.terms;
    expect(byRules.auditReassignments).toBe(2);
    expect(byRules.detectionGivenAudit).toBeCloseTo(1 - 1 / 120, 12);
    expect(terms.auditAnswered).toBeCloseTo(0.9, 12);
    // colluders that vouch (sim.colludersVouch) answer a partner's audit with a match (nothing to reassign) and vote for it
    const vouch = scenarioThreshold({ ...scenario, sim: { ...scenario.sim, colludersVouch: true } }).rows[0]!.threshold.terms;
    expect(vouch.auditReassignments).toBe(0);
    expect(vouch.detectionGivenAudit).toBeCloseTo(0.7 * (1 - 3 / 36), 12);
    expect(vouch.honestAuditorOutvoted).toBeCloseTo(0.7 / 12, 12);
  });

  it('R and detection agree with a simulated run: price paid per settled job, and the share of skipped results slashed', () => {
    // always-lazy miners, every job audited, 3 of 10 validators colluding with every miner, quorum 2
    const ids = Array.from({ length: 20 }, (_, i) => `lazy-${i}`);
    const scenario = parseScenario({
      name: 'detection-check',
      seed: 7,
      durationMs: 8_000,
      // R here is the auction's expected winning bid (E[min] of the spread bids)
      params: { matchingMode: 'auction', auditRate: 1, auditWindowMs: 200, disputeWindowMs: 300, auditMissPenaltyBps: 0, jailDurationMs: 0, maxSlashes: 100, slashFractionBps: 100, minMinerStakeMicro: '1000', minValidatorStakeMicro: '1000', missPenaltyBps: 0 },
      miners: [{ count: 20, strategy: 'lazy', models: ['digits'], stakeMicro: '100000', pricing: { priceMicro: '1000', spreadBps: 100 } }],
      validators: [
        { count: 7, strategy: 'honest', models: ['digits'], stakeMicro: '1000000' },
        { count: 3, strategy: 'colluding', models: ['digits'], stakeMicro: '1000000', colludeWith: ids },
      ],
      clients: [{ count: 2, ratePerSec: 125, concurrency: 1000, models: { digits: 1 } }],
    });
    const theory = scenarioThreshold(scenario).rows[0]!.threshold.terms;
    // a silent colluding auditor is replaced (up to maxAuditAttempts = 3): only three colluders in a row keep the audit from an honest one
    // and silent colluding referees only delay the slash to the dispute window's close (300 ms here, so disputes end within the run)
    expect(theory.detectionGivenAudit).toBeCloseTo(1 - 1 / 120, 12);
    const r = runSimulation(scenario);
    // ≈ 2,000 skipped results: the binomial standard error is ≈ 0.002; the last window of the run is still open
    expect(r.sim.detectionRate!).toBeGreaterThan(theory.detectionGivenAudit - 0.03);
    expect(r.sim.detectionRate!).toBeLessThanOrEqual(1);
    // and clearly above what a shield by both referees colluding (3/36) would leave
    expect(r.sim.detectionRate!).toBeGreaterThan((1 - 1 / 120) * (1 - 3 / 36) + 0.03);
    // colluding referees stay silent (the agents' colluding strategy): when both are colluders the accuser's vote
    // wins when the window closes (the cheat is slashed), and the honest auditor is never outvoted and slashed
    expect(r.jobs.disputed).toBeGreaterThan(800);
    expect(theory.honestAuditorOutvoted).toBe(0);
    expect(r.sim.validatorSlashes).toBe(0);
    // the jobs that settled were paid the winning price (lazy results the colluders let through: three silent auditors in a row)
    const earned = r.miners.reduce((a, m) => a + Number(m.earnedMicro), 0);
    const settled = r.miners.reduce((a, m) => a + m.settled, 0);
    // only jobs whose every auditor colluded (≈ 1/120 of them) settle
    expect(settled).toBeGreaterThan(5);
    expect(earned / settled).toBeGreaterThan(theory.rewardMicro - 2);
    expect(earned / settled).toBeLessThan(theory.rewardMicro + 2);
  });

  it("R is the simulator's default price when a group sets none (heavy: 20 × 1,000)", () => {
    const scenario = parseScenario({
      name: 'default-price',
      seed: 3,
      durationMs: 4_000, // past the 1 s challenge window
      miners: [{ count: 2, strategy: 'honest', models: ['heavy'] }],
      validators: [{ count: 1, strategy: 'honest', models: ['heavy'] }],
      clients: [{ count: 1, ratePerSec: 50, models: { heavy: 1 } }],
    });
    const R = scenarioThreshold(scenario).rows[0]!.threshold.terms.rewardMicro;
    expect(R).toBe(20_000);
    const r = runSimulation(scenario);
    const settled = r.miners.reduce((a, m) => a + m.settled, 0);
    expect(settled).toBeGreaterThan(10);
    expect(r.miners.reduce((a, m) => a + Number(m.earnedMicro), 0) / settled).toBe(R);
  });
});
