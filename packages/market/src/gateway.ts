import { bisectMessageFor } from './bisect-messages.js';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { InfermarketError, paramsToJson, sliceRows, type Effect, type Job, type JobInput, type MarketEvent, type Role, type ServerMessage } from '@infermarket/protocol';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { MarketCore } from './core.js';
import { checkLogin } from './login.js';
import { handleNodeMessage, type NodeMessageSinks } from './node-messages.js';
import { createPrivateJobs, type PrivateJobs } from './private-jobs.js';
import { watchRedundant } from './redundant.js';

/** Tunables of the node gateway; the defaults suit a local testnet. */
export interface GatewayOptions {
  /** Ping every this often. */
  heartbeatMs?: number;
  /** A node silent this long is offline and its socket closed. */
  offlineAfterMs?: number;
  /** Largest accepted frame. */
  maxPayloadBytes?: number;
  /**
   * Sustained messages per second a connection may send (a bucket of 2 s worth, charged before a frame
   * is parsed). A connection that runs it dry gets one `ERR_RATE_LIMITED` frame and is closed with
   * `CLOSE_CODES.overBudget` (4029).
   */
  maxMessagesPerSec?: number;
  /** Sustained frame bytes per second a connection may send (bucket of 2 s worth), charged with the messages. */
  maxBytesPerSec?: number;
  /**
   * Malformed messages a connection may send per second (bad JSON, too deep, bad signature, wrong fields or
   * types, not allowed before registering), in a bucket of 10 s worth. Honest nodes send none, so a junk
   * sender is closed (4029) after about `10 ×` this many, however slowly a loaded market reads them.
   * Rule refusals of well-formed messages (a late bid, a duplicate) do not count.
   */
  maxMalformedPerSec?: number;
  /** Above this many unsent bytes, droppable messages (offers) to a node are dropped. */
  maxBufferedBytes?: number;
  /** Above this many unsent bytes the node is not reading at all and is disconnected. */
  killBufferedBytes?: number;
  /** A connection that has not logged in by then is closed. */
  loginTimeoutMs?: number;
  /** Most simultaneous node connections; more are refused at the upgrade. */
  maxConnections?: number;
}

/** Defaults of `GatewayOptions`. */
export const GATEWAY_DEFAULTS = Object.freeze({
  heartbeatMs: 5_000,
  offlineAfterMs: 15_000,
  maxPayloadBytes: 1 << 20,
  maxMessagesPerSec: 2_000,
  maxBytesPerSec: 8 << 20,
  maxMalformedPerSec: 10,
  maxBufferedBytes: 1 << 20,
  killBufferedBytes: 16 << 20,
  loginTimeoutMs: 10_000,
  maxConnections: 4_096,
});

/** WebSocket close codes of `/v1/nodes` (README, "HTTP and WebSocket API"). */
export const CLOSE_CODES = Object.freeze({
  /** Another connection logged in with the same key. */
  replaced: 4000,
  /** No login within `loginTimeoutMs`. */
  loginTimeout: 4001,
  /** The connection ran its message or byte budget dry (`maxMessagesPerSec`, `maxBytesPerSec`). */
  overBudget: 4029,
});

/** Message types a key may send before it is registered: only these. */
const UNREGISTERED_TYPES: ReadonlySet<unknown> = new Set(['auth.login', 'node.register', 'pong']);
/** Message types a registered key may send before it has bonded stake. */
const UNBONDED_TYPES: ReadonlySet<unknown> = new Set(['auth.login', 'node.register', 'pong', 'stake.bond', 'stake.unbond']);
/** Error codes that mean the message itself was malformed or not allowed (an honest node sends none). */
const MALFORMED: ReadonlySet<string> = new Set(['ERR_BAD_JSON', 'ERR_VALIDATION', 'ERR_BAD_ENCODING', 'ERR_BAD_SIGNATURE', 'ERR_UNAUTHENTICATED']);
/** Deepest JSON nesting a node message may have (the deepest real one is 5). */
export const MAX_MESSAGE_DEPTH = 16;

