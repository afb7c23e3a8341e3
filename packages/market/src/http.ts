import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  ERROR_CODES,
  InfermarketError,
  balanceOf,
  type ErrorCode,
  hashHex,
  paramsToJson,
  type Envelope,
  type JobInput,
} from '@infermarket/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MarketCore } from './core.js';
import { openEnvelopeFast as openEnvelope } from './open-envelope-fast.js';
import type { MarketMetrics } from './metrics.js';
import type { PrivateJobs } from './private-jobs.js';
import { readGrantOf, requireOwnGrant } from './read-access.js';
import { AddressParams, MarketFaucetBody, JobKeyBodySchema, JobListQuery, JobParams, JobReadQuery, SubmitJobBody } from './schemas.js';
import type { StatsSource } from './stats.js';
import { jobView, offersView } from './views.js';
import { acceptJobKey, acceptSubmit } from './submit.js';
import { openApiDocument } from './openapi.js';
import { accountTokens, oracleView } from './token-views.js';

interface AjvError {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: { additionalProperty?: string; missingProperty?: string };
}

/** A fastify validation error as one sentence naming the field. */
export function validationMessage(err: FastifyError): string {
  const first = (err.validation?.[0] ?? {}) as AjvError;
  const ctx = err.validationContext ?? 'body';
  const path = (first.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const field = [ctx, path].filter(Boolean).join('.');
  if (first.keyword === 'additionalProperties' && first.params?.additionalProperty) {
    return `"${field ? `${field}.` : ''}${first.params.additionalProperty}" is not a known field`;
  }
  if (first.keyword === 'required' && first.params?.missingProperty) return `"${field}.${first.params.missingProperty}" is required`;
  return `"${field}" ${first.message ?? 'is invalid'}`;
}

/** Send errors as `{ error: { code, message } }` with the code's HTTP status. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const send = (status: number, code: string, message: string) => reply.status(status).send({ error: { code, message } });
    if (err instanceof InfermarketError) return send(err.status, err.code, err.message);
    if (err.validation) return send(400, 'ERR_VALIDATION', validationMessage(err));
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(413, 'ERR_BODY_TOO_LARGE', `the request body exceeds ${app.initialConfig.bodyLimit} bytes`);
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(400, 'ERR_BAD_JSON', `the request body is not valid JSON: ${err.message}`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', '"content-type" must be application/json');
      default:
        break;
    }
    if (err instanceof SyntaxError) return send(400, 'ERR_BAD_JSON', `the request body is not valid JSON: ${err.message}`);
    if (err instanceof RangeError && /call stack/i.test(err.message)) return send(400, 'ERR_VALIDATION', 'the request nests too deeply');
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      const code = STATUS_CODES_4XX[err.statusCode] ?? 'ERR_VALIDATION';
      return send(ERROR_CODES[code].status === err.statusCode ? err.statusCode : ERROR_CODES[code].status, code, err.message);
    }
    req.log.error({ err }, 'request failed');
    return send(500, 'ERR_INTERNAL', err.message);
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
}

/** fastify's own 4xx statuses → our documented code of the same status. */
const STATUS_CODES_4XX: Partial<Record<number, ErrorCode>> = { 400: 'ERR_VALIDATION', 404: 'ERR_NOT_FOUND', 408: 'ERR_TIMEOUT', 413: 'ERR_BODY_TOO_LARGE', 414: 'ERR_URI_TOO_LONG', 415: 'ERR_UNSUPPORTED_MEDIA_TYPE', 429: 'ERR_RATE_LIMITED', 431: 'ERR_HEADERS_TOO_LARGE' };

/**
 * fastify's `frameworkErrors`: a URL it cannot decode (`FST_ERR_BAD_URL`) or a path parameter over
 * `maxParamLength` (`FST_ERR_MAX_PARAM_LENGTH`), in our error shape.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const [status, code, message] =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'ERR_URI_TOO_LONG', 'a path parameter is too long: ids are at most 128 characters']
      : err.code === 'FST_ERR_BAD_URL'
        ? [400, 'ERR_BAD_HTTP', 'the URL is not valid percent-encoding']
        : [400, 'ERR_BAD_HTTP', err.message];
  void reply.status(status).send({ error: { code, message } });
}

/**
 * The HTTP server's `clientError` (Node refused the request before fastify saw it: headers too large,
 * malformed request line, timeout): a JSON body in our error shape, then close.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, code, message]: [number, ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'ERR_HEADERS_TOO_LARGE', 'the request line and headers exceed the header size limit']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'ERR_TIMEOUT', 'the request was not received in time']
        : [400, 'ERR_BAD_HTTP', `the request is not well-formed HTTP (${err.code ?? 'parse error'})`];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The `/v1` HTTP API and `/metrics`. */
export function registerRoutes(appIn: FastifyInstance, ctx: { core: MarketCore; stats: StatsSource; metrics: MarketMetrics; privateJobs?: PrivateJobs }): void {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  const { core, stats, metrics } = ctx;

  app.get('/v1/health', async () => ({ ok: true, nowMs: core.now(), seq: core.state.seq, marketKey: core.marketKey }));

  app.get('/v1/params', async () => paramsToJson(core.params));

  app.get('/v1/models', async () => ({
    models: [...core.specs.values()].map((m) => ({ id: m.id, kind: m.kind, description: m.description, inputs: m.inputs, outputs: m.outputs, comparator: m.comparator, generationComparator: m.generationComparator, variants: m.variants })),
  }));

  app.post('/v1/faucet', { schema: { body: MarketFaucetBody } }, async (req) => {
    const { address, amountMicro } = req.body;
    const token = req.body.token ?? 'mUSD';
    core.step({ type: 'account.faucet', atMs: core.now(), address, amountMicro: BigInt(amountMicro), ...(token === 'IMT' ? { token } : {}) });
    await core.durable(); // nothing is acknowledged before it is written
    return { address, token, balanceMicro: balanceOf(core.state, `balance:${address}`, token).toString() };
  });

  app.get('/v1/oracle', async () => oracleView(core));

  app.get('/v1/accounts/:address', { schema: { params: AddressParams } }, async (req) => {
    const a = req.params.address;
    const s = core.state;
    const node = s.nodes.get(a);
    let unbonding = 0n;
    for (const c of node?.unbonding ?? []) unbonding += c.amountMicro;
    return {
      address: a,
      balanceMicro: (s.ledger.get(`balance:${a}`) ?? 0n).toString(),
      stakeMicro: (node?.stakeMicro ?? 0n).toString(),
      unbondingMicro: unbonding.toString(),
      faucetMintedMicro: (s.faucetMinted.get(a) ?? 0n).toString(),
      stakeToken: s.params.stakeToken,
      tokens: accountTokens(core, a),
      node: node ? { role: node.role, models: node.models, region: node.region, reputation: node.reputation, jailedUntilMs: node.jailedUntilMs, slashes: node.slashes, ejected: node.ejected } : null,
    };
  });

  app.post('/v1/jobs', { schema: { body: SubmitJobBody } }, async (req, reply) => {
    const { jobId } = acceptSubmit(core, req.body.envelope as unknown as Envelope<'job.submit'>, req.body.input as JobInput);
    await core.durable(); // nothing is acknowledged before it is written
    reply.status(202);
    return jobView(core, jobId, { owner: true });
  });

  // a client's own jobs only, with its read token for all its jobs ("*"): who submitted what is the client's
  app.get('/v1/jobs', { schema: { querystring: JobListQuery } }, async (req) => {
    const q = req.query;
    const grant = readGrantOf(core, req.headers, q.read);
    if (!grant || grant.jobId !== '*') {
      throw new InfermarketError('ERR_UNAUTHENTICATED', 'listing jobs needs a read token for all of your jobs (jobId "*", header "x-infermarket-read"): a client lists only its own jobs', { details: { field: 'x-infermarket-read' } });
    }
    if (q.client && q.client !== grant.address) {
      throw new InfermarketError('ERR_UNAUTHENTICATED', `"client" must be the read token's signer ${grant.address}, got ${q.client}`, { details: { field: 'querystring.client' } });
    }
    const limit = Math.min(1000, Math.max(1, Number(q.limit ?? 100)));
    const rows = core.store.listJobs({ limit, ...(q.status ? { status: q.status } : {}), client: grant.address });
    return {
      jobs: rows.map((r) => ({
        id: r.id,
        model: r.model,
        client: r.client,
        status: r.status,
        failure: r.failure,
        miner: r.miner,
        priceMicro: r.priceMicro,
        maxPriceMicro: r.maxPriceMicro,
        audited: r.audited,
        submittedAtMs: r.submittedAtMs,
        finishedAtMs: r.finishedAtMs,
        ttftMs: r.ttftMs,
        latencyMs: r.latencyMs,
      })),
    };
  });

  // commit–reveal of the audit seeds: each seed's hash is public from its epoch's start, the seed itself
  // once the next epoch begins, so anyone can recompute which jobs were audited (isAudited) afterwards
  app.get('/v1/epochs', async () => {
    const all = core.store.epochs();
    return {
      epochs: all.map((e, index) => ({
        index,
        startedAtMs: e.atMs,
        seedHash: hashHex(e.seed),
        seed: index < all.length - 1 ? e.seed : null,
      })).slice(-100),
    };
  });

  app.get('/v1/jobs/:id', { schema: { params: JobParams, querystring: JobReadQuery } }, async (req) => {
    const job = core.state.jobs.get(req.params.id);
    if (!job) return jobView(core, req.params.id); // throws ERR_UNKNOWN_JOB
    return jobView(core, job.id, { owner: requireOwnGrant(readGrantOf(core, req.headers, req.query.read), job) });
  });

  // the standing offers that can match a job now (matchingMode offers): anyone may see who sells what, at
  // which price, and how loaded each seller is — the inputs of matching, so a client can check its match
  app.get('/v1/offers', async () => offersView(core.state, core.now()));

  // a node's signed registration: anyone checks the binding between its address and its encryption key
  app.get('/v1/nodes/:address', { schema: { params: AddressParams } }, async (req) => {
    const a = req.params.address;
    const node = core.state.nodes.get(a);
    if (!node) throw new InfermarketError('ERR_NOT_FOUND', `"address": no registered node ${a}`, { details: { field: 'address' } });
    return { address: a, role: node.role, region: node.region, encryptionKey: node.encryptionKey, registration: ctx.privateJobs?.registration(a) ?? null };
  });

  // private jobs: the client seals the job key to a party's signed encryption key; the market keeps and
  // forwards the box and cannot open it
  app.post('/v1/jobs/:id/keys', { schema: { params: JobParams, body: JobKeyBodySchema } }, async (req, reply) => {
    const { jobId, to } = acceptJobKey(core, ctx.privateJobs, req.body.envelope as unknown as Envelope<'job.key'>, req.params.id);
    reply.status(202);
    return { jobId, to };
  });

  app.get('/v1/stats', async () => stats.snapshot());

  app.get('/v1/openapi.json', async () => openApiDocument());

  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.render();
  });
}
