import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalEncode, toHex, fromHex, type Canonical } from './canonical.js';
import { nativeEd25519 } from './ed25519-native.js';
import { InfermarketError } from './errors.js';

/** An ed25519 key pair; `secretKey` is the 32-byte seed. */
export interface KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  address: string;
}

const utf8 = new TextEncoder();

/** sha256 of bytes or of a UTF-8 string. */
export function hash(data: Uint8Array | string): Uint8Array {
  return sha256(typeof data === 'string' ? utf8.encode(data) : data);
}

/** sha256 as lower-case hex. */
export function hashHex(data: Uint8Array | string): string {
  return toHex(hash(data));
}

/** Address of a public key: "im" + the first 20 bytes of sha256(publicKey) in hex. */
export function addressOf(publicKey: Uint8Array): string {
  return `im${toHex(sha256(publicKey).subarray(0, 20))}`;
}

/** True if `s` has the shape of an address. */
export function isAddress(s: unknown): s is string {
  return typeof s === 'string' && /^im[0-9a-f]{40}$/.test(s);
}

/**
 * Key pair from a 32-byte seed. Randomness is the caller's: pass `crypto.randomBytes(32)` in a process,
 * or a seeded stream in the simulator, or `seedFromLabel('alice')` for reproducible testnet accounts.
 */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new InfermarketError('ERR_VALIDATION', `key seed must be 32 bytes, got ${seed.length}`);
  const publicKey = ed25519.getPublicKey(seed);
  return { secretKey: seed, publicKey, address: addressOf(publicKey) };
}

/** A deterministic 32-byte key seed from a label (e.g. a scenario seed and a node name). Test and testnet use only. */
export function seedFromLabel(label: string): Uint8Array {
  return hash(`infermarket/key-seed/v1\n${label}`);
}

/** Domain-separated bytes that a signature covers: a fixed prefix, the message type, then the canonical body. */
export function signingBytes(type: string, body: Canonical): Uint8Array {
  const head = utf8.encode(`infermarket/v1\n${type}\n`);
  const tail = canonicalEncode(body);
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

/** Sign `type` + canonical `body`; returns the signature as hex. */
export function signMessage(secretKey: Uint8Array, type: string, body: Canonical): string {
  // the native backend gives the same deterministic RFC 8032 signature, much faster (see ed25519-native.ts)
  const native = nativeEd25519();
  return toHex(native ? native.sign(signingBytes(type, body), secretKey) : ed25519.sign(signingBytes(type, body), secretKey));
}

/** Verify a hex signature by a hex public key over `type` + canonical `body`. Never throws on bad input. */
export function verifyMessage(publicKeyHex: string, type: string, body: Canonical, sigHex: string): boolean {
  try {
    const native = nativeEd25519();
    const sig = fromHex(sigHex);
    const pub = fromHex(publicKeyHex);
    return native ? native.verify(sig, signingBytes(type, body), pub) : ed25519.verify(sig, signingBytes(type, body), pub);
  } catch {
    return false;
  }
}

export { toHex, fromHex };
