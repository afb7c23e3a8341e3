import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario, type Scenario } from '@infermarket/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeSweeps } from './merge-sweeps.js';
import { runSweep } from './run-sweep.js';
import { parseSweepParam, planSweep } from './sweep-plan.js';
import { meanCi } from './sweep-stats.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'im-sweep-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const scenario: Scenario = parseScenario({
  name: 'sweep-test',
  seed: 21,
  durationMs: 3_000,
  params: { jailDurationMs: 200 },
  miners: [
    { count: 2, strategy: 'honest', pricing: { priceMicro: '1000', spreadBps: 300 } },
    { count: 1, strategy: 'lazy', pricing: { priceMicro: '1000', spreadBps: 300 } },
  ],
  validators: [{ count: 2, strategy: 'honest' }],
  clients: [{ count: 1, ratePerSec: 20, models: { digits: 1 } }],
});
const params = [parseSweepParam('auditRate=0.1,0.3'), parseSweepParam('miners[1].count=1,2')];
const read = (d: string, f: string): string => readFileSync(join(d, f), 'utf8');

describe('sweeps', () => {
  it('plans a grid or a zip, with the same run seeds at every point', () => {
    const grid = planSweep({ scenario, params, mode: 'grid', seeds: 3 });
    expect(grid.points).toHaveLength(4);
    expect(grid.runs).toHaveLength(12);
    expect(grid.runs.filter((r) => r.seedIndex === 1).every((r) => r.runSeed === grid.runs[1]!.runSeed)).toBe(true);
    const zip = planSweep({ scenario, params, mode: 'zip', seeds: 1 });
    expect(zip.points.map((p) => p.values)).toEqual([
      { auditRate: 0.1, 'miners[1].count': 1 },
      { auditRate: 0.3, 'miners[1].count': 2 },
    ]);
    expect(parseSweepParam('auditRate=0.1:0.3:0.1').values).toEqual([0.1, 0.2, 0.3]);
  });

  it('error: a bad swept value names the path before any run', () => {
    expect(() => planSweep({ scenario, params: [parseSweepParam('miners[0].strategy=honest,lazzy')], mode: 'grid', seeds: 1 })).toThrow(
      /miners\[0\]\.strategy must be one of/,
    );
    expect(() => planSweep({ scenario, params: [parseSweepParam('auditRat=0.1')], mode: 'grid', seeds: 1 })).toThrow(/auditRat/);
  });

  it('computes a 95% CI with Student t', () => {
    const r = meanCi([1, 2, 3, null])!;
    expect(r.mean).toBe(2);
    expect(r.n).toBe(3);
    expect(r.ci95).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 6);
  });

  it('resume skips finished runs and redoes a torn one', async () => {
    const out = tmp();
    const first = await runSweep({ scenario, params, seeds: 2, outDir: out, workers: 0 });
    expect(first.ran).toBe(8);
    const full = read(out, 'results.jsonl');
    // simulate an interruption: keep 5 rows and half of the 6th
    const lines = full.trim().split('\n');
    writeFileSync(join(out, 'results.jsonl'), `${lines.slice(0, 5).join('\n')}\n${lines[5]!.slice(0, 20)}`);
    const again = await runSweep({ scenario, params, seeds: 2, outDir: out, workers: 0, resume: true });
    expect(again.skipped).toBe(5);
    expect(again.ran).toBe(3);
    expect(read(out, 'results.jsonl')).toBe(full);
    await expect(runSweep({ scenario, params: [params[0]!], seeds: 2, outDir: out, workers: 0, resume: true })).rejects.toThrow(/different sweep/);
  });

  it('shards merged equal the unsharded sweep, byte for byte', async () => {
    const whole = tmp();
    await runSweep({ scenario, params, seeds: 2, outDir: whole, workers: 0 });
    const a = tmp();
    const b = tmp();
    const ra = await runSweep({ scenario, params, seeds: 2, outDir: a, workers: 0, shard: { index: 1, count: 2 } });
    const rb = await runSweep({ scenario, params, seeds: 2, outDir: b, workers: 0, shard: { index: 2, count: 2 } });
    expect(ra.ran + rb.ran).toBe(8);
    expect(ra.ran).toBeGreaterThan(0);
    const merged = tmp();
    const m = mergeSweeps({ dirs: [a, b], outDir: merged });
    expect(m.missing).toEqual([]);
    for (const f of ['results.jsonl', 'results.csv', 'summary.csv']) expect(read(merged, f)).toBe(read(whole, f));
    expect(JSON.parse(read(merged, 'summary.json')).points).toEqual(JSON.parse(read(whole, 'summary.json')).points);
    const partial = mergeSweeps({ dirs: [a], outDir: tmp() });
    expect(partial.missing).toHaveLength(rb.ran);
    expect(read(whole, 'sweep.html')).toContain('uPlot');
  });
});
