import { describe, expect, it } from 'vitest';
import { maxBisectionRounds } from './bisection.js';
import { playBisection, type Players } from './bisection-play.js';
import { hashHex } from './crypto.js';
import { InfermarketError } from './errors.js';
import { resolveParams } from './params.js';
import { addNode, createHarness, fund, MUSD } from './testing.js';
import { traceProof, traceRoot } from './trace.js';

// A model of L layers as functions on strings: layer i maps x to f(i, x). Exact, so "agree" means "equal".
const f = (i: number, x: string) => hashHex(`layer${i}:${x}`);
function honestTrace(layers: number, input = 'input'): string[] {
  const v = [input];
  for (let i = 1; i <= layers; i++) v.push(f(i, v[i - 1]!));
  return v;
}
/** The miner corrupts layer k's output and runs the later layers honestly on it. */
function corruptAt(layers: number, k: number): string[] {
  const v = honestTrace(layers);
  v[k] = `corrupted ${k}`;
  for (let i = k + 1; i <= layers; i++) v[i] = f(i, v[i - 1]!);
  return v;
}
const honestReferee = (values: string[]) => (from: number, to: number) => f(to, values[from]!) === values[to];
const honestChallenger = (honest: string[]) => (index: number, boundaryHash: string) => hashHex(honest[index]!) === boundaryHash;
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as InfermarketError).code;
  }
  return 'no error';
};

