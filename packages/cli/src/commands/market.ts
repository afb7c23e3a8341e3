import type { Command } from 'commander';

/** Registers `infermarket market`. */
export function register(_program: Command): void {}
