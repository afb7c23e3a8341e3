import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import {
  encryptionKeyPairFromSeed,
  hashPayload,
  InfermarketError,
  keyPairFromSeed,
  makeReadToken,
  nonceSequence,
  READ_ALL_JOBS,
  READ_TOKEN_HEADER,
  seal,
  sealEnvelope,
  sealJson,
  unsealJson,
  verifyRegistration,
  type EncryptionKeyPair,
  type Canonical,
  type JobInput,
  type JobOutput,
  type JobStreamMessage,
  type JobView,
  type KeyPair,
  type SubmitBody,
  type Envelope,
  type VerificationLevel,
} from '@infermarket/protocol';
import { requestJson as requestJsonPlain, type RequestOptions } from './wire-json.js';
import { openClientSession, type ClientSession } from './session.js';

/** Options for `createClient`. */
export interface ClientOptions {
  /** The market's HTTP base URL, e.g. `http://127.0.0.1:8545`. */
  url: string;
  /** The client's key pair, or its 32-byte seed. */
  key: KeyPair | Uint8Array;
  /** How long signed messages stay valid (default 20 s; the market refuses more than `messageTtlMs`). */
  ttlMs?: number;
  /** PEM certificate to trust for an https/wss market (`infermarket market --tls` writes it): explicit trust, verification stays on. */
  ca?: string | Buffer;
  /**
   * Private jobs: called when a party's job key cannot be handed out (e.g. `ERR_KEY_MISMATCH`, a registration
   * whose signature or signer does not check out: the key is then NOT sent). Default: ignored.
   */
  onPrivacyError?: (e: InfermarketError, jobId: string) => void;
  /**
   * How jobs travel. `session` (default): one persistent WebSocket (`/v1/session`) carries every submit,
   * pushed result, token and key request of this client — no socket or poll per job. `http`: the per-job
   * API (`POST /v1/jobs`, polling `GET /v1/jobs/:id`, a `/v1/jobs/:id/stream` socket per streamed job),
   * kept for compatibility and for tools without WebSockets.
   */
  transport?: 'session' | 'http';
}

/** A job to submit. */
export interface SubmitRequest {
  model: string;
  /** The plaintext input; for a private job the SDK seals it before it leaves (docs/privacy.md). */
  input: JobInput;
  maxPriceMicro: bigint;
  regions?: string[];
  /**
   * Private job: the input is sealed to a fresh per-job key; the SDK hands that key, sealed, only to the
   * parties the market names (the assigned miner, an auditing validator, referees) after checking their
   * signed registrations, and opens the sealed output for you (`wait`, `stream`, `openOutput`).
   */
  private?: boolean;
  /** How the output is checked, priced in the escrow (default `sampled`; docs/verification.md). */
  verification?: VerificationLevel;
  /**
   * Batch job: input rows, the tensor input's first dim (default: that dim, so a 32-row tensor is a 32-row job).
   * `maxPriceMicro` is then per row: the job escrows `maxPriceMicro × rows` (plus fees) and pays its miner's
   * offer × rows. One row for prompts and private jobs.
   */
  rows?: number;
  /** Defaults to a fresh random id. */
  jobId?: string;
}

/** What `submit` returns. */
export interface Submitted {
  jobId: string;
  inputHash: string;
  /** Local wall time the submission was sent. */
  sentAtMs: number;
}

/** One streamed token. */
export interface StreamedToken {
  index: number;
  token: number;
  text: string;
  /** Local wall time it arrived. */
  atMs: number;
}

/** An account as the market reports it. */
export interface AccountInfo {
  address: string;
  balanceMicro: bigint;
  raw: Record<string, unknown>;
}

