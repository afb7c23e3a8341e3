import type { NodeRecord } from './types.js';

/** Fold one outcome (1 good, 0 bad) into a node's exponentially decayed reputation. */
export function recordOutcome(node: NodeRecord, outcome: 0 | 1, decay: number): void {
  node.reputation = node.reputation * (1 - decay) + outcome * decay;
}
