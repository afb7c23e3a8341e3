import type { Command } from 'commander';

/** Registers `infermarket submit`. */
export function register(_program: Command): void {}
