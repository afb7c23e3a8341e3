import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario, type Scenario } from '@infermarket/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { runSweep } from './run-sweep.js';
import { runPospStudy } from './study-posp.js';
import { parseSweepParam, planSweep } from './sweep-plan.js';
import type { SweepRow } from './sweep-row.js';
import { sweepThresholds } from './sweep-threshold.js';
import { scenarioThreshold } from './threshold.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'im-threshold-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const load = (name: string): Scenario => parseScenario(JSON.parse(readFileSync(new URL(`../../../scenarios/${name}.json`, import.meta.url), 'utf8')));

describe('sweep thresholds', () => {
  it('adaptive miners cheat well below the analytic p* and stop well above it (a small, fast sweep)', async () => {
    const scenario = { ...load('study-posp-sr1'), durationMs: 8_000 };
    const pStar = scenarioThreshold(scenario).rows[0]!.threshold.pStar!;
    expect(pStar).toBeCloseTo(0.1566, 3);
    const low = Number((pStar / 3).toPrecision(3));
    const high = Number(Math.min(1, pStar * 3).toPrecision(3));
    const r = await runSweep({ scenario, params: [parseSweepParam(`auditRate=${low},${high}`)], seeds: 2, outDir: tmp(), workers: 0 });
    expect(r.failed).toEqual([]);
    const mean = (x: number): number => {
      const ys = r.rows.filter((row) => row.auditRate === x).map((row) => row.adaptiveCheatRate as number);
      return ys.reduce((a, b) => a + b, 0) / ys.length;
    };
    expect(mean(low)).toBeGreaterThan(0.7);
    expect(mean(high)).toBeLessThan(0.15);
    // the summary carries the measured crossing and the analytic p* beside it
    const th = r.thresholds[0]!;
    expect(th.analytic![0]!.pStar).toBeCloseTo(pStar, 12);
    expect(th.measured.threshold!).toBeGreaterThan(low);
    expect(th.measured.threshold!).toBeLessThan(high);
    const summary = JSON.parse(readFileSync(join(dirs[dirs.length - 1]!, 'summary.json'), 'utf8')) as { thresholds: unknown[] };
    expect(summary.thresholds).toHaveLength(1);
    const csv = readFileSync(join(dirs[dirs.length - 1]!, 'thresholds.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^param,metric,measured,ci95_lo,ci95_hi,/);
    expect(csv[1]).toContain(`auditRate,adaptiveCheatRate,${th.measured.threshold}`);
  }, 60_000);

  it('a bayes miner reads its colluding partners from the rules: between the two thresholds it cheats', async () => {
    // study-posp-sr10-r30: 3 of 10 validators collude with every adaptive miner and audits are not reassigned,
    // so P(slashed | audited) = 0.7 (silent referees cannot shield) and p* = 0.0649; without partners it would be 0.0455
    const base = load('study-posp-sr10-r30');
    expect(base.sim?.adaptive?.learner).toBe('bayes');
    const th = scenarioThreshold(base).rows[0]!.threshold;
    expect(th.terms.detectionGivenAudit).toBeCloseTo(0.7, 12);
    const between = Number((0.85 * th.pStar!).toPrecision(3)); // 1.21 × the p* it would have without partners
    const r = await runSweep({ scenario: { ...base, durationMs: 8_000 }, params: [parseSweepParam(`auditRate=${between}`)], seeds: 1, outDir: tmp(), workers: 0 });
    expect(r.failed).toEqual([]);
    expect(r.rows[0]!.adaptiveCheatRate as number).toBeGreaterThan(0.6);
  }, 60_000);

  it('leaves out runs without data, counts them, and never reads them as zero', () => {
    const scenario = load('study-posp-sr1');
    const plan = planSweep({ scenario, params: [parseSweepParam('auditRate=0.05,0.1,0.2,0.4')], mode: 'grid', seeds: 3 });
    const rate = (x: number): number => (x < 0.15 ? 0.9 : 0.06);
    const rows = plan.runs.map((run) => ({
      key: run.key,
      point: run.point,
      seedIndex: run.seedIndex,
      masterSeed: plan.masterSeed,
      runSeed: run.runSeed,
      ...run.overrides,
      // seed 2 had no adaptive commits at the top rate: no data, not "no cheating"
      adaptiveCheatRate: run.seedIndex === 2 && run.overrides.auditRate === 0.4 ? null : rate(run.overrides.auditRate as number),
    })) as SweepRow[];
    const [th] = sweepThresholds({ scenario, plan, rows });
    expect(th!.runsWithoutData).toBe(1);
    expect(th!.measured.runs).toBe(11);
    expect(th!.measured.threshold!).toBeGreaterThan(0.1);
    expect(th!.measured.threshold!).toBeLessThan(0.2);
    expect(th!.ratio!.value).toBeCloseTo(th!.measured.threshold! / th!.analytic![0]!.pStar!, 12);
  });

  it('names why there is no analytic p* when the first parameter is not the audit rate', () => {
    const scenario = load('study-posp-sr1');
    const plan = planSweep({ scenario, params: [parseSweepParam('slashFractionBps=500,2000')], mode: 'grid', seeds: 1 });
    const rows = plan.runs.map((run) => ({ key: run.key, point: run.point, seedIndex: 0, masterSeed: 1, runSeed: 1, ...run.overrides, adaptiveCheatRate: 0.5 })) as SweepRow[];
    const [th] = sweepThresholds({ scenario, plan, rows });
    expect(th!.analytic).toBeNull();
    expect(th!.analyticReason).toMatch(/first swept parameter is slashFractionBps/);
    expect(th!.ratio).toBeNull();
  });

  it('study posp --quick writes the table, the figure and one sweep per point', async () => {
    const out = tmp();
    const scenarios = ['study-posp-sr1', 'study-posp-sr10-r30'].map((n) => ({ file: `scenarios/${n}.json`, scenario: load(n) }));
    const seen: string[] = [];
    const r = await runPospStudy({ scenarios, outDir: out, quick: true, workers: 0, onProgress: (p) => seen.push(`${p.point}/${p.points} ${p.done}/${p.total}`) });
    expect(r.points.map((p) => p.name)).toEqual(['study-posp-sr1', 'study-posp-sr10-r30']);
    expect(r.points[1]!.colludingShare).toBe(0.3);
    expect(r.points[1]!.detectionGivenAudit).toBeCloseTo(0.7, 12);
    expect(r.points[0]!.auditRates).toHaveLength(3);
    expect(seen).toContain('2/2 6/6');
    const md = readFileSync(join(out, 'study.md'), 'utf8');
    expect(md).toMatch(/\| study-posp-sr1 \| 312 \/ 992 \/ 1000 \| 1\.01 \| 0 \| 1\.0000 \| 0\.1566 \|/);
    expect(md).toMatch(/QUICK MODE/);
    expect(readFileSync(join(out, 'cheat-rate.svg'), 'utf8')).toMatch(/<polyline/);
    expect(existsSync(join(out, 'study-posp-sr10-r30', 'summary.json'))).toBe(true);
  }, 60_000);
});
