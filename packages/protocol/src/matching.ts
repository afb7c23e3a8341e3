import type { MatchingPolicy } from './params.js';
import { uniformFromSeed } from './selection.js';
import type { Bid, NodeRecord } from './types.js';

export interface MatchContext {
  policy: MatchingPolicy;
  jobId: string;
  attempt: number;
  /** Epoch seed, for the seeded policy. */
  seed: string;
  nodes: ReadonlyMap<string, NodeRecord>;
}

const byArrival = (a: Bid, b: Bid): number => a.seq - b.seq;

/**
 * Choose the winning bid of a reverse auction. Deterministic for the same bids, nodes and seed.
 * - `lowest-price`: cheapest; ties go to higher reputation, then earlier bid.
 * - `reputation-weighted`: lowest price ÷ (0.05 + reputation); ties to earlier bid.
 * - `stake-weighted-random`: a draw weighted by bonded stake, from H(seed ‖ jobId ‖ attempt).
 * @returns the winning bid, or null when there are no bids.
 */
export function chooseWinner(bids: readonly Bid[], ctx: MatchContext): Bid | null {
  if (bids.length === 0) return null;
  const rep = (b: Bid) => ctx.nodes.get(b.miner)?.reputation ?? 0;
  switch (ctx.policy) {
    case 'lowest-price': {
      let best = bids[0]!;
      for (const b of bids) {
        if (b.priceMicro < best.priceMicro) best = b;
        else if (b.priceMicro === best.priceMicro) {
          const d = rep(b) - rep(best);
          if (d > 0 || (d === 0 && byArrival(b, best) < 0)) best = b;
        }
      }
      return best;
    }
    case 'reputation-weighted': {
      let best = bids[0]!;
      let bestScore = Number(best.priceMicro) / (0.05 + rep(best));
      for (const b of bids) {
        const score = Number(b.priceMicro) / (0.05 + rep(b));
        if (score < bestScore || (score === bestScore && byArrival(b, best) < 0)) {
          best = b;
          bestScore = score;
        }
      }
      return best;
    }
    case 'stake-weighted-random': {
      const sorted = [...bids].sort(byArrival);
      let total = 0n;
      for (const b of sorted) total += ctx.nodes.get(b.miner)?.stakeMicro ?? 0n;
      if (total === 0n) return sorted[0]!;
      const u = uniformFromSeed(ctx.seed, 'match', ctx.jobId, ctx.attempt);
      // exact integer draw in [0, total)
      let r = (total * BigInt(Math.floor(u * 2 ** 48))) / 2n ** 48n;
      for (const b of sorted) {
        const w = ctx.nodes.get(b.miner)?.stakeMicro ?? 0n;
        if (r < w) return b;
        r -= w;
      }
      return sorted[sorted.length - 1]!;
    }
  }
}
