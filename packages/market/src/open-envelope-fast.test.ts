import { keyPairFromSeed, openEnvelope, sealEnvelope, seedFromLabel, type Envelope } from '@infermarket/protocol';
import { describe, expect, it } from 'vitest';
import { openEnvelopeFast } from './open-envelope-fast.js';

const keys = keyPairFromSeed(seedFromLabel('fast/a'));
const env = (): Envelope => sealEnvelope(keys, 'job.bid', { jobId: 'j1', priceMicro: '1000', nonce: 'n1', expiresAtMs: 5 });

describe('openEnvelopeFast', () => {
  it('accepts what openEnvelope accepts, with the same address', () => {
    expect(openEnvelopeFast(env())).toEqual(openEnvelope(env()));
    expect(openEnvelopeFast(env()).address).toBe(keys.address);
  });

  it('error: a tampered body, a swapped type or a foreign signer → ERR_BAD_SIGNATURE', () => {
    const tampered = env();
    (tampered.body as Record<string, unknown>).priceMicro = '1';
    expect(() => openEnvelopeFast(tampered)).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
    expect(() => openEnvelopeFast({ ...env(), type: 'stake.bond' })).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
    const other = keyPairFromSeed(seedFromLabel('fast/b'));
    expect(() => openEnvelopeFast({ ...env(), signer: Buffer.from(other.publicKey).toString('hex') })).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
  });

  it('error: malformed envelopes get the protocol errors', () => {
    expect(() => openEnvelopeFast({ ...env(), signer: 'zz' })).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }));
    expect(() => openEnvelopeFast({ ...env(), sig: 'ab' })).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
    expect(() => openEnvelopeFast(null as unknown as Envelope)).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }));
    // an all-zero key is not a valid point: the native check refuses it and the protocol's check decides
    expect(() => openEnvelopeFast({ ...env(), signer: '0'.repeat(64) })).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
  });
});
