import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import {
  hashPayload,
  InfermarketError,
  keyPairFromSeed,
  sealEnvelope,
  type Canonical,
  type JobInput,
  type JobOutput,
  type JobStreamMessage,
  type JobView,
  type KeyPair,
  type SubmitBody,
} from '@infermarket/protocol';
import { requestJson } from './wire-json.js';

/** Options for `createClient`. */
export interface ClientOptions {
  /** The market's HTTP base URL, e.g. `http://127.0.0.1:8545`. */
  url: string;
  /** The client's key pair, or its 32-byte seed. */
  key: KeyPair | Uint8Array;
  /** How long signed messages stay valid (default 20 s; the market refuses more than `messageTtlMs`). */
  ttlMs?: number;
}

/** A job to submit. */
export interface SubmitRequest {
  model: string;
  input: JobInput;
  maxPriceMicro: bigint;
  regions?: string[];
  private?: boolean;
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
  /** The job as the market sees it now. */
  job(jobId: string): Promise<JobView>;
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
  let clockOffset: number | null = null;

  const marketNow = async (): Promise<number> => {
    if (clockOffset === null) {
      const before = Date.now();
      const h = await requestJson<Record<string, unknown>>(url, '/v1/health').catch(() => ({}) as Record<string, unknown>);
      const after = Date.now();
      const now = typeof h.nowMs === 'number' ? h.nowMs : null;
      clockOffset = now === null ? 0 : Math.round(now - (before + after) / 2);
    }
    return Date.now() + clockOffset;
  };

  const getJob = (jobId: string): Promise<JobView> => requestJson<JobView>(url, `/v1/jobs/${encodeURIComponent(jobId)}`);

  const wait: Client['wait'] = async (jobId, o = {}) => {
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    const pollMs = o.pollMs ?? 50;
    let status = 'unknown';
    for (;;) {
      try {
        const job = await getJob(jobId);
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
      const inputHash = hashPayload(req.input);
      const body: SubmitBody = {
        jobId,
        model: req.model,
        inputHash,
        maxPriceMicro: req.maxPriceMicro,
        nonce: randomBytes(12).toString('hex'),
        expiresAtMs: (await marketNow()) + ttlMs,
        ...(req.regions && req.regions.length ? { regions: req.regions } : {}),
        ...(req.private ? { private: true } : {}),
      };
      const envelope = sealEnvelope(keys, 'job.submit', body as unknown as Canonical);
      const sentAtMs = Date.now();
      await requestJson(url, '/v1/jobs', { body: { envelope, input: req.input } });
      return { jobId, inputHash, sentAtMs };
    },
    job: getJob,
    wait,
    async stream(jobId, o = {}) {
      const wsUrl = `${url.replace(/^http/, 'ws')}/v1/jobs/${encodeURIComponent(jobId)}/stream`;
      const timeoutMs = o.timeoutMs ?? 60_000;
      let final: JobView | null = null;
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(wsUrl);
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
              o.onToken?.({ index: m.index, token: m.token, text: m.text, atMs: Date.now() });
              return;
            case 'restart':
              o.onRestart?.(m.attempt);
              return;
            case 'result':
              o.onResult?.({ output: m.output, atMs: Date.now() });
              return;
            case 'done':
              final = m.job;
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
  };
}