/** The client SDK: submit, wait, stream, balance, faucet. */
export interface Client {
  readonly url: string;
  readonly address: string;
  readonly keys: KeyPair;
  /** Ask the faucet for mUSD (to this client, or to `address`). */
  faucet(amountMicro: bigint, address?: string): Promise<Record<string, unknown>>;
  /** Balance of this client's (or another) account. */
  balance(address?: string): Promise<bigint>;
  account(address?: string): Promise<AccountInfo>;
  /** Sign and submit a job; its max price is escrowed. */
  submit(req: SubmitRequest): Promise<Submitted>;
  /** The job as the market sees it now (with this client's read token: output, result and receipt included). */
  job(jobId: string): Promise<JobView>;
  /** This client's jobs, newest first (a read token for all its jobs). */
  jobs(options?: { status?: string; limit?: number }): Promise<Record<string, unknown>[]>;
  /**
   * A short-lived read token for one of this client's jobs (or `*`: all of them), for raw HTTP/WebSocket
   * calls: header `x-infermarket-read` or query `read` (docs/privacy.md).
   */
  readToken(jobId: string): Promise<string>;
  /** Poll until the job is settled or failed. */
  wait(jobId: string, options?: { timeoutMs?: number; pollMs?: number }): Promise<JobView>;
  /** Receive the job's tokens as the miner streams them, then the finished job. */
  stream(
    jobId: string,
    options?: {
      onToken?: (t: StreamedToken) => void;
      onRestart?: (attempt: number) => void;
      /** The miner's committed output, as soon as the market has it (before settlement); `atMs` is local wall time. */
      onResult?: (r: { output: JobOutput; atMs: number }) => void;
      timeoutMs?: number;
    },
  ): Promise<JobView>;
  /** The market's clock now (it signs expiries against it). */
  marketNow(): Promise<number>;
  /** Close the client's session socket (if one is open); the client may not be used for jobs afterwards. */
  close(): void;
  /**
   * Open the sealed output of one of this client's private jobs and check it against the hash the miner
   * signed (`expectedHash`, when given). Plaintext outputs are returned as they are.
   * @throws InfermarketError `ERR_DECRYPT` when it cannot be opened or does not match the hash.
   */
  openOutput(jobId: string, output: JobOutput, expectedHash?: string | null): JobOutput;
}

const FINISHED = new Set(['settled', 'failed']);

/**
 * A client of one market. Signs submissions with its key; amounts are bigint micro-mUSD.
 * The client learns the market's clock from `GET /v1/health` (`nowMs`) so that signed expiries are valid
 * whether the market counts time from its start or from the epoch.
 * @example
 * const c = createClient({ url, key: seedFromLabel('alice') });
 * await c.faucet(10_000_000n);
 * const { jobId } = await c.submit({ model: 'digits', input, maxPriceMicro: 50_000n });
 * const job = await c.wait(jobId);
 */
