import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from './canonical.js';
import { InfermarketError } from './errors.js';
import type { SealedBox } from './wire.js';
import { nativeX25519 } from './x25519-native.js';

// native X25519 where the runtime has it (same results, ~1 ms less per operation than pure JS)
const xpub = (sk: Uint8Array): Uint8Array => nativeX25519()?.getPublicKey(sk) ?? x25519.getPublicKey(sk);
const xshared = (sk: Uint8Array, pk: Uint8Array): Uint8Array => nativeX25519()?.getSharedSecret(sk, pk) ?? x25519.getSharedSecret(sk, pk);

/**
 * Sealed boxes for private jobs: x25519 key agreement with an ephemeral key, HKDF-SHA256, then
 * XChaCha20-Poly1305 with the box's header as associated data. Only the holder of the recipient's
 * x25519 secret can open a box; any change to it is detected. Randomness (the ephemeral key seed and
 * the nonce) is the caller's, as everywhere in this package.
 */

const utf8 = new TextEncoder();

/** An x25519 key pair for receiving sealed boxes; `publicKey` is hex. */
export interface EncryptionKeyPair {
  secretKey: Uint8Array;
  publicKey: string;
}

/** x25519 key pair from a 32-byte seed (derive it from the signing seed, or from fresh randomness). */
export function encryptionKeyPairFromSeed(seed: Uint8Array): EncryptionKeyPair {
  if (seed.length !== 32) throw new InfermarketError('ERR_VALIDATION', `encryption key seed must be 32 bytes, got ${seed.length}`);
  const secretKey = sha256(utf8.encode('infermarket/x25519/v1')).map((b, i) => b ^ seed[i]!);
  return { secretKey, publicKey: toHex(xpub(secretKey)) };
}

function boxKey(shared: Uint8Array, from: string, to: string): Uint8Array {
  return hkdf(sha256, shared, utf8.encode(`${from}|${to}`), utf8.encode('infermarket/sealed-box/v1'), 32);
}

/**
 * Encrypt `plaintext` to the holder of `recipientPublicKey`.
 * @param random 56 fresh random bytes: 32 for the ephemeral key, 24 for the nonce.
 */
export function seal(recipientPublicKey: string, plaintext: Uint8Array, random: Uint8Array): SealedBox {
  if (!/^[0-9a-f]{64}$/.test(recipientPublicKey)) throw new InfermarketError('ERR_VALIDATION', '"to" must be a 32-byte x25519 public key in hex');
  if (random.length !== 56) throw new InfermarketError('ERR_VALIDATION', `seal needs 56 random bytes, got ${random.length}`);
  const eph = random.subarray(0, 32);
  const nonce = random.subarray(32, 56);
  const from = toHex(xpub(eph));
  const key = boxKey(xshared(eph, fromHex(recipientPublicKey)), from, recipientPublicKey);
  const aad = utf8.encode(`${from}|${recipientPublicKey}`);
  const ciphertext = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
  return { to: recipientPublicKey, from, nonce: toHex(nonce), ciphertext: Buffer.from(ciphertext).toString('base64') };
}

/**
 * Decrypt a sealed box with the recipient's secret key.
 * @throws InfermarketError `ERR_DECRYPT` when the box is not for this key or was tampered with.
 */
export function unseal(keys: EncryptionKeyPair, box: SealedBox): Uint8Array {
  if (box.to !== keys.publicKey) throw new InfermarketError('ERR_DECRYPT', `sealed box is for ${box.to.slice(0, 16)}…, not for this key ${keys.publicKey.slice(0, 16)}…`);
  try {
    const key = boxKey(xshared(keys.secretKey, fromHex(box.from)), box.from, box.to);
    return xchacha20poly1305(key, fromHex(box.nonce), utf8.encode(`${box.from}|${box.to}`)).decrypt(Buffer.from(box.ciphertext, 'base64'));
  } catch (e) {
    throw new InfermarketError('ERR_DECRYPT', `sealed box cannot be opened: ${(e as Error).message}`);
  }
}
