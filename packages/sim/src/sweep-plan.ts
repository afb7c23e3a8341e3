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

/** `I/N` → shard index (1-based) and count. @throws ERR_VALIDATION naming `--shard`. */
export function parseShard(spec: string): { index: number; count: number } {
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
