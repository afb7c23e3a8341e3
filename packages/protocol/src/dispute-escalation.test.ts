import { describe, expect, it } from 'vitest';
import { resolveParams } from './params.js';
import { isAudited } from './selection.js';
import { addNode, createHarness, fund, MUSD } from './testing.js';

const H = (s: string) => s.repeat(64).slice(0, 64);

function findJobId(prefix: string, seed: string, auditRate: number, audited: boolean): string {
  for (let i = 0; ; i++) if (isAudited(seed, `${prefix}${i}`, auditRate) === audited) return `${prefix}${i}`;
}

/** Submit a digits job (max price 10 mUSD), one bid, and close the bid window: the miner is assigned. */
function assignOne(h: ReturnType<typeof createHarness>, client: string, jobId: string, miner: string, priceMicro: bigint): void {
  h.send({ type: 'job.submit', by: client, jobId, model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
  h.send({ type: 'job.bid', by: miner, jobId, priceMicro });
  h.advance(h.state.params.bidWindowMs);
}

// an honest auditor accuses a cheat; two colluding referees vote for the miner (quorum 2)
function split(escalation: 'none' | 'escalate-on-split') {
  const h = createHarness({ matchingMode: 'auction', auditRate: 0.5, disputeQuorum: 2, disputeEscalation: escalation });
  const miner = addNode(h, 'm1', 'miner');
  for (const l of ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7']) addNode(h, l, 'validator');
  const client = fund(h, 'c1');
  const jobId = findJobId('job', h.state.epoch!.seed, 0.5, true);
  assignOne(h, client, jobId, miner, 2n * MUSD);
  h.send({ type: 'job.result', by: miner, jobId, outputHash: H('b') });
  const auditor = h.state.jobs.get(jobId)!.validator!;
  h.send({ type: 'audit.report', by: auditor, jobId, outputHash: H('c'), match: false });
  const first = [...h.state.jobs.get(jobId)!.dispute!.referees];
  for (const r of first) if (h.state.jobs.get(jobId)!.status === 'disputed') h.send({ type: 'dispute.vote', by: r, jobId, minerCorrect: true });
  return { h, miner, auditor, jobId, first };
}

describe('disputeEscalation', () => {
  it('none (the default): two colluding referees outvote the honest auditor, who is slashed', () => {
    expect(resolveParams().disputeEscalation).toBe('none');
    const { h, auditor, jobId } = split('none');
    expect(h.state.jobs.get(jobId)!.status).toBe('settled');
    expect(h.state.nodes.get(auditor)!.slashes).toBe(1);
    h.check();
  });
  it('escalate-on-split: the first vote for the miner grows the panel to 2 × quorum + 2 and restarts the window; the larger majority decides', () => {
    const { h, miner, auditor, jobId, first } = split('escalate-on-split');
    const job = h.state.jobs.get(jobId)!;
    expect(job.status).toBe('disputed');
    const panel = job.dispute!.referees;
    expect(panel).toHaveLength(6);
    expect(panel.slice(0, 2)).toEqual(first);
    expect(new Set(panel).size).toBe(6);
    expect(panel).not.toContain(auditor);
    const reopened = h.effects.filter((e) => e.type === 'dispute.opened');
    expect(reopened).toHaveLength(2);
    // the first window's timer passes: the escalated dispute is still open
    h.advance(h.state.params.disputeWindowMs - 1);
    expect(job.status).toBe('disputed');
    // three fresh honest referees find the output wrong: 1 + 3 = 4 of 7 votes, the majority of the larger panel
    for (const r of panel.slice(2, 5)) h.send({ type: 'dispute.vote', by: r, jobId, minerCorrect: false });
    expect(job.status).toBe('failed');
    expect(h.state.nodes.get(miner)!.slashes).toBe(1);
    expect(h.state.nodes.get(auditor)!.slashes).toBe(0);
    h.check();
  });
  it('escalates once; with no fresh referee left it decides as before; the unbonding check covers the second window', () => {
    const { h, jobId } = split('escalate-on-split');
    const job = h.state.jobs.get(jobId)!;
    // the panel has grown; one more vote for the miner does not grow it again
    h.send({ type: 'dispute.vote', by: job.dispute!.referees[2]!, jobId, minerCorrect: true });
    expect(job.dispute!.referees).toHaveLength(6);
    // the window of the escalation closes: 3 for the miner, 1 against → the accuser is slashed
    h.advance(h.state.params.disputeWindowMs);
    expect(job.status).toBe('settled');
    expect(() => resolveParams({ disputeEscalation: 'escalate-on-split', challengeWindowMs: 1_000, auditWindowMs: 5_000, disputeWindowMs: 5_000, unbondingPeriodMs: 12_000 })).toThrow(/2 × disputeWindowMs/);
    expect(() => resolveParams({ disputeEscalation: 'sometimes' })).toThrow(/disputeEscalation/);
    h.check();
  });
});
