import { InfermarketError, READ_ALL_JOBS, READ_TOKEN_HEADER, openReadToken, type Job, type ReadGrant } from '@infermarket/protocol';
import type { MarketCore } from './core.js';

/**
 * The read grant a request presents (header `x-infermarket-read`, or `read` in the query for WebSocket
 * streams), checked against the market clock; null when it presents none. A token that is presented
 * but bad is an error, never silently a bystander's view.
 * @throws InfermarketError `ERR_UNAUTHENTICATED` (malformed, expired), `ERR_BAD_SIGNATURE`, `ERR_VALIDATION` (expiry too far ahead)
 */
export function readGrantOf(core: MarketCore, headers: Record<string, string | string[] | undefined>, query: string | null | undefined): ReadGrant | null {
  const h = headers[READ_TOKEN_HEADER];
  const token = (Array.isArray(h) ? h[0] : h) ?? query ?? null;
  if (token === null || token === '') return null;
  const g = openReadToken(token);
  const now = core.now();
  if (g.expiresAtMs < now) throw new InfermarketError('ERR_UNAUTHENTICATED', `the read token expired at ${g.expiresAtMs}; it is now ${now}: sign a new one`, { details: { field: READ_TOKEN_HEADER } });
  if (g.expiresAtMs > now + core.params.messageTtlMs) {
    throw new InfermarketError('ERR_VALIDATION', `the read token's "expiresAtMs" may be at most messageTtlMs (${core.params.messageTtlMs}) ahead of now (${now}), got ${g.expiresAtMs}`, { details: { field: READ_TOKEN_HEADER } });
  }
  return g;
}

/** True if `grant` lets its bearer read the job's data: signed by the job's client, for this job or for all its jobs. */
export function mayRead(grant: ReadGrant | null, job: Pick<Job, 'id' | 'client'>): boolean {
  return grant !== null && grant.address === job.client && (grant.jobId === job.id || grant.jobId === READ_ALL_JOBS);
}

/**
 * Like `mayRead`, but a presented token for someone else's job is an error (the SDK's own mistake, or a
 * probe), so the caller learns why it sees no output.
 * @throws InfermarketError `ERR_UNAUTHENTICATED`
 */
export function requireOwnGrant(grant: ReadGrant | null, job: Pick<Job, 'id' | 'client'>): boolean {
  if (grant === null) return false;
  if (!mayRead(grant, job)) {
    throw new InfermarketError('ERR_UNAUTHENTICATED', `the read token is signed by ${grant.address} for job ${JSON.stringify(grant.jobId)}; job ${job.id} belongs to ${job.client}`, { details: { field: READ_TOKEN_HEADER } });
  }
  return true;
}
