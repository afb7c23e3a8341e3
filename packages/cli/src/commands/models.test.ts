import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS_DIR, modelsEvalCommand } from '@infermarket/inference';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'infermarket-models-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** sha256 of every file under `root`, by relative path. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(root.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

describe('infermarket models eval', () => {
  it('prints the table and writes nothing into the models directory without --write; --write stores the numbers', async () => {
    const models = join(dir, 'models');
    cpSync(DEFAULT_MODELS_DIR, models, { recursive: true });
    const before = snapshot(models);
    const { stdout } = await promisify(execFile)(process.execPath, [MAIN, 'models', 'eval', '--models', 'digits', '--quick', '--models-dir', models], { maxBuffer: 1 << 24 });
    expect(stdout).toMatch(/digits/);
    expect(stdout).toMatch(/int8/);
    expect(snapshot(models)).toEqual(before);

    const lines: string[] = [];
    await modelsEvalCommand({ modelsDir: models, models: ['digits'], quick: true, updateManifest: true, out: (l) => lines.push(l), progress: () => {} });
    const after = snapshot(models);
    expect(after['/manifest.json']).not.toBe(before['/manifest.json']);
    const m = JSON.parse(readFileSync(join(models, 'manifest.json'), 'utf8')) as { models: { digits: { variants: { int8: { eval?: { p50Batch1Ms?: number } } } } } };
    expect(typeof m.models.digits.variants.int8.eval?.p50Batch1Ms).toBe('number');
    // only the manifest changes
    expect({ ...after, '/manifest.json': '' }).toEqual({ ...before, '/manifest.json': '' });
  }, 120_000);
});
