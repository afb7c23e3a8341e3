import { InfermarketError, MINER_STRATEGIES, VALIDATOR_STRATEGIES, type MinerStrategy, type ValidatorStrategy } from '@infermarket/protocol';
import { createLearner, type AdaptiveSettings, type JobOutcome, type Learner, type PublicRules } from './learner.js';
import { bidPrice, planJob, type JobPlan } from './miner-strategy.js';
import type { Rng } from './rng.js';
import { planTask, type TaskAction } from './validator-strategy.js';

/**
 * The strategy interface: what a miner or validator strategy decides, as one module shape that the
 * built-in strategies implement and that a user's module (`--strategy ./my-strategy.js`, or a scenario
 * group's `"strategy": "./my-strategy.js"`) implements the same way. The live miner and validator and
 * the simulator's agents only ever call a strategy through this interface; docs/strategies.md walks
 * through writing one.
 *
 * Determinism: every random choice must come from the `Rng` the caller passes (or `init.rng`); never
 * `Math.random()` or the clock. The same seed then gives the same decisions, live and simulated.
 */

/** What a miner knows when it decides its bid on an offered job. Amounts in micro-mUSD. */
export interface MinerBidContext {
  /** The job's model id. */
  model: string;
  /** The miner's configured base price for the model (`pricing.priceMicro`). */
  baseMicro: bigint;
  /** The configured random spread (± basis points; 0 = none). */
  spreadBps: number;
  /** The most the client pays for the job. */
  maxPriceMicro: bigint;
  /** The protocol's worst-case cost to the client of a bid at `priceMicro` (price + fees): a bid whose worst case exceeds `maxPriceMicro` is refused by the market. */
  worstCase: (priceMicro: bigint) => bigint;
}

/** What a miner knows when it plans an assigned job. */
export interface MinerJobContext {
  jobId: string;
  model: string;
  /** The price it won the job at (micro-mUSD). */
  priceMicro: bigint;
  /** The market's job deadline (`jobDeadlineMs`). */
  deadlineMs: number;
  /** Whether it holds an earlier output for this model (what a `replay` plan sends). */
  hasReplay: boolean;
}

/** What a miner strategy is created with: the group's knobs and its own random stream. */
export interface MinerStrategyInit {
  /** The variant the miner claims to the market. */
  variant: string;
  /** The group's `cheatProbability`, if set. */
  cheatProbability?: number;
  /** The group's `slowExtraMs`, if set. */
  slowExtraMs?: number;
  /** The scenario's `sim.adaptive` (learner settings), if set. */
  adaptive?: AdaptiveSettings;
  /** A random stream of this miner for the strategy's own state (the built-in `adaptive` learner draws from it). */
  rng: Rng;
  /** What the public rules say about its jobs (audit rate, detection, slash, jail), read when it decides; the `bayes` learner needs it. */
  rules?: () => PublicRules;
}

/** One miner's strategy, as `MinerStrategyModule.create` returns it. It may keep state (one per miner). */
export interface MinerStrategyInstance {
  /** The bid for an offered job, or null to not bid. Use `rng` for any random choice. */
  bidPrice(ctx: MinerBidContext, rng: Rng): bigint | null;
  /** How to handle an assigned job (`run`, `fake`, `replay`, `drop`; see `JobPlan`). Use `rng` for any random choice. */
  planJob(ctx: MinerJobContext, rng: Rng): JobPlan;
  /**
   * The learning hook: what became of a job it planned (settled, missed, slashed), once per job. Optional.
   * It may return details for the miner's `learned` log line (the built-in `adaptive` returns `{ level }`).
   */
  learn?(jobId: string, outcome: JobOutcome): Record<string, unknown> | void;
  /** A learner to show in reports (the built-in `adaptive` miner's); optional. */
  readonly learner?: Learner | null;
}

/** A miner strategy module: the shape of a user's `--strategy` module (`export default { role: 'miner', name, create }`). */
export interface MinerStrategyModule {
  readonly role: 'miner';
  /** Shown as the strategy in logs and reports; `^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`, not a built-in's name (for a user module). */
  readonly name: string;
  readonly description?: string;
  /** One strategy instance per miner. */
  create(init: MinerStrategyInit): MinerStrategyInstance;
}

/** What a validator knows about a task (an audit, or a dispute it referees). */
export interface ValidatorTaskContext {
  purpose: 'audit' | 'dispute';
  jobId: string;
  /** Whether the job's miner is one it colludes with (`colludeWith`). */
  minerIsPartner: boolean;
  /** Whether partners share their outputs out of band (the simulator's `sim.colludersVouch`), so a colluder can vouch. */
  partnerShares?: boolean;
}

/** What a validator strategy is created with. */
export interface ValidatorStrategyInit {
  /** A random stream of this validator for the strategy's own choices. */
  rng: Rng;
}

