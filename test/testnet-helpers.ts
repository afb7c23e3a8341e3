// Helpers for the cross-process tests: run the built CLI (`node packages/cli/dist/main.js`) as real OS
// processes on 127.0.0.1 and read what they wrote.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '@infermarket/protocol';

export const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `infermarket-${prefix}-`));
}

/** Remove a run's temporary directory (set INFERMARKET_KEEP_TEST_RUNS=1 to keep logs and reports for a look). */
export function removeRun(dir: string | undefined): void {
  if (!dir || process.env.INFERMARKET_KEEP_TEST_RUNS === '1') return;
  rmSync(dir.endsWith('/out') ? dirname(dir) : dir, { recursive: true, force: true });
}

/** Run `infermarket <args>` to completion; resolves with its exit code and output. */
export function runCli(args: string[], opts: { timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`infermarket ${args.join(' ')} timed out\n${stderr.slice(-3000)}`));
    }, opts.timeoutMs ?? 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Write a scenario to a temp file, run `infermarket testnet` on it, and return the report and the load log. */
export async function runScenario(scenario: Record<string, unknown>, prefix: string): Promise<{ report: RunReport & { testnet: Record<string, unknown> }; dir: string; jobs: Record<string, unknown>[]; stderr: string; code: number | null }> {
  const dir = tempDir(prefix);
  const file = join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify(scenario));
  const out = join(dir, 'out');
  const r = await runCli(['testnet', '--scenario', file, '--out', out, '--wait-all'], { timeoutMs: 120_000 });
  let report: RunReport & { testnet: Record<string, unknown> };
  try {
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as typeof report;
  } catch {
    throw new Error(`testnet wrote no report (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
  }
  const jobs: Record<string, unknown>[] = [];
  for (const name of ['load-client.log']) {
    for (const line of readFileSync(join(out, name), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const j = JSON.parse(line) as Record<string, unknown>;
      if (j.event === 'job') jobs.push(j);
    }
  }
  return { report, dir: out, jobs, stderr: r.stderr, code: r.code };
}

/** Start `infermarket market` and wait for its `listening` line. */
export async function startMarket(args: string[]): Promise<{ child: ChildProcess; url: string; wsUrl: string; marketKey: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'market', '--host', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<Record<string, string>>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`market did not listen:\n${stderr.slice(-2000)}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(buf.slice(0, nl)) as Record<string, string>);
      }
    });
    child.on('exit', (code) => reject(new Error(`market exited ${code}:\n${stderr.slice(-2000)}`)));
  });
  return {
    child,
    url: line.url!,
    wsUrl: line.wsUrl!,
    marketKey: line.marketKey!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      }),
  };
}

/** Fail fast with the logs' tail when a report is missing something. */
export function describeRun(r: { report: RunReport; stderr: string }): string {
  return `jobs ${JSON.stringify(r.report.jobs)} miners ${JSON.stringify(r.report.miners.map((m) => [m.id, m.jobs, m.settled, m.missed, m.slashedMicro]))}\n${r.stderr.slice(-2500)}`;
}