export function createClient(options: ClientOptions): Client {
  const keys = options.key instanceof Uint8Array ? keyPairFromSeed(options.key) : options.key;
  const url = options.url.replace(/\/+$/, '');
  const ttlMs = options.ttlMs ?? 20_000;
  const transport = options.transport ?? 'session';
  if (transport !== 'session' && transport !== 'http') {
    throw new InfermarketError('ERR_VALIDATION', `"transport" must be "session" or "http", got ${JSON.stringify(transport)}`, { details: { field: 'transport' } });
  }
  // the market keeps a window of sequence numbers per signer (replay protection): number every signed body
  const nextNonce = nonceSequence(Date.now());
  let clockOffset: number | null = null;
  // every call to this market trusts the given CA (if any), explicitly
  const requestJson = <T>(base: string, path: string, o: RequestOptions = {}): Promise<T> => requestJsonPlain<T>(base, path, options.ca !== undefined ? { ...o, ca: options.ca } : o);
  const wsOptions = options.ca !== undefined ? { ca: options.ca } : {};
  /** Private jobs of this client: the job key (seed and pair) each one's input is sealed to. */
  const jobKeys = new Map<string, { seed: Uint8Array; keys: EncryptionKeyPair }>();

  let syncedAtMs = 0;
  let session: ClientSession | null = null;
  const sessionOf = async (): Promise<ClientSession> => {
    if (!session) {
      session = openClientSession({
        url,
        keys,
        ttlMs,
        nextNonce,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        onKeyRequest: (m) => void giveKey(m.jobId, m),
      });
    }
    await session.ready();
    return session;
  };
  const marketNow = async (): Promise<number> => {
    // a logged-in session learned the clock at login (again after every reconnect)
    const viaSession = session?.connected() ? session.clockOffset() : null;
    if (viaSession !== null) return Date.now() + viaSession;
    // re-learn the clock now and then: after a market restart its clock is behind by the time it was down
    if (clockOffset === null || Date.now() - syncedAtMs > 10_000) {
      syncedAtMs = Date.now();
      const before = Date.now();
      const h = await requestJson<Record<string, unknown>>(url, '/v1/health').catch(() => ({}) as Record<string, unknown>);
      const after = Date.now();
      const now = typeof h.nowMs === 'number' ? h.nowMs : null;
      if (now === null) syncedAtMs = 0; // unreachable: keep what we knew and ask again next time
      clockOffset = now === null ? (clockOffset ?? 0) : Math.round(now - (before + after) / 2);
    }
    return Date.now() + clockOffset;
  };

  const openOutput: Client['openOutput'] = (jobId, output, expectedHash) => {
    if (output.kind !== 'sealed') return output;
    const k = jobKeys.get(jobId);
    if (!k) throw new InfermarketError('ERR_DECRYPT', `job ${jobId} is not a private job of this client: no key to open its output`);
    const plain = unsealJson<JobOutput>(k.keys, output.sealed);
    if (expectedHash && hashPayload(plain) !== expectedHash) {
      throw new InfermarketError('ERR_DECRYPT', `the opened output of job ${jobId} hashes to ${hashPayload(plain)}, not the ${expectedHash} the miner signed`);
    }
    return plain;
  };
  /** The job view with a private job's output opened (checked against the miner's signed output hash). */
  const opened = (view: JobView): JobView => {
    if (!view.output || view.output.kind !== 'sealed' || !jobKeys.has(view.id)) return view;
    const signed = (view.result?.body as { outputHash?: string } | undefined)?.outputHash ?? null;
    return { ...view, output: openOutput(view.id, view.output, signed) };
  };

  /** Read tokens by job, reused until half their life is gone. */
  const tokens = new Map<string, { token: string; renewAtMs: number }>();
  const readToken = async (jobId: string): Promise<string> => {
    const hit = tokens.get(jobId);
    if (hit && Date.now() < hit.renewAtMs) return hit.token;
    const life = Math.min(ttlMs, 60_000);
    const token = makeReadToken(keys, jobId, (await marketNow()) + life);
    if (tokens.size > 1_000) tokens.clear();
    tokens.set(jobId, { token, renewAtMs: Date.now() + life / 2 });
    return token;
  };
  const jobPath = async (jobId: string, suffix = ''): Promise<string> => `/v1/jobs/${encodeURIComponent(jobId)}${suffix}?read=${await readToken(jobId)}`;

  const getJob = async (jobId: string): Promise<JobView> => opened(await requestJson<JobView>(url, await jobPath(jobId)));

  /** Private jobs: the key slots already handed out (or refused) per job. */
  const keySlots = new Map<string, { served: Set<string>; refused: Set<string> }>();
  /** Check the party's signed registration and hand it the job key sealed to its encryption key. */
  const giveKey = async (jobId: string, m: Extract<JobStreamMessage, { type: 'key.request' }>): Promise<void> => {
    const k = jobKeys.get(jobId);
    if (!k) return;
    let slots = keySlots.get(jobId);
    if (!slots) keySlots.set(jobId, (slots = { served: new Set(), refused: new Set() }));
    const slot = `${m.party}/${m.purpose}`;
    if (slots.served.has(slot) || slots.refused.has(slot)) return;
    slots.served.add(slot);
    try {
      const reg = verifyRegistration(m.registration as never, m.party);
      const sealed = seal(reg.encryptionKey, k.seed, randomBytes(56));
      const body = { jobId, to: m.party, sealed, nonce: nextNonce(), expiresAtMs: (await marketNow()) + ttlMs };
      const envelope = sealEnvelope(keys, 'job.key', body as unknown as Canonical);
      if (transport === 'session') await (await sessionOf()).sendKey(envelope as Envelope<'job.key'>);
      else await requestJson(url, `/v1/jobs/${encodeURIComponent(jobId)}/keys`, { body: { envelope } });
    } catch (e) {
      slots.served.delete(slot);
      const err = e instanceof InfermarketError ? e : new InfermarketError('ERR_INTERNAL', (e as Error).message, { cause: e });
      if (err.code === 'ERR_KEY_MISMATCH') slots.refused.add(slot); // never retry a key that does not check out
      options.onPrivacyError?.(err, jobId);
    }
  };

  /**
   * Private jobs over HTTP: watch the job's stream for key requests and answer them (`giveKey`). Reconnects
   * until the job is finished. (A session gets the key requests on its one socket.)
   */
  const serveKeys = (jobId: string): void => {
    let finished = false;
    const connect = (attempt: number): void => {
      void readToken(jobId).then(
        (token) => open(attempt, `${url.replace(/^http/, 'ws')}/v1/jobs/${encodeURIComponent(jobId)}/stream`, token),
        () => setTimeout(() => connect(attempt + 1), 250).unref(),
      );
    };
    const open = (attempt: number, wsUrl: string, token: string): void => {
      const ws = new WebSocket(wsUrl, { ...wsOptions, headers: { [READ_TOKEN_HEADER]: token } });
      // a restarted market forgets the keys it held and asks again on the new connection
      ws.on('open', () => keySlots.get(jobId)?.served.clear());
      ws.on('message', (data) => {
        let m: JobStreamMessage;
        try {
          m = JSON.parse(String(data)) as JobStreamMessage;
        } catch {
          return;
        }
        if (m.type === 'key.request') void giveKey(jobId, m);
        else if (m.type === 'done' || m.type === 'error') finished = true;
      });
      ws.on('error', () => undefined);
      ws.on('close', () => {
        if (finished || attempt > 200) {
          keySlots.delete(jobId);
          return jobKeys.size > 1000 ? void jobKeys.delete(jobId) : undefined;
        }
        setTimeout(() => connect(attempt + 1), 250).unref();
      });
    };
    connect(0);
  };

  /** A job's progress (a token, a restart, the result) to the stream's callbacks: one rule for the session and the per-job socket. */
  const deliverProgress = (jobId: string, m: Extract<JobStreamMessage, { type: 'token' | 'restart' | 'result' }>, o: NonNullable<Parameters<Client['stream']>[1]>): void => {
    if (m.type === 'token') o.onToken?.({ index: m.index, token: m.token, text: m.text, atMs: Date.now() });
    else if (m.type === 'restart') o.onRestart?.(m.attempt);
    else {
      try {
        o.onResult?.({ output: openOutput(jobId, m.output), atMs: Date.now() });
      } catch {
        // a sealed output that does not open is not this client's result: the receipt will tell
      }
    }
  };

  /**
   * Follow a job on the session until `done` (or the timeout): tokens, restarts and the result go to the
   * callbacks. A job not submitted on this session is asked for with `job.watch` (it must be this client's).
   */
  const followOnSession = async (jobId: string, o: Parameters<Client['stream']>[1] = {}): Promise<JobView> => {
    const s = await sessionOf();
    const timeoutMs = o.timeoutMs ?? 60_000;
    let off: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const done = new Promise<JobView>((resolve, reject) => {
        timer = setTimeout(() => reject(new InfermarketError('ERR_LATE', `job ${jobId} did not finish within ${timeoutMs} ms`)), timeoutMs);
        off = s.on(jobId, (m) => {
          switch (m.type) {
            case 'token':
            case 'restart':
            case 'result':
              deliverProgress(jobId, m, o);
              return;
            case 'done':
              resolve(opened(m.job));
              return;
            default:
              return;
          }
        });
      });
      if (!submittedHere.has(jobId)) await s.watch(jobId);
      return await done;
    } finally {
      clearTimeout(timer);
      off();
      submittedHere.delete(jobId);
      keySlots.delete(jobId);
      if (jobKeys.size > 1000) jobKeys.delete(jobId);
    }
  };
  /** Jobs submitted on this client's session and not yet followed to the end. */
  const submittedHere = new Set<string>();

  const wait: Client['wait'] = async (jobId, o = {}) => (transport === 'session' ? followOnSession(jobId, { timeoutMs: o.timeoutMs ?? 60_000 }) : opened(await waitRaw(jobId, o)));
  const waitRaw: Client['wait'] = async (jobId, o = {}) => {
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    const pollMs = o.pollMs ?? 50;
    let status = 'unknown';
    for (;;) {
      try {
        const job = await requestJson<JobView>(url, await jobPath(jobId));
        status = job.status;
        if (FINISHED.has(job.status)) return job;
      } catch (e) {
        // the market may be restarting: keep polling until the deadline; other errors are final
        if (!(e instanceof InfermarketError) || e.details?.status !== undefined) throw e;
        status = 'market unreachable';
      }
      if (Date.now() > deadline) throw new InfermarketError('ERR_LATE', `job ${jobId} did not finish within ${o.timeoutMs ?? 60_000} ms (status ${status})`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };

  const account = async (address = keys.address): Promise<AccountInfo> => {
    const raw = await requestJson<Record<string, unknown>>(url, `/v1/accounts/${encodeURIComponent(address)}`);
    const bal = raw.balanceMicro ?? (raw.account as Record<string, unknown> | undefined)?.balanceMicro ?? '0';
    return { address, balanceMicro: BigInt(String(bal)), raw };
  };

  return {
    url,
    address: keys.address,
    keys,
    faucet: (amountMicro, address = keys.address) => requestJson(url, '/v1/faucet', { body: { address, amountMicro } }),
    balance: async (address) => (await account(address)).balanceMicro,
    account,
    async submit(req) {
      const jobId = req.jobId ?? `j${randomBytes(8).toString('hex')}`;
      let input = req.input;
      const rows = req.rows ?? (input.kind === 'tensor' ? (input.tensor.dims[0] ?? 1) : 1);
      if (req.private) {
        // a fresh key per job: the input is sealed to it now; the key itself goes only to the parties that need it
        const seed = new Uint8Array(randomBytes(32));
        const jk = encryptionKeyPairFromSeed(seed);
        jobKeys.set(jobId, { seed, keys: jk });
        input = input.kind === 'sealed' ? input : { kind: 'sealed', sealed: sealJson(jk.publicKey, input as unknown as Canonical, randomBytes(56)) };
      }
      const inputHash = hashPayload(input);
      // log in first: the session's login tells the market clock (no separate /v1/health round trip)
      const s = transport === 'session' ? await sessionOf() : null;
      const body: SubmitBody = {
        jobId,
        model: req.model,
        inputHash,
        maxPriceMicro: req.maxPriceMicro,
        nonce: nextNonce(),
        expiresAtMs: (await marketNow()) + ttlMs,
        ...(req.regions && req.regions.length ? { regions: req.regions } : {}),
        ...(req.private ? { private: true } : {}),
        ...(req.verification !== undefined ? { verification: req.verification } : {}),
        // one row is the default the rules assume: sent only for a batch (or when asked explicitly)
        ...(rows !== 1 || req.rows !== undefined ? { rows } : {}),
      };
      const envelope = sealEnvelope(keys, 'job.submit', body as unknown as Canonical);
      if (s) {
        const sentAtMs = Date.now();
        submittedHere.add(jobId);
        try {
          await s.submit(jobId, envelope as Envelope<'job.submit'>, input);
        } catch (e) {
          submittedHere.delete(jobId);
          jobKeys.delete(jobId);
          throw e;
        }
        return { jobId, inputHash, sentAtMs };
      }
      const sentAtMs = Date.now();
      try {
        await requestJson(url, '/v1/jobs', { body: { envelope, input } });
      } catch (e) {
        jobKeys.delete(jobId);
        throw e;
      }
      if (req.private) serveKeys(jobId);
      return { jobId, inputHash, sentAtMs };
    },
    job: getJob,
    async jobs(o = {}) {
      const q = new URLSearchParams({ read: await readToken(READ_ALL_JOBS), ...(o.status ? { status: o.status } : {}), ...(o.limit ? { limit: String(o.limit) } : {}) });
      return (await requestJson<{ jobs: Record<string, unknown>[] }>(url, `/v1/jobs?${q.toString()}`)).jobs;
    },
    readToken,
    wait,
    async stream(jobId, o = {}) {
      if (transport === 'session') return followOnSession(jobId, o);
      const wsUrl = `${url.replace(/^http/, 'ws')}/v1/jobs/${encodeURIComponent(jobId)}/stream`;
      const timeoutMs = o.timeoutMs ?? 60_000;
      let final: JobView | null = null;
      const token = await readToken(jobId);
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(wsUrl, { ...wsOptions, headers: { [READ_TOKEN_HEADER]: token } });
        const timer = setTimeout(() => ws.terminate(), timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        ws.on('message', (data) => {
          let m: JobStreamMessage;
          try {
            m = JSON.parse(String(data)) as JobStreamMessage;
          } catch {
            return;
          }
          switch (m.type) {
            case 'token':
            case 'restart':
            case 'result':
              deliverProgress(jobId, m, o);
              return;
            case 'done':
              final = opened(m.job);
              ws.close();
              return;
            case 'error':
              ws.close();
              return;
            default:
              return;
          }
        });
        ws.on('close', done);
        ws.on('error', done);
      });
      return final ?? wait(jobId, { timeoutMs });
    },
    marketNow,
    openOutput,
    close() {
      session?.close();
      session = null;
    },
  };
}
