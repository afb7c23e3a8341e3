/**
 * The simulator's side of the bisection game (`disputeMode: "bisection"`, protocol `bisection.ts`): the miner
 * commits a trace with its result, opens boundaries with real Merkle proofs (the rules check them), the
 * challenger judges them, and the referees re-execute one layer. Outputs are modelled by class, not computed, so
 * a trace is modelled too: boundary hashes derived from the job, honest up to the first layer a cheat touched.
 * Compute: a referee re-executes one layer (`computeMs` × the layer's share of the model's multiply-accumulates);
 * a move costs a network round trip.
 * Quorum disputes are measured the same way (`noteQuorumVote`), so sweeps can compare the two modes.
 */
import { hashHex, traceProof, traceRoot, type Effect, type MarketEvent } from '@infermarket/protocol';
import { computeCostMicro, computeMs } from './cost-model.js';
import { hashOf, netDelay, refereeStance, signedBy, type MinerAgent, type SimJob, type SimWorld } from './sim-world.js';

/**
 * Multiply-accumulates of each layer of the models that commit a trace (from the dims in the models manifest:
 * digits 784-128-10, heavy 1024-2048-2048-256), so a referee's one-layer re-execution costs that layer's share
 * of the model's compute — the layers are uneven (heavy's middle layer is 62% of it). The trace has one layer per
 * entry. Models not listed (charlm: one recurrent step per run) commit no trace; their disputes go to a quorum.
 */
export const TRACE_LAYER_MACS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  digits: [784 * 128, 128 * 10],
  heavy: [1024 * 2048, 2048 * 2048, 2048 * 256],
});

/** Layers of each model's trace, for the rules (`createState` `traceLayers`). */
export const TRACE_LAYERS: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(Object.entries(TRACE_LAYER_MACS).map(([m, l]) => [m, l.length])));

/** Share of the model's compute in layers `fromIndex+1..toIndex`. */
export function segmentShare(model: string, fromIndex: number, toIndex: number): number {
  const macs = TRACE_LAYER_MACS[model];
  if (!macs) return 1;
  const total = macs.reduce((a, b) => a + b, 0);
  return macs.slice(fromIndex, toIndex).reduce((a, b) => a + b, 0) / total;
}

interface SimTrace {
  hashes: string[];
  /** First layer whose output is not the honest one (Infinity for an honest run). */
  firstBad: number;
  /** Where an honest challenger's own (divergent) re-execution left the honest path; drawn when first needed. */
  challengerDivergesAt: number | null;
}

interface DisputeClock {
  openedAtMs: number;
  refereeCpuMs: number;
  rounds: number;
}

/** Dispute measurements of one run (report fields `disputesResolved`, `disputeRefereeCpuMs`, `disputeRounds`, `disputeLatencyMs`). */
export interface DisputeTally {
  resolved: number;
  refereeCpuMs: number;
  rounds: number;
  latencyMs: number;
}

const traces = new WeakMap<SimJob, SimTrace>();
const clocks = new WeakMap<SimWorld, Map<string, DisputeClock>>();
const tallies = new WeakMap<SimWorld, DisputeTally>();

/** This run's dispute tally (zeros when no dispute was resolved). */
export function disputeTally(w: SimWorld): DisputeTally {
  let t = tallies.get(w);
  if (!t) tallies.set(w, (t = { resolved: 0, refereeCpuMs: 0, rounds: 0, latencyMs: 0 }));
  return t;
}

function clockOf(w: SimWorld, jobId: string): DisputeClock | undefined {
  return clocks.get(w)?.get(jobId);
}

/**
 * The trace fields of a miner's `job.result` (bisection mode, a model with layers, not a redundant job), or none.
 * A cheat's trace leaves the honest path at a layer drawn uniformly (a lazy miner's garbage, a downgrade's first
 * int4 layer or a corrupted one): everything from there on is its own.
 */
export function traceFields(w: SimWorld, job: SimJob, outputHash: string, cheated: boolean): { traceRoot?: string; traceLayers?: number } {
  const layers = TRACE_LAYER_MACS[job.model]?.length;
  if (w.P.disputeMode !== 'bisection' || !layers || job.reps) return {};
  const firstBad = cheated && outputHash !== hashOf(job, 0) ? 1 + Math.floor(w.rng.next() * layers) : Infinity;
  const hashes: string[] = [`${job.base}ff`];
  for (let i = 1; i < layers; i++) hashes.push(i < firstBad ? hashHex(`${job.base}/b${i}`) : hashHex(`${outputHash}/b${i}`));
  hashes.push(outputHash);
  traces.set(job, { hashes, firstBad, challengerDivergesAt: null });
  return { traceRoot: traceRoot(hashes), traceLayers: layers };
}

