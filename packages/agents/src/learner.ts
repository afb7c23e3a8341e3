import { ADAPTIVE_LEARNERS, InfermarketError } from '@infermarket/protocol';
import { createCostAccount, type Charge, type CostAccount, type JobOutcome } from './full-cost.js';
import type { Rng } from './rng.js';

export { createCostAccount, outcome, rewardOf, type Charge, type CostAccount, type JobOutcome } from './full-cost.js';

/**
 * How an `adaptive` miner learns whether to cheat. It plays one "arm" (a cheat probability) per job;
 * when the job's outcome is known the outcome, as data, updates that arm. Every learner is charged the
 * same full cost of an outcome (`createCostAccount`: slash, penalty, compute, the work it could not take
 * while jailed, restaking). The same learner, with the same defaults, runs in the live miner and in the
 * simulator; the scenario's `sim.adaptive` settings configure both.
 */

/** A learner over cheat probabilities. */
export interface Learner {
  /** Its name (`AdaptiveSettings.learner`). */
  readonly name: string;
  /** The cheat probabilities it chooses among. */
  readonly levels: readonly number[];
  /** Pick an arm for the next job (an index into `levels`). */
  choose(): number;
  /** Fold the outcome of a job played on `arm` into the learner, charged its full cost; returns the charge (null for an arm out of range). */
  learn(arm: number, outcome: JobOutcome): Charge | null;
  /** The arm it would exploit now (ties → the lower cheat level). */
  best(): number;
  /** Per arm: cheat probability, jobs played, mean reward charged (micro-mUSD). */
  table(): { probability: number; plays: number; meanProfitMicro: number }[];
}

/** The learner kinds `AdaptiveSettings.learner` may name (the protocol's list, which the scenario schema checks). */
export const LEARNERS = ADAPTIVE_LEARNERS;
export type LearnerName = (typeof LEARNERS)[number];

/** The scenario's `sim.adaptive` block: which learner and its knobs. */
export interface AdaptiveSettings {
  learner?: string;
  cheatLevels?: readonly number[];
  epsilon?: number;
  /** 0: sample average; > 0: exponential recency weight of each new reward (tracks a changing market). */
  decay?: number;
  /** Cost of posting capital again after a slash or ejection, in basis points of the capital (default 0). */
  restakeCostBps?: number;
  /** `bayes`: how many observed slashes the public rules' prior is worth (default `ADAPTIVE_DEFAULTS.priorWeightSlashes`). */
  priorWeightSlashes?: number;
}

/**
 * What the public rules tell a miner about the job it plays, read by the `bayes` learner: the market's
 * announced parameters and, for a miner that colludes with validators, what its partners do (it knows them).
 * The driver (the live miner, the simulator) supplies them; the learner only reads them.
 */
export interface PublicRules {
  /** `auditRate`: the chance a job is audited. */
  auditRate: number;
  /** P(a skipped result is slashed | its job is audited), under the rules, for this miner (its colluding partners included; 1 with none). */
  slashGivenAudit: number;
  /** What one slash takes: `slashFractionBps` × its stake, micro-mUSD. */
  slashMicro: number;
  /** `jailDurationMs`: how long a slash keeps it from work. */
  jailMs: number;
}

/** The one set of learner defaults, live and simulated. */
export const ADAPTIVE_DEFAULTS = Object.freeze({
  learner: 'epsilon-greedy' as LearnerName,
  cheatLevels: Object.freeze([0, 0.25, 0.5, 0.75, 1]) as readonly number[],
  epsilon: 0.1,
  decay: 0,
  restakeCostBps: 0,
  /** `bayes`: the rules' prior on the detection chance counts as this many observed slashes (relative sd ≈ 1/√25 = 20 %). */
  priorWeightSlashes: 25,
});

function bad(field: string, msg: string): never {
  throw new InfermarketError('ERR_BAD_SCENARIO', `sim.adaptive.${field} ${msg}`, { details: { field: `sim.adaptive.${field}` } });
}

