import type { Command } from 'commander';

/** Registers `infermarket validator`. */
export function register(_program: Command): void {}
