import { InfermarketError } from './errors.js';
import type { MarketState, Signed } from './types.js';

/**
 * Refuse a signed action whose nonce was seen before or whose expiry has passed or is too far ahead.
 * Call before any mutation; `rememberNonce` with the returned key after the action is accepted.
 * @returns the key under which the nonce is remembered
 * @throws ERR_REPLAY, ERR_VALIDATION
 */
export function checkNonce(state: MarketState, action: Signed, atMs: number): string {
  if (typeof action.nonce !== 'string' || action.nonce.length < 1 || action.nonce.length > 128) {
    throw new InfermarketError('ERR_VALIDATION', `"nonce" must be a string of 1 to 128 characters, got ${JSON.stringify(action.nonce)}`);
  }
  if (!Number.isSafeInteger(action.expiresAtMs)) {
    throw new InfermarketError('ERR_VALIDATION', `"expiresAtMs" must be an integer time in ms, got ${String(action.expiresAtMs)}`);
  }
  if (action.expiresAtMs < atMs) {
    throw new InfermarketError('ERR_REPLAY', `message expired at ${action.expiresAtMs}, it is now ${atMs}`);
  }
  if (action.expiresAtMs > atMs + state.params.messageTtlMs) {
    throw new InfermarketError(
      'ERR_VALIDATION',
      `"expiresAtMs" may be at most messageTtlMs (${state.params.messageTtlMs}) ahead of now (${atMs}), got ${action.expiresAtMs}`,
    );
  }
  const key = `${action.by}:${action.nonce}`;
  if (state.nonces.has(key)) {
    throw new InfermarketError('ERR_REPLAY', `nonce ${JSON.stringify(action.nonce)} from ${action.by} was already used`);
  }
  return key;
}

export function rememberNonce(state: MarketState, key: string, expiresAtMs: number): void {
  state.nonces.set(key, expiresAtMs);
}

/** Forget nonces whose messages have expired (they can no longer be replayed anyway). */
export function pruneNonces(state: MarketState, atMs: number): void {
  for (const [key, expires] of state.nonces) if (expires < atMs) state.nonces.delete(key);
}