/**
 * The learner the settings name, with the defaults filled in:
 * - `epsilon-greedy`: explores a random arm with probability `epsilon`, else exploits the best mean;
 * - `ucb1`: UCB1 (Auer et al. 2002; regret O(log n)) over the cheat levels, rewards normalised to the
 *   range of charged rewards seen so far;
 * - `thompson`: Gaussian Thompson sampling (seeded), each arm's mean drawn from N(mean, s²/n);
 * - `rational`: a model-based best response — it estimates the chance a cheat is caught (Beta posterior
 *   over its own cheats and slashes, sampled) and the mean charged outcome when caught and when not, and
 *   cheats (plays its highest level) iff the expected reward of cheating beats that of honest work,
 *   i.e. iff gain > q·(forfeited reward + loss on detection);
 * - `bayes`: the same best response, with the public rules (`rules`) as its prior: the chance a cheat is
 *   slashed is q ~ Beta with mean auditRate × slashGivenAudit, worth `priorWeightSlashes` observed slashes,
 *   updated by its own cheats and slashes; the loss when caught starts at the slash (+ the jail's lost work)
 *   and is updated by the slashes it takes.
 * @param rules what the public rules say (read at each choice); required by `bayes`, unused by the others.
 * @throws InfermarketError `ERR_BAD_SCENARIO` naming the field for an unknown learner or a bad knob, or `bayes` without `rules`.
 * @example const l = createLearner({ learner: 'ucb1' }, createLabeledRng(seed, 'miner/x/learner'));
 */
export function createLearner(settings: AdaptiveSettings | undefined, rng: Rng, rules?: () => PublicRules): Learner {
  const s = settings ?? {};
  const name = s.learner ?? ADAPTIVE_DEFAULTS.learner;
  const levels = s.cheatLevels ?? ADAPTIVE_DEFAULTS.cheatLevels;
  const epsilon = s.epsilon ?? ADAPTIVE_DEFAULTS.epsilon;
  const decay = s.decay ?? ADAPTIVE_DEFAULTS.decay;
  const restakeCostBps = s.restakeCostBps ?? ADAPTIVE_DEFAULTS.restakeCostBps;
  if (!levels.length || levels.some((p) => !(p >= 0 && p <= 1))) bad('cheatLevels', `must be a non-empty list of probabilities in [0, 1], got ${JSON.stringify(levels)}`);
  if (!(epsilon >= 0 && epsilon <= 1)) bad('epsilon', `must be in [0, 1], got ${epsilon}`);
  if (!(decay >= 0 && decay <= 1)) bad('decay', `must be in [0, 1], got ${decay}`);
  if (!(Number.isInteger(restakeCostBps) && restakeCostBps >= 0 && restakeCostBps <= 10_000)) bad('restakeCostBps', `must be an integer in [0, 10000], got ${restakeCostBps}`);
  const priorWeightSlashes = s.priorWeightSlashes ?? ADAPTIVE_DEFAULTS.priorWeightSlashes;
  if (!(priorWeightSlashes > 0 && Number.isFinite(priorWeightSlashes))) bad('priorWeightSlashes', `must be a finite number > 0, got ${priorWeightSlashes}`);
  const base = { levels: [...levels], decay, rng, account: createCostAccount({ restakeCostBps }) };
  switch (name) {
    case 'epsilon-greedy':
      return epsilonGreedy({ ...base, epsilon });
    case 'ucb1':
      return ucb1(base);
    case 'thompson':
      return thompson(base);
    case 'rational':
      return rational(base);
    case 'bayes':
      if (!rules) bad('learner', 'is "bayes", which needs the public rules (audit rate, slash, jail): the driver must pass them to createLearner (MinerStrategyInit.rules)');
      return bayes({ ...base, rules, priorWeightSlashes, restakeCostBps });
    default:
      return bad('learner', `must be one of ${LEARNERS.join(', ')}, got ${JSON.stringify(name)}`);
  }
}