/** One validator's strategy. */
export interface ValidatorStrategyInstance {
  /** What to do with a task: `reexecute`, `cheap-claim` or `silent` (see `TaskAction`). */
  planTask(ctx: ValidatorTaskContext): TaskAction;
}

/** A validator strategy module (`export default { role: 'validator', name, create }`). */
export interface ValidatorStrategyModule {
  readonly role: 'validator';
  readonly name: string;
  readonly description?: string;
  create(init: ValidatorStrategyInit): ValidatorStrategyInstance;
}

export type StrategyModule = MinerStrategyModule | ValidatorStrategyModule;

/** A strategy's name: the pattern of a scenario group name, so it can label instances and reports. */
export const STRATEGY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const PLAN_KINDS = ['run', 'fake', 'replay', 'drop'] as const;
const TASK_ACTIONS: readonly TaskAction[] = ['reexecute', 'cheap-claim', 'silent', 'vouch'];

const MINER_SHAPE = "export default { role: 'miner', name: 'my-miner', create(init) { return { bidPrice(ctx, rng) {…}, planJob(ctx, rng) {…}, learn(jobId, outcome) {…} /* optional */ }; } }";
const VALIDATOR_SHAPE = "export default { role: 'validator', name: 'my-validator', create(init) { return { planTask(ctx) {…} }; } }";

function bad(source: string, what: string, shape: string): never {
  throw new InfermarketError('ERR_BAD_STRATEGY', `strategy module ${source}: ${what}; expected ${shape} (see docs/strategies.md)`, { details: { module: source } });
}

/** The built-in miner strategy `name` as a module: the same `bidPrice`/`planJob`/learner the agents define. */
export function builtinMinerStrategy(name: MinerStrategy): MinerStrategyModule {
  if (!(MINER_STRATEGIES as readonly string[]).includes(name)) bad(`"${name}"`, `not a built-in miner strategy (${MINER_STRATEGIES.join(', ')})`, MINER_SHAPE);
  return Object.freeze({
    role: 'miner' as const,
    name,
    create(init: MinerStrategyInit): MinerStrategyInstance {
      const cfg = {
        strategy: name,
        variant: init.variant,
        ...(init.cheatProbability !== undefined ? { cheatProbability: init.cheatProbability } : {}),
        ...(init.slowExtraMs !== undefined ? { slowExtraMs: init.slowExtraMs } : {}),
      };
      // the adaptive miner: one arm per planned job, taught that job's outcome once
      const learner = name === 'adaptive' ? createLearner(init.adaptive, init.rng, init.rules) : null;
      const arms = new Map<string, number>();
      return {
        learner,
        bidPrice: (ctx, rng) => bidPrice({ baseMicro: ctx.baseMicro, spreadBps: ctx.spreadBps, maxPriceMicro: ctx.maxPriceMicro, worstCase: ctx.worstCase, rng }),
        planJob(ctx, rng) {
          let adaptiveP: number | undefined;
          if (learner) {
            const arm = learner.choose();
            arms.set(ctx.jobId, arm);
            adaptiveP = learner.levels[arm]!;
          }
          return planJob(cfg, { deadlineMs: ctx.deadlineMs, hasReplay: ctx.hasReplay, ...(adaptiveP !== undefined ? { adaptiveP } : {}) }, rng);
        },
        learn(jobId, outcome) {
          const arm = arms.get(jobId);
          if (!learner || arm === undefined) return;
          arms.delete(jobId);
          const charge = learner.learn(arm, outcome);
          // reward: what the learner was charged (full cost: jail time, lost work, restaking)
          return { level: learner.levels[arm], reward: charge?.rewardMicro ?? null, ...(charge?.opportunityMicro ? { opportunityMicro: charge.opportunityMicro } : {}) };
        },
      };
    },
  });
}

/** The built-in validator strategy `name` as a module (the agents' `planTask`). */
export function builtinValidatorStrategy(name: ValidatorStrategy): ValidatorStrategyModule {
  if (!(VALIDATOR_STRATEGIES as readonly string[]).includes(name)) bad(`"${name}"`, `not a built-in validator strategy (${VALIDATOR_STRATEGIES.join(', ')})`, VALIDATOR_SHAPE);
  return Object.freeze({
    role: 'validator' as const,
    name,
    create: (): ValidatorStrategyInstance => ({ planTask: (ctx) => planTask(name, ctx) }),
  });
}

/**
 * Check that `value` (a module's default export, or its namespace) is a strategy module of `role`,
 * and return it typed. Pure; `loadStrategyModule` calls it after importing a file.
 * @throws InfermarketError `ERR_BAD_STRATEGY` naming `source`, the missing or invalid export and the expected shape.
 */
