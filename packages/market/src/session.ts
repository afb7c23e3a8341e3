import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { InfermarketError, type Envelope, type JobInput, type SessionServerMessage } from '@infermarket/protocol';
import { Compile } from 'typebox/compile';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { MarketCore } from './core.js';
import { CLOSE_CODES, jsonDepthExceeds, MAX_MESSAGE_DEPTH } from './gateway.js';
import { checkLogin } from './login.js';
import type { PrivateJobs } from './private-jobs.js';
import { JobId, JobKeyBodySchema, SubmitJobBody } from './schemas.js';
import type { StreamHub, StreamWatcher } from './stream.js';
import { acceptJobKey, acceptSubmit } from './submit.js';

/** Tunables of client sessions (`/v1/session`). */
export interface SessionOptions {
  /** Largest accepted frame (a submit carries its input): default the HTTP body limit. */
  maxPayloadBytes: number;
  /** Sustained frames per second a session may send (a bucket of 2 s worth); past it: one `ERR_RATE_LIMITED`, close 4029. */
  maxMessagesPerSec?: number;
  /** A session that has not logged in by then is closed (4001). */
  loginTimeoutMs?: number;
  /** Most simultaneous sessions; more are refused at the upgrade (503). */
  maxSessions?: number;
  /** Jobs a session may follow at once (submitted on it or watched); more are `ERR_RATE_LIMITED`. */
  maxJobsPerSession?: number;
  /** Above this many unsent bytes the client is not reading and is disconnected. */
  killBufferedBytes?: number;
}

/** Defaults of `SessionOptions`. */
export const SESSION_DEFAULTS = Object.freeze({
  maxMessagesPerSec: 5_000,
  loginTimeoutMs: 10_000,
  maxSessions: 4_096,
  maxJobsPerSession: 10_000,
  killBufferedBytes: 64 << 20,
});

