import { describe, expect, it } from 'vitest';
import { hashPayload, keyPairFromSeed, sealEnvelope, seedFromLabel, type Canonical, type JobOutput } from '@infermarket/protocol';
import { verifyReceipt } from './receipt.js';

// What a receipt says was checked: `verified` only for an agreeing re-execution of a full-length output.

const market = keyPairFromSeed(seedFromLabel('test/market'));
const marketKey = Buffer.from(market.publicKey).toString('hex');
const output: JobOutput = { kind: 'tokens', tokens: [1, 2, 3], text: 'abc' };
const validator = keyPairFromSeed(seedFromLabel('test/validator')).address;
const base = {
  jobId: 'j1',
  model: 'charlm',
  client: keyPairFromSeed(seedFromLabel('test/alice')).address,
  inputHash: 'a'.repeat(64),
  outputHash: hashPayload(output),
  miner: keyPairFromSeed(seedFromLabel('test/miner')).address,
  status: 'settled',
  priceMicro: '1000',
  paidMicro: '2020',
  audited: true,
  finishedAtMs: 1234,
  verification: 'always',
  verdict: 'verified',
  checkedBy: [validator],
  auditors: [validator],
  outputLength: 3,
  expectedLength: 3,
};
const signed = (b: Record<string, unknown>) => JSON.parse(JSON.stringify(sealEnvelope(market, 'job.receipt', b as unknown as Canonical)));

describe('verifyReceipt: what was checked', () => {
  it('a settled job whose auditor agreed on a full-length output is verified, and says by whom', () => {
    const r = verifyReceipt(signed(base), marketKey, { output });
    expect(r).toMatchObject({ verified: true, verification: 'always', verdict: 'verified', checkedBy: [validator], outputLength: 3, expectedLength: 3 });
    expect(r.checked).toBe(`always: verified by ${validator}; output 3/3`);
  });

  it('a silent audit, an unchecked job or a short output is never verified, however validly signed', () => {
    const silent = verifyReceipt(signed({ ...base, verification: 'sampled', verdict: 'unavailable', checkedBy: [] }), marketKey);
    expect(silent.verified).toBe(false);
    expect(silent.checked).toContain('NOT verified');
    expect(verifyReceipt(signed({ ...base, verification: 'none', verdict: 'unchecked', checkedBy: [], auditors: [] }), marketKey).verified).toBe(false);
    expect(verifyReceipt(signed({ ...base, outputLength: 2, expectedLength: 3 }), marketKey).verified).toBe(false);
    expect(verifyReceipt(signed({ ...base, status: 'failed', verdict: 'caught', outputHash: null }), marketKey).verified).toBe(false);
  });

  it('a receipt signed before verification levels existed reads as unchecked, never as verified', () => {
    const { verification: _v, verdict: _d, checkedBy: _c, auditors: _a, outputLength: _o, expectedLength: _e, ...old } = base;
    const r = verifyReceipt(signed(old), marketKey, { output });
    expect(r).toMatchObject({ verified: false, verdict: 'unchecked', checkedBy: [], outputLength: null });
  });

  it('error: a receipt whose verdict was altered to "verified" fails its signature', () => {
    const env = signed({ ...base, verdict: 'unavailable', checkedBy: [] });
    const altered = { ...env, body: { ...env.body, verdict: 'verified' } };
    expect(() => verifyReceipt(altered, marketKey)).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
  });
});
