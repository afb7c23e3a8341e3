import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfermarketError } from '@infermarket/protocol';
import { emulatedCommand } from '@infermarket/inference';

/** The built CLI entry (`dist/main.js`), resolved from this file so it works from any working directory. */
export const CLI_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
/** The slim entry for miners, validators and load generators (same commands, faster start). */
export const NODE_MAIN = fileURLToPath(new URL('./node-main.js', import.meta.url));

/** One child process of a testnet. */
export interface ManagedProcess {
  readonly name: string;
  readonly args: string[];
  child: ChildProcess | null;
  /** Lines seen on stdout (JSON lines are parsed), newest last. */
  readonly lines: Record<string, unknown>[];
  /** Times this process was started. */
  starts: number;
  /** Resolves with the first stdout JSON line whose `event` is `event` (since the last start). */
  waitFor(event: string, timeoutMs: number): Promise<Record<string, unknown>>;
  /** Start (again). */
  start(): void;
  /** SIGKILL (a crash). */
  kill(): void;
  /** SIGSTOP / SIGCONT: the process freezes with its sockets open (a partition), then resumes. */
  pause(): void;
  resume(): void;
  /** Write a line to the child's stdin (only with `stdin: true`). */
  send(line: string): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
  running(): boolean;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** Make sure no child outlives the orchestrator: kill them on exit, SIGINT and SIGTERM. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = (): void => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killAll);
}

/** Kill every live child now (SIGKILL). */
export function killAllChildren(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * A CLI child process (`node dist/main.js <args>`) whose stdout and stderr go to `DIR/<name>.log`, and
 * whose stdout JSON lines are also parsed so the orchestrator can wait for `listening`/`ready` events.
 */
export function createManagedProcess(options: {
  name: string;
  args: string[];
  logDir: string;
  env?: Record<string, string>;
  stdin?: boolean;
  entry?: string;
  /** Every stdout JSON line, as it arrives (`lines` keeps only the recent ones). */
  onLine?: (line: Record<string, unknown>) => void;
  /** Run under `qemu-x86_64 -cpu <cpu>` (an emulated CPU tier; needs qemu-user). */
  cpu?: string;
}): ManagedProcess {
  const entry = options.entry ?? CLI_MAIN;
  const command = (args: string[]): { command: string; args: string[] } => {
    if (!options.cpu) return { command: process.execPath, args };
    try {
      return emulatedCommand(options.cpu, process.execPath, args);
    } catch (e) {
      throw new InfermarketError('ERR_BAD_SCENARIO', `${options.name}: "cpu": ${(e as Error).message}`, { cause: e, details: { field: 'cpu' } });
    }
  };
  command([]); // an unusable "cpu" fails here, before anything starts
  hookExit();
  let log: WriteStream | null = null;
  let waiters: { event: string; resolve: (l: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  let exited: Promise<void> = Promise.resolve();
  /** How the child of the latest start exited (null while it runs, or before the first start). */
  let lastExit: { start: number; code: number | null; signal: NodeJS.Signals | null } | null = null;
  const p: ManagedProcess = {
    name: options.name,
    args: options.args,
    child: null,
    lines: [],
    starts: 0,
    waitFor(event, timeoutMs) {
      const sinceStart = p.lines.findLast((l) => l.event === event && l.__start === p.starts);
      if (sinceStart) return Promise.resolve(sinceStart);
      // already exited without saying it: waiting could only time out
      if (lastExit && lastExit.start === p.starts) {
        return Promise.reject(new InfermarketError('ERR_INTERNAL', `${options.name} exited (code ${lastExit.code}, signal ${lastExit.signal}) before "${event}"; see ${join(options.logDir, `${options.name}.log`)}`));
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.timer !== timer);
          reject(new InfermarketError('ERR_LATE', `${options.name} did not report "${event}" within ${timeoutMs} ms; see ${join(options.logDir, `${options.name}.log`)}`));
        }, timeoutMs);
        waiters.push({ event, resolve, reject, timer });
      });
    },
    start() {
      if (p.running()) return;
      p.starts++;
      log ??= createWriteStream(join(options.logDir, `${options.name}.log`), { flags: 'a' });
      const cmd = command([entry, ...options.args]);
      log.write(`# start ${p.starts}: ${cmd.command === process.execPath ? 'node' : cmd.command} ${cmd.args.join(' ')}\n`);
      // node processes get a stdin pipe that closes when this process dies (see node-main.ts)
      const slim = entry === NODE_MAIN;
      const child = spawn(cmd.command, cmd.args, {
        stdio: [options.stdin || slim ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        // own process group: a terminal's Ctrl-C reaches only the orchestrator, which then stops the
        // children in order (load, nodes, market) and still reads the market's final numbers
        detached: true,
        env: { ...process.env, ...options.env, ...(slim ? { INFERMARKET_EXIT_WITH_PARENT: '1' } : {}) },
      });
      p.child = child;
      live.add(child);
      const start = p.starts;
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        log?.write(d);
        buf += d.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line.startsWith('{')) continue;
          try {
            const j = JSON.parse(line) as Record<string, unknown>;
            j.__start = start;
            options.onLine?.(j);
            p.lines.push(j);
            if (p.lines.length > 2000) p.lines.splice(0, 1000);
            for (const w of [...waiters]) {
              if (w.event === j.event) {
                clearTimeout(w.timer);
                waiters = waiters.filter((x) => x !== w);
                w.resolve(j);
              }
            }
          } catch {
            // not JSON
          }
        }
      });
      child.stderr!.on('data', (d: Buffer) => log?.write(d));
      exited = new Promise((resolve) => {
        child.on('exit', (code, signal) => {
          live.delete(child);
          lastExit = { start, code, signal };
          log?.write(`# exit ${options.name}: code ${code} signal ${signal}\n`);
          if (p.child === child) p.child = null;
          for (const w of waiters) {
            clearTimeout(w.timer);
            w.reject(new InfermarketError('ERR_INTERNAL', `${options.name} exited (code ${code}, signal ${signal}) before "${w.event}"; see ${join(options.logDir, `${options.name}.log`)}`));
          }
          waiters = [];
          resolve();
        });
      });
    },
    kill() {
      p.child?.kill('SIGKILL');
    },
    pause() {
      p.child?.kill('SIGSTOP');
    },
    resume() {
      p.child?.kill('SIGCONT');
    },
    send(line) {
      p.child?.stdin?.write(`${line}\n`);
    },
    async stop(graceMs = 3_000) {
      const c = p.child;
      if (!c) return;
      c.kill('SIGCONT');
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    running: () => p.child !== null && p.child.exitCode === null && p.child.signalCode === null,
  };
  return p;
}
