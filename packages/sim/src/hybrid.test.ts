import { readFileSync } from 'node:fs';
import { parseScenario } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { computeMs } from './cost-model.js';
import { runSimulation } from './run-simulation.js';
import { SIM_DEFAULTS } from './sim-defaults.js';

const faults = parseScenario(JSON.parse(readFileSync(new URL('../../../scenarios/faults.json', import.meta.url), 'utf8')));

describe('hybrid client groups in the simulator', () => {
  it('split: generation jobs go to the baseline at its price and latency, digits jobs to the market', () => {
    const r = runSimulation(faults, { overrides: { 'clients[0].hybrid.policy': 'split', 'clients[0].hybrid.cloudLatencyMs': 40 } });
    const h = r.hybrid![0]!;
    expect(h.routed.cloud).toBeGreaterThan(0);
    expect(h.routed.market).toBeGreaterThan(0);
    expect(h.routed.fallback).toBe(0);
    expect(h.share.cloud + h.share.market).toBeCloseTo(1, 12);
    // every baseline job is a generation job: 40 ms + its 12-token compute
    expect(h.latencyMs.byRoute.cloud.p95).toBe(40 + computeMs('charlm', 'int8', 12));
    expect(h.latencyMs.latencySensitiveP95).toBe(40 + computeMs('charlm', 'int8', 12));
    // market jobs reached the market; baseline jobs never did
    expect(r.jobs.submitted).toBeLessThan(h.routed.market + h.routed.cloud + 10);
  });

  it('fallback under the faults scenario: latency-sensitive p95 stays within fallbackAfterMs + the baseline latency + compute + one network hop', () => {
    const fallbackAfterMs = 700;
    const cloudLatencyMs = 40;
    const r = runSimulation(faults, { overrides: { 'clients[0].hybrid.policy': 'fallback', 'clients[0].hybrid.fallbackAfterMs': fallbackAfterMs, 'clients[0].hybrid.cloudLatencyMs': cloudLatencyMs } });
    const h = r.hybrid![0]!;
    expect(h.routed.fallback).toBeGreaterThan(0);
    expect(h.routed.market).toBeGreaterThan(0);
    const bound = fallbackAfterMs + cloudLatencyMs + computeMs('charlm', 'int8', 12) + SIM_DEFAULTS.networkLatencyMs + SIM_DEFAULTS.networkJitterMs;
    expect(h.latencyMs.latencySensitiveP95!).toBeLessThanOrEqual(bound);
    expect(h.usdPer1000Jobs!).toBeGreaterThan(0);
  });

  it('error: an unknown policy is refused naming the field', () => {
    expect(() => runSimulation(faults, { overrides: { 'clients[0].hybrid.policy': 'random' } })).toThrow(/policy/);
  });
});
