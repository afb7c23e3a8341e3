import type { Command } from 'commander';

/** Registers `infermarket testnet`. */
export function register(_program: Command): void {}
