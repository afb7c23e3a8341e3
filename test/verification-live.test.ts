import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyReceipt } from '@infermarket/client';
import { checkInvariants, hashPayload, makeReadToken, READ_TOKEN_HEADER, sealEnvelope, type JobInput, type JobOutput, type JobView, type ServerMessage } from '@infermarket/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMarket, type Market } from '../packages/market/src/market.js';
import { actAsMiner, connectNode, digitsInput, fakeInference, keysOf, registerAndBond, until, type TestNode } from '../packages/market/src/test-node.js';

// Verification levels and receipts over the real market (HTTP + WebSocket), attacked with raw clients.

const FAST = { bidWindowMs: 300, challengeWindowMs: 60, auditWindowMs: 800, disputeWindowMs: 2_000, jobDeadlineMs: 1_500, unbondingPeriodMs: 10_000, maxAuditAttempts: 2 };

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
// per-signer sequence numbers (docs/api.md), above any earlier run's
let nonce = Date.now() * 1000;
// job data is readable only by its client: each job is read with its client's signed read token
const clientOf = new Map<string, string>();
async function submit(label: string, jobId: string, input: JobInput, extra: Record<string, string> = {}): Promise<Response> {
  const client = keysOf(label);
  clientOf.set(jobId, label);
  const envelope = sealEnvelope(client, 'job.submit', { jobId, model: input.kind === 'prompt' ? 'charlm' : 'digits', inputHash: hashPayload(input), maxPriceMicro: '50000', nonce: String(++nonce), expiresAtMs: Date.now() + 30_000, ...extra });
  return fetch(`${market.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope, input }) });
}
const job = async (id: string): Promise<JobView> => {
  const label = clientOf.get(id);
  const headers: Record<string, string> = label ? { [READ_TOKEN_HEADER]: makeReadToken(keysOf(label), id, Date.now() + 60_000) } : {};
  return (await (await fetch(`${market.url}/v1/jobs/${id}`, { headers })).json()) as JobView;
};
const finished = (id: string) => until(async () => {
  const j = await job(id);
  return j.status === 'settled' || j.status === 'failed' ? j : null;
}, 15_000, `job ${id} to finish`);
async function balance(address: string): Promise<bigint> {
  return BigInt(((await (await fetch(`${market.url}/v1/accounts/${address}`)).json()) as { balanceMicro: string }).balanceMicro);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-verify-'));
});
afterEach(async () => {
  for (const n of nodes.splice(0)) n.close();
  await market?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('verification levels and receipts over the live market', () => {
  it('a miner that returns a truncated output is refused (ERR_BAD_OUTPUT); the job is re-run and its receipt shows the full length', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { ...FAST, matchingMode: 'auction', auditRate: 0 } });
    const cheat = await node('vlive/truncator', 'miner');
    const honest = await node('vlive/honest', 'miner');
    // the truncating miner bids lowest, answers a 20-token job with 12 tokens (a cached shorter answer)
    cheat.onFrame((f) => {
      if (f.type === 'job.offer') cheat.raw({ type: 'job.bid', envelope: cheat.sign('job.bid', { jobId: (f as { jobId: string }).jobId, priceMicro: '500' }) });
      if (f.type === 'job.assign') {
        const a = f as Extract<ServerMessage, { type: 'job.assign' }>;
        const full = fakeInference(a.input) as Extract<JobOutput, { kind: 'tokens' }>;
        const output: JobOutput = { kind: 'tokens', tokens: full.tokens.slice(0, 12), text: full.text.slice(0, 12) };
        cheat.raw({ type: 'job.result', ref: 'truncated', envelope: cheat.sign('job.result', { jobId: a.jobId, inputHash: a.inputHash, outputHash: hashPayload(output) }), output });
      }
    });
    await actAsMiner(honest, { priceMicro: '1000' });
    const client = keysOf('vlive/client');
    await faucet(client.address, '1000000');
    const input: JobInput = { kind: 'prompt', prompt: 'hello', maxTokens: 20, temperature: 0.8, seed: 3 };
    const res = await submit('vlive/client', 'trunc-1', input, { verification: 'none' });
    expect(res.status).toBe(202);
    const refused = (await cheat.waitFor((f) => f.type === 'error' && (f as { ref?: string }).ref === 'truncated')) as { code: string; message: string };
    expect(refused.code).toBe('ERR_BAD_OUTPUT');
    expect(refused.message).toContain('12 tokens delivered, 20 asked');
    const done = await finished('trunc-1');
    expect(done.status).toBe('settled');
    expect(done.miner).toBe(honest.address);
    const r = verifyReceipt(done.receipt, market.marketKey, { jobId: 'trunc-1', output: done.output });
    expect(r).toMatchObject({ verification: 'none', verdict: 'unchecked', outputLength: 20, expectedLength: 20, verified: false });
    expect(r.checked).toContain('not checked');
    expect(checkInvariants(market.core.state)).toEqual([]);
  });

  it('"always" with a validator that stays silent: the audit is reassigned, nobody answers, the client is refunded and no receipt says verified', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: { ...FAST, auditRate: 0 } });
    const miner = await node('vlive/liar', 'miner');
    await actAsMiner(miner, { priceMicro: '1000', lie: true });
    const silent1 = await node('vlive/silent1', 'validator');
    const silent2 = await node('vlive/silent2', 'validator');
    const client = keysOf('vlive/client2');
    await faucet(client.address, '1000000');
    const stakeOf = async (a: string) => BigInt(((await (await fetch(`${market.url}/v1/accounts/${a}`)).json()) as { stakeMicro: string }).stakeMicro);
    const before = [await stakeOf(silent1.address), await stakeOf(silent2.address)];
    const res = await submit('vlive/client2', 'silent-1', digitsInput(1), { verification: 'always' });
    expect(res.status).toBe(202);
    const done = await finished('silent-1');
    expect(done.status).toBe('failed');
    expect(done.failure).toBe('audit-unavailable');
    // refunded in full, plus both silent validators' missed-audit penalties (1 % of 200 mUSD each)
    expect(await balance(client.address)).toBe(1_000_000n + 4_000_000n);
    expect([await stakeOf(silent1.address), await stakeOf(silent2.address)]).toEqual([before[0]! - 2_000_000n, before[1]! - 2_000_000n]);
    const r = verifyReceipt(done.receipt, market.marketKey, { jobId: 'silent-1' });
    expect(r).toMatchObject({ status: 'failed', verification: 'always', verdict: 'unavailable', verified: false, paidMicro: 0n });
    expect(r.auditors.sort()).toEqual([silent1.address, silent2.address].sort());
    expect(market.core.state.stats).toMatchObject({ auditsMissed: 2, auditsReassigned: 1, auditsUnavailable: 1 });
    expect(checkInvariants(market.core.state)).toEqual([]);
  });

  it('error: an unknown verification level is refused with 400 naming the field, and nothing is charged', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: FAST });
    const client = keysOf('vlive/client3');
    await faucet(client.address, '1000000');
    for (const level of ['paranoid', 'Redundant']) {
      const res = await submit('vlive/client3', `bad-${level}`, digitsInput(2), { verification: level });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('ERR_VALIDATION');
      expect(body.error.message).toContain('verification');
    }
    expect(await balance(client.address)).toBe(1_000_000n);
  });
});
