import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { addressOf, fromHex, isStrictPublicKey, isStrictSignatureShape, openEnvelope, signingBytes, type Envelope } from '@infermarket/protocol';

// DER prefix of an ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const CACHE_MAX = 10_000;
const keys = new Map<string, { key: KeyObject; address: string } | null>();

/** The native key of a strict public key (cached), or null for a key the strict rules refuse. */
function keyOf(signer: string): { key: KeyObject; address: string } | null {
  let k = keys.get(signer);
  if (k === undefined) {
    if (keys.size >= CACHE_MAX) keys.clear();
    const raw = fromHex(signer);
    k = isStrictPublicKey(raw) ? { key: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(raw)]), format: 'der', type: 'spki' }), address: addressOf(raw) } : null;
    keys.set(signer, k);
  }
  return k;
}

/**
 * `openEnvelope` with the signature checked by node's native ed25519 first (about 5× faster than the
 * pure-JS check, which bounds how many signed messages the market can take per second). The strict rules
 * (prime-order canonical key, canonical R not of small order, S < L: `isStrictPublicKey`,
 * `isStrictSignatureShape`) are applied here as in the protocol's `verifyStrict`; anything the native
 * check does not accept goes to the protocol's `openEnvelope`, which then decides and throws its own coded
 * error, so the accepted set and the errors are exactly the protocol's.
 * @throws InfermarketError `ERR_BAD_SIGNATURE`, `ERR_VALIDATION` (from `openEnvelope`)
 */
export function openEnvelopeFast(env: Envelope): { address: string } {
  if (
    typeof env !== 'object' ||
    env === null ||
    typeof env.type !== 'string' ||
    typeof env.signer !== 'string' ||
    typeof env.sig !== 'string' ||
    !/^[0-9a-f]{64}$/.test(env.signer) ||
    !/^[0-9a-f]{128}$/.test(env.sig)
  ) {
    return openEnvelope(env);
  }
  try {
    const k = keyOf(env.signer);
    const sig = Buffer.from(env.sig, 'hex');
    if (k && isStrictSignatureShape(sig) && verify(null, signingBytes(env.type, env.body), k.key, sig)) return { address: k.address };
  } catch {
    // not a usable key or body for the native check: the protocol's check decides
  }
  return openEnvelope(env);
}
