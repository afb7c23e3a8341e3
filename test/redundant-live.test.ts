import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyReceipt } from '@infermarket/client';
import { bpsOf, checkInvariants, encryptionKeyPairFromSeed, hashPayload, sealJson, type Canonical, ledgerTotals, makeReadToken, READ_TOKEN_HEADER, sealEnvelope, type JobInput, type JobOutput, type JobView, type ServerMessage } from '@infermarket/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createMarket, type Market } from '../packages/market/src/market.js';
import { actAsMiner, connectNode, digitsInput, fakeInference, keysOf, registerAndBond, until, type TestNode } from '../packages/market/src/test-node.js';

// "redundant" over the real market (HTTP + WebSocket), with no validator at all: k = 3 miners run the job
// blind, the market compares their outputs with the model's comparator, a lone liar is outvoted and slashed.
// Attackers are raw WebSocket/HTTP clients.

// the raw miners here bid per job (and the first test checks what a `job.offer` tells them): the auction
const FAST = { matchingMode: 'auction' as const, bidWindowMs: 300, challengeWindowMs: 60, auditWindowMs: 800, disputeWindowMs: 2_000, jobDeadlineMs: 3_000, unbondingPeriodMs: 10_000, auditRate: 0 };

let dir: string;
let market: Market;
const nodes: TestNode[] = [];
const sockets: WebSocket[] = [];

