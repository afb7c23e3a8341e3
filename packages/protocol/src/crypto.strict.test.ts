import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStrictPublicKey, isStrictSignatureShape, keyPairFromSeed, seedFromLabel, verifyStrict, fromHex, toHex } from './crypto.js';
import { nativeEd25519 } from './ed25519-native.js';
import { openEnvelope, sealEnvelope } from './envelope.js';

// The 12 vectors of "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko 2020), from
// novifinancial/ed25519-speccheck (Apache-2.0; see fixtures/ed25519-speccheck-cases.README.md).
const CASES = JSON.parse(readFileSync(new URL('./fixtures/ed25519-speccheck-cases.json', import.meta.url), 'utf8')) as { message: string; pub_key: string; signature: string }[];

/**
 * The outcome infermarket chooses for each vector, and why (docs/security.md). All are refused: we accept
 * only a canonical public key of prime order, a canonical R not of small order, S < L, and the
 * cofactorless equation — stricter than every library in the speccheck table (like "Dalek strict", and
 * also refusing vector 3, whose key has a torsion component).
 */
const CHOSEN: { accept: false; why: 'key' | 'R' | 'S' }[] = [
  { accept: false, why: 'key' }, // 0: S = 0, A and R of small order
  { accept: false, why: 'key' }, // 1: A of small order
  { accept: false, why: 'key' }, // 2: A mixed (torsion component), R of small order
  { accept: false, why: 'key' }, // 3: A and R mixed: passes everywhere unless full order is checked — we check it
  { accept: false, why: 'key' }, // 4: A and R mixed, passes only cofactored
  { accept: false, why: 'key' }, // 5: A mixed, passes only with a pre-reduced cofactored equation
  { accept: false, why: 'S' }, // 6: S > L
  { accept: false, why: 'S' }, // 7: S >> L
  { accept: false, why: 'key' }, // 8: non-canonical R (and A mixed)
  { accept: false, why: 'key' }, // 9: non-canonical R (and A mixed)
  { accept: false, why: 'key' }, // 10: non-canonical A (of small order)
  { accept: false, why: 'key' }, // 11: non-canonical A (of small order)
];

describe('strict ed25519: the speccheck edge-case vectors', () => {
  it('has all 12 published vectors', () => {
    expect(CASES).toHaveLength(12);
  });

  CASES.forEach((c, i) => {
    it(`error: vector ${i} is refused on the native and the JS path (${CHOSEN[i]!.why})`, () => {
      const msg = fromHex(c.message);
      const sig = fromHex(c.signature);
      const pub = fromHex(c.pub_key);
      expect(verifyStrict(sig, msg, pub)).toBe(CHOSEN[i]!.accept);
      expect(verifyStrict(sig, msg, pub, { backend: 'js' })).toBe(CHOSEN[i]!.accept);
      const why = CHOSEN[i]!.why;
      if (why === 'key') expect(isStrictPublicKey(pub)).toBe(false);
      if (why === 'S') {
        expect(isStrictPublicKey(pub)).toBe(true);
        expect(isStrictSignatureShape(sig)).toBe(false);
      }
    });
  });

  it('the checks matter: without them, OpenSSL accepts vectors 0-3 and noble (ZIP-215) accepts more', () => {
    const native = nativeEd25519()!;
    const lax = CASES.map((c) => native.verify(fromHex(c.signature), fromHex(c.message), fromHex(c.pub_key)));
    expect(lax.slice(0, 4)).toEqual([true, true, true, true]);
    const zip215 = CASES.filter((c) => ed25519.verify(fromHex(c.signature), fromHex(c.message), fromHex(c.pub_key), { zip215: true })).length;
    expect(zip215).toBeGreaterThan(4);
  });

  it('error: the identity key with R = identity and S = 0 verifies nothing, and openEnvelope names the key', () => {
    const identity = `01${'00'.repeat(31)}`;
    const sig = `01${'00'.repeat(63)}`;
    expect(verifyStrict(fromHex(sig), new Uint8Array([1]), fromHex(identity))).toBe(false);
    expect(() => openEnvelope({ type: 'job.submit', body: { a: 1 }, signer: identity, sig })).toThrow(/not a strict ed25519 public key/);
  });

  it('error: a malleated signature (S + L) is refused on both paths', () => {
    const k = keyPairFromSeed(seedFromLabel('strict/malleate'));
    const msg = new Uint8Array([9, 9, 9]);
    const sig = ed25519.sign(msg, k.secretKey);
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    s += 2n ** 252n + 27742317777372353535851937790883648493n;
    const bad = sig.slice();
    for (let i = 32; i < 64; i++) {
      bad[i] = Number(s & 0xffn);
      s >>= 8n;
    }
    expect(verifyStrict(sig, msg, k.publicKey)).toBe(true);
    expect(verifyStrict(bad, msg, k.publicKey)).toBe(false);
    expect(verifyStrict(bad, msg, k.publicKey, { backend: 'js' })).toBe(false);
  });

  it('honest signatures verify, and the native and JS paths give one answer on random and tampered input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), fc.nat(63), fc.boolean(), (seed, msg, at, tamper) => {
        const k = keyPairFromSeed(seed);
        const sig = ed25519.sign(msg, k.secretKey);
        if (tamper) sig[at] = sig[at]! ^ 1;
        const a = verifyStrict(sig, msg, k.publicKey);
        expect(verifyStrict(sig, msg, k.publicKey, { backend: 'js' })).toBe(a);
        if (!tamper) expect(a).toBe(true);
      }),
      { numRuns: 60, seed: 12 },
    );
    const env = sealEnvelope(keyPairFromSeed(seedFromLabel('strict/env')), 'job.submit', { jobId: 'j' });
    expect(openEnvelope(env).address).toMatch(/^im/);
    expect(toHex(fromHex(env.signer))).toBe(env.signer);
  });
});
