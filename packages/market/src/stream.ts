import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Effect, JobOutput, JobStreamMessage } from '@infermarket/protocol';
import type { WebSocket, WebSocketServer } from 'ws';
import { minerOutput, type MarketCore } from './core.js';
import type { PrivateJobs } from './private-jobs.js';
import { auditPending, jobView } from './views.js';
import { readGrantOf, requireOwnGrant } from './read-access.js';
import { InfermarketError } from '@infermarket/protocol';

const PATH = /^\/v1\/jobs\/([A-Za-z0-9][A-Za-z0-9._:-]{0,127})\/stream$/;
const MAX_BUFFERED_TOKENS = 1024;

/**
 * One subscriber to a job's messages: a per-job stream socket or a client session (`session.ts`). `send`
 * takes the message already as JSON text (serialised once for every watcher); `end` is called after `done`.
 */
export interface StreamWatcher {
  send(text: string): void;
  end(jobId: string): void;
}

/** Client token streams: WebSocket `/v1/jobs/:id/stream` (see `JobStreamMessage`) and client sessions. */
export interface StreamHub {
  /** Relay one token from the assigned miner to the job's watchers (and buffer it for late joiners). */
  token(jobId: string, index: number, token: number, text: string): void;
  /** Upgrade route for the gateway; true when it took the request. */
  route(req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer): boolean;
  /**
   * Subscribe a watcher the caller has checked is the job's client. With `catchUp`, it first gets what it
   * missed (buffered tokens, pending key requests, the result, `done`). Returns an unsubscribe function, or
   * null when the job is already finished (after `done` was sent).
   */
  watch(jobId: string, w: StreamWatcher, options?: { catchUp?: boolean }): (() => void) | null;
  watchers(): number;
  close(): void;
}

/** Create the hub and subscribe it to the core's effects (result and end of each job). */
export function createStreamHub(core: MarketCore, privateJobs?: PrivateJobs): StreamHub {
  const watchers = new Map<string, Set<StreamWatcher>>();
  const sockets = new Set<WebSocket>();
  const tokens = new Map<string, JobStreamMessage[]>();

  const send = (ws: WebSocket, m: JobStreamMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const broadcast = (jobId: string, m: JobStreamMessage): void => {
    const set = watchers.get(jobId);
    if (!set?.size) return;
    const text = JSON.stringify(m);
    for (const w of set) w.send(text);
  };
  const end = (jobId: string): void => {
    const set = watchers.get(jobId);
    watchers.delete(jobId);
    tokens.delete(jobId);
    if (!set?.size) return;
    // every watcher is the client's (read token or session login)
    const text = JSON.stringify({ type: 'done', jobId, job: jobView(core, jobId, { owner: true }) } satisfies JobStreamMessage);
    for (const w of set) {
      w.send(text);
      w.end(jobId);
    }
  };

  /** Private jobs: ask the client's stream for the job key of each party that needs it (with its signed registration). */
  const keyRequests = (jobId: string): JobStreamMessage[] => {
    const job = core.state.jobs.get(jobId);
    if (!job || !privateJobs) return [];
    return privateJobs.pending(job).map((r) => ({ type: 'key.request', jobId, party: r.party, purpose: r.purpose, registration: privateJobs.registration(r.party) }));
  };

  core.onEffects((fx: readonly Effect[]) => {
    for (const e of fx) {
      if (e.type === 'job.assigned' || e.type === 'audit.requested' || e.type === 'dispute.opened') for (const m of keyRequests(e.jobId)) broadcast(e.jobId, m);
      if (e.type === 'job.committed') {
        // an audited result reaches the client in `done`, after the audit: nobody sees it while it is pending
        const output = e.audited ? undefined : minerOutput(core, e.jobId);
        if (output) broadcast(e.jobId, { type: 'result', jobId: e.jobId, output });
      } else if (e.type === 'job.settled' || e.type === 'job.failed') {
        end(e.jobId);
      } else if (e.type === 'job.opened' && e.attempt > 0) {
        tokens.delete(e.jobId); // reassigned: the next miner streams from the start
        broadcast(e.jobId, { type: 'restart', jobId: e.jobId, attempt: e.attempt });
      }
    }
  });

  const watch: StreamHub['watch'] = (jobId, w, o = {}) => {
    const job = core.state.jobs.get(jobId);
    if (!job) return null;
    if (o.catchUp) {
      for (const t of tokens.get(jobId) ?? []) w.send(JSON.stringify(t));
      for (const k of keyRequests(jobId)) w.send(JSON.stringify(k));
      if (job.outputHash && job.status !== 'assigned' && !auditPending(job.status)) {
        const output: JobOutput | undefined = minerOutput(core, jobId);
        if (output && job.failure !== 'miner-slashed') w.send(JSON.stringify({ type: 'result', jobId, output } satisfies JobStreamMessage));
      }
      if (job.status === 'settled' || job.status === 'failed') {
        w.send(JSON.stringify({ type: 'done', jobId, job: jobView(core, jobId, { owner: true }) } satisfies JobStreamMessage));
        w.end(jobId);
        return null;
      }
    }
    let set = watchers.get(jobId);
    if (!set) watchers.set(jobId, (set = new Set()));
    set.add(w);
    return () => {
      set.delete(w);
      if (!set.size && watchers.get(jobId) === set) watchers.delete(jobId);
    };
  };

  return {
    token(jobId, index, token, text) {
      const m: JobStreamMessage = { type: 'token', jobId, index, token, text };
      let buf = tokens.get(jobId);
      if (!buf) tokens.set(jobId, (buf = []));
      if (buf.length < MAX_BUFFERED_TOKENS) buf.push(m);
      broadcast(jobId, m);
    },
    watch,
    route(req, socket, head, wss) {
      const match = PATH.exec((req.url ?? '').split('?')[0] ?? '');
      if (!match) return false;
      const jobId = match[1]!;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const job = core.state.jobs.get(jobId);
        if (!job) {
          send(ws, { type: 'error', code: 'ERR_UNKNOWN_JOB', message: `no job with id ${jobId}` });
          ws.close(1008, 'unknown job');
          return;
        }
        // tokens, results and key requests are the client's: only its read token opens the stream
        try {
          const query = new URL(req.url ?? '/', 'http://x').searchParams.get('read');
          if (!requireOwnGrant(readGrantOf(core, req.headers, query), job)) {
            throw new InfermarketError('ERR_UNAUTHENTICATED', `a job's stream is its client's: connect with its read token ("read" query or "x-infermarket-read" header)`);
          }
        } catch (e) {
          const err = e instanceof InfermarketError ? e : new InfermarketError('ERR_UNAUTHENTICATED', String(e));
          send(ws, { type: 'error', code: err.code, message: err.message });
          ws.close(1008, 'not the job\'s client');
          return;
        }
        const w: StreamWatcher = {
          send: (text) => {
            if (ws.readyState === ws.OPEN) ws.send(text);
          },
          end: () => ws.close(1000, 'job finished'),
        };
        const off = watch(jobId, w, { catchUp: true });
        if (!off) return;
        sockets.add(ws);
        const drop = (): void => {
          off();
          sockets.delete(ws);
        };
        ws.on('close', drop);
        ws.on('error', drop);
        ws.on('message', () => undefined);
      });
      return true;
    },
    watchers() {
      let n = 0;
      for (const s of watchers.values()) n += s.size;
      return n;
    },
    close() {
      for (const ws of sockets) ws.terminate();
      sockets.clear();
      watchers.clear();
    },
  };
}
