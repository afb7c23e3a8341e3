import type { Rng } from './rng.js';

/**
 * How an `adaptive` miner learns whether to cheat: an epsilon-greedy bandit over a few cheat
 * probabilities ("arms"). Each job plays the current arm; when the job's outcome is known
 * (paid, slashed or missed) its realised profit net of compute cost updates that arm's estimate.
 * No deterrence formula is built in: the miner only sees its own profits.
 */
export interface Bandit {
  /** Pick an arm for the next job (explores with probability epsilon; untried arms first). */
  choose(): number;
  /** Fold a realised profit (micro-mUSD) into an arm's estimate. */
  update(arm: number, profit: number): void;
  /** The arm with the best estimate (ties → lower cheat level). */
  best(): number;
  readonly levels: readonly number[];
  readonly estimates: readonly number[];
  readonly pulls: readonly number[];
}

export interface BanditOptions {
  levels: readonly number[];
  epsilon: number;
  /** 0: sample average; >0: exponential recency weight of each new profit (tracks a changing market). */
  decay: number;
  rng: Rng;
}

export const DEFAULT_CHEAT_LEVELS: readonly number[] = Object.freeze([0, 0.25, 0.5, 0.75, 1]);
export const DEFAULT_EPSILON = 0.1;
export const DEFAULT_DECAY = 0;

/** An epsilon-greedy bandit. */
export function createBandit(options: BanditOptions): Bandit {
  const { levels, epsilon, decay, rng } = options;
  const est = levels.map(() => 0);
  const pulls = levels.map(() => 0);
  const updates = levels.map(() => 0);
  const best = (): number => {
    let b = 0;
    for (let i = 1; i < est.length; i++) if (est[i]! > est[b]!) b = i;
    return b;
  };
  return {
    levels,
    estimates: est,
    pulls,
    choose() {
      let arm = pulls.indexOf(0);
      if (arm >= 0) {
        pulls[arm]!++;
        return arm;
      }
      arm = rng.next() < epsilon ? rng.int(levels.length) : best();
      pulls[arm]!++;
      return arm;
    },
    update(arm, profit) {
      updates[arm]!++;
      const w = decay > 0 ? Math.max(decay, 1 / updates[arm]!) : 1 / updates[arm]!;
      est[arm]! += w * (profit - est[arm]!);
    },
    best,
  };
}
