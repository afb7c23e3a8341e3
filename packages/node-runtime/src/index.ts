/**
 * @infermarket/node-runtime — what every node process stands on: the logged-in node socket
 * (`createNodeConnection`), registration, faucet and stake (`ensureRegistered`, `startNode`), and the
 * executor on the ONNX runtime. The miner and the validator are this runtime plus the agents' strategies.
 */
export { startNode, nodeRng, type Node, type NodeOptions } from './node.js';
export { createNodeConnection, type NodeConnection, type NodeConnectionOptions } from './connection.js';
export { createInferenceExecutor, fromWireTensor, toWireTensor, type Executor, type ExecRequest, type ExecToken, type InferenceExecutorOptions } from './executor.js';
export { traceMethods, type TraceMethods } from './trace-executor.js';
export { corruptedTrace, type LayerTrace } from './corrupt-trace.js';
export { ensureRegistered, accountOf, httpUrlOf, nodeSocketUrl, type NodeSetup } from './setup.js';
export { loadScenarioStrategies, loadStrategyModule } from './load-strategy.js';
