import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJson, type Canonical } from './canonical.js';
import type { KeyPair } from './crypto.js';
import { openEnvelope, type Envelope } from './envelope.js';
import { InfermarketError } from './errors.js';
import { encryptionKeyPairFromSeed, seal, unseal, type EncryptionKeyPair } from './sealed.js';
import type { SealedBox } from './wire.js';

/**
 * Helpers for private jobs (docs/privacy.md): node encryption keys derived from signing keys, checking the
 * signed binding between an address and its encryption key, and sealing JSON values.
 */

const utf8 = new TextEncoder();
const NODE_KEY_LABEL = utf8.encode('infermarket/node-x25519/v1');

/** A node's x25519 key pair, derived from its ed25519 signing seed (one secret to keep, not two). */
export function nodeEncryptionKeys(keys: Pick<KeyPair, 'secretKey'>): EncryptionKeyPair {
  const buf = new Uint8Array(NODE_KEY_LABEL.length + keys.secretKey.length);
  buf.set(NODE_KEY_LABEL, 0);
  buf.set(keys.secretKey, NODE_KEY_LABEL.length);
  return encryptionKeyPairFromSeed(sha256(buf));
}

/** What a checked registration tells about its node. */
export interface VerifiedRegistration {
  address: string;
  role: string;
  region: string;
  encryptionKey: string;
}

/**
 * Check a node's signed registration before sealing anything to its key: the signature must verify, the
 * signer must be `expectedAddress`, and it must carry an encryption key.
 * @throws InfermarketError `ERR_KEY_MISMATCH` when any of these fails (a swapped key, a forged or someone
 * else's registration).
 */
export function verifyRegistration(env: Envelope | null | undefined, expectedAddress: string): VerifiedRegistration {
  if (!env || typeof env !== 'object' || env.type !== 'node.register') {
    throw new InfermarketError('ERR_KEY_MISMATCH', `no signed registration for ${expectedAddress}`, { details: { field: 'registration' } });
  }
  let address: string;
  try {
    address = openEnvelope(env).address;
  } catch (e) {
    throw new InfermarketError('ERR_KEY_MISMATCH', `the registration of ${expectedAddress} does not verify (a swapped key?): ${(e as Error).message}`, { details: { field: 'registration' }, cause: e });
  }
  if (address !== expectedAddress) {
    throw new InfermarketError('ERR_KEY_MISMATCH', `the registration is signed by ${address}, not by the assigned party ${expectedAddress}`, { details: { field: 'registration.signer' } });
  }
  const b = env.body as Record<string, unknown>;
  if (typeof b.encryptionKey !== 'string' || !/^[0-9a-f]{64}$/.test(b.encryptionKey)) {
    throw new InfermarketError('ERR_KEY_MISMATCH', `${expectedAddress} registered no encryption key`, { details: { field: 'registration.encryptionKey' } });
  }
  return { address, role: String(b.role), region: String(b.region), encryptionKey: b.encryptionKey };
}

/** Seal a JSON value (its canonical form) to `recipientPublicKey`. @param random 56 fresh random bytes. */
export function sealJson(recipientPublicKey: string, value: Canonical, random: Uint8Array): SealedBox {
  return seal(recipientPublicKey, utf8.encode(canonicalJson(value)), random);
}

/** Open a box sealed with `sealJson`. @throws InfermarketError `ERR_DECRYPT`. */
export function unsealJson<T>(keys: EncryptionKeyPair, box: SealedBox): T {
  const bytes = unseal(keys, box);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new InfermarketError('ERR_DECRYPT', `sealed box does not hold JSON: ${(e as Error).message}`);
  }
}

/**
 * Open a job key (the 32-byte seed of the job's x25519 pair, sealed to this node) and check that it is the
 * key the job's input box was sealed to.
 * @throws InfermarketError `ERR_DECRYPT` when the box does not open, `ERR_KEY_MISMATCH` when it is another job's key.
 */
export function openJobKey(nodeKeys: EncryptionKeyPair, jobKeyBox: SealedBox, inputBoxTo: string): EncryptionKeyPair {
  const seed = unseal(nodeKeys, jobKeyBox);
  const pair = encryptionKeyPairFromSeed(seed);
  if (pair.publicKey !== inputBoxTo) throw new InfermarketError('ERR_KEY_MISMATCH', 'the job key does not open this job\'s input box', { details: { field: 'jobKey' } });
  return pair;
}
