import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { keyPairFromSeed, sealEnvelope, seedFromLabel, hashPayload, type Canonical, type JobView, type MarketStatsView } from '@infermarket/protocol';
import { createClient, verifyReceipt, float32Tensor } from '@infermarket/client';
import { createInferenceExecutor, createMiner, createNodeConnection, ensureRegistered, httpUrlOf, type Miner, type Executor } from '@infermarket/miner';
import { removeRun, runCli, startMarket, tempDir } from './testnet-helpers.js';
import { join } from 'node:path';
import { connect } from 'node:net';

// A real market process on 127.0.0.1, a real miner (in this process, on the real ONNX runtime) over a
// real WebSocket, and a client using the SDK over real HTTP. First one honest job and its receipt, then
// hostile inputs: every one is refused with a coded 4xx or ws error frame, and the ledger does not move.

let market: Awaited<ReturnType<typeof startMarket>>;
let dir: string;
let miner: Miner;
let executor: Executor;
const client = () => createClient({ url: market.url, key: seedFromLabel('e2e/hostile/client') });

async function stats(): Promise<MarketStatsView> {
  return (await (await fetch(`${market.url}/v1/stats`)).json()) as MarketStatsView;
}
async function post(path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; code: string; message: string }> {
  const res = await fetch(`${market.url}${path}`, { method: 'POST', headers, body });
  const j = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, code: j.error?.code ?? '', message: j.error?.message ?? '' };
}
/**
 * A request that announces a body far over the limit but sends only its first kilobyte, over a raw socket:
 * the market must answer 413 from the Content-Length alone. (Writing the whole body with fetch races the
 * market's early answer and closed socket, and fails now and then with EPIPE instead of the 413.)
 */
async function postOversized(path: string, declaredBytes: number): Promise<{ status: number; code: string }> {
  const u = new URL(market.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      text += d;
      const head = text.indexOf('\r\n\r\n');
      const m = text.match(/\"code\":\"([A-Z_]+)\"/);
      if (head >= 0 && m) {
        sock.destroy();
        resolve({ status: Number(text.slice(9, 12)), code: m[1]! });
      }
    });
    sock.on('error', reject);
    sock.write(`POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${declaredBytes}\r\n\r\n{"pad":"${'x'.repeat(1024)}`);
  });
}
const ledgerOf = (s: MarketStatsView) => s.ledger;
/** The ledger totals, read after the stats cache (~250 ms) has certainly refreshed. */
async function ledgerNow(): Promise<MarketStatsView['ledger']> {
  await new Promise((r) => setTimeout(r, 400));
  return ledgerOf(await stats());
}

beforeAll(async () => {
  dir = tempDir('hostile');
  market = await startMarket(['--db', join(dir, 'market.db'), '--params', JSON.stringify({ challengeWindowMs: 300, auditRate: 0, bidWindowMs: 250 })]);
  executor = createInferenceExecutor({});
  miner = createMiner({ wsUrl: market.wsUrl, keys: keyPairFromSeed(seedFromLabel('e2e/hostile/miner')), executor, models: ['digits', 'charlm'], log: () => {} });
  await miner.ready();
}, 60_000);

afterAll(async () => {
  await miner?.stop();
  await executor?.close();
  await market?.stop();
  removeRun(dir);
});

describe('receipts from a real market', () => {
  let job: JobView;
  let inputHash: string;
  beforeAll(async () => {
    const c = client();
    await c.faucet(10_000_000n);
    const px = new Float32Array(784).fill(0.5);
    const input = { kind: 'tensor' as const, tensor: float32Tensor(px, [1, 784]) };
    const sub = await c.submit({ model: 'digits', input, maxPriceMicro: 100_000n });
    inputHash = sub.inputHash;
    job = await c.wait(sub.jobId, { timeoutMs: 20_000 });
  }, 30_000);

  it('verifies the signed receipt of a settled job against the market key', () => {
    expect(job.status).toBe('settled');
    const r = verifyReceipt(job.receipt, market.marketKey, { jobId: job.id, inputHash, output: job.output });
    expect(r.status).toBe('settled');
    expect(r.miner).toBe(miner.address);
    expect(r.paidMicro).toBeGreaterThan(0n);
  });

  it('error: rejects a forged receipt (altered amount, or signed by another key)', () => {
    const receipt = job.receipt!;
    const altered = { ...receipt, body: { ...(receipt.body as Record<string, Canonical>), paidMicro: '1' } };
    expect(() => verifyReceipt(altered, market.marketKey)).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
    const mallory = keyPairFromSeed(seedFromLabel('e2e/mallory'));
    const forged = { ...sealEnvelope(mallory, 'job.receipt', receipt.body), signer: market.marketKey };
    expect(() => verifyReceipt(forged, market.marketKey)).toThrow(expect.objectContaining({ code: 'ERR_BAD_SIGNATURE' }));
    expect(() => verifyReceipt(sealEnvelope(mallory, 'job.receipt', receipt.body), market.marketKey)).toThrow(/not by the market key/);
  });
});