interface Base {
  levels: readonly number[];
  decay: number;
  rng: Rng;
  account: CostAccount;
}

/** Per-arm statistics every learner keeps: plays (counted when chosen), updates, mean and spread of charged rewards. */
function armStats(o: Base) {
  const n = o.levels.length;
  const pulls = new Array<number>(n).fill(0);
  const updates = new Array<number>(n).fill(0);
  const mean = new Array<number>(n).fill(0);
  const m2 = new Array<number>(n).fill(0);
  let lo = Infinity;
  let hi = -Infinity;
  return {
    pulls,
    updates,
    mean,
    /** Sample variance of arm i's rewards (0 with fewer than 2). */
    variance: (i: number): number => (updates[i]! > 1 ? m2[i]! / (updates[i]! - 1) : 0),
    range: (): { lo: number; hi: number } => ({ lo, hi }),
    /** Record a reward; returns nothing. Recency-weighted when `decay` > 0. */
    add(arm: number, r: number): void {
      updates[arm]!++;
      if (r < lo) lo = r;
      if (r > hi) hi = r;
      const w = o.decay > 0 ? Math.max(o.decay, 1 / updates[arm]!) : 1 / updates[arm]!;
      const d = r - mean[arm]!;
      mean[arm]! += w * d;
      m2[arm]! += d * (r - mean[arm]!);
    },
    /** The first arm never chosen, or -1. */
    untried: (): number => pulls.indexOf(0),
    argmax(score: (i: number) => number): number {
      let b = 0;
      let bs = score(0);
      for (let i = 1; i < n; i++) {
        const s = score(i);
        if (s > bs) (b = i), (bs = s);
      }
      return b;
    },
    table: () => o.levels.map((p, i) => ({ probability: p, plays: pulls[i]!, meanProfitMicro: mean[i]! })),
  };
}

/** The learner built on `armStats`: `pick` decides among tried arms; rewards are charged by the cost account. */
function banditOf(
  o: Base,
  name: string,
  pick: (a: ReturnType<typeof armStats>) => number,
  extraLearn?: (arm: number, r: number, out: JobOutcome) => void,
  bestOf?: (a: ReturnType<typeof armStats>) => number,
  tryAll = true,
): Learner {
  const a = armStats(o);
  const best = (): number => (bestOf ? bestOf(a) : a.argmax((i) => a.mean[i]!));
  return {
    name,
    levels: o.levels,
    choose() {
      let arm = tryAll ? a.untried() : -1;
      if (arm < 0) arm = pick(a);
      a.pulls[arm]!++;
      return arm;
    },
    learn(arm, out) {
      if (arm < 0 || arm >= o.levels.length) return null;
      const charge = o.account.charge(out);
      a.add(arm, charge.rewardMicro);
      extraLearn?.(arm, charge.rewardMicro, out);
      return charge;
    },
    best,
    table: a.table,
  };
}

/**
 * Epsilon-greedy: untried arms first (counted when chosen, so a live miner whose rewards arrive late
 * does not replay one arm); then with probability `epsilon` a random arm, else the best estimate.
 * No deterrence formula is built in: whether cheating pays is learned from what the market paid and took.
 */
function epsilonGreedy(o: Base & { epsilon: number }): Learner {
  return banditOf(o, 'epsilon-greedy', (a) => (o.rng.next() < o.epsilon ? o.rng.int(o.levels.length) : a.argmax((i) => a.mean[i]!)));
}

/**
 * UCB1: the arm maximising mean' + sqrt(2 ln t / n), where mean' is the arm's mean charged reward
 * normalised to [0, 1] by the lowest and highest reward seen, t the plays so far and n the arm's
 * rewards (its plays while rewards are still in flight).
 */
