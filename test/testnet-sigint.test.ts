import { spawn, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, removeRun, tempDir } from './testnet-helpers.js';

const SCENARIO = {
  name: 'e2e-sigint',
  seed: 3,
  durationMs: 120_000,
  params: { challengeWindowMs: 300 },
  miners: [{ name: 'honest', count: 1, strategy: 'honest', models: ['digits'] }],
  validators: [{ name: 'validator', count: 1, strategy: 'honest', models: ['digits'] }],
  clients: [{ name: 'client', count: 1, ratePerSec: 2, models: { digits: 1 } }],
};

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('testnet on Ctrl-C', () => {
  it('stops every process it started and still writes its report', async () => {
    const dir = tempDir('sigint');
    const file = join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify(SCENARIO));
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [CLI, 'testnet', '--scenario', file, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`testnet did not come up:\n${stderr}`)), 60_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/progress/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const kids = childrenOf(child.pid!);
    // market, miner, validator, load generator
    expect(kids.length, stderr).toBe(4);
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(0);
    const survivors = kids.filter(alive);
    expect(survivors, `still running: ${survivors.join(', ')}`).toEqual([]);
    expect(existsSync(join(out, 'report.json'))).toBe(true);
    removeRun(dir);
  }, 90_000);

  it('leaves no orphan even when the orchestrator itself is killed with SIGKILL', async () => {
    const dir = tempDir('sigkill');
    const file = join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify(SCENARIO));
    const child = spawn(process.execPath, [CLI, 'testnet', '--scenario', file, '--out', join(dir, 'out')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`testnet did not come up:\n${stderr}`)), 60_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/nodes .* ready/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const kids = childrenOf(child.pid!);
    expect(kids.length, stderr).toBe(4);
    child.kill('SIGKILL');
    // each child watches a pipe from the orchestrator and shuts down when it closes
    const until = Date.now() + 10_000;
    while (kids.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(kids.filter(alive)).toEqual([]);
    removeRun(dir);
  }, 90_000);
});
