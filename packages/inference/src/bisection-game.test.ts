// The bisection game played by the rules (`apply`, public API) with real ONNX runs, real trace commitments and
// real one-layer re-execution. One process, a driver written here: not the live testnet (that wiring is not built).
import { apply, checkInvariants, createState, hashHex, keyPairFromSeed, seedFromLabel, traceProof, traceRoot, type Effect, type MarketEvent, type MarketState, type Timer } from '@infermarket/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundariesAgree, refereeVote } from './bisection-parties.js';
import type { Variant } from './graph-builder.js';
import type { ModelId } from './manifest.js';
import { createRuntime, type Runtime } from './runtime.js';
import { sampleInput } from './sample-input.js';
import { createSegmentRunner, tensorHash, traceBoundaryHashes, type SegmentRunner } from './segments.js';
import type { Tensor } from './tensor.js';

let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ threads: 1 });
});
afterAll(async () => {
  await rt.close();
});

const MUSD = 1_000_000n;
const addr = (l: string) => keyPairFromSeed(seedFromLabel(l)).address;

/** A minimal driver: time, nonces and timers, as the market's and the simulator's are. */
function createDriver() {
  // the rules know each model's layer count (the manifest's boundaries + 1), so a trace of another length is refused
  const traceLayers = Object.fromEntries((['digits', 'heavy'] as const).map((m) => [m, rt.manifest.models[m].layerBoundaries.length + 1]));
  const state: MarketState = createState({ params: { auditRate: 1, disputeMode: 'bisection', disputeQuorum: 3 }, models: ['digits', 'heavy'], traceLayers });
  let now = 0;
  let nonce = 0;
  const timers: { atMs: number; timer: Timer }[] = [];
  const effects: Effect[] = [];
  const send = (ev: Record<string, unknown>): Effect[] => {
    const full = { atMs: now, ...ev, ...('by' in ev ? { nonce: `n${nonce++}`, expiresAtMs: now + 10_000 } : {}) } as unknown as MarketEvent;
    const fx = apply(state, full);
    for (const e of fx) if (e.type === 'timer.set') timers.push({ atMs: e.atMs, timer: e.timer });
    effects.push(...fx);
    expect(checkInvariants(state)).toEqual([]);
    return fx;
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      timers.sort((a, b) => a.atMs - b.atMs);
      if (!timers[0] || timers[0].atMs > until) break;
      const t = timers.shift()!;
      now = Math.max(now, t.atMs);
      send({ type: 'timer.fire', timer: t.timer });
    }
    now = until;
  };
  send({ type: 'epoch.begin', seed: hashHex('epoch') });
  const node = (label: string, role: 'miner' | 'validator') => {
    const a = addr(label);
    send({ type: 'account.faucet', address: a, amountMicro: 1_000n * MUSD });
    send({ type: 'node.register', by: a, role, models: ['digits', 'heavy'], region: 'local' });
    send({ type: 'stake.bond', by: a, amountMicro: 500n * MUSD });
    return a;
  };
  return { state, send, advance, node, effects, now: () => now };
}

interface Trace {
  tensors: Tensor[];
  hashes: string[];
}

/** The miner's run: every boundary tensor, `corruptLayer` (if any) perturbed and the later layers run on it. */
async function minerTrace(model: ModelId, variant: Variant, seg: SegmentRunner, seed: number, corruptLayer: number | null): Promise<Trace> {
  const entry = rt.manifest.models[model];
  const { input } = sampleInput(model, seed);
  const r = await rt.run(model, variant, input, { intermediates: true });
  const tensors = [input[entry.inputs[0]!.name]!, ...entry.layerBoundaries.map((b) => r.outputs[b]!), r.primary];
  if (corruptLayer !== null) {
    const d = new Float32Array(tensors[corruptLayer]!.data as Float32Array);
    for (let i = 0; i < d.length; i += 5) d[i] = d[i]! + 0.3;
    tensors[corruptLayer] = { ...tensors[corruptLayer]!, data: d };
    for (let k = corruptLayer + 1; k < tensors.length; k++) tensors[k] = await seg.run(k, tensors[k - 1]!);
  }
  const hashes = traceBoundaryHashes({ inputHash: tensorHash(tensors[0]!), outputHash: tensorHash(tensors[tensors.length - 1]!), boundaries: tensors.slice(1, -1) });
  return { tensors, hashes };
}

type Challenger = 'honest' | 'liar' | 'silent';