function ucb1(o: Base): Learner {
  return banditOf(o, 'ucb1', (a) => {
    const { lo, hi } = a.range();
    const span = hi > lo ? hi - lo : 1;
    let t = 0;
    for (const p of a.pulls) t += p;
    const lnT = Math.log(Math.max(2, t));
    return a.argmax((i) => {
      const n = Math.max(1, a.updates[i]! || a.pulls[i]!);
      const m = a.updates[i]! ? (a.mean[i]! - lo) / span : 1;
      return m + Math.sqrt((2 * lnT) / n);
    });
  });
}

/** A standard normal draw (Box–Muller) from the seeded generator. */
function normal(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** A Gamma(k, 1) draw (Marsaglia–Tsang; k < 1 boosted). */
function gamma(rng: Rng, k: number): number {
  if (k < 1) return gamma(rng, k + 1) * Math.pow(1 - rng.next(), 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta(a, b) draw. */
export function betaSample(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x / (x + y);
}

/**
 * Gaussian Thompson sampling: each arm's mean is drawn from N(mean, s²/n), with s² the arm's sample
 * variance plus one pseudo-observation of the variance of all rewards seen (so an arm with few, equal
 * rewards is not certain); the arm with the highest draw is played.
 */
function thompson(o: Base): Learner {
  let all = 0;
  let allMean = 0;
  let allM2 = 0;
  return banditOf(
    o,
    'thompson',
    (a) => {
      const v0 = all > 1 ? allM2 / (all - 1) : 0;
      return a.argmax((i) => {
        const n = Math.max(1, a.updates[i]!);
        if (!a.updates[i]) return Infinity;
        const s2 = (a.variance(i) * Math.max(0, n - 1) + v0) / n;
        return a.mean[i]! + Math.sqrt(s2 / n) * normal(o.rng);
      });
    },
    (_arm, r) => {
      all++;
      const d = r - allMean;
      allMean += d / all;
      allM2 += d * (r - allMean);
    },
  );
}

/**
 * `rational`: plays only its lowest level (honest work) and its highest (cheating). For the cheating arm
 * it keeps the plays, the plays that were slashed, and the mean charged reward when slashed (the loss on
 * detection: slash, forfeited pay, jail time's lost work, restaking) and when not. Each choice draws the
 * detection chance q from Beta(1 + slashed, 1 + not slashed) and cheats iff
 * (1 − q)·mean(not slashed) + q·mean(slashed) > mean(honest). Before its first slash the loss on
 * detection is taken to be the forfeited pay alone (a prior that underrates the loss, so it tries).
 */
function rational(o: Base): Learner {
  const { honestArm, cheatArm } = extremeArms(o.levels);
  const { t, observe } = createCheatTally(honestArm, cheatArm);
  // with no undetected cheat yet, cheating is expected to pay what honest work paid, without its compute
  const decide = (a: ReturnType<typeof armStats>, q: number): number => {
    // prior before the first slash: a caught cheat forfeits its pay and loses nothing else (reward 0)
    const lossWhenCaught = t.caught ? t.caughtMean : 0;
    const free = t.plays - t.caught > 0 ? t.freeMean : t.honestPaidN ? t.honestPaid : 0;
    const eCheat = (1 - q) * free + q * lossWhenCaught;
    return eCheat > a.mean[honestArm]! ? cheatArm : honestArm;
  };
  return banditOf(
    o,
    'rational',
    (a) => (a.pulls[honestArm]! === 0 ? honestArm : a.pulls[cheatArm]! === 0 ? cheatArm : decide(a, betaSample(o.rng, 1 + t.caught, 1 + t.plays - t.caught))),
    observe,
    (a) => (a.updates[honestArm]! === 0 ? honestArm : decide(a, (1 + t.caught) / (2 + t.plays))),
    false,
  );
}

/** The arms a best responder plays: its lowest cheat level (honest work) and its highest (cheating). */
function extremeArms(levels: readonly number[]): { honestArm: number; cheatArm: number } {
  let honestArm = 0;
  let cheatArm = 0;
  for (let i = 1; i < levels.length; i++) {
    if (levels[i]! < levels[honestArm]!) honestArm = i;
    if (levels[i]! > levels[cheatArm]!) cheatArm = i;
  }
  return { honestArm, cheatArm };
}

/**
 * What a best responder (`rational`, `bayes`) has seen: cheats played and slashed, the mean reward of a slashed
 * and of an unslashed cheat, and the mean pay of its settled honest jobs.
 */
function createCheatTally(honestArm: number, cheatArm: number) {
  const t = { plays: 0, caught: 0, caughtMean: 0, freeMean: 0, honestPaid: 0, honestPaidN: 0 };
  const observe = (arm: number, r: number, out: JobOutcome): void => {
    if (arm === honestArm && out.kind === 'settled') {
      t.honestPaidN++;
      t.honestPaid += (out.paidMicro - t.honestPaid) / t.honestPaidN;
    }
    if (arm !== cheatArm || arm === honestArm) return;
    t.plays++;
    if (out.kind === 'slashed') {
      t.caught++;
      t.caughtMean += (r - t.caughtMean) / t.caught;
    } else t.freeMean += (r - t.freeMean) / (t.plays - t.caught);
  };
  return { t, observe };
}

/**
 * `bayes`: a Bayesian best responder that reads the public rules. The chance q that a cheat is slashed has
 * the prior Beta(w, w·(1 − q0)/q0), q0 = auditRate × slashGivenAudit (the rules' value, worth w =
 * `priorWeightSlashes` observed slashes), updated by its own cheats (Beta(w + slashed, … + not slashed)).
 * The reward of an uncaught cheat is its mean over the cheats that went through (before any, the pay its
 * honest jobs got); the reward when caught is the mean charge of its slashes, starting from the rules'
 * −(slash + the jail's lost work + restaking) as one pseudo-slash. Each choice draws q from the posterior
 * (Thompson sampling: it keeps trying the arm it doubts, so it keeps learning) and cheats (its highest
 * level) iff (1 − q)·uncaught + q·caught > the mean reward of its honest jobs. It plays honest work until
 * one honest job has paid out (it does not know its pay or compute before).
 */
function bayes(o: Base & { rules: () => PublicRules; priorWeightSlashes: number; restakeCostBps: number }): Learner {
  const { honestArm, cheatArm } = extremeArms(o.levels);
  const w = o.priorWeightSlashes;
  const { t, observe } = createCheatTally(honestArm, cheatArm);
  const prior = (): { a: number; b: number; caughtMicro: number } => {
    const r = o.rules();
    const q0 = Math.min(1 - 1e-9, Math.max(1e-9, r.auditRate * r.slashGivenAudit));
    const { jobsPerMs, marginMicro } = o.account.rate();
    const caughtMicro = -(r.slashMicro + jobsPerMs * marginMicro * Math.max(0, r.jailMs) + (r.slashMicro * o.restakeCostBps) / 10_000);
    return { a: w, b: (w * (1 - q0)) / q0, caughtMicro };
  };
  const decide = (a: ReturnType<typeof armStats>, draw: boolean): number => {
    if (a.updates[honestArm]! === 0) return honestArm;
    const pr = prior();
    const alpha = pr.a + t.caught;
    const beta = pr.b + t.plays - t.caught;
    const q = draw ? betaSample(o.rng, alpha, beta) : alpha / (alpha + beta);
    const whenCaught = (pr.caughtMicro + t.caught * t.caughtMean) / (1 + t.caught);
    const free = t.plays - t.caught > 0 ? t.freeMean : t.honestPaid;
    return (1 - q) * free + q * whenCaught > a.mean[honestArm]! ? cheatArm : honestArm;
  };
  return banditOf(
    o,
    'bayes',
    (a) => decide(a, true),
    observe,
    (a) => decide(a, false),
    false,
  );
}
