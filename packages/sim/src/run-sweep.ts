import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hashHex, InfermarketError, type Scenario } from '@infermarket/protocol';
import { runSimulation } from './run-simulation.js';
import { renderSweepHtml, type SweepMarker } from './sweep-html.js';
import { planSweep, type SweepParam, type SweepPlan, type SweepRun } from './sweep-plan.js';
import { csvColumns, parseJsonl, rowOf, rowToCsv, csvLine, type SweepRow } from './sweep-row.js';
import { summarise, summaryCsv, type SweepSummaryPoint } from './sweep-summary.js';
import { sweepThresholds, thresholdsCsv, type SweepThreshold } from './sweep-threshold.js';

const WORKER_URL = new URL('./sweep-worker.js', import.meta.url);

/** `sweep.json`: what a sweep directory holds; `sweep merge` and `--resume` check it matches. */
export interface SweepMeta {
  version: 1;
  scenario: Scenario;
  scenarioSha256: string;
  mode: 'grid' | 'zip';
  params: SweepParam[];
  seeds: number;
  masterSeed: number;
  /** This directory's shard, or null for the whole sweep (or a merge). */
  shard: { index: number; count: number } | null;
  totalRuns: number;
  markers: SweepMarker[];
  environment: { node: string; platform: string; cpus: number; infermarket: string };
}

export interface RunSweepOptions {
  scenario: Scenario;
  params: SweepParam[];
  mode?: 'grid' | 'zip';
  seeds: number;
  masterSeed?: number;
  outDir: string;
  /** Worker threads (default all cores); 0 runs in this thread (tests, tiny sweeps). */
  workers?: number;
  shard?: { index: number; count: number };
  /** Skip runs already in `outDir/results.jsonl`. Without it, existing results are replaced. */
  resume?: boolean;
  /** Vertical lines on the line plots, e.g. a theoretical threshold. */
  markers?: SweepMarker[];
  onProgress?: (p: { done: number; total: number; skipped: number }) => void;
}

export interface SweepResult {
  plan: SweepPlan;
  /** Runs of this shard, done now or before (resume). */
  rows: SweepRow[];
  ran: number;
  skipped: number;
  failed: { key: string; code: string; message: string }[];
  wallMs: number;
  /** Runs completed per wall second (this invocation). */
  runsPerSec: number;
  summary: SweepSummaryPoint[];
  /** Measured ½-crossing of the adaptive cheat rate (with its CI) and the analytic p*, per group; [] without adaptive miners. */
  thresholds: SweepThreshold[];
}

function metaOf(o: RunSweepOptions, plan: SweepPlan): SweepMeta {
  return {
    version: 1,
    scenario: o.scenario,
    scenarioSha256: hashHex(JSON.stringify(o.scenario)),
    mode: plan.mode,
    params: plan.params,
    seeds: plan.seeds,
    masterSeed: plan.masterSeed,
    shard: o.shard ?? null,
    totalRuns: plan.runs.length,
    markers: o.markers ?? [],
    environment: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, infermarket: '0.1.0' },
  };
}

function sameSweep(a: SweepMeta, b: SweepMeta): string | null {
  if (a.scenarioSha256 !== b.scenarioSha256) return 'the scenario differs';
  if (JSON.stringify(a.params) !== JSON.stringify(b.params)) return 'the --param lists differ';
  if (a.mode !== b.mode) return 'grid/zip differs';
  if (a.seeds !== b.seeds) return '--seeds differs';
  if (a.masterSeed !== b.masterSeed) return 'the master seed differs';
  return null;
}

