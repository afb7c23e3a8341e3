import { describe, expect, it } from 'vitest';
import { balanceOf } from './ledger.js';
import { addNode, createHarness, fund, MUSD } from './testing.js';

const H = (s: string) => s.repeat(64).slice(0, 64);

describe('bid rounds: a window nobody bid in reopens bidding', () => {
  it('reopens bidding up to bidRounds windows, then fails no-bids and refunds the whole escrow', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0, bidRounds: 3 });
    addNode(h, 'm1', 'miner');
    const client = fund(h, 'c1');
    const before = balanceOf(h.state, `balance:${client}`);
    h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
    for (let round = 1; round <= 2; round++) {
      const seen = h.effects.length;
      h.advance(h.state.params.bidWindowMs);
      const fx = h.effects.slice(seen);
      const job = h.state.jobs.get('j1')!;
      expect(job.status, `after window ${round}`).toBe('bidding');
      expect(job.bidRound).toBe(round + 1);
      // the miners are asked again, with a new window
      expect(fx.some((e) => e.type === 'job.opened' && e.jobId === 'j1')).toBe(true);
      expect(balanceOf(h.state, 'escrow:j1')).toBe(10n * MUSD);
    }
    h.advance(h.state.params.bidWindowMs);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('failed');
    expect(job.failure).toBe('no-bids');
    expect(balanceOf(h.state, `balance:${client}`)).toBe(before);
    h.check();
  });

  it('a bid in a reopened window wins, and a later reassignment gets its own rounds', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0, bidRounds: 2 });
    const m1 = addNode(h, 'm1', 'miner');
    const client = fund(h, 'c1');
    h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    expect(h.state.jobs.get('j1')!.status).toBe('bidding');
    h.send({ type: 'job.bid', by: m1, jobId: 'j1', priceMicro: 1n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    const job = h.state.jobs.get('j1')!;
    expect(job.status).toBe('assigned');
    expect(job.miner).toBe(m1);
    expect(job.bidRound).toBe(0);
    h.send({ type: 'job.result', by: m1, jobId: 'j1', outputHash: H('b') });
    h.advance(h.state.params.challengeWindowMs);
    expect(h.state.jobs.get('j1')!.status).toBe('settled');
    h.check();
  });

  it('with bidRounds 1 a window nobody bid in fails the job at once (the old rule)', () => {
    const h = createHarness({ matchingMode: 'auction', auditRate: 0, bidRounds: 1 });
    addNode(h, 'm1', 'miner');
    const client = fund(h, 'c1');
    h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    expect(h.state.jobs.get('j1')!.failure).toBe('no-bids');
  });
});
