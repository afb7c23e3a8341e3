import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  checkNonce,
  checkBatchRows,
  DEFAULT_PARAMS,
  hashPayload,
  InfermarketError,
  openEnvelope,
  openReadToken,
  outputLength,
  pruneNonces,
  READ_ALL_JOBS,
  READ_TOKEN_HEADER,
  rememberNonce,
  sealEnvelope,
  toHex,
  type Canonical,
  type Envelope,
  type JobInput,
  type JobOutput,
  type JobStreamMessage,
  type JobView,
  type KeyPair,
  type ReadGrant,
  type ReplayBook,
  type SubmitBody,
} from '@infermarket/protocol';
import {
  AddressParams,
  clientErrorHandler,
  FaucetBody,
  frameworkErrors,
  installErrorHandling,
  JobListQuery,
  JobParams,
  JobReadQuery,
  loadModelSpecs,
  SubmitJobBody,
  checkInputRows,
  validateInput,
  type ModelSpec,
} from '@infermarket/market';
import type { Executor } from '@infermarket/miner';

/** Defaults of the centralized baseline (`infermarket cloud`). */
export const CLOUD_DEFAULTS = Object.freeze({
  /** The variant the cloud runs: the one honest miners run by default. */
  variant: 'int8',
  /** Fixed price per job of every model unless `pricesMicro` names it (micro-mUSD; the quickstart miners ask 8,000–10,000). */
  priceMicro: 10_000n,
  /** Jobs run at once (one onnxruntime session per model, one thread each). */
  concurrency: 2,
  /** Most mUSD the faucet mints to one account (the market's default `faucetCapMicro`). */
  faucetCapMicro: DEFAULT_PARAMS.faucetCapMicro,
  /** Longest validity of a signed message (the market's default `messageTtlMs`). */
  messageTtlMs: DEFAULT_PARAMS.messageTtlMs,
  /** Finished jobs kept for reading (oldest finished are forgotten first: `ERR_UNKNOWN_JOB` afterwards). */
  maxFinishedJobs: 10_000,
  /** Body limit in bytes (a digits tensor is ~4 KB; a charlm prompt at most 64 KB). */
  bodyLimitBytes: 1 << 20,
});

/** Options for `createCloud`. */
export interface CloudOptions {
  /** The cloud's signing key (receipts and results). */
  keys: KeyPair;
  /** Runs the models (the miners' onnxruntime executor). */
  executor: Executor;
  /** Directory of models/manifest.json (default: the repository's). */
  modelsDir?: string;
  /** Variant to run (default int8). */
  variant?: string;
  /** Price per job by model (micro-mUSD); models not named cost `defaultPriceMicro`. */
  pricesMicro?: Record<string, bigint>;
  defaultPriceMicro?: bigint;
  concurrency?: number;
  faucetCapMicro?: bigint;
  messageTtlMs?: number;
  /** Current time in ms (default Date.now). */
  now?: () => number;
  /**
   * A JSON file the ledger is kept in (balances, faucet totals, revenue, escrow of jobs in flight), written
   * after every change, so a restarted cloud keeps its accounts; jobs in flight at a crash are refunded on
   * start. Default: memory only.
   */
  stateFile?: string;
}

/** What `stateFile` holds (amounts as decimal strings). */
interface CloudLedgerFile {
  balances: Record<string, string>;
  minted: Record<string, string>;
  revenueMicro: string;
  /** Escrow of jobs accepted and not finished: refunded when the cloud starts again. */
  inFlight: Record<string, { client: string; maxPriceMicro: string }>;
}

interface CloudJob {
  id: string;
  model: string;
  client: string;
  inputHash: string;
  input: JobInput;
  maxPriceMicro: bigint;
  priceMicro: bigint;
  status: 'queued' | 'running' | 'settled' | 'failed';
  failure: string | null;
  submittedAtMs: number;
  startedAtMs: number | null;
  finishedAtMs: number;
  ttftMs: number | null;
  latencyMs: number | null;
  output: JobOutput | null;
  result: Envelope<'job.result'> | null;
  receipt: Envelope<'job.receipt'> | null;
  tokens: JobStreamMessage[];
  watchers: Set<WebSocket>;
}

