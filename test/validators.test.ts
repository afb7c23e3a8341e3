import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, removeRun, runScenario } from './testnet-helpers.js';

// Validator strategies on a live testnet: a lazy validator (claims without re-executing) accuses honest
// miners and loses the disputes; a colluding validator stays silent on its partner's jobs, pays missed-audit
// penalties, and the audit goes to another validator (docs/verification.md).
const SCENARIO = {
  name: 'e2e-validators',
  seed: 13,
  durationMs: 6_000,
  params: {
    auditRate: 1,
    bidWindowMs: 200,
    challengeWindowMs: 300,
    auditWindowMs: 3_000,
    disputeWindowMs: 3_000,
    disputeQuorum: 2,
    // small, frequent slashes and no jail, so every node keeps working through the run
    slashFractionBps: 200,
    jailDurationMs: 0,
    maxSlashes: 100,
    epochMs: 5_000,
  },
  miners: [
    { name: 'honest', count: 2, strategy: 'honest', models: ['digits'], pricing: { priceMicro: '10000', spreadBps: 2000 }, concurrency: 4 },
    { name: 'lazy', count: 1, strategy: 'lazy', models: ['digits'], pricing: { priceMicro: '9000', spreadBps: 2000 }, concurrency: 4 },
  ],
  validators: [
    { name: 'validator', count: 2, strategy: 'honest', models: ['digits'] },
    { name: 'lazyval', count: 1, strategy: 'lazy', models: ['digits'] },
    { name: 'colluder', count: 1, strategy: 'colluding', models: ['digits'], colludeWith: ['lazy-0'] },
  ],
  clients: [{ name: 'client', count: 2, ratePerSec: 5, models: { digits: 1 }, concurrency: 8 }],
};

function logLines(dir: string, name: string): Record<string, unknown>[] {
  return readFileSync(join(dir, `${name}.log`), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('validator strategies on a live testnet', () => {
  let run: Awaited<ReturnType<typeof runScenario>>;
  beforeAll(async () => {
    run = await runScenario(SCENARIO, 'validators');
  }, 120_000);
  afterAll(() => removeRun(run?.dir));

  it('slashes the lazy validator for false accusations, never an honest miner', () => {
    const { report } = run;
    expect(report.ledger.conserved).toBe(true);
    expect(report.invariants.violations).toEqual([]);
    const falseAccusations = report.slashes.filter((s) => s.node === 'lazyval-0');
    expect(falseAccusations.length, describeRun(run)).toBeGreaterThan(0);
    for (const s of falseAccusations) expect(s.reason).toBe('false accusation');
    for (const id of ['honest-0', 'honest-1']) expect(report.miners.find((m) => m.id === id)!.slashedMicro).toBe('0');
    for (const id of ['validator-0', 'validator-1']) expect(report.validators.find((v) => v.id === id)!.slashedMicro).toBe('0');
  });

  it('a colluding validator\'s silence no longer lets the lazy miner through: it pays missed-audit penalties and the audit goes to another validator', () => {
    const colluded = logLines(run.dir, 'colluder-0').filter((l) => l.event === 'audit.silent' && l.how === 'colluded' && l.purpose === 'audit');
    expect(colluded.length, describeRun(run)).toBeGreaterThan(0);
    const byId = new Map(run.jobs.map((j) => [j.jobId, j]));
    const seen = colluded.map((c) => byId.get(c.jobId as string)).filter((j) => j !== undefined);
    expect(seen.length).toBeGreaterThan(0);
    // the audit was reassigned and the random output caught: the lazy miner was not paid
    for (const job of seen) expect(job.status, JSON.stringify(job)).toBe('failed');
    expect(BigInt(run.report.miners.find((m) => m.id === 'lazy-0')!.slashedMicro)).toBeGreaterThan(0n);
    expect(BigInt(run.report.validators.find((v) => v.id === 'colluder-0')!.slashedMicro)).toBeGreaterThan(0n);
    expect(run.report.truth?.audits?.missed).toBeGreaterThanOrEqual(colluded.length);
    expect(run.report.truth?.audits?.reassigned).toBeGreaterThan(0);
  });
});
