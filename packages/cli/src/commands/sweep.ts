import type { Command } from 'commander';

/** Registers `infermarket sweep`. */
export function register(_program: Command): void {}