/** The cloud's totals: its ledger (exact, conserved: minted = balances + escrow + revenue) and its jobs. */
export interface CloudStats {
  kind: 'cloud';
  variant: string;
  verification: 'none';
  pricesMicro: Record<string, string>;
  jobs: { submitted: number; settled: number; failed: number; queued: number; running: number; refundedAtStart: number };
  ledger: { mintedMicro: string; balancesMicro: string; escrowMicro: string; revenueMicro: string; conserved: boolean };
}

/** A running cloud: its fastify app (not yet listening) and its key. */
export interface Cloud {
  app: FastifyInstance;
  key: string;
  address: string;
  stats(): CloudStats;
  close(): Promise<void>;
}

const STREAM_PATH = /^\/v1\/jobs\/([A-Za-z0-9][A-Za-z0-9._:-]{0,127})\/stream$/;

/**
 * The centralized baseline: one process running the models directly on onnxruntime at a fixed price per
 * model — no auction, no verification, no stake. It speaks the subset of the market's job API the client
 * SDK uses (`GET /v1/health`, `POST /v1/faucet`, `GET /v1/accounts/:address`, `POST /v1/jobs`,
 * `GET /v1/jobs/:id`, `GET /v1/jobs`, WebSocket `/v1/jobs/:id/stream`, plus `GET /v1/models`, `GET /v1/stats`),
 * validates requests with the market's own schemas and `validateInput`, and signs results and receipts with
 * its own key in the market's shape (`verification: "none"`, `verdict: "unchecked"`), so `verifyReceipt`
 * works with the cloud's key. Private (sealed) jobs and `verification` other than `none` are refused.
 */
