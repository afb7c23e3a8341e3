import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { DashboardMessage, FeedEvent, MarketStatsView } from '@infermarket/protocol';
import { attachDashboardSocket } from './attach-dashboard-socket.js';
import type { DashboardSource } from './dashboard-source.js';
import { trackSlashes } from './slash-history.js';

interface TestSource extends DashboardSource {
  emit(events: FeedEvent[]): void;
  listeners(): number;
  calls: number;
  failing: boolean;
  bigint: boolean;
}

function testSource(): TestSource {
  const fns = new Set<(e: FeedEvent[]) => void>();
  const src: TestSource = {
    calls: 0,
    failing: false,
    bigint: false,
    snapshot() {
      src.calls++;
      if (src.failing) throw new Error('store busy');
      if (src.bigint) return { nowMs: 1000 + src.calls, startedAtMs: 1000, seed: 9, clientPaidMicro: 5n } as unknown as MarketStatsView;
      return { nowMs: 1000 + src.calls, startedAtMs: 1000, seed: 9 } as MarketStatsView;
    },
    subscribe(fn) {
      fns.add(fn);
      return () => fns.delete(fn);
    },
    emit(events) {
      for (const fn of fns) fn(events);
    },
    listeners: () => fns.size,
  };
  return src;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function serve(source: DashboardSource, opts = {}): Promise<{ url: string; wss: WebSocketServer }> {
  server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => attachDashboardSocket(ws, source, opts));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/dashboard`, wss };
}

function collect(ws: WebSocket): DashboardMessage[] {
  const got: DashboardMessage[] = [];
  ws.on('message', (d) => got.push(JSON.parse(String(d)) as DashboardMessage));
  return got;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('attachDashboardSocket', () => {
  it('sends a snapshot on connect and then periodically', async () => {
    const src = testSource();
    const { url, wss } = await serve(src, { snapshotIntervalMs: 20 });
    const ws = new WebSocket(url);
    const got = collect(ws);
    await until(() => got.filter((m) => m.type === 'snapshot').length >= 3, 'three snapshots');
    expect(got[0]).toMatchObject({ type: 'snapshot', stats: { seed: 9 } });
    ws.close();
    wss.close();
  });

  it('batches feed events in order and stops listening when the browser leaves', async () => {
    const src = testSource();
    const { url, wss } = await serve(src, { snapshotIntervalMs: 10_000, feedFlushMs: 20 });
    const ws = new WebSocket(url);
    const got = collect(ws);
    await until(() => got.length === 1, 'the first snapshot');
    expect(src.listeners()).toBe(1);
    src.emit([{ tMs: 1, kind: 'assigned', jobId: 'j1' }]);
    src.emit([{ tMs: 2, kind: 'slashed', jobId: 'j1', reason: 'wrong result' }, { tMs: 3, kind: 'failed', jobId: 'j1' }]);
    await until(() => got.some((m) => m.type === 'feed'), 'a feed message');
    const feeds = got.filter((m): m is Extract<DashboardMessage, { type: 'feed' }> => m.type === 'feed');
    expect(feeds).toHaveLength(1); // one batch, not one message per event
    expect(feeds[0]!.events.map((e) => e.tMs)).toEqual([1, 2, 3]);
    ws.close();
    await until(() => src.listeners() === 0, 'unsubscribe');
    wss.close();
  });

  it('sends every earlier slash to a browser that connects late, after the snapshot', async () => {
    const src = testSource();
    const stop = trackSlashes(src);
    src.emit([{ tMs: 1, kind: 'slashed', node: 'imA', reason: 'wrong result' }, { tMs: 2, kind: 'settled', jobId: 'j2' }]);
    src.emit([{ tMs: 3, kind: 'slashed', node: 'imB', role: 'validator', reason: 'false accusation' }]);
    const { url, wss } = await serve(src, { snapshotIntervalMs: 10_000 });
    const ws = new WebSocket(url);
    const got = collect(ws);
    await until(() => got.length >= 2, 'snapshot and slash history');
    expect(got[0]!.type).toBe('snapshot');
    expect(got[1]).toEqual({ type: 'feed', events: [
      { tMs: 1, kind: 'slashed', node: 'imA', reason: 'wrong result' },
      { tMs: 3, kind: 'slashed', node: 'imB', role: 'validator', reason: 'false accusation' },
    ] });
    ws.close();
    stop();
    expect(src.listeners()).toBe(1); // only the closing socket's, about to go
    await until(() => src.listeners() === 0, 'unsubscribe');
    wss.close();
  });

  it('error: skips a snapshot that cannot be encoded (a bigint) without crashing, and recovers', async () => {
    const src = testSource();
    src.bigint = true;
    const { url, wss } = await serve(src, { snapshotIntervalMs: 15 });
    const ws = new WebSocket(url);
    const got = collect(ws);
    await until(() => src.calls >= 3, 'several snapshot attempts');
    expect(got).toHaveLength(0);
    src.bigint = false;
    await until(() => got.length > 0, 'a snapshot after recovery');
    ws.close();
    wss.close();
  });

  it('error: keeps the socket open when a snapshot throws, and recovers', async () => {
    const src = testSource();
    src.failing = true;
    const { url, wss } = await serve(src, { snapshotIntervalMs: 15 });
    const ws = new WebSocket(url);
    const got = collect(ws);
    await until(() => src.calls >= 3, 'several snapshot attempts');
    expect(got).toHaveLength(0);
    src.failing = false;
    await until(() => got.length > 0, 'a snapshot after recovery');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    wss.close();
  });
});