export function validateStrategyModule(value: unknown, source: string, role?: 'miner' | 'validator'): StrategyModule {
  const v = value as Partial<Record<'role' | 'name' | 'create', unknown>> | null;
  const shape = role === 'validator' ? VALIDATOR_SHAPE : MINER_SHAPE;
  if (!v || (typeof v !== 'object' && typeof v !== 'function')) bad(source, 'exports no strategy (no default export object)', shape);
  if (v.role !== 'miner' && v.role !== 'validator') bad(source, `export "role" must be "miner" or "validator", got ${JSON.stringify(v.role)}`, shape);
  const sh = v.role === 'validator' ? VALIDATOR_SHAPE : MINER_SHAPE;
  if (role && v.role !== role) bad(source, `is a ${v.role} strategy, but a ${role} strategy is needed here`, shape);
  if (typeof v.name !== 'string' || !STRATEGY_NAME_PATTERN.test(v.name)) bad(source, `export "name" must match ${STRATEGY_NAME_PATTERN}, got ${JSON.stringify(v.name)}`, sh);
  const builtins: readonly string[] = v.role === 'miner' ? MINER_STRATEGIES : VALIDATOR_STRATEGIES;
  if (builtins.includes(v.name)) bad(source, `export "name" ${JSON.stringify(v.name)} is a built-in strategy's name; choose another so reports can tell them apart`, sh);
  if (typeof v.create !== 'function') bad(source, `export "create" must be a function (init) => instance, got ${typeof v.create}`, sh);
  return v as unknown as StrategyModule;
}

/**
 * Create a miner's strategy from a module (built-in or user), checking what the module returns: the
 * instance's functions, and every bid and plan it makes (a malformed decision throws, naming the module).
 * The live miner and the simulator both create their strategies here.
 * @throws InfermarketError `ERR_BAD_STRATEGY` for a malformed instance or decision.
 */
export function createMinerStrategy(mod: MinerStrategyModule, init: MinerStrategyInit): MinerStrategyInstance & Required<Pick<MinerStrategyInstance, 'learn'>> {
  const inst = mod.create(init) as Partial<MinerStrategyInstance> | null;
  const src = `"${mod.name}"`;
  if (!inst || typeof inst !== 'object') bad(src, 'create(init) must return an object', MINER_SHAPE);
  for (const f of ['bidPrice', 'planJob'] as const) if (typeof inst[f] !== 'function') bad(src, `the instance create(init) returns has no function "${f}"`, MINER_SHAPE);
  if (inst.learn !== undefined && typeof inst.learn !== 'function') bad(src, 'the instance\'s "learn" must be a function when present', MINER_SHAPE);
  const i = inst as MinerStrategyInstance;
  return {
    learner: i.learner ?? null,
    bidPrice(ctx, rng) {
      const p = i.bidPrice(ctx, rng);
      if (p !== null && (typeof p !== 'bigint' || p < 1n)) bad(src, `bidPrice returned ${typeof p === 'bigint' ? p.toString() : JSON.stringify(p)}; it must return a bigint ≥ 1n (micro-mUSD) or null`, MINER_SHAPE);
      return p;
    },
    planJob(ctx, rng) {
      const plan = i.planJob(ctx, rng) as JobPlan | null;
      const ok =
        !!plan &&
        (PLAN_KINDS as readonly string[]).includes(plan.kind) &&
        (plan.kind === 'drop' || (Number.isFinite(plan.extraDelayMs) && plan.extraDelayMs >= 0)) &&
        (plan.kind !== 'run' || (typeof plan.variant === 'string' && plan.variant.length > 0));
      if (!ok) bad(src, `planJob returned ${JSON.stringify(plan)}; it must return { kind: 'run', variant, extraDelayMs } | { kind: 'fake' | 'replay', extraDelayMs } | { kind: 'drop' }`, MINER_SHAPE);
      return plan;
    },
    learn(jobId, outcome) {
      const details = i.learn?.(jobId, outcome);
      return details && typeof details === 'object' ? details : undefined;
    },
  };
}

/**
 * Create a validator's strategy from a module (built-in or user), checking each decision.
 * @throws InfermarketError `ERR_BAD_STRATEGY` for a malformed instance or decision.
 */
export function createValidatorStrategy(mod: ValidatorStrategyModule, init: ValidatorStrategyInit): ValidatorStrategyInstance {
  const inst = mod.create(init) as Partial<ValidatorStrategyInstance> | null;
  const src = `"${mod.name}"`;
  if (!inst || typeof inst.planTask !== 'function') bad(src, 'the instance create(init) returns has no function "planTask"', VALIDATOR_SHAPE);
  const i = inst as ValidatorStrategyInstance;
  return {
    planTask(ctx) {
      const a = i.planTask(ctx);
      if (!TASK_ACTIONS.includes(a)) bad(src, `planTask returned ${JSON.stringify(a)}; it must return one of ${TASK_ACTIONS.join(', ')}`, VALIDATOR_SHAPE);
      return a;
    },
  };
}

/** Whether a `--strategy` value or a scenario group's `strategy` names a module file (the scenario schema's rule). */
export { isStrategyModulePath } from '@infermarket/protocol';
