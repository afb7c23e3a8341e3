import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPayload, ledgerTotals, sealEnvelope } from '@infermarket/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMarket, type Market } from './market.js';
import { connectNode, digitsInput, keysOf, registerAndBond, submitRequest, type TestNode } from './test-node.js';

let dir: string;
let market: Market;
const client = keysOf('hostile/client');

/** Ledger and event count as they are now: a rejected input must leave both as they were. */
function snapshot(): string {
  const t = ledgerTotals(market.core.state);
  return JSON.stringify({ seq: market.core.state.seq, ledger: [...market.core.state.ledger].map(([k, v]) => [k, v.toString()]), minted: t.mintedMicro.toString() });
}

async function post(path: string, body: string | Record<string, unknown>, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const r = await fetch(`${market.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } & Record<string, unknown> };
}

/** Send a hostile request and check: the code, a message naming the field, nothing changed, still serving. */
async function rejects(req: () => Promise<{ status: number; body: { error?: { code: string; message: string } } }>, status: number, code: string, names?: RegExp) {
  const before = snapshot();
  const res = await req();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error?.code).toBe(code);
  if (names) expect(res.body.error?.message).toMatch(names);
  expect(snapshot()).toBe(before);
  const health = await fetch(`${market.url}/v1/health`);
  expect(health.status).toBe(200);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'im-hostile-'));
  market = await createMarket({ dbPath: join(dir, 'm.db'), params: { bidWindowMs: 60_000 } });
  expect((await post('/v1/faucet', { address: client.address, amountMicro: '1000000' })).status).toBe(200);
});
afterAll(async () => {
  await market.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('market: hostile HTTP input is rejected with a code naming the field, and changes nothing', () => {
  it('error: malformed JSON → ERR_BAD_JSON', () => rejects(() => post('/v1/faucet', '{"address": "im', { 'content-type': 'application/json' }), 400, 'ERR_BAD_JSON'));

  it('error: an unknown field → ERR_VALIDATION naming it', () =>
    rejects(() => post('/v1/faucet', { address: client.address, amountMicro: '5', bonus: '1' }), 400, 'ERR_VALIDATION', /bonus/));

  it('error: negative, fractional and numeric amounts → ERR_VALIDATION naming amountMicro', async () => {
    await rejects(() => post('/v1/faucet', { address: client.address, amountMicro: '-5' }), 400, 'ERR_VALIDATION', /amountMicro/);
    await rejects(() => post('/v1/faucet', { address: client.address, amountMicro: '1.5' }), 400, 'ERR_VALIDATION', /amountMicro/);
    await rejects(() => post('/v1/faucet', { address: client.address, amountMicro: 5 }), 400, 'ERR_VALIDATION', /amountMicro/);
    await rejects(() => post('/v1/faucet', { address: client.address, amountMicro: '0' }), 400, 'ERR_VALIDATION', /amountMicro/);
  });

  it('error: an absurd amount → ERR_FAUCET_CAP', () =>
    rejects(() => post('/v1/faucet', { address: client.address, amountMicro: '1'.padEnd(39, '0') }), 429, 'ERR_FAUCET_CAP', /amountMicro|cap/));

  it('error: a malformed address → ERR_VALIDATION naming address', () =>
    rejects(() => post('/v1/faucet', { address: 'bob', amountMicro: '5' }), 400, 'ERR_VALIDATION', /address/));

  it('error: an oversized body → 413 ERR_BODY_TOO_LARGE', () =>
    rejects(() => post('/v1/faucet', { address: client.address, amountMicro: '5', pad: 'x'.repeat(market.app.initialConfig.bodyLimit! + 1024) }), 413, 'ERR_BODY_TOO_LARGE'));

  it('error: a tensor of the wrong shape → ERR_BAD_INPUT naming expected and received dims', async () => {
    const a = Buffer.alloc(783 * 4).toString('base64');
    const input = { kind: 'tensor' as const, tensor: { dtype: 'float32' as const, dims: [1, 783], data: a } };
    await rejects(() => post('/v1/jobs', submitRequest(client, { jobId: 'bad-shape', input })), 400, 'ERR_BAD_INPUT', /dims.*784.*783/);
  });

  it('error: a tensor of the wrong dtype → ERR_BAD_INPUT naming both dtypes', async () => {
    const input = { kind: 'tensor' as const, tensor: { dtype: 'int32' as const, dims: [1, 784], data: Buffer.alloc(784 * 4).toString('base64') } };
    await rejects(() => post('/v1/jobs', submitRequest(client, { jobId: 'bad-dtype', input })), 400, 'ERR_BAD_INPUT', /float32.*int32/);
  });

  it('error: tensor data shorter than its dims → ERR_BAD_INPUT', async () => {
    const input = { kind: 'tensor' as const, tensor: { dtype: 'float32' as const, dims: [1, 784], data: Buffer.alloc(16).toString('base64') } };
    await rejects(() => post('/v1/jobs', submitRequest(client, { jobId: 'bad-data', input })), 400, 'ERR_BAD_INPUT', /data/);
  });

  it('error: a prompt asking for too many tokens → ERR_BAD_INPUT naming maxTokens', async () => {
    const input = { kind: 'prompt' as const, prompt: 'hi', maxTokens: 100_000, temperature: 0, seed: 1 };
    await rejects(() => post('/v1/jobs', submitRequest(client, { jobId: 'bad-tokens', model: 'charlm', input })), 400, 'ERR_BAD_INPUT', /maxTokens/);
  });

  it('error: an unknown model → ERR_UNKNOWN_MODEL', () =>
    rejects(() => post('/v1/jobs', submitRequest(client, { jobId: 'bad-model', model: 'gpt-9' })), 400, 'ERR_UNKNOWN_MODEL', /model/));

  it('error: a bad signature → ERR_BAD_SIGNATURE', async () => {
    const req = submitRequest(client, { jobId: 'bad-sig' }) as { envelope: { body: Record<string, unknown> } };
    req.envelope.body.maxPriceMicro = '4000'; // tampered after signing
    await rejects(() => post('/v1/jobs', req), 401, 'ERR_BAD_SIGNATURE');
  });

  it('error: an input that does not hash to inputHash → ERR_VALIDATION naming inputHash', async () => {
    const req = submitRequest(client, { jobId: 'bad-hash' }) as { input: unknown };
    req.input = digitsInput(99);
    await rejects(() => post('/v1/jobs', req), 400, 'ERR_VALIDATION', /inputHash/);
  });

  it('error: a max price above the balance → ERR_INSUFFICIENT_BALANCE', () =>
    rejects(() => post('/v1/jobs', submitRequest(client, { jobId: 'too-rich', maxPriceMicro: '900000000' })), 402, 'ERR_INSUFFICIENT_BALANCE', /maxPriceMicro/));

  it('error: a replayed submission → ERR_REPLAY, the first one stands', async () => {
    const req = submitRequest(client, { jobId: 'once' });
    const first = await post('/v1/jobs', req);
    expect(first.status).toBe(202);
    await rejects(() => post('/v1/jobs', req), 409, 'ERR_REPLAY', /nonce/);
  });

  it('error: unknown routes and jobs → ERR_NOT_FOUND / ERR_UNKNOWN_JOB', async () => {
    const r = await fetch(`${market.url}/v1/nope`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ERR_NOT_FOUND');
    const q = await fetch(`${market.url}/v1/jobs?limit=lots`);
    expect(q.status).toBe(400);
    expect(((await q.json()) as { error: { message: string } }).error.message).toMatch(/querystring\.limit/);
    const j = await fetch(`${market.url}/v1/jobs/missing-job`);
    expect(j.status).toBe(404);
    expect(((await j.json()) as { error: { code: string } }).error.code).toBe('ERR_UNKNOWN_JOB');
  });
});

describe('market: hostile WebSocket messages get error frames with their ref, and change nothing', () => {
  let miner: TestNode;
  let other: TestNode;
  beforeAll(async () => {
    miner = await connectNode(market.wsUrl, 'hostile/miner');
    other = await connectNode(market.wsUrl, 'hostile/other');
    for (const n of [miner, other]) expect((await post('/v1/faucet', { address: n.address, amountMicro: '500000000' })).status).toBe(200);
    await registerAndBond(miner, 'miner');
    await registerAndBond(other, 'miner');
  });
  afterAll(() => {
    miner.close();
    other.close();
  });

  async function frameRejects(node: TestNode, msg: Record<string, unknown>, code: string, names?: RegExp) {
    const before = snapshot();
    const f = (await node.request(msg)) as { type: string; code?: string; message?: string };
    expect(f.type, JSON.stringify(f)).toBe('error');
    expect(f.code).toBe(code);
    if (names) expect(f.message).toMatch(names);
    expect(snapshot()).toBe(before);
  }

  it('error: messages before login → ERR_UNAUTHENTICATED', async () => {
    const anon = await connectNode(market.wsUrl, 'hostile/anon', { login: false });
    await frameRejects(anon, { type: 'stake.bond', envelope: anon.sign('stake.bond', { amountMicro: '5' }) }, 'ERR_UNAUTHENTICATED');
    // a login over someone else's challenge is refused
    await frameRejects(anon, { type: 'auth.login', envelope: anon.sign('auth.login', { challenge: 'f'.repeat(64) }) }, 'ERR_UNAUTHENTICATED', /challenge/);
    anon.close();
  });

  it('error: malformed JSON → ERR_BAD_JSON, and the connection keeps serving', async () => {
    miner.raw('{"type": "job.bid", ');
    await miner.waitFor((f) => f.type === 'error' && (f as { code: string }).code === 'ERR_BAD_JSON');
    const ok = await miner.request({ type: 'stake.bond', envelope: miner.sign('stake.bond', { amountMicro: '1' }) });
    expect(ok.type).toBe('ack');
  });

  it('error: a bad signature → ERR_BAD_SIGNATURE', async () => {
    const env = miner.sign('stake.bond', { amountMicro: '1000' });
    (env.body as Record<string, unknown>).amountMicro = '1000000';
    await frameRejects(miner, { type: 'stake.bond', envelope: env }, 'ERR_BAD_SIGNATURE');
  });

  it('error: an envelope signed by another key than the logged-in node → ERR_UNAUTHENTICATED', async () => {
    await frameRejects(miner, { type: 'stake.bond', envelope: sealEnvelope(other.keys, 'stake.bond', { amountMicro: '1', nonce: 'x1', expiresAtMs: Date.now() + 5000 }) }, 'ERR_UNAUTHENTICATED', /signed by/);
  });

  it('error: a replayed message → ERR_REPLAY', async () => {
    const env = miner.sign('stake.bond', { amountMicro: '7' });
    expect((await miner.request({ type: 'stake.bond', envelope: env })).type).toBe('ack');
    await frameRejects(miner, { type: 'stake.bond', envelope: env }, 'ERR_REPLAY');
  });

  it('error: unknown fields and negative amounts → ERR_VALIDATION naming the field', async () => {
    await frameRejects(miner, { type: 'stake.bond', envelope: miner.sign('stake.bond', { amountMicro: '5', bonus: '9' }) }, 'ERR_VALIDATION', /bonus/);
    await frameRejects(miner, { type: 'stake.bond', envelope: miner.sign('stake.bond', { amountMicro: '-5' }) }, 'ERR_VALIDATION', /amountMicro/);
    await frameRejects(miner, { type: 'teleport' }, 'ERR_VALIDATION', /type/);
  });

  it('error: a result from a miner that was not assigned → ERR_NOT_ASSIGNED', async () => {
    const input = digitsInput(5);
    const submitted = await post('/v1/jobs', submitRequest(client, { jobId: 'not-yours', input }));
    expect(submitted.status).toBe(202);
    const output = { kind: 'tokens' as const, tokens: [1, 2], text: 'ab' };
    // the job is still bidding (60 s window): nobody is assigned, so no miner may commit a result
    const f = (await other.request({
      type: 'job.result',
      envelope: other.sign('job.result', { jobId: 'not-yours', inputHash: hashPayload(input), outputHash: hashPayload(output) }),
      output,
    })) as { type: string; code?: string };
    expect(f.type).toBe('error');
    expect(['ERR_WRONG_STATE', 'ERR_NOT_ASSIGNED']).toContain(f.code);
    // and an output that does not hash to the signed outputHash is refused before the rules see it
    await frameRejects(other, {
      type: 'job.result',
      envelope: other.sign('job.result', { jobId: 'not-yours', inputHash: hashPayload(input), outputHash: 'a'.repeat(64) }),
      output,
    }, 'ERR_VALIDATION', /outputHash/);
  });

  it('error: a flood of messages → ERR_RATE_LIMITED, the connection is closed with 4029, and a new one is served', async () => {
    const flood = await connectNode(market.wsUrl, 'hostile/flood');
    const closed = new Promise<number>((r) => flood.ws.on('close', (code) => r(code)));
    const n = 20_000; // the bucket holds 2 s worth at 2,000 messages/s
    for (let i = 0; i < n && flood.ws.readyState === flood.ws.OPEN; i++) flood.raw({ type: 'pong', t: i });
    const limited = await flood.waitFor((f) => f.type === 'error' && (f as { code: string }).code === 'ERR_RATE_LIMITED');
    expect(limited).toBeTruthy();
    expect(await closed).toBe(4029);
    expect((await fetch(`${market.url}/v1/health`)).status).toBe(200);
    const again = await connectNode(market.wsUrl, 'hostile/flood');
    const f = (await again.request({ type: 'stake.bond', envelope: again.sign('stake.bond', { amountMicro: '1' }) })) as { code?: string };
    expect(f.code).toBe('ERR_NOT_ELIGIBLE'); // a key that is not registered may only log in and register
    again.close();
  });
});
