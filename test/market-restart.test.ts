import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, removeRun, runScenario } from './testnet-helpers.js';

// The market is killed with SIGKILL mid-run and restarted on the same SQLite file and port: the nodes
// reconnect, in-flight jobs resume (or are refunded when their deadline passed), and afterwards no token
// was created or lost and no job was paid twice.
const SCENARIO = {
  name: 'e2e-market-restart',
  seed: 11,
  durationMs: 6_000,
  params: { auditRate: 0.3, bidWindowMs: 200, jobDeadlineMs: 1_500, challengeWindowMs: 400, auditWindowMs: 2_000, disputeWindowMs: 2_000, disputeQuorum: 0, epochMs: 5_000 },
  miners: [{ name: 'honest', count: 2, strategy: 'honest', models: ['digits', 'charlm'], pricing: { priceMicro: '10000', spreadBps: 1000 }, latencyMs: 150, concurrency: 3 }],
  validators: [{ name: 'validator', count: 1, strategy: 'honest', models: ['digits', 'charlm'] }],
  clients: [{ name: 'client', count: 2, ratePerSec: 4, models: { digits: 1, charlm: 1 }, maxPriceMicro: '100000', concurrency: 4, maxTokens: 8 }],
  faults: [{ atMs: 2_500, action: 'kill', target: 'market', restartAfterMs: 800 }],
};

describe('market SIGKILL and restart on the same database', () => {
  it('keeps the ledger conserved, pays no job twice and finishes in-flight jobs', async () => {
    const run = await runScenario(SCENARIO, 'restart');
    const { report } = run;
    expect(run.code, describeRun(run)).toBe(0);
    const faults = (report.testnet as { faults: { target: string; action: string }[] }).faults;
    expect(faults).toEqual([expect.objectContaining({ target: 'market', action: 'kill' })]);
    // the market really started twice, the second time replaying its event log from the file
    const log = readFileSync(join(run.dir, 'market.log'), 'utf8');
    expect(log.match(/# start \d+/g)?.length).toBe(2);
    expect(log).toMatch(/"replayed":[1-9]/);
    // conservation, and the rules' own checks (a job paid more than once is a violation)
    expect(report.ledger.conserved, describeRun(run)).toBe(true);
    expect(report.invariants.violations).toEqual([]);
    // nothing left in escrow: every job that reached the market settled or was refunded
    expect(report.ledger.escrowMicro).toBe('0');
    expect(report.jobs.settled + report.jobs.failed).toBe(report.jobs.submitted);
    // work went on after the restart: jobs settled late in the run
    const settled = run.jobs.filter((j) => j.status === 'settled');
    expect(settled.length, describeRun(run)).toBeGreaterThan(4);
    // each job id finished once in the client's view
    const ids = run.jobs.map((j) => j.jobId).filter(Boolean);
    expect(new Set(ids).size).toBe(ids.length);
    // miners were paid exactly what the settled jobs' prices add up to (no double payment)
    const earned = report.miners.reduce((s, m) => s + BigInt(m.earnedMicro), 0n);
    expect(earned).toBeGreaterThan(0n);
    expect(report.miners.reduce((s, m) => s + m.settled, 0)).toBe(report.jobs.settled);
    removeRun(run.dir);
  }, 120_000);
});
