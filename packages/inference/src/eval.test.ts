import { describe, it, expect } from 'vitest';
import { evalModels, formatEvalTable } from './eval.js';
import type { EvalReport } from './eval.js';

let report: EvalReport | undefined;
async function quickReport(): Promise<EvalReport> {
  report ??= await evalModels({ models: ['digits', 'charlm'], quick: true });
  return report;
}

describe('evalModels (quick) and comparator calibration', () => {
  it('accepts every honest variation measured: threads 1/2, batch composition, optimization level', async () => {
    const r = await quickReport();
    expect(r.calibration.length).toBe(8);
    for (const c of r.calibration) {
      expect(c.falsePositiveRate, `${c.model}/${c.variant}`).toBe(0);
      expect(c.honestComparisons).toBeGreaterThan(0);
    }
  });

  it('rejects the cheats: downgraded variants, random output, another input’s output', async () => {
    const r = await quickReport();
    for (const c of r.calibration) {
      for (const cheat of c.cheats) expect(cheat.acceptedRate, `${c.model}/${c.variant}: ${cheat.cheat}`).toBe(0);
      expect(c.falseNegativeRate).toBe(0);
    }
  });

  it('int8 is bit-identical across threads, batch composition and optimization level', async () => {
    const r = await quickReport();
    for (const row of r.rows.filter((x) => x.variant === 'int8')) {
      expect(row.bitIdentical, row.model).toEqual({ threads: true, batch: true, optLevel: true });
    }
    for (const row of r.rows) expect(row.bitIdentical.threads, `${row.model}/${row.variant}`).toBe(true);
  });

  it('reports quality, agreement with fp32 and seeded generation determinism', async () => {
    const r = await quickReport();
    const digits = r.rows.filter((x) => x.model === 'digits');
    expect(digits.find((x) => x.variant === 'fp32')!.quality).toBeGreaterThanOrEqual(0.9);
    for (const row of digits) expect(row.top1AgreementVsFp32).toBeGreaterThan(0.98);
    const lm = r.rows.find((x) => x.model === 'charlm' && x.variant === 'fp32')!;
    expect(lm.perplexity).toBeLessThan(12);
    for (const g of r.generation) expect(g.identicalThreads).toBe(1);
    const table = formatEvalTable(r);
    expect(table).toContain('| digits | int8 |');
    expect(table).toContain('Tolerance calibration');
  });
});
