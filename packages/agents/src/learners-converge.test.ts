import { describe, expect, it } from 'vitest';
import { createCostAccount, createLearner, outcome } from './learner.js';
import { createLabeledRng } from './rng.js';

// a stationary synthetic market: arm i pays a Gaussian reward with mean MEANS[i] (arm 2 is best)
const MEANS = [4_000, 6_000, 9_000, 7_500, 2_000];

function play(name: 'ucb1' | 'thompson' | 'epsilon-greedy', n: number, seed: number) {
  const l = createLearner({ learner: name, cheatLevels: [0, 0.25, 0.5, 0.75, 1] }, createLabeledRng(seed, `learner/${name}`));
  const world = createLabeledRng(seed, 'world');
  const worse: number[] = [];
  let bad = 0;
  for (let t = 1; t <= n; t++) {
    const arm = l.choose();
    if (arm !== 2) bad++;
    const noise = (world.next() + world.next() + world.next() - 1.5) * 4_000;
    l.learn(arm, outcome.settled(MEANS[arm]! + noise, 0));
    if ((t & (t - 1)) === 0) worse.push(bad);
  }
  return { l, bad, worse };
}

describe('learners that converge: ucb1 and thompson on a stationary reward', () => {
  // worse[k] = suboptimal plays among the first 2^k; logarithmic regret adds about a constant per doubling
  for (const name of ['ucb1', 'thompson'] as const) {
    it(`${name} finds the best arm and its suboptimal plays grow sublinearly (epsilon-greedy's grow linearly)`, () => {
      const { l, bad, worse } = play(name, 16_384, 11);
      expect(l.name).toBe(name);
      expect(l.best()).toBe(2);
      expect(l.table()[2]!.plays / 16_384).toBeGreaterThan(0.85);
      const lastDoubling = bad - worse[13]!; // plays 8,193..16,384
      expect(lastDoubling).toBeLessThan(0.5 * worse[13]!);
    });
  }
  it('epsilon-greedy, for contrast, keeps exploring at a constant rate (linear regret)', () => {
    const { bad, worse } = play('epsilon-greedy', 16_384, 11);
    expect(bad - worse[13]!).toBeGreaterThan(0.8 * worse[13]!);
  });
  it('is reproducible from the seed', () => {
    expect(play('thompson', 500, 3).l.table()).toEqual(play('thompson', 500, 3).l.table());
  });
});

// the rational agent against the textbook model: honest work costs C and pays R; a cheat costs nothing,
// is caught with probability q and then forfeits R and loses S. Analytic threshold: cheat iff q < C/(R+S).
function rationalCheatShare(q: number, seed: number): number {
  const C = 300, R = 1_000, S = 1_000;
  const l = createLearner({ learner: 'rational', cheatLevels: [0, 0.5, 1] }, createLabeledRng(seed, 'rational'));
  const world = createLabeledRng(seed, 'world');
  let cheats = 0;
  const n = 4_000;
  for (let t = 0; t < n; t++) {
    const arm = l.choose();
    expect(arm === 0 || arm === 2).toBe(true); // only honest work or its highest level
    if (t >= n / 2 && arm === 2) cheats++;
    if (arm === 0) l.learn(arm, outcome.settled(R, C));
    else l.learn(arm, world.next() < q ? outcome.slashed(S, 0) : outcome.settled(R, 0));
  }
  return cheats / (n / 2);
}

describe('rational: best-responds at the analytic threshold C/(R+S)', () => {
  const pStar = 300 / 2_000; // 0.15
  it('cheats below the threshold and stops above it', () => {
    for (const q of [0.5 * pStar, 0.8 * pStar]) expect(rationalCheatShare(q, 1)).toBeGreaterThan(0.85);
    for (const q of [1.2 * pStar, 2 * pStar]) expect(rationalCheatShare(q, 1)).toBeLessThan(0.15);
  });
});

