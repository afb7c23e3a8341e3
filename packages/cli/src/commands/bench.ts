import type { Command } from 'commander';

/** Registers `infermarket bench`. */
export function register(_program: Command): void {}
