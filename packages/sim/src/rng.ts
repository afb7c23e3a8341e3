/** The simulator's generator is the agents' one generator (one RNG module, live and simulated). */
export { createRng, deriveSeed, type Rng } from '@infermarket/agents';
