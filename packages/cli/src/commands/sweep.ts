import { resolve } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { InfermarketError } from '@infermarket/protocol';
import { applyOverrides, mergeSweeps, OVERRIDE_NAMES_HELP, parseShard, parseSweepParam, runSweep, type SweepMarker, type SweepParam, type SweepThreshold } from '@infermarket/sim';
import { collectSet, loadScenarioFile, parseSeed, withCalibration } from './sim.js';

function collectParam(value: string, prev: SweepParam[]): SweepParam[] {
  return [...prev, parseSweepParam(value)];
}

function collectMark(value: string, prev: SweepMarker[]): SweepMarker[] {
  const eq = value.lastIndexOf('=');
  const x = Number(value.slice(eq + 1));
  if (eq <= 0 || !Number.isFinite(x)) throw new InfermarketError('ERR_VALIDATION', `--mark must look like LABEL=X with a number X, got ${JSON.stringify(value)}`, { details: { field: '--mark' } });
  return [...prev, { label: value.slice(0, eq), x }];
}

function positiveInt(field: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InfermarketError('ERR_VALIDATION', `${field} must be a non-negative integer, got ${JSON.stringify(v)}`, { details: { field } });
    return n;
  };
}

/** A progress reporter: a bar with ETA on a terminal, a line every few seconds otherwise. */
function progress(json: boolean): { update(done: number, total: number): void; stop(): void } {
  if (process.stderr.isTTY && !json) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'sweep [{bar}] {percentage}% | {value}/{total} runs | {rate} runs/s | ETA {eta_formatted}', hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    const t0 = Date.now();
    let started = false;
    return {
      update(done, total) {
        const rate = ((done / Math.max(1, Date.now() - t0)) * 1000).toFixed(1);
        if (!started) {
          bar.start(total, done, { rate });
          started = true;
        } else bar.update(done, { rate });
      },
      stop: () => bar.stop(),
    };
  }
  const t0 = Date.now();
  let last = 0;
  let first = -1;
  return {
    update(done, total) {
      if (first < 0) first = done;
      const now = Date.now();
      if (done < total && now - last < 5_000) return;
      last = now;
      const rate = (done - first) / Math.max(0.001, (now - t0) / 1000);
      const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
      process.stderr.write(`sweep ${done}/${total} runs (${((done / Math.max(1, total)) * 100).toFixed(0)} %), ${rate.toFixed(1)} runs/s, ETA ${eta} s\n`);
    },
    stop() {},
  };
}

/** The measured ½-crossing of the adaptive cheat rate beside the analytic p*, one line per group. */
export function formatThresholds(thresholds: readonly SweepThreshold[]): string {
  let text = '';
  for (const t of thresholds) {
    const g = Object.entries(t.group).map(([k, v]) => `${k}=${v}`).join(', ');
    const m = t.measured;
    const measured = m.threshold === null ? `none (${m.reason})` : `${Number(m.threshold.toPrecision(4))} ${m.ci95 ? `[${Number(m.ci95.lo.toPrecision(4))}, ${Number(m.ci95.hi.toPrecision(4))}]` : `(no CI: ${m.ciReason})`}`;
    const analytic = t.analytic ? t.analytic.map((a) => (a.pStar === null ? `none (${a.reason})` : String(Number(a.pStar.toPrecision(4))))).join(' / ') : `— (${t.analyticReason})`;
    const ratio = t.ratio ? ` ratio ${t.ratio.value.toFixed(3)}${t.ratio.ci95 ? ` [${t.ratio.ci95.lo.toFixed(3)}, ${t.ratio.ci95.hi.toFixed(3)}]` : ''}` : '';
    text += `\nthreshold${g ? ` (${g})` : ''}: ${t.metric} crosses ½ at ${t.param} = ${measured}; analytic p* ${analytic}${ratio}${t.runsWithoutData ? `; ${t.runsWithoutData} runs without data left out` : ''}`;
  }
  return text ? `${text}\n` : '';
}

