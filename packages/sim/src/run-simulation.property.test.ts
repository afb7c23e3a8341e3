import fc from 'fast-check';
import { MINER_STRATEGIES, parseScenario, VALIDATOR_STRATEGIES } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { runSimulation } from './run-simulation.js';

const minerGroup = fc.record({
  count: fc.integer({ min: 0, max: 3 }),
  strategy: fc.constantFrom(...MINER_STRATEGIES),
  latencyMs: fc.integer({ min: 0, max: 400 }),
  jitterMs: fc.integer({ min: 0, max: 200 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  stakeMicro: fc.constantFrom('0', '1000', '100000000', '300000000'),
});

const scenario = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
  auditRate: fc.constantFrom(0, 0.1, 0.5, 1),
  slashFractionBps: fc.constantFrom(0, 1000, 10000),
  maxSlashes: fc.integer({ min: 1, max: 3 }),
  jailDurationMs: fc.constantFrom(0, 500, 5000),
  miners: fc.array(minerGroup, { minLength: 1, maxLength: 3 }),
  validators: fc.array(fc.record({ count: fc.integer({ min: 0, max: 3 }), strategy: fc.constantFrom(...VALIDATOR_STRATEGIES) }), { minLength: 1, maxLength: 2 }),
  rate: fc.constantFrom(1, 10, 40),
  churn: fc.boolean(),
  divergence: fc.constantFrom(0, 0.05),
  rejoin: fc.boolean(),
});

describe('runSimulation (property)', () => {
  it('any small market keeps every invariant after every event, and the same seed replays exactly', () => {
    fc.assert(
      fc.property(scenario, (x) => {
        const s = parseScenario({
          name: 'prop',
          seed: x.seed,
          durationMs: 4_000,
          params: { auditRate: x.auditRate, slashFractionBps: x.slashFractionBps, maxSlashes: x.maxSlashes, jailDurationMs: x.jailDurationMs, epochMs: 1_000, unbondingPeriodMs: 11_001 },
          miners: x.miners.map((g, i) => ({ ...g, name: `m${i}` })),
          validators: x.validators.map((g, i) => ({ ...g, name: `v${i}` })),
          clients: [{ count: 2, ratePerSec: x.rate, concurrency: 5, models: { digits: 1, charlm: 1 } }],
          sim: { checkInvariants: true, honestDivergenceRate: x.divergence, rejoinEjected: x.rejoin, ...(x.churn ? { churnMtbfMs: 800, churnDowntimeMs: 300 } : {}) },
        });
        const a = runSimulation(s);
        expect(a.invariants.violations).toEqual([]);
        expect(a.ledger.conserved).toBe(true);
        expect(a.jobs.settled + a.jobs.failed).toBeLessThanOrEqual(a.jobs.submitted);
        expect(JSON.stringify(runSimulation(s))).toBe(JSON.stringify(a));
      }),
      { numRuns: 25, seed: 5 },
    );
  });
});
