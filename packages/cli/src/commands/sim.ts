import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parsePriceSeries } from '@infermarket/agents';
import type { Command } from 'commander';
import { InfermarketError, parseScenario, type Scenario } from '@infermarket/protocol';
import * as simPkg from '@infermarket/sim';
import { scenarioStrategies } from '../testnet/strategy-modules.js';
import { computeTableFromManifest, recordSimJobs, runSimulation, OVERRIDE_NAMES_HELP, type SimReport } from '@infermarket/sim';

/** Read and validate a scenario file; errors name the file and the JSON path. */
export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InfermarketError('ERR_BAD_SCENARIO', `cannot read scenario file "${file}": ${(cause as Error).message}`, { details: { field: '--scenario' } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InfermarketError('ERR_BAD_SCENARIO', `scenario file "${file}" is not valid JSON: ${(cause as Error).message}`, { details: { field: '--scenario' } });
  }
  try {
    return inlinePriceFile(parseScenario(json), file);
  } catch (e) {
    if (e instanceof InfermarketError) throw new InfermarketError(e.code, `${file}: ${e.message}`, { ...(e.details ? { details: e.details } : {}) });
    throw e;
  }
}

/** `economics.oracle.file` (relative to the scenario file): read and parse it, and inline its points. */
export function inlinePriceFile(scenario: Scenario, scenarioFile: string): Scenario {
  const o = scenario.economics?.oracle;
  if (!o?.file) return scenario;
  if (o.points) throw new InfermarketError('ERR_BAD_SCENARIO', 'economics.oracle: give "points" or "file", not both', { details: { field: 'economics.oracle.file' } });
  const path = resolve(dirname(resolve(scenarioFile)), o.file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new InfermarketError('ERR_BAD_SCENARIO', `economics.oracle.file: cannot read "${path}": ${(cause as Error).message}`, { details: { field: 'economics.oracle.file' } });
  }
  const spec = parsePriceSeries(text);
  const points = spec.kind === 'series' ? spec.points.map(([t, p]) => [t, p] as [number, number]) : [];
  return { ...scenario, economics: { ...scenario.economics, oracle: { kind: 'series', points } } };
}

/**
 * Calibrate the compute-cost model from `<modelsDir>/manifest.json` when it exists: measured per-job
 * latencies become `sim.computeMsPerJob` entries (the scenario's own entries win). Returns the scenario
 * unchanged, and says so, when there is no manifest (the documented research constants apply).
 */
export function withCalibration(scenario: Scenario, modelsDir: string, quiet: boolean): Scenario {
  const file = join(modelsDir, 'manifest.json');
  if (!existsSync(file)) {
    if (!quiet) process.stderr.write(`cost model: research constants (no ${file})\n`);
    return scenario;
  }
  const table = computeTableFromManifest(JSON.parse(readFileSync(file, 'utf8')));
  if (!quiet) process.stderr.write(`cost model: ${Object.keys(table).length} measured latencies from ${file}\n`);
  return { ...scenario, sim: { ...scenario.sim, computeMsPerJob: { ...table, ...scenario.sim?.computeMsPerJob } } };
}

