import { InfermarketError } from './errors.js';
import { resolveParams } from './params.js';
import { resolveScenario, scenarioGroupNames } from './resolve-scenario.js';
import type { Scenario } from './scenario.js';
import { ADAPTIVE_LEARNERS, MINER_STRATEGIES, VALIDATOR_STRATEGIES } from './types.js';

/** The subset of JSON Schema (draft 2020-12) that `SCENARIO_SCHEMA` uses and `parseScenario` interprets. */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | ('string' | 'number' | 'integer')[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: readonly (string | number)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  anyOf?: JsonSchema[];
}

const AMOUNT: JsonSchema = { type: 'string', pattern: '^[0-9]+$', description: 'Amount in micro-mUSD as a decimal string.' };
const MS: JsonSchema = { type: 'integer', minimum: 0, maximum: 7 * 24 * 3600 * 1000 };
const NAME: JsonSchema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$' };
const REGION: JsonSchema = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' };
const MODEL: JsonSchema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' };
const FRACTION: JsonSchema = { type: 'number', minimum: 0, maximum: 1 };
/** A strategy module file, relative to the scenario file (or absolute): a user's strategy (docs/strategies.md). */
const MODULE_PATH: JsonSchema = { type: 'string', pattern: '^(\\.\\.?/|/).+\\.m?js$', description: 'Path of a strategy module (.js/.mjs), relative to the scenario file; see docs/strategies.md.' };
const VARIANT: JsonSchema = { type: 'string', enum: ['fp32', 'fp16', 'int8', 'int4'] };

const obj = (properties: Record<string, JsonSchema>, required: string[] = [], description?: string): JsonSchema => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
  required,
  additionalProperties: false,
});

/**
 * JSON Schema of a scenario file (also in `scenarios/scenario.schema.json`). Unknown fields are rejected.
 * `parseScenario` interprets it and adds what JSON Schema cannot say (protocol parameter ranges, names unique).
 */
