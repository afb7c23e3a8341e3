import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { nativeSha256Hex } from './hash-native.js';
import { uniformFromSeed } from './selection.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('native sha256 on the audit draw', () => {
  it('is available on Node and equals noble sha256 on ASCII and non-ASCII text', () => {
    const native = nativeSha256Hex();
    expect(native).not.toBeNull();
    for (const t of ['', 'abc', 'a'.repeat(1000), `${'f'.repeat(64)}|audit|j12345`, 'héllo|ü|€|😀']) {
      expect(native!(t)).toBe(toHex(sha256(new TextEncoder().encode(t))));
    }
  });

  it('uniformFromSeed is the first 48 bits of sha256(seed|purpose|parts) over 2^48, as the noble path computes it', () => {
    for (let i = 0; i < 200; i++) {
      const seed = toHex(sha256(new TextEncoder().encode(`seed${i}`)));
      const h = sha256(new TextEncoder().encode(`${seed}|audit|j${i}|${i * 7}`));
      const n = h[0]! * 2 ** 40 + h[1]! * 2 ** 32 + h[2]! * 2 ** 24 + h[3]! * 2 ** 16 + h[4]! * 2 ** 8 + h[5]!;
      expect(uniformFromSeed(seed, 'audit', `j${i}`, i * 7)).toBe(n / 2 ** 48);
    }
  });
});
