import type { Command } from 'commander';

/** Registers `infermarket sim`. */
export function register(_program: Command): void {}