/** Registers `infermarket sweep` and `infermarket sweep merge`. */
export function register(program: Command): void {
  const sweep = program
    .command('sweep')
    .description('Run a parameter sweep of a scenario in the simulator: Monte Carlo seeds per point, in parallel, with CSV/JSONL rows, a summary with 95% CIs and an HTML report.')
    .option('--scenario <file>', 'scenario JSON file')
    .option('--param <name=v1,v2,...>', `swept values (repeatable; a:b:step is a range). Names: ${OVERRIDE_NAMES_HELP}`, collectParam, [])
    .option('--grid', 'every combination of the --param values (default)')
    .option('--zip', 'the i-th values of every --param together (all lists the same length)')
    .option('--seeds <n>', 'Monte Carlo runs per point', positiveInt('--seeds'), 1)
    .option('--seed <n>', 'master seed (default: the scenario\'s seed); run i of every point uses seed derive(master, i)', parseSeed)
    .option('--set <name=value>', 'fixed override applied before sweeping (repeatable)', collectSet, {})
    .option('--workers <k>', 'worker threads (default: all cores; 0 = run in the main thread)', positiveInt('--workers'))
    .option('--out <dir>', 'output directory (default: runs/sweep-<name>)')
    .option('--models <dir>', 'models directory whose manifest.json calibrates compute costs', 'models')
    .option('--shard <i/n>', 'run only shard i of n (runs with index % n == i-1), or `auto` from Slurm array / Kubernetes Indexed Job variables (docs/sweeps-at-scale.md); join shards with `sweep merge`')
    .option('--resume', 'skip runs already in <out>/results.jsonl (after an interruption)')
    .option('--mark <label=x>', 'vertical line on the plots at x of the first parameter (repeatable)', collectMark, [])
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Writes <out>/results.jsonl and results.csv (one row per run, streamed as runs finish, then rewritten in plan
order), summary.json and summary.csv (mean and 95% CI per point), sweep.json (what was swept) and sweep.html.
With adaptive miners, summary.json and thresholds.csv add where their cheat rate crosses ½ over the first parameter
(logistic fit, bootstrap 95% CI over seeds) and, when that parameter is auditRate, the analytic p* (infermarket theory).

Examples:
  infermarket sweep --scenario scenarios/posp-threshold.json --param auditRate=0.02,0.05,0.1,0.2 --seeds 8
  infermarket sweep --scenario scenarios/sim-small.json --param auditRate=0.05:0.3:0.05 --param slashFractionBps=1000,5000 --seeds 4 --out runs/s1
  infermarket sweep --scenario s.json --param auditRate=0.1,0.2 --seeds 10 --shard 1/2 --out part1
  infermarket sweep merge part1 part2 --out all
`,
    )
    .action(
      async (opts: {
        scenario?: string;
        param: SweepParam[];
        grid?: boolean;
        zip?: boolean;
        seeds: number;
        seed?: number;
        set: Record<string, string>;
        workers?: number;
        out?: string;
        models: string;
        shard?: string;
        resume?: boolean;
        mark: SweepMarker[];
        json?: boolean;
      }) => {
        if (!opts.scenario) throw new InfermarketError('ERR_VALIDATION', '--scenario <file> is required', { details: { field: '--scenario' } });
        if (opts.grid && opts.zip) throw new InfermarketError('ERR_VALIDATION', '--grid and --zip exclude each other', { details: { field: '--zip' } });
        if (opts.seeds < 1) throw new InfermarketError('ERR_VALIDATION', '--seeds must be at least 1', { details: { field: '--seeds' } });
        let scenario = withCalibration(loadScenarioFile(opts.scenario), opts.models, opts.json === true);
        if (Object.keys(opts.set).length) scenario = applyOverrides(scenario, opts.set);
        const out = resolve(opts.out ?? `runs/sweep-${scenario.name}`);
        const bar = progress(opts.json === true);
        // rows are appended as runs finish, so an interrupted sweep can be finished with --resume
        let finished = 0;
        const onInterrupt = (): void => {
          bar.stop();
          process.stderr.write(`\ninterrupted after ${finished} runs; rows so far are in ${out}/results.jsonl — run the same command with --resume to finish\n`);
          process.exit(130);
        };
        process.once('SIGINT', onInterrupt);
        const result = await runSweep({
          scenario,
          params: opts.param,
          mode: opts.zip ? 'zip' : 'grid',
          seeds: opts.seeds,
          ...(opts.seed !== undefined ? { masterSeed: opts.seed } : {}),
          outDir: out,
          ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
          ...(opts.shard ? { shard: parseShard(opts.shard, process.env) } : {}),
          ...(opts.resume ? { resume: true } : {}),
          markers: opts.mark,
          onProgress: (p) => {
            finished = p.done - p.skipped;
            bar.update(p.done, p.total);
          },
        });
        process.off('SIGINT', onInterrupt);
        bar.stop();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ out, ran: result.ran, skipped: result.skipped, failed: result.failed, masterSeed: result.plan.masterSeed, thresholds: result.thresholds, points: result.summary }, null, 2)}\n`);
        } else {
          const names = result.plan.params.map((p) => p.name);
          const cols = ['cheatRate', 'adaptiveCheatRate', 'honestProfitPerJobMicro', 'cheaterProfitPerJobMicro', 'adaptiveProfitPerJobMicro', 'successRate'];
          const shown = cols.filter((c) => result.summary.some((s) => s.metrics[c]));
          const head = [...names, 'runs', ...shown];
          const rows = result.summary.map((s) => [
            ...names.map((n) => String(s.values[n])),
            String(s.runs),
            ...shown.map((c) => {
              const m = s.metrics[c];
              if (!m) return '-';
              return m.method === 'bootstrap' ? `${Number(m.mean.toPrecision(4))} [${Number(m.lo.toPrecision(3))}, ${Number(m.hi.toPrecision(3))}]` : `${Number(m.mean.toPrecision(4))} ± ${Number(m.ci95.toPrecision(2))}`;
            }),
          ]);
          const all = [head, ...rows];
          const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
          for (const r of all) process.stdout.write(`${r.map((c, i) => c.padStart(w[i]!)).join('  ')}\n`);
          process.stdout.write(formatThresholds(result.thresholds));
          process.stdout.write(
            `\n${result.ran} runs in ${(result.wallMs / 1000).toFixed(1)} s (${result.runsPerSec.toFixed(1)} runs/s)${result.skipped ? `, ${result.skipped} skipped (resume)` : ''}; master seed ${result.plan.masterSeed}\nwrote ${out}/{results.csv,results.jsonl,summary.csv,summary.json${result.thresholds.length ? ',thresholds.csv' : ''},sweep.html}\n`,
          );
        }
        if (result.failed.length) {
          for (const f of result.failed.slice(0, 5)) process.stderr.write(`run ${f.key} failed: ${f.code} ${f.message}\n`);
          process.exitCode = 1;
        }
      },
    );
  sweep
    .command('merge')
    .description('Join sweep output directories (shards or interrupted parts of one sweep) into one.')
    .argument('<dirs...>', 'sweep --out directories')
    .option('--out <dir>', 'output directory (required)')
    .option('--json', 'print the merge result as JSON')
    .action((dirs: string[], mergeOpts: { out?: string; json?: boolean }) => {
      // the root command does not use positional options, so `--out` after `merge` may land on `sweep`
      const opts = { ...sweep.opts(), ...mergeOpts } as { out?: string; json?: boolean };
      if (!opts.out) throw new InfermarketError('ERR_VALIDATION', 'sweep merge needs --out <dir>', { details: { field: '--out' } });
      const r = mergeSweeps({ dirs, outDir: resolve(opts.out) });
      if (opts.json) process.stdout.write(`${JSON.stringify({ rows: r.rows, totalRuns: r.totalRuns, missing: r.missing.length }, null, 2)}\n`);
      else process.stdout.write(`merged ${dirs.length} directories: ${r.rows} of ${r.totalRuns} runs${r.missing.length ? ` (${r.missing.length} missing, e.g. ${r.missing[0]})` : ''} → ${resolve(opts.out)}\n`);
      if (r.missing.length) process.exitCode = 3;
    });
}
