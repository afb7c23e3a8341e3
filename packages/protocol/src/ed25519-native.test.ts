import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { keyPairFromSeed, seedFromLabel, signMessage, signingBytes, toHex, verifyMessage } from './crypto.js';
import { nativeEd25519 } from './ed25519-native.js';

describe('native ed25519 backend', () => {
  it('is available on Node and signs exactly as @noble/curves does', () => {
    const native = nativeEd25519();
    expect(native).not.toBeNull();
    for (const label of ['a', 'b', 'c']) {
      const k = keyPairFromSeed(seedFromLabel(label));
      const msg = signingBytes('job.bid', { jobId: `j-${label}`, priceMicro: 1000n });
      expect(toHex(native!.sign(msg, k.secretKey))).toBe(toHex(ed25519.sign(msg, k.secretKey)));
      expect(native!.verify(ed25519.sign(msg, k.secretKey), msg, k.publicKey)).toBe(true);
    }
  });

  it('error: rejects a tampered body, a wrong key and malformed input without throwing', () => {
    const k = keyPairFromSeed(seedFromLabel('alice'));
    const other = keyPairFromSeed(seedFromLabel('bob'));
    const sig = signMessage(k.secretKey, 'job.submit', { jobId: 'j1', maxPriceMicro: 5n });
    expect(verifyMessage(toHex(k.publicKey), 'job.submit', { jobId: 'j1', maxPriceMicro: 5n }, sig)).toBe(true);
    expect(verifyMessage(toHex(k.publicKey), 'job.submit', { jobId: 'j1', maxPriceMicro: 6n }, sig)).toBe(false);
    expect(verifyMessage(toHex(other.publicKey), 'job.submit', { jobId: 'j1', maxPriceMicro: 5n }, sig)).toBe(false);
    expect(verifyMessage('zz', 'job.submit', { jobId: 'j1' }, sig)).toBe(false);
    expect(verifyMessage(toHex(k.publicKey), 'job.submit', { jobId: 'j1', maxPriceMicro: 5n }, sig.slice(0, 10))).toBe(false);
  });
});
