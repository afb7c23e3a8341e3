import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfermarketError } from './errors.js';
import { ledgerTotals } from './invariants.js';
import { balanceOf } from './ledger.js';
import { addr, createHarness, MUSD, type Harness } from './testing.js';
import { imtToUsdMicro, usdToImtMicro, type Token } from './token.js';

const H = (s: string) => s.repeat(64).slice(0, 64);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof InfermarketError) return e.code;
    throw e;
  }
  return 'no error';
}

/** Register, fund (in the stake token) and bond a node. */
function node(h: Harness, label: string, role: 'miner' | 'validator', token: Token): string {
  const a = addr(label);
  h.send({ type: 'account.faucet', address: a, amountMicro: 1_000n * MUSD, token });
  h.send({ type: 'node.register', by: a, role, models: ['digits'], region: 'local' });
  h.send({ type: 'stake.bond', by: a, amountMicro: 500n * MUSD });
  return a;
}

/** Submit, bid, commit and let one job settle (no audit). */
function runJob(h: Harness, o: { client: string; miner: string; jobId: string; maxPriceMicro: bigint; priceMicro: bigint; priceAtSettle?: bigint }): void {
  h.send({ type: 'job.submit', by: o.client, jobId: o.jobId, model: 'digits', inputHash: H('a'), maxPriceMicro: o.maxPriceMicro });
  h.send({ type: 'job.bid', by: o.miner, jobId: o.jobId, priceMicro: o.priceMicro });
  h.advance(h.state.params.bidWindowMs);
  h.send({ type: 'job.result', by: o.miner, jobId: o.jobId, outputHash: H('b') });
  if (o.priceAtSettle !== undefined) h.send({ type: 'oracle.price', priceMicro: o.priceAtSettle });
  h.advance(h.state.params.challengeWindowMs);
}

function conservedBoth(h: Harness): void {
  expect(ledgerTotals(h.state, 'mUSD').conserved).toBe(true);
  expect(ledgerTotals(h.state, 'IMT').conserved).toBe(true);
  h.check();
}

