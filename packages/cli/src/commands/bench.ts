import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { benchTableMarkdown, machineInfo, type BenchRow, type SuiteRun } from '../bench/harness.js';
import { machineLoad } from '../bench/machine-load.js';
import { checkResults } from '../bench/results.js';
import { SUITES } from '../bench/suites.js';

/** Registers `infermarket bench`. */
export function register(program: Command): void {
  program
    .command('bench')
    .description('Run the benchmark suites; write bench/results.json and bench/results.md, and update the README table.')
    .option('--suite <names>', `comma-separated suites (${Object.keys(SUITES).join(', ')}); default all`)
    .option('--out <dir>', 'where results.json and results.md go', 'bench')
    .option('--quick', 'fewer repeats and smaller loads (for a smoke run)', false)
    .option('--model <id>', 'model of the disputes suite (a model with a layer trace: digits, heavy, deep; default heavy)')
    .option('--no-readme', 'do not rewrite the README table')
    .option('--json', 'print the results as JSON', false)
    .action(async (opts: { suite?: string; out: string; quick: boolean; model?: string; readme: boolean; json: boolean }) => {
      const names = opts.suite ? opts.suite.split(',').map((s) => s.trim()) : Object.keys(SUITES);
      for (const n of names) if (!(n in SUITES)) throw new Error(`unknown suite "${n}"; known: ${Object.keys(SUITES).join(', ')}`);
      const machine = machineInfo();
      const rows: BenchRow[] = [];
      const runs: SuiteRun[] = [];
      const started = Date.now();
      for (const [i, n] of names.entries()) {
        process.stderr.write(`[bench ${i + 1}/${names.length}] ${n} … (${Math.round((Date.now() - started) / 1000)} s so far)\n`);
        const t0 = Date.now();
        // the machine's load at the start of every suite: numbers taken under load are not final
        const run: SuiteRun = { suite: n, quick: opts.quick, load: machineLoad(), wallMs: 0, meta: {} };
        runs.push(run);
        process.stderr.write(`  load avg ${run.load.loadavg.map((x) => x.toFixed(2)).join(', ')} on ${run.load.cores} × ${run.load.cpu}\n`);
        try {
          rows.push(...(await SUITES[n]!({ quick: opts.quick, ...(opts.model ? { model: opts.model } : {}), log: (m: string) => process.stderr.write(`  ${m}\n`), record: (meta) => Object.assign(run.meta, meta) })));
        } catch (e) {
          process.stderr.write(`  suite ${n} failed: ${(e as Error).stack ?? String(e)}\n`);
          rows.push({ suite: n, name: 'suite failed', value: Number.NaN, unit: '', min: Number.NaN, max: Number.NaN, repeats: 0, note: (e as Error).message.slice(0, 120) });
        }
        run.wallMs = Date.now() - t0;
        process.stderr.write(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      }
      const out = resolve(opts.out);
      mkdirSync(out, { recursive: true });
      const table = benchTableMarkdown(rows, machine, runs);
      // keep rows of suites not run this time, so a partial run does not erase the rest
      const file = resolve(out, 'results.json');
      let previous: BenchRow[] = [];
      let previousRuns: SuiteRun[] = [];
      if (existsSync(file) && opts.suite) {
        const old = JSON.parse(readFileSync(file, 'utf8')) as { rows: BenchRow[]; suites?: SuiteRun[] };
        previousRuns = (old.suites ?? []).filter((r) => !names.includes(r.suite));
        // rows of a file from before suites recorded their load and seeds cannot be kept honestly
        const known = new Set(previousRuns.map((r) => r.suite));
        const dropped = [...new Set(old.rows.filter((r) => !names.includes(r.suite) && !known.has(r.suite)).map((r) => r.suite))];
        if (dropped.length) process.stderr.write(`bench: dropping earlier rows of ${dropped.join(', ')} from ${file}: they have no recorded load or seeds; rerun those suites\n`);
        previous = old.rows.filter((r) => !names.includes(r.suite) && known.has(r.suite));
      }
      const order = (s: string): number => Object.keys(SUITES).indexOf(s);
      const all = [...previous, ...rows].sort((a, b) => order(a.suite) - order(b.suite));
      const allRuns = [...previousRuns, ...runs].sort((a, b) => order(a.suite) - order(b.suite));
      const results = { machine, quick: opts.quick, suites: allRuns, rows: all };
      writeFileSync(file, `${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
      // the file must be complete and self-consistent: a problem is reported, and the exit code says so
      const problems = checkResults(JSON.parse(readFileSync(file, 'utf8')) as typeof results);
      for (const p of problems) process.stderr.write(`bench: inconsistent result: ${p}\n`);
      if (problems.length) process.exitCode = 1;
      const fullTable = benchTableMarkdown(all, machine, allRuns);
      writeFileSync(resolve(out, 'results.md'), `${fullTable}\n`);
      if (opts.readme && !opts.quick) updateReadme(fullTable);
      if (opts.json) process.stdout.write(`${JSON.stringify({ machine, suites: runs, rows }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
      else process.stdout.write(`\n${table}\n\nwrote ${file}\n`);
    });
}

function updateReadme(table: string): void {
  const readme = resolve(dirname(new URL(import.meta.url).pathname), '../../../../README.md');
  if (!existsSync(readme)) return;
  const text = readFileSync(readme, 'utf8');
  const re = /(<!-- bench:start -->)[\s\S]*?(<!-- bench:end -->)/;
  if (!re.test(text)) return;
  writeFileSync(readme, text.replace(re, (_m, a: string, b: string) => `${a}\n${table}\n${b}`));
}
