import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ADAPTIVE_LEARNERS, InfermarketError } from '@infermarket/protocol';
import { runPospStudy } from '@infermarket/sim';
import { loadScenarioFile } from './sim.js';

function count(field: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InfermarketError('ERR_VALIDATION', `${field} must be a non-negative integer, got ${JSON.stringify(v)}`, { details: { field } });
    return n;
  };
}

/** Registers `infermarket study posp`. */
export function register(program: Command): void {
  const study = program.command('study').description('Regenerate a study\'s tables and figures from its committed scenario files.');
  study
    .command('posp')
    .description(
      'The Proof-of-Sampling threshold study: for each scenarios/study-posp-*.json point, the analytic p* (`infermarket theory`), a sweep of auditRate at fixed multiples of it, and the measured ½-crossing of the adaptive cheat rate with a bootstrap 95% CI. Writes the table (study.md, study.json), the figure (cheat-rate.svg) and every sweep.',
    )
    .option('--scenarios <dir>', 'directory holding study-posp-*.json', 'scenarios')
    .option('--only <names>', 'comma-separated scenario names to run (default all)')
    .option('--out <dir>', 'output directory', 'docs/posp-study')
    .option('--quick', 'a few short runs per point: checks the pipeline, measures nothing')
    .option('--seeds <n>', 'seeds per audit rate (default 6; quick 2)', count('--seeds'))
    .option('--workers <k>', 'worker threads per sweep (default all cores; 0 = main thread)', count('--workers'))
    .option('--learner <name>', `the adaptive miners' learner at every point (${ADAPTIVE_LEARNERS.join(', ')}; default: each scenario's sim.adaptive.learner)`)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  infermarket study posp --quick --out runs/study-quick\n  nice infermarket study posp --workers 1\n')
    .action(async (opts: { scenarios: string; only?: string; out: string; quick?: boolean; seeds?: number; workers?: number; learner?: string; json?: boolean }) => {
      if (opts.learner !== undefined && !(ADAPTIVE_LEARNERS as readonly string[]).includes(opts.learner)) {
        throw new InfermarketError('ERR_VALIDATION', `--learner must be one of ${ADAPTIVE_LEARNERS.join(', ')}, got ${JSON.stringify(opts.learner)}`, { details: { field: '--learner' } });
      }
      let files: string[];
      try {
        files = readdirSync(opts.scenarios).filter((f) => /^study-posp-.*\.json$/.test(f)).sort();
      } catch (cause) {
        throw new InfermarketError('ERR_VALIDATION', `--scenarios ${opts.scenarios}: ${(cause as Error).message}`, { details: { field: '--scenarios' } });
      }
      let scenarios = files.map((f) => ({ file: join(opts.scenarios, f), scenario: loadScenarioFile(join(opts.scenarios, f)) }));
      if (opts.only) {
        const want = opts.only.split(',').map((s) => s.trim());
        const unknown = want.filter((w) => !scenarios.some((s) => s.scenario.name === w));
        if (unknown.length) throw new InfermarketError('ERR_VALIDATION', `--only: no study scenario named ${unknown.join(', ')}; known: ${scenarios.map((s) => s.scenario.name).join(', ')}`, { details: { field: '--only' } });
        scenarios = scenarios.filter((s) => want.includes(s.scenario.name));
      }
      if (scenarios.length === 0) throw new InfermarketError('ERR_VALIDATION', `no study-posp-*.json in ${opts.scenarios}`, { details: { field: '--scenarios' } });
      const out = resolve(opts.out);
      const t0 = Date.now();
      let last = 0;
      const r = await runPospStudy({
        scenarios,
        outDir: out,
        ...(opts.quick ? { quick: true } : {}),
        ...(opts.seeds !== undefined ? { seeds: opts.seeds } : {}),
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        ...(opts.learner !== undefined ? { learner: opts.learner } : {}),
        onProgress: (p) => {
          const now = Date.now();
          if (p.done < p.total && now - last < 3_000) return;
          last = now;
          process.stderr.write(`study posp [${p.point}/${p.points}] ${p.name}: ${p.done}/${p.total} runs (${((now - t0) / 1000).toFixed(0)} s elapsed)\n`);
        },
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      for (const p of r.points) {
        const m = p.measured;
        process.stdout.write(
          `${p.name.padEnd(22)} p* ${p.pStar.toPrecision(4).padStart(8)}  measured ${m.threshold === null ? `none (${m.reason})` : `${m.threshold.toPrecision(4)} ${m.ci95 ? `[${m.ci95.lo.toPrecision(4)}, ${m.ci95.hi.toPrecision(4)}]` : `(no CI: ${m.ciReason})`}`}${p.ratio ? `  ratio ${p.ratio.value.toFixed(3)}` : ''}\n`,
        );
      }
      process.stdout.write(`\n${r.quick ? 'quick mode: ' : ''}wrote ${out}/{study.md,study.json,cheat-rate.svg} and one sweep directory per point in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}
