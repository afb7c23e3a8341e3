import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The built CLI (npm test runs `tsc -b` first), as the testnet orchestrator starts it.
const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearInterval(t);
        resolve(out.slice(0, nl));
      }
    }, 20);
    void exited.then(() => {
      clearInterval(t);
      reject(new Error(`exited before listening: ${err}`));
    });
  });
  firstLine.catch(() => undefined); // a test that expects the process to fail never reads the line
  return { child, firstLine, exited, stderr: () => err };
}

describe('infermarket market (CLI process)', () => {
  it('prints exactly one listening line, serves, and exits 0 on SIGTERM', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-cli-'));
    const p = run(['market', '--port', '0', '--db', join(dir, 'm.db'), '--seed', '7', '--params', '{"auditRate":0.5}', '--log-level', 'silent']);
    const line = JSON.parse(await p.firstLine) as Record<string, string>;
    expect(Object.keys(line)).toEqual(['event', 'url', 'wsUrl', 'dashboard', 'marketKey']);
    expect(line.event).toBe('listening');
    expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line.wsUrl).toBe(`${line.url!.replace('http', 'ws')}/v1/nodes`);
    expect(line.dashboard).toBe(`${line.url}/`);
    expect(line.marketKey).toMatch(/^[0-9a-f]{64}$/);
    const params = (await (await fetch(`${line.url}/v1/params`)).json()) as { auditRate: number };
    expect(params.auditRate).toBe(0.5);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('error: bad --params exits 1 naming the parameter', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-cli-'));
    const p = run(['market', '--port', '0', '--db', join(dir, 'm.db'), '--params', '{"auditRate":7}', '--log-level', 'silent']);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/ERR_INVALID_PARAM.*auditRate/);
  });
});
