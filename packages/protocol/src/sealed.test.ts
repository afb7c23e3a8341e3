import { describe, expect, it } from 'vitest';
import { InfermarketError } from './errors.js';
import { encryptionKeyPairFromSeed, seal, unseal } from './sealed.js';

const random = (b: number) => new Uint8Array(56).fill(b);
const utf8 = new TextEncoder();

describe('sealed boxes', () => {
  const alice = encryptionKeyPairFromSeed(new Uint8Array(32).fill(1));
  const eve = encryptionKeyPairFromSeed(new Uint8Array(32).fill(2));

  it('opens for the recipient and hides the plaintext', () => {
    const box = seal(alice.publicKey, utf8.encode('the secret digit is 7'), random(9));
    expect(Buffer.from(box.ciphertext, 'base64').toString('utf8')).not.toContain('secret');
    expect(new TextDecoder().decode(unseal(alice, box))).toBe('the secret digit is 7');
  });

  it('error: refuses the wrong key and a tampered box', () => {
    const box = seal(alice.publicKey, utf8.encode('x'), random(3));
    const code = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return (e as InfermarketError).code;
      }
    };
    expect(code(() => unseal(eve, box))).toBe('ERR_DECRYPT');
    expect(code(() => unseal(eve, { ...box, to: eve.publicKey }))).toBe('ERR_DECRYPT');
    const bytes = Buffer.from(box.ciphertext, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    expect(code(() => unseal(alice, { ...box, ciphertext: bytes.toString('base64') }))).toBe('ERR_DECRYPT');
  });
});
