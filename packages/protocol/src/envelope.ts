import type { Canonical } from './canonical.js';
import { addressOf, isStrictPublicKey, signMessage, verifyMessage, fromHex, toHex } from './crypto.js';
import { InfermarketError } from './errors.js';

/** The fields every signed body carries for replay protection. */
export interface Replayable {
  /** Unique per signer; remembered by the rules until `expiresAtMs`. */
  nonce: string;
  /** After this time the message is refused; at most `messageTtlMs` ahead of the time it is applied. */
  expiresAtMs: number;
}

/** A signed message: `sig` is ed25519 over `signingBytes(type, body)` by `signer` (hex public key). */
export interface Envelope<T extends string = string, B extends Canonical = Canonical> {
  type: T;
  body: B;
  signer: string;
  sig: string;
}

/** Sign a body into an envelope. */
export function sealEnvelope<T extends string, B extends Canonical>(
  keys: { secretKey: Uint8Array; publicKey: Uint8Array },
  type: T,
  body: B,
): Envelope<T, B> {
  return { type, body, signer: toHex(keys.publicKey), sig: signMessage(keys.secretKey, type, body) };
}

/**
 * Check an envelope's signature and return the signer's address.
 * @throws InfermarketError `ERR_BAD_SIGNATURE` when the signature does not verify, `ERR_VALIDATION` when malformed.
 */
export function openEnvelope(env: Envelope): { address: string } {
  if (typeof env !== 'object' || env === null || typeof env.type !== 'string' || typeof env.signer !== 'string' || typeof env.sig !== 'string') {
    throw new InfermarketError('ERR_VALIDATION', 'envelope must have string "type", "signer", "sig" and a "body"');
  }
  if (!/^[0-9a-f]{64}$/.test(env.signer)) throw new InfermarketError('ERR_VALIDATION', `"signer" must be a 32-byte hex public key, got ${JSON.stringify(env.signer.slice(0, 80))}`);
  if (!/^[0-9a-f]{128}$/.test(env.sig)) throw new InfermarketError('ERR_BAD_SIGNATURE', '"sig" must be a 64-byte hex ed25519 signature');
  if (!isStrictPublicKey(fromHex(env.signer))) {
    throw new InfermarketError('ERR_BAD_SIGNATURE', `"signer" ${env.signer.slice(0, 16)}… is not a strict ed25519 public key (small order, torsion component or non-canonical encoding): refused`);
  }
  let ok: boolean;
  try {
    ok = verifyMessage(env.signer, env.type, env.body, env.sig);
  } catch (e) {
    throw new InfermarketError('ERR_BAD_SIGNATURE', `envelope ${env.type} cannot be verified: ${(e as Error).message}`);
  }
  if (!ok) throw new InfermarketError('ERR_BAD_SIGNATURE', `signature on ${env.type} does not verify for signer ${env.signer.slice(0, 16)}…`);
  return { address: addressOf(fromHex(env.signer)) };
}
