import { cpus, loadavg } from 'node:os';

/** The machine's state when a suite starts: load averages (1, 5, 15 min), CPU model, cores. */
export interface MachineLoad {
  atIso: string;
  loadavg: [number, number, number];
  cpu: string;
  cores: number;
}

/** Read the machine's load now (recorded at the start of every suite, in the JSON and the table). */
export function machineLoad(): MachineLoad {
  const [a = 0, b = 0, c = 0] = loadavg();
  const cs = cpus();
  return { atIso: new Date().toISOString(), loadavg: [a, b, c], cpu: cs[0]?.model.trim() ?? 'unknown', cores: cs.length };
}

/**
 * The machine's 1-minute load average per core, as a note for live suites: their numbers depend on
 * every other process competing for the same cores (a testnet is several processes on one machine).
 */
export function machineLoadNote(): string {
  const l = machineLoad();
  return `load avg ${l.loadavg[0].toFixed(1)} on ${l.cores} cores at start`;
}
