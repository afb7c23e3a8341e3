import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'infermarket-market-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run `infermarket market ...` in `cwd`; resolve at the listening line (then stop it) or at exit. */
function market(args: string[], cwd: string): Promise<{ listening: Record<string, unknown> | null; models: { id: string; comparator: { tolerance?: number } }[]; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'market', '--port', '0', '--log-level', 'silent', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let listening: Record<string, unknown> | null = null;
    let models: { id: string; comparator: { tolerance?: number } }[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"event":"listening"'));
      if (line && !listening) {
        const l = JSON.parse(line) as Record<string, unknown>;
        listening = l;
        void fetch(`${String(l.url)}/v1/models`)
          .then((r) => r.json() as Promise<{ models: typeof models }>)
          .then((j) => void (models = j.models))
          .finally(() => child.kill('SIGTERM'));
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ listening, models, code, stderr: err }));
  });
}

describe('infermarket market: the models manifest', () => {
  it('the market and the miners find the same models/ directory', async () => {
    const { DEFAULT_MODELS_DIR: market } = await import('@infermarket/market');
    const { DEFAULT_MODELS_DIR: inference } = await import('@infermarket/inference');
    expect(resolve(market)).toBe(resolve(inference));
  });

  it('started outside the repository, it finds the repository models/ and serves their specs (heavy included)', async () => {
    const r = await market(['--db', join(dir, 'a.db')], dir);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.listening).not.toBeNull();
    expect(r.models.map((m) => m.id).sort()).toEqual(['charlm', 'deep', 'digits', 'heavy']);
    // the manifest's calibrated tolerance, not a loose built-in one
    for (const m of r.models) expect(m.comparator.tolerance).toBeLessThanOrEqual(1e-3);
  }, 30_000);

  it('refuses to start without a manifest, naming the path and the flag', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const r = await market(['--db', join(dir, 'b.db'), '--models-dir', empty], dir);
    expect(r.listening).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_NOT_FOUND');
    expect(r.stderr).toContain(join(empty, 'manifest.json'));
    expect(r.stderr).toContain('--models-dir');
  }, 30_000);
});