/** `--set NAME=VALUE` (repeatable) into an overrides object. */
export function collectSet(value: string, prev: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InfermarketError('ERR_VALIDATION', `--set must look like NAME=VALUE, got ${JSON.stringify(value)}`, { details: { field: '--set' } });
  return { ...prev, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function parseSeed(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InfermarketError('ERR_VALIDATION', `--seed must be a non-negative integer, got ${JSON.stringify(v)}`, { details: { field: '--seed' } });
  return n;
}

const musd = (micro: string | number | null): string => (micro === null ? '-' : (Number(micro) / 1e6).toFixed(4));

/** The human summary of a simulation report. */
export function formatSimSummary(r: SimReport): string {
  const s = r.sim;
  const lines: string[] = [];
  lines.push(`scenario ${r.scenario}  seed ${r.seed}  virtual ${(r.durationMs / 1000).toFixed(1)} s  events ${s.events}`);
  lines.push(
    `jobs      submitted ${r.jobs.submitted}  settled ${r.jobs.settled}  failed ${r.jobs.failed}  reassigned ${r.jobs.reassigned}  audited ${r.jobs.audited}  disputed ${r.jobs.disputed}  slashes ${r.jobs.slashed}`,
  );
  lines.push(`success   ${(r.successRate * 100).toFixed(2)} %   latency p50/p95/p99 ${r.latencyMs.p50}/${r.latencyMs.p95}/${r.latencyMs.p99} ms   ttft p50 ${r.ttftMs.p50} ms   cost/1k ${musd(r.costPerThousandMicro)} ${r.costToken}`);
  lines.push(
    `cheating  rate ${(s.cheatRate * 100).toFixed(2)} %   detected ${s.detectionRate === null ? '-' : `${(s.detectionRate * 100).toFixed(1)} %`}   detection latency ${s.detectionLatencyMs ?? '-'} ms   false slashes ${s.falseSlashes}   validator slashes ${s.validatorSlashes}`,
  );
  if (s.adaptiveRemoved !== null) {
    // no data is not "no cheating": removed adaptive miners are shown apart, with their learned level
    const rate = s.adaptiveCheatRate === null ? `- (no data: ${Object.entries(s.adaptiveNoData ?? {}).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')})` : `${(s.adaptiveCheatRate * 100).toFixed(2)} %`;
    lines.push(`adaptive  cheat rate (2nd half) ${rate}   learned level ${s.adaptiveLearnedLevel}   removed ${s.adaptiveRemoved}${s.adaptiveRemoved ? ` (learned level ${s.adaptiveRemovedLearnedLevel})` : ''}`);
  }
  if (s.honestDisputesOnCheats > 0) lines.push(`disputes  honest auditors outvoted ${s.honestAuditorsOutvoted} of ${s.honestDisputesOnCheats} on cheats   escalations ${s.disputeEscalations}`);
  lines.push(`profit/miner (mUSD, net of compute)  honest ${musd(s.honestProfitMicro)}  cheaters ${musd(s.cheaterProfitMicro)}  adaptive ${musd(s.adaptiveProfitMicro)}`);
  lines.push(`ledger    conserved ${r.ledger.conserved}  invariant checks ${r.invariants.checks}  violations ${r.invariants.violations.length}`);
  lines.push('');
  const head = ['miner', 'strategy', 'jobs', 'settled', 'missed', 'earned mUSD', 'slashed mUSD', 'stake end'];
  const rows = r.miners.map((m) => [m.id, m.strategy, String(m.jobs), String(m.settled), String(m.missed), musd(m.earnedMicro), musd(m.slashedMicro), musd(m.stakeEndMicro)]);
  const vrows = r.validators.map((v) => [v.id, `validator/${v.strategy}`, String(v.audits), '', '', musd(v.earnedMicro), musd(v.slashedMicro), '']);
  const all = [head, ...rows, ...vrows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  for (const row of all) lines.push(row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  return `${lines.join('\n')}\n`;
}

/** Registers `infermarket sim`. */
export function register(program: Command): void {
  program
    .command('sim')
    .description('Run a scenario in the simulator (virtual time) and write report.json (and report.html when available).')
    .requiredOption('--scenario <file>', 'scenario JSON file (see scenarios/scenario.schema.json)')
    .option('--seed <n>', 'run seed (default: the scenario\'s seed)', parseSeed)
    .option('--set <name=value>', `override a parameter, repeatable: ${OVERRIDE_NAMES_HELP}`, collectSet, {})
    .option('--out <dir>', 'output directory (default: runs/sim-<name>-<seed>)')
    .option('--models <dir>', 'models directory whose manifest.json calibrates compute costs', 'models')
    .option('--check-invariants', 'check every invariant after every event (slow)')
    .option('--json', 'print the report JSON instead of the summary table')
    .addHelpText(
      'after',
      '\nExamples:\n  infermarket sim --scenario scenarios/sim-small.json\n  infermarket sim --scenario scenarios/posp-threshold.json --seed 7 --set auditRate=0.2 --json\n',
    )
    .action(async (opts: { scenario: string; seed?: number; set: Record<string, string>; out?: string; models: string; checkInvariants?: boolean; json?: boolean }) => {
      const scenario = withCalibration(loadScenarioFile(opts.scenario), opts.models, opts.json === true);
      const strategyModules = await scenarioStrategies(scenario, opts.scenario);
      const seed = opts.seed ?? scenario.seed;
      const tty = process.stderr.isTTY && !opts.json;
      const t0 = Date.now();
      let lastPrint = 0;
      const jobs = recordSimJobs();
      const report = runSimulation(scenario, {
        seed,
        onApplied: jobs.onApplied,
        overrides: opts.set,
        strategyModules,
        ...(opts.checkInvariants ? { checkInvariants: true } : {}),
        onProgress: (f) => {
          const now = Date.now();
          if (now - lastPrint < (tty ? 200 : 5_000) || now - t0 < 1_000) return;
          lastPrint = now;
          process.stderr.write(`${tty ? '\r' : ''}simulating ${(f * 100).toFixed(0)} %${tty ? '' : '\n'}`);
        },
      });
      if (lastPrint && tty) process.stderr.write('\r\x1b[K');
      const out = resolve(opts.out ?? join('runs', `sim-${scenario.name}-${seed}`));
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(join(out, 'jobs.csv'), jobs.csv(report, scenario));
      const render = (simPkg as Record<string, unknown>).renderReportHtml;
      const written = ['report.json', 'jobs.csv'];
      if (typeof render === 'function') {
        writeFileSync(join(out, 'report.html'), String((render as (r: SimReport) => string)(report)));
        written.push('report.html');
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        process.stdout.write(formatSimSummary(report));
        process.stdout.write(`\nwrote ${written.map((f) => join(out, f)).join(', ')} in ${((Date.now() - t0) / 1000).toFixed(2)} s\n`);
      }
      if (report.invariants.violations.length) process.exitCode = 2;
    });
}
