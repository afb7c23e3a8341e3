import { InfermarketError, parseScenario, resolveScenario, type MarketEvent } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { runSimulation } from './run-simulation.js';

function scenario(batchRows: number | undefined, lazy = 0) {
  return parseScenario({
    name: `batch-${batchRows ?? 1}`,
    seed: 5,
    durationMs: 10_000,
    params: { auditRate: 0.5, jailDurationMs: 1_000 },
    miners: [{ count: 2, strategy: 'honest', pricing: { priceMicro: '1000' } }, ...(lazy ? [{ count: lazy, strategy: 'lazy' as const, pricing: { priceMicro: '900' } }] : [])],
    validators: [{ count: 2, strategy: 'honest' }],
    clients: [{ count: 2, ratePerSec: 10, models: { heavy: 1 }, maxPriceMicro: '5000', ...(batchRows ? { batchRows } : {}) }],
    sim: { checkInvariants: true },
  });
}

describe('simulator: batch jobs (client group batchRows)', () => {
  it('submits rows through the same rules: each settled job pays price × rows, the ledger is conserved', () => {
    const rows: number[] = [];
    const r = runSimulation(scenario(32), { onApplied: (ev: MarketEvent) => ev.type === 'job.submit' && rows.push(ev.rows ?? 1) });
    expect(rows.length).toBeGreaterThan(50);
    expect(new Set(rows)).toEqual(new Set([32]));
    expect(r.invariants.violations).toEqual([]);
    expect(r.ledger.conserved).toBe(true);
    const settled = r.jobs.settled;
    expect(settled).toBeGreaterThan(0);
    const earned = r.miners.reduce((a, m) => a + BigInt(m.earnedMicro), 0n);
    expect(earned).toBe(BigInt(settled) * 1000n * 32n);
  });

  it('a batch of 32 costs the miners 32× the compute of one row; its audits re-execute auditSampleRows (4) rows', () => {
    const one = runSimulation(scenario(undefined));
    const many = runSimulation(scenario(32));
    const perJob = (r: typeof one) => r.sim.minerComputeMicro / r.miners.reduce((a, m) => a + m.jobs, 0);
    expect(perJob(many) / perJob(one)).toBeCloseTo(32, 0);
    const perAudit = (r: typeof one) => r.sim.validatorComputeMicro / r.validators.reduce((a, v) => a + v.audits, 0);
    expect(perAudit(many) / perAudit(one)).toBeCloseTo(4, 0);
  });

  it('lazy miners cheating on whole batches are caught by the row sample', () => {
    const r = runSimulation(scenario(32, 1));
    const lazy = r.miners.filter((m) => m.strategy === 'lazy' && m.jobs > 0);
    expect(lazy.length).toBeGreaterThan(0);
    for (const m of lazy) expect(BigInt(m.slashedMicro)).toBeGreaterThan(0n);
    expect(r.ledger.conserved).toBe(true);
  });

  it('a hybrid client sending batches to the baseline pays the baseline per row too', () => {
    const s = scenario(8);
    const hybrid = parseScenario({ ...s, clients: [{ ...s.clients[0]!, hybrid: { policy: 'split', latencySensitiveModels: ['heavy'], cloudPriceMicro: '2000' } }] });
    const r = runSimulation(hybrid);
    const g = r.hybrid![0]!;
    expect(g.routed.cloud).toBeGreaterThan(0);
    expect(g.routed.market).toBe(0);
    // mUSD per 1,000 jobs: 2,000 micro per row × 8 rows per job
    expect(g.usdPer1000Jobs).toBeCloseTo((2_000 * 8 * 1000) / 1e6, 9);
  });

  it('error: batchRows above maxBatchRows, with private, or with charlm → ERR_BAD_SCENARIO naming clients[i].batchRows', () => {
    const bad = (client: Record<string, unknown>, params: Record<string, unknown> = {}): string => {
      try {
        resolveScenario(parseScenario({ name: 'x', seed: 1, durationMs: 1000, params, miners: [{ count: 1, strategy: 'honest' }], validators: [], clients: [{ count: 1, ratePerSec: 1, models: { digits: 1 }, ...client }] }));
      } catch (e) {
        if (e instanceof InfermarketError) return `${e.code}:${String(e.details?.field)}`;
        throw e;
      }
      return 'accepted';
    };
    expect(bad({ batchRows: 65 })).toBe('ERR_BAD_SCENARIO:clients[0].batchRows');
    expect(bad({ batchRows: 8 }, { maxBatchRows: 4 })).toBe('ERR_BAD_SCENARIO:clients[0].batchRows');
    expect(bad({ batchRows: 2, private: true })).toBe('ERR_BAD_SCENARIO:clients[0].batchRows');
    expect(bad({ batchRows: 2, models: { charlm: 1 } })).toBe('ERR_BAD_SCENARIO:clients[0].batchRows');
    expect(bad({ batchRows: 0 })).toMatch(/^ERR_BAD_SCENARIO/);
    expect(bad({ batchRows: 64 })).toBe('accepted');
  });
});
