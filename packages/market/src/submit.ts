import { InfermarketError, checkBatchRows, hashPayload, type Envelope, type JobInput, type JobKeyBody, type SubmitBody } from '@infermarket/protocol';
import type { PrivateJobs } from './private-jobs.js';
import type { MarketCore } from './core.js';
import { validateInput, type ModelSpec } from './models.js';
import { openEnvelopeFast as openEnvelope } from './open-envelope-fast.js';

/**
 * Check and apply a client's signed `job.submit` with its input — the one implementation behind
 * `POST /v1/jobs` and the `job.submit` frame of a client session. The envelope's shape is the caller's
 * (the HTTP schema, the session's compiled schema); this checks the signature, the model, the input against
 * it and the input hash, then steps `job.submit` (the rules check the nonce, expiry, escrow and the rest).
 * `signer`: the key the caller requires (a session's login). The caller acknowledges only after `core.durable()`.
 * @throws InfermarketError (ERR_BAD_SIGNATURE, ERR_UNKNOWN_MODEL, ERR_VALIDATION, and every code of the rules)
 */
export function acceptSubmit(core: MarketCore, envelope: Envelope<'job.submit'>, input: JobInput, options: { signer?: string } = {}): { jobId: string; client: string } {
  const { address } = openEnvelope(envelope as unknown as Envelope);
  // a client session submits only as the key that logged in (its pushed results go to that key)
  if (options.signer !== undefined && address !== options.signer) {
    throw new InfermarketError('ERR_UNAUTHENTICATED', `the submission is signed by ${address}, but this session is logged in as ${options.signer}`, { details: { field: 'envelope.signer' } });
  }
  const b = envelope.body as unknown as SubmitBody & { maxPriceMicro: string | bigint };
  const spec = core.specs.get(b.model);
  if (!spec) throw new InfermarketError('ERR_UNKNOWN_MODEL', `"envelope.body.model" must be one of ${[...core.specs.keys()].join(', ')}, got ${JSON.stringify(b.model)}`, { details: { field: 'model' } });
  checkInputRows(spec, input, checkBatchRows(core.params, b.rows, { private: b.private === true }));
  validateInput(spec, input, { private: b.private === true });
  const h = hashPayload(input);
  if (h !== b.inputHash) {
    throw new InfermarketError('ERR_VALIDATION', `"envelope.body.inputHash" must be sha256 of the canonical input ${h}, got ${b.inputHash}`, { details: { field: 'inputHash' } });
  }
  core.step(
    {
      type: 'job.submit',
      atMs: core.now(),
      by: address,
      nonce: b.nonce,
      expiresAtMs: b.expiresAtMs,
      jobId: b.jobId,
      model: b.model,
      inputHash: b.inputHash,
      maxPriceMicro: BigInt(b.maxPriceMicro),
      ...(b.regions ? { regions: b.regions } : {}),
      ...(b.private !== undefined ? { private: b.private } : {}),
      ...(b.verification !== undefined ? { verification: b.verification } : {}),
      ...(b.rows !== undefined ? { rows: b.rows } : {}),
    },
    { payloads: [{ jobId: b.jobId, kind: 'input', body: input }] },
  );
  return { jobId: b.jobId, client: address };
}

/**
 * A batch job's rows against its input: the input tensor's first (batch) dim must be `rows`, so a client pays
 * for every row it sends (a 64-row tensor is a 64-row job, priced per row); a generation model (charlm) is
 * autoregressive, one prompt a job, so it takes one row. Shape and bytes of the rows are `validateInput`'s.
 * @throws InfermarketError `ERR_BAD_BATCH` naming the field `rows`.
 */
export function checkInputRows(spec: ModelSpec, input: JobInput, rows: number): void {
  if (spec.kind === 'charlm') {
    if (rows !== 1) throw new InfermarketError('ERR_BAD_BATCH', `"rows" must be 1 for model "${spec.id}": it generates tokens one prompt at a time (autoregressive), so it takes no batch jobs; got ${rows}`, { details: { field: 'rows' } });
    return;
  }
  if (input.kind !== 'tensor') return;
  if (typeof spec.inputs[0]?.shape[0] !== 'string') {
    // a fixed first dim is no batch: such a model takes one row a job
    if (rows !== 1) throw new InfermarketError('ERR_BAD_BATCH', `"rows" must be 1 for model "${spec.id}": its input has no batch dim; got ${rows}`, { details: { field: 'rows' } });
    return;
  }
  const got = input.tensor.dims[0];
  if (got !== rows) {
    throw new InfermarketError('ERR_BAD_BATCH', `"rows" is ${rows}, but the input tensor has ${JSON.stringify(got)} rows (its first dim, "input.tensor.dims[0]"); a job pays per row, so they must agree`, {
      details: { field: 'rows' },
    });
  }
}

/**
 * A private job's key for one party, sealed by the job's client (`POST /v1/jobs/:id/keys` and the session's
 * `job.key` frame): only the job's client may hand it out; the market keeps and forwards the box, cannot open it.
 * @throws InfermarketError (ERR_BAD_SIGNATURE, ERR_VALIDATION, ERR_UNKNOWN_JOB, ERR_UNAUTHENTICATED, ERR_REPLAY)
 */
export function acceptJobKey(core: MarketCore, privateJobs: PrivateJobs | undefined, env: Envelope<'job.key'>, pathJobId?: string): { jobId: string; to: string } {
  const { address } = openEnvelope(env as unknown as Envelope);
  const b = env.body as unknown as JobKeyBody;
  if (pathJobId !== undefined && b.jobId !== pathJobId) throw new InfermarketError('ERR_VALIDATION', `"envelope.body.jobId" must be ${pathJobId}, got ${b.jobId}`, { details: { field: 'jobId' } });
  const job = core.state.jobs.get(b.jobId);
  if (!job) throw new InfermarketError('ERR_UNKNOWN_JOB', `"jobId": no job ${b.jobId}`, { details: { field: 'jobId' } });
  if (address !== job.client) throw new InfermarketError('ERR_UNAUTHENTICATED', `only the job's client may hand out its key; signed by ${address}`, { details: { field: 'envelope.signer' } });
  if (b.expiresAtMs < core.now()) throw new InfermarketError('ERR_REPLAY', '"envelope.body.expiresAtMs" has passed', { details: { field: 'expiresAtMs' } });
  if (!privateJobs) throw new InfermarketError('ERR_VALIDATION', 'this market does not take private jobs');
  privateJobs.putKey(job, b.to, b.sealed);
  return { jobId: job.id, to: b.to };
}