describe('bisection game', () => {
  for (const layers of [8, 9]) {
    it(`a miner that corrupts one of ${layers} layers loses the game at that layer and is slashed`, () => {
      for (let k = 1; k <= layers; k++) {
        const values = corruptAt(layers, k);
        const players: Players = { miner: () => 'reveal', challenger: honestChallenger(honestTrace(layers)), referee: honestReferee(values) };
        const { h, job, miner, challenger, rounds } = playBisection({ values, players });
        expect(job.bisection!.outcome).toEqual({ winner: 'challenger', reason: 'referees' });
        expect([job.bisection!.lo, job.bisection!.hi]).toEqual([k - 1, k]);
        expect(h.effects.find((e) => e.type === 'bisect.segment')).toMatchObject({ fromIndex: k - 1, toIndex: k });
        expect(job.status).toBe('failed');
        expect(job.verdict).toBe('caught');
        expect(h.state.nodes.get(miner)!.slashes).toBe(1);
        expect(h.state.nodes.get(challenger)!.slashes).toBe(0);
        expect(rounds).toBeLessThanOrEqual(maxBisectionRounds(layers));
        h.check();
      }
    });
  }

  it('an honest miner challenged by a lying validator wins, is paid, and the validator is slashed', () => {
    const values = honestTrace(8);
    for (const lie of [() => false, () => true, (i: number) => i % 2 === 0]) {
      const { h, job, miner, challenger } = playBisection({ values, players: { miner: () => 'reveal', challenger: lie, referee: honestReferee(values) } });
      expect(job.bisection!.outcome!.winner).toBe('miner');
      expect(job.status).toBe('settled');
      expect(job.verdict).toBe('verified');
      expect(h.state.nodes.get(challenger)!.slashes).toBe(1);
      expect(h.state.nodes.get(miner)!.slashes).toBe(0);
      // the slash's harmed share goes to the miner
      expect(h.effects.some((e) => e.type === 'ledger.entry' && e.entry.reason === 'slash-harmed' && e.entry.to === `balance:${miner}`)).toBe(true);
      h.check();
    }
  });

  it('a miner that stops answering loses by timeout and is slashed', () => {
    const values = corruptAt(8, 3);
    let reveals = 0;
    const { h, job, miner } = playBisection({
      values,
      players: { miner: () => (reveals++ < 1 ? 'reveal' : 'silent'), challenger: honestChallenger(honestTrace(8)), referee: honestReferee(values) },
    });
    expect(job.bisection!.outcome).toEqual({ winner: 'challenger', reason: 'timeout' });
    expect(job.status).toBe('failed');
    expect(h.state.nodes.get(miner)!.slashes).toBe(1);
    h.check();
  });

  it('a challenger that stops answering loses by timeout and is slashed; the output is paid but not verified', () => {
    const values = honestTrace(8);
    const { h, job, miner, challenger } = playBisection({ values, players: { miner: () => 'reveal', challenger: () => 'silent', referee: honestReferee(values) } });
    expect(job.bisection!.outcome).toEqual({ winner: 'miner', reason: 'timeout' });
    expect(job.status).toBe('settled');
    expect(job.verdict).toBe('unavailable');
    expect(h.state.nodes.get(challenger)!.slashes).toBe(1);
    expect(h.state.nodes.get(miner)!.slashes).toBe(0);
    h.check();
  });

  it('silent referees slash nobody; the job settles unverified', () => {
    const values = honestTrace(4);
    const { h, job, miner, challenger } = playBisection({ values, players: { miner: () => 'reveal', challenger: () => false, referee: () => 'silent' } });
    expect(job.bisection!.outcome).toEqual({ winner: 'none', reason: 'referees' });
    expect(job.verdict).toBe('unavailable');
    expect(h.state.nodes.get(challenger)!.slashes + h.state.nodes.get(miner)!.slashes).toBe(0);
    h.check();
  });

  it('the referees\' window closes on the votes cast: one vote for the miner and two silent referees settle for the miner', () => {
    const values = honestTrace(4);
    let n = 0;
    const { h, job, challenger } = playBisection({ values, players: { miner: () => 'reveal', challenger: () => false, referee: () => (n++ === 0 ? true : 'silent') } });
    expect(job.bisection!.outcome).toEqual({ winner: 'miner', reason: 'referees' });
    expect(job.dispute!.votes.size).toBe(1);
    expect(job.status).toBe('settled');
    expect(job.verdict).toBe('verified');
    expect(h.state.nodes.get(challenger)!.slashes).toBe(1);
    h.check();
  });

  it('a one-layer trace goes straight to the referees (one round); with no referee the challenger\'s evidence decides', () => {
    const values = corruptAt(1, 1);
    const one = playBisection({ values, players: { miner: () => 'reveal', challenger: () => false, referee: honestReferee(values) } });
    expect(one.rounds).toBe(1);
    expect(one.job.bisection!.outcome!.winner).toBe('challenger');
    const none = playBisection({ values: honestTrace(4), quorum: 0, players: { miner: () => 'reveal', challenger: () => false, referee: () => true } });
    expect(none.job.bisection!.outcome).toEqual({ winner: 'challenger', reason: 'no-referee' });
  });

  it('error: a bad proof, a wrong index, a wrong party, a late move or a stray vote is refused and changes nothing', () => {
    const values = honestTrace(8);
    const hashes = values.map((v) => hashHex(v));
    // set up by hand to poke at the first move
    const h = createHarness({ auditRate: 1, disputeMode: 'bisection' }, ['digits', 'charlm'], { digits: 8 });
    const miner = addNode(h, 'm1', 'miner');
    for (const l of ['v1', 'v2', 'v3', 'v4']) addNode(h, l, 'validator');
    const client = fund(h, 'c1');
    h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: hashes[0]!, maxPriceMicro: 10n * MUSD });
    h.send({ type: 'job.bid', by: miner, jobId: 'j1', priceMicro: 2n * MUSD });
    h.advance(h.state.params.bidWindowMs);
    h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: hashes[8]!, traceRoot: traceRoot(hashes), traceLayers: 8 });
    const job = h.state.jobs.get('j1')!;
    const challenger = job.validator!;
    h.send({ type: 'audit.report', by: challenger, jobId: 'j1', outputHash: hashHex('x'), match: false });
    const g = job.bisection!;
    expect(g.index).toBe(4);
    const snapshot = JSON.stringify({ ...g, revealed: [...g.revealed] });
    const reveal = { type: 'bisect.reveal' as const, by: miner, jobId: 'j1', index: 4, boundaryHash: hashes[4]!, proof: traceProof(hashes, 4) };
    expect(code(() => h.send({ ...reveal, boundaryHash: hashes[3]! }))).toBe('ERR_BAD_PROOF');
    expect(code(() => h.send({ ...reveal, proof: traceProof(hashes, 3) }))).toBe('ERR_BAD_PROOF');
    expect(code(() => h.send({ ...reveal, index: 3, boundaryHash: hashes[3]!, proof: traceProof(hashes, 3) }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...reveal, by: challenger }))).toBe('ERR_NOT_ASSIGNED');
    expect(code(() => h.send({ type: 'bisect.respond', by: challenger, jobId: 'j1', index: 4, agree: true }))).toBe('ERR_WRONG_STATE');
    expect(code(() => h.send({ type: 'bisect.vote', by: challenger, jobId: 'j1', fromIndex: 3, toIndex: 4, minerCorrect: false }))).toBe('ERR_WRONG_STATE');
    expect(code(() => h.send({ ...reveal, atMs: g.deadlineAtMs + 1 }))).toBe('ERR_LATE');
    expect(JSON.stringify({ ...g, revealed: [...g.revealed] })).toBe(snapshot);
    h.send(reveal);
    expect(code(() => h.send({ type: 'bisect.respond', by: miner, jobId: 'j1', index: 4, agree: true }))).toBe('ERR_NOT_ASSIGNED');
    expect(code(() => h.send({ type: 'bisect.respond', by: challenger, jobId: 'j1', index: 4, agree: 'yes' as unknown as boolean }))).toBe('ERR_VALIDATION');
    // the challenger answers late in its window; its deadline timer is then stale and passes without effect
    h.advance(100);
    h.send({ type: 'bisect.respond', by: challenger, jobId: 'j1', index: 4, agree: true });
    h.advance(h.state.params.bisectionRoundMs - 50);
    expect(h.state.nodes.get(challenger)!.slashes).toBe(0);
    expect([g.lo, g.hi, g.turn, g.index]).toEqual([4, 8, 'miner', 6]);
    h.check();
  });

  it('error: a trace must come whole with the result, with the model\'s layer count; without one the dispute goes to a quorum', () => {
    const h = createHarness({ auditRate: 1, disputeMode: 'bisection' }, ['digits', 'charlm'], { digits: 3 });
    const miner = addNode(h, 'm1', 'miner');
    for (const l of ['v1', 'v2', 'v3', 'v4']) addNode(h, l, 'validator');
    const client = fund(h, 'c1');
    const root = traceRoot(honestTrace(3).map((v) => hashHex(v)));
    for (const id of ['j1', 'j2']) {
      h.send({ type: 'job.submit', by: client, jobId: id, model: 'digits', inputHash: hashHex('in'), maxPriceMicro: 10n * MUSD });
      h.send({ type: 'job.bid', by: miner, jobId: id, priceMicro: 2n * MUSD });
    }
    h.advance(h.state.params.bidWindowMs);
    const result = { type: 'job.result' as const, by: miner, jobId: 'j1', outputHash: hashHex('out') };
    expect(code(() => h.send({ ...result, traceRoot: root }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...result, traceRoot: 'nope', traceLayers: 3 }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...result, traceRoot: root, traceLayers: 65 }))).toBe('ERR_VALIDATION');
    // a trace longer (or shorter) than the model would bisect onto layers no referee can re-execute
    expect(code(() => h.send({ ...result, traceRoot: root, traceLayers: 4 }))).toBe('ERR_VALIDATION');
    expect(code(() => h.send({ ...result, jobId: 'j2', traceRoot: root, traceLayers: 2 }))).toBe('ERR_VALIDATION');
    expect(h.state.jobs.get('j1')!.status).toBe('assigned');
    h.send(result);
    const j1 = h.state.jobs.get('j1')!;
    h.send({ type: 'audit.report', by: j1.validator!, jobId: 'j1', outputHash: hashHex('x'), match: false });
    expect(j1.bisection).toBeUndefined();
    expect(j1.dispute!.referees.length).toBeGreaterThan(0);
    h.check();
  });

  it('the unbonding period must outlast the longest game', () => {
    expect(resolveParams({ disputeMode: 'bisection' }).bisectionRoundMs).toBe(500);
    expect(() => resolveParams({ disputeMode: 'bisection', bisectionRoundMs: 2_000 })).toThrow(/12 × bisectionRoundMs \+ disputeWindowMs \(bisection\)/);
    expect(() => resolveParams({ disputeMode: 'both' })).toThrow(/disputeMode/);
    expect(maxBisectionRounds(8)).toBe(4);
    expect(maxBisectionRounds(9)).toBe(5);
    expect(maxBisectionRounds(1)).toBe(1);
  });
});