describe('reward token IMT and the oracle', () => {
  it('stable mode (the default) never touches IMT', () => {
    const h = createHarness({ auditRate: 0 });
    const miner = node(h, 'm1', 'miner', 'mUSD');
    const client = addr('c1');
    h.send({ type: 'account.faucet', address: client, amountMicro: 100n * MUSD });
    runJob(h, { client, miner, jobId: 'j1', maxPriceMicro: 10n * MUSD, priceMicro: 2n * MUSD });
    expect(balanceOf(h.state, `balance:${miner}`)).toBe(502n * MUSD);
    expect(ledgerTotals(h.state, 'IMT').mintedMicro).toBe(0n);
    expect([...h.state.ledger.keys()].some((k) => k.startsWith('IMT|'))).toBe(false);
    conservedBoth(h);
  });

  it('token-native: priced and paid in IMT; stakes stay in mUSD; each token conserved', () => {
    const h = createHarness({ auditRate: 0, pricingMode: 'token-native' });
    const miner = node(h, 'm1', 'miner', 'mUSD');
    const client = addr('c1');
    h.send({ type: 'account.faucet', address: client, amountMicro: 100n * MUSD, token: 'IMT' });
    runJob(h, { client, miner, jobId: 'j1', maxPriceMicro: 10n * MUSD, priceMicro: 2n * MUSD });
    expect(balanceOf(h.state, `balance:${miner}`, 'IMT')).toBe(2n * MUSD);
    expect(balanceOf(h.state, `balance:${miner}`, 'mUSD')).toBe(500n * MUSD);
    expect(balanceOf(h.state, `balance:${client}`, 'IMT')).toBe(100n * MUSD - 2n * MUSD - 40_000n);
    expect(balanceOf(h.state, 'fees', 'IMT')).toBe(40_000n);
    const entries = h.effects.flatMap((e) => (e.type === 'ledger.entry' && e.entry.reason === 'pay-miner' ? [e.entry] : []));
    expect(entries).toEqual([expect.objectContaining({ token: 'IMT', amountMicro: 2n * MUSD })]);
    conservedBoth(h);
  });

  it('token mode: priced in mUSD, escrowed at the submit price plus margin, paid in IMT at the settlement price', () => {
    const h = createHarness({ auditRate: 0, pricingMode: 'token', tokenEscrowMarginBps: 5_000 });
    const miner = node(h, 'm1', 'miner', 'mUSD');
    const client = addr('c1');
    h.send({ type: 'account.faucet', address: client, amountMicro: 1_000n * MUSD, token: 'IMT' });
    h.send({ type: 'oracle.price', priceMicro: 2n * MUSD }); // 1 IMT = 2 USD
    h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
    // 10 mUSD × 1.5 at 2 USD/IMT = 7.5 IMT
    expect(balanceOf(h.state, 'escrow:j1')).toBe(7_500_000n);
    expect(h.state.jobs.get('j1')!.escrowMicro).toBe(7_500_000n);
    h.check();
    h.send({ type: 'job.bid', by: miner, jobId: 'j1', priceMicro: 4n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: H('b') });
    h.send({ type: 'oracle.price', priceMicro: 1n * MUSD }); // the price halves before settlement
    h.advance(h.state.params.challengeWindowMs);
    // 4 mUSD at 1 USD/IMT = 4 IMT to the miner, 2% fee = 0.08 IMT, the rest of the escrow refunded
    expect(balanceOf(h.state, `balance:${miner}`, 'IMT')).toBe(4n * MUSD);
    expect(balanceOf(h.state, 'fees', 'IMT')).toBe(80_000n);
    expect(balanceOf(h.state, `balance:${client}`, 'IMT')).toBe(1_000n * MUSD - 4n * MUSD - 80_000n);
    expect(h.state.oracle!.shortfalls).toBe(0);
    conservedBoth(h);
  });

  it('token mode: a crash beyond the escrow margin caps the payment at the escrow and counts a shortfall', () => {
    const h = createHarness({ auditRate: 0, pricingMode: 'token', tokenEscrowMarginBps: 0 });
    const miner = node(h, 'm1', 'miner', 'mUSD');
    const client = addr('c1');
    h.send({ type: 'account.faucet', address: client, amountMicro: 1_000n * MUSD, token: 'IMT' });
    h.send({ type: 'oracle.price', priceMicro: 1n * MUSD });
    runJob(h, { client, miner, jobId: 'j1', maxPriceMicro: 10n * MUSD, priceMicro: 4n * MUSD, priceAtSettle: 100_000n });
    // 4 mUSD at 0.1 USD/IMT would be 40 IMT; the escrow held 10
    expect(balanceOf(h.state, `balance:${miner}`, 'IMT')).toBe(10n * MUSD);
    expect(balanceOf(h.state, `balance:${client}`, 'IMT')).toBe(990n * MUSD);
    expect(h.state.oracle!.shortfalls).toBeGreaterThan(0);
    conservedBoth(h);
  });

  it('stakes and slashes in IMT when stakeToken is IMT', () => {
    const h = createHarness({ auditRate: 1, stakeToken: 'IMT', disputeQuorum: 0 });
    const miner = node(h, 'm1', 'miner', 'IMT');
    const validator = node(h, 'v1', 'validator', 'IMT');
    expect(balanceOf(h.state, `stake:${miner}`)).toBe(500n * MUSD);
    expect(h.state.ledger.get(`IMT|stake:${miner}`)).toBe(500n * MUSD);
    const client = addr('c1');
    h.send({ type: 'account.faucet', address: client, amountMicro: 100n * MUSD });
    h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD });
    h.send({ type: 'job.bid', by: miner, jobId: 'j1', priceMicro: 2n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: H('b') });
    h.send({ type: 'audit.report', by: validator, jobId: 'j1', outputHash: H('c'), match: false });
    h.advance(h.state.params.disputeWindowMs + h.state.params.challengeWindowMs);
    const slashed = h.effects.filter((e) => e.type === 'node.slashed');
    expect(slashed.length).toBe(1);
    // the harmed share reaches the client in IMT; its mUSD (job money) is refunded in full
    expect(balanceOf(h.state, `balance:${client}`, 'IMT')).toBeGreaterThan(0n);
    expect(balanceOf(h.state, `balance:${client}`, 'mUSD')).toBe(100n * MUSD);
    expect(balanceOf(h.state, 'burn', 'IMT')).toBeGreaterThan(0n);
    conservedBoth(h);
  });

  it('error: token mode refuses a job before the oracle has published a price, and changes nothing', () => {
    const h = createHarness({ pricingMode: 'token' });
    const client = addr('c1');
    h.send({ type: 'account.faucet', address: client, amountMicro: 100n * MUSD, token: 'IMT' });
    const before = new Map(h.state.ledger);
    expect(codeOf(() => h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: H('a'), maxPriceMicro: 10n * MUSD }))).toBe('ERR_WRONG_STATE');
    expect(h.state.ledger).toEqual(before);
    expect(h.state.jobs.size).toBe(0);
  });

  it('attack: a participant cannot post an oracle price (a signed oracle.price is refused, price unchanged)', () => {
    const h = createHarness({ pricingMode: 'token' });
    const client = addr('c1');
    h.send({ type: 'oracle.price', priceMicro: 2n * MUSD });
    const forged = { type: 'oracle.price', priceMicro: 1n, by: client } as unknown as Parameters<Harness['send']>[0];
    expect(codeOf(() => h.send(forged))).toBe('ERR_VALIDATION');
    expect(h.state.oracle!.priceMicro).toBe(2n * MUSD);
    expect(h.state.oracle!.updates).toBe(1);
  });

  it('error: a non-positive or non-bigint oracle price is refused', () => {
    const h = createHarness();
    for (const bad of [0n, -1n, 5, '7', 10n ** 19n]) {
      expect(codeOf(() => h.send({ type: 'oracle.price', priceMicro: bad as bigint }))).toBe('ERR_VALIDATION');
    }
    expect(h.state.oracle).toBeNull();
  });

  it('error: an unknown faucet token is refused naming the field', () => {
    const h = createHarness();
    try {
      h.send({ type: 'account.faucet', address: addr('c1'), amountMicro: 1n, token: 'BTC' as Token });
      expect.unreachable();
    } catch (e) {
      expect((e as InfermarketError).code).toBe('ERR_VALIDATION');
      expect((e as InfermarketError).message).toContain('"token"');
    }
  });

  it('the faucet cap is per token', () => {
    const h = createHarness({ faucetCapMicro: 10n * MUSD });
    const a = addr('c1');
    h.send({ type: 'account.faucet', address: a, amountMicro: 10n * MUSD });
    h.send({ type: 'account.faucet', address: a, amountMicro: 10n * MUSD, token: 'IMT' });
    expect(codeOf(() => h.send({ type: 'account.faucet', address: a, amountMicro: 1n, token: 'IMT' }))).toBe('ERR_FAUCET_CAP');
    conservedBoth(h);
  });

  it('property: token-mode settlement at random prices keeps both tokens conserved and every invariant', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.bigInt({ min: 1_000n, max: 100n * MUSD }), fc.bigInt({ min: 1_000n, max: 100n * MUSD }), fc.bigInt({ min: 1n, max: 10n * MUSD })), { minLength: 1, maxLength: 6 }), (jobs) => {
        const h = createHarness({ auditRate: 0, pricingMode: 'token', tokenEscrowMarginBps: 2_000 });
        const miner = node(h, 'm1', 'miner', 'mUSD');
        const client = addr('c1');
        h.send({ type: 'account.faucet', address: client, amountMicro: 10_000n * MUSD, token: 'IMT' });
        jobs.forEach(([p1, p2, price], i) => {
          h.send({ type: 'oracle.price', priceMicro: p1 });
          const max = 10n * MUSD;
          try {
            runJob(h, { client, miner, jobId: `j${i}`, maxPriceMicro: max, priceMicro: price > max / 4n ? max / 4n : price, priceAtSettle: p2 });
          } catch (e) {
            // an escrow the client cannot afford at a tiny price is a clean refusal
            if (!(e instanceof InfermarketError) || e.code !== 'ERR_INSUFFICIENT_BALANCE') throw e;
          }
          h.check();
        });
        conservedBoth(h);
      }),
      { numRuns: 40, seed: 16 },
    );
  });

  it('conversions round as documented', () => {
    expect(usdToImtMicro(10n, 3_000_000n)).toBe(3n);
    expect(usdToImtMicro(10n, 3_000_000n, 'up')).toBe(4n);
    expect(imtToUsdMicro(2_000_000n, 1_500_000n)).toBe(3_000_000n);
  });
});
