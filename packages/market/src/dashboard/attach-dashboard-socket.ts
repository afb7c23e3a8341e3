import type { WebSocket } from 'ws';
import type { DashboardMessage, FeedEvent } from '@infermarket/protocol';
import type { DashboardSource } from './dashboard-source.js';
import { slashHistory } from './slash-history.js';

/** Options for {@link attachDashboardSocket}; every field has a default. */
export interface DashboardSocketOptions {
  /** How often a full snapshot is pushed. */
  snapshotIntervalMs?: number;
  /** Feed events are batched for this long before being sent (bounds message rate at full load). */
  feedFlushMs?: number;
  /** A slow browser that has this much unsent data skips snapshots until it catches up. */
  maxBufferedBytes?: number;
}

/** Defaults for {@link DashboardSocketOptions}. */
export const DASHBOARD_SOCKET_DEFAULTS = Object.freeze({
  snapshotIntervalMs: 500,
  feedFlushMs: 100,
  maxBufferedBytes: 4 * 1024 * 1024,
} satisfies Required<DashboardSocketOptions>);

const OPEN = 1;

/**
 * Feeds one dashboard browser over its WebSocket: `{type:'snapshot'}` at once (followed by every slash
 * remembered since {@link registerDashboard}) and then every `snapshotIntervalMs`, plus
 * `{type:'feed', events}` batches as events happen. Stops everything when the socket closes. Messages
 * from the browser are ignored.
 * @param ws an open (or opening) `ws` socket, e.g. from the market's `/v1/dashboard` upgrade
 * @param source the market's live view
 * @param options timings and the backpressure limit; see {@link DASHBOARD_SOCKET_DEFAULTS}
 */
export function attachDashboardSocket(ws: WebSocket, source: DashboardSource, options: DashboardSocketOptions = {}): void {
  const opts = { ...DASHBOARD_SOCKET_DEFAULTS, ...options };
  let pending: FeedEvent[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;

  const send = (msg: DashboardMessage): void => {
    if (closed || ws.readyState !== OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(msg);
    } catch {
      return; // e.g. a bigint where the view promises a string: skip it, never crash the market
    }
    ws.send(text);
  };
  const sendSnapshot = (): void => {
    // A browser that cannot keep up gets fewer snapshots rather than an ever-growing buffer.
    if (ws.bufferedAmount > opts.maxBufferedBytes) return;
    let stats;
    try {
      stats = source.snapshot();
    } catch {
      return; // the market keeps serving; the next tick tries again
    }
    send({ type: 'snapshot', stats });
  };
  const flush = (): void => {
    flushTimer = null;
    if (pending.length === 0) return;
    const events = pending;
    pending = [];
    // A browser this far behind loses routine events (the next snapshot's feed covers the recent ones;
    // slashes reach it again on reconnect) rather than growing the market's memory.
    if (ws.bufferedAmount > opts.maxBufferedBytes) return;
    send({ type: 'feed', events });
  };

  const unsubscribe = source.subscribe((events) => {
    if (closed || events.length === 0) return;
    pending.push(...events);
    flushTimer ??= setTimeout(flush, opts.feedFlushMs);
  });
  const interval = setInterval(sendSnapshot, opts.snapshotIntervalMs);

  const stop = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(interval);
    if (flushTimer) clearTimeout(flushTimer);
    pending = [];
    unsubscribe();
  };
  ws.on('close', stop);
  ws.on('error', stop);

  // First the whole picture: the snapshot, then every slash so far (the snapshot's feed is only recent).
  const greet = (): void => {
    sendSnapshot();
    const slashes = slashHistory(source);
    if (slashes.length > 0) send({ type: 'feed', events: [...slashes] });
  };
  if (ws.readyState === OPEN) greet();
  else ws.once('open', greet);
}
