import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSimulation } from '@infermarket/sim';
import { loadScenarioFile } from './sim.js';

const dir = mkdtempSync(join(tmpdir(), 'im-price-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenarioWith(oracle: Record<string, unknown>): string {
  const s = JSON.parse(readFileSync(new URL('../../../../scenarios/sim-only/economics.json', import.meta.url), 'utf8'));
  s.durationMs = 6_000;
  s.economics.oracle = oracle;
  const file = join(dir, `s${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(s));
  return file;
}

describe('economics.oracle.file: a price series read relative to the scenario file', () => {
  it('inlines the file and the run publishes exactly its prices', () => {
    writeFileSync(join(dir, 'prices.csv'), 'atMs,priceMicro\n0,1000000\n2000,500000\n4000,2000000\n');
    const s = loadScenarioFile(scenarioWith({ kind: 'series', file: 'prices.csv' }));
    expect(s.economics?.oracle).toEqual({ kind: 'series', points: [[0, 1000000], [2000, 500000], [4000, 2000000]] });
    const e = runSimulation(s).economics!;
    expect([e.oracle.minPriceMicro, e.oracle.maxPriceMicro, e.oracle.endPriceMicro, e.oracle.updates]).toEqual([500000, 2000000, 2000000, 3]);
  });

  it('error: a missing or malformed file is refused naming economics.oracle.file or the line', () => {
    expect(() => loadScenarioFile(scenarioWith({ kind: 'series', file: 'nope.csv' }))).toThrow(/economics\.oracle\.file/);
    writeFileSync(join(dir, 'bad.csv'), '0,1\n5,x\n');
    expect(() => loadScenarioFile(scenarioWith({ kind: 'series', file: 'bad.csv' }))).toThrow(/line 2/);
  });
});
