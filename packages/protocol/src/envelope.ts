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

/** HTTP header carrying a read token (`?read=` in the query does the same, for WebSocket streams). */
export const READ_TOKEN_HEADER = 'x-infermarket-read';
/** The `jobId` of a read token for all of its signer's jobs (the job list). */
export const READ_ALL_JOBS = '*';

/** What a read token grants: the signer may read `jobId` (or all its jobs, `*`) until `expiresAtMs`. */
export interface ReadGrant {
  address: string;
  jobId: string;
  expiresAtMs: number;
}

/**
 * A short-lived read token: the client's signature over `{ jobId, expiresAtMs }` (type `job.read`), as
 * hex of its JSON (URL- and header-safe, no Buffer: the protocol package runs anywhere). The market shows a job's output, result, receipt, tokens and stream only to a request
 * bearing one signed by the job's client (docs/privacy.md); `jobId` `*` covers all of the signer's jobs.
 */
export function makeReadToken(keys: { secretKey: Uint8Array; publicKey: Uint8Array }, jobId: string, expiresAtMs: number): string {
  return toHex(new TextEncoder().encode(JSON.stringify(sealEnvelope(keys, 'job.read', { jobId, expiresAtMs }))));
}

/**
 * Check a read token's signature and shape (not its expiry or whom it names: the caller compares with the
 * clock and the job's client).
 * @throws InfermarketError `ERR_UNAUTHENTICATED` when it is not a well-formed `job.read` token; `ERR_BAD_SIGNATURE` when it does not verify.
 */
export function openReadToken(token: string): ReadGrant {
  const bad = (why: string): never => {
    throw new InfermarketError('ERR_UNAUTHENTICATED', `the read token ("${READ_TOKEN_HEADER}" header or "read" query) ${why}`, { details: { field: READ_TOKEN_HEADER } });
  };
  if (typeof token !== 'string' || token.length > 4_096 || token.length % 2 !== 0 || !/^[0-9a-f]+$/.test(token)) bad('must be lower-case hex of at most 4096 characters');
  let env: Envelope;
  try {
    env = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromHex(token))) as Envelope;
  } catch {
    return bad('is not hex of UTF-8 JSON');
  }
  if (typeof env !== 'object' || env === null || env.type !== 'job.read') bad('must be a "job.read" envelope');
  const body = env.body as { jobId?: unknown; expiresAtMs?: unknown } | null;
  if (typeof body !== 'object' || body === null || Object.keys(body).length !== 2 || typeof body.jobId !== 'string' || body.jobId.length > 128 || !Number.isSafeInteger(body.expiresAtMs)) {
    bad('body must be exactly { jobId, expiresAtMs }');
  }
  const { address } = openEnvelope(env);
  return { address, jobId: body!.jobId as string, expiresAtMs: body!.expiresAtMs as number };
}
