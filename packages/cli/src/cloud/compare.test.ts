import { describe, expect, it } from 'vitest';
import { hybridGroupReport } from '@infermarket/sim';
import { formatComparison, sideMetrics, type LoadJobLine } from './compare.js';

const job = (o: Partial<LoadJobLine>): LoadJobLine => ({ model: 'digits', status: 'settled', latencyMs: 100, ttftMs: 50, audited: false, priceMicro: '10000', paidMicro: '10200', ...o });

describe('sideMetrics', () => {
  it('counts cost per 1,000 settled jobs, verification as the validator fee of audited jobs, and rates', () => {
    const jobs = [
      job({ latencyMs: 100 }),
      job({ latencyMs: 200, audited: true, paidMicro: '20200' }),
      job({ model: 'charlm', latencyMs: 300, ttftMs: 30 }),
      job({ status: 'failed', paidMicro: '0', latencyMs: 5_000 }),
      job({ status: 'rejected', paidMicro: null, priceMicro: null, latencyMs: 1 }),
    ];
    const m = sideMetrics(jobs, { generationModels: ['charlm'], validatorFeeBps: 10_000, throttled: 2 });
    expect(m).toMatchObject({ attempted: 5, submitted: 4, settled: 3, throttled: 2, paidMicro: '40600', verificationMicro: '10000' });
    expect(m.costPer1000JobsMicro).toBe(((40_600n * 1000n) / 3n).toString());
    expect(m.successRate).toBeCloseTo(3 / 4);
    expect(m.availability).toBeCloseTo(3 / 5);
    expect(m.auditRate).toBeCloseTo(1 / 3);
    expect(m.verificationShare).toBeCloseTo(10_000 / 40_600);
    expect(m.latencyMs).toEqual({ p50: 200, p95: 300, p99: 300 });
    expect(m.ttftMs).toEqual({ p50: 30, p95: 30 }); // generation jobs only
  });

  it('has no rates or percentiles without jobs (never a made-up zero)', () => {
    const m = sideMetrics([], { generationModels: ['charlm'], validatorFeeBps: 10_000 });
    expect(m.successRate).toBeNull();
    expect(m.latencyMs).toBeNull();
    expect(m.costPer1000JobsMicro).toBeNull();
  });
});

describe('formatComparison', () => {
  it('prints both sides and the ratios', () => {
    const cloud = sideMetrics([job({ latencyMs: 10, paidMicro: '10000' })], { generationModels: [], validatorFeeBps: 0 });
    const market = sideMetrics([job({ latencyMs: 30 })], { generationModels: [], validatorFeeBps: 0 });
    const text = formatComparison({
      scenario: 's',
      seeds: { scenario: 1, loads: ['1'], cloudKey: 'cloud-1' },
      durationMs: 1000,
      cloud: { ...cloud, priceMicro: '10000', variant: 'int8', verification: 'none', faults: [] },
      market: { ...market, variant: 'int8', verification: 'sampled', faults: [], outDir: '/x', wrongSettled: { wrong: 0, settled: 1 } },
      ratios: { latencyP50: 3, latencyP95: 3, latencyP99: 3, ttftP50: null, costPer1000Jobs: 1.02 },
      notes: [],
    });
    expect(text).toMatch(/latency p50 \(ms\)\s+10\s+30\s+3\.00×/);
    expect(text).toMatch(/cost per 1,000 jobs \(mUSD\)\s+10\.000\s+10\.200\s+1\.02×/);
  });
  it('prints the market side\'s hybrid groups: the share routed each way, cost and latency', () => {
    const side = sideMetrics([job({})], { generationModels: [], validatorFeeBps: 0 });
    const hybrid = hybridGroupReport({ group: 'client', policy: 'fallback', fallbackAfterMs: 700, cloudPriceMicro: 10_000n, cloudLatencyMs: 0, latencyMs: { market: [500, 600], cloud: [], fallback: [750, 800] }, latencySensitiveMs: [800], usdMicro: 40_000 });
    const text = formatComparison({
      scenario: 's',
      seeds: { scenario: 1, loads: ['1'], cloudKey: 'cloud-1' },
      durationMs: 1000,
      cloud: { ...side, priceMicro: '10000', variant: 'int8', verification: 'none', faults: [] },
      market: { ...side, variant: 'int8', verification: 'sampled', faults: [], outDir: '/x', wrongSettled: null },
      ratios: { latencyP50: 1, latencyP95: 1, latencyP99: 1, ttftP50: null, costPer1000Jobs: 1 },
      notes: [],
      hybrid: [hybrid],
    });
    expect(text).toMatch(/hybrid\s+client \(fallback, fallbackAfterMs 700\): market 2 \/ baseline 0 \/ fallback 2 \(50% \/ 0% \/ 50%\); USD per 1,000 jobs 10\.000/);
    expect(text).toMatch(/latency-sensitive p95 800 ms/);
  });
});
