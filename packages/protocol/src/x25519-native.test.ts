import { x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { nativeX25519 } from './x25519-native.js';

describe('native x25519', () => {
  it('gives the same public keys and shared secrets as @noble/curves', () => {
    const n = nativeX25519();
    expect(n).not.toBeNull();
    for (let i = 1; i < 20; i++) {
      const a = new Uint8Array(32).map((_, j) => (i * 31 + j * 7) & 0xff);
      const b = new Uint8Array(32).map((_, j) => (i * 17 + j * 13 + 5) & 0xff);
      expect(n!.getPublicKey(a)).toEqual(x25519.getPublicKey(a));
      expect(n!.getSharedSecret(a, x25519.getPublicKey(b))).toEqual(x25519.getSharedSecret(a, x25519.getPublicKey(b)));
    }
  });
});
