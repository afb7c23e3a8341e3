import type { NodeRng } from './prng.js';

/** The cheat probabilities an adaptive miner chooses between. */
export const CHEAT_ARMS = [0, 0.25, 0.5, 1] as const;

/** An epsilon-greedy bandit over cheat probabilities, learning from realised profit per job. */
export interface CheatBandit {
  /** Pick an arm for the next job; returns its index. */
  choose(): number;
  /** Cheat probability of an arm. */
  probability(arm: number): number;
  /** Record the profit (micro-mUSD, may be negative) a job played on `arm` realised. */
  reward(arm: number, profitMicro: number): void;
  /** Mean profit and plays per arm. */
  table(): { probability: number; plays: number; meanProfitMicro: number }[];
}

/**
 * A small epsilon-greedy bandit. Unplayed arms are tried first; then with probability `epsilon` a random
 * arm, else the arm with the best mean profit. No deterrence formula is built in: whether cheating pays is
 * learned from what the market actually paid and slashed.
 */
export function createCheatBandit(rng: NodeRng, options: { epsilon?: number; arms?: readonly number[] } = {}): CheatBandit {
  const arms = options.arms ?? CHEAT_ARMS;
  const epsilon = options.epsilon ?? 0.1;
  const plays = arms.map(() => 0);
  const sums = arms.map(() => 0);
  const mean = (i: number): number => (plays[i]! === 0 ? 0 : sums[i]! / plays[i]!);
  return {
    choose() {
      const unplayed = plays.findIndex((p) => p === 0);
      if (unplayed >= 0) return unplayed;
      if (rng.next() < epsilon) return Math.floor(rng.next() * arms.length);
      let best = 0;
      for (let i = 1; i < arms.length; i++) if (mean(i) > mean(best)) best = i;
      return best;
    },
    probability: (arm) => arms[arm] ?? 0,
    reward(arm, profit) {
      if (arm < 0 || arm >= arms.length) return;
      plays[arm]!++;
      sums[arm]! += profit;
    },
    table: () => arms.map((p, i) => ({ probability: p, plays: plays[i]!, meanProfitMicro: mean(i) })),
  };
}