export function createCloud(options: CloudOptions): Cloud {
  const { specs } = loadModelSpecs(options.modelsDir);
  const variant = options.variant ?? CLOUD_DEFAULTS.variant;
  const defaultPrice = options.defaultPriceMicro ?? CLOUD_DEFAULTS.priceMicro;
  const prices = new Map<string, bigint>([...specs.keys()].map((m) => [m, options.pricesMicro?.[m] ?? defaultPrice]));
  for (const m of Object.keys(options.pricesMicro ?? {})) {
    if (!specs.has(m)) throw new InfermarketError('ERR_UNKNOWN_MODEL', `"--price" names model "${m}", which is not in the models manifest (${[...specs.keys()].join(', ')})`, { details: { field: 'price' } });
  }
  const concurrency = options.concurrency ?? CLOUD_DEFAULTS.concurrency;
  const faucetCap = options.faucetCapMicro ?? CLOUD_DEFAULTS.faucetCapMicro;
  const ttlMs = options.messageTtlMs ?? CLOUD_DEFAULTS.messageTtlMs;
  const now = options.now ?? Date.now;
  const keys = options.keys;
  const key = toHex(keys.publicKey);

  const balances = new Map<string, bigint>();
  const minted = new Map<string, bigint>();
  let revenue = 0n;
  let escrow = 0n;
  const jobs = new Map<string, CloudJob>();
  /** Replay protection: the market's own per-signer sequence windows (protocol replay.ts), over the cloud's clients. */
  const replay: ReplayBook = { replay: new Map(), params: { messageTtlMs: ttlMs } };
  /** Windows are forgotten once per TTL (as the market does per epoch), not scanned on every submit. */
  let prunedAtMs = 0;
  const queue: CloudJob[] = [];
  let running = 0;
  let closed = false;
  /** Jobs restored from the state file and refunded at start (their client's stream is gone). */
  let refundedAtStart = 0;
  /** Finished job ids, oldest first (the memory bound). */
  const finishedOrder: string[] = [];
  const counted = { submitted: 0, settled: 0, failed: 0 };

  const save = (): void => {
    if (options.stateFile === undefined) return;
    const inFlight: CloudLedgerFile['inFlight'] = {};
    for (const j of jobs.values()) if (j.status === 'queued' || j.status === 'running') inFlight[j.id] = { client: j.client, maxPriceMicro: j.maxPriceMicro.toString() };
    const file: CloudLedgerFile = {
      balances: Object.fromEntries([...balances].map(([a, v]) => [a, v.toString()])),
      minted: Object.fromEntries([...minted].map(([a, v]) => [a, v.toString()])),
      revenueMicro: revenue.toString(),
      inFlight,
    };
    const tmp = `${options.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(file));
    renameSync(tmp, options.stateFile);
  };
  if (options.stateFile !== undefined && existsSync(options.stateFile)) {
    let f: CloudLedgerFile;
    try {
      f = JSON.parse(readFileSync(options.stateFile, 'utf8')) as CloudLedgerFile;
      for (const [a, v] of Object.entries(f.balances)) balances.set(a, BigInt(v));
      for (const [a, v] of Object.entries(f.minted)) minted.set(a, BigInt(v));
      revenue = BigInt(f.revenueMicro);
      // a crash lost these jobs: their escrow goes back to their clients
      for (const j of Object.values(f.inFlight)) {
        balances.set(j.client, (balances.get(j.client) ?? 0n) + BigInt(j.maxPriceMicro));
        refundedAtStart++;
      }
    } catch (e) {
      throw new InfermarketError('ERR_VALIDATION', `"--state" ${options.stateFile} is not a cloud ledger file (${(e as Error).message}); move it away or name another file`, { details: { field: 'state' } });
    }
    save(); // the refunds are written before anything else: a second crash must not refund twice
  }

  const balanceOf = (a: string): bigint => balances.get(a) ?? 0n;

  const view = (job: CloudJob, owner: boolean): JobView => ({
    id: job.id,
    model: job.model,
    client: job.client,
    status: job.status,
    failure: job.failure,
    attempt: 0,
    miner: job.startedAtMs !== null ? keys.address : null,
    priceMicro: job.priceMicro.toString(),
    maxPriceMicro: job.maxPriceMicro.toString(),
    audited: false,
    region: null,
    submittedAtMs: job.submittedAtMs,
    finishedAtMs: job.finishedAtMs,
    ttftMs: job.ttftMs,
    latencyMs: job.latencyMs,
    output: owner ? job.output : null,
    result: owner ? job.result : null,
    receipt: owner ? job.receipt : null,
  });

  const send = (ws: WebSocket, m: JobStreamMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };

  const finish = (job: CloudJob, status: 'settled' | 'failed', failure: string | null): void => {
    job.status = status;
    job.failure = failure;
    counted[status]++;
    job.finishedAtMs = now();
    job.latencyMs = job.finishedAtMs - job.submittedAtMs;
    // settle: the fixed price goes to the cloud, the rest of the escrow back to the client; failed: all back
    const paid = status === 'settled' ? job.priceMicro : 0n;
    escrow -= job.maxPriceMicro;
    revenue += paid;
    balances.set(job.client, balanceOf(job.client) + job.maxPriceMicro - paid);
    const len = status === 'settled' && job.output ? outputLength(job.input, job.output, specs.get(job.model)?.outputs[0] as never) : null;
    const body = {
      jobId: job.id,
      model: job.model,
      client: job.client,
      inputHash: job.inputHash,
      outputHash: status === 'settled' && job.output ? hashPayload(job.output) : null,
      miner: keys.address,
      status,
      priceMicro: paid.toString(),
      paidMicro: paid.toString(),
      audited: false,
      finishedAtMs: job.finishedAtMs,
      // the cloud checks nothing: the receipt says so
      verification: 'none',
      verdict: 'unchecked',
      checkedBy: [] as string[],
      auditors: [] as string[],
      outputLength: len ? len.length : null,
      expectedLength: len ? len.expected : null,
    };
    job.receipt = sealEnvelope(keys, 'job.receipt', body as unknown as Canonical) as Envelope<'job.receipt'>;
    const final = view(job, true);
    for (const ws of job.watchers) {
      send(ws, { type: 'done', jobId: job.id, job: final });
      ws.close(1000, 'job finished');
    }
    job.watchers.clear();
    save();
    finishedOrder.push(job.id);
    while (finishedOrder.length > CLOUD_DEFAULTS.maxFinishedJobs) jobs.delete(finishedOrder.shift()!);
    // the tokens stay: a client whose stream connects after the job finished still receives them, then `done`
  };

  const execute = async (job: CloudJob): Promise<void> => {
    job.status = 'running';
    job.startedAtMs = now();
    try {
      const r = await options.executor.execute({
        model: job.model,
        variant,
        input: job.input,
        onToken: (t) => {
          job.ttftMs ??= now() - job.submittedAtMs;
          const m: JobStreamMessage = { type: 'token', jobId: job.id, index: t.index, token: t.token, text: t.text };
          if (job.tokens.length < 1024) job.tokens.push(m);
          for (const ws of job.watchers) send(ws, m);
        },
      });
      job.ttftMs ??= now() - job.submittedAtMs;
      job.output = r.output;
      job.result = sealEnvelope(keys, 'job.result', { jobId: job.id, inputHash: job.inputHash, outputHash: hashPayload(r.output) }) as Envelope<'job.result'>;
      for (const ws of job.watchers) send(ws, { type: 'result', jobId: job.id, output: r.output });
      finish(job, 'settled', null);
    } catch (e) {
      finish(job, 'failed', `execution-error: ${(e as Error).message}`);
    }
  };

  const pump = (): void => {
    while (!closed && running < concurrency && queue.length > 0) {
      const job = queue.shift()!;
      running++;
      void execute(job).finally(() => {
        running--;
        pump();
      });
    }
  };

  const grantOf = (headers: Record<string, string | string[] | undefined>, query: string | undefined): ReadGrant | null => {
    const h = headers[READ_TOKEN_HEADER];
    const token = (Array.isArray(h) ? h[0] : h) ?? query ?? null;
    if (token === null || token === '') return null;
    const g = openReadToken(token);
    const t = now();
    if (g.expiresAtMs < t) throw new InfermarketError('ERR_UNAUTHENTICATED', `the read token expired at ${g.expiresAtMs}; it is now ${t}: sign a new one`, { details: { field: READ_TOKEN_HEADER } });
    if (g.expiresAtMs > t + ttlMs) throw new InfermarketError('ERR_VALIDATION', `the read token's "expiresAtMs" may be at most ${ttlMs} ms ahead of now (${t}), got ${g.expiresAtMs}`, { details: { field: READ_TOKEN_HEADER } });
    return g;
  };
  const ownerOf = (g: ReadGrant | null, job: CloudJob): boolean => {
    if (g === null) return false;
    if (g.address !== job.client || (g.jobId !== job.id && g.jobId !== READ_ALL_JOBS)) {
      throw new InfermarketError('ERR_UNAUTHENTICATED', `the read token is signed by ${g.address} for job ${JSON.stringify(g.jobId)}; job ${job.id} belongs to ${job.client}`, { details: { field: READ_TOKEN_HEADER } });
    }
    return true;
  };
  const jobOf = (id: string): CloudJob => {
    const job = jobs.get(id);
    if (!job) throw new InfermarketError('ERR_UNKNOWN_JOB', `no job with id ${JSON.stringify(id)}`, { details: { field: 'id' } });
    return job;
  };

  const stats = (): CloudStats => {
    let bal = 0n;
    for (const v of balances.values()) bal += v;
    let mint = 0n;
    for (const v of minted.values()) mint += v;
    return {
      kind: 'cloud',
      variant,
      verification: 'none',
      pricesMicro: Object.fromEntries([...prices].map(([m, p]) => [m, p.toString()])),
      jobs: { submitted: counted.submitted, settled: counted.settled, failed: counted.failed, queued: queue.length, running, refundedAtStart },
      ledger: { mintedMicro: mint.toString(), balancesMicro: bal.toString(), escrowMicro: escrow.toString(), revenueMicro: revenue.toString(), conserved: mint === bal + escrow + revenue },
    };
  };

  const app = fastify({
    logger: false,
    bodyLimit: CLOUD_DEFAULTS.bodyLimitBytes,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: 256 },
    frameworkErrors,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  app.server.on('clientError', clientErrorHandler);
  installErrorHandling(app as unknown as FastifyInstance);

  app.get('/v1/health', async () => ({ ok: true, kind: 'cloud', nowMs: now(), seq: counted.submitted, marketKey: key, verification: 'none' }));
  app.get('/v1/models', async () => ({
    models: [...specs.values()].map((m: ModelSpec) => ({ id: m.id, kind: m.kind, description: m.description, inputs: m.inputs, outputs: m.outputs, variants: [variant], priceMicro: prices.get(m.id)!.toString() })),
  }));
  app.get('/v1/stats', async () => stats());

  app.post('/v1/faucet', { schema: { body: FaucetBody } }, async (req) => {
    const { address, amountMicro } = req.body as { address: string; amountMicro: string };
    const amount = BigInt(amountMicro);
    const already = minted.get(address) ?? 0n;
    if (already + amount > faucetCap) {
      throw new InfermarketError('ERR_FAUCET_CAP', `faucet cap ${faucetCap} for ${address} would be exceeded (already minted ${already}, asked ${amount})`, { details: { field: 'amountMicro' } });
    }
    minted.set(address, already + amount);
    balances.set(address, balanceOf(address) + amount);
    save();
    return { address, balanceMicro: balanceOf(address).toString() };
  });

  app.get('/v1/accounts/:address', { schema: { params: AddressParams } }, async (req) => {
    const a = (req.params as { address: string }).address;
    return { address: a, balanceMicro: balanceOf(a).toString(), stakeMicro: '0', unbondingMicro: '0', faucetMintedMicro: (minted.get(a) ?? 0n).toString(), node: null };
  });

  app.post('/v1/jobs', { schema: { body: SubmitJobBody } }, async (req, reply) => {
    const { envelope, input } = req.body as { envelope: Envelope<'job.submit'>; input: JobInput };
    const { address } = openEnvelope(envelope as unknown as Envelope);
    const b = envelope.body as unknown as SubmitBody;
    const spec = specs.get(b.model);
    if (!spec) throw new InfermarketError('ERR_UNKNOWN_MODEL', `"envelope.body.model" must be one of ${[...specs.keys()].join(', ')}, got ${JSON.stringify(b.model)}`, { details: { field: 'model' } });
    // a batch job is priced per row here too, by the market's own rows check (its default maxBatchRows)
    const rows = checkBatchRows(DEFAULT_PARAMS, b.rows, { private: b.private === true });
    checkInputRows(spec, input, rows);
    validateInput(spec, input, { private: b.private === true });
    if (b.private === true) throw new InfermarketError('ERR_VALIDATION', '"envelope.body.private": the cloud baseline does not take private jobs (it runs your input itself, in the clear)', { details: { field: 'private' } });
    if (b.verification !== undefined && b.verification !== 'none') {
      throw new InfermarketError('ERR_VALIDATION', `"envelope.body.verification" must be "none" (or absent) here: the cloud baseline verifies nothing, got ${JSON.stringify(b.verification)}`, { details: { field: 'verification' } });
    }
    const h = hashPayload(input);
    if (h !== b.inputHash) throw new InfermarketError('ERR_VALIDATION', `"envelope.body.inputHash" must be sha256 of the canonical input ${h}, got ${b.inputHash}`, { details: { field: 'inputHash' } });
    const t = now();
    const signed = { by: address, nonce: b.nonce, expiresAtMs: b.expiresAtMs };
    if (t - prunedAtMs >= ttlMs) {
      pruneNonces(replay, t);
      prunedAtMs = t;
    }
    const seq = checkNonce(replay, signed, t);
    if (jobs.has(b.jobId)) throw new InfermarketError('ERR_DUPLICATE', `"envelope.body.jobId" ${b.jobId} is already in use`, { details: { field: 'jobId' } });
    const price = prices.get(b.model)! * BigInt(rows);
    const maxPrice = BigInt(b.maxPriceMicro) * BigInt(rows);
    if (maxPrice < price) throw new InfermarketError('ERR_PRICE_TOO_HIGH', `the cloud's price for "${b.model}" is ${price / BigInt(rows)} per row, above "envelope.body.maxPriceMicro" ${maxPrice / BigInt(rows)}`, { details: { field: 'maxPriceMicro' } });
    if (balanceOf(address) < maxPrice) {
      throw new InfermarketError('ERR_INSUFFICIENT_BALANCE', `balance ${balanceOf(address)} of ${address} cannot cover "maxPriceMicro" ${maxPrice}; ask the faucet (POST /v1/faucet)`, { details: { field: 'maxPriceMicro' } });
    }
    rememberNonce(replay, signed, seq);
    balances.set(address, balanceOf(address) - maxPrice);
    escrow += maxPrice;
    const job: CloudJob = {
      id: b.jobId,
      model: b.model,
      client: address,
      inputHash: b.inputHash,
      input,
      maxPriceMicro: maxPrice,
      priceMicro: price,
      status: 'queued',
      failure: null,
      submittedAtMs: t,
      startedAtMs: null,
      finishedAtMs: 0,
      ttftMs: null,
      latencyMs: null,
      output: null,
      result: null,
      receipt: null,
      tokens: [],
      watchers: new Set(),
    };
    jobs.set(job.id, job);
    counted.submitted++;
    save();
    queue.push(job);
    pump();
    reply.status(202);
    return view(job, true);
  });

  app.get('/v1/jobs', { schema: { querystring: JobListQuery } }, async (req) => {
    const q = req.query as { read?: string; status?: string; limit?: string; client?: string };
    const g = grantOf(req.headers, q.read);
    if (!g || g.jobId !== READ_ALL_JOBS) throw new InfermarketError('ERR_UNAUTHENTICATED', 'listing jobs needs a read token for all of your jobs (jobId "*")', { details: { field: READ_TOKEN_HEADER } });
    const limit = Math.min(1000, Math.max(1, Number(q.limit ?? 100)));
    const mine = [...jobs.values()].filter((j) => j.client === g.address && (!q.status || j.status === q.status)).reverse().slice(0, limit);
    return { jobs: mine.map((j) => { const { output: _o, result: _r, receipt: _c, ...rest } = view(j, false); return rest; }) };
  });

  app.get('/v1/jobs/:id', { schema: { params: JobParams, querystring: JobReadQuery } }, async (req) => {
    const job = jobOf((req.params as { id: string }).id);
    return view(job, ownerOf(grantOf(req.headers, (req.query as { read?: string }).read), job));
  });

  // the job's token stream, for its client only
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const reject = (status: number, code: string, message: string): void => {
      const body = JSON.stringify({ error: { code, message } });
      socket.end(`HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    const [path, qs] = (req.url ?? '').split('?');
    const m = STREAM_PATH.exec(path ?? '');
    if (!m) return reject(404, 'ERR_NOT_FOUND', `no WebSocket route ${path}`);
    const job = jobs.get(m[1]!);
    if (!job) return reject(404, 'ERR_UNKNOWN_JOB', `no job with id ${JSON.stringify(m[1])}`);
    try {
      if (!ownerOf(grantOf(req.headers, new URLSearchParams(qs ?? '').get('read') ?? undefined), job)) return reject(401, 'ERR_UNAUTHENTICATED', 'a job stream needs the job\'s read token');
    } catch (e) {
      const err = e as InfermarketError;
      return reject(err.status ?? 401, err.code ?? 'ERR_UNAUTHENTICATED', err.message);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      for (const t of job.tokens) send(ws, t);
      if (job.status === 'settled' || job.status === 'failed') {
        send(ws, { type: 'done', jobId: job.id, job: view(job, true) });
        ws.close(1000, 'job finished');
        return;
      }
      job.watchers.add(ws);
      ws.on('close', () => job.watchers.delete(ws));
      ws.on('error', () => job.watchers.delete(ws));
    });
  });

  return {
    app: app as unknown as FastifyInstance,
    key,
    address: keys.address,
    stats,
    async close() {
      closed = true;
      for (const c of wss.clients) c.terminate();
      wss.close();
      await app.close();
      await options.executor.close();
    },
  };
}