describe('the full cost charged to a learner', () => {
  it('charges a jail the work it could not take (rate × margin × jail) and restaking at restakeCostBps', () => {
    const acct = createCostAccount({ restakeCostBps: 100 });
    // 11 paid jobs over 10,000 ms: 1.1e-3 jobs/ms (counted from the first outcome), margin 1,000 − 200
    for (let i = 0; i <= 10; i++) expect(acct.charge(outcome.settled(1_000, 200, { atMs: i * 1_000 })).rewardMicro).toBe(800);
    expect(acct.rate()).toEqual({ jobsPerMs: 11 / 10_000, marginMicro: 800 });
    const c = acct.charge(outcome.slashed(50_000, 0, { atMs: 10_000, jailMs: 30_000 }));
    expect(c.realisedMicro).toBe(-50_000);
    expect(c.opportunityMicro).toBeCloseTo((11 / 10_000) * 800 * 30_000, 6);
    expect(c.restakeMicro).toBe(500); // 1% of the 50,000 it must bond again
    expect(c.rewardMicro).toBeCloseTo(-50_000 - 26_400 - 500, 6);
    // the jail does not count as time it worked
    acct.charge(outcome.settled(1_000, 200, { atMs: 45_000 }));
    expect(acct.rate().jobsPerMs).toBeCloseTo(12 / (45_000 - 30_000), 12);
  });
  it('a learner is charged the jail: the same slash teaches more when the jail is long', () => {
    const mk = (jailMs: number) => {
      const l = createLearner({ learner: 'epsilon-greedy', cheatLevels: [1] }, createLabeledRng(1, 'x'));
      for (let i = 0; i < 5; i++) l.learn(l.choose(), outcome.settled(1_000, 0, { atMs: i * 100 }));
      l.learn(l.choose(), outcome.slashed(10_000, 0, { atMs: 500, jailMs }));
      return l.table()[0]!.meanProfitMicro;
    };
    expect(mk(60_000)).toBeLessThan(mk(0) - 50_000);
  });
});

// the bayes learner in the same textbook market: it reads the public rules (audit rate × P(slashed | audited),
// the slash) as its prior and updates from its own cheats. `ruleDetection` is what the rules say; `trueDetection`
// what the market does.
function bayesCheatShare(o: { p: number; ruleDetection?: number; trueDetection?: number; n?: number; seed?: number }): number {
  const C = 300, R = 1_000, S = 1_000;
  const n = o.n ?? 3_000;
  const seed = o.seed ?? 1;
  const rules = () => ({ auditRate: o.p, slashGivenAudit: o.ruleDetection ?? 1, slashMicro: S, jailMs: 0 });
  const l = createLearner({ learner: 'bayes', cheatLevels: [0, 0.5, 1] }, createLabeledRng(seed, 'bayes'), rules);
  const world = createLabeledRng(seed, 'world');
  let cheats = 0;
  for (let t = 0; t < n; t++) {
    const arm = l.choose();
    expect(arm === 0 || arm === 2).toBe(true);
    if (t >= n / 2 && arm === 2) cheats++;
    if (arm === 0) l.learn(arm, outcome.settled(R, C));
    else l.learn(arm, world.next() < o.p * (o.trueDetection ?? 1) ? outcome.slashed(S, 0) : outcome.settled(R, 0));
  }
  return cheats / (n / 2);
}

describe('bayes: a best responder with the public rules as its prior', () => {
  const pStar = 300 / 2_000;
  it('cheats below the threshold and stops above it', () => {
    for (const p of [0.5 * pStar, 0.8 * pStar]) expect(bayesCheatShare({ p })).toBeGreaterThan(0.85);
    for (const p of [1.2 * pStar, 2 * pStar]) expect(bayesCheatShare({ p })).toBeLessThan(0.15);
  });
  it('learns from the market when the rules overstate detection: caught half as often as they say, it cheats at 1.3 p*', () => {
    expect(bayesCheatShare({ p: 1.3 * pStar, trueDetection: 0.5 })).toBeGreaterThan(0.85);
    expect(bayesCheatShare({ p: 1.3 * pStar, trueDetection: 1 })).toBeLessThan(0.15);
  });
  it('needs the rules: created without them it fails naming the field', () => {
    expect(() => createLearner({ learner: 'bayes' }, createLabeledRng(1, 'x'))).toThrow(/sim\.adaptive\.learner is "bayes", which needs the public rules/);
    expect(() => createLearner({ learner: 'bayes', priorWeightSlashes: 0 }, createLabeledRng(1, 'x'), () => ({ auditRate: 0.1, slashGivenAudit: 1, slashMicro: 1, jailMs: 0 }))).toThrow(/priorWeightSlashes/);
  });
  it('is reproducible from the seed', () => {
    expect(bayesCheatShare({ p: pStar, seed: 5 })).toBe(bayesCheatShare({ p: pStar, seed: 5 }));
  });
});
