#!/usr/bin/env node
import { Command } from 'commander';
import { InfermarketError } from '@infermarket/protocol';

const program = new Command('infermarket')
  .description('A decentralized inference market on your own machines: live testnet, simulator, sweeps.')
  .version('0.1.0')
  .showHelpAfterError();

/** Each command's module, loaded on demand: `infermarket market` need not load the simulator, nor `testnet` the market server. */
const COMMANDS: Record<string, () => Promise<{ register: (p: Command) => void }>> = {
  models: () => import('./commands/models.js'),
  market: () => import('./commands/market.js'),
  miner: () => import('./commands/miner.js'),
  validator: () => import('./commands/validator.js'),
  submit: () => import('./commands/submit.js'),
  probe: () => import('./commands/probe.js'),
  testnet: () => import('./commands/testnet.js'),
  sim: () => import('./commands/sim.js'),
  sweep: () => import('./commands/sweep.js'),
  bench: () => import('./commands/bench.js'),
  theory: () => import('./commands/theory.js'),
  study: () => import('./commands/study.js'),
  diff: () => import('./commands/diff.js'),
  cloud: () => import('./commands/cloud.js'),
  compare: () => import('./commands/compare.js'),
};

// a known command name first loads just that module (startup time of every spawned process); anything
// else (help, `load`, typos) loads them all so help and error messages list every command
const first = process.argv[2];
const chosen = first !== undefined && Object.hasOwn(COMMANDS, first) ? [COMMANDS[first]!] : Object.values(COMMANDS);
for (const mod of await Promise.all(chosen.map((load) => load()))) mod.register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof InfermarketError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exitCode = 1;
});
