import { InfermarketError, type Scenario } from '@infermarket/protocol';
import { applyOverrides } from './overrides.js';
import { deriveSeed } from './rng.js';

/** One swept name and its values, e.g. `auditRate=0.01,0.05,0.1`. */
export interface SweepParam {
  name: string;
  values: (string | number)[];
}

/** What a sweep runs: grid (every combination) or zip (the i-th value of every parameter together). */
export interface SweepPlanOptions {
  scenario: Scenario;
  params: SweepParam[];
  mode: 'grid' | 'zip';
  /** Monte Carlo runs per point. */
  seeds: number;
  /** Master seed; per-run seeds derive from it (default the scenario's seed). */
  masterSeed?: number;
}

export interface SweepPoint {
  index: number;
  values: Record<string, string | number>;
}

export interface SweepRun {
  /** Stable identity of the run, used by --resume and merge: point values and seed index. */
  key: string;
  index: number;
  point: number;
  seedIndex: number;
  runSeed: number;
  overrides: Record<string, string | number>;
}

export interface SweepPlan {
  mode: 'grid' | 'zip';
  masterSeed: number;
  seeds: number;
  params: SweepParam[];
  points: SweepPoint[];
  runs: SweepRun[];
}

function bad(field: string, message: string): never {
  throw new InfermarketError('ERR_VALIDATION', message, { details: { field } });
}

/**
 * Parse `NAME=V1,V2,...` (numbers stay numbers; `a:b:step` expands a numeric range, inclusive).
 * @throws InfermarketError `ERR_VALIDATION` naming `--param`.
 */
export function parseSweepParam(spec: string): SweepParam {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) bad('--param', `--param must look like NAME=V1,V2,... got ${JSON.stringify(spec)}`);
  const name = spec.slice(0, eq).trim();
  const values: (string | number)[] = [];
  for (const raw of spec.slice(eq + 1).split(',')) {
    const v = raw.trim();
    if (v === '') bad('--param', `--param ${name} has an empty value in ${JSON.stringify(spec)}`);
    const range = /^(-?[\d.e+-]+):(-?[\d.e+-]+):([\d.e+-]+)$/.exec(v);
    if (range) {
      const [a, b, step] = [Number(range[1]), Number(range[2]), Number(range[3])];
      if (![a, b, step].every(Number.isFinite) || step <= 0) bad('--param', `--param ${name}: range ${v} must be start:end:step with step > 0`);
      const n = Math.floor((b - a) / step + 1e-9);
      if (n > 10_000) bad('--param', `--param ${name}: range ${v} has more than 10000 values`);
      for (let i = 0; i <= n; i++) values.push(Number((a + i * step).toPrecision(12)));
      continue;
    }
    values.push(v !== '' && Number.isFinite(Number(v)) && !/^0\d/.test(v) ? Number(v) : v);
  }
  return { name, values };
}

/** Environment variables `--shard auto` reads (pass `process.env`). */
export type ShardEnv = Readonly<Record<string, string | undefined>>;

/**
 * The shard of this task from a scheduler's variables, for `--shard auto`:
 * - Slurm job arrays: `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` (0 if unset) + 1 of `SLURM_ARRAY_TASK_COUNT`
 *   (`sbatch --array=0-9` or `--array=1-10`; a step other than 1 is refused: ids would not be contiguous);
 * - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` + 1 of `JOB_COMPLETIONS` (set it in the pod's env to the
 *   Job's `spec.completions`; Kubernetes does not export that count itself).
 * @throws ERR_VALIDATION naming `--shard` when neither (or both) is present or a value is malformed.
 */
