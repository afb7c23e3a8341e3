// End-to-end through the built CLI (npm test builds it first): `sim` and a parallel `sweep` on worker threads.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'packages/cli/dist/main.js');
const scenario = join(root, 'scenarios/sim-small.json');
const out = mkdtempSync(join(tmpdir(), 'im-simcli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('infermarket sim / sweep (built CLI)', () => {
  it('sim writes report.json with the seed and prints JSON with --json', () => {
    const stdout = execFileSync('node', [cli, 'sim', '--scenario', scenario, '--seed', '9', '--set', 'durationMs=5000', '--out', join(out, 'run'), '--json'], { encoding: 'utf8' });
    const printed = JSON.parse(stdout);
    const written = JSON.parse(readFileSync(join(out, 'run', 'report.json'), 'utf8'));
    expect(printed).toEqual(written);
    expect(written.kind).toBe('sim');
    expect(written.seed).toBe(9);
    expect(written.sim.runSeed).toBe(9);
    expect(written.ledger.conserved).toBe(true);
  });

  it('error: a bad scenario override exits non-zero naming the path', () => {
    const r = spawnSync('node', [cli, 'sim', '--scenario', scenario, '--set', 'miners[1].strategy=lazzy', '--out', join(out, 'bad')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERR_BAD_SCENARIO: miners\[1\]\.strategy must be one of honest, lazy/);
  });

  it('sweep runs on worker threads and equals the in-thread sweep', () => {
    const args = ['sweep', '--scenario', scenario, '--set', 'durationMs=3000', '--param', 'auditRate=0.1,0.3', '--seeds', '2'];
    execFileSync('node', [cli, ...args, '--workers', '2', '--out', join(out, 'w2')], { encoding: 'utf8' });
    execFileSync('node', [cli, ...args, '--workers', '0', '--out', join(out, 'w0')], { encoding: 'utf8' });
    const a = readFileSync(join(out, 'w2', 'results.csv'), 'utf8');
    expect(a).toBe(readFileSync(join(out, 'w0', 'results.csv'), 'utf8'));
    expect(a.trim().split('\n')).toHaveLength(5);
    execFileSync('node', [cli, 'sweep', 'merge', join(out, 'w2'), '--out', join(out, 'm')], { encoding: 'utf8' });
    expect(readFileSync(join(out, 'm', 'results.csv'), 'utf8')).toBe(a);
  });
});
