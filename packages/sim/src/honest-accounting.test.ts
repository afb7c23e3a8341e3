import { parseScenario } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { runSimulation } from './run-simulation.js';

const clients = [{ count: 1, ratePerSec: 20, models: { digits: 1 } }];

describe('removed is not deterred', () => {
  it('adaptive miners ejected for cheating are reported as removed, with null (not 0) cheat rates and the reason', () => {
    const r = runSimulation(parseScenario({
      name: 'removed',
      seed: 3,
      durationMs: 30_000,
      // the auction: its per-job rounds spread the work over both honest miners, which the last check needs (with
      // standing offers at one price the more reputable honest miner takes all it can hold)
      params: { matchingMode: 'auction', auditRate: 1, jailDurationMs: 0, maxSlashes: 1 },
      clients,
      miners: [{ name: 'adaptive', count: 3, strategy: 'adaptive' }, { name: 'honest', count: 2, strategy: 'honest' }],
      validators: [{ name: 'validator', count: 3, strategy: 'honest' }],
      // cheat first: the learner tries its arms in order, so the first slash ejects it
      sim: { adaptive: { learner: 'epsilon-greedy', cheatLevels: [1, 0], epsilon: 0 } },
    }));
    expect(r.sim.adaptiveRemoved).toBe(3);
    expect(r.sim.adaptiveNoData).toEqual({ jailed: 0, ejected: 3, 'never-assigned': 0 });
    // no data is null, never a cheat rate of 0 ("deterred")
    expect(r.sim.adaptiveCheatRate).toBeNull();
    const rows = r.miners.filter((m) => m.strategy === 'adaptive');
    expect(rows).toHaveLength(3);
    for (const m of rows) {
      expect(m.adaptive).toMatchObject({ learner: 'epsilon-greedy', realisedCheatRate: null, noData: 'ejected', removed: 'ejected', windowCommits: 0 });
    }
    // the honest miners go on working: the run had data, the adaptive miners did not
    expect(r.miners.filter((m) => m.strategy === 'honest').every((m) => m.settled > 0)).toBe(true);
  });

  it('adaptive miners jailed through the window are removed (jailed), not deterred', () => {
    const r = runSimulation(parseScenario({
      name: 'jailed',
      seed: 4,
      durationMs: 30_000,
      params: { auditRate: 1, jailDurationMs: 600_000, maxSlashes: 100 },
      clients,
      miners: [{ name: 'adaptive', count: 2, strategy: 'adaptive' }, { name: 'honest', count: 2, strategy: 'honest' }],
      validators: [{ name: 'validator', count: 3, strategy: 'honest' }],
      sim: { adaptive: { learner: 'thompson', cheatLevels: [1, 0] } },
    }));
    expect(r.sim.adaptiveRemoved).toBe(2);
    expect(r.sim.adaptiveNoData).toEqual({ jailed: 2, ejected: 0, 'never-assigned': 0 });
    expect(r.sim.adaptiveCheatRate).toBeNull();
    expect(r.sim.adaptiveRemovedLearnedLevel).toBe(0); // one slash taught it: its preferred arm is now honest work — yet it is removed, not counted
    for (const m of r.miners.filter((x) => x.strategy === 'adaptive')) expect(m.adaptive).toMatchObject({ removed: 'jailed', noData: 'jailed', realisedCheatRate: null });
  });

  it('an active adaptive miner has a realised rate and no removal', () => {
    const r = runSimulation(parseScenario({
      name: 'active',
      seed: 3,
      durationMs: 20_000,
      params: { auditRate: 0 },
      clients,
      miners: [{ name: 'adaptive', count: 1, strategy: 'adaptive' }],
      validators: [{ name: 'validator', count: 1, strategy: 'honest' }],
      sim: { adaptive: { learner: 'ucb1' } },
    }));
    expect(r.sim.adaptiveRemoved).toBe(0);
    const a = r.miners[0]!.adaptive!;
    expect(a.removed).toBeNull();
    expect(a.noData).toBeNull();
    expect(a.realisedCheatRate).not.toBeNull();
    expect(a.learner).toBe('ucb1');
    // nobody audits: cheating pays, and UCB1 learns it
    expect(a.learnedCheatLevel).toBe(1);
  });
});

describe('honest auditors outvoted by colluding referees, and escalation on a split vote', () => {
  const scenario = (disputeEscalation: string) =>
    parseScenario({
      name: 'outvoted',
      seed: 9,
      durationMs: 60_000,
      params: { auditRate: 1, disputeQuorum: 2, jailDurationMs: 0, maxSlashes: 100, slashFractionBps: 10, disputeEscalation },
      clients,
      miners: [{ name: 'lazy', count: 2, strategy: 'lazy' }],
      validators: [
        // validators staked well above the minimum, so one slash does not remove an honest one
        { name: 'colluder', count: 3, strategy: 'colluding', stakeMicro: '1000000000', colludeWith: ['lazy-0', 'lazy-1'] },
        { name: 'validator', count: 7, strategy: 'honest', stakeMicro: '1000000000' },
      ],
      sim: { colludersVouch: true },
    });
  it('is measured, and escalate-on-split protects the honest auditor', () => {
    const none = runSimulation(scenario('none'));
    const esc = runSimulation(scenario('escalate-on-split'));
    expect(none.sim.honestDisputesOnCheats).toBeGreaterThan(100);
    expect(none.sim.honestAuditorsOutvoted).toBeGreaterThan(0);
    expect(none.sim.disputeEscalations).toBe(0);
    // quorum 2 from 9 with 3 colluders: both referees collude with probability (3·2)/(9·8) = 1/12
    expect(none.sim.honestAuditorOutvotedRate!).toBeGreaterThan(0.02);
    expect(none.sim.honestAuditorOutvotedRate!).toBeLessThan(0.15);
    // every outvoted honest accuser was slashed for it
    expect(none.sim.validatorSlashes).toBeGreaterThanOrEqual(none.sim.honestAuditorsOutvoted);
    expect(esc.sim.disputeEscalations).toBeGreaterThan(0);
    expect(esc.sim.honestAuditorOutvotedRate!).toBeLessThan(none.sim.honestAuditorOutvotedRate! / 3);
  });
});
