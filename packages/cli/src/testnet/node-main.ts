#!/usr/bin/env node
// A slim entry for the processes a testnet starts (market, miners, validators, load): the same command
// modules as `infermarket`, each process loading only the one it runs (a miner does not load the market's
// server code, nor anyone the simulator's). It starts faster, which matters when a laptop boots a dozen
// nodes at once.
import { Command } from 'commander';
import { InfermarketError } from '@infermarket/protocol';
import * as miner from '../commands/miner.js';
import * as validator from '../commands/validator.js';
import { registerLoad } from './load-command.js';

// Started by `infermarket testnet` with a pipe on stdin: when the orchestrator dies, even by SIGKILL, the
// pipe closes and this process shuts down instead of living on as an orphan.
if (process.env.INFERMARKET_EXIT_WITH_PARENT === '1') {
  process.stdin.on('end', () => {
    // nobody reads this process's output any more: shut down gracefully, but never outlive the parent by
    // more than a few seconds (a load generator draining jobs on a dead market would wait for its deadlines)
    setTimeout(() => process.exit(0), 3_000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
  process.stdin.on('data', () => {});
}

const program = new Command('infermarket').description('infermarket node processes (miner, validator, load)').showHelpAfterError();
miner.register(program);
validator.register(program);
registerLoad(program);
if (process.argv[2] === 'market') (await import('../commands/market.js')).register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof InfermarketError) process.stderr.write(`error ${err.code}: ${err.message}\n`);
  else process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