export function shardFromEnv(env: ShardEnv): { index: number; count: number } {
  const int = (name: string): number => {
    const v = env[name];
    if (v === undefined || !/^\d+$/.test(v.trim())) bad('--shard', `--shard auto: ${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  const slurm = env.SLURM_ARRAY_TASK_ID !== undefined;
  const k8s = env.JOB_COMPLETION_INDEX !== undefined;
  if (slurm && k8s) bad('--shard', '--shard auto: both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set; pass --shard I/N explicitly');
  let index: number;
  let count: number;
  if (slurm) {
    if (env.SLURM_ARRAY_TASK_STEP !== undefined && env.SLURM_ARRAY_TASK_STEP.trim() !== '1') {
      bad('--shard', `--shard auto: the Slurm array step must be 1 (--array=0-9), got SLURM_ARRAY_TASK_STEP=${env.SLURM_ARRAY_TASK_STEP}`);
    }
    if (env.SLURM_ARRAY_TASK_COUNT === undefined) bad('--shard', '--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (run as an sbatch --array job)');
    index = int('SLURM_ARRAY_TASK_ID') - (env.SLURM_ARRAY_TASK_MIN !== undefined ? int('SLURM_ARRAY_TASK_MIN') : 0) + 1;
    count = int('SLURM_ARRAY_TASK_COUNT');
  } else if (k8s) {
    if (env.JOB_COMPLETIONS === undefined) bad('--shard', '--shard auto: JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not: add env JOB_COMPLETIONS with the Job\'s spec.completions to the pod template');
    index = int('JOB_COMPLETION_INDEX') + 1;
    count = int('JOB_COMPLETIONS');
  } else {
    bad('--shard', '--shard auto found no scheduler variables: expected SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT (Slurm array) or JOB_COMPLETION_INDEX + JOB_COMPLETIONS (Kubernetes Indexed Job)');
  }
  if (count < 1 || index < 1 || index > count) bad('--shard', `--shard auto: task ${index} of ${count} is out of range (check the array bounds)`);
  return { index, count };
}

/**
 * `I/N` → shard index (1-based) and count; `auto` → {@link shardFromEnv}.
 * @throws ERR_VALIDATION naming `--shard`.
 */
export function parseShard(spec: string, env: ShardEnv = {}): { index: number; count: number } {
  if (spec.trim() === 'auto') return shardFromEnv(env);
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) bad('--shard', `--shard must be I/N with 1 ≤ I ≤ N, got ${JSON.stringify(spec)}`);
  return { index, count };
}

/** The key of a run: `name=value;...#seedIndex`. */
export function runKey(values: Record<string, string | number>, seedIndex: number): string {
  return `${Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(';')}#${seedIndex}`;
}

/**
 * Expand a sweep into points and runs, validating every point's overrides against the scenario up front
 * (so a bad value fails before any run starts). Seed `i` of every point uses the same run seed
 * (common random numbers), which makes differences between points less noisy.
 * @throws InfermarketError `ERR_VALIDATION` (bad sweep options) or `ERR_BAD_SCENARIO` (bad override value).
 */
export function planSweep(options: SweepPlanOptions): SweepPlan {
  const { scenario, params, mode, seeds } = options;
  const masterSeed = options.masterSeed ?? scenario.seed;
  if (!Number.isSafeInteger(seeds) || seeds < 1) bad('--seeds', `--seeds must be a positive integer, got ${seeds}`);
  if (!Number.isSafeInteger(masterSeed) || masterSeed < 0) bad('--seed', `--seed must be a non-negative integer, got ${masterSeed}`);
  const names = new Set<string>();
  for (const p of params) {
    if (names.has(p.name)) bad('--param', `--param ${p.name} is given twice`);
    names.add(p.name);
  }
  let combos: Record<string, string | number>[] = [{}];
  if (mode === 'zip') {
    const n = params[0]?.values.length ?? 1;
    for (const p of params) {
      if (p.values.length !== n) bad('--param', `--zip needs every --param to have the same number of values; ${params[0]!.name} has ${n}, ${p.name} has ${p.values.length}`);
    }
    combos = Array.from({ length: n }, (_, i) => Object.fromEntries(params.map((p) => [p.name, p.values[i]!])));
  } else {
    for (const p of params) combos = combos.flatMap((c) => p.values.map((v) => ({ ...c, [p.name]: v })));
  }
  if (combos.length * seeds > 10_000_000) bad('--seeds', `the sweep has ${combos.length * seeds} runs; the limit is 10,000,000`);
  const points = combos.map((values, index) => {
    applyOverrides(scenario, values); // validate now: fail fast, naming the override
    return { index, values };
  });
  const seedList = Array.from({ length: seeds }, (_, i) => deriveSeed(masterSeed, i));
  const runs: SweepRun[] = [];
  for (const p of points) {
    for (let s = 0; s < seeds; s++) {
      runs.push({ key: runKey(p.values, s), index: runs.length, point: p.index, seedIndex: s, runSeed: seedList[s]!, overrides: p.values });
    }
  }
  return { mode, masterSeed, seeds, params, points, runs };
}
