import { ADAPTIVE_LEARNERS, InfermarketError } from '@infermarket/protocol';
import type { Rng } from './rng.js';

/**
 * How an `adaptive` miner learns whether to cheat. It plays one "arm" (a cheat probability) per job;
 * when the job's outcome is known the outcome, as data, updates that arm. The same learner, with the
 * same defaults, runs in the live miner and in the simulator; the scenario's `sim.adaptive` settings
 * configure both.
 */

/** What became of one job an adaptive miner played, as the market reported it. Amounts in micro-mUSD. */
export interface JobOutcome {
  /** `settled`: paid; `missed`: its deadline passed (penalty); `slashed`: an audit or dispute found it wrong. */
  kind: 'settled' | 'missed' | 'slashed';
  /** What the job paid the miner (settled jobs; 0 otherwise). */
  paidMicro: number;
  /** Stake slashed for the job (0 unless slashed). */
  slashedMicro: number;
  /** Missed-deadline penalty (the full `missPenaltyBps` of its stake the rules took; 0 unless missed). */
  penaltyMicro: number;
  /** Whether the miner was jailed by it (a slash jails). */
  jailed: boolean;
  /** Compute the miner spent on the job (its own cost model; 0 when it did not run the model). */
  costMicro: number;
}

/**
 * The realised profit of an outcome: paid − slashed − penalty − compute. A missed deadline teaches
 * minus the full penalty, live and simulated alike.
 */
export function rewardOf(o: JobOutcome): number {
  return o.paidMicro - o.slashedMicro - o.penaltyMicro - o.costMicro;
}

/** Outcome helpers, so callers build complete outcomes. */
export const outcome = Object.freeze({
  settled: (paidMicro: number, costMicro: number): JobOutcome => ({ kind: 'settled', paidMicro, slashedMicro: 0, penaltyMicro: 0, jailed: false, costMicro }),
  missed: (penaltyMicro: number, costMicro: number): JobOutcome => ({ kind: 'missed', paidMicro: 0, slashedMicro: 0, penaltyMicro, jailed: false, costMicro }),
  slashed: (slashedMicro: number, costMicro: number): JobOutcome => ({ kind: 'slashed', paidMicro: 0, slashedMicro, penaltyMicro: 0, jailed: true, costMicro }),
});

/** A learner over cheat probabilities. */
export interface Learner {
  /** Its name (`AdaptiveSettings.learner`). */
  readonly name: string;
  /** The cheat probabilities it chooses among. */
  readonly levels: readonly number[];
  /** Pick an arm for the next job (an index into `levels`). */
  choose(): number;
  /** Fold the outcome of a job played on `arm` into the learner. */
  learn(arm: number, outcome: JobOutcome): void;
  /** The arm it would exploit now (ties → the lower cheat level). */
  best(): number;
  /** Per arm: cheat probability, jobs played, mean reward (micro-mUSD). */
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
}

/** The one set of learner defaults, live and simulated. */
export const ADAPTIVE_DEFAULTS = Object.freeze({
  learner: 'epsilon-greedy' as LearnerName,
  cheatLevels: Object.freeze([0, 0.25, 0.5, 0.75, 1]) as readonly number[],
  epsilon: 0.1,
  decay: 0,
});

function bad(field: string, msg: string): never {
  throw new InfermarketError('ERR_BAD_SCENARIO', `sim.adaptive.${field} ${msg}`, { details: { field: `sim.adaptive.${field}` } });
}

/**
 * The learner the settings name, with the defaults filled in.
 * @throws InfermarketError `ERR_BAD_SCENARIO` naming the field for an unknown learner or a bad knob.
 * @example const l = createLearner({ epsilon: 0.05 }, createLabeledRng(seed, 'miner/x/learner'));
 */
export function createLearner(settings: AdaptiveSettings | undefined, rng: Rng): Learner {
  const s = settings ?? {};
  const name = s.learner ?? ADAPTIVE_DEFAULTS.learner;
  const levels = s.cheatLevels ?? ADAPTIVE_DEFAULTS.cheatLevels;
  const epsilon = s.epsilon ?? ADAPTIVE_DEFAULTS.epsilon;
  const decay = s.decay ?? ADAPTIVE_DEFAULTS.decay;
  if (!levels.length || levels.some((p) => !(p >= 0 && p <= 1))) bad('cheatLevels', `must be a non-empty list of probabilities in [0, 1], got ${JSON.stringify(levels)}`);
  if (!(epsilon >= 0 && epsilon <= 1)) bad('epsilon', `must be in [0, 1], got ${epsilon}`);
  if (!(decay >= 0 && decay <= 1)) bad('decay', `must be in [0, 1], got ${decay}`);
  switch (name) {
    case 'epsilon-greedy':
      return epsilonGreedy({ levels: [...levels], epsilon, decay, rng });
    default:
      return bad('learner', `must be one of ${LEARNERS.join(', ')}, got ${JSON.stringify(name)}`);
  }
}

/**
 * Epsilon-greedy: untried arms first (counted when chosen, so a live miner whose rewards arrive late
 * does not replay one arm); then with probability `epsilon` a random arm, else the best estimate.
 * The estimate is the sample mean of rewards, or an exponential recency average when `decay` > 0.
 * No deterrence formula is built in: whether cheating pays is learned from what the market paid and took.
 */
function epsilonGreedy(o: { levels: readonly number[]; epsilon: number; decay: number; rng: Rng }): Learner {
  const { levels, epsilon, decay, rng } = o;
  const est = levels.map(() => 0);
  const pulls = levels.map(() => 0);
  const updates = levels.map(() => 0);
  const best = (): number => {
    let b = 0;
    for (let i = 1; i < est.length; i++) if (est[i]! > est[b]!) b = i;
    return b;
  };
  return {
    name: 'epsilon-greedy',
    levels,
    choose() {
      let arm = pulls.indexOf(0);
      if (arm < 0) arm = rng.next() < epsilon ? rng.int(levels.length) : best();
      pulls[arm]!++;
      return arm;
    },
    learn(arm, out) {
      if (arm < 0 || arm >= levels.length) return;
      updates[arm]!++;
      const w = decay > 0 ? Math.max(decay, 1 / updates[arm]!) : 1 / updates[arm]!;
      est[arm]! += w * (rewardOf(out) - est[arm]!);
    },
    best,
    table: () => levels.map((p, i) => ({ probability: p, plays: pulls[i]!, meanProfitMicro: est[i]! })),
  };
}
