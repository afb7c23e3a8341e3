import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInvariants, fromHex, hashPayload, verifyMessage, type JobStreamMessage, type JobView, type MarketStatsView } from '@infermarket/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createMarket, type Market } from './market.js';
import { actAsMiner, actAsValidator, connectNode, keysOf, readTokenOf, registerAndBond, submitRequest, until, type TestNode } from './test-node.js';

const FAST = { bidWindowMs: 500, challengeWindowMs: 60, auditWindowMs: 3_000, disputeWindowMs: 3_000, jobDeadlineMs: 3_000, unbondingPeriodMs: 10_000 };

let dir: string;
let market: Market;
const nodes: TestNode[] = [];

async function faucet(address: string, amountMicro = '500000000'): Promise<void> {
  const r = await fetch(`${market.url}/v1/faucet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address, amountMicro }) });
  expect(r.status).toBe(200);
}
async function node(label: string, role: 'miner' | 'validator'): Promise<TestNode> {
  const n = await connectNode(market.wsUrl, label);
  nodes.push(n);
  await faucet(n.address);
  await registerAndBond(n, role);
  return n;
}
const owners = new Map<string, string>();
async function submit(label: string, jobId: string, extra: Parameters<typeof submitRequest>[1] extends infer O ? Partial<O> : never = {}): Promise<JobView> {
  owners.set(jobId, label);
  const res = await fetch(`${market.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(submitRequest(keysOf(label), { jobId, ...extra })) });
  const body = (await res.json()) as JobView;
  expect(res.status, JSON.stringify(body)).toBe(202);
  return body;
}
async function job(id: string): Promise<JobView> {
  return (await (await fetch(`${market.url}/v1/jobs/${id}`, { headers: { 'x-infermarket-read': readTokenOf(keysOf(owners.get(id)!), id) } })).json()) as JobView;
}
async function balance(address: string): Promise<bigint> {
  const r = (await (await fetch(`${market.url}/v1/accounts/${address}`)).json()) as { balanceMicro: string };
  return BigInt(r.balanceMicro);
}
const finished = (id: string) => until(async () => {
  const j = await job(id);
  return j.status === 'settled' || j.status === 'failed' ? j : null;
}, 10_000, `job ${id} to finish`);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-market-'));
});
afterEach(async () => {
  for (const n of nodes.splice(0)) n.close();
  await market?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('market: jobs end to end over real HTTP and WebSocket', () => {
  it('settles an honest, audited job: miner paid, validator fee, signed receipt, ledger conserved', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { ...FAST, auditRate: 1 } });
    const miner = await node('flow/miner', 'miner');
    const validator = await node('flow/validator', 'validator');
    await actAsMiner(miner, { priceMicro: '1000' });
    actAsValidator(validator);
    const client = keysOf('flow/client');
    await faucet(client.address, '1000000');
    const minerBefore = await balance(miner.address);

    const submitted = await submit('flow/client', 'job-honest');
    // standing offers (the default): matched to the miner's offer when submitted, no bid window
    expect(submitted.status).toBe('assigned');
    const done = await finished('job-honest');

    expect(done.status, JSON.stringify({ done, feed: market.stats.snapshot().feed })).toBe('settled');
    expect(done.miner).toBe(miner.address);
    expect(done.audited).toBe(true);
    expect(done.output && hashPayload(done.output)).toBe(done.result?.body && (done.result.body as { outputHash: string }).outputHash);
    // the receipt verifies against the market key printed at start
    const receipt = done.receipt!;
    expect(receipt.signer).toBe(market.marketKey);
    expect(verifyMessage(market.marketKey, receipt.type, receipt.body, receipt.sig)).toBe(true);
    expect(receipt.body).toMatchObject({ jobId: 'job-honest', status: 'settled', priceMicro: '1000', miner: miner.address });
    expect(await balance(miner.address)).toBe(minerBefore + 1000n);
    // price 1000 + protocol fee 2% + validator fee 100% → 2020 paid, the rest of the 5000 escrow refunded
    expect(await balance(client.address)).toBe(1_000_000n - 2020n);
    await miner.waitFor((f) => f.type === 'job.settled' && (f as { jobId: string }).jobId === 'job-honest');
    // the validator re-executed from the input alone: its task carried no output of the miner
    const task = await validator.waitFor((f) => f.type === 'audit.task');
    expect(Object.keys(task)).not.toContain('output');
    expect(task).toMatchObject({ purpose: 'audit', variant: 'fp32' }); // the variant the miner claimed
    const stats = (await (await fetch(`${market.url}/v1/stats`)).json()) as MarketStatsView;
    expect(stats.ledger.conserved).toBe(true);
    expect(stats.invariantViolations).toEqual([]);
    expect(stats.stats.settled).toBe(1);
    expect(stats.nodes.find((n) => n.address === miner.address)?.online).toBe(true);
    const metrics = await (await fetch(`${market.url}/metrics`)).text();
    expect(metrics).toMatch(/infermarket_jobs\{status="settled"\} 1/);
    expect(metrics).toMatch(/infermarket_settlement_latency_seconds_count 1/);
    expect(metrics).toMatch(/infermarket_connected_nodes\{role="miner"\} 1/);
    expect(fromHex(market.marketKey)).toHaveLength(32);
    const list = (await (await fetch(`${market.url}/v1/jobs?status=settled&client=${client.address}`, { headers: { 'x-infermarket-read': readTokenOf(client, '*') } })).json()) as { jobs: { id: string }[] };
    expect(list.jobs.map((j) => j.id)).toEqual(['job-honest']);
    // the current epoch's seed is committed (hash) but not revealed
    const epochs = (await (await fetch(`${market.url}/v1/epochs`)).json()) as { epochs: { seed: string | null; seedHash: string }[] };
    expect(epochs.epochs.at(-1)?.seed).toBeNull();
    expect(epochs.epochs.at(-1)?.seedHash).toBe(market.core.state.epoch?.seedHash);
  });

  it('shows nobody the miner\'s output while its audit is pending, so a validator cannot copy it', async () => {
    market = await createMarket({ dbPath: join(dir, 'm-pending.db'), params: { ...FAST, auditRate: 1, auditWindowMs: 1_500 } });
    const miner = await node('pending/miner', 'miner');
    await node('pending/validator', 'validator'); // logs in but never answers its audit task
    await actAsMiner(miner, { priceMicro: '1000' });
    await faucet(keysOf('pending/client').address, '1000000');
    await submit('pending/client', 'job-pending');
    let view = await job('job-pending');
    for (let i = 0; i < 100 && view.status !== 'auditing'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      view = await job('job-pending');
    }
    expect(view.status).toBe('auditing');
    expect(view.result).not.toBeNull(); // the signed commitment (a hash) is public
    expect(view.output).toBeNull();
    // once the audit window lapses unanswered, the job settles and the client gets its output
    const done = await finished('job-pending');
    expect(done.status).toBe('settled');
    expect(done.output && hashPayload(done.output)).toBe((done.result!.body as { outputHash: string }).outputHash);
  });

  it('slashes a lying miner caught by the audit and a referee, and refunds the client', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { ...FAST, auditRate: 1, disputeQuorum: 1 } });
    const liar = await node('lie/miner', 'miner');
    const v1 = await node('lie/v1', 'validator');
    const v2 = await node('lie/v2', 'validator');
    await actAsMiner(liar, { lie: true });
    actAsValidator(v1);
    actAsValidator(v2);
    const client = keysOf('lie/client');
    await faucet(client.address, '1000000');

    await submit('lie/client', 'job-lie');
    const done = await finished('job-lie');

    expect(done.status).toBe('failed');
    expect(done.failure).toBe('miner-slashed');
    expect(done.output).toBeNull();
    expect(done.receipt?.body).toMatchObject({ status: 'failed', paidMicro: '0', outputHash: null });
    const slashed = await liar.waitFor((f) => f.type === 'slashed');
    expect(slashed).toMatchObject({ jobId: 'job-lie', reason: 'wrong result' });
    // one validator audited, the other was asked as a referee
    const purposes = [v1, v2].map((v) => (v.frames.find((f) => f.type === 'audit.task') as { purpose?: string } | undefined)?.purpose).sort();
    expect(purposes).toEqual(['audit', 'dispute']);
    // refunded in full, plus the harmed share of the slash
    const s = market.core.state;
    expect(await balance(client.address)).toBeGreaterThan(1_000_000n);
    expect(s.nodes.get(liar.address)!.slashes).toBe(1);
    expect(s.stats.minerSlashes).toBe(1);
    expect(checkInvariants(s)).toEqual([]);
  });

  it('slashes a validator whose audit falsely accuses an honest miner, and pays the miner', async () => {
    // two referees outvote the accuser (with one, it is a tie: nobody is slashed and the miner is paid)
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { ...FAST, auditRate: 1, disputeQuorum: 2 } });
    const miner = await node('accuse/miner', 'miner');
    // whichever validator audits lies; the others, asked as referees, re-execute honestly
    const validators = [await node('accuse/v1', 'validator'), await node('accuse/v2', 'validator'), await node('accuse/v3', 'validator')];
    await actAsMiner(miner);
    for (const v of validators) actAsValidator(v, { lieAsAuditor: true });
    const client = keysOf('accuse/client');
    await faucet(client.address, '1000000');

    await submit('accuse/client', 'job-accused');
    const done = await finished('job-accused');

    expect(done.status).toBe('settled');
    expect(done.miner).toBe(miner.address);
    const s = market.core.state;
    expect(s.stats.validatorSlashes).toBe(1);
    expect(s.stats.minerSlashes).toBe(0);
    const auditor = validators.find((v) => v.frames.some((f) => f.type === 'audit.task' && (f as { purpose: string }).purpose === 'audit'))!;
    expect(s.nodes.get(auditor.address)!.slashes).toBe(1);
    await auditor.waitFor((f) => f.type === 'slashed');
    expect(checkInvariants(s)).toEqual([]);
  });

  it('streams tokens to the client over /v1/jobs/:id/stream and records time to first token', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { ...FAST, auditRate: 0 } });
    const miner = await node('stream/miner', 'miner');
    await actAsMiner(miner, { stream: true });
    const client = keysOf('stream/client');
    await faucet(client.address, '1000000');
    const input = { kind: 'prompt' as const, prompt: 'hello', maxTokens: 8, temperature: 0, seed: 7 };
    // the stream is opened right after submitting: tokens streamed before it connects are replayed
    await submit('stream/client', 'job-stream', { model: 'charlm', input });
    const ws = new WebSocket(`${market.url.replace('http', 'ws')}/v1/jobs/job-stream/stream?read=${readTokenOf(client, 'job-stream')}`);
    const msgs: JobStreamMessage[] = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString()) as JobStreamMessage));
    const closed = new Promise<void>((r) => ws.on('close', () => r()));
    await closed;
    const tokens = msgs.filter((m) => m.type === 'token');
    expect(tokens.map((t) => (t as { index: number }).index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const done = msgs.at(-1);
    expect(done?.type).toBe('done');
    const view = (done as { job: JobView }).job;
    expect(view.status).toBe('settled');
    expect(view.output?.kind).toBe('tokens');
    expect(view.ttftMs).not.toBeNull();
  });
});
