import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfermarketError } from './errors.js';
import { REPLAY_WINDOW, checkNonce, nonceSequence, parseSeq, pruneNonces, rememberNonce } from './replay.js';
import { createState } from './state.js';
import { createHarness } from './testing.js';
import type { MarketState, Signed } from './types.js';

const SIGNERS = ['ima', 'imb', 'imc'];

/** checkNonce then rememberNonce, as `apply` does: the error code, or null when accepted. */
function offer(state: MarketState, action: Signed, atMs: number): string | null {
  try {
    rememberNonce(state, action, checkNonce(state, action, atMs));
    return null;
  } catch (e) {
    if (!(e instanceof InfermarketError)) throw e;
    return e.code;
  }
}

describe('replay windows (per-signer sequence numbers)', () => {
  it('property: accepts exactly the numbers a set of every used number would, within the window', () => {
    fc.assert(
      fc.property(
        // sequence numbers around a moving mark: in order, out of order, duplicated, far behind, far ahead
        fc.array(fc.tuple(fc.integer({ min: 0, max: SIGNERS.length - 1 }), fc.integer({ min: 1, max: 4 * REPLAY_WINDOW })), { maxLength: 400 }),
        (msgs) => {
          const state = createState({ models: [] });
          const seen = SIGNERS.map(() => new Set<number>());
          const high = SIGNERS.map(() => 0);
          for (const [who, seq] of msgs) {
            const by = SIGNERS[who]!;
            const expected = seen[who]!.has(seq) || high[who]! - seq >= REPLAY_WINDOW ? 'ERR_REPLAY' : null;
            const before = state.replay.get(by) ? { high: state.replay.get(by)!.high, bits: [...state.replay.get(by)!.bits] } : null;
            const got = offer(state, { by, nonce: String(seq), expiresAtMs: 1_000 }, 0);
            expect(got).toBe(expected);
            if (got === null) {
              seen[who]!.add(seq);
              high[who] = Math.max(high[who]!, seq);
            } else {
              // a refusal changes nothing
              const w = state.replay.get(by);
              expect(w ? { high: w.high, bits: [...w.bits] } : null).toEqual(before);
            }
          }
          // memory is bounded per signer, however many numbers were used
          for (const w of state.replay.values()) expect(w.bits.length).toBe(REPLAY_WINDOW / 32);
          expect(state.replay.size).toBeLessThanOrEqual(SIGNERS.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: any arrival order of distinct numbers displaced less than the window is accepted once, and a second copy of each is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 * REPLAY_WINDOW }), fc.integer({ min: 1, max: REPLAY_WINDOW - 1 }), fc.integer(), (count, spread, seed) => {
        // each number arrives at most `spread` places away from where it was signed
        const order = Array.from({ length: count }, (_, i) => i + 1);
        let x = seed >>> 0;
        for (let i = 0; i < order.length; i++) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          const j = Math.min(order.length - 1, i + (x % (spread + 1)));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const state = createState({ models: [] });
        const sign = (seq: number): Signed => ({ by: 'ima', nonce: String(seq), expiresAtMs: 500 });
        // displacement bounds: the highest number seen minus any later arrival stays below the window
        let maxSeen = 0;
        for (const seq of order) {
          const expected = maxSeen - seq >= REPLAY_WINDOW ? 'ERR_REPLAY' : null;
          expect(offer(state, sign(seq), 0)).toBe(expected);
          maxSeen = Math.max(maxSeen, seq);
        }
        for (const seq of order) expect(offer(state, sign(seq), 0)).toBe('ERR_REPLAY');
      }),
      { numRuns: 40 },
    );
  });

  it('property: expiry is enforced, and a signer whose messages all expired is forgotten without reopening a replay', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 200 })), { minLength: 1, maxLength: 60 }), (msgs) => {
        const state = createState({ models: [] });
        const accepted: Signed[] = [];
        for (const [seq, ttl] of msgs) {
          const a: Signed = { by: 'ima', nonce: String(seq), expiresAtMs: 100 + ttl };
          if (offer(state, a, 100) === null) accepted.push(a);
        }
        const last = Math.max(...accepted.map((a) => a.expiresAtMs));
        pruneNonces(state, last); // not yet: the latest message is still valid at `last`
        expect(state.replay.size).toBe(1);
        pruneNonces(state, last + 1);
        expect(state.replay.size).toBe(0);
        // every accepted message is now refused as expired, never accepted again
        for (const a of accepted) expect(offer(state, a, last + 1)).toBe('ERR_REPLAY');
      }),
      { numRuns: 200 },
    );
  });

  it('error: a nonce that is not a sequence number is ERR_VALIDATION naming the field', () => {
    for (const bad of ['', '0', '01', 'n1', '1.5', '-3', '99999999999999999', ' 1', 7 as unknown as string]) {
      const e = (() => {
        try {
          parseSeq(bad);
        } catch (err) {
          return err as InfermarketError;
        }
        return null;
      })();
      expect(e?.code, JSON.stringify(bad)).toBe('ERR_VALIDATION');
      expect(e?.message).toMatch(/"nonce"/);
    }
    expect(parseSeq(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a replayed event through apply is refused and changes nothing (harness)', () => {
    const h = createHarness();
    const a = 'im' + '1'.repeat(40);
    h.send({ type: 'account.faucet', address: a, amountMicro: 10_000_000n });
    h.send({ type: 'node.register', by: a, role: 'miner', models: ['digits'], region: 'local', nonce: '5' });
    const snapshot = JSON.stringify([...h.state.ledger], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    expect(() => h.send({ type: 'stake.bond', by: a, amountMicro: 1n, nonce: '5' })).toThrow(/already used/);
    expect(JSON.stringify([...h.state.ledger], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).toBe(snapshot);
    // an older number inside the window, never used, is still fine
    h.send({ type: 'stake.bond', by: a, amountMicro: 1n, nonce: '3' });
    expect(h.state.nodes.get(a)!.stakeMicro).toBe(1n);
  });

  it('nonceSequence continues above a previous process of the same key', () => {
    const first = nonceSequence(1_700_000_000_000);
    const used = [first(), first(), first()].map(Number);
    const restarted = nonceSequence(1_700_000_000_001);
    expect(Number(restarted())).toBeGreaterThan(Math.max(...used));
    expect(() => nonceSequence(-1)).toThrow(/startMs/);
  });
});
