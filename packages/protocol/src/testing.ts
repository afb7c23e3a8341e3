// A minimal driver for the protocol's own tests: a time-ordered timer queue, nonces, and helpers.
// Not exported from the package: the simulator and the market have their own drivers.
import { apply } from './apply.js';
import { keyPairFromSeed, seedFromLabel, hashHex } from './crypto.js';
import { checkInvariants } from './invariants.js';
import { createState } from './state.js';
import type { Effect, MarketEvent, MarketState, Timer } from './types.js';

export const MUSD = 1_000_000n;

export interface Harness {
  state: MarketState;
  now: number;
  effects: Effect[];
  timers: { atMs: number; seq: number; timer: Timer }[];
  /** Apply an event at the harness's current time (signed fields filled in), collect effects, schedule timers. */
  send(ev: DistributiveOmit<MarketEvent, 'atMs' | 'nonce' | 'expiresAtMs'> & { atMs?: number; nonce?: string; expiresAtMs?: number }): Effect[];
  /** Advance time, firing due timers in order. */
  advance(ms: number): void;
  /** Throw if any invariant is violated. */
  check(): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function addr(label: string): string {
  return keyPairFromSeed(seedFromLabel(label)).address;
}

export function createHarness(params: Record<string, unknown> = {}, models = ['digits', 'charlm'], traceLayers?: Record<string, number>): Harness {
  const state = createState({ params, models, traceLayers });
  let nonce = 0;
  let timerSeq = 0;
  const h: Harness = {
    state,
    now: 0,
    effects: [],
    timers: [],
    send(ev) {
      const full = { atMs: h.now, ...ev } as MarketEvent & { nonce?: string; expiresAtMs?: number; by?: string };
      if ('by' in full) {
        full.nonce ??= `${++nonce}`;
        full.expiresAtMs ??= full.atMs + 1000;
      }
      const fx = apply(state, full as MarketEvent);
      for (const e of fx) if (e.type === 'timer.set') h.timers.push({ atMs: e.atMs, seq: timerSeq++, timer: e.timer });
      h.effects.push(...fx);
      return fx;
    },
    advance(ms) {
      const until = h.now + ms;
      for (;;) {
        h.timers.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
        const next = h.timers[0];
        if (!next || next.atMs > until) break;
        h.timers.shift();
        h.now = Math.max(h.now, next.atMs);
        h.send({ type: 'timer.fire', timer: next.timer });
      }
      h.now = until;
    },
    check() {
      const v = checkInvariants(state);
      if (v.length) throw new Error(`invariants violated:\n${v.join('\n')}`);
    },
  };
  h.send({ type: 'epoch.begin', seed: hashHex('epoch-0') });
  return h;
}

/** Register, fund and bond a node. */
export function addNode(h: Harness, label: string, role: 'miner' | 'validator', opts: { stake?: bigint; models?: string[]; region?: string } = {}): string {
  const a = addr(label);
  h.send({ type: 'account.faucet', address: a, amountMicro: 1_000n * MUSD });
  h.send({ type: 'node.register', by: a, role, models: opts.models ?? ['digits', 'charlm'], region: opts.region ?? 'local' });
  h.send({ type: 'stake.bond', by: a, amountMicro: opts.stake ?? 500n * MUSD });
  return a;
}

export function fund(h: Harness, label: string, amount = 1_000n * MUSD): string {
  const a = addr(label);
  h.send({ type: 'account.faucet', address: a, amountMicro: amount });
  return a;
}
