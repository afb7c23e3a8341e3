import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MarketStatsView } from '@infermarket/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createMarket, type Market } from './market.js';
import { hashHex, hashPayload } from '@infermarket/protocol';
import { connectNode, digitsInput, fakeInference, keysOf, registerAndBond, submitRequest, until, type TestNode } from './test-node.js';

let dir: string;
let market: Market;
const nodes: TestNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) n.close();
  await market?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) => fetch(`${market.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('gateway', () => {
  it('marks a node that stops answering pings offline and closes its socket', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-gw-'));
    market = await createMarket({ dbPath: join(dir, 'm.db'), gateway: { heartbeatMs: 50, offlineAfterMs: 300 } });
    const mute = await connectNode(market.wsUrl, 'gw/mute');
    nodes.push(mute);
    expect(market.gateway.online(mute.address)).toBe(true);
    const closed = new Promise<void>((r) => mute.ws.on('close', () => r()));
    await mute.waitFor((f) => f.type === 'ping');
    await closed; // it never answers with pong
    expect(market.gateway.online(mute.address)).toBe(false);
  });

  it('keeps a node that answers pings online', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-gw-'));
    market = await createMarket({ dbPath: join(dir, 'm.db'), gateway: { heartbeatMs: 50, offlineAfterMs: 300 } });
    const n = await connectNode(market.wsUrl, 'gw/alive');
    nodes.push(n);
    n.onFrame((f) => {
      if (f.type === 'ping') n.raw({ type: 'pong', t: (f as { t: number }).t });
    });
    await new Promise((r) => setTimeout(r, 600));
    expect(market.gateway.online(n.address)).toBe(true);
  });

  it('re-sends an assignment to a miner that reconnects, and reports its claimed variant', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-gw-'));
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { matchingMode: 'auction', bidWindowMs: 500, jobDeadlineMs: 10_000 } });
    const first = await connectNode(market.wsUrl, 'gw/miner');
    nodes.push(first);
    await post('/v1/faucet', { address: first.address, amountMicro: '500000000' });
    await registerAndBond(first, 'miner');
    first.onFrame((f) => {
      if (f.type === 'job.offer') first.raw({ type: 'job.bid', envelope: first.sign('job.bid', { jobId: (f as { jobId: string }).jobId, priceMicro: '1000' }) });
    });
    const client = keysOf('gw/client');
    await post('/v1/faucet', { address: client.address, amountMicro: '1000000' });
    expect((await post('/v1/jobs', submitRequest(client, { jobId: 'gw-job' }))).status).toBe(202);
    await first.waitFor((f) => f.type === 'job.assign');
    first.close();
    await until(() => !market.gateway.online(first.address), 5_000, 'offline');
    const again = await connectNode(market.wsUrl, 'gw/miner');
    nodes.push(again);
    const assign = await again.waitFor((f) => f.type === 'job.assign');
    expect(assign).toMatchObject({ jobId: 'gw-job', type: 'job.assign' });
    const stats = (await (await fetch(`${market.url}/v1/stats`)).json()) as MarketStatsView;
    expect(stats.nodes.find((n) => n.address === again.address)).toMatchObject({ variant: 'fp32', online: true, role: 'miner' });
    expect(stats.feed.map((e) => e.kind)).toEqual(expect.arrayContaining(['node-online', 'node-offline', 'assigned']));
  });

  it('error: a result from a miner that bid but was not assigned → ERR_NOT_ASSIGNED, ledger unchanged', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-gw-'));
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { matchingMode: 'auction', bidWindowMs: 500, jobDeadlineMs: 10_000, auditRate: 0 } });
    const [winner, loser] = [await connectNode(market.wsUrl, 'gw/winner'), await connectNode(market.wsUrl, 'gw/loser')];
    nodes.push(winner, loser);
    for (const [n, price] of [[winner, '1000'], [loser, '2000']] as const) {
      await post('/v1/faucet', { address: n.address, amountMicro: '500000000' });
      await registerAndBond(n, 'miner');
      n.onFrame((f) => {
        if (f.type === 'job.offer') n.raw({ type: 'job.bid', envelope: n.sign('job.bid', { jobId: (f as { jobId: string }).jobId, priceMicro: price }) });
      });
    }
    const client = keysOf('gw/client2');
    await post('/v1/faucet', { address: client.address, amountMicro: '1000000' });
    const input = digitsInput(3);
    expect((await post('/v1/jobs', submitRequest(client, { jobId: 'gw-steal', input }))).status).toBe(202);
    await winner.waitFor((f) => f.type === 'job.assign');
    await loser.waitFor((f) => f.type === 'job.lost');
    const output = fakeInference(input);
    const before = JSON.stringify([...market.core.state.ledger].map(([k, v]) => [k, v.toString()]));
    const stolen = (await loser.request({
      type: 'job.result',
      envelope: loser.sign('job.result', { jobId: 'gw-steal', inputHash: hashPayload(input), outputHash: hashPayload(output) }),
      output,
    })) as { type: string; code?: string };
    expect(stolen).toMatchObject({ type: 'error', code: 'ERR_NOT_ASSIGNED' });
    expect(JSON.stringify([...market.core.state.ledger].map(([k, v]) => [k, v.toString()]))).toBe(before);
    const ok = await winner.request({
      type: 'job.result',
      envelope: winner.sign('job.result', { jobId: 'gw-steal', inputHash: hashPayload(input), outputHash: hashPayload(output) }),
      output,
    });
    expect(ok.type).toBe('ack');
    await until(() => market.core.state.jobs.get('gw-steal')?.status === 'settled', 5_000, 'settled');
    expect(market.core.state.jobs.get('gw-steal')?.miner).toBe(winner.address);
  });

  it('closes a connection that never logs in, and refuses connections over the limit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-gw-'));
    market = await createMarket({ dbPath: join(dir, 'm.db'), gateway: { heartbeatMs: 50, loginTimeoutMs: 200, maxConnections: 1 } });
    const anon = await connectNode(market.wsUrl, 'gw/anon', { login: false });
    nodes.push(anon);
    const code = await new Promise<number>((r) => anon.ws.on('close', (c) => r(c)));
    expect(code).toBe(4001);
    const one = await connectNode(market.wsUrl, 'gw/one');
    nodes.push(one);
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(market.wsUrl);
      ws.on('error', (e) => resolve(e.message));
      ws.on('open', () => resolve('opened'));
    });
    expect(refused).toMatch(/503/);
    expect((await fetch(`${market.url}/v1/health`)).status).toBe(200);
  });
});

describe('epochs', () => {
  it('publishes each audit seed as a hash first and reveals it when the next epoch begins', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-ep-'));
    let n = 0;
    const seeds = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => c.repeat(64));
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { epochMs: 150 }, randomSeed: () => seeds[n++ % seeds.length]! });
    type Epochs = { epochs: { index: number; seed: string | null; seedHash: string }[] };
    const got = await until(async () => {
      const e = (await (await fetch(`${market.url}/v1/epochs`)).json()) as Epochs;
      return e.epochs.length >= 2 ? e : null;
    }, 5_000, 'two epochs');
    expect(got.epochs[0]).toMatchObject({ index: 0, seed: seeds[0], seedHash: hashHex(seeds[0]!) });
    expect(got.epochs.at(-1)!.seed).toBeNull();
    expect(got.epochs.at(-1)!.seedHash).toBe(hashHex(seeds[got.epochs.length - 1]!));
  });
});
