import type { Command } from 'commander';

/** Registers `infermarket miner`. */
export function register(_program: Command): void {}
