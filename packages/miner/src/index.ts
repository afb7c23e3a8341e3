/**
 * @infermarket/miner — the miner process: connection and login, registration and stake, bidding,
 * execution on the inference runtime, token streaming, and the strategies (honest and adversarial).
 */
export { createMiner, type Miner, type MinerOptions, type MinerStats } from './miner.js';
export { createNodeConnection, type NodeConnection, type NodeConnectionOptions } from './connection.js';
export { createInferenceExecutor, fromWireTensor, toWireTensor, type Executor, type ExecRequest, type ExecToken, type InferenceExecutorOptions } from './executor.js';
export { planJob, fakeOutput, bidPrice, injectedDelay, type JobPlan, type StrategyConfig } from './strategy.js';
export { createCheatBandit, CHEAT_ARMS, type CheatBandit } from './bandit.js';
export { createNodeRng, type NodeRng } from './prng.js';
export { ensureRegistered, accountOf, httpUrlOf, nodeSocketUrl, type NodeSetup } from './setup.js';