export const SCENARIO_SCHEMA: JsonSchema = Object.freeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://infermarket.dev/scenario.schema.json',
  title: 'infermarket scenario',
  ...obj(
    {
      name: { ...NAME, description: 'Short name, used in reports.' },
      description: { type: 'string' },
      seed: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Master seed of every random choice.' },
      durationMs: { type: 'integer', minimum: 1, maximum: 365 * 24 * 3600 * 1000, description: 'Run length (virtual in the simulator).' },
      params: { type: 'object', additionalProperties: { type: ['number', 'string'] }, description: 'Protocol parameter overrides.' },
      miners: {
        type: 'array',
        items: obj(
          {
            name: NAME,
            count: { type: 'integer', minimum: 0, maximum: 10_000 },
            strategy: { anyOf: [{ type: 'string', enum: MINER_STRATEGIES }, MODULE_PATH] },
            models: { type: 'array', items: MODEL, minItems: 1 },
            variant: VARIANT,
            ep: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9_-]{1,32}$' }, minItems: 1 },
            cpu: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'Live testnet: emulated x86-64 CPU model for qemu-x86_64 -cpu (needs qemu-user).' },
            threads: { type: 'integer', minimum: 1, maximum: 256 },
            latencyMs: MS,
            jitterMs: MS,
            stakeMicro: AMOUNT,
            pricing: obj(
              {
                priceMicro: { anyOf: [AMOUNT, { type: 'object', additionalProperties: AMOUNT }] },
                spreadBps: { type: 'integer', minimum: 0, maximum: 10_000 },
              },
              ['priceMicro'],
            ),
            region: REGION,
            concurrency: { type: 'integer', minimum: 1, maximum: 10_000 },
            cheatProbability: FRACTION,
            slowExtraMs: MS,
          },
          ['count', 'strategy'],
        ),
      },
      validators: {
        type: 'array',
        items: obj(
          {
            name: NAME,
            count: { type: 'integer', minimum: 0, maximum: 10_000 },
            strategy: { anyOf: [{ type: 'string', enum: VALIDATOR_STRATEGIES }, MODULE_PATH] },
            models: { type: 'array', items: MODEL, minItems: 1 },
            stakeMicro: AMOUNT,
            region: REGION,
            colludeWith: { type: 'array', items: { type: 'string', minLength: 1 } },
            threads: { type: 'integer', minimum: 1, maximum: 256 },
          },
          ['count', 'strategy'],
        ),
      },
      clients: {
        type: 'array',
        items: obj(
          {
            name: NAME,
            count: { type: 'integer', minimum: 0, maximum: 100_000 },
            ratePerSec: { type: 'number', minimum: 0, maximum: 1_000_000 },
            models: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
            maxPriceMicro: AMOUNT,
            concurrency: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            private: { type: 'boolean' },
            regions: { type: 'array', items: REGION },
            maxTokens: { type: 'integer', minimum: 1, maximum: 4096 },
            temperature: { type: 'number', minimum: 0, maximum: 10, description: 'charlm sampling temperature; 0 = greedy (default).' },
            verification: { type: 'string', enum: ['sampled', 'always', 'redundant', 'none'] },
            batchRows: { type: 'integer', minimum: 1, maximum: 4096, description: 'Batch jobs: input rows per job (default 1, at most params.maxBatchRows); maxPriceMicro is per row. Not with private or charlm.' },
            hybrid: obj(
              {
                policy: { type: 'string', enum: ['split', 'fallback'] },
                fallbackAfterMs: MS,
                cloudPriceMicro: AMOUNT,
                cloudLatencyMs: MS,
                latencySensitiveModels: { type: 'array', items: MODEL },
              },
              ['policy'],
              'Route between the market and a centralized baseline: on the testnet the SDK hybrid client against an infermarket cloud it starts, in the simulator a modelled baseline (fixed price and latency); docs/economics.md.',
            ),
          },
          ['count', 'ratePerSec', 'models'],
        ),
      },
      faults: {
        type: 'array',
        items: obj(
          {
            atMs: MS,
            action: { type: 'string', enum: ['kill', 'restart', 'partition', 'heal'] },
            target: { type: 'string', minLength: 1 },
            restartAfterMs: MS,
          },
          ['atMs', 'action', 'target'],
        ),
      },
      testnet: obj({ port: { type: 'integer', minimum: 0, maximum: 65_535 }, tls: { type: 'boolean' }, dashboard: { type: 'boolean' } }),
      sim: obj({
        costPerCpuSecondMicro: AMOUNT,
        networkLatencyMs: { type: 'number', minimum: 0, maximum: 600_000 },
        networkJitterMs: { type: 'number', minimum: 0, maximum: 600_000 },
        churnMtbfMs: { type: 'number', minimum: 0 },
        churnDowntimeMs: { type: 'number', minimum: 0 },
        checkInvariants: { type: 'boolean' },
        honestDivergenceRate: FRACTION,
        downgradeMismatchRate: FRACTION,
        computeMsPerJob: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
        seriesPoints: { type: 'integer', minimum: 2, maximum: 10_000 },
        rejoinEjected: { type: 'boolean' },
        colludersVouch: { type: 'boolean' },
        adaptive: obj({
          learner: { type: 'string', enum: ADAPTIVE_LEARNERS },
          cheatLevels: { type: 'array', items: FRACTION, minItems: 1 },
          epsilon: FRACTION,
          decay: FRACTION,
          restakeCostBps: { type: 'integer', minimum: 0, maximum: 10_000 },
        }),
      }),
      economics: obj(
        {
          oracle: obj(
            {
              kind: { type: 'string', enum: ['gbm', 'series'] },
              startPriceMicro: { type: 'integer', minimum: 1, maximum: 1e15 },
              driftPerHour: { type: 'number', minimum: -100, maximum: 100 },
              volatilityPerSqrtHour: { type: 'number', minimum: 0, maximum: 100 },
              stepMs: { type: 'integer', minimum: 10, maximum: 7 * 24 * 3600 * 1000 },
              jumpsPerHour: { type: 'number', minimum: 0, maximum: 10_000 },
              jumpMeanLog: { type: 'number', minimum: -20, maximum: 20 },
              jumpStdLog: { type: 'number', minimum: 0, maximum: 20 },
              points: { type: 'array', items: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2 }, minItems: 1 },
              file: { type: 'string', minLength: 1, description: 'Price series file (atMs,priceMicro lines or JSON pairs), relative to the scenario file.' },
            },
            ['kind'],
            'The market\'s own IMT price process (the only source of oracle.price).',
          ),
          clientImtMicro: { ...AMOUNT, description: 'IMT (micro) each client buys at the start price.' },
          minerCostUsdMicroPerComputeSecond: { type: 'number', minimum: 0, maximum: 1e12 },
          minerCostByGroup: { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1e12 } },
          churn: obj({
            enabled: { type: 'boolean' },
            checkEveryMs: { type: 'integer', minimum: 1, maximum: 7 * 24 * 3600 * 1000 },
            checksToLeave: { type: 'integer', minimum: 1, maximum: 10_000 },
            checksToReturn: { type: 'integer', minimum: 1, maximum: 10_000 },
            minDwellMs: MS,
            holdMs: MS,
            trendHalfLifeMs: MS,
          }),
          budgetUsdMicroPer1000Jobs: { type: 'number', minimum: 0 },
          windowMs: { type: 'integer', minimum: 1, maximum: 7 * 24 * 3600 * 1000 },
        },
        [],
        'Reward token oracle, miners\' USD costs and price-driven churn (simulator and testnet; docs/economics.md).',
      ),
    },
    ['name', 'seed', 'durationMs', 'miners', 'validators', 'clients'],
  ),
} satisfies JsonSchema);

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && Number.isInteger(v)) return 'integer';
  return typeof v;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

