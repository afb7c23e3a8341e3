import { InfermarketError, type Envelope, type JobOutput, type MarketEvent, type Role } from '@infermarket/protocol';
import { openEnvelopeFast as openEnvelope } from './open-envelope-fast.js';
import { outputsAgree } from './compare.js';
import { minerOutput, type MarketCore } from './core.js';
import { bodyOf, checkOutput, checkPayloadHash, parseAmount } from './wire-checks.js';

/** What the gateway knows about one logged-in node connection. */
export interface NodeIdentity {
  address: string;
}

/** Where node-message side data goes (variants claimed at registration, streamed tokens). */
export interface NodeMessageSinks {
  setVariant(address: string, variant: string, role: Role): void;
  variant(address: string): string | null;
  token(jobId: string, index: number, token: number, text: string): void;
}

function envelopeOf(msg: Record<string, unknown>): Envelope {
  const env = msg.envelope;
  if (typeof env !== 'object' || env === null) throw new InfermarketError('ERR_VALIDATION', '"envelope" must be a signed envelope object', { details: { field: 'envelope' } });
  return env as Envelope;
}

/** Open the envelope and require that the logged-in node signed it. */
function signedBy(node: NodeIdentity, env: Envelope): string {
  const { address } = openEnvelope(env);
  if (address !== node.address) {
    throw new InfermarketError('ERR_UNAUTHENTICATED', `envelope signed by ${address}, but this connection is logged in as ${node.address}`, { details: { field: 'envelope.signer' } });
  }
  return address;
}

const REGISTER_KEYS = ['role', 'models', 'variant', 'region', 'encryptionKey', 'nonce', 'expiresAtMs'] as const;
const AMOUNT_KEYS = ['amountMicro', 'nonce', 'expiresAtMs'] as const;
const BID_KEYS = ['jobId', 'priceMicro', 'nonce', 'expiresAtMs'] as const;
const RESULT_KEYS = ['jobId', 'inputHash', 'outputHash', 'nonce', 'expiresAtMs'] as const;
const AUDIT_KEYS = ['jobId', 'outputHash', 'nonce', 'expiresAtMs'] as const;

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
    case 'job.result': {
      const env = envelopeOf(msg);
      const b = bodyOf(env, 'job.result', RESULT_KEYS);
      const by = signedBy(node, env);
      const output = checkOutput(msg.output);
      checkPayloadHash('output', output, b.outputHash, 'envelope.body.outputHash');
      const job = core.state.jobs.get(String(b.jobId));
      if (job && b.inputHash !== job.inputHash) {
        throw new InfermarketError('ERR_VALIDATION', `"envelope.body.inputHash" must be the job's input hash ${job.inputHash}, got ${JSON.stringify(b.inputHash)}`, {
          details: { field: 'envelope.body.inputHash' },
        });
      }
      const event: MarketEvent = { type: 'job.result', atMs: at, by, nonce: b.nonce as string, expiresAtMs: b.expiresAtMs as number, jobId: b.jobId as string, outputHash: b.outputHash as string };
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
      checkPayloadHash('output', output, b.outputHash, 'envelope.body.outputHash');
      const jobId = b.jobId as string;
      const job = core.state.jobs.get(typeof jobId === 'string' ? jobId : '');
      const mined: JobOutput | undefined = job ? minerOutput(core, job.id) : undefined;
      // the validator never sees the miner's output: the market compares the two with the model's comparator
      const agree = mined !== undefined && outputsAgree(core.specs.get(job?.model ?? ''), mined, output, job?.miner ? sinks.variant(job.miner) : null);
      const common = { atMs: at, by, nonce: b.nonce as string, expiresAtMs: b.expiresAtMs as number, jobId };
      const payloads = [{ jobId, kind: `audit:${by}`, body: output }];
      if (job?.status === 'disputed') core.step({ type: 'dispute.vote', ...common, minerCorrect: agree }, { payloads });
      else core.step({ type: 'audit.report', ...common, outputHash: b.outputHash as string, match: agree }, { payloads });
      return;
    }
    case 'job.token': {
      const jobId = msg.jobId;
      const job = typeof jobId === 'string' ? core.state.jobs.get(jobId) : undefined;
      if (!job) throw new InfermarketError('ERR_UNKNOWN_JOB', `"jobId": no job ${JSON.stringify(jobId)}`, { details: { field: 'jobId' } });
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
    default:
      throw new InfermarketError('ERR_VALIDATION', `"type" must be a node message type (node.register, stake.bond, stake.unbond, job.bid, job.token, job.result, audit.output, pong), got ${JSON.stringify(msg.type)}`, {
        details: { field: 'type' },
      });
  }
}
