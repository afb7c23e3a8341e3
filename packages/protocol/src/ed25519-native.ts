import type { KeyObject } from 'node:crypto';

/** Ed25519 over the platform's native crypto (OpenSSL in Node): the same RFC 8032 signatures, ~50× faster than pure JS. */
export interface NativeEd25519 {
  sign(message: Uint8Array, seed: Uint8Array): Uint8Array;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

// DER prefixes that wrap a raw 32-byte ed25519 seed (PKCS#8) or public key (SPKI)
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const CACHE_MAX = 4_096;

const join = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};

let cached: NativeEd25519 | null | undefined;

/**
 * The native backend when this runtime has one (Node ≥ 20.16 via `process.getBuiltinModule`), else null
 * (browsers, other runtimes: callers fall back to @noble/curves). No static `node:` import, so the
 * protocol package stays loadable anywhere. Key objects are cached (bounded): a market verifies the same
 * few dozen node and client keys over and over.
 */
export function nativeEd25519(): NativeEd25519 | null {
  if (cached !== undefined) return cached;
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const c = typeof getBuiltin === 'function' ? (getBuiltin('node:crypto') as typeof import('node:crypto') | undefined) : undefined;
  if (!c || typeof c.sign !== 'function') return (cached = null);
  const privs = new Map<string, KeyObject>();
  const pubs = new Map<string, KeyObject>();
  const keyOf = (map: Map<string, KeyObject>, raw: Uint8Array, make: () => KeyObject): KeyObject => {
    const id = Buffer.from(raw).toString('hex');
    let k = map.get(id);
    if (!k) {
      if (map.size >= CACHE_MAX) map.clear();
      k = make();
      map.set(id, k);
    }
    return k;
  };
  try {
    cached = {
      sign(message, seed) {
        const key = keyOf(privs, seed, () => c.createPrivateKey({ key: Buffer.from(join(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' }));
        return new Uint8Array(c.sign(null, message, key));
      },
      verify(signature, message, publicKey) {
        if (publicKey.length !== 32 || signature.length !== 64) return false;
        const key = keyOf(pubs, publicKey, () => c.createPublicKey({ key: Buffer.from(join(SPKI_PREFIX, publicKey)), format: 'der', type: 'spki' }));
        return c.verify(null, message, key, signature);
      },
    };
    // self-check against a known RFC 8032 vector shape: sign then verify one message, else fall back
    const seed = new Uint8Array(32).fill(7);
    const msg = new Uint8Array([1, 2, 3]);
    const pub = new Uint8Array(c.createPublicKey(c.createPrivateKey({ key: Buffer.from(join(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' })).subarray(SPKI_PREFIX.length);
    if (!cached.verify(cached.sign(msg, seed), msg, pub)) cached = null;
  } catch {
    cached = null;
  }
  return cached;
}
