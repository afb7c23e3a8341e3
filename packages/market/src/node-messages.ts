import { InfermarketError, checkOutputLength, sampledRecheckDue, type Envelope, type JobInput, type JobOutput, type MarketEvent, type Role, type ServerMessage } from '@infermarket/protocol';
import { openEnvelopeFast as openEnvelope } from './open-envelope-fast.js';
import { comparatorsFor, outputsAgree } from './compare.js';
import type { PrivateJobs } from './private-jobs.js';
import { minerOutput, type MarketCore } from './core.js';
import { replicaAgreement, replicaOutputKind, replicaResultKind } from './redundant.js';
import { bodyOf, checkOutput, checkPayloadHash, parseAmount } from './wire-checks.js';
import { handleBisectMessage } from './bisect-messages.js';

/** What the gateway knows about one logged-in node connection. */
export interface NodeIdentity {
  address: string;
}

/** Where node-message side data goes (variants claimed at registration, streamed tokens). */
export interface NodeMessageSinks {
  setVariant(address: string, variant: string, role: Role): void;
  variant(address: string): string | null;
  token(jobId: string, index: number, token: number, text: string): void;
  /** Send a message to a node (private jobs: the reveal after a validator's commitment). */
  send?(address: string, msg: ServerMessage): void;
  /** Registrations, job keys and commitments of private jobs. */
  privateJobs?: PrivateJobs;
}

export function envelopeOf(msg: Record<string, unknown>): Envelope {
  const env = msg.envelope;
  if (typeof env !== 'object' || env === null) throw new InfermarketError('ERR_VALIDATION', '"envelope" must be a signed envelope object', { details: { field: 'envelope' } });
  return env as Envelope;
}

/** Open the envelope and require that the logged-in node signed it. */
export function signedBy(node: NodeIdentity, env: Envelope): string {
  const { address } = openEnvelope(env);
  if (address !== node.address) {
    throw new InfermarketError('ERR_UNAUTHENTICATED', `envelope signed by ${address}, but this connection is logged in as ${node.address}`, { details: { field: 'envelope.signer' } });
  }
  return address;
}

const REGISTER_KEYS = ['role', 'models', 'variant', 'region', 'encryptionKey', 'nonce', 'expiresAtMs'] as const;
const AMOUNT_KEYS = ['amountMicro', 'nonce', 'expiresAtMs'] as const;
const BID_KEYS = ['jobId', 'priceMicro', 'nonce', 'expiresAtMs'] as const;
const OFFER_KEYS = ['prices', 'capacity', 'variant', 'untilMs', 'nonce', 'expiresAtMs'] as const;
const WITHDRAW_KEYS = ['nonce', 'expiresAtMs'] as const;

/** An offer's signed `prices`: model id -> decimal string of micro-mUSD (at most 32 models; the rules check the rest). */
function offerPrices(v: unknown): Record<string, bigint> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length > 32) {
    throw new InfermarketError('ERR_VALIDATION', '"envelope.body.prices" must be an object of at most 32 model ids -> price strings like "1500"', { details: { field: 'envelope.body.prices' } });
  }
  const out: Record<string, bigint> = {};
  for (const [model, price] of Object.entries(v)) out[model] = parseAmount(`envelope.body.prices.${model}`, price);
  return out;
}
const RESULT_KEYS = ['jobId', 'inputHash', 'outputHash', 'traceRoot', 'traceLayers', 'nonce', 'expiresAtMs'] as const;
const RESULT_REQUIRED = ['jobId', 'inputHash', 'outputHash', 'nonce', 'expiresAtMs'] as const;
const AUDIT_KEYS = ['jobId', 'outputHash', 'nonce', 'expiresAtMs'] as const;
const VERDICT_KEYS = ['jobId', 'match', 'flagged', 'nonce', 'expiresAtMs'] as const;
const VERDICT_REQUIRED = ['jobId', 'match', 'nonce', 'expiresAtMs'] as const;

/** The job a private audit message refers to, with `by` its current auditor or a referee yet to vote. */
function privateAuditJob(core: MarketCore, jobId: unknown, by: string) {
  const job = typeof jobId === 'string' ? core.state.jobs.get(jobId) : undefined;
  if (!job) throw new InfermarketError('ERR_UNKNOWN_JOB', `"envelope.body.jobId": no job ${JSON.stringify(jobId)}`, { details: { field: 'envelope.body.jobId' } });
  const auditing = job.status === 'auditing' && job.validator === by;
  const refereeing = job.status === 'disputed' && !!job.dispute?.referees.includes(by) && !job.dispute.votes.has(by);
  if (!auditing && !refereeing) throw new InfermarketError('ERR_NOT_ELIGIBLE', `${by} is not auditing job ${job.id} now (it is ${job.status})`, { details: { field: 'envelope.body.jobId' } });
  return job;
}

