import { InfermarketError } from './errors.js';
import { paramsToJson, resolveParams, type Params } from './params.js';
import type { ClientGroup, MinerGroup, Scenario, StrategyModulePath, ValidatorGroup } from './scenario.js';
import type { MinerStrategy, ValidatorStrategy, VerificationLevel } from './types.js';

/**
 * Every default a scenario leaves open, in one place: the live testnet (`infermarket testnet`) and the
 * simulator read them from here through `resolveScenario`, so one scenario file means one economy.
 * Units are in the names (`Micro` = micro-mUSD). A node's stake defaults to its role's minimum
 * (`params.minMinerStakeMicro`, `params.minValidatorStakeMicro`), so it is not in this table.
 */
export const SCENARIO_DEFAULTS = Object.freeze({
  /** Miner bid price per job by model when the group gives no `pricing` (a charlm job costs ~4 digits jobs, heavy ~20). */
  minerPriceMicroByModel: Object.freeze({ digits: 1_000n, charlm: 4_000n, heavy: 20_000n } as Record<string, bigint>),
  /** Miner bid price per job for a model not in `minerPriceMicroByModel`. */
  minerPriceMicroOtherModel: 1_000n,
  minerSpreadBps: 0,
  minerConcurrency: 4,
  minerVariant: 'int8' as const,
  minerEp: Object.freeze(['cpu']) as readonly string[],
  minerThreads: 1,
  validatorThreads: 1,
  region: 'local',
  /** `flaky` miners drop this share of their jobs. */
  flakyDropProbability: 0.3,
  /** `lazy`, `downgrade` and `replay` cheat on every job. */
  cheatProbability: 1,
  /** `slow` miners add this fraction of `params.jobDeadlineMs` to every job. */
  slowExtraFractionOfDeadline: 2 / 3,
  /** Compute cost the `adaptive` miners count against their profit. */
  costPerCpuSecondMicro: 1_000n,
  /** A client's max price per job, for every model it asks for. */
  clientMaxPriceMicro: 100_000n,
  clientConcurrency: 16,
  clientGroupName: 'client',
  /** charlm tokens generated per job. */
  clientMaxTokens: 32,
  /** charlm sampling temperature: greedy. */
  clientTemperature: 0,
  /** How client jobs are checked (docs/verification.md). */
  clientVerification: 'sampled' as const,
  /** A miner's starting balance, stake included, is this many stakes (capped by `faucetCapMicro`): what it restakes from after a slash. */
  minerFundStakes: 10n,
  /** A validator's starting balance, stake included, in stakes (capped by `faucetCapMicro`). */
  validatorFundStakes: 2n,
});

/** One miner instance, every field decided. Amounts are decimal strings of micro-mUSD (JSON-safe). */
export interface ResolvedMiner {
  /** Instance name `${group}-${index}`, unique across every group and role of the scenario. */
  name: string;
  role: 'miner';
  group: string;
  /** Index of the group in `scenario.miners`, and of the instance in its group. */
  groupIndex: number;
  index: number;
  /** A built-in strategy, or a strategy module path (relative to the scenario file; docs/strategies.md). */
  strategy: MinerStrategy | StrategyModulePath;
  models: string[];
  variant: string;
  region: string;
  stakeMicro: string;
  /** Starting balance from the faucet, stake included (the sim and the live node take the same). */
  fundMicro: string;
  /** Bid price per job for every model it serves. */
  priceMicro: Record<string, string>;
  spreadBps: number;
  concurrency: number;
  latencyMs: number;
  jitterMs: number;
  ep: string[];
  threads: number;
  /** Chance to cheat on a job (`flaky`: to drop it); `adaptive` learns its own and starts from this. */
  cheatProbability: number;
  /** Extra execution delay of a `slow` miner (0 for the others). */
  slowExtraMs: number;
  costPerCpuSecondMicro: string;
  /** Label the node's key derives from (`seedFromLabel`); distinct for every instance. */
  keyLabel: string;
  /** Seed label of the instance's own random choices (jitter, spread, coin flips). */
  seedLabel: string;
}

/** One validator instance, every field decided. */
export interface ResolvedValidator {
  name: string;
  role: 'validator';
  group: string;
  groupIndex: number;
  index: number;
  strategy: ValidatorStrategy | StrategyModulePath;
  models: string[];
  region: string;
  stakeMicro: string;
  /** Starting balance from the faucet, stake included. */
  fundMicro: string;
  /** Miner instance names a `colluding` validator never reports. */
  colludeWith: string[];
  threads: number;
  keyLabel: string;
}

