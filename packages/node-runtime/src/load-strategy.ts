import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InfermarketError, type Scenario } from '@infermarket/protocol';
import { isStrategyModulePath, validateStrategyModule, type MinerStrategyModule, type StrategyModule, type ValidatorStrategyModule } from '@infermarket/agents';

/**
 * Loading a user's strategy module from a file — I/O, so it lives here and not in the pure
 * `@infermarket/agents` (which defines the interface and checks the shape: `validateStrategyModule`).
 * The live CLI (`--strategy ./x.js`), the testnet and the simulator's CLI all load modules here.
 */

/**
 * Import the ES module at `path` (resolved against `baseDir`, default the working directory) and check
 * it is a strategy module (of `role`, when given): its default export, or else its named exports
 * `role`, `name` and `create`.
 * @throws InfermarketError `ERR_BAD_STRATEGY` naming the path: missing file, import failure, or the
 *   missing/invalid export with the expected shape.
 * @example const mod = await loadStrategyModule('./examples/strategies/cautious-miner.js', { role: 'miner' });
 */
export async function loadStrategyModule(path: string, opts: { role: 'miner'; baseDir?: string }): Promise<MinerStrategyModule>;
export async function loadStrategyModule(path: string, opts: { role: 'validator'; baseDir?: string }): Promise<ValidatorStrategyModule>;
export async function loadStrategyModule(path: string, opts?: { role?: 'miner' | 'validator'; baseDir?: string }): Promise<StrategyModule>;
export async function loadStrategyModule(path: string, opts: { role?: 'miner' | 'validator'; baseDir?: string } = {}): Promise<StrategyModule> {
  const file = isAbsolute(path) ? path : resolve(opts.baseDir ?? process.cwd(), path);
  if (!existsSync(file)) throw new InfermarketError('ERR_BAD_STRATEGY', `strategy module ${path}: no such file (${file}); pass a path to an ES module (.js/.mjs), e.g. --strategy ./my-strategy.js`, { details: { module: path } });
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new InfermarketError('ERR_BAD_STRATEGY', `strategy module ${path}: cannot be imported: ${(e as Error).message}`, { details: { module: path }, cause: e });
  }
  const value = ns.default !== undefined ? ns.default : ns.create !== undefined ? ns : undefined;
  return validateStrategyModule(value, path, opts.role);
}

/**
 * A scenario's strategy modules: every miner and validator group whose `strategy` is a module path,
 * loaded (paths relative to `baseDir`, the scenario file's directory). Keyed by the path as the
 * scenario writes it; `runSimulation` takes the map as `strategyModules`.
 * @throws InfermarketError `ERR_BAD_STRATEGY` for a module that cannot be loaded or has the wrong shape.
 */
export async function loadScenarioStrategies(scenario: Scenario, baseDir: string): Promise<Map<string, StrategyModule>> {
  const out = new Map<string, StrategyModule>();
  const groups: ['miner' | 'validator', { strategy: string }[]][] = [
    ['miner', scenario.miners],
    ['validator', scenario.validators],
  ];
  for (const [role, list] of groups) {
    for (const g of list) {
      if (!isStrategyModulePath(g.strategy) || out.has(g.strategy)) continue;
      out.set(g.strategy, await loadStrategyModule(g.strategy, { role, baseDir }));
    }
  }
  return out;
}
