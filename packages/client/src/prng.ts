import { createTaggedRng, type Rng } from '@infermarket/agents';

/** The seeded generator of the client load (the agents' one generator, under the load's own domain tag). Not for secrets. */
export type { Rng };

/**
 * A deterministic generator from a seed and a label: same (seed, label) → same stream, in every process.
 * @example const rng = createRng(42, 'client-0/arrivals');
 */
export function createRng(seed: number | string, label = ''): Rng {
  return createTaggedRng('infermarket/rng/v1', seed, label);
}