/** Client sessions: one WebSocket per client carrying signed submits, pushed results and tokens. */
export interface SessionHub {
  /** Upgrade route (`/v1/session`) for the gateway; true when it took the request. */
  route(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  sessions(): number;
  close(): void;
}

const SubmitCheck = Compile(SubmitJobBody);
const KeyCheck = Compile(JobKeyBodySchema);
const JobIdCheck = Compile(JobId);

/** The first schema error as one sentence naming the field (like the HTTP API's `validationMessage`). */
function schemaError(errors: Iterable<{ instancePath: string; message: string; keyword: string; params: Record<string, unknown> }>): InfermarketError {
  for (const e of errors) {
    const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (e.keyword === 'required' && Array.isArray(e.params.requiredProperties)) {
      return new InfermarketError('ERR_VALIDATION', `"${path ? `${path}.` : ''}${String(e.params.requiredProperties[0])}" is required`, { details: { field: path } });
    }
    if (e.keyword === 'additionalProperties' && Array.isArray(e.params.additionalProperties)) {
      return new InfermarketError('ERR_VALIDATION', `"${path ? `${path}.` : ''}${String(e.params.additionalProperties[0])}" is not a known field`, { details: { field: path } });
    }
    return new InfermarketError('ERR_VALIDATION', `"${path || 'frame'}" ${e.message}`, { details: { field: path } });
  }
  return new InfermarketError('ERR_VALIDATION', 'the frame does not match its schema');
}

interface Session {
  ws: WebSocket;
  challenge: string;
  address: string | null;
  openedAtMs: number;
  tokens: number;
  lastRefillMs: number;
  /** Jobs followed: the watcher's unsubscribe function by job id. */
  jobs: Map<string, () => void>;
  watcher: StreamWatcher;
}

/**
 * Serve `/v1/session`. A session is authenticated once, by a signed `auth.login` over a fresh per-connection
 * challenge; after that it receives pushed messages ONLY for jobs whose client is the logged-in key, and every
 * submit must still be a `job.submit` envelope signed by that same key (a captured envelope of someone else
 * is refused, so is a replay: the rules' sequence window). Acks wait for the group commit.
 */
export function createSessionHub(core: MarketCore, ctx: { streams: StreamHub; privateJobs?: PrivateJobs; logger: Logger } & SessionOptions): SessionHub {
  const o = { ...SESSION_DEFAULTS, ...Object.fromEntries(Object.entries(ctx).filter(([, v]) => v !== undefined)) } as Required<SessionOptions> & typeof ctx;
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayloadBytes });
  const all = new Set<Session>();
  const log = ctx.logger;

  const sendText = (s: Session, text: string): void => {
    if (s.ws.readyState !== s.ws.OPEN) return;
    if (s.ws.bufferedAmount > o.killBufferedBytes) {
      log.warn({ address: s.address }, 'client session is not reading; disconnecting');
      s.ws.terminate();
      return;
    }
    s.ws.send(text);
  };
  const send = (s: Session, m: SessionServerMessage): void => sendText(s, JSON.stringify(m));
  const errorOf = (e: unknown, ref: string | undefined): SessionServerMessage => {
    const err = e instanceof InfermarketError ? e : new InfermarketError('ERR_INTERNAL', (e as Error)?.message ?? String(e));
    if (!(e instanceof InfermarketError)) log.error({ err: e }, 'session frame failed');
    return { type: 'error', code: err.code, message: err.message, ...(ref !== undefined ? { ref } : {}) };
  };
  /** Acknowledge once what the frame caused is durable (group commit). */
  const ackWhenDurable = (s: Session, ref: string | undefined, jobId?: string): void => {
    if (ref === undefined) return;
    core.durable().then(
      () => send(s, { type: 'ack', ref, ...(jobId !== undefined ? { jobId } : {}) }),
      (e: unknown) => send(s, errorOf(e, ref)),
    );
  };
  const follow = (s: Session, jobId: string, catchUp: boolean): void => {
    if (s.jobs.has(jobId)) return;
    if (s.jobs.size >= o.maxJobsPerSession) {
      throw new InfermarketError('ERR_RATE_LIMITED', `a session follows at most ${o.maxJobsPerSession} unfinished jobs; wait for some to finish or open another session`);
    }
    const off = ctx.streams.watch(jobId, s.watcher, { catchUp });
    if (off) s.jobs.set(jobId, off);
  };
  const close = (s: Session): void => {
    if (!all.delete(s)) return;
    for (const off of s.jobs.values()) off();
    s.jobs.clear();
  };

  const login = (s: Session, msg: Record<string, unknown>): void => {
    const address = checkLogin(msg.envelope, s.challenge, core.now());
    s.address = address;
    send(s, { type: 'session.ok', address, nowMs: core.now() });
  };

  const onFrame = (s: Session, data: RawData): void => {
    if (s.ws.readyState !== s.ws.OPEN) return;
    const now = Date.now();
    s.tokens = Math.min(o.maxMessagesPerSec * 2, s.tokens + ((now - s.lastRefillMs) * o.maxMessagesPerSec) / 1000);
    s.lastRefillMs = now;
    if (--s.tokens < 0) {
      send(s, { type: 'error', code: 'ERR_RATE_LIMITED', message: `more than ${o.maxMessagesPerSec} frames/s; closing this session (code ${CLOSE_CODES.overBudget})` });
      close(s);
      s.ws.close(CLOSE_CODES.overBudget, 'over the message budget');
      s.ws.pause();
      setTimeout(() => s.ws.terminate(), 1_000).unref();
      return;
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data.toString()) as Record<string, unknown>;
    } catch {
      return send(s, { type: 'error', code: 'ERR_BAD_JSON', message: 'frame is not valid JSON' });
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return send(s, { type: 'error', code: 'ERR_VALIDATION', message: 'frame must be a JSON object with a "type"' });
    const ref = typeof msg.ref === 'string' ? msg.ref.slice(0, 128) : undefined;
    try {
      if (jsonDepthExceeds(msg, MAX_MESSAGE_DEPTH)) throw new InfermarketError('ERR_VALIDATION', `frame nests deeper than ${MAX_MESSAGE_DEPTH} levels`);
      if (msg.type === 'session.login') return login(s, msg);
      if (!s.address) throw new InfermarketError('ERR_UNAUTHENTICATED', 'log in first: answer "session.challenge" with a "session.login" frame carrying a signed "auth.login"');
      switch (msg.type) {
        case 'job.submit': {
          const body = { envelope: msg.envelope, input: msg.input };
          if (!SubmitCheck.Check(body)) throw schemaError(SubmitCheck.Errors(body) as never);
          const { jobId } = acceptSubmit(core, msg.envelope as Envelope<'job.submit'>, msg.input as JobInput, { signer: s.address });
          // follow before the batch is written: the job's first pushes (key requests) come with its commit
          follow(s, jobId, false);
          return ackWhenDurable(s, ref, jobId);
        }
        case 'job.watch': {
          if (!JobIdCheck.Check(msg.jobId)) throw new InfermarketError('ERR_VALIDATION', '"jobId" must be a job id', { details: { field: 'jobId' } });
          const job = core.state.jobs.get(msg.jobId);
          if (!job) throw new InfermarketError('ERR_UNKNOWN_JOB', `"jobId": no job ${msg.jobId}`, { details: { field: 'jobId' } });
          if (job.client !== s.address) throw new InfermarketError('ERR_UNAUTHENTICATED', `job ${job.id} is not this session's (${s.address}): a session follows only its own jobs`, { details: { field: 'jobId' } });
          follow(s, job.id, true);
          return ackWhenDurable(s, ref, job.id);
        }
        case 'job.key': {
          const body = { envelope: msg.envelope };
          if (!KeyCheck.Check(body)) throw schemaError(KeyCheck.Errors(body) as never);
          const { jobId } = acceptJobKey(core, ctx.privateJobs, msg.envelope as Envelope<'job.key'>);
          return ackWhenDurable(s, ref, jobId);
        }
        default:
          throw new InfermarketError('ERR_VALIDATION', `"type" must be one of session.login, job.submit, job.watch, job.key, got ${JSON.stringify(msg.type)?.slice(0, 40)}`, { details: { field: 'type' } });
      }
    } catch (e) {
      send(s, errorOf(e, ref));
    }
  };

  wss.on('connection', (ws: WebSocket) => {
    const s: Session = {
      ws,
      challenge: randomBytes(32).toString('hex'),
      address: null,
      openedAtMs: Date.now(),
      tokens: o.maxMessagesPerSec * 2,
      lastRefillMs: Date.now(),
      jobs: new Map(),
      watcher: {
        send: (text) => sendText(s, text),
        end: (jobId) => void s.jobs.delete(jobId),
      },
    };
    all.add(s);
    ws.on('message', (d) => onFrame(s, d));
    ws.on('close', () => close(s));
    ws.on('error', (err) => log.debug({ err }, 'session socket error'));
    send(s, { type: 'session.challenge', challenge: s.challenge, marketKey: core.marketKey });
  });

  const loginTimer = setInterval(() => {
    const now = Date.now();
    for (const s of all) {
      if (!s.address && now - s.openedAtMs > o.loginTimeoutMs) {
        close(s);
        s.ws.close(CLOSE_CODES.loginTimeout, 'log in within the login timeout');
      }
    }
  }, Math.max(250, Math.min(o.loginTimeoutMs, 5_000)));
  loginTimer.unref();

  return {
    route(req, socket, head) {
      if ((req.url ?? '').split('?')[0] !== '/v1/session') return false;
      if (all.size >= o.maxSessions) {
        socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":{"code":"ERR_RATE_LIMITED","message":"too many client sessions"}}');
        socket.destroy();
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return true;
    },
    sessions: () => all.size,
    close() {
      clearInterval(loginTimer);
      for (const s of [...all]) {
        close(s);
        s.ws.terminate();
      }
      wss.close();
    },
  };
}
