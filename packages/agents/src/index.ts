/**
 * @infermarket/agents — every agent's decisions as pure code with an injected generator: the miner
 * strategies (what to bid, whether and how to cheat), the validator strategies (what to report), the
 * adaptive miners' learner, and the one seeded generator. The live miner and validator processes and
 * the simulator's agents call these same functions, through one strategy interface that the built-ins
 * and a user's strategy module implement alike (`strategy-module.ts`; loading a module from a file is
 * I/O and lives in `@infermarket/node-runtime`). Depends on `@infermarket/protocol` only.
 */
export { createRng, createLabeledRng, createTaggedRng, deriveSeed, type Rng } from './rng.js';
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
  type PublicRules,
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
export {
  STRATEGY_NAME_PATTERN,
  builtinMinerStrategy,
  builtinValidatorStrategy,
  createMinerStrategy,
  createValidatorStrategy,
  isStrategyModulePath,
  validateStrategyModule,
  type MinerBidContext,
  type MinerJobContext,
  type MinerStrategyInit,
  type MinerStrategyInstance,
  type MinerStrategyModule,
  type StrategyModule,
  type ValidatorStrategyInit,
  type ValidatorStrategyInstance,
  type ValidatorStrategyModule,
  type ValidatorTaskContext,
} from './strategy-module.js';
export {
  PRICE_PROCESS_DEFAULTS,
  checkPriceProcess,
  parsePriceSeries,
  pricePath,
  type PricePoint,
  type PriceProcessSpec,
} from './price-process.js';
export {
  PARTICIPATION_DEFAULTS,
  createParticipation,
  createPriceTrend,
  decideParticipation,
  expectedUsdProfitPerJobMicro,
  resolveParticipation,
  minerUsdCostMicro,
  churnEnabled,
  churnSettingsOf,
  type EconomicsCosts,
  type ParticipationMemory,
  type ParticipationSettings,
  type ProfitInputs,
} from './participation.js';
export { HYBRID_POLICIES, checkHybrid, hybridFallsBack, hybridFirstRoute, type HybridPolicy } from './hybrid-route.js';
export { OFFER_DEFAULTS, offerPrices, repricesAfterAssignment } from './offer-prices.js';
