import { join } from 'node:path';
import type { Command } from 'commander';
import { runCompare, formatComparison } from '../cloud/compare.js';
import { killAllChildren } from '../testnet/processes.js';
import { parseAmount, parseNumber } from '../testnet/keys.js';

interface CompareCliOptions {
  scenario: string;
  duration?: string;
  out?: string;
  cloudPrice?: string;
  json?: boolean;
}

/** Registers `infermarket compare`: the same load against the centralized baseline and the market. */
export function register(program: Command): void {
  program
    .command('compare')
    .description('Run a scenario\'s client load against the centralized baseline (`infermarket cloud`) and against the market testnet; print cost per 1,000 jobs, verification, latency p50/p95/p99, time to first token, success rate and availability side by side with market ÷ cloud ratios; write DIR/compare.json and compare.html.')
    .requiredOption('--scenario <file>', 'scenario JSON file (see scenarios/)')
    .option('--duration <seconds>', 'run time of the load on each side (overrides the scenario)')
    .option('--out <dir>', 'output directory (default runs/compare-<name>-<seed>-<time>)')
    .option('--cloud-price <micro>', 'the cloud\'s fixed price per job in micro-mUSD (default 10000)')
    .option('--json', 'print compare.json on stdout instead of the table')
    .action(async (o: CompareCliOptions) => {
      const ac = new AbortController();
      let interrupted = false;
      const onSignal = (): void => {
        if (interrupted) {
          killAllChildren();
          process.exit(130);
        }
        interrupted = true;
        process.stderr.write('stopping compare (Ctrl-C again to kill at once)…\n');
        ac.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const durationMs = o.duration === undefined ? undefined : Math.round(parseNumber('--duration', o.duration, 0, 1, 86_400) * 1000);
      const { comparison, outDir } = await runCompare({
        scenarioPath: o.scenario,
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(o.out ? { outDir: o.out } : {}),
        ...(o.cloudPrice !== undefined ? { cloudPriceMicro: parseAmount('--cloud-price', o.cloudPrice, 10_000n) } : {}),
        signal: ac.signal,
      });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (o.json) process.stdout.write(`${JSON.stringify(comparison)}\n`);
      else process.stdout.write(`\n${formatComparison(comparison)}\n\ncomparison: ${join(outDir, 'compare.json')}\n            ${join(outDir, 'compare.html')} (open in a browser)\n`);
    });
}
