#!/usr/bin/env node
import { Command } from 'commander';
import { InfermarketError } from '@infermarket/protocol';
import * as models from './commands/models.js';
import * as market from './commands/market.js';
import * as miner from './commands/miner.js';
import * as validator from './commands/validator.js';
import * as submit from './commands/submit.js';
import * as probe from './commands/probe.js';
import * as testnet from './commands/testnet.js';
import * as sim from './commands/sim.js';
import * as sweep from './commands/sweep.js';
import * as bench from './commands/bench.js';

const program = new Command('infermarket')
  .description('A decentralized inference market on your own machines: live testnet, simulator, sweeps.')
  .version('0.1.0')
  .showHelpAfterError();

for (const cmd of [models, market, miner, validator, submit, probe, testnet, sim, sweep, bench]) cmd.register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof InfermarketError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exitCode = 1;
});
