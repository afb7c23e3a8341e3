// Disputes by bisection on the live testnet as OS processes (`infermarket testnet`: a market process, miner and
// validator processes on the real ONNX runtime, a load-generator process), with the node code's own strategies:
// a `downgrade` miner (runs int4, claims int8, and commits the trace of what it ran) is caught by referees
// re-executing one layer; a `lazy` validator (claims outputs it never computed) challenges honest work, has no
// run to judge the opened boundaries by, and loses by default. Honest nodes are never slashed; money is conserved.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRun, removeRun, runScenario } from './testnet-helpers.js';

const SCENARIO = {
  name: 'bisection-testnet',
  seed: 21,
  durationMs: 8_000,
  params: { disputeMode: 'bisection', auditRate: 1, disputeQuorum: 2, jailDurationMs: 0, maxSlashes: 100, slashFractionBps: 100 },
  miners: [
    { name: 'honest', count: 1, strategy: 'honest', pricing: { priceMicro: '10000' } },
    // cheaper, so it wins most jobs; with auditRate 1 and 4 validators the lazy one audits some of them
    { name: 'downgrade', count: 1, strategy: 'downgrade', variant: 'int8', cheatProbability: 1, pricing: { priceMicro: '9000' } },
  ],
  validators: [
    { name: 'validator', count: 3, strategy: 'honest' },
    { name: 'lazyval', count: 1, strategy: 'lazy' },
  ],
  clients: [{ name: 'client', count: 1, ratePerSec: 3, models: { heavy: 1 }, maxPriceMicro: '200000' }],
};

let dir: string | undefined;
afterAll(() => removeRun(dir));

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('disputes by bisection on the live testnet (processes)', () => {
  it('a downgrade miner loses its games at a layer and is slashed for wrong results; a lazy challenger loses by default; honest nodes are never slashed', async () => {
    const run = await runScenario(SCENARIO, 'bisection');
    dir = run.dir;
    const r = run.report;
    const why = describeRun(run);
    expect(r.ledger.conserved, why).toBe(true);
    expect(r.invariants.violations, why).toEqual([]);
    const byStrategy = (s: string) => r.slashes.filter((x) => (x.role === 'miner' ? r.miners : r.validators).find((n) => n.address === x.node || n.id === x.node)?.strategy === s);
    // the downgrade miner: slashed for wrong results, decided by referees re-executing one layer
    expect(byStrategy('downgrade').length, why).toBeGreaterThan(0);
    expect(byStrategy('downgrade').every((x) => x.reason === 'wrong result'), why).toBe(true);
    const downgrade = r.miners.find((m) => m.strategy === 'downgrade')!;
    const validatorLogs = r.validators.flatMap((v) => lines(join(run.dir, `${v.id}.log`)));
    const segments = validatorLogs.filter((e) => e.event === 'bisect.segment');
    expect(segments.some((e) => e.minerCorrect === false), why).toBe(true);
    // every segment a referee re-executed is one layer
    expect(segments.every((e) => (e.toIndex as number) - (e.fromIndex as number) === 1)).toBe(true);
    expect(lines(join(run.dir, `${downgrade.id}.log`)).some((e) => e.event === 'bisect.reveal'), why).toBe(true);
    // the lazy validator: it challenged, could not answer, and was slashed for defaulting (or for a false accusation)
    const lazy = byStrategy('lazy');
    expect(lazy.length, why).toBeGreaterThan(0);
    expect(lazy.every((x) => x.reason === 'bisection default' || x.reason === 'false accusation'), why).toBe(true);
    // honest miners and validators: never slashed
    expect(byStrategy('honest'), why).toEqual([]);
  }, 180_000);
});