/** Submit, assign, commit with the trace, report a mismatch, and play the game to its end. */
async function play(opts: { model: ModelId; variant: Variant; corruptLayer: number | null; challenger: Challenger; minerQuitsAfter?: number }) {
  const { model, variant } = opts;
  const seg = createSegmentRunner({ manifest: rt.manifest, model, variant });
  const d = createDriver();
  const miner = d.node('m1', 'miner');
  for (const l of ['v1', 'v2', 'v3', 'v4', 'v5']) d.node(l, 'validator');
  const client = addr('c1');
  d.send({ type: 'account.faucet', address: client, amountMicro: 1_000n * MUSD });
  const mine = await minerTrace(model, variant, seg, 2, opts.corruptLayer);
  const honest = await minerTrace(model, variant, seg, 2, null); // the challenger's own run
  d.send({ type: 'job.submit', by: client, jobId: 'j1', model, inputHash: mine.hashes[0]!, maxPriceMicro: 10n * MUSD });
  d.send({ type: 'job.bid', by: miner, jobId: 'j1', priceMicro: 2n * MUSD });
  d.advance(d.state.params.bidWindowMs);
  const L = mine.hashes.length - 1;
  d.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: mine.hashes[L]!, traceRoot: traceRoot(mine.hashes), traceLayers: L });
  const job = d.state.jobs.get('j1')!;
  const challenger = job.validator!;
  const agrees = boundariesAgree({ manifest: rt.manifest, model, variant, index: L, layers: L, a: honest.tensors[L]!, b: mine.tensors[L]! });
  // an honest auditor reports what it found; a lying one claims a mismatch on an honest result
  d.send({ type: 'audit.report', by: challenger, jobId: 'j1', outputHash: tensorHash(honest.tensors[L]!), match: opts.challenger === 'honest' ? agrees : false });
  let reveals = 0;
  while (job.bisection && job.bisection.turn !== 'done') {
    const g = job.bisection;
    const wait = () => d.advance(g.deadlineAtMs - d.now());
    if (g.turn === 'miner') {
      if (opts.minerQuitsAfter !== undefined && reveals >= opts.minerQuitsAfter) wait();
      else {
        reveals++;
        d.send({ type: 'bisect.reveal', by: miner, jobId: 'j1', index: g.index, boundaryHash: mine.hashes[g.index]!, proof: traceProof(mine.hashes, g.index) });
      }
    } else if (g.turn === 'challenger') {
      if (opts.challenger === 'silent') wait();
      else {
        // the tensor the miner opened (relayed with its hash checked against the opened leaf)
        const opened = mine.tensors[g.index]!;
        expect(tensorHash(opened)).toBe(g.revealed.get(g.index));
        const agree = opts.challenger === 'honest' ? boundariesAgree({ manifest: rt.manifest, model, variant, index: g.index, layers: L, a: honest.tensors[g.index]!, b: opened }) : false;
        d.send({ type: 'bisect.respond', by: challenger, jobId: 'j1', index: g.index, agree });
      }
    } else {
      for (const r of [...job.dispute!.referees]) {
        if (g.turn !== 'referees') break;
        const minerCorrect = await refereeVote({ manifest: rt.manifest, model, variant, runner: seg, fromIndex: g.lo, toIndex: g.hi, from: mine.tensors[g.lo]!, claimed: mine.tensors[g.hi]! });
        d.send({ type: 'bisect.vote', by: r, jobId: 'j1', fromIndex: g.lo, toIndex: g.hi, minerCorrect });
      }
    }
  }
  return { d, job, miner, challenger, layers: L };
}

describe('the bisection game with real models, traces and one-layer re-execution', () => {
  it('a miner that corrupts one layer of heavy loses at that layer and is slashed', async () => {
    for (const k of [1, 2, 3]) {
      const { d, job, miner, challenger } = await play({ model: 'heavy', variant: 'int8', corruptLayer: k, challenger: 'honest' });
      expect(job.bisection!.outcome).toEqual({ winner: 'challenger', reason: 'referees' });
      expect([job.bisection!.lo, job.bisection!.hi]).toEqual([k - 1, k]);
      expect(d.state.nodes.get(miner)!.slashes).toBe(1);
      expect(d.state.nodes.get(challenger)!.slashes).toBe(0);
      expect(job.status).toBe('failed');
    }
  });

  it('digits takes part: a corrupted hidden layer is caught at layer 1', async () => {
    const { job } = await play({ model: 'digits', variant: 'int8', corruptLayer: 1, challenger: 'honest' });
    expect(job.bisection!.outcome!.winner).toBe('challenger');
    expect(job.bisection!.hi).toBe(1);
  });

  it('an honest miner challenged by a lying validator wins and the validator is slashed', async () => {
    const { d, job, miner, challenger } = await play({ model: 'heavy', variant: 'int8', corruptLayer: null, challenger: 'liar' });
    expect(job.bisection!.outcome).toEqual({ winner: 'miner', reason: 'referees' });
    expect(job.status).toBe('settled');
    expect(job.verdict).toBe('verified');
    expect(d.state.nodes.get(challenger)!.slashes).toBe(1);
    expect(d.state.nodes.get(miner)!.slashes).toBe(0);
  });

  it('a party that stops answering loses by timeout', async () => {
    const quits = await play({ model: 'heavy', variant: 'int8', corruptLayer: 2, challenger: 'honest', minerQuitsAfter: 1 });
    expect(quits.job.bisection!.outcome).toEqual({ winner: 'challenger', reason: 'timeout' });
    expect(quits.d.state.nodes.get(quits.miner)!.slashes).toBe(1);
    const silent = await play({ model: 'heavy', variant: 'int8', corruptLayer: null, challenger: 'silent' });
    expect(silent.job.bisection!.outcome).toEqual({ winner: 'miner', reason: 'timeout' });
    expect(silent.d.state.nodes.get(silent.challenger)!.slashes).toBe(1);
  });
});
