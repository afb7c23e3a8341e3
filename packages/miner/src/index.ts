/**
 * @infermarket/miner — the miner process: the node runtime (`@infermarket/node-runtime`: connection,
 * login, registration, stake, executor) plus the agents' miner strategies (`@infermarket/agents`:
 * bidding, the plan of each job, the adaptive learner), token streaming and signed commits.
 */
export { createMiner, type Miner, type MinerOptions, type MinerStats } from './miner.js';
export { fakeOutput } from './fake-output.js';
export { createMinerChurn, type MinerChurn, type ChurnOptions } from './participation-live.js';
export type { AdaptiveSettings } from '@infermarket/agents';
// the runtime pieces the miner's users have always imported from here
export {
  createInferenceExecutor,
  createNodeConnection,
  ensureRegistered,
  fromWireTensor,
  httpUrlOf,
  nodeSocketUrl,
  toWireTensor,
  type ExecRequest,
  type ExecToken,
  type Executor,
  type InferenceExecutorOptions,
  type NodeConnection,
} from '@infermarket/node-runtime';
// user strategy modules (`--strategy ./my-strategy.js`): the loader and its shapes, for the CLI
export { isStrategyModulePath, type MinerStrategyModule, type ValidatorStrategyModule } from '@infermarket/agents';
export { loadScenarioStrategies, loadStrategyModule } from '@infermarket/node-runtime';