/**
 * Depth of nested arrays/objects in a parsed JSON value, stopping at `limit + 1` (iterative, so a hostile
 * 100,000-deep value costs no stack).
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > limit) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
  }
  return false;
}

/** One node connection. */
export interface NodeSession {
  ws: WebSocket;
  challenge: string;
  address: string | null;
  connectedAtMs: number;
  lastSeenMs: number;
  tokens: number;
  /** Byte budget left (refilled with `tokens`). */
  bytes: number;
  /** Malformed-message budget left (refilled with `tokens`). */
  malformed: number;
  lastRefillMs: number;
}

/** Counters the gateway exposes for metrics. */
export interface GatewayCounters {
  messagesIn: number;
  messagesOut: number;
  dropped: number;
  rateLimited: number;
}

/** Upgrade handler for a path other than /v1/nodes. */
export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer) => boolean;

/** The WebSocket gateway for miners and validators. */
export interface Gateway {
  readonly wss: WebSocketServer;
  readonly counters: GatewayCounters;
  /** Upgrade handler for the HTTP server: routes `/v1/nodes` here and other paths to `routes`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  addRoute(route: UpgradeRoute): void;
  online(address: string): boolean;
  onlineCount(role: Role): number;
  variant(address: string): string | null;
  onNodeStatus(fn: (address: string, online: boolean) => void): void;
  close(): void;
}

/** Create the gateway on a core; `sinks.token` receives relayed tokens for client streams. */
export function createGateway(core: MarketCore, opts: { logger: Logger; onToken: NodeMessageSinks['token']; privateJobs?: PrivateJobs } & GatewayOptions): Gateway {
  const o = { ...GATEWAY_DEFAULTS, ...stripUndefined(opts) };
  const pj = opts.privateJobs ?? createPrivateJobs(core);
  const log = opts.logger;
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayloadBytes });
  const sessions = new Set<NodeSession>();
  const byAddress = new Map<string, NodeSession>();
  const variants = new Map<string, string>();
  const counters: GatewayCounters = { messagesIn: 0, messagesOut: 0, dropped: 0, rateLimited: 0 };
  const routes: UpgradeRoute[] = [];
  const statusListeners: ((a: string, online: boolean) => void)[] = [];

  const send = (s: NodeSession, msg: ServerMessage, droppable = false): void => {
    if (s.ws.readyState !== s.ws.OPEN) return;
    if (s.ws.bufferedAmount > o.killBufferedBytes) {
      log.warn({ address: s.address }, 'node is not reading; disconnecting');
      s.ws.terminate();
      return;
    }
    if (droppable && s.ws.bufferedAmount > o.maxBufferedBytes) {
      counters.dropped++;
      return;
    }
    counters.messagesOut++;
    s.ws.send(JSON.stringify(msg));
  };
  const sendTo = (address: string, msg: ServerMessage, droppable = false): void => {
    const s = byAddress.get(address);
    if (s) send(s, msg, droppable);
  };
  const errorFrame = (e: unknown, ref: string | undefined): ServerMessage => {
    const err = e instanceof InfermarketError ? e : new InfermarketError('ERR_INTERNAL', (e as Error)?.message ?? String(e));
    if (!(e instanceof InfermarketError)) log.error({ err: e }, 'node message failed');
    return { type: 'error', code: err.code, message: err.message, ...(ref !== undefined ? { ref } : {}) };
  };

  /** The variant a node claimed at registration (kept in the file, so it survives a restart). */
  const variantOf = (a: string): string | null => {
    let v = variants.get(a);
    if (v === undefined) {
      v = core.store.getMeta(`variant:${a}`) ?? '';
      variants.set(a, v);
    }
    return v || null;
  };
  const inputOf = (jobId: string): JobInput | undefined => core.payload(jobId, 'input') as JobInput | undefined;
  const assignMsg = (job: Job, miner = job.miner, priceMicro = job.priceMicro): ServerMessage | null => {
    const input = inputOf(job.id);
    if (!input) return null;
    // a private job's miner gets the job only with its key, which the client seals to it after the assignment
    const jobKey = job.private && miner ? pj.key(job.id, miner) : undefined;
    if (job.private && !jobKey) return null;
    return { type: 'job.assign', jobId: job.id, model: job.model, input, inputHash: job.inputHash, priceMicro: priceMicro.toString(), deadlineAtMs: job.deadlineAtMs, private: job.private, ...(jobKey ? { jobKey } : {}) };
  };
  const auditMsg = (job: Job, purpose: 'audit' | 'dispute', deadlineAtMs: number, to: string): ServerMessage | null => {
    const whole = inputOf(job.id);
    if (!whole) return null;
    // a batch job's audit (and dispute) re-executes only its sampled rows (batch.ts); the market compares them row by row
    const input = job.auditRows ? sliceRows(whole, job.auditRows) : whole;
    const jobKey = job.private ? pj.key(job.id, to) : undefined;
    if (job.private && !jobKey) return null;
    // input only: a validator re-executes blind, it never receives the miner's output; it replays the
    // variant the miner claimed, so an honest int8 miner is compared with int8
    const variant = job.miner ? variantOf(job.miner) : null;
    return { type: 'audit.task', jobId: job.id, model: job.model, input, inputHash: job.inputHash, deadlineAtMs, purpose, ...(job.auditRows ? { rows: job.auditRows } : {}), ...(variant ? { variant } : {}), ...(jobKey ? { jobKey } : {}) };
  };

  /** After a (re)login, send the node what it still owes: its assignments, audits and dispute votes. */
  const resume = (address: string): void => {
    const p = core.params;
    for (const job of core.state.jobs.values()) {
      const replica = job.status === 'assigned' ? job.replicas.find((r) => r.miner === address && r.outputHash === null) : undefined;
      if (replica) {
        const m = assignMsg(job, replica.miner, replica.priceMicro);
        if (m) sendTo(address, m);
      } else if (job.status === 'assigned' && job.miner === address && job.verification !== 'redundant') {
        const m = assignMsg(job);
        if (m) sendTo(address, m);
      } else if (job.status === 'auditing' && job.validator === address) {
        const m = auditMsg(job, 'audit', job.committedAtMs + p.auditWindowMs, address);
        if (m) sendTo(address, m);
      } else if (job.status === 'disputed' && job.bisection) {
        const m = bisectMessageFor(core, job, address, variantOf);
        if (m) sendTo(address, m);
      } else if (job.status === 'disputed' && job.dispute?.referees.includes(address) && !job.dispute.votes.has(address)) {
        const m = auditMsg(job, 'dispute', job.dispute.openedAtMs + p.disputeWindowMs, address);
        if (m) sendTo(address, m);
      }
    }
  };

  // a private job's key arrived from the client: hand the party the work it was waiting for
  pj.onKey((jobId, party) => {
    const job = core.state.jobs.get(jobId);
    if (!job) return;
    const p = core.params;
    let m: ServerMessage | null = null;
    if (job.status === 'assigned' && job.miner === party) m = assignMsg(job);
    else if (job.status === 'auditing' && job.validator === party) m = auditMsg(job, 'audit', job.auditDeadlineAtMs, party);
    else if (job.status === 'disputed' && job.dispute) m = auditMsg(job, 'dispute', job.dispute.openedAtMs + p.disputeWindowMs, party);
    if (m) sendTo(party, m);
  });

  watchRedundant(core);
  core.onEffects((fx: readonly Effect[], _event: MarketEvent) => {
    for (const e of fx) {
      switch (e.type) {
        case 'job.opened': {
          const job = core.state.jobs.get(e.jobId);
          if (!job) break;
          for (const a of e.eligible) {
            // a batch job is bid on per row: its max price per row (exact: the job's is per row × rows) and its rows
            sendTo(a, { type: 'job.offer', jobId: e.jobId, model: job.model, maxPriceMicro: (job.maxPriceMicro / BigInt(job.rows ?? 1)).toString(), ...(job.rows ? { rows: job.rows } : {}), closesAtMs: e.closesAtMs, private: job.private, ...(job.verification !== 'sampled' ? { verification: job.verification } : {}) }, true);
          }
          break;
        }
        case 'job.assigned': {
          const job = core.state.jobs.get(e.jobId);
          if (!job) break;
          const m = assignMsg(job, e.miner, e.priceMicro);
          if (m) sendTo(e.miner, m);
          // (a redundant job is assigned to several: none of them is told it was outbid, the others once)
          if (job.verification === 'redundant' && e.miner !== job.replicas[0]?.miner) break;
          for (const b of job.bids) if (b.miner !== e.miner && !job.replicas.some((r) => r.miner === b.miner)) sendTo(b.miner, { type: 'job.lost', jobId: e.jobId, reason: 'outbid' }, true);
          break;
        }
        case 'audit.requested': {
          const job = core.state.jobs.get(e.jobId);
          const m = job && auditMsg(job, 'audit', e.deadlineAtMs, e.validator);
          if (m) sendTo(e.validator, m);
          break;
        }
        case 'dispute.opened': {
          const job = core.state.jobs.get(e.jobId);
          for (const r of e.referees) {
            const m = job && auditMsg(job, 'dispute', e.deadlineAtMs, r);
            if (m) sendTo(r, m);
          }
          break;
        }
        case 'job.missed':
          sendTo(e.miner, { type: 'job.lost', jobId: e.jobId, reason: 'missed-deadline', penaltyMicro: e.penaltyMicro.toString() });
          break;
        case 'job.settled':
          pj.forget(e.jobId);
          sendTo(e.miner, { type: 'job.settled', jobId: e.jobId, paidMicro: e.priceMicro.toString() });
          // the other paid members of a redundant majority, each its own bid
          for (const r of core.state.jobs.get(e.jobId)?.replicas ?? []) if (r.paid && r.miner !== e.miner) sendTo(r.miner, { type: 'job.settled', jobId: e.jobId, paidMicro: r.priceMicro.toString() });
          break;
        case 'job.failed': {
          pj.forget(e.jobId);
          const job = core.state.jobs.get(e.jobId);
          if (job?.miner && e.reason === 'miner-slashed') sendTo(job.miner, { type: 'job.lost', jobId: e.jobId, reason: e.reason });
          break;
        }
        case 'bisect.turn':
        case 'bisect.segment': {
          // the party whose move it is in a bisection game, with the tensors it judges or re-executes
          const job = core.state.jobs.get(e.jobId);
          for (const a of e.type === 'bisect.turn' ? [e.address] : e.referees) {
            const m = job && bisectMessageFor(core, job, a, variantOf);
            if (m) sendTo(a, m);
          }
          break;
        }
        case 'node.slashed':
          sendTo(e.address, { type: 'slashed', jobId: e.jobId, amountMicro: e.amountMicro.toString(), reason: e.reason });
          break;
        default:
          break;
      }
    }
  });

  // a miner the market cannot reach takes no new jobs: its standing offer lapses (it posts again on reconnect)
  const lapseOffer = (address: string): void => {
    if (!core.state.offers.has(address)) return;
    try {
      core.step({ type: 'offer.lapse', atMs: core.now(), address });
    } catch (err) {
      log.debug({ err, address }, 'offer lapse rejected');
    }
  };

  const setOffline = (s: NodeSession): void => {
    if (!sessions.delete(s)) return;
    if (s.address && byAddress.get(s.address) === s) {
      byAddress.delete(s.address);
      lapseOffer(s.address);
      for (const fn of statusListeners) fn(s.address, false);
    }
  };

  const onLogin = (s: NodeSession, msg: Record<string, unknown>): void => {
    const address = checkLogin(msg.envelope, s.challenge, core.now());
    const old = byAddress.get(address);
    if (old && old !== s) {
      byAddress.delete(address);
      old.ws.close(CLOSE_CODES.replaced, 'replaced by a newer connection');
    }
    s.address = address;
    byAddress.set(address, s);
    send(s, { type: 'auth.ok', address, nowMs: core.now(), params: paramsToJson(core.params) });
    for (const fn of statusListeners) fn(address, true);
    resume(address);
  };

  /** Close a connection that ran its budget dry: one error frame, then close code 4029. */
  const overBudget = (s: NodeSession, why: string): void => {
    counters.rateLimited++;
    send(s, { type: 'error', code: 'ERR_RATE_LIMITED', message: `${why}; closing this connection (code ${CLOSE_CODES.overBudget})` });
    log.warn({ address: s.address, why }, 'node over its budget; disconnecting');
    setOffline(s);
    s.ws.close(CLOSE_CODES.overBudget, 'over the message budget');
    // read nothing more from it (a flooder's backlog would still be decoded while the close handshake
    // waits), and cut it off if it does not finish closing at once
    s.ws.pause();
    setTimeout(() => s.ws.terminate(), 1_000).unref();
  };

  /** What a key may send now: everything once registered and bonded; less before. @throws ERR_NOT_ELIGIBLE */
  const checkAllowed = (address: string, type: unknown): void => {
    const node = core.state.nodes.get(address);
    if (!node) {
      if (!UNREGISTERED_TYPES.has(type)) throw new InfermarketError('ERR_NOT_ELIGIBLE', `a key that is not registered may only log in and register ("node.register"), got ${JSON.stringify(type)?.slice(0, 40)}`, { details: { notAllowed: true } });
    } else if (node.stakeMicro <= 0n && !UNBONDED_TYPES.has(type)) {
      throw new InfermarketError('ERR_NOT_ELIGIBLE', `${address} has no bonded stake: only "stake.bond" (and register, unbond) until it has, got ${JSON.stringify(type)?.slice(0, 40)}`, { details: { notAllowed: true } });
    }
  };

  const onMessage = (s: NodeSession, data: RawData): void => {
    if (s.ws.readyState !== s.ws.OPEN) return;
    counters.messagesIn++;
    const now = Date.now();
    s.lastSeenMs = now;
    // the budget is charged before anything is parsed: a token bucket of messages and one of bytes, 2 s deep
    const dt = now - s.lastRefillMs;
    s.tokens = Math.min(o.maxMessagesPerSec * 2, s.tokens + (dt * o.maxMessagesPerSec) / 1000);
    s.bytes = Math.min(o.maxBytesPerSec * 2, s.bytes + (dt * o.maxBytesPerSec) / 1000);
    s.malformed = Math.min(o.maxMalformedPerSec * 10, s.malformed + (dt * o.maxMalformedPerSec) / 1000);
    s.lastRefillMs = now;
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
    s.tokens -= 1;
    s.bytes -= size;
    if (s.tokens < 0) return overBudget(s, `more than ${o.maxMessagesPerSec} messages/s`);
    if (s.bytes < 0) return overBudget(s, `more than ${o.maxBytesPerSec} bytes/s`);
    const reject = (frame: ServerMessage, notAllowed = false): void => {
      send(s, frame);
      if (frame.type !== 'error' || !(notAllowed || MALFORMED.has(frame.code))) return;
      s.malformed -= 1;
      if (s.malformed < 0) overBudget(s, `more than ${o.maxMalformedPerSec} malformed messages/s`);
    };
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data.toString()) as Record<string, unknown>;
    } catch {
      return reject({ type: 'error', code: 'ERR_BAD_JSON', message: 'message is not valid JSON' });
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return reject({ type: 'error', code: 'ERR_VALIDATION', message: 'message must be a JSON object with a "type"' });
    }
    const ref = typeof msg.ref === 'string' ? msg.ref.slice(0, 128) : undefined;
    if (jsonDepthExceeds(msg, MAX_MESSAGE_DEPTH)) {
      return reject({ type: 'error', code: 'ERR_VALIDATION', message: `message nests deeper than ${MAX_MESSAGE_DEPTH} levels`, ...(ref !== undefined ? { ref } : {}) });
    }
    if (msg.type === 'pong') return;
    try {
      if (msg.type === 'auth.login') onLogin(s, msg);
      else if (!s.address) throw new InfermarketError('ERR_UNAUTHENTICATED', 'log in first: answer "auth.challenge" with a signed "auth.login"');
      else {
        checkAllowed(s.address, msg.type);
        handleNodeMessage(core, { address: s.address }, msg, {
          setVariant: (a, v) => {
            variants.set(a, v);
            core.store.setMeta(`variant:${a}`, v);
          },
          variant: variantOf,
          token: opts.onToken,
          send: (a, m) => sendTo(a, m),
          privateJobs: pj,
        });
      }
      // acknowledged only once what it caused is written (group commit: the end of this turn)
      if (ref !== undefined) {
        core.durable().then(
          () => send(s, { type: 'ack', ref }),
          (e: unknown) => send(s, errorFrame(e, ref)),
        );
      }
    } catch (e) {
      // a message this key may not send yet (not registered or bonded) counts as malformed
      reject(errorFrame(e, ref), e instanceof InfermarketError && e.details?.notAllowed === true);
    }
  };

  wss.on('connection', (ws: WebSocket) => {
    const s: NodeSession = { ws, challenge: randomBytes(32).toString('hex'), address: null, connectedAtMs: Date.now(), lastSeenMs: Date.now(), tokens: o.maxMessagesPerSec * 2, bytes: o.maxBytesPerSec * 2, malformed: o.maxMalformedPerSec * 10, lastRefillMs: Date.now() };
    sessions.add(s);
    ws.on('message', (d) => onMessage(s, d));
    ws.on('pong', () => {
      s.lastSeenMs = Date.now();
    });
    ws.on('close', () => setOffline(s));
    ws.on('error', (err) => log.debug({ err }, 'node socket error'));
    send(s, { type: 'auth.challenge', challenge: s.challenge, marketKey: core.marketKey });
  });

  // liveness for audit selection is decided in the rules: tell them this logged-in node still answers pings
  const feedHeartbeat = (address: string): void => {
    const node = core.state.nodes.get(address);
    if (!node || core.now() - node.lastSeenMs < core.params.livenessWindowMs / 3) return;
    try {
      core.step({ type: 'node.heartbeat', atMs: core.now(), address });
    } catch (err) {
      log.debug({ err, address }, 'heartbeat rejected');
    }
  };

  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const s of sessions) {
      if (!s.address && now - s.connectedAtMs > o.loginTimeoutMs) {
        setOffline(s);
        s.ws.close(CLOSE_CODES.loginTimeout, 'log in within the login timeout');
      } else if (now - s.lastSeenMs > o.offlineAfterMs) {
        log.info({ address: s.address }, 'node silent; marking offline');
        setOffline(s);
        s.ws.terminate();
      } else {
        send(s, { type: 'ping', t: now });
        if (s.address) feedHeartbeat(s.address);
      }
    }
  }, o.heartbeatMs);
  heartbeat.unref();

  return {
    wss,
    counters,
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/v1/nodes') {
        if (sessions.size >= o.maxConnections) {
          socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":{"code":"ERR_RATE_LIMITED","message":"too many node connections"}}');
          socket.destroy();
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
        return;
      }
      for (const r of routes) if (r(req, socket, head, wss)) return;
      socket.write('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":{"code":"ERR_NOT_FOUND","message":"no WebSocket route at this path"}}');
      socket.destroy();
    },
    addRoute(r) {
      routes.push(r);
    },
    online: (a) => byAddress.has(a),
    onlineCount(role) {
      let n = 0;
      for (const a of byAddress.keys()) if (core.state.nodes.get(a)?.role === role) n++;
      return n;
    },
    variant: variantOf,
    onNodeStatus(fn) {
      statusListeners.push(fn);
    },
    close() {
      clearInterval(heartbeat);
      for (const s of sessions) s.ws.close(1001, 'market shutting down');
      for (const s of [...sessions]) setOffline(s);
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
