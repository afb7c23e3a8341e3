import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from '@infermarket/protocol';
import { CLI_MAIN } from '../testnet/processes.js';
import { machineLoadNote } from './machine-load.js';
import { median, type BenchRow } from './harness.js';

/** The small scenario the startup suite boots: one miner, one validator, one client on digits. */
export function startupScenario(port: number): Scenario {
  return {
    name: 'bench-startup',
    description: 'Startup benchmark: the smallest useful testnet.',
    seed: 5,
    durationMs: 8_000,
    params: { auditRate: 0.1, challengeWindowMs: 500, epochMs: 5_000 },
    miners: [{ name: 'honest', count: 1, strategy: 'honest', models: ['digits'] }],
    validators: [{ name: 'validator', count: 1, strategy: 'honest', models: ['digits'] }],
    clients: [{ name: 'client', count: 1, ratePerSec: 5, models: { digits: 1 }, concurrency: 2 }],
    testnet: { port },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Milestones of one `infermarket testnet` start, in ms from the spawn. */
export interface StartupTimes {
  /** The orchestrator printed the market's address (the market is listening). */
  marketMs: number | null;
  /** The orchestrator printed that every node is ready (registered and bonded). */
  nodesMs: number | null;
  /** The market listed its first settled job. */
  firstSettledMs: number | null;
}

/**
 * Spawn `infermarket testnet` on the startup scenario and time it from the spawn: the orchestrator's own
 * progress lines (market listening, nodes ready) and the first settled job (polled from the market's
 * `GET /v1/stats`, stats.settled). Then Ctrl-C it (SIGINT) and wait until it has stopped everything.
 */
export async function timeTestnetStart(opts: { timeoutMs?: number; nodeArgs?: string[] } = {}): Promise<StartupTimes> {
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-startup-'));
  const port = await freePort();
  const scenarioPath = join(dir, 'scenario.json');
  writeFileSync(scenarioPath, JSON.stringify(startupScenario(port)));
  const times: StartupTimes = { marketMs: null, nodesMs: null, firstSettledMs: null };
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI_MAIN, 'testnet', '--scenario', scenarioPath, '--out', join(dir, 'run')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    const at = performance.now() - t0;
    const text = d.toString('utf8');
    stderr += text;
    if (times.marketMs === null && /^market /m.test(text)) times.marketMs = at;
    if (times.nodesMs === null && /^nodes .* ready in/m.test(text)) times.nodesMs = at;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    const until = Date.now() + (opts.timeoutMs ?? 30_000);
    while (!gone && Date.now() < until) {
      try {
        // job lists are each client's own (docs/privacy.md); the public count is in /v1/stats
        const res = await fetch(`http://127.0.0.1:${port}/v1/stats`, { signal: AbortSignal.timeout(1_000) });
        if (res.ok && ((await res.json()) as { stats: { settled: number } }).stats.settled > 0) {
          times.firstSettledMs = performance.now() - t0;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (times.firstSettledMs === null) throw new Error(`no settled job within ${opts.timeoutMs ?? 30_000} ms of the start; orchestrator said: ${stderr.slice(-400)}`);
    return times;
  } finally {
    if (!gone) child.kill('SIGINT');
    const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(hard);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Startup: from `infermarket testnet` spawn to the first settled job, with the milestones on the way. */
export async function startupSuite(ctx: { quick: boolean; log: (m: string) => void }): Promise<BenchRow[]> {
  const repeats = ctx.quick ? 1 : 3;
  const load = machineLoadNote();
  const runs: StartupTimes[] = [];
  if (!ctx.quick) await timeTestnetStart(); // warm the OS file cache (models, node_modules), as a second start would be
  for (let i = 0; i < repeats; i++) {
    const t = await timeTestnetStart();
    ctx.log(`startup run ${i + 1}/${repeats}: market ${Math.round(t.marketMs ?? -1)} ms, nodes ready ${Math.round(t.nodesMs ?? -1)} ms, first settled ${Math.round(t.firstSettledMs ?? -1)} ms`);
    runs.push(t);
  }
  const row = (name: string, pick: (t: StartupTimes) => number | null, extra: Partial<BenchRow> = {}): BenchRow => {
    const xs = runs.map(pick).filter((x): x is number => x !== null);
    return { suite: 'startup', name, value: median(xs), unit: 'ms', min: Math.min(...xs), max: Math.max(...xs), repeats: xs.length, ...extra };
  };
  const first = row('testnet spawn → first settled job', (t) => t.firstSettledMs, {
    note: '1 miner, 1 validator, 1 client on digits; includes the 500 ms challenge window',
  });
  first.target = { op: '<=', value: 5_000, met: first.value <= 5_000 };
  return [row('testnet spawn → market listening', (t) => t.marketMs, { note: load }), row('testnet spawn → nodes registered and bonded', (t) => t.nodesMs), first];
}
