import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DirectAnswer, DirectPhase } from './direct-worker.js';

const DIRECT_WORKER = fileURLToPath(new URL('./direct-worker.js', import.meta.url));

/** A running direct worker: one onnxruntime process that runs phases on request, so market and direct blocks can alternate. */
export interface DirectWorker {
  readonly pid: number;
  run(phase: DirectPhase): Promise<DirectAnswer>;
  close(): Promise<void>;
}

/** Start the direct worker (`direct-worker.ts`) as its own process. */
export function startDirectWorker(): DirectWorker {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [DIRECT_WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  let err = '';
  const waiting: { resolve: (a: DirectAnswer) => void; reject: (e: Error) => void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line.startsWith('{')) waiting.shift()?.resolve(JSON.parse(line) as DirectAnswer);
    }
  });
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-2_000)));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`direct worker exited with code ${code}: ${err.slice(-500)}`));
      resolve();
    }),
  );
  return {
    pid: child.pid ?? -1,
    run(phase) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(phase)}\n`);
      });
    },
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}
