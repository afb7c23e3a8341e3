import WebSocket from 'ws';
import {
  ERROR_CODES,
  InfermarketError,
  type ErrorCode,
  nonceSequence,
  sealEnvelope,
  toHex,
  type Canonical,
  type Envelope,
  type KeyPair,
  type NodeMessage,
  type ServerMessage,
} from '@infermarket/protocol';

/** Options for `createNodeConnection`. */
export interface NodeConnectionOptions {
  /** The market's node socket, e.g. `ws://127.0.0.1:8545/v1/nodes`. */
  wsUrl: string;
  keys: KeyPair;
  /** Every market message after login (pings are answered here). */
  onMessage: (msg: ServerMessage) => void;
  /** Called after each successful login (first connect and every reconnect): set up registration etc. */
  onReady?: (info: { address: string; params: Record<string, string | number> }) => void | Promise<void>;
  /** Called when the socket closes. */
  onClose?: (info: { code: number; willReconnect: boolean }) => void;
  /** Reconnect after a lost connection (default true), with this backoff (default 250 ms, doubling to 4 s). */
  reconnect?: boolean;
  reconnectMinMs?: number;
  /** How long signed messages stay valid (default 20 s). */
  ttlMs?: number;
  log?: (line: string) => void;
}

/** A logged-in socket to the market. */
export interface NodeConnection {
  readonly address: string;
  /** The market's signing key (hex), learned from the challenge. */
  marketKey(): string | null;
  /** Parameters the market announced at login. */
  params(): Record<string, string | number>;
  /** The market's clock now, learned at login. */
  marketNow(): number;
  connected(): boolean;
  /** Sign a body (adding `nonce` and `expiresAtMs`) into an envelope. */
  seal<T extends string>(type: T, body: Record<string, Canonical>): Envelope<T>;
  /** Send a frame; false when not connected. */
  send(msg: NodeMessage): boolean;
  /** Send a frame with a `ref` and wait for the market's `ack` (resolves) or `error` (rejects with its code). */
  request(msg: NodeMessage, timeoutMs?: number): Promise<void>;
  /** Resolves once logged in. */
  ready(): Promise<void>;
  /** Drop the socket now (a crash or partition, not a goodbye); reconnects if `reconnect` is on. */
  drop(): void;
  /** Close for good. */
  close(): Promise<void>;
}

