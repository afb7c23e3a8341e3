/** X25519 over the platform's native crypto (OpenSSL in Node): the same RFC 7748 results as @noble/curves, far faster. */
export interface NativeX25519 {
  getPublicKey(secretKey: Uint8Array): Uint8Array;
  getSharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}

// DER prefixes that wrap a raw 32-byte x25519 private key (PKCS#8) or public key (SPKI)
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);

const join = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};

let cached: NativeX25519 | null | undefined;

/**
 * The native backend when this runtime has one (Node ≥ 20.16 via `process.getBuiltinModule`), else null
 * (callers fall back to @noble/curves). No static `node:` import, as in `ed25519-native.ts`.
 */
export function nativeX25519(): NativeX25519 | null {
  if (cached !== undefined) return cached;
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const c = typeof getBuiltin === 'function' ? (getBuiltin('node:crypto') as typeof import('node:crypto') | undefined) : undefined;
  if (!c || typeof c.diffieHellman !== 'function') return (cached = null);
  const priv = (sk: Uint8Array) => c.createPrivateKey({ key: Buffer.from(join(PKCS8_PREFIX, sk)), format: 'der', type: 'pkcs8' });
  const pub = (pk: Uint8Array) => c.createPublicKey({ key: Buffer.from(join(SPKI_PREFIX, pk)), format: 'der', type: 'spki' });
  try {
    cached = {
      getPublicKey: (sk) => new Uint8Array(c.createPublicKey(priv(sk)).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length)),
      getSharedSecret: (sk, pk) => new Uint8Array(c.diffieHellman({ privateKey: priv(sk), publicKey: pub(pk) })),
    };
    // self-check once: a runtime without X25519 in its OpenSSL falls back
    cached.getSharedSecret(new Uint8Array(32).fill(1), cached.getPublicKey(new Uint8Array(32).fill(2)));
  } catch {
    cached = null;
  }
  return cached;
}
