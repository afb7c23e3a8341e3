import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { checkInvariants, hashPayload, keyPairFromSeed, ledgerTotals, makeReadToken, sealEnvelope, seedFromLabel, type Canonical } from '@infermarket/protocol';
import { verifyReceipt } from '@infermarket/client';
import { createMarket, type Market } from '@infermarket/market';
import { actAsMiner, digits, http, keysOf, nonce, rawNode, registerAndBond, submitBody, type Frame, type RawNode } from './security-raw.js';

// Issue #12, attacked as an adversary would: raw fetch and ws against a real market on 127.0.0.1 (real
// SQLite file, real sockets), no SDK. Each attack must fail, and the ledger must stay conserved and
// unchanged where the attack is refused.

let dir: string;
let market: Market;
const nodes: RawNode[] = [];
const client = keysOf('client');
const bystander = keysOf('bystander');

const snapshot = (): string => JSON.stringify([...market.core.state.ledger].map(([k, v]) => [k, v.toString()]).sort());
const conserved = (): void => {
  expect(ledgerTotals(market.core.state).conserved).toBe(true);
  expect(checkInvariants(market.core.state)).toEqual([]);
};
const read = (jobId: string, who = client) => ({ 'x-infermarket-read': makeReadToken(who, jobId, market.core.now() + 20_000) });
async function settled(jobId: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (market.core.state.jobs.get(jobId)?.status !== 'settled') {
    if (Date.now() > end) throw new Error(`job ${jobId} is ${market.core.state.jobs.get(jobId)?.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'im-security-'));
  market = await createMarket({ dbPath: join(dir, 'm.db'), params: { bidWindowMs: 500, challengeWindowMs: 100, auditRate: 0 } });
  for (const k of [client, bystander]) expect((await http(market.url, '/v1/faucet', { body: { address: k.address, amountMicro: '100000000' } })).status).toBe(200);
  const miner = await rawNode(market.wsUrl, keysOf('miner'));
  nodes.push(miner);
  await http(market.url, '/v1/faucet', { body: { address: miner.keys.address, amountMicro: '500000000' } });
  await registerAndBond(miner, 'miner');
  await actAsMiner(miner);
});
afterAll(async () => {
  for (const n of nodes) n.ws.terminate();
  await market?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('attack 1: forge a receipt with a key derived from public data', () => {
  it('error: a receipt signed with the seed-derived key fails verifyReceipt; the key is random, 0600, reused', async () => {
    const health = (await http(market.url, '/v1/health')).json as Record<string, unknown>;
    expect(Object.keys(health).sort()).toEqual(['marketKey', 'nowMs', 'ok', 'seq']); // no seed published
    // the old derivation (seed 1, or any seed an attacker tries)
    for (const seed of [0, 1, 2, 42]) {
      const forgedKey = keyPairFromSeed(seedFromLabel(`infermarket/market/${seed}`));
      const body = { jobId: 'never-ran', model: 'digits', client: client.address, inputHash: 'a'.repeat(64), outputHash: 'b'.repeat(64), miner: null, status: 'settled', priceMicro: '1', paidMicro: '1', audited: true, finishedAtMs: 1 };
      const forged = sealEnvelope(forgedKey, 'job.receipt', body as unknown as Canonical);
      expect(() => verifyReceipt(forged, String(health.marketKey))).toThrow();
      expect(() => verifyReceipt({ ...forged, signer: health.marketKey }, String(health.marketKey))).toThrow();
    }
    const file = join(dir, 'm.db.market-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps the key across a restart on the same file, and a genuine receipt still verifies', async () => {
    const other = await createMarket({ dbPath: join(dir, 'other.db') });
    expect(other.marketKey).not.toBe(market.marketKey); // random per database, not per seed
    const key = other.marketKey;
    await other.close();
    const again = await createMarket({ dbPath: join(dir, 'other.db') });
    expect(again.marketKey).toBe(key);
    await again.close();
  });
});

describe('attack 2: a key with no private key (small order) and R = identity, S = 0', () => {
  const identity = `01${'00'.repeat(31)}`;
  const zeroSig = `01${'00'.repeat(63)}`;

  it('error: a job submitted under the identity key is refused and nothing moves', async () => {
    const before = snapshot();
    const seq = market.core.state.seq;
    const body = { jobId: 'small-order', model: 'digits', inputHash: hashPayload(digits()), maxPriceMicro: '5000', nonce: nonce(), expiresAtMs: Date.now() + 20_000 };
    const r = await http(market.url, '/v1/jobs', { body: { envelope: { type: 'job.submit', body, signer: identity, sig: zeroSig }, input: digits() } });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('ERR_BAD_SIGNATURE');
    expect(snapshot()).toBe(before);
    expect(market.core.state.seq).toBe(seq);
  });

  it('error: a WebSocket login with the identity key gets an error, never auth.ok', async () => {
    const n = await rawNode(market.wsUrl, client, { loginEnvelope: (challenge) => ({ type: 'auth.login', body: { challenge, nonce: nonce(), expiresAtMs: Date.now() + 20_000 }, signer: identity, sig: zeroSig }) });
    nodes.push(n);
    expect(n.frames.some((f) => f.type === 'auth.ok')).toBe(false);
    expect(n.frames.find((f) => f.type === 'error')?.code).toBe('ERR_BAD_SIGNATURE');
    const r = await n.request({ type: 'node.register', envelope: { type: 'node.register', body: {}, signer: identity, sig: zeroSig } });
    expect(r.code).toBe('ERR_UNAUTHENTICATED');
    conserved();
  });
});

describe('attack 3: read other clients\' outputs, tokens, streams and lists', () => {
  const prompt = { kind: 'prompt' as const, prompt: 'secret text', maxTokens: 8, temperature: 0, seed: 3 };

  it('error: a bystander sees metadata only, and the owner sees everything', async () => {
    expect((await http(market.url, '/v1/jobs', { body: submitBody(client, { jobId: 'owned-1', model: 'charlm', input: prompt }) })).status).toBe(202);
    await settled('owned-1');
    const anon = (await http(market.url, '/v1/jobs/owned-1')).json;
    expect(anon).toMatchObject({ id: 'owned-1', status: 'settled', model: 'charlm', output: null, result: null, receipt: null });
    expect(anon.priceMicro).toMatch(/^\d+$/);
    expect(JSON.stringify(anon)).not.toContain('tokens');
    // a token signed by somebody else for this job is refused outright
    const foreign = await http(market.url, '/v1/jobs/owned-1', { headers: read('owned-1', bystander) });
    expect(foreign.status).toBe(401);
    expect(foreign.json.error.code).toBe('ERR_UNAUTHENTICATED');
    // an expired token, and one too far ahead
    const expired = await http(market.url, `/v1/jobs/owned-1?read=${makeReadToken(client, 'owned-1', market.core.now() - 1)}`);
    expect(expired.json.error.code).toBe('ERR_UNAUTHENTICATED');
    const mine = (await http(market.url, '/v1/jobs/owned-1', { headers: read('owned-1') })).json;
    expect(mine.output.kind).toBe('tokens');
    expect(mine.receipt.type).toBe('job.receipt');
  });

  it('error: job lists need the client\'s own token and show only its jobs', async () => {
    const anon = await http(market.url, '/v1/jobs');
    expect(anon.status).toBe(401);
    expect(anon.json.error.code).toBe('ERR_UNAUTHENTICATED');
    const spy = await http(market.url, `/v1/jobs?client=${client.address}`, { headers: read('*', bystander) });
    expect(spy.status).toBe(401);
    const own = await http(market.url, '/v1/jobs', { headers: read('*', bystander) });
    expect(own.json.jobs).toEqual([]);
    const clients = await http(market.url, '/v1/jobs', { headers: read('*') });
    expect(clients.json.jobs.map((j: { id: string }) => j.id)).toContain('owned-1');
  });

  it('error: a bystander\'s stream gets no token and no result, only ERR_UNAUTHENTICATED', async () => {
    const frames: Frame[] = [];
    const ws = new WebSocket(`${market.url.replace('http', 'ws')}/v1/jobs/owned-1/stream`);
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
    const code = await new Promise<number>((r) => ws.on('close', (c) => r(c)));
    expect(code).toBe(1008);
    expect(frames.map((f) => f.type)).toEqual(['error']);
    expect(frames[0]!.code).toBe('ERR_UNAUTHENTICATED');
  });

  it('error: a miner that reads earlier outputs from the API to replay them gets nothing to replay', async () => {
    // the copying miner is registered; it looks for the output of a job with the same input as its new one
    const copier = await rawNode(market.wsUrl, keysOf('copier'));
    nodes.push(copier);
    const list = await http(market.url, `/v1/jobs?client=${client.address}`, { headers: read('*', copier.keys) });
    expect(list.status).toBe(401);
    const view = (await http(market.url, '/v1/jobs/owned-1', { headers: {} })).json;
    expect(view.output).toBeNull();
    const stream = await new Promise<Frame[]>((resolve) => {
      const got: Frame[] = [];
      const ws = new WebSocket(`${market.url.replace('http', 'ws')}/v1/jobs/owned-1/stream?read=${makeReadToken(copier.keys, 'owned-1', market.core.now() + 10_000)}`);
      ws.on('message', (d) => got.push(JSON.parse(String(d)) as Frame));
      ws.on('close', () => resolve(got));
    });
    expect(stream.some((f) => f.type === 'token' || f.type === 'result' || f.type === 'done')).toBe(false);
    conserved();
  });
});

describe('attack 8/9/10/11: limits and errors in the documented shape', () => {
  it('accepts job ids up to 128 characters end to end, refuses 129 with ERR_VALIDATION and absurd ones with ERR_URI_TOO_LONG', async () => {
    const id = `j${'x'.repeat(127)}`;
    expect((await http(market.url, '/v1/jobs', { body: submitBody(client, { jobId: id }) })).status).toBe(202);
    await settled(id);
    const v = await http(market.url, `/v1/jobs/${id}`, { headers: read(id) });
    expect(v.status).toBe(200);
    expect(v.json.output.kind).toBe('tensor');
    const before = snapshot();
    const long = await http(market.url, '/v1/jobs', { body: submitBody(client, { jobId: `${id}y` }) });
    expect(long.status).toBe(400);
    expect(long.json.error.code).toBe('ERR_VALIDATION');
    expect((await http(market.url, `/v1/jobs/${id}y`)).json.error.code).toBe('ERR_VALIDATION');
    const absurd = await http(market.url, `/v1/jobs/${'z'.repeat(400)}`);
    expect(absurd.status).toBe(414);
    expect(absurd.json.error.code).toBe('ERR_URI_TOO_LONG');
    expect(snapshot()).toBe(before);
  });

  it('answers 400 for a bad URL, 415 for a wrong content type, 431 for huge headers and 400 for malformed HTTP, all as { error: { code, message } }', async () => {
    const bad = await http(market.url, '/v1/jobs/%E0%A4%A');
    expect([bad.status, bad.json.error.code]).toEqual([400, 'ERR_BAD_HTTP']);
    const media = await http(market.url, '/v1/faucet', { body: '<x/>', headers: { 'content-type': 'application/xml' } });
    expect([media.status, media.json.error.code]).toEqual([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const u = new URL(market.url);
        const sock = connect(Number(u.port), u.hostname);
        let out = '';
        sock.on('data', (d) => (out += String(d)));
        sock.on('close', () => resolve(out));
        sock.on('error', () => resolve(out));
        sock.write(text);
      });
    const huge = await raw(`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4)).error.code).toBe('ERR_HEADERS_TOO_LARGE');
    const junk = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(junk).toMatch(/^HTTP\/1\.1 400/);
    expect(JSON.parse(junk.slice(junk.indexOf('\r\n\r\n') + 4)).error.code).toBe('ERR_BAD_HTTP');
    expect((await http(market.url, '/v1/health')).status).toBe(200);
  });

  it('takes a digits batch job of 64 rows (priced per row), plain and sealed-size, within the body limit', async () => {
    const batch = digits(1, 64);
    const r = await http(market.url, '/v1/jobs', { body: submitBody(client, { jobId: 'batch-64', input: batch, maxPriceMicro: '50000', rows: 64 }) });
    expect(r.status, r.text.slice(0, 200)).toBe(202);
    expect(market.app.initialConfig.bodyLimit).toBeGreaterThan((JSON.stringify(batch).length * 16) / 9);
  });

  it('error: a job.result output nested 5,000 deep → ERR_VALIDATION, not ERR_INTERNAL, and the socket keeps serving', async () => {
    const miner = nodes[0]!;
    // built as text: the attacker's frame is deeper than JSON.stringify's own stack allows
    const deep = `${'{"d":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const env = JSON.stringify(miner.sign('job.result', { jobId: 'owned-1', inputHash: 'a'.repeat(64), outputHash: 'b'.repeat(64) }));
    const before = snapshot();
    miner.send(`{"type":"job.result","ref":"deep","envelope":${env},"output":{"kind":"tokens","tokens":[1],"text":"a","extra":${deep}}}`);
    const f = await miner.waitFor((x) => x.ref === 'deep');
    expect(f.code).toBe('ERR_VALIDATION');
    const g = await miner.request({ type: 'job.result', envelope: miner.sign('job.result', { jobId: 'owned-1', inputHash: 'a'.repeat(64), outputHash: 'b'.repeat(64) }), output: { kind: 'tokens', tokens: [1], text: 'a', extra: 1 } });
    expect(g.code).toBe('ERR_VALIDATION');
    expect(String(g.message)).toMatch(/output\.extra/);
    expect(snapshot()).toBe(before);
    expect(miner.ws.readyState).toBe(miner.ws.OPEN);
  });
});

describe('attack 6: one logged-in key floods junk', () => {
  it('is disconnected with 4029 while honest jobs settle, and the ledger is conserved', async () => {
    // the attacker is its own process with its own key and client code (test/security-flooder.cjs)
    const child = spawn(process.execPath, [fileURLToPath(new URL('./security-flooder.cjs', import.meta.url)), market.wsUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    const ready = new Promise<void>((r) => child.stdout.on('data', () => out.includes('ready') && r()));
    const finished = new Promise<{ code: number; sent: number; frames: Frame[] }>((r) => child.on('exit', () => r(JSON.parse(out.split('\n').filter(Boolean).at(-1)!))));
    await ready;
    const ids = Array.from({ length: 10 }, (_, i) => `honest-${i}`);
    for (const [i, id] of ids.entries()) expect((await http(market.url, '/v1/jobs', { body: submitBody(client, { jobId: id, input: digits(100 + i) }) })).status).toBe(202);
    const flood = await finished;
    expect(flood.code).toBe(4029);
    expect(flood.sent).toBeGreaterThan(1_000);
    expect(flood.frames.some((f) => f.code === 'ERR_RATE_LIMITED')).toBe(true);
    // a key that is not registered gets no further than login and register, and never an ERR_INTERNAL
    expect(flood.frames.some((f) => f.code === 'ERR_INTERNAL')).toBe(false);
    expect(flood.frames.some((f) => f.code === 'ERR_NOT_ELIGIBLE' || f.code === 'ERR_BAD_JSON' || f.code === 'ERR_VALIDATION')).toBe(true);
    const t0 = Date.now();
    for (const id of ids) {
      await settled(id).catch((e: Error) => {
        const j = market.core.state.jobs.get(id)!;
        throw new Error(`${e.message}: ${j.failure}, ${j.bids.length} bids, ${Date.now() - t0} ms; the miner's errors: ${JSON.stringify(nodes[0]!.frames.filter((f) => f.type === 'error')).slice(0, 600)}`);
      });
    }
    expect(ids.every((id) => market.core.state.jobs.get(id)!.failure === null)).toBe(true);
    conserved();
  });
});
