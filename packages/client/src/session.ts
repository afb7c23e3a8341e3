import WebSocket from 'ws';
import {
  InfermarketError,
  ERROR_CODES,
  sealEnvelope,
  type ErrorCode,
  type Envelope,
  type JobInput,
  type JobStreamMessage,
  type KeyPair,
  type SessionServerMessage,
} from '@infermarket/protocol';
import { toWireJson } from './wire-json.js';

/** Options for `openClientSession`. */
export interface ClientSessionOptions {
  /** The market's HTTP base URL; the session is `ws(s)://…/v1/session`. */
  url: string;
  keys: KeyPair;
  /** PEM certificate to trust for a wss market. */
  ca?: string | Buffer;
  /** How long the login signature stays valid (default 20 s). */
  ttlMs?: number;
  /** Next sequence number for a signed body's `nonce` (shared with every other message this key signs). */
  nextNonce: () => string;
  /** Reconnect backoff bounds (default 100 ms … 4 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Answer timeout for a frame (default 30 s). */
  requestTimeoutMs?: number;
  /** Private jobs: a party needs a job's key (every `key.request`, whether or not a handler is set with `on`). */
  onKeyRequest?: (m: Extract<JobStreamMessage, { type: 'key.request' }>) => void;
}

/** One persistent, authenticated connection of a client to the market (docs/api.md, "Client sessions"). */
export interface ClientSession {
  /** Resolves once connected and logged in. */
  ready(): Promise<void>;
  /** Market clock minus local clock, learned at login (null before). */
  clockOffset(): number | null;
  /** Send a signed submission; resolves when the market acknowledges it (it is then in the market's log). */
  submit(jobId: string, envelope: Envelope<'job.submit'>, input: JobInput): Promise<void>;
  /** Follow one of this client's jobs submitted elsewhere. */
  watch(jobId: string): Promise<void>;
  /** A private job's key for one party (`job.key` envelope). */
  sendKey(envelope: Envelope<'job.key'>): Promise<void>;
  /**
   * Receive a job's messages (tokens, result, restart, key requests, done). Messages that arrived before the
   * handler was set are replayed to it first. Returns an unsubscribe function.
   */
  on(jobId: string, handler: (m: JobStreamMessage) => void): () => void;
  connected(): boolean;
  close(): void;
}

interface Pending {
  frame: Record<string, unknown>;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  /** A submit that was sent again after a reconnect: a replay refusal then means it was accepted the first time. */
  resent: boolean;
}

interface JobSlot {
  handler: ((m: JobStreamMessage) => void) | null;
  backlog: JobStreamMessage[];
  /** Highest token index delivered (a reconnect's catch-up resends earlier ones). */
  lastToken: number;
  done: boolean;
}

const MAX_BACKLOG = 2048;
/** Finished jobs nobody asked about are forgotten past this many followed jobs. */
const MAX_JOBS = 10_000;

function asCode(code: unknown): ErrorCode {
  return typeof code === 'string' && code in ERROR_CODES ? (code as ErrorCode) : 'ERR_INTERNAL';
}

/**
 * Open a client session: connect to `/v1/session`, log in with a signed `auth.login` over the connection's
 * challenge, then carry submits (each still a signed envelope), pushed results and streamed tokens for
 * every job of this client over the one socket. Reconnects with backoff; after a reconnect it follows its
 * unfinished jobs again (`job.watch`: what it missed, then live) and re-sends unacknowledged submits.
 */