describe('client commands against the real market', () => {
  it('submit: sends a digit, waits, and verifies the receipt against the pinned market key', async () => {
    const r = await runCli(['submit', '--market', market.url, '--model', 'digits', '--digit', '3', '--faucet', '1000000', '--key-seed', 'e2e/submit', '--market-key', market.marketKey, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { job, receipt } = JSON.parse(r.stdout) as { job: JobView; receipt: { signatureValid: boolean; verified: boolean; pinned: boolean } };
    expect(job.status).toBe('settled');
    expect(receipt).toMatchObject({ signatureValid: true, pinned: true, verification: 'sampled' });
  });

  it('probe: every result agrees with the local reference run, with receipts verified and costs counted', async () => {
    const r = await runCli(['probe', '--market', market.url, '--model', 'digits', '--n', '6', '--concurrency', '1', '--market-key', market.marketKey, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as { n: number; settled: number; agreement: { checked: number; rate: number }; receipts: { verified: number; rejected: number }; costMicro: { total: string }; latencyMs: { p50: number } };
    expect(p.settled).toBe(6);
    expect(p.agreement).toMatchObject({ checked: 6, rate: 1 });
    expect(p.receipts).toEqual({ verified: 6, rejected: 0 });
    expect(BigInt(p.costMicro.total)).toBeGreaterThan(0n);
    expect(p.latencyMs.p50).toBeGreaterThan(0);
  });
});

describe('hostile inputs through real HTTP and WebSocket', () => {
  let before: MarketStatsView['ledger'];

  it('error: refuses malformed, unknown-field, oversized and absurd HTTP requests with coded 4xx', async () => {
    const addr = client().address;
    const balance = await client().balance();
    before = await ledgerNow();
    expect(await post('/v1/faucet', '{"address": "im')).toMatchObject({ status: 400, code: 'ERR_BAD_JSON' });
    expect(await post('/v1/faucet', JSON.stringify({ address: addr, amountMicro: '5', extra: 1 }))).toMatchObject({ status: 400, code: 'ERR_VALIDATION' });
    expect(await post('/v1/faucet', JSON.stringify({ address: addr, amountMicro: '-5' }))).toMatchObject({ status: 400 });
    const absurd = await post('/v1/faucet', JSON.stringify({ address: addr, amountMicro: '1' + '0'.repeat(40) }));
    expect(absurd.status).toBeGreaterThanOrEqual(400);
    expect(absurd.status).toBeLessThan(500);
    expect(await postOversized('/v1/faucet', 2_000_000)).toEqual({ status: 413, code: 'ERR_BODY_TOO_LARGE' });
    expect(await ledgerNow()).toEqual(before);
    expect(await client().balance()).toBe(balance);
  });

  it('error: refuses bad job submissions: unknown model, wrong tensor shape, bad signature, replay', async () => {
    const keys = keyPairFromSeed(seedFromLabel('e2e/hostile/client'));
    const now = Date.now();
    const input = { kind: 'tensor', tensor: float32Tensor(new Float32Array(784), [1, 784]) } as const;
    let seq = 0;
    const body = (over: Record<string, Canonical>) => ({ jobId: `h${Math.random().toString(36).slice(2, 10)}`, model: 'digits', inputHash: hashPayload(input), maxPriceMicro: 50_000n, nonce: String(now * 1000 + ++seq), expiresAtMs: now + 20_000, ...over });
    const submit = (env: unknown, inp: unknown = input) => post('/v1/jobs', JSON.stringify({ envelope: env, input: inp }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    before = await ledgerNow();

    expect(await submit(sealEnvelope(keys, 'job.submit', body({ model: 'gpt-9' })))).toMatchObject({ status: 400, code: 'ERR_UNKNOWN_MODEL' });
    const wrong = { kind: 'tensor', tensor: float32Tensor(new Float32Array(100), [1, 100]) } as const;
    const wrongEnv = sealEnvelope(keys, 'job.submit', body({ inputHash: hashPayload(wrong) }));
    const shape = await submit(wrongEnv, wrong);
    expect(shape).toMatchObject({ status: 400, code: 'ERR_BAD_INPUT' });
    const env = sealEnvelope(keys, 'job.submit', body({}));
    const tampered = { ...env, body: { ...(env.body as Record<string, Canonical>), maxPriceMicro: '1' } };
    expect(await submit(tampered)).toMatchObject({ status: 401, code: 'ERR_BAD_SIGNATURE' });
    expect(await ledgerNow()).toEqual(before);
    // the genuine envelope is accepted once (moving money), then its replay is refused
    const first = await fetch(`${market.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope: env, input }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) });
    expect(first.status).toBe(202);
    await client().wait((env.body as { jobId: string }).jobId, { timeoutMs: 20_000 });
    before = await ledgerNow();
    const replay = await submit(env);
    expect(replay.status).toBe(409);
    expect(['ERR_REPLAY', 'ERR_DUPLICATE']).toContain(replay.code);
    expect(await ledgerNow()).toEqual(before);
  });

  it('error: refuses unauthenticated, malformed and unassigned WebSocket messages, and keeps serving', async () => {
    // before login
    const raw = new WebSocket(market.wsUrl);
    const frames: Record<string, unknown>[] = [];
    raw.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
    await new Promise((r) => raw.once('open', r));
    const keys = keyPairFromSeed(seedFromLabel('e2e/hostile/rogue'));
    raw.send(JSON.stringify({ type: 'node.register', ref: 'x1', envelope: sealEnvelope(keys, 'node.register', { role: 'miner', models: ['digits'], variant: 'int8', region: 'local', encryptionKey: null, nonce: '1', expiresAtMs: Date.now() + 10_000 }) }));
    raw.send('{not json');
    await new Promise((r) => setTimeout(r, 300));
    const codes = frames.filter((f) => f.type === 'error').map((f) => f.code);
    expect(codes).toContain('ERR_UNAUTHENTICATED');
    expect(codes).toContain('ERR_BAD_JSON');
    raw.close();

    // a logged-in, registered miner sends a result for a job it was not assigned
    const conn = createNodeConnection({ wsUrl: market.wsUrl, keys, onMessage: () => {}, reconnect: false });
    await conn.ready();
    await ensureRegistered(conn, keys, httpUrlOf(market.wsUrl), { role: 'miner', models: ['digits'], variant: 'int8', region: 'local', encryptionKey: null, stakeMicro: 200_000_000n });
    before = ledgerOf(await stats());
    const output = { kind: 'tensor' as const, tensor: float32Tensor(new Float32Array(10), [1, 10]) };
    const c = client();
    const sub = await c.submit({ model: 'digits', input: { kind: 'tensor', tensor: float32Tensor(new Float32Array(784).fill(0.2), [1, 784]) }, maxPriceMicro: 100_000n });
    const done = await c.wait(sub.jobId, { timeoutMs: 20_000 });
    expect(done.miner).not.toBe(keys.address);
    before = await ledgerNow();
    const err = await conn
      .request({ type: 'job.result', envelope: conn.seal('job.result', { jobId: sub.jobId, inputHash: sub.inputHash, outputHash: hashPayload(output) }) as never, output })
      .then(() => null, (e: { code: string }) => e.code);
    expect(['ERR_NOT_ASSIGNED', 'ERR_WRONG_STATE']).toContain(err);
    const ghost = await conn
      .request({ type: 'job.result', envelope: conn.seal('job.result', { jobId: 'no-such-job', inputHash: sub.inputHash, outputHash: hashPayload(output) }) as never, output })
      .then(() => null, (e: { code: string }) => e.code);
    expect(ghost).toBe('ERR_UNKNOWN_JOB');
    await conn.close();
  });

  it('left the ledger exactly as it was, and the market still serves', async () => {
    expect(await ledgerNow()).toEqual(before);
    const after = await stats();
    expect(after.ledger.conserved).toBe(true);
    expect(after.invariantViolations).toEqual([]);
    const health = await fetch(`${market.url}/v1/health`);
    expect(health.status).toBe(200);
  });
});
