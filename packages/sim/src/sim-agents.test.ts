import { parseScenario } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { runSimulation } from './run-simulation.js';

// The simulator's agents decide through @infermarket/agents: these check the decisions show up in a run.
const base = {
  name: 'sim-agents',
  seed: 5,
  durationMs: 20_000,
  params: { auditRate: 1, jailDurationMs: 0, maxSlashes: 100, slashFractionBps: 100 },
  clients: [{ count: 1, ratePerSec: 5, models: { digits: 1 } }],
};

describe('simulated agents', () => {
  it('a colluding validator stays silent on its partner: no report, no fee, a miss penalty; alone, it lets the cheat pass unverified', () => {
    const colluding = runSimulation(parseScenario({
      ...base,
      miners: [{ name: 'lazy', count: 1, strategy: 'lazy' }],
      validators: [{ name: 'colluder', count: 1, strategy: 'colluding', colludeWith: ['lazy-0'] }],
    }));
    const v = colluding.validators[0]!;
    expect(colluding.jobs.settled).toBeGreaterThan(20);
    expect(colluding.miners[0]!.slashedMicro).toBe('0');
    // silent: it reports nothing, so it never earns an audit fee (it used to vouch with a match and earn it)
    expect(v.audits).toBe(0);
    expect(v.earnedMicro).toBe('0');
    // but its silence is not free: every missed audit costs it auditMissPenaltyBps of its stake (no other
    // validator exists to take the audit over, so the cheat settles unverified)
    expect(BigInt(v.slashedMicro)).toBeGreaterThan(0n);
    expect(colluding.truth!.byLevel.sampled!.wrong).toBeGreaterThan(20);
    const honest = runSimulation(parseScenario({
      ...base,
      miners: [{ name: 'lazy', count: 1, strategy: 'lazy' }],
      validators: [{ name: 'validator', count: 1, strategy: 'honest' }],
    }));
    expect(BigInt(honest.miners[0]!.slashedMicro)).toBeGreaterThan(0n);
  });

  it('collusion survives a re-join: colludeWith names the instance, not its first address', () => {
    const r = runSimulation(parseScenario({
      ...base,
      params: { ...base.params, maxSlashes: 2 },
      miners: [{ name: 'lazy', count: 1, strategy: 'lazy' }],
      validators: [{ name: 'colluder', count: 1, strategy: 'colluding', colludeWith: ['lazy-0'] }, { name: 'validator', count: 1, strategy: 'honest' }],
      sim: { rejoinEjected: true },
    }));
    // the honest validator ejects the lazy miner again and again; it re-joins under new addresses
    expect(r.miners.filter((m) => m.id.startsWith('lazy-0#')).length).toBeGreaterThan(0);
    const colluder = r.validators.find((v) => v.id === 'colluder-0')!;
    expect(r.validators.find((v) => v.id === 'validator-0')!.audits).toBeGreaterThan(0);
    // every job is its partner's, under whichever address: it never reports one (it did after the first re-join)
    expect(colluder.audits).toBe(0);
    expect(colluder.earnedMicro).toBe('0');
  });

  it('adaptive miners use the scenario\'s sim.adaptive settings (cheat levels), the same the live miner takes', () => {
    const r = runSimulation(parseScenario({
      ...base,
      miners: [{ name: 'adaptive', count: 1, strategy: 'adaptive' }, { name: 'honest', count: 1, strategy: 'honest' }],
      validators: [{ name: 'validator', count: 2, strategy: 'honest' }],
      sim: { adaptive: { learner: 'epsilon-greedy', cheatLevels: [0.6, 0.9], epsilon: 0 } },
    }));
    expect([0.6, 0.9]).toContain(r.sim.adaptiveLearnedLevel);
    expect(() => parseScenario({ ...base, miners: [], validators: [], sim: { adaptive: { learner: 'ucb9' } } })).toThrow(/sim\.adaptive\.learner must be one of epsilon-greedy/);
  });

  it('a lazy validator also votes (against the miner) when it referees a dispute, as the live one does', () => {
    const r = runSimulation(parseScenario({
      ...base,
      params: { ...base.params, disputeQuorum: 2 },
      miners: [{ name: 'honest', count: 2, strategy: 'honest' }],
      validators: [{ name: 'lazyval', count: 2, strategy: 'lazy' }, { name: 'validator', count: 1, strategy: 'honest' }],
    }));
    // a lazy accuser and a lazy referee outvote the honest referee (2 to 1): honest miners are slashed.
    // Were the lazy referee silent, the honest referee would tie the accuser and no miner would be slashed.
    expect(r.jobs.disputed).toBeGreaterThan(0);
    expect(r.sim.falseSlashes).toBeGreaterThan(0);
    expect(r.slashes.some((s) => s.role === 'miner')).toBe(true);
  });
});
