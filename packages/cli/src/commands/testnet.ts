import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runTestnet } from '../testnet/run.js';
import { killAllChildren } from '../testnet/processes.js';
import { parseNumber } from '../testnet/keys.js';
import { registerLoad } from '../testnet/load-command.js';

interface TestnetCliOptions {
  scenario: string;
  duration?: string;
  out?: string;
  waitAll?: boolean;
  host: string;
  port?: string;
  json?: boolean;
}

/** Registers `infermarket testnet` and its load generator `infermarket load`. */
export function register(program: Command): void {
  program
    .command('testnet')
    .description('Start a live local testnet from a scenario file (market, miners, validators, client load as OS processes), run it, apply faults, and write DIR/report.json.')
    .requiredOption('--scenario <file>', 'scenario JSON file (see scenarios/)')
    .option('--duration <seconds>', 'run time of the load (overrides the scenario)')
    .option('--out <dir>', 'output directory for logs, market.db and the report (default runs/<name>-<seed>-<time>)')
    .option('--host <addr>', 'address the market binds; 0.0.0.0 lets miners on other machines join', '127.0.0.1')
    .option('--port <n>', 'market port (default: the scenario\'s testnet.port, else a free one)')
    .option('--wait-all', 'start the load only when every node is ready (default: once every model can be served)')
    .option('--json', 'print report.json on stdout instead of the summary table')
    .action(async (o: TestnetCliOptions) => {
      const ac = new AbortController();
      let interrupted = false;
      const onSignal = (): void => {
        if (interrupted) {
          killAllChildren();
          process.exit(130);
        }
        interrupted = true;
        process.stderr.write('stopping the testnet (Ctrl-C again to kill at once)…\n');
        ac.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const durationMs = o.duration === undefined ? undefined : Math.round(parseNumber('--duration', o.duration, 0, 1, 86_400) * 1000);
      const { report, outDir, summary } = await runTestnet({
        scenarioPath: o.scenario,
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(o.out ? { outDir: o.out } : {}),
        signal: ac.signal,
        waitAll: o.waitAll === true,
        host: o.host,
        ...(o.port !== undefined ? { port: parseNumber('--port', o.port, 0, 1, 65_535) } : {}),
      });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const html = existsSync(join(outDir, 'report.html')) ? `\n        ${join(outDir, 'report.html')} (open in a browser)` : '';
        process.stdout.write(`\n${summary}\n\nreport: ${join(outDir, 'report.json')}${html}\nlogs:   ${outDir}/*.log\n`);
      }
      if (!report.ledger.conserved || report.invariants.violations.length) process.exitCode = 3;
    });

  registerLoad(program);
}
