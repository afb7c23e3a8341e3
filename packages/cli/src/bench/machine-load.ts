import { cpus, loadavg } from 'node:os';

/**
 * The machine's 1-minute load average per core, as a note for live suites: their numbers depend on
 * every other process competing for the same cores (a testnet is several processes on one machine).
 */
export function machineLoadNote(): string {
  const [one] = loadavg();
  return `load avg ${(one ?? 0).toFixed(1)} on ${cpus().length} cores at start`;
}