/** One client group, every field decided; its clients are `instances[i]` with key `keyLabels[i]`. */
export interface ResolvedClientGroup {
  group: string;
  groupIndex: number;
  instances: string[];
  keyLabels: string[];
  ratePerSec: number;
  /** Model mix weights (only positive weights). */
  models: Record<string, number>;
  /** Most a client pays per job, by model. */
  maxPriceMicro: Record<string, string>;
  concurrency: number;
  private: boolean;
  regions: string[];
  maxTokens: number;
  /** charlm sampling temperature (0 = greedy). */
  temperature: number;
  /** How its jobs are checked (`sampled`, `always`, `redundant`, `none`). */
  verification: VerificationLevel;
  /** Input rows per job (1 = not a batch job); `maxPriceMicro` is per row. */
  batchRows: number;
  seedLabel: string;
}

/** A scenario with every default applied: what both the testnet and the simulator run. Written into reports as `resolved`. */
export interface ResolvedScenario {
  version: 1;
  scenario: string;
  seed: number;
  durationMs: number;
  /** Every model named by the scenario (clients with a positive weight, miners, validators), sorted. */
  models: string[];
  /** Models the clients ask for, sorted: what a node serves when its group names no `models`. */
  clientModels: string[];
  /** The full protocol parameters (defaults plus the scenario's overrides). */
  params: Record<string, string | number>;
  miners: ResolvedMiner[];
  validators: ResolvedValidator[];
  clients: ResolvedClientGroup[];
}

/**
 * The one max price a client of the group puts on every job (the load generator and the simulated client take
 * one price): the largest of its per-model table.
 */
export function clientMaxPriceMicro(group: Pick<ResolvedClientGroup, 'maxPriceMicro'>): bigint {
  let max = 0n;
  for (const p of Object.values(group.maxPriceMicro)) if (BigInt(p) > max) max = BigInt(p);
  return max;
}

/** The key label of an instance: the scenario seed and its unique name (reproducible addresses). */
export function keyLabel(seed: number, name: string): string {
  return `testnet/${seed}/${name}`;
}

type Role = 'miners' | 'validators' | 'clients';

/**
 * Group names of a scenario, unique across all roles. An explicit `name` is kept (a duplicate is an
 * error); a group without one gets a derived name that collides with nothing: miners the strategy,
 * validators `validator` (honest) or `<strategy>-validator`, clients `client`, then `-2`, `-3`, ... until free.
 * Instance names are `${group}-${i}`: the part after the last `-` is the index, so distinct group names
 * give distinct instance names.
 * @throws InfermarketError `ERR_BAD_SCENARIO` naming the JSON path of an explicit duplicate.
 */
export function scenarioGroupNames(s: Pick<Scenario, 'miners' | 'validators' | 'clients'>): Record<Role, string[]> {
  const taken = new Map<string, string>();
  const roles: [Role, { name?: string }[]][] = [
    ['miners', s.miners],
    ['validators', s.validators],
    ['clients', s.clients],
  ];
  for (const [role, list] of roles) {
    list.forEach((g, i) => {
      if (g.name === undefined) return;
      const path = `${role}[${i}]`;
      const prev = taken.get(g.name);
      if (prev) {
        throw new InfermarketError('ERR_BAD_SCENARIO', `${path}.name "${g.name}" is already used by ${prev}; give each group a name no other group (of any role) uses`, {
          details: { field: `${path}.name` },
        });
      }
      taken.set(g.name, path);
    });
  }
  const out: Record<Role, string[]> = { miners: [], validators: [], clients: [] };
  const base = (role: Role, g: { strategy?: string }): string =>
    role === 'miners' ? g.strategy! : role === 'validators' ? (g.strategy === 'honest' ? 'validator' : `${g.strategy}-validator`) : SCENARIO_DEFAULTS.clientGroupName;
  for (const [role, list] of roles) {
    list.forEach((g, i) => {
      if (g.name !== undefined) return void (out[role][i] = g.name);
      const b = base(role, g as { strategy?: string });
      let name = b;
      for (let k = 2; taken.has(name); k++) name = `${b}-g${k}`;
      taken.set(name, `${role}[${i}]`);
      out[role][i] = name;
    });
  }
  return out;
}

