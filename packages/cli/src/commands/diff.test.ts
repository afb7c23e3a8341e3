import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '@infermarket/protocol';
import { runSimulation } from '@infermarket/sim';
import { diffReports, formatDiff } from './diff.js';

const scenario = parseScenario(JSON.parse(readFileSync(fileURLToPath(new URL('../../../../scenarios/quickstart.json', import.meta.url)), 'utf8')));

describe('infermarket diff', () => {
  it('lists exactly the parameters that differ and every outcome with b − a', () => {
    const a = runSimulation(scenario, { seed: 42 });
    const b = runSimulation(scenario, { seed: 42, overrides: { auditRate: 0.9 } });
    const d = diffReports(a, b, { a: 'A', b: 'B' });
    expect(d.parameters.map((p) => p.name)).toEqual(['auditRate']);
    expect(d.parameters[0]).toMatchObject({ a: a.params.auditRate, b: 0.9 });
    const audited = d.outcomes.find((o) => o.name === 'jobs.audited')!;
    expect(audited).toMatchObject({ a: a.jobs.audited, b: b.jobs.audited, delta: b.jobs.audited - a.jobs.audited });
    const lazy = d.outcomes.find((o) => o.name === 'miners[lazy].slashedMicro');
    expect(lazy).toBeDefined();
    expect(formatDiff(d)).toMatch(/parameters that differ:\n.*\nauditRate\s+\S+\s+0\.9/);
  });

  it('says the parameters are identical when they are', () => {
    const a = runSimulation(scenario, { seed: 42 });
    const d = diffReports(a, a, { a: 'A', b: 'A' });
    expect(d.parameters).toEqual([]);
    expect(d.outcomes.every((o) => o.delta === null || o.delta === 0)).toBe(true);
    expect(formatDiff(d)).toContain('parameters: identical');
  });
});
