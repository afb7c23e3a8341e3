import { ERROR_CODES } from '@infermarket/protocol';
import { AddressParams, MarketFaucetBody, JobKeyBodySchema, JobListQuery, JobParams, SubmitJobBody } from './schemas.js';

/**
 * The market's HTTP API as an OpenAPI 3.0 document, built from the same TypeBox schemas the routes
 * validate with (schemas.ts), so it cannot drift from them. Served at `GET /v1/openapi.json` and committed
 * as `docs/openapi.json` (test/openapi.test.ts keeps the file equal to this). The prose, the WebSocket
 * frames and the signing rules are in docs/api.md.
 */

type Json = Record<string, unknown>;

/** A TypeBox schema as plain JSON Schema (drops TypeBox's symbol keys). */
const plain = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json;

/** Route parameters (`:id`, query) as OpenAPI parameter objects, from a TypeBox object schema. */
function parameters(schema: unknown, where: 'path' | 'query'): Json[] {
  const s = plain(schema) as { properties: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties).map(([name, sch]) => ({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: sch }));
}

const json = (schema: Json, description: string): Json => ({ description, content: { 'application/json': { schema } } });
const body = (schema: unknown): Json => ({ required: true, content: { 'application/json': { schema: plain(schema) } } });
const anyObject = (description: string): Json => ({ type: 'object', description });

const ErrorBody: Json = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', enum: Object.keys(ERROR_CODES) }, message: { type: 'string' } },
    },
  },
};
const errors: Json = { default: json({ $ref: '#/components/schemas/Error' }, 'An error: `{ error: { code, message } }` with the code\'s HTTP status (docs/api.md#errors).') };
const JobView = anyObject('The job view (docs/api.md#http-routes): id, model, client, status, failure, attempt, miner, priceMicro, maxPriceMicro, audited, region, submittedAtMs, finishedAtMs, ttftMs, latencyMs, output, result, receipt.');

/** The OpenAPI 3.0 document of the market's HTTP routes. */
export function openApiDocument(): Json {
  const get = (summary: string, ok: Json, extra: Json = {}): Json => ({ get: { summary, ...extra, responses: { 200: json(ok, 'OK'), ...errors } } });
  return {
    openapi: '3.0.3',
    info: {
      title: 'infermarket market API',
      version: '1',
      description: 'HTTP routes of an infermarket market. Amounts are decimal strings of micro-mUSD; signed envelopes are ed25519 over "infermarket/v1\\n" + type + "\\n" + canonical(body). WebSocket frames, signing and receipt verification: docs/api.md.',
    },
    paths: {
      '/v1/health': get('Liveness, market clock and the market key that signs receipts.', anyObject('{ ok, nowMs, seq, marketKey, seed }')),
      '/v1/params': get('Protocol parameters in force.', anyObject('parameter name → value (amounts as decimal strings)')),
      '/v1/models': get('Models with input/output spec, comparator and variants.', anyObject('{ models: [...] }')),
      '/v1/faucet': { post: { summary: 'Mint test funds in mUSD or IMT (`token`, default mUSD; capped per address and token by faucetCapMicro).', requestBody: body(MarketFaucetBody), responses: { 200: json(anyObject('{ address, token, balanceMicro }'), 'OK'), ...errors } } },
      '/v1/accounts/{address}': get('Balance, stake, unbonding, faucet total (mUSD) and node record of an address; `tokens` gives each per token (mUSD, IMT).', anyObject('{ address, balanceMicro, stakeMicro, unbondingMicro, faucetMintedMicro, tokens: { mUSD, IMT }, node }'), { parameters: parameters(AddressParams, 'path') }),
      '/v1/oracle': get('The pricing mode, the job, price and stake tokens, the IMT price the market\'s own oracle last published (micro-USD per IMT; nobody else can post one), and per-token ledger totals with conservation.', anyObject('{ pricingMode, jobToken, priceUnit, stakeToken, priceMicro, atMs, updates, shortfalls, ledger }')),
      '/v1/jobs': {
        post: { summary: 'Submit a signed job.submit envelope and its input; escrows maxPriceMicro.', requestBody: body(SubmitJobBody), responses: { 202: json(JobView, 'Accepted: the job view, status "bidding"'), ...errors } },
        get: { summary: 'Recent jobs, newest first.', parameters: parameters(JobListQuery, 'query'), responses: { 200: json(anyObject('{ jobs: [...] }'), 'OK'), ...errors } },
      },
      '/v1/jobs/{id}': get('The job view: status, output once committed, the miner\'s signed result and the market\'s signed receipt.', JobView, { parameters: parameters(JobParams, 'path') }),
      '/v1/jobs/{id}/keys': { post: { summary: 'Private jobs: the client\'s signed job.key for one party.', parameters: parameters(JobParams, 'path'), requestBody: body(JobKeyBodySchema), responses: { 202: json(anyObject('{ jobId, to }'), 'Accepted'), ...errors } } },
      '/v1/nodes/{address}': get('A node\'s role, region, encryption key and signed registration.', anyObject('{ address, role, region, encryptionKey, registration }'), { parameters: parameters(AddressParams, 'path') }),
      '/v1/offers': get('Standing offers live now (matchingMode offers): miner, price per model, capacity, load, variant, expiry.', anyObject('{ matchingMode, nowMs, offers: [{ miner, pricesMicro, capacity, load, variant, untilMs, postedAtMs, eligible }] }')),
      '/v1/epochs': get('Audit-seed commitments: each epoch\'s seed hash, and its seed once the next epoch began.', anyObject('{ epochs: [{ index, startedAtMs, seedHash, seed }] }')),
      '/v1/stats': get('The market snapshot (MarketStatsView).', anyObject('MarketStatsView')),
      '/v1/openapi.json': get('This document.', anyObject('OpenAPI 3.0 document')),
      '/metrics': { get: { summary: 'Prometheus metrics (text format).', responses: { 200: { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    },
    components: { schemas: { Error: ErrorBody } },
  };
}