async function faucet(address: string, amountMicro = '500000000'): Promise<void> {
  const r = await fetch(`${market.url}/v1/faucet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address, amountMicro }) });
  expect(r.status).toBe(200);
}
async function node(label: string): Promise<TestNode> {
  const n = await connectNode(market.wsUrl, label);
  nodes.push(n);
  await faucet(n.address);
  await registerAndBond(n, 'miner');
  return n;
}
let nonce = 0;
async function submit(label: string, jobId: string, input: JobInput, extra: Record<string, unknown> = {}): Promise<Response> {
  const envelope = sealEnvelope(keysOf(label), 'job.submit', { jobId, model: input.kind === 'tensor' ? 'digits' : 'charlm', inputHash: hashPayload(input), maxPriceMicro: '50000', nonce: `r${nonce++}`, expiresAtMs: Date.now() + 30_000, ...extra });
  return fetch(`${market.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope, input }) });
}
const view = async (label: string | null, id: string): Promise<JobView> => {
  const headers: Record<string, string> = label ? { [READ_TOKEN_HEADER]: makeReadToken(keysOf(label), id, Date.now() + 60_000) } : {};
  return (await (await fetch(`${market.url}/v1/jobs/${id}`, { headers })).json()) as JobView;
};
const account = async (a: string) => (await (await fetch(`${market.url}/v1/accounts/${a}`)).json()) as { balanceMicro: string; stakeMicro: string; node: { slashes: number } | null };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-redundant-'));
});
afterEach(async () => {
  for (const n of nodes.splice(0)) n.close();
  for (const s of sockets.splice(0)) s.terminate();
  await market?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('"redundant" over the live market, without a validator', () => {
  it('k = 3: a lone lying miner is outvoted and slashed, the client gets the majority output and a receipt saying so, money is conserved', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: FAST });
    expect(market.core.params.redundancyK).toBe(3);
    const honestA = await node('red/honest-a');
    const honestB = await node('red/honest-b');
    const liar = await node('red/liar');
    const bystander = await node('red/bystander');
    actAsMiner(honestA, { priceMicro: '1000', stream: true });
    actAsMiner(honestB, { priceMicro: '1100', stream: true });
    actAsMiner(bystander, { priceMicro: '5000' });
    // the liar bids lowest (so it is surely chosen), streams its tokens and answers a wrong output
    actAsMiner(liar, { priceMicro: '900', lie: true, stream: true });
    // every offer says the level, so a miner can price k bids into the client's max price
    const offer = honestA.waitFor((f) => f.type === 'job.offer');

    const clientLabel = 'red/client';
    const client = keysOf(clientLabel);
    await faucet(client.address, '1000000');
    const input: JobInput = { kind: 'prompt', prompt: 'redundant', maxTokens: 16, temperature: 0, seed: 1 };
    const before = ledgerTotals(market.core.state);
    const stakeBefore = BigInt((await account(liar.address)).stakeMicro);
    const res = await submit(clientLabel, 'red-1', input, { verification: 'redundant' });
    expect(res.status).toBe(202);
    expect((await offer) as Extract<ServerMessage, { type: 'job.offer' }>).toMatchObject({ jobId: 'red-1', verification: 'redundant' });

    // the client's token stream gets no replica's tokens: nothing is shown before a majority agrees
    const stream = new WebSocket(`${market.wsUrl.replace(/\/v1\/nodes$/, '')}/v1/jobs/red-1/stream?read=${encodeURIComponent(makeReadToken(client, 'red-1', Date.now() + 60_000))}`);
    sockets.push(stream);
    const streamed: { type: string; output?: unknown }[] = [];
    stream.on('message', (d) => streamed.push(JSON.parse(d.toString()) as { type: string }));

    const slashed = (await liar.waitFor((f) => f.type === 'slashed', 15_000)) as Extract<ServerMessage, { type: 'slashed' }>;
    expect(slashed.reason).toContain('outvoted by redundant miners');
    const done = await until(async () => {
      const j = await view(clientLabel, 'red-1');
      return j.status === 'settled' || j.status === 'failed' ? j : null;
    }, 15_000, 'red-1 to finish');
    expect(done.status).toBe('settled');
    // the majority's output, which the liar's is not
    const truth = fakeInference(input);
    expect(done.output).toEqual(truth);
    expect(hashPayload(done.output!)).not.toBe(hashPayload(fakeInference(input, true)));
    expect([honestA.address, honestB.address]).toContain(done.miner);
    expect((done.result?.body as { outputHash?: string } | undefined)?.outputHash).toBe(hashPayload(truth));
    const r = verifyReceipt(done.receipt, market.marketKey, { jobId: 'red-1', output: done.output });
    expect(r).toMatchObject({ status: 'settled', verification: 'redundant', verdict: 'verified', verified: true, outputLength: 16, expectedLength: 16 });
    expect(r.checkedBy).toEqual([honestA.address, honestB.address].filter((a) => a !== done.miner));

    // both honest replicas are paid their own bids; the liar is slashed, not paid; the bystander was never assigned
    const p = market.core.params;
    const paid = [1000n, 1100n].reduce((s, x) => s + x + bpsOf(x, p.protocolFeeBps), 0n);
    const slashAmount = bpsOf(stakeBefore, p.slashFractionBps);
    expect(BigInt(slashed.amountMicro)).toBe(slashAmount);
    const harmed = slashAmount - bpsOf(slashAmount, p.slashBurnBps) - bpsOf(slashAmount, p.slashChallengerBps);
    expect(BigInt((await account(client.address)).balanceMicro)).toBe(1_000_000n - paid + harmed);
    expect(r.paidMicro).toBe(paid);
    expect(BigInt((await account(liar.address)).stakeMicro)).toBe(stakeBefore - slashAmount);
    expect((await account(liar.address)).node?.slashes).toBe(1);
    await until(() => honestB.frames.some((f) => f.type === 'job.settled') && honestA.frames.some((f) => f.type === 'job.settled'), 5_000, 'both honest replicas told they were paid');
    const settledB = honestB.frames.find((f) => f.type === 'job.settled') as Extract<ServerMessage, { type: 'job.settled' }>;
    expect(settledB.paidMicro).toBe('1100');
    expect(liar.frames.some((f) => f.type === 'job.settled')).toBe(false);
    expect(bystander.frames.some((f) => f.type === 'job.assign')).toBe(false);
    expect(bystander.frames.filter((f) => f.type === 'job.lost' && (f as { jobId: string }).jobId === 'red-1')).toEqual([{ type: 'job.lost', jobId: 'red-1', reason: 'outbid' }]);
    for (const m of [honestA, honestB, liar]) expect(m.frames.filter((f) => f.type === 'job.assign')).toHaveLength(1);
    for (const m of [honestA, honestB, liar]) expect(m.frames.some((f) => f.type === 'job.lost')).toBe(false);

    // no token of any replica reached the client; the only result it saw was the agreed one
    await until(() => streamed.some((m) => m.type === 'done'), 5_000, 'the stream to end');
    expect(streamed.filter((m) => m.type === 'token')).toEqual([]);
    for (const m of streamed.filter((x) => x.type === 'result')) expect(m.output).toEqual(truth);

    // money: nothing minted or lost but the faucet and the burn
    const after = ledgerTotals(market.core.state);
    expect(after.conserved).toBe(true);
    expect(before.conserved).toBe(true);
    expect(checkInvariants(market.core.state)).toEqual([]);
    expect(market.core.state.stats.minerSlashes).toBe(1);
  });

  it('attack: a replica cannot read the others\' outputs before it commits, nor claim agreement itself', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: FAST });
    const a = await node('red2/a');
    const b = await node('red2/b');
    const copier = await node('red2/copier');
    actAsMiner(a, { priceMicro: '1000' });
    actAsMiner(b, { priceMicro: '1000' });
    // the copier bids, then waits for the others and tries to read their output before answering
    copier.onFrame((f) => {
      if (f.type === 'job.offer') copier.raw({ type: 'job.bid', envelope: copier.sign('job.bid', { jobId: (f as { jobId: string }).jobId, priceMicro: '1000' }) });
    });
    const clientLabel = 'red2/client';
    await faucet(keysOf(clientLabel).address, '1000000');
    const input: JobInput = { kind: 'prompt', prompt: 'copy me', maxTokens: 12, temperature: 0, seed: 2 };
    expect((await submit(clientLabel, 'red-2', input, { verification: 'redundant' })).status).toBe(202);
    const assign = (await copier.waitFor((f) => f.type === 'job.assign', 10_000)) as Extract<ServerMessage, { type: 'job.assign' }>;
    await until(() => market.core.state.jobs.get('red-2')!.replicas.filter((r) => r.outputHash !== null).length === 2, 10_000, 'the two others to commit');
    // the public view shows no output (and the client's view none either, before a majority is known)
    expect((await view(null, 'red-2')).output).toBeNull();
    expect((await view(clientLabel, 'red-2')).output).toBeNull();
    // claiming agreement in the signed body is refused: agreement is the market's to compute
    const wrong = { kind: 'tokens' as const, tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], text: 'xxxxxxxxxxxx' };
    const claim = await copier.request({ type: 'job.result', envelope: copier.sign('job.result', { jobId: 'red-2', inputHash: assign.inputHash, outputHash: hashPayload(wrong), agreesWith: [a.address, b.address] }), output: wrong });
    expect(claim).toMatchObject({ type: 'error', code: 'ERR_VALIDATION' });
    expect((claim as { message: string }).message).toContain('agreesWith');
    expect(market.core.state.jobs.get('red-2')!.replicas.find((r) => r.miner === copier.address)!.outputHash).toBeNull();
    // its guess is then simply outvoted
    const ok = await copier.request({ type: 'job.result', envelope: copier.sign('job.result', { jobId: 'red-2', inputHash: assign.inputHash, outputHash: hashPayload(wrong) }), output: wrong });
    expect(ok.type).toBe('ack');
    await copier.waitFor((f) => f.type === 'slashed', 5_000);
    const done = await until(async () => {
      const j = await view(clientLabel, 'red-2');
      return j.status === 'settled' ? j : null;
    }, 10_000, 'red-2 to settle');
    expect(done.output).toEqual(fakeInference(input));
    expect(checkInvariants(market.core.state)).toEqual([]);
  });

  it('agreement is the model\'s comparator, not hash equality: an honest replica with float noise within tolerance is paid, not slashed', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: FAST });
    const a = await node('red4/a');
    const b = await node('red4/b');
    const noisy = await node('red4/noisy');
    actAsMiner(a, { priceMicro: '1000' });
    actAsMiner(b, { priceMicro: '1000', lie: true });
    // digits' comparator is argmax + max-abs ≤ 1e-4: this replica's logits differ by 1e-6 (another CPU's rounding)
    noisy.onFrame((f) => {
      if (f.type === 'job.offer') noisy.raw({ type: 'job.bid', envelope: noisy.sign('job.bid', { jobId: (f as { jobId: string }).jobId, priceMicro: '1000' }) });
      if (f.type !== 'job.assign') return;
      const t = f as Extract<ServerMessage, { type: 'job.assign' }>;
      const out = fakeInference(t.input) as Extract<JobOutput, { kind: 'tensor' }>;
      const raw = Buffer.from(out.tensor.data, 'base64');
      const v = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
      for (let i = 0; i < v.length; i++) v[i] = v[i]! + 1e-6;
      const output: JobOutput = { kind: 'tensor', tensor: { ...out.tensor, data: Buffer.from(v.buffer).toString('base64') } };
      noisy.raw({ type: 'job.result', envelope: noisy.sign('job.result', { jobId: t.jobId, inputHash: t.inputHash, outputHash: hashPayload(output) }), output });
    });
    const clientLabel = 'red4/client';
    await faucet(keysOf(clientLabel).address, '1000000');
    expect((await submit(clientLabel, 'red-4', digitsInput(4), { verification: 'redundant' })).status).toBe(202);
    const done = await until(async () => {
      const j = await view(clientLabel, 'red-4');
      return j.status === 'settled' || j.status === 'failed' ? j : null;
    }, 15_000, 'red-4 to finish');
    expect(done.failure).toBeNull();
    expect(done.status).toBe('settled');
    const reps = market.core.state.jobs.get('red-4')!.replicas;
    expect(new Set(reps.map((r) => r.outputHash)).size).toBe(3);
    expect(Object.fromEntries(reps.map((r) => [r.miner, r.paid]))).toEqual({ [a.address]: true, [noisy.address]: true, [b.address]: false });
    expect((await account(noisy.address)).node?.slashes).toBe(0);
    expect((await account(b.address)).node?.slashes).toBe(1);
    expect(checkInvariants(market.core.state)).toEqual([]);
  });

  it('error: "redundant" with "private": true is refused with 400 naming "verification", and nothing is charged', async () => {
    market = await createMarket({ dbPath: join(dir, 'm.db'), params: FAST });
    const label = 'red3/client';
    await faucet(keysOf(label).address, '1000000');
    const jobKey = encryptionKeyPairFromSeed(new Uint8Array(32).fill(7));
    const plain = { kind: 'prompt', prompt: 'p', maxTokens: 4, temperature: 0, seed: 1 };
    const input = { kind: 'sealed', sealed: sealJson(jobKey.publicKey, plain as unknown as Canonical, new Uint8Array(56).fill(1)) } as unknown as JobInput;
    const res = await submit(label, 'red-3', input, { verification: 'redundant', private: true });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ERR_VALIDATION');
    expect(body.error.message).toContain('"verification"');
    expect(body.error.message).toContain('private');
    expect(BigInt((await account(keysOf(label).address)).balanceMicro)).toBe(1_000_000n);
  });
});