/** Handle the game's effects; returns true when the effect was one of the game's. */
export function handleBisectionEffect(w: SimWorld, e: Effect): boolean {
  switch (e.type) {
    case 'dispute.opened': {
      let m = clocks.get(w);
      if (!m) clocks.set(w, (m = new Map()));
      if (!m.has(e.jobId)) m.set(e.jobId, { openedAtMs: w.now, refereeCpuMs: 0, rounds: 0 });
      return false; // the event loop handles it too (referees of a quorum dispute)
    }
    case 'dispute.resolved': {
      const c = clockOf(w, e.jobId);
      if (c) {
        const t = disputeTally(w);
        t.resolved++;
        t.refereeCpuMs += c.refereeCpuMs;
        t.rounds += Math.max(1, c.rounds);
        t.latencyMs += w.now - c.openedAtMs;
        clocks.get(w)!.delete(e.jobId);
      }
      return false;
    }
    case 'bisect.turn':
      if (e.party === 'miner') minerReveals(w, e);
      else challengerResponds(w, e);
      return true;
    case 'bisect.segment':
      refereesJudge(w, e);
      return true;
    case 'bisect.resolved':
      return true;
    default:
      return false;
  }
}

/** A quorum referee re-executed the whole job (called by `refereesVote`). */
export function noteQuorumVote(w: SimWorld, jobId: string, cpuMs: number): void {
  const c = clockOf(w, jobId);
  if (c) {
    c.refereeCpuMs += cpuMs;
    c.rounds = 1;
  }
}

function minerReveals(w: SimWorld, e: Extract<Effect, { type: 'bisect.turn' }>): void {
  const job = w.jobs.get(e.jobId);
  const m = job?.miner;
  const trace = job ? traces.get(job) : undefined;
  if (!job || !m || !trace) return;
  const c = clockOf(w, e.jobId);
  if (c) c.rounds++;
  // an offline miner (churn, flaky) cannot answer: its deadline passes and it loses
  if (!m.online) return;
  const at = Math.ceil(w.now + 2 * netDelay(w));
  if (at > e.deadlineAtMs) return;
  w.queue.push(at, reveal(w, m, e.jobId, e.index, trace, at));
}

function reveal(w: SimWorld, m: MinerAgent, jobId: string, index: number, trace: SimTrace, at: number): MarketEvent {
  return { type: 'bisect.reveal', atMs: at, jobId, index, boundaryHash: trace.hashes[index]!, proof: traceProof(trace.hashes, index), ...signedBy(w, m, at) };
}

function challengerResponds(w: SimWorld, e: Extract<Effect, { type: 'bisect.turn' }>): void {
  const job = w.jobs.get(e.jobId);
  const v = w.validatorsByAddress.get(e.address);
  const trace = job ? traces.get(job) : undefined;
  if (!job || !job.miner || !v || !trace || !v.online) return;
  const action = v.decide.planTask({ purpose: 'dispute', jobId: e.jobId, minerIsPartner: v.collude.has(job.miner.id), partnerShares: w.colludersVouch });
  if (action === 'silent') return;
  let agree: boolean;
  if (action === 'vouch') agree = true;
  else if (action === 'cheap-claim') agree = false; // it never ran the model: it disputes everything
  else {
    // it judges the opened boundary against its own run from the audit (no new compute); a divergent honest run
    // leaves the honest path at some layer, and it disputes everything from there
    const diverged = w.state.jobs.get(e.jobId)?.validatorOutputHash === hashOf(job, 3);
    if (diverged && trace.challengerDivergesAt === null) trace.challengerDivergesAt = 1 + Math.floor(w.rng.next() * (trace.hashes.length - 1));
    agree = e.index < Math.min(trace.firstBad, diverged ? trace.challengerDivergesAt! : Infinity);
  }
  const at = Math.ceil(w.now + 2 * netDelay(w));
  if (at > e.deadlineAtMs) return;
  w.queue.push(at, { type: 'bisect.respond', atMs: at, jobId: e.jobId, index: e.index, agree, ...signedBy(w, v, at) });
}

function refereesJudge(w: SimWorld, e: Extract<Effect, { type: 'bisect.segment' }>): void {
  const job = w.jobs.get(e.jobId);
  const trace = job ? traces.get(job) : undefined;
  if (!job || !job.miner || !trace) return;
  const c = clockOf(w, e.jobId);
  if (c) c.rounds++;
  // one segment of `toIndex - fromIndex` layers (one, unless the trace has a single layer), costed by its share of the MACs
  const cpu = computeMs(job.model, job.miner.variant, job.tokens, w.costOverrides, job.rows) * segmentShare(job.model, e.fromIndex, e.toIndex);
  for (const r of e.referees) {
    const v = w.validatorsByAddress.get(r);
    if (!v || !v.online) continue;
    const stance = refereeStance(w, v, e.jobId, job.miner);
    if (stance === null) continue;
    let minerCorrect: boolean;
    let ms = 0;
    if (stance !== 'run') minerCorrect = stance;
    else {
      // the step from the miner's own boundary is right iff the miner's trace was still honest at `toIndex`;
      // an honest referee's run of that one layer may itself diverge (`honestDivergenceRate`)
      const diverges = w.divergence > 0 && w.rng.next() < w.divergence;
      minerCorrect = e.toIndex < trace.firstBad && !diverges;
      ms = cpu;
      v.computeMicro += computeCostMicro(cpu, w.costPerCpuSec);
      if (c) c.refereeCpuMs += cpu;
    }
    const at = Math.ceil(w.now + netDelay(w) * 2 + ms);
    if (at > e.deadlineAtMs) continue;
    w.queue.push(at, { type: 'bisect.vote', atMs: at, jobId: e.jobId, fromIndex: e.fromIndex, toIndex: e.toIndex, minerCorrect, ...signedBy(w, v, at) });
  }
}
