import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, removeRun, runScenario } from './testnet-helpers.js';

// Attack 7 of issue #12 ("a market outage is charged to miners"): the market is killed with SIGKILL five
// times under load and restarted on the same SQLite file each time. The time it was down is not market
// time (docs/security.md): no honest miner is charged a miss or slashed for it, no job is lost or paid
// twice, and the ledger is conserved.
// spaced so that a restarted market (slow to start on a loaded machine) is usually listening before the next kill
const KILLS = [2_500, 6_500, 10_500, 14_500];
const SCENARIO = {
  name: 'e2e-security-kill-loop',
  seed: 12,
  durationMs: 17_000,
  params: { auditRate: 0.3, bidWindowMs: 200, jobDeadlineMs: 1_500, challengeWindowMs: 400, auditWindowMs: 2_000, disputeWindowMs: 2_000, disputeQuorum: 0, epochMs: 5_000 },
  miners: [{ name: 'honest', count: 2, strategy: 'honest', models: ['digits', 'charlm'], pricing: { priceMicro: '10000', spreadBps: 1000 }, latencyMs: 150, concurrency: 3 }],
  validators: [{ name: 'validator', count: 1, strategy: 'honest', models: ['digits', 'charlm'] }],
  clients: [{ name: 'client', count: 2, ratePerSec: 4, models: { digits: 1, charlm: 1 }, maxPriceMicro: '100000', concurrency: 4, maxTokens: 8 }],
  faults: KILLS.map((atMs) => ({ atMs, action: 'kill', target: 'market', restartAfterMs: 600 })),
};

describe('security: the market killed (SIGKILL) four times under load, restarted on the same database', () => {
  it('loses no job, pays none twice, conserves the ledger and charges no honest miner for the downtime', async () => {
    const run = await runScenario(SCENARIO, 'kill-loop');
    const { report } = run;
    expect(run.code, describeRun(run)).toBe(0);
    const faults = (report.testnet as { faults: { target: string; action: string }[] }).faults;
    expect(faults.filter((f) => f.target === 'market' && f.action === 'kill')).toHaveLength(KILLS.length);
    const log = readFileSync(join(run.dir, 'market.log'), 'utf8');
    expect(log.match(/# start \d+/g)?.length).toBe(KILLS.length + 1);
    // every start that resumed a log skipped the time the market was down (a start killed before it was
    // listening — market startup takes seconds on a loaded machine — resumes nothing)
    const resumed = log.match(/the market clock skips the time it was down/g)?.length ?? 0;
    expect(resumed, log.slice(-2000)).toBe(log.match(/"replayed":[1-9]\d*,.*"market listening"/g)?.length ?? 0);
    expect(resumed).toBeGreaterThanOrEqual(1);
    expect(report.ledger.conserved, describeRun(run)).toBe(true);
    expect(report.invariants.violations).toEqual([]);
    expect(report.ledger.escrowMicro).toBe('0');
    expect(report.jobs.settled + report.jobs.failed).toBe(report.jobs.submitted);
    const ids = run.jobs.map((j) => j.jobId).filter(Boolean);
    expect(new Set(ids).size).toBe(ids.length);
    expect(report.miners.reduce((s, m) => s + m.settled, 0)).toBe(report.jobs.settled);
    expect(report.jobs.settled, describeRun(run)).toBeGreaterThan(4);
    // the point: honest miners and the honest validator lost nothing to the outages
    for (const m of report.miners) {
      expect(m.missed, `${m.id} ${describeRun(run)}`).toBe(0);
      expect(m.slashedMicro, m.id).toBe('0');
    }
    for (const v of report.validators) expect(v.slashedMicro, v.id).toBe('0');
    removeRun(run.dir);
  }, 180_000);
});
