import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { addressOf, fromHex, keyPairFromSeed, signMessage, toHex, verifyMessage } from './crypto.js';
import { openEnvelope, sealEnvelope } from './envelope.js';
import { InfermarketError } from './errors.js';

interface Vectors {
  canonical: { value: unknown; canonical: string }[];
  signatures: { seedHex: string; publicKeyHex: string; address: string; type: string; body: unknown; signatureHex: string }[];
}

// bigints in the vector file are written as {"$bigint": "123"}
const revive = (_: string, v: unknown) => (v && typeof v === 'object' && '$bigint' in v ? BigInt((v as { $bigint: string }).$bigint) : v);
const vectors = JSON.parse(readFileSync(new URL('../vectors/canonical-and-signatures.json', import.meta.url), 'utf8'), revive) as Vectors;

describe('canonical encoding', () => {
  it.each(vectors.canonical.map((v) => [v.canonical, v.value] as const))('encodes the published vector %s', (expected, value) => {
    expect(canonicalJson(value as never)).toBe(expected);
  });

  it('gives the same bytes whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1n], c: 'x' } })).toBe(canonicalJson({ a: { c: 'x', d: [1n] }, b: 1 }));
  });

  it('encodes bigints exactly, beyond 2^53', () => {
    expect(canonicalJson({ amount: 2n ** 64n + 1n })).toBe('{"amount":"18446744073709551617"}');
  });

  it('writes non-integer numbers in ECMAScript shortest form (RFC 8785), e.g. a sampling temperature', () => {
    expect(canonicalJson({ temperature: 0.8, tiny: 1e-7, big: 1e21, negZero: -0 })).toBe('{"big":1e+21,"negZero":0,"temperature":0.8,"tiny":1e-7}');
  });

  it('error: refuses NaN and infinities, naming the path', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrowError(/\$\.a\[1\] must be a finite number/);
    try {
      canonicalJson({ a: Number.POSITIVE_INFINITY });
      expect.unreachable();
    } catch (e) {
      expect((e as InfermarketError).code).toBe('ERR_BAD_ENCODING');
    }
  });
});

describe('signatures', () => {
  it.each(vectors.signatures.map((v) => [v.type, v] as const))('reproduces the published %s signature vector', (_t, v) => {
    const keys = keyPairFromSeed(fromHex(v.seedHex));
    expect(toHex(keys.publicKey)).toBe(v.publicKeyHex);
    expect(addressOf(keys.publicKey)).toBe(v.address);
    expect(signMessage(keys.secretKey, v.type, v.body as never)).toBe(v.signatureHex);
    expect(verifyMessage(v.publicKeyHex, v.type, v.body as never, v.signatureHex)).toBe(true);
  });

  it('error: a changed amount, type or signer breaks the signature', () => {
    const keys = keyPairFromSeed(new Uint8Array(32).fill(7));
    const env = sealEnvelope(keys, 'job.bid', { jobId: 'j1', priceMicro: 5n, nonce: 'n', expiresAtMs: 10 });
    expect(openEnvelope(env).address).toBe(keys.address);
    const code = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return (e as InfermarketError).code;
      }
    };
    expect(code(() => openEnvelope({ ...env, body: { ...env.body, priceMicro: 6n } }))).toBe('ERR_BAD_SIGNATURE');
    expect(code(() => openEnvelope({ ...env, type: 'job.result' }))).toBe('ERR_BAD_SIGNATURE');
    const other = keyPairFromSeed(new Uint8Array(32).fill(8));
    expect(code(() => openEnvelope({ ...env, signer: toHex(other.publicKey) }))).toBe('ERR_BAD_SIGNATURE');
    expect(code(() => openEnvelope({ ...env, sig: 'zz' }))).toBe('ERR_BAD_SIGNATURE');
  });
});
