import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply } from './apply.js';
import { hashHex } from './crypto.js';
import { InfermarketError } from './errors.js';
import { checkInvariants } from './invariants.js';
import { createState } from './state.js';
import { addr } from './testing.js';
import type { MarketEvent, MarketState, Timer, VerificationLevel } from './types.js';

// Random (and hostile) sequences of standing offers, submissions, results, audits and timers through the real
// rules: every invariant after every event, and the offer rules checked at every assignment.
// (the seed is fixed: the run is reproducible, and the path counts at the end are those of this seed)

const MINERS = ['om0', 'om1', 'om2', 'om3'].map(addr);
const VALIDATORS = ['ov0', 'ov1', 'ov2'].map(addr);
const CLIENTS = ['oc0', 'oc1'].map(addr);
const H = ['a', 'b'].map((c) => c.repeat(64));

type Action =
  | { t: 'offer'; by: string; price: bigint; capacity: number; ttl: number; models: string[] }
  | { t: 'withdraw'; by: string }
  | { t: 'lapse'; address: string }
  | { t: 'submit'; by: string; maxPriceMicro: bigint; model: string; verification?: VerificationLevel }
  | { t: 'result'; pick: number; outputHash: string; honest: boolean }
  | { t: 'audit'; pick: number; match: boolean }
  | { t: 'bid'; by: string; pick: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('offer' as const), by: fc.constantFrom(...MINERS, CLIENTS[0]!), price: fc.constantFrom(1n, 500n, 1_000n, 1_000n, 2_000n, 10n ** 20n), capacity: fc.constantFrom(1, 2, 3, 0), ttl: fc.constantFrom(50, 5_000, 60_000, 60_000, 0), models: fc.constantFrom(['digits'], ['digits', 'charlm'], ['nope']).map((m) => [...m]) }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('withdraw' as const), by: fc.constantFrom(...MINERS) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('lapse' as const), address: fc.constantFrom(...MINERS, 'junk') }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('submit' as const), by: fc.constantFrom(...CLIENTS, MINERS[0]!), maxPriceMicro: fc.constantFrom(3_000n, 5_000n, 1_000n), model: fc.constantFrom('digits', 'digits', 'charlm'), verification: fc.constantFrom(undefined, undefined, 'none' as const, 'redundant' as const, 'always' as const) }), weight: 5 },
  { arbitrary: fc.record({ t: fc.constant('result' as const), pick: fc.nat(20), outputHash: fc.constantFrom(...H), honest: fc.boolean() }), weight: 5 },
  { arbitrary: fc.record({ t: fc.constant('audit' as const), pick: fc.nat(20), match: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('bid' as const), by: fc.constantFrom(...MINERS), pick: fc.nat(20) }), weight: 1 },
);
const steps = fc.array(fc.record({ dt: fc.constantFrom(0, 1, 20, 100, 200, 4_000), action }), { minLength: 20, maxLength: 150 });

function snapshot(s: MarketState): string {
  return JSON.stringify(
    { ledger: [...s.ledger], offers: [...s.offers.values()].map((o) => ({ ...o, prices: [...o.prices] })), busy: [...s.busy], waiting: [...s.waiting], jobs: [...s.jobs.values()].map((j) => [j.id, j.status, j.miner, j.priceMicro, j.attempt]), seq: s.seq },
    (_, v) => (typeof v === 'bigint' ? v.toString() : v),
  );
}

/** Jobs each miner holds and has not committed: what `busy` must count. */
function holding(s: MarketState): Map<string, number> {
  const out = new Map<string, number>();
  for (const j of s.jobs.values()) {
    if (j.status !== 'assigned') continue;
    const held = j.verification === 'redundant' ? j.replicas.filter((r) => r.outputHash === null).map((r) => r.miner) : [j.miner!];
    for (const m of held) out.set(m, (out.get(m) ?? 0) + 1);
  }
  return out;
}

