import type { Command } from 'commander';

/** Registers `infermarket models`. */
export function register(_program: Command): void {}
