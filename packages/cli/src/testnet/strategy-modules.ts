import { dirname, isAbsolute, resolve } from 'node:path';
import { loadScenarioStrategies, type MinerStrategyModule, type ValidatorStrategyModule } from '@infermarket/miner';
import type { Scenario } from '@infermarket/protocol';
import type { TestnetPlan } from './plan.js';

/**
 * A scenario's strategy modules on the testnet: load every group's module (paths relative to the
 * scenario file) before any process starts, so a bad module fails the run at once, naming it; then
 * point each planned node's `--strategy` at the module's absolute path (the node processes run from
 * another directory) and label the node with the module's declared name, which the report shows.
 * @throws InfermarketError `ERR_BAD_STRATEGY` naming the module path.
 */
export async function applyStrategyModules(scenario: Scenario, scenarioPath: string, plan: TestnetPlan): Promise<void> {
  const baseDir = dirname(resolve(scenarioPath));
  const modules = await loadScenarioStrategies(scenario, baseDir);
  if (modules.size === 0) return;
  for (const n of plan.nodes) {
    const mod: MinerStrategyModule | ValidatorStrategyModule | undefined = modules.get(n.strategy);
    if (!mod) continue;
    const i = n.args.indexOf('--strategy');
    if (i >= 0 && n.args[i + 1] === n.strategy) n.args[i + 1] = isAbsolute(n.strategy) ? n.strategy : resolve(baseDir, n.strategy);
    n.strategy = mod.name;
  }
}

/** The simulator's view of the same modules: loaded relative to the scenario file, for `runSimulation`'s `strategyModules`. */
export function scenarioStrategies(scenario: Scenario, scenarioPath: string): ReturnType<typeof loadScenarioStrategies> {
  return loadScenarioStrategies(scenario, dirname(resolve(scenarioPath)));
}
