// Test support for the bisection game (not exported from the package): set up a disputed job on the protocol's
// own harness and play the game with pluggable parties. The parties see only what the real ones would: the miner
// its own trace, the challenger the boundary hash the miner opened, the referees the segment.
import { hashHex } from './crypto.js';
import { addNode, createHarness, fund, MUSD, type Harness } from './testing.js';
import { traceProof, traceRoot } from './trace.js';
import type { Job } from './types.js';

/** One party's move, or `silent` (it lets its deadline pass). */
export type Move<T> = T | 'silent';

export interface Players {
  /** The miner opens boundary `index` of its trace (honest miners always do). */
  miner: (index: number) => Move<'reveal'>;
  /** The challenger judges the boundary the miner opened. */
  challenger: (index: number, boundaryHash: string) => Move<boolean>;
  /** Each referee re-executes the segment `from..to` and votes on it. */
  referee: (from: number, to: number) => Move<boolean>;
}

export interface Played {
  h: Harness;
  job: Job;
  miner: string;
  challenger: string;
  /** Rounds played: halvings (reveal + respond) plus the referees' round if it was reached. */
  rounds: number;
}

/**
 * A digits job whose miner committed `values` (boundary 0 = input … boundary L = output, as strings whose
 * sha256 is the boundary hash), audited by a validator that reports a mismatch, and the game played out.
 */
export function playBisection(opts: { values: string[]; players: Players; quorum?: number; validators?: number; params?: Record<string, unknown> }): Played {
  const { values, players } = opts;
  const h = createHarness({ auditRate: 1, disputeMode: 'bisection', disputeQuorum: opts.quorum ?? 3, ...opts.params }, ['digits', 'charlm'], { digits: values.length - 1 });
  const miner = addNode(h, 'm1', 'miner');
  for (let i = 0; i < (opts.validators ?? 5); i++) addNode(h, `v${i}`, 'validator');
  const client = fund(h, 'c1');
  const hashes = values.map((v) => hashHex(v));
  const layers = values.length - 1;
  h.send({ type: 'job.submit', by: client, jobId: 'j1', model: 'digits', inputHash: hashes[0]!, maxPriceMicro: 10n * MUSD });
  h.send({ type: 'job.bid', by: miner, jobId: 'j1', priceMicro: 2n * MUSD });
  h.advance(h.state.params.bidWindowMs);
  h.send({ type: 'job.result', by: miner, jobId: 'j1', outputHash: hashes[layers]!, traceRoot: traceRoot(hashes), traceLayers: layers });
  const job = h.state.jobs.get('j1')!;
  const challenger = job.validator!;
  h.send({ type: 'audit.report', by: challenger, jobId: 'j1', outputHash: hashHex('the auditor got something else'), match: false });
  let rounds = 0;
  let refereeRound = false;
  const wait = () => h.advance(job.bisection!.deadlineAtMs - h.now);
  while (job.bisection && job.bisection.turn !== 'done') {
    const g = job.bisection;
    if (g.turn === 'miner') {
      rounds++;
      if (players.miner(g.index) === 'silent') wait();
      else h.send({ type: 'bisect.reveal', by: miner, jobId: 'j1', index: g.index, boundaryHash: hashes[g.index]!, proof: traceProof(hashes, g.index) });
    } else if (g.turn === 'challenger') {
      const agree = players.challenger(g.index, g.revealed.get(g.index)!);
      if (agree === 'silent') wait();
      else h.send({ type: 'bisect.respond', by: challenger, jobId: 'j1', index: g.index, agree });
    } else {
      if (!refereeRound) rounds++;
      refereeRound = true;
      for (const r of [...job.dispute!.referees]) {
        if (job.bisection.turn !== 'referees') break;
        const vote = players.referee(g.lo, g.hi);
        if (vote === 'silent') continue;
        h.send({ type: 'bisect.vote', by: r, jobId: 'j1', fromIndex: g.lo, toIndex: g.hi, minerCorrect: vote });
      }
      if (job.bisection.turn === 'referees') wait();
    }
  }
  return { h, job, miner, challenger, rounds };
}
