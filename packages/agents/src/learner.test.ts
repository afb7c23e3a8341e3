import { describe, expect, it } from 'vitest';
import { InfermarketError } from '@infermarket/protocol';
import { ADAPTIVE_DEFAULTS, createLearner, outcome, rewardOf } from './learner.js';
import { createLabeledRng, createRng } from './rng.js';

describe('createLearner: one learner, one set of defaults, configured by sim.adaptive', () => {
  it('uses the one default set of cheat levels when the scenario sets none', () => {
    const l = createLearner(undefined, createRng(1));
    expect(l.name).toBe('epsilon-greedy');
    expect(l.levels).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(l.levels).toEqual(ADAPTIVE_DEFAULTS.cheatLevels);
  });
  it('takes cheat levels, epsilon and the learner name from the settings', () => {
    const l = createLearner({ learner: 'epsilon-greedy', cheatLevels: [0, 1], epsilon: 0 }, createRng(1));
    expect(l.levels).toEqual([0, 1]);
    // epsilon 0: after trying both arms once it always exploits the better one
    l.choose();
    l.choose();
    l.learn(0, outcome.settled(10_000, 0));
    l.learn(1, outcome.slashed(1_000_000, 0));
    for (let i = 0; i < 20; i++) expect(l.choose()).toBe(0);
  });
  it('refuses an unknown learner or a bad knob with ERR_BAD_SCENARIO naming the field', () => {
    const err = (f: () => unknown): InfermarketError => {
      try {
        f();
      } catch (e) {
        return e as InfermarketError;
      }
      throw new Error('did not throw');
    };
    const a = err(() => createLearner({ learner: 'ucb9' }, createRng(1)));
    expect(a.code).toBe('ERR_BAD_SCENARIO');
    expect(a.message).toMatch(/sim\.adaptive\.learner must be one of epsilon-greedy, ucb1, thompson, rational, bayes, got "ucb9"/);
    expect(err(() => createLearner({ cheatLevels: [0, 2] }, createRng(1))).details).toEqual({ field: 'sim.adaptive.cheatLevels' });
    expect(err(() => createLearner({ epsilon: -1 }, createRng(1))).details).toEqual({ field: 'sim.adaptive.epsilon' });
  });
});

describe('rewardOf: what an outcome teaches', () => {
  it('a missed deadline teaches minus the full penalty (and the compute spent)', () => {
    expect(rewardOf(outcome.missed(5_000_000, 0))).toBe(-5_000_000);
    expect(rewardOf(outcome.missed(5_000_000, 120))).toBe(-5_000_120);
    const l = createLearner({ cheatLevels: [0] }, createRng(1));
    l.learn(l.choose(), outcome.missed(5_000_000, 0));
    expect(l.table()[0]!.meanProfitMicro).toBe(-5_000_000);
  });
  it('a slash teaches minus the amount slashed and jails; a settlement the price net of compute', () => {
    expect(outcome.slashed(150_000_000, 0)).toMatchObject({ kind: 'slashed', jailed: true });
    expect(rewardOf(outcome.slashed(150_000_000, 0))).toBe(-150_000_000);
    expect(rewardOf(outcome.settled(10_000, 250))).toBe(9_750);
  });
});

describe('epsilon-greedy', () => {
  it('learns to stop cheating when cheating is slashed', () => {
    const l = createLearner({ epsilon: 0.1 }, createLabeledRng(5, 'bandit'));
    const rng = createLabeledRng(5, 'world');
    for (let i = 0; i < 400; i++) {
      const arm = l.choose();
      const cheat = rng.next() < l.levels[arm]!;
      // honest work earns 10,000; a cheat saves 2,000 but is audited 30% of the time and slashed 1,000,000
      l.learn(arm, cheat ? (rng.next() < 0.3 ? outcome.slashed(1_000_000, 0) : outcome.settled(12_000, 0)) : outcome.settled(10_000, 0));
    }
    expect(l.levels[l.best()]).toBe(0);
    expect(l.table()[0]!.plays).toBeGreaterThan(300);
  });
  it('learns to cheat when nobody audits', () => {
    const l = createLearner(undefined, createLabeledRng(6, 'bandit'));
    const rng = createLabeledRng(6, 'world');
    for (let i = 0; i < 400; i++) {
      const arm = l.choose();
      l.learn(arm, outcome.settled(rng.next() < l.levels[arm]! ? 12_000 : 10_000, 0));
    }
    expect(l.levels[l.best()]).toBe(1);
  });
  it('tries every arm once before exploiting, counting choices (rewards may arrive late, live)', () => {
    const l = createLearner(undefined, createRng(2));
    const first = Array.from({ length: 5 }, () => l.choose());
    expect(first).toEqual([0, 1, 2, 3, 4]);
  });
});
