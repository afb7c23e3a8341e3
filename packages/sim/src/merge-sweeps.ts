import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfermarketError } from '@infermarket/protocol';
import { writeSweepOutputs, type SweepMeta } from './run-sweep.js';
import { planSweep } from './sweep-plan.js';
import { parseJsonl, type SweepRow } from './sweep-row.js';
import type { SweepSummaryPoint } from './sweep-summary.js';
import type { SweepThreshold } from './sweep-threshold.js';

export interface MergeResult {
  rows: number;
  totalRuns: number;
  /** Keys of runs no input directory holds. */
  missing: string[];
  summary: SweepSummaryPoint[];
  thresholds: SweepThreshold[];
}

function bad(message: string, field: string): never {
  throw new InfermarketError('ERR_VALIDATION', message, { details: { field } });
}

/**
 * Join sweep directories (shards, or interrupted parts) into one: the union of their rows by run key,
 * in plan order, with a fresh summary and HTML. Every input must be the same sweep (scenario, params, seeds).
 * @throws InfermarketError `ERR_VALIDATION` naming the directory that is missing files or differs.
 */
export function mergeSweeps(options: { dirs: string[]; outDir: string }): MergeResult {
  if (options.dirs.length === 0) bad('sweep merge needs at least one input directory', 'DIR');
  let base: SweepMeta | null = null;
  const byKey = new Map<string, SweepRow>();
  for (const dir of options.dirs) {
    const metaPath = join(dir, 'sweep.json');
    if (!existsSync(metaPath)) bad(`${dir} has no sweep.json; is it a sweep --out directory?`, 'DIR');
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as SweepMeta;
    if (!base) base = meta;
    else if (
      meta.scenarioSha256 !== base.scenarioSha256 ||
      JSON.stringify(meta.params) !== JSON.stringify(base.params) ||
      meta.mode !== base.mode ||
      meta.seeds !== base.seeds ||
      meta.masterSeed !== base.masterSeed
    ) {
      bad(`${dir} is a different sweep from ${options.dirs[0]} (scenario, params, mode, seeds or master seed differ)`, 'DIR');
    }
    const jsonl = join(dir, 'results.jsonl');
    if (!existsSync(jsonl)) continue;
    for (const row of parseJsonl(readFileSync(jsonl, 'utf8'))) {
      const prev = byKey.get(row.key);
      if (prev && JSON.stringify(prev) !== JSON.stringify(row)) bad(`run ${row.key} differs between inputs (${dir}); were they run with different code?`, 'DIR');
      byKey.set(row.key, row);
    }
  }
  const meta: SweepMeta = { ...base!, shard: null };
  const plan = planSweep({ scenario: meta.scenario, params: meta.params, mode: meta.mode, seeds: meta.seeds, masterSeed: meta.masterSeed });
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, 'sweep.json'), `${JSON.stringify(meta, null, 2)}\n`);
  const rows = [...byKey.values()];
  const { summary, thresholds } = writeSweepOutputs(options.outDir, meta, plan, rows);
  const missing = plan.runs.filter((r) => !byKey.has(r.key)).map((r) => r.key);
  return { rows: rows.length, totalRuns: plan.runs.length, missing, summary, thresholds };
}