/**
 * Turn one message of a logged-in node into a protocol event and apply it through the core.
 * @throws InfermarketError with the code the node gets back in its `error` frame.
 */
export function handleNodeMessage(core: MarketCore, node: NodeIdentity, msg: Record<string, unknown>, sinks: NodeMessageSinks): void {
  const at = core.now();
  switch (msg.type) {
    case 'node.register': {
      const env = envelopeOf(msg);
      const b = bodyOf(env, 'node.register', REGISTER_KEYS, ['role', 'models', 'region', 'nonce', 'expiresAtMs']);
      const by = signedBy(node, env);
      core.step({
        type: 'node.register',
        atMs: at,
        by,
        nonce: b.nonce as string,
        expiresAtMs: b.expiresAtMs as number,
        role: b.role as Role,
        models: b.models as string[],
        region: b.region as string,
        encryptionKey: (b.encryptionKey as string | null | undefined) ?? null,
      });
      sinks.setVariant(by, typeof b.variant === 'string' ? b.variant.slice(0, 32) : '', b.role as Role);
      // kept signed, so clients check the address ↔ encryption key binding themselves (GET /v1/nodes/:address)
      sinks.privateJobs?.setRegistration(by, env);
      return;
    }
    case 'stake.bond':
    case 'stake.unbond': {
      const env = envelopeOf(msg);
      const b = bodyOf(env, msg.type, AMOUNT_KEYS);
      const by = signedBy(node, env);
      core.step({ type: msg.type, atMs: at, by, nonce: b.nonce as string, expiresAtMs: b.expiresAtMs as number, amountMicro: parseAmount('envelope.body.amountMicro', b.amountMicro) });
      return;
    }
    case 'job.bid': {
      const env = envelopeOf(msg);
      const b = bodyOf(env, 'job.bid', BID_KEYS);
      const by = signedBy(node, env);
      core.step({
        type: 'job.bid',
        atMs: at,
        by,
        nonce: b.nonce as string,
        expiresAtMs: b.expiresAtMs as number,
        jobId: b.jobId as string,
        priceMicro: parseAmount('envelope.body.priceMicro', b.priceMicro),
      });
      return;
    }
    case 'offer.post': {
      // standing offers (matchingMode offers): the signed offer stands until withdrawn, replaced, expired or lapsed
      const env = envelopeOf(msg);
      const b = bodyOf(env, 'offer.post', OFFER_KEYS, ['prices', 'capacity', 'untilMs', 'nonce', 'expiresAtMs']);
      const by = signedBy(node, env);
      core.step({
        type: 'offer.post',
        atMs: at,
        by,
        nonce: b.nonce as string,
        expiresAtMs: b.expiresAtMs as number,
        prices: offerPrices(b.prices),
        capacity: b.capacity as number,
        variant: (b.variant as string | undefined) ?? sinks.variant(by) ?? '',
        untilMs: b.untilMs as number,
      });
      return;
    }
    case 'offer.withdraw': {
      const env = envelopeOf(msg);
      const b = bodyOf(env, 'offer.withdraw', WITHDRAW_KEYS);
      const by = signedBy(node, env);
      core.step({ type: 'offer.withdraw', atMs: at, by, nonce: b.nonce as string, expiresAtMs: b.expiresAtMs as number });
      return;
    }
    case 'job.result': {
      const env = envelopeOf(msg);
      const b = bodyOf(env, 'job.result', RESULT_KEYS, RESULT_REQUIRED);
      const by = signedBy(node, env);
      const output = checkOutput(msg.output);
      const job = core.state.jobs.get(String(b.jobId));
      // a private job's output is sealed to the client and committed by the hash of its plaintext, which the
      // market cannot check: the client (on opening it) and an auditing validator (on the reveal) do
      if (job?.private) {
        // a trace would relay the miner's intermediate tensors through the market in the clear: private jobs go to a quorum
        if (b.traceRoot !== undefined) throw new InfermarketError('ERR_VALIDATION', `"envelope.body.traceRoot": private job ${job.id} commits no layer trace (its dispute goes to a quorum)`, { details: { field: 'envelope.body.traceRoot' } });
        if (output.kind !== 'sealed') throw new InfermarketError('ERR_VALIDATION', `"output.kind" must be "sealed" for private job ${job.id}`, { details: { field: 'output.kind' } });
      } else {
        checkPayloadHash('output', output, b.outputHash, 'envelope.body.outputHash');
        // a short, long or malformed output is not a result: refused before it reaches the rules (ERR_BAD_OUTPUT)
        const input = job ? (core.payload(job.id, 'input') as JobInput | undefined) : undefined;
        // (only for the assigned miner: anyone else is refused by the rules with ERR_NOT_ASSIGNED / ERR_WRONG_STATE)
        if (job && input && job.status === 'assigned' && (job.miner === by || job.replicas.some((r) => r.miner === by))) {
          checkOutputLength(input, output, core.specs.get(job.model)?.outputs[0]);
        }
      }
      if (job && b.inputHash !== job.inputHash) {
        throw new InfermarketError('ERR_VALIDATION', `"envelope.body.inputHash" must be the job's input hash ${job.inputHash}, got ${JSON.stringify(b.inputHash)}`, {
          details: { field: 'envelope.body.inputHash' },
        });
      }
      const event: Extract<MarketEvent, { type: 'job.result' }> = { type: 'job.result', atMs: at, by, nonce: b.nonce as string, expiresAtMs: b.expiresAtMs as number, jobId: b.jobId as string, outputHash: b.outputHash as string };
      // the committed layer trace (bisection disputes): the rules check its root and length
      if (b.traceRoot !== undefined || b.traceLayers !== undefined) Object.assign(event, { traceRoot: b.traceRoot, traceLayers: b.traceLayers });
      if (job?.verification === 'redundant') {
        // each replica's output is kept apart and shown to nobody; the market says which earlier replicas it agrees with
        event.agreesWith = replicaAgreement(core, job, by, output, sinks.variant);
        core.step(event, {
          payloads: [
            { jobId: event.jobId, kind: replicaOutputKind(by), body: output },
            { jobId: event.jobId, kind: replicaResultKind(by), body: env },
          ],
          beforeCommit: () => {
            const x = core.extra(event.jobId);
            x.latencyMs = Math.max(0, at - job.submittedAtMs);
          },
        });
        return;
      }
      core.step(event, {
        payloads: [{ jobId: event.jobId, kind: 'output', body: output }],
        beforeCommit: () => {
          const x = core.extra(event.jobId);
          x.result = JSON.stringify(env);
          if (job) {
            x.latencyMs = Math.max(0, at - job.submittedAtMs);
            x.ttftMs ??= x.latencyMs;
          }
        },
      });
      return;
    }
    case 'audit.output': {
      const env = envelopeOf(msg);
      const b = bodyOf(env, 'audit.output', AUDIT_KEYS);
      const by = signedBy(node, env);
      const output = checkOutput(msg.output);
      if (core.state.jobs.get(String(b.jobId))?.private && sinks.privateJobs) {
        // commit, then reveal: the validator's output hash is fixed before it sees the miner's output
        const pj = sinks.privateJobs;
        const job = privateAuditJob(core, b.jobId, by);
        if (output.kind !== 'sealed') throw new InfermarketError('ERR_VALIDATION', `"output.kind" must be "sealed" for private job ${job.id}`, { details: { field: 'output.kind' } });
        if (typeof b.outputHash !== 'string' || !/^[0-9a-f]{64}$/.test(b.outputHash)) throw new InfermarketError('ERR_VALIDATION', '"envelope.body.outputHash" must be a sha256 hex', { details: { field: 'envelope.body.outputHash' } });
        if (pj.commit(job.id, by)) throw new InfermarketError('ERR_DUPLICATE', `${by} already committed its output for job ${job.id}`, { details: { field: 'envelope' } });
        const mined = minerOutput(core, job.id);
        if (!mined || !job.outputHash) throw new InfermarketError('ERR_UNKNOWN_JOB', `job ${job.id} has no committed output`);
        pj.setCommit(job.id, by, { outputHash: b.outputHash, output });
        const c = comparatorsFor(core.specs.get(job.model), job.miner ? sinks.variant(job.miner) : null);
        sinks.send?.(by, { type: 'audit.reveal', jobId: job.id, output: mined, outputHash: job.outputHash, ...c });
        return;
      }
      checkPayloadHash('output', output, b.outputHash, 'envelope.body.outputHash');
      const jobId = b.jobId as string;
      const job = core.state.jobs.get(typeof jobId === 'string' ? jobId : '');
      const mined: JobOutput | undefined = job ? minerOutput(core, job.id) : undefined;
      // the validator never sees the miner's output: the market compares the two with the model's comparator
      const agree = mined !== undefined && outputsAgree(core.specs.get(job?.model ?? ''), mined, output, job?.miner ? sinks.variant(job.miner) : null, job?.auditRows);
      // a sampled generation that differs from the blind re-execution: the validator's output is now committed
      // (it cannot change it), so reveal the miner's tokens for a teacher-forced re-check near sampling
      // boundaries (compareSampledTokens); the validator's verdict follows, as for private jobs
      if (!agree && job && mined && sinks.privateJobs && sinks.send && sampledRecheckDue(core.payload(job.id, 'input') as JobInput | undefined, mined, output)) {
        const pj = sinks.privateJobs;
        privateAuditJob(core, job.id, by);
        if (pj.commit(job.id, by)) throw new InfermarketError('ERR_DUPLICATE', `${by} already committed its output for job ${job.id}`, { details: { field: 'envelope' } });
        pj.setCommit(job.id, by, { outputHash: b.outputHash as string, output });
        const c = comparatorsFor(core.specs.get(job.model), job.miner ? sinks.variant(job.miner) : null);
        sinks.send(by, { type: 'audit.reveal', jobId: job.id, output: mined, outputHash: job.outputHash!, ...c });
        return;
      }
      const common = { atMs: at, by, nonce: b.nonce as string, expiresAtMs: b.expiresAtMs as number, jobId };
      const payloads = [{ jobId, kind: `audit:${by}`, body: output }];
      if (job?.status === 'disputed') core.step({ type: 'dispute.vote', ...common, minerCorrect: agree }, { payloads });
      else core.step({ type: 'audit.report', ...common, outputHash: b.outputHash as string, match: agree }, { payloads });
      return;
    }
    case 'audit.verdict': {
      const env = envelopeOf(msg);
      const b = bodyOf(env, 'audit.verdict', VERDICT_KEYS, VERDICT_REQUIRED);
      const by = signedBy(node, env);
      const job = privateAuditJob(core, b.jobId, by);
      if (typeof b.match !== 'boolean') throw new InfermarketError('ERR_VALIDATION', '"envelope.body.match" must be true or false', { details: { field: 'envelope.body.match' } });
      const c = sinks.privateJobs?.commit(job.id, by);
      if (!c) throw new InfermarketError('ERR_VALIDATION', `commit your output ("audit.output") for job ${job.id} before the verdict`, { details: { field: 'envelope' } });
      const common = { atMs: at, by, nonce: b.nonce as string, expiresAtMs: b.expiresAtMs as number, jobId: job.id };
      const flagged = b.flagged;
      if (flagged !== undefined && (!Array.isArray(flagged) || flagged.length > 64 || flagged.some((i) => !Number.isSafeInteger(i) || (i as number) < 0))) {
        throw new InfermarketError('ERR_VALIDATION', '"envelope.body.flagged" must be a list of at most 64 token positions (integers >= 0)', { details: { field: 'envelope.body.flagged' } });
      }
      const payloads = [{ jobId: job.id, kind: `audit:${by}`, body: c.output }, ...(flagged?.length && b.match === true ? [{ jobId: job.id, kind: `flagged:${by}`, body: flagged }] : [])];
      if (job.status === 'disputed') core.step({ type: 'dispute.vote', ...common, minerCorrect: b.match }, { payloads });
      else core.step({ type: 'audit.report', ...common, outputHash: c.outputHash, match: b.match }, { payloads });
      return;
    }
    case 'job.token': {
      const jobId = msg.jobId;
      const job = typeof jobId === 'string' ? core.state.jobs.get(jobId) : undefined;
      if (!job) throw new InfermarketError('ERR_UNKNOWN_JOB', `"jobId": no job ${JSON.stringify(jobId)}`, { details: { field: 'jobId' } });
      if (job.private) throw new InfermarketError('ERR_VALIDATION', `job ${job.id} is private: its tokens are not streamed through the market`, { details: { field: 'jobId' } });
      // a redundant job streams nothing: its output is known only once a majority agrees (its replicas' tokens are dropped)
      if (job.verification === 'redundant' && job.status === 'assigned' && job.replicas.some((r) => r.miner === node.address)) return;
      if (job.miner !== node.address || job.status !== 'assigned') {
        throw new InfermarketError('ERR_NOT_ASSIGNED', `${node.address} is not streaming job ${job.id} (it is ${job.status}, assigned to ${job.miner})`);
      }
      if (!Number.isSafeInteger(msg.index) || !Number.isSafeInteger(msg.token) || typeof msg.text !== 'string' || msg.text.length > 64) {
        throw new InfermarketError('ERR_VALIDATION', '"job.token" needs integer "index" and "token" and a short "text"', { details: { field: 'token' } });
      }
      const x = core.extra(job.id);
      x.tokens++;
      x.ttftMs ??= Math.max(0, at - job.submittedAtMs);
      sinks.token(job.id, msg.index as number, msg.token as number, msg.text);
      return;
    }
    case 'bisect.reveal':
    case 'bisect.respond':
    case 'bisect.vote':
      return handleBisectMessage(core, node, msg);
    default:
      throw new InfermarketError('ERR_VALIDATION', `"type" must be a node message type (node.register, stake.bond, stake.unbond, job.bid, offer.post, offer.withdraw, job.token, job.result, audit.output, audit.verdict, bisect.reveal, bisect.respond, bisect.vote, pong), got ${JSON.stringify(msg.type)}`, {
        details: { field: 'type' },
      });
  }
}
