import { describe, expect, it } from 'vitest';
import { hashPayload, keyPairFromSeed, sealEnvelope, seedFromLabel, type Canonical, type JobOutput } from '@infermarket/protocol';
import { verifyReceipt } from './receipt.js';

const market = keyPairFromSeed(seedFromLabel('test/market'));
const mallory = keyPairFromSeed(seedFromLabel('test/mallory'));
const output: JobOutput = { kind: 'tokens', tokens: [1, 2, 3], text: 'abc' };
const body = {
  jobId: 'j1',
  model: 'charlm',
  client: keyPairFromSeed(seedFromLabel('test/alice')).address,
  inputHash: 'a'.repeat(64),
  outputHash: hashPayload(output),
  miner: keyPairFromSeed(seedFromLabel('test/miner')).address,
  status: 'settled',
  priceMicro: '1000',
  paidMicro: '1020',
  audited: false,
  finishedAtMs: 1234,
};
const marketKey = Buffer.from(market.publicKey).toString('hex');
// as it arrives over JSON: amounts are decimal strings, which sign exactly like bigints
const genuine = JSON.parse(JSON.stringify(sealEnvelope(market, 'job.receipt', body as unknown as Canonical)));

describe('verifyReceipt', () => {
  it('accepts a receipt the market signed and returns amounts as bigint', () => {
    const r = verifyReceipt(genuine, marketKey, { jobId: 'j1', output });
    expect(r.priceMicro).toBe(1000n);
    expect(r.paidMicro).toBe(1020n);
    expect(r.status).toBe('settled');
  });
  it('error: rejects a receipt signed by another key claiming to be the market', () => {
    const forged = { ...sealEnvelope(mallory, 'job.receipt', body as unknown as Canonical), signer: marketKey };
    expect(() => verifyReceipt(forged, marketKey)).toThrow(/forged or altered/);
  });
  it('error: rejects a receipt signed by a key that is not the market key', () => {
    const other = sealEnvelope(mallory, 'job.receipt', body as unknown as Canonical);
    expect(() => verifyReceipt(other, marketKey)).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
  });
  it('error: rejects a genuine receipt whose amount was altered', () => {
    const altered = { ...genuine, body: { ...genuine.body, paidMicro: '1' } };
    expect(() => verifyReceipt(altered, marketKey)).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
  });
  it('error: rejects a genuine receipt for a different output than the one received', () => {
    expect(() => verifyReceipt(genuine, marketKey, { output: { kind: 'tokens', tokens: [9], text: 'x' } })).toThrow(/outputHash/);
  });
  it('error: rejects a receipt of another type', () => {
    expect(() => verifyReceipt({ ...genuine, type: 'job.result' }, marketKey)).toThrow(/receipt.type/);
  });
});
