/** sha256 of a UTF-8 string as lower-case hex over the platform's native crypto (OpenSSL in Node). */
export type NativeSha256Hex = (text: string) => string;

let cached: NativeSha256Hex | null | undefined;

/**
 * The native one-shot sha256 (`crypto.hash`, Node ≥ 20.12) when this runtime has one, else null (browsers,
 * other runtimes: callers use @noble/hashes). The same function as noble's sha256, several times faster on
 * the short strings of the hot paths (the audit draw, validator ranking); no static `node:` import, so the
 * protocol package stays loadable anywhere. A self-check against a known digest guards the choice.
 */
export function nativeSha256Hex(): NativeSha256Hex | null {
  if (cached !== undefined) return cached;
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const c = typeof getBuiltin === 'function' ? (getBuiltin('node:crypto') as { hash?: (alg: string, data: string, enc: string) => string } | undefined) : undefined;
  const hash = c?.hash;
  if (typeof hash !== 'function') return (cached = null);
  const fn: NativeSha256Hex = (text) => hash('sha256', text, 'hex');
  // sha256("abc"), FIPS 180-2
  return (cached = fn('abc') === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' ? fn : null);
}
