import { readFileSync } from 'node:fs';
import { parseScenario, type Scenario, type TruthReport } from '@infermarket/protocol';
import { runSimulation } from '@infermarket/sim';
import { describe, expect, it } from 'vitest';

// The trade-off of each verification level, measured in the simulator on scenarios/adversarial.json
// (ground truth: the simulator knows which outputs are wrong). docs/verification.md shows the same numbers.

const adversarial = JSON.parse(readFileSync(new URL('../scenarios/adversarial.json', import.meta.url), 'utf8')) as Scenario;

function run(level: string, edit: (s: Scenario) => Scenario = (s) => s, seed = 7): { truth: TruthReport; level: TruthReport['byLevel'][string]; report: ReturnType<typeof runSimulation> } {
  const s = edit({ ...adversarial, durationMs: 60_000, clients: adversarial.clients.map((c) => ({ ...c, verification: level as 'sampled' })) });
  const report = runSimulation(parseScenario(s), { seed });
  return { truth: report.truth!, level: report.truth!.byLevel[level]!, report };
}
const withoutColluder = (s: Scenario): Scenario => ({ ...s, validators: s.validators.filter((v) => v.strategy !== 'colluding') });

describe('verification levels on the adversarial scenario (simulator, ground truth)', () => {
  it('"always": no wrong output is delivered when no validator colludes, and it costs more than sampled', () => {
    const always = run('always', withoutColluder);
    const sampled = run('sampled', withoutColluder);
    expect(always.level.settled).toBeGreaterThan(200);
    expect(always.level.wrongCommitted).toBeGreaterThan(5); // the cheaters did try
    expect(always.truth.wrong).toBe(0);
    expect(always.truth.wrongPerThousand).toBe(0);
    expect(always.truth.audits!.drawn).toBeGreaterThanOrEqual(always.level.settled);
    expect(sampled.truth.wrong).toBeGreaterThan(0);
    expect(BigInt(always.level.costPerThousandMicro!)).toBeGreaterThan(BigInt(sampled.level.costPerThousandMicro!));
  });

  it('"always" on the scenario as shipped: nothing wrong is delivered; the colluding validator\'s silence is penalised and its audits reassigned', () => {
    const always = run('always');
    const sampled = run('sampled');
    const none = run('none');
    expect(always.level.wrongCommitted).toBeGreaterThan(5);
    expect(always.truth.wrong).toBe(0);
    // the colluder never reports its partner (replay-0): each silence costs it stake and hands the audit on
    expect(always.truth.audits!.missed).toBeGreaterThan(0);
    expect(always.truth.audits!.reassigned).toBe(always.truth.audits!.missed);
    expect(always.truth.audits!.unavailable).toBe(0);
    expect(BigInt(always.report.validators.find((v) => v.strategy === 'colluding')!.slashedMicro)).toBeGreaterThan(0n);
    expect(sampled.truth.wrongPerThousand!).toBeLessThan(none.truth.wrongPerThousand!);
    expect(none.truth.audits!.drawn).toBe(0);
  });

  it('"sampled" at audit rate p: wrong outputs delivered match wrong committed × (1 − p) within binomial error', () => {
    for (const seed of [7, 8, 9]) {
      const { level, report } = run('sampled', withoutColluder, seed);
      const p = Number(report.params.auditRate);
      const expected = level.wrongCommitted! * (1 - p);
      const sd = Math.sqrt(level.wrongCommitted! * p * (1 - p));
      expect(level.predictedWrongPerThousand).toBeCloseTo((expected / level.settled) * 1000, 2);
      expect(Math.abs(level.wrong - expected), `seed ${seed}: ${level.wrong} delivered, ${expected} predicted`).toBeLessThanOrEqual(3 * sd + 1);
    }
  });

  it('"none" delivers every wrong output committed and is the cheapest', () => {
    const none = run('none');
    const sampled = run('sampled');
    // every wrong output is paid for, but those still in flight when the run ends (2 clients × concurrency 4)
    expect(none.level.caught).toBe(0);
    expect(none.level.wrong).toBeLessThanOrEqual(none.level.wrongCommitted!);
    expect(none.level.wrong).toBeGreaterThanOrEqual(none.level.wrongCommitted! - 8);
    expect(none.truth.byStrategy.honest!.wrong).toBe(0);
    expect(BigInt(none.level.costPerThousandMicro!)).toBeLessThan(BigInt(sampled.level.costPerThousandMicro!));
  });

  it('"redundant" catches a lone cheater without any validator: it is slashed and nothing wrong is delivered', () => {
    const s = parseScenario({
      name: 'redundant-lone-cheater',
      seed: 3,
      durationMs: 60_000,
      params: { bidWindowMs: 150, jobDeadlineMs: 1_500, challengeWindowMs: 500, maxSlashes: 100, jailDurationMs: 0 },
      miners: [
        { name: 'honest', count: 3, strategy: 'honest', pricing: { priceMicro: '10000' } },
        { name: 'lazy', count: 1, strategy: 'lazy', cheatProbability: 1, pricing: { priceMicro: '9000' } },
      ],
      validators: [],
      clients: [{ name: 'client', count: 2, ratePerSec: 3, models: { digits: 1 }, maxPriceMicro: '100000', concurrency: 4, verification: 'redundant' }],
    });
    const r = runSimulation(s, { seed: 3 });
    const t = r.truth!;
    expect(r.validators).toEqual([]);
    expect(t.settled).toBeGreaterThan(50);
    expect(t.wrong).toBe(0);
    expect(t.byLevel.redundant!.wrongCommitted).toBeGreaterThan(10);
    // each lazy answer is outvoted and slashed (but one still in flight when the run ends)
    expect(t.byLevel.redundant!.caught).toBeGreaterThanOrEqual(t.byLevel.redundant!.wrongCommitted! - 1);
    const lazy = r.miners.find((m) => m.strategy === 'lazy')!;
    expect(BigInt(lazy.slashedMicro)).toBeGreaterThan(0n);
    expect(r.invariants.violations).toEqual([]);
  });
});
