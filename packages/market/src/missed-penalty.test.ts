import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMarket, type Market } from './market.js';
import { connectNode, keysOf, registerAndBond, submitRequest, type TestNode } from './test-node.js';

let dir: string;
let market: Market;
const nodes: TestNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) n.close();
  await market?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) => fetch(`${market.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('job.lost (missed-deadline)', () => {
  it('tells the miner the penalty the rules took, so its learner is taught the full penalty', async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-miss-'));
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { matchingMode: 'auction', bidWindowMs: 100, jobDeadlineMs: 300, missPenaltyBps: 500 } });
    const miner = await connectNode(market.wsUrl, 'miss/miner');
    nodes.push(miner);
    await post('/v1/faucet', { address: miner.address, amountMicro: '200000000' });
    await registerAndBond(miner, 'miner');
    miner.onFrame((f) => {
      if (f.type === 'job.offer') miner.raw({ type: 'job.bid', envelope: miner.sign('job.bid', { jobId: (f as { jobId: string }).jobId, priceMicro: '1000' }) });
    });
    const client = keysOf('miss/client');
    await post('/v1/faucet', { address: client.address, amountMicro: '1000000' });
    const stakeBefore = market.core.state.nodes.get(miner.address)!.stakeMicro;
    expect((await post('/v1/jobs', submitRequest(client, { jobId: 'miss-job' }))).status).toBe(202);
    await miner.waitFor((f) => f.type === 'job.assign');
    // it never commits: the deadline passes
    const lost = (await miner.waitFor((f) => f.type === 'job.lost')) as { reason: string; penaltyMicro?: string };
    expect(lost.reason).toBe('missed-deadline');
    const taken = stakeBefore - market.core.state.nodes.get(miner.address)!.stakeMicro;
    expect(taken).toBe((stakeBefore * 500n) / 10_000n);
    expect(lost.penaltyMicro).toBe(taken.toString());
  });
});