export function openClientSession(options: ClientSessionOptions): ClientSession {
  const wsUrl = `${options.url.replace(/\/+$/, '').replace(/^http/, 'ws')}/v1/session`;
  const ttlMs = options.ttlMs ?? 20_000;
  const minBackoff = options.reconnectMinMs ?? 100;
  const maxBackoff = options.reconnectMaxMs ?? 4_000;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  let ws: WebSocket | null = null;
  let loggedIn = false;
  let closed = false;
  let offset: number | null = null;
  let backoff = minBackoff;
  let refSeq = 0;
  const pending = new Map<string, Pending>();
  const jobs = new Map<string, JobSlot>();
  let readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let failure: InfermarketError | null = null;

  const slot = (jobId: string): JobSlot => {
    let s = jobs.get(jobId);
    if (!s) jobs.set(jobId, (s = { handler: null, backlog: [], lastToken: -1, done: false }));
    return s;
  };
  const deliver = (m: JobStreamMessage & { jobId: string }): void => {
    if (m.type === 'key.request') options.onKeyRequest?.(m);
    const s = jobs.get(m.jobId);
    if (!s || s.done) return;
    if (m.type === 'token') {
      if (m.index <= s.lastToken) return;
      s.lastToken = m.index;
    } else if (m.type === 'restart') s.lastToken = -1;
    else if (m.type === 'done') s.done = true;
    if (s.handler) s.handler(m);
    else if (s.backlog.length < MAX_BACKLOG || m.type === 'done') s.backlog.push(m);
    if (s.done && s.handler) jobs.delete(m.jobId);
    if (s.done && jobs.size > MAX_JOBS) for (const [id, x] of jobs) if (x.done) jobs.delete(id);
  };

  const write = (frame: Record<string, unknown>): boolean => {
    if (!ws || ws.readyState !== WebSocket.OPEN || !loggedIn) return false;
    ws.send(toWireJson(frame));
    return true;
  };
  const request = (frame: Record<string, unknown>): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const ref = `r${++refSeq}`;
      const full = { ...frame, ref };
      const timer = setTimeout(() => {
        pending.delete(ref);
        reject(new InfermarketError('ERR_TIMEOUT', `the market did not answer ${String(frame.type)} within ${timeoutMs} ms`));
      }, timeoutMs);
      // this timer (not the socket) keeps the process alive while an answer is awaited
      pending.set(ref, { frame: full, resolve, reject, timer, resent: false });
      write(full); // when not connected, sent on login
    });

  const onMessage = (data: WebSocket.RawData): void => {
    let m: SessionServerMessage;
    try {
      m = JSON.parse(String(data)) as SessionServerMessage;
    } catch {
      return;
    }
    switch (m.type) {
      case 'session.challenge': {
        const env = sealEnvelope(options.keys, 'auth.login', { challenge: m.challenge, nonce: options.nextNonce(), expiresAtMs: Date.now() + (offset ?? 0) + ttlMs });
        ws?.send(toWireJson({ type: 'session.login', envelope: env }));
        return;
      }
      case 'session.ok': {
        offset = m.nowMs - Date.now();
        loggedIn = true;
        backoff = minBackoff;
        // follow again what is unfinished, then send what was never acknowledged
        for (const [jobId, s] of jobs) if (!s.done) write({ type: 'job.watch', jobId });
        for (const [, p] of pending) {
          if (p.frame.type === 'job.submit') p.resent = true;
          write(p.frame);
        }
        for (const w of readyWaiters) w.resolve();
        readyWaiters = [];
        return;
      }
      case 'ack': {
        const p = pending.get(m.ref);
        if (!p) return;
        pending.delete(m.ref);
        clearTimeout(p.timer);
        p.resolve();
        return;
      }
      case 'error': {
        const ref = (m as { ref?: string }).ref;
        const p = ref !== undefined ? pending.get(ref) : undefined;
        if (!p) return;
        pending.delete(ref!);
        clearTimeout(p.timer);
        if (p.resent && (m.code === 'ERR_REPLAY' || m.code === 'ERR_DUPLICATE')) {
          // the first copy was written before the connection dropped: the job exists, follow it
          const jobId = (p.frame.envelope as { body: { jobId: string } }).body.jobId;
          request({ type: 'job.watch', jobId }).then(p.resolve, p.reject);
          return;
        }
        p.reject(new InfermarketError(asCode(m.code), m.message, { details: { code: m.code } }));
        return;
      }
      default:
        if ('jobId' in m && typeof m.jobId === 'string') deliver(m as JobStreamMessage & { jobId: string });
    }
  };

  const connect = (): void => {
    if (closed) return;
    const sock = new WebSocket(wsUrl, { ...(options.ca !== undefined ? { ca: options.ca } : {}), perMessageDeflate: false });
    ws = sock;
    // an idle session does not keep the process alive: what waits on it holds a timer of its own
    sock.on('upgrade', (res) => res.socket.unref());
    sock.on('unexpected-response', (req, res) => {
      req.destroy();
      if (res.statusCode === 404) {
        // not a market with client sessions (an older market, or the cloud baseline): say so, do not retry
        closed = true;
        const err = new InfermarketError('ERR_NOT_FOUND', `${wsUrl} has no client sessions (HTTP 404: an older market, or the cloud baseline): create the client with transport: "http"`, { details: { field: 'transport' } });
        for (const w of readyWaiters) w.reject(err);
        readyWaiters = [];
        failure = err;
      }
      sock.emit('close');
    });
    sock.on('message', onMessage);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (ws === sock) {
        ws = null;
        loggedIn = false;
      }
      if (closed) return;
      setTimeout(connect, backoff).unref();
      backoff = Math.min(maxBackoff, backoff * 2);
    });
  };
  connect();

  return {
    ready: () =>
      loggedIn
        ? Promise.resolve()
        : failure
          ? Promise.reject(failure)
          : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              readyWaiters = readyWaiters.filter((w) => w.resolve !== done);
              reject(new InfermarketError('ERR_INTERNAL', `cannot open a client session at ${wsUrl} within ${timeoutMs} ms`));
            }, timeoutMs);
            const done = (): void => {
              clearTimeout(timer);
              resolve();
            };
            readyWaiters.push({
              resolve: done,
              reject: (e) => {
                clearTimeout(timer);
                reject(e);
              },
            });
          }),
    clockOffset: () => offset,
    submit(jobId, envelope, input) {
      slot(jobId);
      return request({ type: 'job.submit', envelope, input }).catch((e: unknown) => {
        jobs.delete(jobId);
        throw e;
      });
    },
    watch(jobId) {
      slot(jobId);
      return request({ type: 'job.watch', jobId });
    },
    sendKey: (envelope) => request({ type: 'job.key', envelope }),
    on(jobId, handler) {
      const s = slot(jobId);
      s.handler = handler;
      const backlog = s.backlog;
      s.backlog = [];
      for (const m of backlog) handler(m);
      if (s.done) jobs.delete(jobId);
      return () => {
        if (jobs.get(jobId) === s) s.handler = null;
      };
    },
    connected: () => loggedIn,
    close() {
      closed = true;
      for (const [, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new InfermarketError('ERR_INTERNAL', 'the client session was closed'));
      }
      pending.clear();
      for (const w of readyWaiters) w.reject(new InfermarketError('ERR_INTERNAL', 'the client session was closed'));
      readyWaiters = [];
      ws?.close();
    },
  };
}
