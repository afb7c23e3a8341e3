import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalEncode, toHex, fromHex, type Canonical } from './canonical.js';
import { nativeEd25519 } from './ed25519-native.js';
import { nativeSha256Hex } from './hash-native.js';
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

const nativeHex = nativeSha256Hex();

/** sha256 as lower-case hex (of a string: the runtime's native sha256 where it has one — the same digest, and a batch job's input is hashed at every hop). */
export function hashHex(data: Uint8Array | string): string {
  if (typeof data === 'string' && nativeHex) return nativeHex(data);
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

// Strict Ed25519 (docs/security.md, "Taming the many EdDSAs"): one accepted set on the native and the JS
// path alike. A public key must be the canonical encoding of a point of prime order L (no small-order key,
// no key with a torsion component, no y ≥ p); R must be canonical and not of small order; S must be < L;
// the equation is the cofactorless SB = R + kA (OpenSSL's), which the JS path reaches by also requiring R
// to be torsion-free before noble's cofactored check. Every one of the 12 speccheck vectors is refused.
const L_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
// little-endian bytes of L: S must be below it
const L_BYTES = ((): Uint8Array => {
  const out = new Uint8Array(32);
  let n = L_ORDER;
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
})();
/** The y coordinate's 32 bytes with the sign bit cleared, as hex (the small-order lookup key). */
const yHexOf = (b: Uint8Array): string => toHex(b.subarray(0, 31)) + (b[31]! & 0x7f).toString(16).padStart(2, '0');
/** y ≥ p = 2^255 − 19 (a non-canonical encoding): bytes 1…30 all 0xff, the top byte 0x7f (sign bit aside), byte 0 ≥ 0xed. */
const yNonCanonical = (b: Uint8Array): boolean => {
  if ((b[31]! & 0x7f) !== 0x7f || b[0]! < 0xed) return false;
  for (let i = 1; i < 31; i++) if (b[i] !== 0xff) return false;
  return true;
};
/** S < L, comparing little-endian bytes from the top. */
const scalarBelowL = (b: Uint8Array): boolean => {
  for (let i = 31; i >= 0; i--) {
    if (b[i]! < L_BYTES[i]!) return true;
    if (b[i]! > L_BYTES[i]!) return false;
  }
  return false;
};
/** y coordinates (hex, sign bit cleared) of the 8 small-order points: an R or A with one of these is refused whatever its sign bit. */
const SMALL_ORDER_Y = new Set(ED25519_TORSION_SUBGROUP.map((h) => yHexOf(fromHex(h))));
const strictKeys = new Map<string, boolean>();
const STRICT_KEYS_MAX = 10_000;

/**
 * True if `publicKey` is a strict Ed25519 public key: 32 bytes, the canonical encoding of a point of prime
 * order L (so not the identity, not of small order, no torsion component). Cached per key (bounded).
 */
export function isStrictPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32) return false;
  const id = toHex(publicKey);
  const hit = strictKeys.get(id);
  if (hit !== undefined) return hit;
  let ok = false;
  try {
    if (!yNonCanonical(publicKey) && !SMALL_ORDER_Y.has(yHexOf(publicKey))) {
      const A = ed25519.Point.fromBytes(publicKey, false);
      ok = !A.is0() && A.isTorsionFree() && toHex(A.toBytes()) === id;
    }
  } catch {
    ok = false;
  }
  if (strictKeys.size >= STRICT_KEYS_MAX) strictKeys.clear();
  strictKeys.set(id, ok);
  return ok;
}

/** True if a 64-byte signature has a canonical, not-small-order R and S < L (the cheap half of the strict rules). */
export function isStrictSignatureShape(sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  const r = sig.subarray(0, 32);
  if (yNonCanonical(r) || SMALL_ORDER_Y.has(yHexOf(r))) return false;
  return scalarBelowL(sig.subarray(32));
}

/**
 * Strict Ed25519 verification of raw bytes (see the rules above); the native backend when there is one
 * (`backend: 'js'` forces @noble/curves, for tests that hold both paths to one answer). Never throws.
 */
export function verifyStrict(sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array, options: { backend?: 'auto' | 'js' } = {}): boolean {
  try {
    if (!isStrictPublicKey(publicKey) || !isStrictSignatureShape(sig)) return false;
    const native = options.backend === 'js' ? null : nativeEd25519();
    if (native) return native.verify(sig, message, publicKey);
    // cofactored check + torsion-free R ≡ the cofactorless equation the native path checks
    if (!ed25519.Point.fromBytes(sig.subarray(0, 32), false).isTorsionFree()) return false;
    return ed25519.verify(sig, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Verify a hex signature by a hex public key over `type` + canonical `body`, strictly. Never throws on bad input. */
export function verifyMessage(publicKeyHex: string, type: string, body: Canonical, sigHex: string): boolean {
  try {
    return verifyStrict(fromHex(sigHex), signingBytes(type, body), fromHex(publicKeyHex));
  } catch {
    return false;
  }
}

export { toHex, fromHex };
