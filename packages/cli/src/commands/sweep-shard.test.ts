// `sweep --shard auto` on schedulers: Slurm job arrays and Kubernetes Indexed Jobs. The mapping from their
// variables, and, through the built CLI (npm test builds it first), that every task of an array merged
// equals one unsharded sweep byte for byte.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InfermarketError } from '@infermarket/protocol';
import { parseShard, shardFromEnv } from '@infermarket/sim';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = join(root, 'packages/cli/dist/main.js');
const scenario = join(root, 'scenarios/sim-small.json');
const out = mkdtempSync(join(tmpdir(), 'im-shard-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The process env without any scheduler variable the host might have, plus `extra`. */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SLURM_') || k.startsWith('JOB_COMPLETION')) delete env[k];
  return { ...env, ...extra };
}

describe('--shard auto', () => {
  it('maps Slurm array tasks (any first id) and Kubernetes completion indexes to shards 1..N', () => {
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 1, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 4, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '10', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '10', SLURM_ARRAY_TASK_STEP: '1' })).toEqual({ index: 10, count: 10 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '3' })).toEqual({ index: 1, count: 3 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '2', JOB_COMPLETIONS: '3' })).toEqual({ index: 3, count: 3 });
    expect(parseShard('auto', { JOB_COMPLETION_INDEX: '1', JOB_COMPLETIONS: '2' })).toEqual({ index: 2, count: 2 });
    expect(parseShard('2/5', { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '3' })).toEqual({ index: 2, count: 5 });
  });

  it('error: refuses missing, conflicting or out-of-range scheduler variables, naming --shard', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /no scheduler variables/],
      [{ SLURM_ARRAY_TASK_ID: '0' }, /SLURM_ARRAY_TASK_COUNT/],
      [{ JOB_COMPLETION_INDEX: '0' }, /JOB_COMPLETIONS/],
      [{ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2', JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '2' }, /both/],
      [{ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_STEP: '2' }, /step must be 1/],
      [{ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '3' }, /out of range/],
      [{ JOB_COMPLETION_INDEX: 'x', JOB_COMPLETIONS: '3' }, /JOB_COMPLETION_INDEX must be/],
    ];
    for (const [env, msg] of cases) {
      let err: unknown;
      try {
        shardFromEnv(env);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(env)).toBeInstanceOf(InfermarketError);
      expect((err as InfermarketError).code).toBe('ERR_VALIDATION');
      expect((err as InfermarketError).message).toMatch(msg);
      expect((err as InfermarketError).message).toContain('--shard');
    }
  });

  it('every task of a Slurm array and of a Kubernetes Indexed Job, merged, equals the unsharded sweep', () => {
    const args = ['sweep', '--scenario', scenario, '--set', 'durationMs=3000', '--param', 'auditRate=0.1,0.2,0.3', '--seeds', '2', '--workers', '0'];
    execFileSync('node', [cli, ...args, '--out', join(out, 'whole')], { encoding: 'utf8', env: envWith({}) });
    const whole = readFileSync(join(out, 'whole', 'results.csv'), 'utf8');
    expect(whole.trim().split('\n')).toHaveLength(7);
    const runArray = (name: string, envOf: (i: number) => Record<string, string>, n: number): string => {
      const dirs = Array.from({ length: n }, (_, i) => join(out, `${name}-${i}`));
      dirs.forEach((d, i) => execFileSync('node', [cli, ...args, '--shard', 'auto', '--out', d], { encoding: 'utf8', env: envWith(envOf(i)) }));
      // each task ran a part, none ran everything
      for (const d of dirs) expect(readFileSync(join(d, 'results.csv'), 'utf8').trim().split('\n').length).toBeLessThan(7);
      execFileSync('node', [cli, 'sweep', 'merge', ...dirs, '--out', join(out, `${name}-merged`)], { encoding: 'utf8' });
      return readFileSync(join(out, `${name}-merged`, 'results.csv'), 'utf8');
    };
    // sbatch --array=1-3: ids start at 1
    expect(runArray('slurm', (i) => ({ SLURM_ARRAY_TASK_ID: String(i + 1), SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '3', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_STEP: '1' }), 3)).toBe(whole);
    expect(runArray('k8s', (i) => ({ JOB_COMPLETION_INDEX: String(i), JOB_COMPLETIONS: '2' }), 2)).toBe(whole);
    // outside a scheduler, auto says what it looked for and exits non-zero
    const r = spawnSync('node', [cli, ...args, '--shard', 'auto', '--out', join(out, 'none')], { encoding: 'utf8', env: envWith({}) });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_VALIDATION: --shard auto found no scheduler variables/);
  });
});