/** Write results (in plan order), summary (with the thresholds) and HTML for a set of rows. */
export function writeSweepOutputs(outDir: string, meta: SweepMeta, plan: SweepPlan, rows: SweepRow[]): { summary: SweepSummaryPoint[]; thresholds: SweepThreshold[] } {
  const order = new Map(plan.runs.map((r) => [r.key, r.index]));
  rows.sort((a, b) => (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0));
  const names = plan.params.map((p) => p.name);
  const cols = csvColumns(names);
  writeFileSync(join(outDir, 'results.jsonl'), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  writeFileSync(join(outDir, 'results.csv'), csvLine(cols) + rows.map((r) => rowToCsv(r, cols)).join(''));
  const summary = summarise(plan.points, rows);
  const thresholds = sweepThresholds({ scenario: meta.scenario, plan, rows });
  writeFileSync(
    join(outDir, 'summary.json'),
    `${JSON.stringify({ masterSeed: plan.masterSeed, seeds: plan.seeds, mode: plan.mode, params: plan.params, shard: meta.shard, runs: rows.length, totalRuns: plan.runs.length, thresholds, points: summary }, null, 2)}\n`,
  );
  writeFileSync(join(outDir, 'summary.csv'), summaryCsv(names, summary));
  if (thresholds.length) writeFileSync(join(outDir, 'thresholds.csv'), thresholdsCsv(names.slice(1), thresholds));
  writeFileSync(join(outDir, 'sweep.html'), renderSweepHtml({ meta, summary, thresholds }));
  return { summary, thresholds };
}

/**
 * Run a parameter sweep: every point × seed, in parallel worker threads, streaming one row per finished run
 * to `outDir/results.jsonl` and `results.csv`; then rewrite them in plan order and write `summary.json|csv`
 * (mean and 95% CI per point) and a self-contained `sweep.html`.
 * @throws InfermarketError `ERR_VALIDATION` / `ERR_BAD_SCENARIO` for bad options, before any run starts.
 */
export async function runSweep(o: RunSweepOptions): Promise<SweepResult> {
  const t0 = performance.now();
  const plan = planSweep({ scenario: o.scenario, params: o.params, mode: o.mode ?? 'grid', seeds: o.seeds, ...(o.masterSeed !== undefined ? { masterSeed: o.masterSeed } : {}) });
  const meta = metaOf(o, plan);
  mkdirSync(o.outDir, { recursive: true });
  const metaPath = join(o.outDir, 'sweep.json');
  const jsonlPath = join(o.outDir, 'results.jsonl');
  const csvPath = join(o.outDir, 'results.csv');
  const cols = csvColumns(plan.params.map((p) => p.name));
  let mine: SweepRun[] = plan.runs;
  if (o.shard) {
    const { index, count } = o.shard;
    mine = plan.runs.filter((r) => r.index % count === index - 1);
  }
  const rows: SweepRow[] = [];
  const done = new Set<string>();
  if (o.resume && existsSync(metaPath)) {
    const old = JSON.parse(readFileSync(metaPath, 'utf8')) as SweepMeta;
    const why = sameSweep(old, meta);
    if (why) throw new InfermarketError('ERR_VALIDATION', `--resume: ${o.outDir} holds a different sweep (${why}); use another --out`, { details: { field: '--resume' } });
    const mineKeys = new Set(mine.map((r) => r.key));
    if (existsSync(jsonlPath)) {
      for (const r of parseJsonl(readFileSync(jsonlPath, 'utf8'))) {
        if (mineKeys.has(r.key) && !done.has(r.key)) {
          done.add(r.key);
          rows.push(r);
        }
      }
    }
  }
  writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  // rewrite from the rows kept: drops a torn line and any duplicate
  writeFileSync(jsonlPath, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  writeFileSync(csvPath, csvLine(cols) + rows.map((r) => rowToCsv(r, cols)).join(''));
  const todo = mine.filter((r) => !done.has(r.key));
  const skipped = mine.length - todo.length;
  const failed: SweepResult['failed'] = [];
  let finished = 0;
  const record = (row: SweepRow): void => {
    rows.push(row);
    appendFileSync(jsonlPath, `${JSON.stringify(row)}\n`);
    appendFileSync(csvPath, rowToCsv(row, cols));
    finished++;
    o.onProgress?.({ done: skipped + finished, total: mine.length, skipped });
  };
  o.onProgress?.({ done: skipped, total: mine.length, skipped });
  // the worker is the built JS beside this file; run from sources (vitest) there is none: stay in-thread
  const hasWorkerFile = existsSync(fileURLToPath(WORKER_URL));
  const workers = hasWorkerFile ? Math.min(o.workers ?? availableParallelism(), todo.length) : 0;
  if (workers <= 0) {
    for (const run of todo) {
      try {
        record(rowOf(run, plan.masterSeed, runSimulation(o.scenario, { seed: run.runSeed, masterSeed: plan.masterSeed, overrides: run.overrides })));
      } catch (e) {
        const err = e as { code?: string; message?: string };
        failed.push({ key: run.key, code: err.code ?? 'ERR_INTERNAL', message: err.message ?? String(e) });
      }
    }
  } else {
    await runInWorkers(o.scenario, plan.masterSeed, todo, workers, record, (f) => failed.push(f));
  }
  const { summary, thresholds } = writeSweepOutputs(o.outDir, meta, plan, rows);
  const wallMs = performance.now() - t0;
  return { plan, rows, ran: finished, skipped, failed, wallMs, runsPerSec: finished / (wallMs / 1000), summary, thresholds };
}

function runInWorkers(
  scenario: Scenario,
  masterSeed: number,
  todo: SweepRun[],
  count: number,
  record: (row: SweepRow) => void,
  onFail: (f: { key: string; code: string; message: string }) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let active = 0;
    const pool: Worker[] = [];
    const feed = (w: Worker): void => {
      if (next < todo.length) {
        w.postMessage(todo[next++]);
        return;
      }
      active--;
      void w.terminate();
      if (active === 0) resolve();
    };
    for (let i = 0; i < count; i++) {
      const w = new Worker(WORKER_URL, { workerData: { scenario, masterSeed } });
      active++;
      pool.push(w);
      w.on('message', (m: { ok: true; row: SweepRow } | { ok: false; key: string; code: string; message: string }) => {
        if (m.ok) record(m.row);
        else onFail({ key: m.key, code: m.code, message: m.message });
        feed(w);
      });
      w.on('error', (e) => {
        for (const p of pool) void p.terminate();
        reject(e);
      });
      feed(w);
    }
  });
}
