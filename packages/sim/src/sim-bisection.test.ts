import { maxBisectionRounds, parseScenario } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { runSimulation } from './run-simulation.js';
import { segmentShare, TRACE_LAYER_MACS } from './sim-bisection.js';

// every dispute here has a known right answer: lazy miners' garbage, and a lazy validator's cheap claims on honest work
const scenario = (disputeMode: 'quorum' | 'bisection') =>
  parseScenario({
    name: `dispute-${disputeMode}`,
    seed: 11,
    durationMs: 20_000,
    params: { auditRate: 0.5, disputeMode, disputeQuorum: 2, jailDurationMs: 0, maxSlashes: 100, slashFractionBps: 500 },
    clients: [{ count: 2, ratePerSec: 8, models: { heavy: 1 }, maxPriceMicro: '200000' }],
    miners: [
      { name: 'honest', count: 2, strategy: 'honest', pricing: { priceMicro: '10000', spreadBps: 2000 } },
      { name: 'lazy', count: 1, strategy: 'lazy', pricing: { priceMicro: '8000', spreadBps: 2000 } },
    ],
    validators: [
      { name: 'validator', count: 4, strategy: 'honest' },
      { name: 'lazyval', count: 1, strategy: 'lazy' },
    ],
    sim: { checkInvariants: true },
  });

describe('the simulator plays disputes by bisection', () => {
  const quorum = runSimulation(scenario('quorum'));
  const bisection = runSimulation(scenario('bisection'));

  it('settles the same disputes the right way in both modes, with every invariant checked after every event', () => {
    for (const r of [quorum, bisection]) {
      expect(r.invariants.violations).toEqual([]);
      expect(r.sim.disputesResolved).toBeGreaterThan(50);
      expect(r.sim.falseSlashes).toBe(0); // no honest miner lost a dispute
      expect(r.sim.detectionRate).toBeGreaterThan(0);
      expect(r.sim.validatorSlashes).toBeGreaterThan(0); // the lazy validator's false accusations cost it
    }
  });

  it('a referee re-executes one layer instead of the whole model: referee compute per dispute is one layer\'s share of quorum mode\'s', () => {
    const shares = TRACE_LAYER_MACS.heavy!.map((_, i) => segmentShare('heavy', i, i + 1));
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const ratio = bisection.sim.disputeRefereeCpuMs! / quorum.sim.disputeRefereeCpuMs!;
    // between the cheapest and the dearest layer (heavy's are uneven: 31%, 62%, 8% of its MACs)
    expect(ratio).toBeGreaterThan(Math.min(...shares));
    expect(ratio).toBeLessThan(Math.max(...shares));
  });

  it('counts the rounds (quorum: 1; bisection: ≤ ceil(log2 L) + 1) and the extra latency of the game', () => {
    expect(quorum.sim.disputeRounds).toBe(1);
    expect(bisection.sim.disputeRounds!).toBeGreaterThan(1);
    expect(bisection.sim.disputeRounds!).toBeLessThanOrEqual(maxBisectionRounds(TRACE_LAYER_MACS.heavy!.length));
    expect(bisection.sim.disputeLatencyMs!).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same report', () => {
    expect(JSON.stringify(runSimulation(scenario('bisection')).sim)).toBe(JSON.stringify(bisection.sim));
  });
});
