import { InfermarketError } from './errors.js';
import type { MarketState, ReplayWindow, Signed } from './types.js';

/** What replay protection reads and keeps: the signers' windows and the message TTL (a market's state has both; the cloud baseline keeps just these). */
export type ReplayBook = Pick<MarketState, 'replay'> & { params: Pick<MarketState['params'], 'messageTtlMs'> };

/**
 * How far below a signer's highest accepted sequence number a message may still arrive (out of order) and be
 * accepted once. Older ones are refused with `ERR_REPLAY` whether or not they were seen: the window is what
 * bounds the memory per signer (a high-water mark and `REPLAY_WINDOW` bits), not the message rate.
 */
export const REPLAY_WINDOW = 1024;
const WORDS = REPLAY_WINDOW / 32;
/** The largest sequence number: a decimal string of at most 16 digits that is a safe integer. */
const SEQ = /^[1-9][0-9]{0,15}$/;

/**
 * The sequence number a signed action carries in `nonce`: a decimal string of a positive safe integer.
 * @throws ERR_VALIDATION naming the field
 */
export function parseSeq(nonce: unknown): number {
  const n = typeof nonce === 'string' && SEQ.test(nonce) ? Number(nonce) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new InfermarketError(
      'ERR_VALIDATION',
      `"nonce" must be the signer's sequence number, a decimal integer string from 1 to ${Number.MAX_SAFE_INTEGER} without leading zeros, got ${JSON.stringify(nonce)?.slice(0, 140)}`,
      { details: { field: 'nonce' } },
    );
  }
  return n;
}

/**
 * Refuse a signed action that was seen before, is too far behind its signer's newest one, or whose expiry
 * has passed or is too far ahead. Call before any mutation; `rememberNonce` with the returned sequence number
 * after the action is accepted.
 *
 * Replay protection is a per-signer sliding window (as in IPsec/DTLS): the highest sequence number accepted
 * so far and a bitmap of which of the `REPLAY_WINDOW` numbers below it were used. A number above the mark is
 * new; one inside the window is new if its bit is clear; one below the window is refused. Signers number
 * their messages 1, 2, 3, … (gaps are fine: a new process may start from the clock, see docs/api.md).
 * @returns the sequence number
 * @throws ERR_REPLAY, ERR_VALIDATION
 */
export function checkNonce(state: ReplayBook, action: Signed, atMs: number): number {
  const seq = parseSeq(action.nonce);
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
  const w = state.replay.get(action.by);
  if (!w || seq > w.high) return seq;
  if (w.high - seq >= REPLAY_WINDOW) {
    throw new InfermarketError('ERR_REPLAY', `nonce ${seq} from ${action.by} is more than ${REPLAY_WINDOW} behind its newest accepted nonce ${w.high}`, { details: { field: 'nonce' } });
  }
  const bit = seq % REPLAY_WINDOW;
  if ((w.bits[bit >>> 5]! >>> (bit & 31)) & 1) {
    throw new InfermarketError('ERR_REPLAY', `nonce ${seq} from ${action.by} was already used`, { details: { field: 'nonce' } });
  }
  return seq;
}

/** Mark `seq` (from `checkNonce`) used by `action.by`. */
export function rememberNonce(state: ReplayBook, action: Signed, seq: number): void {
  let w = state.replay.get(action.by);
  if (!w) {
    w = { high: 0, bits: new Uint32Array(WORDS), expiresAtMs: 0 };
    state.replay.set(action.by, w);
  }
  if (seq > w.high) {
    // the bitmap is a ring indexed by seq mod REPLAY_WINDOW: clear the slots of the numbers skipped over
    const gap = seq - w.high;
    if (gap >= REPLAY_WINDOW) w.bits.fill(0);
    else for (let s = w.high + 1; s < seq; s++) w.bits[(s % REPLAY_WINDOW) >>> 5]! &= ~(1 << (s & 31));
    w.high = seq;
  }
  const bit = seq % REPLAY_WINDOW;
  w.bits[bit >>> 5]! |= 1 << (bit & 31);
  if (action.expiresAtMs > w.expiresAtMs) w.expiresAtMs = action.expiresAtMs;
}

/**
 * Forget the windows of signers whose every accepted message has expired: none of those can be replayed
 * (the expiry check refuses them), so the memory kept is one window per recently active signer.
 */
export function pruneNonces(state: ReplayBook, atMs: number): void {
  for (const [by, w] of state.replay) if (w.expiresAtMs < atMs) state.replay.delete(by);
}

/**
 * Sequence numbers for one signing process, as `nonce` strings: `startMs × 1000`, then +1 per message. A
 * process that restarts with the same key (given the wall clock at its start) continues above every number
 * it used before, as long as it signed fewer than 1,000 messages per ms of its life; one key signing from
 * two processes at once would collide (refused as replays): one key, one sequence.
 * The caller reads its own clock and passes it in (this package reads none).
 * @example const next = nonceSequence(startedAtMs); sealEnvelope(keys, 'job.bid', { ...body, nonce: next(), expiresAtMs });
 */
export function nonceSequence(startMs: number): () => string {
  if (!Number.isSafeInteger(startMs) || startMs < 0 || startMs * 1000 > Number.MAX_SAFE_INTEGER / 2) {
    throw new InfermarketError('ERR_VALIDATION', `"startMs" must be a wall-clock time in ms (0 … ${Math.floor(Number.MAX_SAFE_INTEGER / 2000)}), got ${String(startMs)}`);
  }
  let next = startMs * 1000;
  return () => String(++next);
}
