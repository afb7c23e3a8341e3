import { InfermarketError, type Envelope } from '@infermarket/protocol';
import { openEnvelopeFast as openEnvelope } from './open-envelope-fast.js';

/**
 * Check a connection's `auth.login`: a signed envelope over this connection's own challenge, not yet
 * expired. One check for node connections (gateway) and client sessions alike: a login signed for another
 * connection (captured, replayed) fails.
 * @returns the signer's address.
 * @throws InfermarketError `ERR_VALIDATION` (not an `auth.login` envelope), `ERR_BAD_SIGNATURE`,
 *   `ERR_UNAUTHENTICATED` (another connection's challenge), `ERR_REPLAY` (expired).
 */
export function checkLogin(env: unknown, challenge: string, nowMs: number): string {
  const e = env as Envelope | undefined;
  if (typeof e !== 'object' || e === null || e.type !== 'auth.login') {
    throw new InfermarketError('ERR_VALIDATION', '"envelope" must be an "auth.login" envelope over the challenge', { details: { field: 'envelope' } });
  }
  const { address } = openEnvelope(e);
  const body = e.body as { challenge?: unknown; expiresAtMs?: unknown };
  if (body?.challenge !== challenge) throw new InfermarketError('ERR_UNAUTHENTICATED', '"envelope.body.challenge" is not the challenge of this connection', { details: { field: 'challenge' } });
  if (typeof body.expiresAtMs !== 'number' || body.expiresAtMs < nowMs) throw new InfermarketError('ERR_REPLAY', '"envelope.body.expiresAtMs" has passed', { details: { field: 'expiresAtMs' } });
  return address;
}