const instanceNames = (group: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${group}-${i}`);

/** Sorted models the clients give a positive weight. */
function clientModelsOf(s: Scenario): string[] {
  const set = new Set<string>();
  for (const c of s.clients) for (const [m, w] of Object.entries(c.models)) if (w > 0) set.add(m);
  return [...set].sort();
}

function priceTable(g: MinerGroup, models: string[], path: string): Record<string, string> {
  const spec = g.pricing?.priceMicro;
  const out: Record<string, string> = {};
  for (const m of models) {
    const p = typeof spec === 'string' ? spec : spec?.[m];
    if (p !== undefined) out[m] = p;
    else if (spec !== undefined && typeof spec === 'object') {
      throw new InfermarketError('ERR_BAD_SCENARIO', `${path}.pricing.priceMicro gives no price for model "${m}", which the group serves; add "${m}" or give one price for all models`, {
        details: { field: `${path}.pricing.priceMicro` },
      });
    } else out[m] = String(SCENARIO_DEFAULTS.minerPriceMicroByModel[m] ?? SCENARIO_DEFAULTS.minerPriceMicroOtherModel);
  }
  return out;
}

/**
 * A client group's rows per job: `batchRows` (default 1), at most `maxBatchRows`; a batch needs a tensor model
 * (charlm generates one prompt at a time) and a public job (a sealed input cannot be split into rows).
 * @throws InfermarketError `ERR_BAD_SCENARIO` naming `<path>.batchRows`.
 */
function batchRowsOf(c: ClientGroup, path: string, maxBatchRows: number, models: string[]): number {
  const rows = c.batchRows ?? 1;
  const bad = (why: string): never => {
    throw new InfermarketError('ERR_BAD_SCENARIO', `${path}.batchRows ${rows} ${why}`, { details: { field: `${path}.batchRows` } });
  };
  if (rows > maxBatchRows) bad(`exceeds params.maxBatchRows ${maxBatchRows}; lower it or raise maxBatchRows`);
  if (rows > 1 && c.private === true) bad('cannot be used with "private": true (a sealed input cannot be split into rows for a sampled audit); use 1');
  if (rows > 1 && models.includes('charlm')) bad('cannot be used with model "charlm" (autoregressive: one prompt a job); give the batch group tensor models only');
  return rows;
}

/**
 * Resolve a parsed scenario against the protocol defaults: every node instance with its unique name,
 * role, group, strategy, stake, price per model, region, models and key label; every client group with
 * its max price per model; the seeds; the full parameters. Pure and deterministic. The testnet planner
 * and the simulator both consume this, and every report records it.
 * @throws InfermarketError `ERR_BAD_SCENARIO` naming the JSON path (duplicate group name, a per-model price
 *   missing for a served model, a collusion partner that is not a miner, a group with no models to serve).
 * @example const plan = resolveScenario(parseScenario(json)); plan.miners[0].priceMicro.digits
 */
export function resolveScenario(s: Scenario): ResolvedScenario {
  const P: Params = resolveParams(s.params ?? {});
  const names = scenarioGroupNames(s);
  const clientModels = clientModelsOf(s);
  const all = new Set(clientModels);
  for (const g of [...s.miners, ...s.validators]) for (const m of g.models ?? []) all.add(m);
  // a stake below the role's minimum is allowed (a node that cannot bid or audit is a valid experiment)
  const stakeOf = (g: MinerGroup | ValidatorGroup, min: bigint): string => (g.stakeMicro !== undefined ? BigInt(g.stakeMicro) : min).toString();
  const fundOf = (stake: string, stakes: bigint): string => {
    const want = BigInt(stake) * stakes;
    return (want < P.faucetCapMicro ? want : P.faucetCapMicro).toString();
  };
  const modelsOf = (g: MinerGroup | ValidatorGroup, path: string): string[] => {
    const models = g.models ?? clientModels;
    if (models.length === 0 && g.count > 0) {
      throw new InfermarketError('ERR_BAD_SCENARIO', `${path}.models is missing and no client asks for a model; name the models the group serves`, { details: { field: `${path}.models` } });
    }
    return models;
  };
  const miners: ResolvedMiner[] = s.miners.flatMap((g, gi) => {
    const path = `miners[${gi}]`;
    const models = modelsOf(g, path);
    const priceMicro = priceTable(g, models, path);
    const stakeMicro = stakeOf(g, P.minMinerStakeMicro);
    const cheat = g.cheatProbability ?? (g.strategy === 'flaky' ? SCENARIO_DEFAULTS.flakyDropProbability : SCENARIO_DEFAULTS.cheatProbability);
    return instanceNames(names.miners[gi]!, g.count).map((name, i) => ({
      name,
      role: 'miner' as const,
      group: names.miners[gi]!,
      groupIndex: gi,
      index: i,
      strategy: g.strategy,
      models: [...models],
      variant: g.variant ?? SCENARIO_DEFAULTS.minerVariant,
      region: g.region ?? SCENARIO_DEFAULTS.region,
      stakeMicro,
      fundMicro: fundOf(stakeMicro, SCENARIO_DEFAULTS.minerFundStakes),
      priceMicro: { ...priceMicro },
      spreadBps: g.pricing?.spreadBps ?? SCENARIO_DEFAULTS.minerSpreadBps,
      concurrency: g.concurrency ?? SCENARIO_DEFAULTS.minerConcurrency,
      latencyMs: g.latencyMs ?? 0,
      jitterMs: g.jitterMs ?? 0,
      ep: [...(g.ep ?? SCENARIO_DEFAULTS.minerEp)],
      threads: g.threads ?? SCENARIO_DEFAULTS.minerThreads,
      cheatProbability: cheat,
      slowExtraMs: g.strategy === 'slow' ? (g.slowExtraMs ?? Math.round(P.jobDeadlineMs * SCENARIO_DEFAULTS.slowExtraFractionOfDeadline)) : (g.slowExtraMs ?? 0),
      costPerCpuSecondMicro: s.sim?.costPerCpuSecondMicro ?? SCENARIO_DEFAULTS.costPerCpuSecondMicro.toString(),
      keyLabel: keyLabel(s.seed, name),
      seedLabel: `${s.seed}/${gi}/${i}`,
    }));
  });
  const minerNames = miners.map((m) => m.name);
  const validators: ResolvedValidator[] = s.validators.flatMap((g, gi) => {
    const path = `validators[${gi}]`;
    const stakeMicro = stakeOf(g, P.minValidatorStakeMicro);
    (g.colludeWith ?? []).forEach((n, j) => {
      if (!minerNames.includes(n)) {
        throw new InfermarketError('ERR_BAD_SCENARIO', `${path}.colludeWith[${j}] "${n}" is not a miner instance; miners are ${minerNames.slice(0, 8).join(', ') || 'none'}`, {
          details: { field: `${path}.colludeWith[${j}]` },
        });
      }
    });
    return instanceNames(names.validators[gi]!, g.count).map((name, i) => ({
      name,
      role: 'validator' as const,
      group: names.validators[gi]!,
      groupIndex: gi,
      index: i,
      strategy: g.strategy,
      models: [...modelsOf(g, path)],
      region: g.region ?? SCENARIO_DEFAULTS.region,
      stakeMicro,
      fundMicro: fundOf(stakeMicro, SCENARIO_DEFAULTS.validatorFundStakes),
      colludeWith: [...(g.colludeWith ?? [])],
      threads: g.threads ?? SCENARIO_DEFAULTS.validatorThreads,
      keyLabel: keyLabel(s.seed, name),
    }));
  });
  const clients: ResolvedClientGroup[] = s.clients.map((c: ClientGroup, gi) => {
    const group = names.clients[gi]!;
    const instances = instanceNames(group, c.count);
    const models = Object.fromEntries(Object.entries(c.models).filter(([, w]) => w > 0));
    const max = c.maxPriceMicro ?? SCENARIO_DEFAULTS.clientMaxPriceMicro.toString();
    return {
      group,
      groupIndex: gi,
      instances,
      keyLabels: instances.map((n) => keyLabel(s.seed, n)),
      ratePerSec: c.ratePerSec,
      models,
      maxPriceMicro: Object.fromEntries(Object.keys(models).map((m) => [m, max])),
      concurrency: c.concurrency ?? SCENARIO_DEFAULTS.clientConcurrency,
      private: c.private === true,
      regions: [...(c.regions ?? [])],
      maxTokens: c.maxTokens ?? SCENARIO_DEFAULTS.clientMaxTokens,
      temperature: c.temperature ?? SCENARIO_DEFAULTS.clientTemperature,
      verification: c.verification ?? SCENARIO_DEFAULTS.clientVerification,
      batchRows: batchRowsOf(c, `clients[${gi}]`, P.maxBatchRows, Object.keys(models)),
      seedLabel: `${s.seed}${gi ? `/${gi}` : ''}`,
    };
  });
  return {
    version: 1,
    scenario: s.name,
    seed: s.seed,
    durationMs: s.durationMs,
    models: [...all].sort(),
    clientModels,
    params: paramsToJson(P),
    miners,
    validators,
    clients,
  };
}