describe('standing offers under random and hostile event sequences', () => {
  it('keeps every invariant; assignments respect price, capacity and eligibility; rejected events change nothing; every job ends', () => {
    let assigned = 0;
    let waited = 0;
    let rejected = 0;
    const reasons: Record<string, number> = {};
    fc.assert(
      fc.property(steps, fc.constantFrom('lowest-price', 'reputation-weighted', 'stake-weighted-random'), (seq, policy) => {
        const state = createState({ models: ['digits', 'charlm'], params: { matchingPolicy: policy, auditRate: 0.5, jobDeadlineMs: 1_000, bidWindowMs: 100, bidRounds: 2, disputeQuorum: 1, jailDurationMs: 2_000, minMinerStakeMicro: 1_000_000n, minValidatorStakeMicro: 1_000_000n, redundancyK: 2 } });
        let k = 0;
        const setup = (ev: MarketEvent) => apply(state, ev);
        setup({ type: 'epoch.begin', atMs: 0, seed: hashHex('offers') });
        for (const a of [...MINERS, ...VALIDATORS, ...CLIENTS]) setup({ type: 'account.faucet', atMs: 0, address: a, amountMicro: 500_000_000n });
        for (const [role, list] of [['miner', MINERS], ['validator', VALIDATORS]] as const) {
          for (const a of list) {
            setup({ type: 'node.register', atMs: 0, by: a, role, models: a === MINERS[3] ? ['digits'] : ['digits', 'charlm'], region: 'local', nonce: `s${k++}`, expiresAtMs: 1 });
            setup({ type: 'stake.bond', atMs: 0, by: a, amountMicro: 20_000_000n, nonce: `s${k++}`, expiresAtMs: 1 });
          }
        }
        const timers: { atMs: number; n: number; timer: Timer }[] = [];
        let now = 0;
        let n = 0;
        const run = (ev: MarketEvent): void => {
          const before = snapshot(state);
          let fx;
          try {
            fx = apply(state, ev);
          } catch (e) {
            if (!(e instanceof InfermarketError)) throw e;
            rejected++;
            expect(snapshot(state)).toBe(before);
            return;
          }
          for (const e of fx) {
            if (e.type === 'timer.set') timers.push({ atMs: e.atMs, n: n++, timer: e.timer });
            if (e.type !== 'job.assigned') continue;
            assigned++;
            const job = state.jobs.get(e.jobId)!;
            const offer = state.offers.get(e.miner);
            // matched to a live offer of an eligible miner, at that offer's price, within its capacity
            expect(offer, `job ${e.jobId} assigned to ${e.miner} with no standing offer`).toBeDefined();
            expect(offer!.untilMs).toBeGreaterThan(state.nowMs);
            expect(e.priceMicro).toBe(offer!.prices.get(job.model));
            expect(state.busy.get(e.miner) ?? 0).toBeLessThanOrEqual(offer!.capacity);
            const node = state.nodes.get(e.miner)!;
            expect(node.jailedUntilMs).toBeLessThanOrEqual(state.nowMs);
            expect(node.ejected).toBe(false);
            expect(e.miner).not.toBe(job.client);
            expect(job.excluded).not.toContain(e.miner);
          }
          expect(checkInvariants(state)).toEqual([]);
          expect(Object.fromEntries(state.busy)).toEqual(Object.fromEntries(holding(state)));
          for (const [model, ids] of state.waiting) for (const id of ids) {
            const j = state.jobs.get(id);
            if (j && j.status === 'bidding') {
              expect(j.model).toBe(model);
              waited++;
            }
          }
        };
        const fire = (until: number): void => {
          timers.sort((a, b) => a.atMs - b.atMs || a.n - b.n);
          while (timers.length && timers[0]!.atMs <= until) {
            const t = timers.shift()!;
            run({ type: 'timer.fire', atMs: Math.max(t.atMs, state.nowMs), timer: t.timer });
          }
        };
        const open = () => [...state.jobs.values()].filter((j) => j.status !== 'settled' && j.status !== 'failed');
        for (const step of seq) {
          now += step.dt;
          fire(now);
          const at = Math.max(now, state.nowMs);
          const s = { nonce: `n${n++}`, expiresAtMs: at + 1_000 };
          const a = step.action;
          let ev: MarketEvent | null = null;
          if (a.t === 'offer') {
            ev = { type: 'offer.post', atMs: at, by: a.by, prices: Object.fromEntries(a.models.map((m) => [m, a.price])), capacity: a.capacity, variant: 'int8', untilMs: at + a.ttl, ...s };
          } else if (a.t === 'withdraw') ev = { type: 'offer.withdraw', atMs: at, by: a.by, ...s };
          else if (a.t === 'lapse') ev = { type: 'offer.lapse', atMs: at, address: a.address };
          else if (a.t === 'submit') ev = { type: 'job.submit', atMs: at, by: a.by, jobId: `j${n}`, model: a.model, inputHash: H[0]!, maxPriceMicro: a.maxPriceMicro, ...(a.verification ? { verification: a.verification } : {}), ...s };
          else {
            const list = open();
            const j = list.length ? list[a.pick % list.length]! : undefined;
            if (!j) continue;
            if (a.t === 'result') {
              const pending = j.replicas.find((r) => r.outputHash === null);
              const by = a.honest ? (pending?.miner ?? j.miner ?? MINERS[0]!) : MINERS[a.pick % MINERS.length]!;
              const agreesWith = j.verification === 'redundant' ? j.replicas.filter((r) => r.outputHash === a.outputHash && r.miner !== by).map((r) => r.miner) : undefined;
              ev = { type: 'job.result', atMs: at, by, jobId: j.id, outputHash: a.outputHash, ...(agreesWith ? { agreesWith } : {}), ...s };
            } else if (a.t === 'audit') ev = { type: 'audit.report', atMs: at, by: j.validator ?? VALIDATORS[0]!, jobId: j.id, outputHash: H[1]!, match: a.match, ...s };
            else ev = { type: 'job.bid', atMs: at, by: a.by, jobId: j.id, priceMicro: 1_000n, ...s };
          }
          run(ev);
        }
        fire(Number.MAX_SAFE_INTEGER);
        for (const j of state.jobs.values()) {
          expect(['settled', 'failed']).toContain(j.status);
          if (j.failure) reasons[j.failure] = (reasons[j.failure] ?? 0) + 1;
        }
        expect(state.busy.size).toBe(0);
      }),
      { numRuns: 300, seed: 20261202 },
    );
    // the sequences reach the paths: assignments, waiting jobs, refusals, both failure reasons of the wait
    // (seeded: 470 assignments, ≈ 5,400 waiting-job checks, ≈ 3,500 refusals, ≈ 2,700 no-bids, 78 too-few-bids, 12 slashes)
    expect(assigned).toBeGreaterThan(300);
    expect(waited).toBeGreaterThan(1_000);
    expect(rejected).toBeGreaterThan(1_000);
    expect(reasons['no-bids']).toBeGreaterThan(100);
    expect(reasons['too-few-bids']).toBeGreaterThan(10);
    expect(reasons['miner-slashed']).toBeGreaterThan(2);
  });
});
