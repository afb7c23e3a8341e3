import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '@infermarket/protocol';
import { runSimulation } from '@infermarket/sim';
import { describeRun, removeRun, runScenario } from './testnet-helpers.js';

// One live testnet of real processes (market, miners, validators, load generator) exercises three
// behaviours at once: honest miners get paid with the ledger conserved, a lazy miner's audited job is
// caught and slashed with the client refunded, and a miner killed mid-job has its jobs reassigned.
const SCENARIO = {
  name: 'e2e-mixed',
  seed: 7,
  durationMs: 6_000,
  params: {
    auditRate: 1,
    bidWindowMs: 200,
    jobDeadlineMs: 1_200,
    challengeWindowMs: 300,
    auditWindowMs: 3_000,
    disputeWindowMs: 3_000,
    disputeQuorum: 1,
    jailDurationMs: 60_000,
    epochMs: 5_000,
  },
  miners: [
    { name: 'honest', count: 2, strategy: 'honest', models: ['digits', 'charlm'], pricing: { priceMicro: '10000' }, concurrency: 2 },
    { name: 'lazy', count: 1, strategy: 'lazy', models: ['digits', 'charlm'], pricing: { priceMicro: '4000' }, concurrency: 1 },
    // cheapest after the lazy miner is jailed; it holds each job 600 ms, so it has jobs in flight when killed
    { name: 'victim', count: 1, strategy: 'honest', models: ['digits', 'charlm'], pricing: { priceMicro: '6000' }, latencyMs: 600, concurrency: 4 },
  ],
  validators: [{ name: 'validator', count: 2, strategy: 'honest', models: ['digits', 'charlm'] }],
  clients: [{ name: 'client', count: 2, ratePerSec: 4, models: { digits: 3, charlm: 1 }, maxPriceMicro: '100000', concurrency: 4, maxTokens: 8 }],
  faults: [{ atMs: 2_500, action: 'kill', target: 'victim-0' }],
};

describe('live testnet (real processes)', () => {
  let run: Awaited<ReturnType<typeof runScenario>>;
  beforeAll(async () => {
    run = await runScenario(SCENARIO, 'mixed');
  }, 120_000);
  afterAll(() => removeRun(run?.dir));

  it('settles jobs, pays honest miners and conserves the ledger', () => {
    const { report } = run;
    expect(run.code, describeRun(run)).toBe(0);
    expect(report.kind).toBe('testnet');
    expect(report.seed).toBe(7);
    expect(report.params.auditRate).toBe(1);
    expect(report.jobs.settled, describeRun(run)).toBeGreaterThan(5);
    const honest = report.miners.filter((m) => m.id.startsWith('honest'));
    expect(honest.length).toBe(2);
    expect(honest.reduce((s, m) => s + BigInt(m.earnedMicro), 0n)).toBeGreaterThan(0n);
    for (const m of honest) expect(m.slashedMicro).toBe('0');
    expect(report.ledger.conserved).toBe(true);
    const L = report.ledger;
    const held = [L.balancesMicro, L.escrowMicro, L.stakesMicro, L.unbondingMicro, L.feesMicro, L.burnedMicro].reduce((s, v) => s + BigInt(v), 0n);
    expect(held).toBe(BigInt(L.mintedMicro));
    expect(L.escrowMicro).toBe('0');
    expect(report.invariants.violations).toEqual([]);
    // every job the load generator saw finish was paid at most what it escrowed
    for (const j of run.jobs.filter((x) => x.status === 'settled')) expect(BigInt(String(j.paidMicro ?? '0'))).toBeLessThanOrEqual(100_000n);
  });

  it('catches the lazy miner on audit, slashes it and refunds the client', () => {
    const { report } = run;
    const lazy = report.miners.find((m) => m.id === 'lazy-0')!;
    expect(lazy.strategy).toBe('lazy');
    expect(BigInt(lazy.slashedMicro), describeRun(run)).toBeGreaterThan(0n);
    // funded like the simulator's miners (the resolver's fundMicro), it restakes from its balance after a slash:
    // the stake is topped up again, so the loss shows in the slashes, which add up to what it lost
    expect(BigInt(lazy.stakeEndMicro)).toBeLessThanOrEqual(BigInt(lazy.stakeStartMicro));
    const slashed = report.slashes.filter((s) => s.node === 'lazy-0' && s.role === 'miner');
    expect(slashed.length).toBeGreaterThan(0);
    expect(slashed.reduce((a, s) => a + BigInt(s.amountMicro), 0n)).toBe(BigInt(lazy.slashedMicro));
    const caught = run.jobs.filter((j) => j.failure === 'miner-slashed');
    expect(caught.length, JSON.stringify(run.jobs.slice(0, 5))).toBeGreaterThan(0);
    // the whole escrow came back: the receipt says the client paid nothing for the slashed job
    for (const j of caught) expect(j.paidMicro).toBe('0');
  });

  it('reassigns the jobs of a killed miner and completes them', () => {
    const { report } = run;
    const victim = report.miners.find((m) => m.id === 'victim-0')!;
    expect(victim.missed, describeRun(run)).toBeGreaterThan(0);
    expect(report.jobs.reassigned).toBeGreaterThan(0);
    const faults = (report.testnet as { faults: { target: string }[] }).faults;
    expect(faults.map((f) => f.target)).toEqual(['victim-0']);
    // a job that needed a second attempt still settled, on another miner
    const victimAddress = victim.address;
    const rescued = run.jobs.filter((j) => j.status === 'settled' && Number(j.attempt) >= 2 && j.miner !== victimAddress);
    expect(rescued.length, JSON.stringify(run.jobs.filter((j) => Number(j.attempt) >= 2))).toBeGreaterThan(0);
  });

  it('agrees with the simulator run on the same scenario file', () => {
    // same rules, two clocks: the qualitative outcome must match (who is paid, who is slashed, who misses)
    const sim = runSimulation(parseScenario(SCENARIO), { checkInvariants: true });
    const live = run.report;
    for (const r of [live, sim]) {
      expect(r.ledger.conserved).toBe(true);
      expect(r.invariants.violations).toEqual([]);
      const byId = new Map(r.miners.map((m) => [m.id, m]));
      expect(BigInt(byId.get('lazy-0')!.slashedMicro), r.kind).toBeGreaterThan(0n);
      for (const id of ['honest-0', 'honest-1']) expect(byId.get(id)!.slashedMicro, `${r.kind} ${id}`).toBe('0');
      expect(BigInt(byId.get('honest-0')!.earnedMicro) + BigInt(byId.get('honest-1')!.earnedMicro), r.kind).toBeGreaterThan(0n);
      expect(byId.get('victim-0')!.missed, r.kind).toBeGreaterThan(0);
    }
    expect(sim.miners.map((m) => m.id)).toEqual(live.miners.map((m) => m.id));
    expect(Math.abs(sim.successRate - live.successRate)).toBeLessThan(0.25);
  });
});