/** JSON with bigints as decimal strings: amounts travel as strings. */
function frame(msg: unknown): string {
  return JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * Connect to the market's node socket and log in with the challenge–response handshake: the market sends
 * `auth.challenge`, the node answers with a signed `auth.login` over it, the market replies `auth.ok`.
 * Reconnects with backoff when the market goes away (e.g. it was restarted) and logs in again.
 */
export function createNodeConnection(options: NodeConnectionOptions): NodeConnection {
  const { keys } = options;
  const ttlMs = options.ttlMs ?? 20_000;
  const log = options.log ?? (() => {});
  let ws: WebSocket | null = null;
  let closed = false;
  let loggedIn = false;
  let offset = 0;
  let marketKey: string | null = null;
  let params: Record<string, string | number> = {};
  let refSeq = 0;
  // the market keeps a window of sequence numbers per signer (replay protection): number every message
  const nextNonce = nonceSequence(Date.now());
  let backoff = options.reconnectMinMs ?? 250;
  const waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let readyWaiters: (() => void)[] = [];

  const conn: NodeConnection = {
    address: keys.address,
    marketKey: () => marketKey,
    params: () => params,
    marketNow: () => Date.now() + offset,
    connected: () => loggedIn && ws?.readyState === WebSocket.OPEN,
    seal(type, body) {
      return sealEnvelope(keys, type, { ...body, nonce: nextNonce(), expiresAtMs: Date.now() + offset + ttlMs });
    },
    send(msg) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(frame(msg));
      return true;
    },
    request(msg, timeoutMs = 10_000) {
      const ref = `r${++refSeq}`;
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(ref);
          reject(new InfermarketError('ERR_LATE', `no answer from the market to ${msg.type} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(ref, { resolve, reject, timer });
        if (!conn.send({ ...msg, ref } as NodeMessage)) {
          clearTimeout(timer);
          waiting.delete(ref);
          reject(new InfermarketError('ERR_UNAUTHENTICATED', `not connected to the market; ${msg.type} not sent`));
        }
      });
    },
    ready() {
      if (conn.connected()) return Promise.resolve();
      return new Promise((r) => readyWaiters.push(r));
    },
    drop() {
      ws?.terminate();
    },
    async close() {
      closed = true;
      for (const w of waiting.values()) clearTimeout(w.timer);
      waiting.clear();
      if (ws && ws.readyState !== WebSocket.CLOSED) {
        await new Promise<void>((r) => {
          ws!.once('close', () => r());
          ws!.close();
          setTimeout(() => {
            ws?.terminate();
            r();
          }, 500);
        });
      }
    },
  };

  const connect = (): void => {
    const sock = new WebSocket(options.wsUrl, { maxPayload: 64 * 1024 * 1024 });
    ws = sock;
    loggedIn = false;
    sock.on('message', (data) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(data)) as ServerMessage;
      } catch {
        log('market sent a frame that is not JSON; ignored');
        return;
      }
      switch (msg.type) {
        case 'auth.challenge': {
          marketKey = msg.marketKey;
          const nowHint = (msg as { nowMs?: unknown }).nowMs;
          if (typeof nowHint === 'number') offset = nowHint - Date.now();
          const envelope = conn.seal('auth.login', { challenge: msg.challenge });
          sock.send(frame({ type: 'auth.login', ref: 'login', envelope }));
          return;
        }
        case 'auth.ok': {
          offset = msg.nowMs - Date.now();
          params = msg.params ?? {};
          loggedIn = true;
          backoff = options.reconnectMinMs ?? 250;
          log(`logged in as ${msg.address}`);
          const ws0 = readyWaiters;
          readyWaiters = [];
          for (const r of ws0) r();
          void Promise.resolve(options.onReady?.({ address: msg.address, params })).catch((e: unknown) => log(`setup failed: ${(e as Error).message}`));
          return;
        }
        case 'ping':
          sock.send(frame({ type: 'pong', t: msg.t }));
          return;
        case 'ack': {
          const w = waiting.get(msg.ref);
          if (w) {
            clearTimeout(w.timer);
            waiting.delete(msg.ref);
            w.resolve();
          }
          return;
        }
        case 'error': {
          const w = msg.ref ? waiting.get(msg.ref) : undefined;
          if (w && msg.ref) {
            clearTimeout(w.timer);
            waiting.delete(msg.ref);
            w.reject(new InfermarketError(msg.code in ERROR_CODES ? (msg.code as ErrorCode) : 'ERR_INTERNAL', msg.message));
          } else {
            log(`market error ${msg.code}: ${msg.message}`);
          }
          if (msg.ref === 'login') log(`login refused: ${msg.code} ${msg.message}`);
          return;
        }
        default:
          options.onMessage(msg);
      }
    });
    sock.on('error', (e) => log(`socket error: ${e.message}`));
    sock.on('close', (code) => {
      loggedIn = false;
      for (const [ref, w] of waiting) {
        clearTimeout(w.timer);
        waiting.delete(ref);
        w.reject(new InfermarketError('ERR_UNAUTHENTICATED', 'connection to the market closed'));
      }
      const again = !closed && options.reconnect !== false;
      options.onClose?.({ code, willReconnect: again });
      if (again) {
        setTimeout(() => !closed && connect(), backoff);
        backoff = Math.max(options.reconnectMinMs ?? 250, Math.min(backoff * 2, 1_000));
      }
    });
  };
  connect();
  return conn;
}

/** Hex of a public key (convenience for logs and reports). */
export function publicKeyHex(keys: KeyPair): string {
  return toHex(keys.publicKey);
}
