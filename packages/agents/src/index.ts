/**
 * @infermarket/agents — every agent's decisions as pure code with an injected generator: the miner
 * strategies (what to bid, whether and how to cheat), the validator strategies (what to report), the
 * adaptive miners' learner, and the one seeded generator. The live miner and validator processes and
 * the simulator's agents call these same functions. Depends on `@infermarket/protocol` only.
 */
export { createRng, createLabeledRng, deriveSeed, type Rng } from './rng.js';
export {
  ADAPTIVE_DEFAULTS,
  LEARNERS,
  betaSample,
  createCostAccount,
  createLearner,
  outcome,
  rewardOf,
  type AdaptiveSettings,
  type Charge,
  type CostAccount,
  type JobOutcome,
  type Learner,
  type LearnerName,
} from './learner.js';
export {
  MINER_STRATEGY_DEFAULTS,
  basePriceFor,
  bidPrice,
  defaultCheatProbability,
  defaultSlowExtraMs,
  injectedDelay,
  planJob,
  type JobPlan,
  type Pricing,
  type StrategyConfig,
} from './miner-strategy.js';
export { planTask, type TaskAction } from './validator-strategy.js';
