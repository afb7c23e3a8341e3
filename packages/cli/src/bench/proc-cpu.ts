import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSec: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux almost everywhere). */
function clockTicks(): number {
  if (ticksPerSec !== undefined) return ticksPerSec;
  try {
    ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    ticksPerSec = 100;
  }
  return ticksPerSec;
}

/**
 * CPU time (user + system, ms) another process has used so far, from `/proc/<pid>/stat` (fields 14 and 15).
 * Resolution is one clock tick (10 ms at CLK_TCK 100): read it over blocks of a second or more.
 * @throws Error naming the pid when the process is gone or /proc is unavailable (not Linux).
 */
export function processCpuMs(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the CPU time of process ${pid} from /proc/${pid}/stat (${(e as Error).message}); per-process CPU needs Linux`);
  }
  // the command name (field 2) is in parentheses and may hold spaces: split after its closing one
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14 → rest[11], stime field 15 → rest[12]
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / clockTicks();
}

/** CPU time (user + system, ms) this process has used so far (`process.cpuUsage`, µs resolution). */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
