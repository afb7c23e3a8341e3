import type { Command } from 'commander';

/** Registers `infermarket probe`. */
export function register(_program: Command): void {}
