import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { kneeOf, matchingInfo } from './overhead-suite.js';
import { checkResults, type BenchResults } from './results.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

describe('bench results (smoke)', () => {
  it('the bench command writes JSON with the machine, the load at the start of each suite and consistent rows', async () => {
    const out = mkdtempSync(join(tmpdir(), 'im-bench-smoke-'));
    try {
      await promisify(execFile)(process.execPath, [MAIN, 'bench', '--suite', 'protocol', '--quick', '--no-readme', '--out', out], { maxBuffer: 1 << 24, timeout: 120_000 });
      const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
      expect(r.machine.cores).toBeGreaterThan(0);
      expect(r.suites.map((s) => s.suite)).toEqual(['protocol']);
      expect(r.suites[0]!.load.loadavg).toHaveLength(3);
      expect(r.suites[0]!.load.cpu).toBe(r.machine.cpu);
      expect(r.rows.length).toBeGreaterThan(0);
      expect(checkResults(r)).toEqual([]);
      expect(readFileSync(join(out, 'results.md'), 'utf8')).toMatch(/^- protocol: [\d.]+, [\d.]+, [\d.]+ on \d+ cores/m);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 150_000);

  it('finds rows that disagree with their spread, their target or their raw blocks', () => {
    const load = { atIso: '2026-01-01T00:00:00.000Z', loadavg: [0.5, 0.4, 0.3] as [number, number, number], cpu: 'x', cores: 2 };
    const r: BenchResults = {
      machine: { cpu: 'x', cores: 2, memoryGiB: 1, platform: 'linux-x64', node: 'v20', onnxruntime: null, date: load.atIso },
      quick: true,
      suites: [{ suite: 'overhead', quick: true, load, wallMs: 1, meta: { seed: 8, conditions: [{ kind: 'latency', model: 'digits', inFlight: 8, jobs: 100, market: [{ finished: 1, elapsedMs: 1000 }] }, { kind: 'throughput', model: 'digits', inFlight: 8, jobs: 100, market: [{ finished: 100, elapsedMs: 1000 }] }] } }],
      rows: [
        { suite: 'overhead', name: 'digits jobs/s through the market, 8 in flight', value: 120, unit: 'jobs/s', min: 100, max: 130, repeats: 1 },
        { suite: 'overhead', name: 'a', value: 5, unit: 'ms', min: 1, max: 4, repeats: 1 },
        { suite: 'overhead', name: 'negative, in its spread', value: -37.5, unit: 'ms', min: -37.5, max: -37.5, repeats: 1 },
        { suite: 'overhead', name: 'b', value: 5, unit: 'ms', min: 5, max: 5, repeats: 1, target: { op: '<=', value: 1, met: true } },
        { suite: 'overhead', name: 'c', value: Number.NaN, unit: '×', min: Number.NaN, max: Number.NaN, repeats: 0, target: { op: '>=', value: 0.95, met: true } },
        { suite: 'simulator', name: 'simulated jobs per second, one core, full rules', value: 1, unit: 'jobs/s', min: 1, max: 1, repeats: 1 },
      ],
    };
    const problems = checkResults(r);
    expect(problems).toEqual([
      'overhead / a: median 5 is outside its spread 1 … 4',
      'overhead / b: target <= 1 marked met at 5',
      'overhead / c: an unmeasured row cannot meet its target',
      'simulator / simulated jobs per second, one core, full rules: no suite entry (load, seeds) for "simulator"',
      'overhead / digits jobs/s through the market, 8 in flight: 120 is not the median of its blocks (100)',
      'simulator: jobs/s without events per job',
    ]);
  });

  it('finds the knee of a sweep and reads the matching mode from the market parameters', () => {
    const pts = [1, 2, 4, 8, 16].map((n, i) => ({ inFlight: n, perSec: [10, 19, 30, 33, 32][i]! }));
    expect(kneeOf(pts, 0.9)).toMatchObject({ inFlight: 4, perSec: 30, peak: { inFlight: 8, perSec: 33 } });
    expect(matchingInfo({ bidWindowMs: 50 })).toEqual({ matchingMode: 'auction', bidWindowMs: 50, windowInLatency: true });
    expect(matchingInfo({ matchingMode: 'offers', bidWindowMs: 50 })).toEqual({ matchingMode: 'offers', bidWindowMs: 50, windowInLatency: false });
  });
});
