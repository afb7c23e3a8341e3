import { InfermarketError, type Envelope, type Job, type ServerMessage, type WireTensor } from '@infermarket/protocol';
import { wireTensorHash } from '@infermarket/inference';
import { Compile } from 'typebox/compile';
import { minerOutput, type MarketCore } from './core.js';
import { signedBy, type NodeIdentity } from './node-messages.js';
import { BisectRespondMessage, BisectRevealMessage, BisectVoteMessage } from './schemas.js';

/**
 * The live side of the bisection game (docs/verification.md "Disputes by bisection"): the three node messages
 * that carry its moves into the rules (`bisect.reveal`, `bisect.respond`, `bisect.vote`, each checked against
 * its TypeBox schema in `schemas.ts`, then signed by the logged-in node), and the messages the market sends the
 * party whose move it is (`bisect.turn`, `bisect.segment`), with the tensors relayed: a boundary the miner opens
 * reaches the challenger and the referees only if it hashes to the leaf it opened.
 */

const checkers = {
  'bisect.reveal': Compile(BisectRevealMessage),
  'bisect.respond': Compile(BisectRespondMessage),
  'bisect.vote': Compile(BisectVoteMessage),
} as const;

/** The payload kind under which an opened boundary tensor is kept with its job. */
export const boundaryKind = (index: number): string => `boundary:${index}`;

/** Check a message against its schema. @throws ERR_VALIDATION naming the first offending field. */
function checkShape(type: keyof typeof checkers, msg: unknown): void {
  const c = checkers[type];
  if (c.Check(msg)) return;
  const e = c.Errors(msg)[0];
  const path = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : type;
  const field = path || type;
  throw new InfermarketError('ERR_VALIDATION', `"${field}" ${e?.message ?? 'is malformed'} (a "${type}" message: docs/api.md)`, { details: { field } });
}

/**
 * Apply one bisection move of a logged-in node: shape, signature, then the rules (which answer a move out of
 * turn, by a non-party, for the wrong index, late, or with a proof that does not open the committed root with
 * ERR_WRONG_STATE, ERR_NOT_ASSIGNED, ERR_VALIDATION, ERR_LATE, ERR_BAD_PROOF, and change nothing).
 * @throws InfermarketError with the code the node gets back.
 */
export function handleBisectMessage(core: MarketCore, node: NodeIdentity, msg: Record<string, unknown>): void {
  const type = msg.type as keyof typeof checkers;
  checkShape(type, msg);
  const env = msg.envelope as Envelope;
  const by = signedBy(node, env);
  const b = env.body as Record<string, unknown>;
  const common = { atMs: core.now(), by, nonce: b.nonce as string, expiresAtMs: b.expiresAtMs as number, jobId: b.jobId as string };
  if (type === 'bisect.reveal') {
    const tensor = msg.tensor as WireTensor;
    const h = wireTensorHash(tensor);
    if (h !== b.boundaryHash) {
      throw new InfermarketError('ERR_VALIDATION', `"tensor" hashes to ${h}, but "envelope.body.boundaryHash" says ${JSON.stringify(b.boundaryHash)}`, { details: { field: 'tensor' } });
    }
    core.step(
      { type: 'bisect.reveal', ...common, index: b.index as number, boundaryHash: b.boundaryHash as string, proof: b.proof as string[] },
      { payloads: [{ jobId: common.jobId, kind: boundaryKind(b.index as number), body: tensor }] },
    );
  } else if (type === 'bisect.respond') {
    core.step({ type: 'bisect.respond', ...common, index: b.index as number, agree: b.agree as boolean });
  } else {
    core.step({ type: 'bisect.vote', ...common, fromIndex: b.fromIndex as number, toIndex: b.toIndex as number, minerCorrect: b.minerCorrect as boolean });
  }
}

/** The tensor at boundary `index` of a job's game: the job's input (0), the miner's output (L), or an opened boundary. */
function boundaryTensor(core: MarketCore, job: Job, index: number): WireTensor | null {
  const g = job.bisection!;
  if (index === 0) {
    const input = core.payload(job.id, 'input') as { kind: string; tensor?: WireTensor } | undefined;
    return input?.kind === 'tensor' && input.tensor ? input.tensor : null;
  }
  if (index === g.layers) {
    const out = minerOutput(core, job.id);
    return out?.kind === 'tensor' ? out.tensor : null;
  }
  return (core.payload(job.id, boundaryKind(index)) as WireTensor | undefined) ?? null;
}

/**
 * What `address` must do now in job `job`'s bisection game, as a message (null: nothing). Sent on the rules'
 * `bisect.turn` / `bisect.segment` effects and again after a reconnect.
 */
export function bisectMessageFor(core: MarketCore, job: Job, address: string, variantOf: (a: string) => string | null): ServerMessage | null {
  const g = job.bisection;
  if (!g || job.status !== 'disputed' || g.turn === 'done') return null;
  const variant = job.miner ? variantOf(job.miner) : null;
  const v = variant ? { variant } : {};
  const base = { jobId: job.id, model: job.model, layers: g.layers, deadlineAtMs: g.deadlineAtMs };
  if (g.turn === 'miner' && job.miner === address) return { type: 'bisect.turn', ...base, party: 'miner', index: g.index, lo: g.lo, hi: g.hi, ...v };
  if (g.turn === 'challenger' && job.dispute?.accuser === address) {
    const tensor = boundaryTensor(core, job, g.index);
    if (!tensor) return null;
    return { type: 'bisect.turn', ...base, party: 'challenger', index: g.index, lo: g.lo, hi: g.hi, boundaryHash: g.revealed.get(g.index)!, tensor, ...v };
  }
  if (g.turn === 'referees' && job.dispute?.referees.includes(address) && !job.dispute.votes.has(address)) {
    const from = boundaryTensor(core, job, g.lo);
    const claimed = boundaryTensor(core, job, g.hi);
    if (!from || !claimed) return null;
    return { type: 'bisect.segment', ...base, fromIndex: g.lo, toIndex: g.hi, from, claimed, ...v };
  }
  return null;
}