/** Errors of `value` against `schema`, each as "<path> <what is wrong>"; the first is what matters most. */
export function validateAgainstSchema(schema: JsonSchema, value: unknown, path = ''): string[] {
  const at = path || '(root)';
  if (schema.anyOf) {
    const all = schema.anyOf.map((s) => validateAgainstSchema(s, value, path));
    if (all.some((e) => e.length === 0)) return [];
    return [`${at} must be ${schema.anyOf.map((s) => describeType(s)).join(' or ')}, got ${show(value)}`];
  }
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = typeOf(value);
    const ok = types.some((want) => want === t || (want === 'number' && t === 'integer'));
    if (!ok) return [`${at} must be ${describeType(schema)}, got ${show(value)}`];
  }
  if (schema.enum && !schema.enum.includes(value as string | number)) {
    return [`${at} must be one of ${schema.enum.join(', ')}, got ${show(value)}`];
  }
  const errors: string[] = [];
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return [`${at} must be a finite number, got ${show(value)}`];
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at} must be ≥ ${schema.minimum}, got ${value}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at} must be ≤ ${schema.maximum}, got ${value}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at} must have at least ${schema.minLength} characters, got ${show(value)}`);
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) errors.push(`${at} must match ${schema.pattern}${schema.description ? ` (${schema.description})` : ''}, got ${show(value)}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${at} must have at least ${schema.minItems} item(s), got ${value.length}`);
    if (schema.items) value.forEach((item, i) => errors.push(...validateAgainstSchema(schema.items!, item, join(path, i))));
  }
  if (typeOf(value) === 'object') {
    const o = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (o[key] === undefined) errors.push(`${join(path, key)} is required`);
    }
    for (const [key, v] of Object.entries(o)) {
      const sub = schema.properties?.[key];
      if (sub) errors.push(...validateAgainstSchema(sub, v, join(path, key)));
      else if (schema.additionalProperties === false) {
        const known = Object.keys(schema.properties ?? {});
        errors.push(`${join(path, key)} is not a known field${known.length ? `; known fields: ${known.join(', ')}` : ''}`);
      } else if (typeof schema.additionalProperties === 'object') errors.push(...validateAgainstSchema(schema.additionalProperties, v, join(path, key)));
    }
  }
  return errors;
}

function describeType(s: JsonSchema): string {
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ['a value'];
  const words = types.map((t) => (t === 'integer' ? 'an integer' : t === 'object' ? 'an object' : t === 'array' ? 'an array' : `a ${t}`));
  const base = words.join(' or ');
  if (s.pattern === AMOUNT.pattern) return 'a decimal string amount in micro-mUSD';
  if (s.pattern === MODULE_PATH.pattern) return 'a strategy module path like "./my-strategy.js"';
  return base;
}

const MODULE_PATH_RE = new RegExp(MODULE_PATH.pattern!);

/**
 * Whether a scenario group's `strategy` (or a node's `--strategy`) names a strategy module file rather
 * than a built-in: starts with `./`, `../` or `/` and ends in `.js`/`.mjs` (docs/strategies.md).
 */
export function isStrategyModulePath(strategy: string): boolean {
  return MODULE_PATH_RE.test(strategy);
}

function bad(message: string, path: string): never {
  throw new InfermarketError('ERR_BAD_SCENARIO', message, { details: { field: path } });
}

/** Options of `parseScenario`. */
export interface ParseScenarioOptions {
  /**
   * Model ids that exist (e.g. the keys of `models/manifest.json`); a scenario naming another model in a
   * miner, validator or client group is `ERR_BAD_SCENARIO`. Absent: model ids are only checked for shape
   * (the parse stays pure; the CLI passes the manifest's ids).
   */
  knownModels?: readonly string[];
}

/**
 * Validate a parsed scenario file against `SCENARIO_SCHEMA` plus the protocol's parameter rules, and return it typed.
 * The input is not modified; the result is a deep copy.
 * Group names must be unique across all roles (`miners[1].name "x" is already used by validators[0]`);
 * groups without a name get derived names that never collide (see `scenarioGroupNames`).
 * @throws InfermarketError `ERR_BAD_SCENARIO` whose message starts with the JSON path, e.g.
 *   `miners[1].strategy must be one of honest, lazy, ... got "lazzy"`; `details.field` is the path.
 * @example const scenario = parseScenario(JSON.parse(readFileSync('scenarios/quickstart.json', 'utf8')));
 */
export function parseScenario(json: unknown, options: ParseScenarioOptions = {}): Scenario {
  const errors = validateAgainstSchema(SCENARIO_SCHEMA, json);
  if (errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more: ${errors.slice(1, 4).join('; ')})` : '';
    bad(`${first}${more}`, first.split(' ')[0]!);
  }
  const s = structuredClone(json) as Scenario;
  if (s.params) {
    try {
      resolveParams(s.params);
    } catch (e) {
      const field = e instanceof InfermarketError && typeof e.details?.field === 'string' ? e.details.field : '';
      const path = field ? join('params', field) : 'params';
      bad(`${path}: ${(e as Error).message}`, path);
    }
  }
  // a module group needs a name: instances are called `${name}-${i}`, and a path makes a poor one
  for (const [kind, list] of [['miners', s.miners], ['validators', s.validators]] as const) {
    list.forEach((g: { name?: string; strategy?: string }, i: number) => {
      if (g.name === undefined && g.strategy !== undefined && isStrategyModulePath(g.strategy)) bad(`${kind}[${i}].name is required when strategy is a module path (${g.strategy}); instances are named "<name>-<i>"`, `${kind}[${i}].name`);
    });
  }
  // group names unique across every role (derived ones never collide): instance names, keys, logs and addresses follow
  const groupNames = scenarioGroupNames(s);
  s.clients.forEach((c, i) => {
    const weights = Object.values(c.models);
    if (weights.length === 0 || !weights.some((w) => w > 0)) bad(`clients[${i}].models must give at least one model a positive weight`, `clients[${i}].models`);
  });
  // cross-references name node instances: `${group name}-${index}`
  const instances = (list: { count: number }[], names: string[]): string[] => list.flatMap((g, gi) => Array.from({ length: g.count }, (_, i) => `${names[gi]}-${i}`));
  const minerNames = instances(s.miners, groupNames.miners);
  const nodeNames = new Set([...minerNames, ...instances(s.validators, groupNames.validators)]);
  const sample = (names: Iterable<string>): string => [...names].slice(0, 8).join(', ') || 'none';
  if (options.knownModels) {
    const known = new Set(options.knownModels);
    const check = (m: string, path: string): void => {
      if (!known.has(m)) bad(`${path} "${m}" is not a known model; known models are ${[...known].join(', ')}`, path);
    };
    s.miners.forEach((g, i) => (g.models ?? []).forEach((m, j) => check(m, `miners[${i}].models[${j}]`)));
    s.validators.forEach((g, i) => (g.models ?? []).forEach((m, j) => check(m, `validators[${i}].models[${j}]`)));
    s.clients.forEach((c, i) => Object.keys(c.models).forEach((m) => check(m, join(`clients[${i}].models`, m))));
  }
  s.validators.forEach((v, i) => {
    (v.colludeWith ?? []).forEach((n, j) => {
      if (!minerNames.includes(n)) bad(`validators[${i}].colludeWith[${j}] "${n}" is not a miner instance; miners are ${sample(minerNames)}`, `validators[${i}].colludeWith[${j}]`);
    });
  });
  (s.faults ?? []).forEach((f, i) => {
    if (f.target !== 'market' && !nodeNames.has(f.target)) {
      bad(`faults[${i}].target "${f.target}" is not "market" or a node instance; nodes are ${sample(nodeNames)}`, `faults[${i}].target`);
    }
  });
  // what only resolving can tell (a served model without a price, a stake below the role's minimum)
  resolveScenario(s);
  return s;
}
