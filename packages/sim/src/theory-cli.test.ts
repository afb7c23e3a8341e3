// End-to-end through the built CLI (npm test builds it first): `theory` and `study posp --quick` argument errors.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'packages/cli/dist/main.js');
const scenario = join(root, 'scenarios/posp-threshold.json');

describe('infermarket theory (built CLI)', () => {
  it('prints every term and p* as JSON, following --set', () => {
    const t = JSON.parse(execFileSync('node', [cli, 'theory', '--scenario', scenario, '--set', 'validators[0].count=10', '--json'], { encoding: 'utf8', cwd: root }));
    const row = t.rows[0];
    expect(row.threshold.terms.validators).toBe(10);
    expect(row.threshold.terms.computeCostMicro).toBeCloseTo(312, 9);
    expect(row.threshold.pStar).toBeCloseTo(312 / (row.threshold.terms.rewardMicro + 1000), 9);
    expect(row.sources.computeCostMicro).toMatch(/heavy:int8 5\.2 CPU-ms/);
  });

  it('prints a table naming p* and the audit timeout it was given', () => {
    const text = execFileSync('node', [cli, 'theory', '--scenario', scenario, '--audit-timeout-rate', '0.5', '--audit-reassignments', '0'], { encoding: 'utf8', cwd: root });
    expect(text).toMatch(/auditAnswered\s+0\.5\b/);
    expect(text).toMatch(/p\*\s+0\.313/); // 0.1566 / 0.5
    // by default the rules' reassignment applies (maxAuditAttempts 3): answered 1 − 0.5³
    const byRules = execFileSync('node', [cli, 'theory', '--scenario', scenario, '--audit-timeout-rate', '0.5'], { encoding: 'utf8', cwd: root });
    expect(byRules).toMatch(/auditAnswered\s+0\.875\b/);
  });

  it('error: a bad option exits non-zero naming it', () => {
    const r = spawnSync('node', [cli, 'theory', '--scenario', scenario, '--audit-timeout-rate', '2'], { encoding: 'utf8', cwd: root });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERR_VALIDATION: --audit-timeout-rate must be a probability/);
    const s = spawnSync('node', [cli, 'study', 'posp', '--quick', '--only', 'nope', '--out', join(root, 'runs', 'never')], { encoding: 'utf8', cwd: root });
    expect(s.status).toBe(1);
    expect(s.stderr).toMatch(/ERR_VALIDATION: --only: no study scenario named nope/);
  });
});
