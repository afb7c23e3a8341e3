import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPayload, sealEnvelope, type JobInput, type JobOutput, type JobView, type ServerMessage } from '@infermarket/protocol';
import { createInferenceExecutor } from '@infermarket/miner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureTruth } from '../packages/cli/src/testnet/truth.js';
import { createMarket, type Market } from '../packages/market/src/market.js';
import { connectNode, digitsInput, fakeInference, keysOf, registerAndBond, until, type TestNode } from '../packages/market/src/test-node.js';

// The testnet's truth measurement: settled outputs re-executed through the real runtime after the run.

let dir: string;
let market: Market;

async function faucet(address: string): Promise<void> {
  await fetch(`${market.url}/v1/faucet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address, amountMicro: '500000000' }) });
}
async function miner(label: string, answer: (input: JobInput) => Promise<JobOutput>): Promise<TestNode> {
  const n = await connectNode(market.wsUrl, label);
  await faucet(n.address);
  await registerAndBond(n, 'miner');
  n.onFrame((f) => {
    if (f.type === 'job.offer') n.raw({ type: 'job.bid', envelope: n.sign('job.bid', { jobId: (f as { jobId: string }).jobId, priceMicro: '1000' }) });
    if (f.type === 'job.assign') {
      const a = f as Extract<ServerMessage, { type: 'job.assign' }>;
      void answer(a.input).then((output) => n.raw({ type: 'job.result', envelope: n.sign('job.result', { jobId: a.jobId, inputHash: a.inputHash, outputHash: hashPayload(output) }), output }));
    }
  });
  return n;
}
let k = 0;
async function runJob(id: string): Promise<JobView> {
  const input = digitsInput(k++);
  const envelope = sealEnvelope(keysOf('truth/client'), 'job.submit', { jobId: id, model: 'digits', inputHash: hashPayload(input), maxPriceMicro: '50000', nonce: String(Date.now() * 1000 + k), expiresAtMs: Date.now() + 30_000, verification: 'none' });
  const r = await fetch(`${market.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope, input }) });
  expect(r.status).toBe(202);
  return until(async () => {
    const j = (await (await fetch(`${market.url}/v1/jobs/${id}`)).json()) as JobView;
    return j.status === 'settled' || j.status === 'failed' ? j : null;
  }, 15_000, `job ${id}`);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-truth-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('measureTruth: wrong outputs delivered, by re-execution through the real runtime', () => {
  it('counts a lying miner\'s settled outputs as wrong and an honest miner\'s (real runtime) as right, by strategy and level', async () => {
    const dbPath = join(dir, 'market.db');
    market = await createMarket({ dbPath, params: { matchingMode: 'auction', bidWindowMs: 200, challengeWindowMs: 50, jobDeadlineMs: 5_000, auditRate: 0 } });
    await faucet(keysOf('truth/client').address);
    const exec = createInferenceExecutor();
    const honest = await miner('truth/honest', async (input) => (await exec.execute({ model: 'digits', variant: 'fp32', input, reference: true })).output);
    for (const id of ['h1', 'h2']) expect((await runJob(id)).status).toBe('settled');
    honest.close();
    await until(() => market.stats.snapshot().nodes.every((n) => n.address !== honest.address || !n.online), 10_000, 'honest miner offline');
    const liar = await miner('truth/liar', async (input) => fakeInference(input, true));
    for (const id of ['l1', 'l2', 'l3']) expect((await runJob(id)).status).toBe('settled');
    liar.close();
    await market.close();
    const t = await measureTruth({ dbPath, strategyOf: new Map([[honest.address, 'honest'], [liar.address, 'lazy']]) });
    expect(t).toMatchObject({ source: 're-execution', settled: 5, wrong: 3, wrongPerThousand: 600, unchecked: 0 });
    expect(t.byStrategy).toEqual({ honest: { settled: 2, wrong: 0, wrongPerThousand: 0 }, lazy: { settled: 3, wrong: 3, wrongPerThousand: 1000 } });
    expect(t.byLevel).toEqual({ none: { settled: 5, wrong: 3, wrongPerThousand: 600 } });
  }, 60_000);
});
