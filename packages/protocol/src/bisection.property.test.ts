import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxBisectionRounds } from './bisection.js';
import { playBisection } from './bisection-play.js';
import { hashHex } from './crypto.js';

// Layers as real-valued functions with float-like honest noise: layer i maps x to a_i·x + b_i. An honest run of
// layer i is off from the exact value by at most NOISE; the layer's comparator accepts a step within TOL ≥ NOISE
// (the per-layer tolerance calibrated from measured honest divergence).
const NOISE = 1e-3;
const TOL = 2e-3;
const step = (i: number, x: number) => (i % 3 === 0 ? -0.9 : 1.1) * x + i * 0.25;
const fmt = (x: number) => x.toPrecision(17);

/** Per-step noise in [-NOISE, NOISE]. */
const noiseArb = (n: number) => fc.array(fc.double({ min: -NOISE, max: NOISE, noNaN: true }), { minLength: n, maxLength: n });
const refereeFor = (values: number[]) => (from: number, to: number) => Math.abs(step(to, values[from]!) - values[to]!) <= TOL;
const run = (layers: number, noise: number[]) => {
  const v = [0.5];
  for (let i = 1; i <= layers; i++) v.push(step(i, v[i - 1]!) + noise[i - 1]!);
  return v;
};

describe('bisection game properties', () => {
  it('an honest miner (every layer within its tolerance) never loses, whatever the challenger answers, in ≤ ceil(log2 L) + 1 rounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((layers) => fc.tuple(fc.constant(layers), noiseArb(layers), fc.array(fc.constantFrom<boolean | 'silent'>(true, false, 'silent'), { minLength: 8, maxLength: 8 }))),
        ([layers, noise, answers]) => {
          const values = run(layers, noise);
          let k = 0;
          const { h, job, miner, challenger, rounds } = playBisection({
            values: values.map(fmt),
            players: { miner: () => 'reveal', challenger: () => answers[k++ % answers.length]!, referee: refereeFor(values) },
          });
          expect(h.state.nodes.get(miner)!.slashes).toBe(0);
          expect(job.bisection!.outcome!.winner).toBe('miner');
          expect(h.state.nodes.get(challenger)!.slashes).toBe(1);
          expect(job.status).toBe('settled');
          expect(rounds).toBeLessThanOrEqual(maxBisectionRounds(layers));
          h.check();
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an honest challenger never loses against a trace with a wrong layer, whatever else the miner does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((layers) =>
          fc.tuple(
            fc.constant(layers),
            noiseArb(layers),
            // the layers the miner corrupts (by more than the tolerance) and when it stops answering
            fc.uniqueArray(fc.integer({ min: 1, max: layers }), { minLength: 1, maxLength: Math.min(layers, 4) }),
            fc.double({ min: 10 * TOL, max: 5, noNaN: true }),
            fc.option(fc.integer({ min: 0, max: 6 })),
          ),
        ),
        ([layers, noise, bad, size, quitsAfter]) => {
          // the miner's run: honest noise, plus a corruption on the bad layers, each later layer computed on what it holds
          const values = [0.5];
          for (let i = 1; i <= layers; i++) values.push(step(i, values[i - 1]!) + noise[i - 1]! + (bad.includes(i) ? size : 0));
          // the challenger's own honest run (its own noise: here none) and its judgement of a boundary: the miner's
          // boundary is one it can reproduce iff no layer up to it was corrupted. (The live challenger judges a tensor
          // under the boundary's tolerance; in this model it knows which prefixes are clean.)
          const firstBad = Math.min(...bad);
          const byHash = new Map(values.map((v, i) => [hashHex(fmt(v)), i]));
          let reveals = 0;
          const { h, job, miner, challenger } = playBisection({
            values: values.map(fmt),
            players: {
              miner: () => (quitsAfter !== null && reveals++ >= quitsAfter ? 'silent' : 'reveal'),
              challenger: (_index, boundaryHash) => byHash.get(boundaryHash)! < firstBad,
              referee: refereeFor(values),
            },
          });
          expect(h.state.nodes.get(challenger)!.slashes).toBe(0);
          expect(h.state.nodes.get(miner)!.slashes).toBe(1);
          expect(job.bisection!.outcome!.winner).toBe('challenger');
          // caught at the first wrong layer, unless it timed out first
          if (job.bisection!.outcome!.reason === 'referees') expect(job.bisection!.hi).toBe(firstBad);
          h.check();
        },
      ),
      { numRuns: 100 },
    );
  });
});
