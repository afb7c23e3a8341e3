// A client written from docs/api.md alone: it imports none of the @infermarket packages (only node:crypto,
// fetch and the `ws` package), and runs jobs to checked receipts on a real market with a real miner, both
// OS processes: read tokens made byte for byte as the doc says, the receipt's signature and its verdict
// checked as the doc says, and a bystander shown metadata only. If this test needs anything the doc does
// not say, the doc is incomplete.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLI, removeRun, startMarket, tempDir } from './testnet-helpers.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

// ---- from docs/api.md "Signed envelopes" and "Hashes" ----

/** canonical(x): keys sorted, no whitespace, strings NFC, numbers in ECMAScript's shortest form. */
function canonical(v: Json): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(typeof v === 'string' ? v.normalize('NFC') : v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .filter((k) => v[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`)
    .join(',')}}`;
}
const sha256hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const signingBytes = (type: string, body: Json): Buffer => Buffer.from(`infermarket/v1\n${type}\n${canonical(body)}`, 'utf8');

interface Account { signer: string; address: string; privateKey: KeyObject }
function newAccount(): Account {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { signer: raw.toString('hex'), address: `im${createHash('sha256').update(raw).digest('hex').slice(0, 40)}`, privateKey };
}
// docs/api.md, "Replay protection": every signed body carries the signer's next sequence number; starting
// from the clock in µs keeps a new run above every number an earlier run of the same key used
let lastNonce = Date.now() * 1000;
const nextNonce = (): string => String(++lastNonce);
const seal = (a: Account, type: string, body: Record<string, Json>) => ({ type, body, signer: a.signer, sig: sign(null, signingBytes(type, body), a.privateKey).toString('hex') });

/** A raw ed25519 public key (hex) as a KeyObject, to verify the market's signatures. */
function publicKeyOf(hex: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

// ---- docs/api.md "Read tokens" ----

/** Lower-case hex of the UTF-8 JSON of a `job.read` envelope over exactly { jobId, expiresAtMs }. */
const readToken = (a: Account, jobId: string, expiresAtMs: number): string => Buffer.from(JSON.stringify(seal(a, 'job.read', { jobId, expiresAtMs })), 'utf8').toString('hex');

// ---- HTTP ----
let market = '';
async function http(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, Json> }> {
  const res = await fetch(market + path, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as Record<string, Json> };
}
const marketNow = async (): Promise<number> => (await http('GET', '/v1/health')).json.nowMs as number;
/** GET /v1/jobs/:id as the job's client: a fresh read token in the x-infermarket-read header. */
const readJob = async (a: Account, jobId: string): Promise<{ status: number; json: Record<string, Json> }> =>
  http('GET', `/v1/jobs/${jobId}`, undefined, { 'x-infermarket-read': readToken(a, jobId, (await marketNow()) + 30_000) });

const VERDICTS = ['verified', 'caught', 'unavailable', 'unchecked'];

/** docs/api.md "Verifying a receipt, step by step": steps 1-6 (the market signed it), then 7 (what was checked). */
function verifyReceipt(job: Record<string, Json>, marketKey: string, expect: { jobId: string; client: string; inputHash: string; verification: string }): Record<string, Json> & { verified: boolean } {
  const r = job.receipt as { type: string; body: Record<string, Json>; signer: string; sig: string };
  if (r?.type !== 'job.receipt') throw new Error('1: not a job.receipt');
  if (r.signer !== marketKey) throw new Error('2: not signed by the market key');
  if (!verify(null, signingBytes('job.receipt', r.body), publicKeyOf(marketKey), Buffer.from(r.sig, 'hex'))) throw new Error('3: bad signature');
  const b = r.body;
  if (b.jobId !== expect.jobId || b.client !== expect.client || b.inputHash !== expect.inputHash) throw new Error('4: wrong job, client or input');
  if (b.status !== 'settled' || b.outputHash !== sha256hex(canonical(job.output!))) throw new Error('5: not settled, or output hash differs');
  if (typeof b.priceMicro !== 'string' || typeof b.paidMicro !== 'string' || !/^\d+$/.test(b.paidMicro)) throw new Error('6: amounts are not decimal strings');
  if (b.verification !== expect.verification) throw new Error(`7: verification ${String(b.verification)}, asked ${expect.verification}`);
  if (typeof b.verdict !== 'string' || !VERDICTS.includes(b.verdict)) throw new Error(`7: verdict ${String(b.verdict)} is not one of ${VERDICTS.join(', ')}`);
  if (!Array.isArray(b.checkedBy) || !Array.isArray(b.auditors)) throw new Error('7: checkedBy and auditors are arrays');
  if (b.verdict === 'verified' ? b.checkedBy.length === 0 : b.checkedBy.length !== 0) throw new Error('7: checkedBy is non-empty exactly when verified');
  const lengthOk = b.outputLength === b.expectedLength;
  return { ...b, verified: b.status === 'settled' && b.verdict === 'verified' && lengthOk };
}

async function submit(a: Account, model: string, input: Json, nowMs: number, extra: Record<string, Json> = {}): Promise<{ jobId: string; inputHash: string; status: number; json: Record<string, Json> }> {
  const jobId = `j${randomBytes(8).toString('hex')}`;
  const inputHash = sha256hex(canonical(input));
  const body = { jobId, model, inputHash, maxPriceMicro: '100000', nonce: nextNonce(), expiresAtMs: nowMs + 20_000, ...extra };
  const r = await http('POST', '/v1/jobs', { envelope: seal(a, 'job.submit', body), input });
  return { jobId, inputHash, ...r };
}

let stopMarket: () => Promise<void> = async () => {};
let miner: ChildProcess | undefined;
let dir = '';
let marketKey = '';

describe('a client written from docs/api.md alone', () => {
  beforeAll(async () => {
    dir = tempDir('api-client');
    const m = await startMarket(['--db', `${dir}/market.db`]);
    market = m.url;
    marketKey = m.marketKey;
    stopMarket = m.stop;
    miner = spawn(process.execPath, [CLI, 'miner', '--market', m.wsUrl, '--model', 'charlm,digits', '--key-seed', 'api-client-miner', '--key-file', `${dir}/miner.json`, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    miner.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      miner!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        // standing offers (the default): the miner is ready to take jobs once its offer stands
        if (/"event":"offer.posted"/.test(out)) resolve();
      });
      miner!.once('exit', (c) => reject(new Error(`miner exited ${c}: ${err.slice(-2000)}`)));
    });
  });

  afterAll(async () => {
    miner?.kill('SIGTERM');
    await stopMarket();
    removeRun(dir);
  });

  it('runs a charlm job over the stream (read token in ?read=) to a market-signed receipt whose verdict says nobody checked it', async () => {
    const me = newAccount();
    expect((await http('POST', '/v1/faucet', { address: me.address, amountMicro: '1000000' })).json.balanceMicro).toBe('1000000');
    const health = (await http('GET', '/v1/health')).json;
    expect(health.marketKey).toBe(marketKey);
    expect(Object.keys(health).sort()).toEqual(['marketKey', 'nowMs', 'ok', 'seq']);
    const input = { kind: 'prompt', prompt: 'the market ', maxTokens: 8, temperature: 0, seed: 1 };
    let sub = await submit(me, 'charlm', input, health.nowMs as number);
    expect(sub.status).toBe(202);
    // matched at once to the miner's standing offer (docs/api.md: POST /v1/jobs)
    expect(sub.json.status).toBe('assigned');
    // the stream: tokens (index from 0), optionally result, then done, then the market closes it
    const frames: Record<string, Json>[] = [];
    const openStream = async (jobId: string) => {
      const token = readToken(me, jobId, (await marketNow()) + 30_000);
      return new Promise<Record<string, Json>>((resolve, reject) => {
        const ws = new WebSocket(`${market.replace(/^http/, 'ws')}/v1/jobs/${jobId}/stream?read=${token}`);
        let done: Record<string, Json> | null = null;
        ws.on('message', (d) => {
          const f = JSON.parse(String(d)) as Record<string, Json>;
          frames.push(f);
          if (f.type === 'done') done = f.job as Record<string, Json>;
        });
        ws.on('close', (code) => (done && code === 1000 ? resolve(done) : reject(new Error(`stream closed ${code} without done: ${JSON.stringify(frames.at(-1))}`))));
        ws.on('error', reject);
      });
    };
    let job = await openStream(sub.jobId);
    // "A job that failed no-bids was refunded; submit again with a new jobId" (the miner may still be warming)
    for (let i = 0; i < 3 && job.failure === 'no-bids'; i++) {
      frames.length = 0;
      sub = await submit(me, 'charlm', input, (await http('GET', '/v1/health')).json.nowMs as number);
      job = await openStream(sub.jobId);
    }
    expect(job.status, JSON.stringify(job)).toBe('settled');
    const kinds = frames.map((f) => f.type);
    expect(kinds.at(-1)).toBe('done');
    const tokens = frames.filter((f) => f.type === 'token');
    expect(tokens.map((t) => t.index)).toEqual(tokens.map((_, i) => i));
    const output = job.output as { kind: string; tokens: number[]; text: string };
    expect(output.kind).toBe('tokens');
    expect(tokens.map((t) => t.text).join('')).toBe(output.text);
    const b = verifyReceipt(job, marketKey, { jobId: sub.jobId, client: me.address, inputHash: sub.inputHash, verification: 'sampled' });
    // no validator runs here: a sampled job is either not drawn (unchecked) or drawn with nobody to audit it
    // (unavailable) — validly signed and settled, and not verified
    expect(['unchecked', 'unavailable']).toContain(b.verdict);
    expect(b.verified).toBe(false);
    expect([b.audited, b.checkedBy, b.auditors, b.outputLength, b.expectedLength]).toEqual([false, [], [], 8, 8]);
    // not audited: the client paid the price and the protocol fee, no validator fee
    const feeBps = BigInt((await http('GET', '/v1/params')).json.protocolFeeBps as number);
    expect(BigInt(b.paidMicro as string)).toBe(BigInt(b.priceMicro as string) + (BigInt(b.priceMicro as string) * feeBps) / 10_000n);
    // the same view by GET with the client's read token in the header
    const again = await readJob(me, sub.jobId);
    expect(again.status).toBe(200);
    expect(again.json.receipt).toEqual(job.receipt);
    expect(again.json.output).toEqual(job.output);
    // the escrow minus what was paid is back in the balance
    const acct = (await http('GET', `/v1/accounts/${me.address}`)).json;
    expect(BigInt(acct.balanceMicro as string)).toBe(1_000_000n - BigInt(b.paidMicro as string));
    // the miner's own signed result names the same output
    const result = job.result as { type: string; body: Record<string, Json>; signer: string; sig: string };
    expect(result.type).toBe('job.result');
    expect(`im${createHash('sha256').update(Buffer.from(result.signer, 'hex')).digest('hex').slice(0, 40)}`).toBe(b.miner);
    expect(result.body.outputHash).toBe(b.outputHash);
    expect(verify(null, signingBytes('job.result', result.body), publicKeyOf(result.signer), Buffer.from(result.sig, 'hex'))).toBe(true);
  });

  it('runs a digits job (base64 little-endian float32 tensor, verification "none") by polling with a read token, to a checked receipt', async () => {
    const me = newAccount();
    await http('POST', '/v1/faucet', { address: me.address, amountMicro: '1000000' });
    const models = (await http('GET', '/v1/models')).json.models as { id: string; inputs: { dtype: string; shape: (string | number)[] }[] }[];
    const spec = models.find((m) => m.id === 'digits')!;
    const dims = spec.inputs[0]!.shape.map((d) => (typeof d === 'number' ? d : 1));
    const n = dims.reduce((x, y) => x * y, 1);
    const bytes = Buffer.alloc(n * 4);
    for (let i = 0; i < n; i++) bytes.writeFloatLE((i % 28) / 28, i * 4);
    const input = { kind: 'tensor', tensor: { dtype: 'float32', dims, data: bytes.toString('base64') } };
    let job: Record<string, Json> = {};
    let sub = { jobId: '', inputHash: '' };
    for (let attempt = 0; attempt < 4; attempt++) {
      const s = await submit(me, 'digits', input, await marketNow(), { verification: 'none' });
      expect(s.status, JSON.stringify(s.json)).toBe(202);
      sub = s;
      for (;;) {
        job = (await readJob(me, s.jobId)).json;
        if (job.status === 'settled' || job.status === 'failed') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (job.failure !== 'no-bids') break;
    }
    expect(job.status, JSON.stringify(job)).toBe('settled');
    const t = (job.output as { kind: string; tensor: { dtype: string; dims: number[]; data: string } }).tensor;
    expect(t.dtype).toBe('float32');
    expect(Buffer.from(t.data, 'base64').length).toBe(t.dims.reduce((x, y) => x * y, 1) * 4);
    const b = verifyReceipt(job, marketKey, { jobId: sub.jobId, client: me.address, inputHash: sub.inputHash, verification: 'none' });
    // "none": never audited, the receipt says so
    expect([b.verdict, b.verified, b.audited, b.outputLength, b.expectedLength]).toEqual(['unchecked', false, false, t.dims.reduce((x, y) => x * y, 1), 10]);

    // a bystander (another key) sees metadata only
    const other = newAccount();
    const pub = await http('GET', `/v1/jobs/${sub.jobId}`);
    expect(pub.status).toBe(200);
    expect([pub.json.status, pub.json.client, pub.json.miner, pub.json.priceMicro]).toEqual(['settled', me.address, job.miner, job.priceMicro]);
    expect([pub.json.output, pub.json.result, pub.json.receipt]).toEqual([null, null, null]);
    // its own token for someone else's job is refused, not quietly downgraded
    const foreign = await readJob(other, sub.jobId);
    expect([foreign.status, (foreign.json.error as { code: string }).code]).toEqual([401, 'ERR_UNAUTHENTICATED']);
    // the job list needs the client's "*" token and shows only its own jobs
    expect((await http('GET', '/v1/jobs')).status).toBe(401);
    const mine = await http('GET', '/v1/jobs', undefined, { 'x-infermarket-read': readToken(me, '*', (await marketNow()) + 30_000) });
    expect((mine.json.jobs as { id: string; client: string }[]).map((j) => j.client)).toEqual((mine.json.jobs as unknown[]).map(() => me.address));
    expect((mine.json.jobs as { id: string }[]).map((j) => j.id)).toContain(sub.jobId);
    // the stream without a token: one ERR_UNAUTHENTICATED frame, then close 1008
    const denied = await new Promise<{ frames: Record<string, Json>[]; code: number }>((resolve, reject) => {
      const got: Record<string, Json>[] = [];
      const ws = new WebSocket(`${market.replace(/^http/, 'ws')}/v1/jobs/${sub.jobId}/stream`);
      ws.on('message', (d) => got.push(JSON.parse(String(d)) as Record<string, Json>));
      ws.on('close', (code) => resolve({ frames: got, code }));
      ws.on('error', reject);
    });
    expect(denied.code).toBe(1008);
    expect(denied.frames.map((f) => [f.type, f.code])).toEqual([['error', 'ERR_UNAUTHENTICATED']]);
  });

  it('"always" with no validator to audit it: refunded in full, the receipt says unavailable', async () => {
    const me = newAccount();
    await http('POST', '/v1/faucet', { address: me.address, amountMicro: '1000000' });
    const input = { kind: 'prompt', prompt: 'always ', maxTokens: 4, temperature: 0, seed: 3 };
    let job: Record<string, Json> = {};
    let sub = { jobId: '', inputHash: '' };
    for (let attempt = 0; attempt < 4; attempt++) {
      const s = await submit(me, 'charlm', input, await marketNow(), { verification: 'always' });
      expect(s.status, JSON.stringify(s.json)).toBe(202);
      sub = s;
      for (;;) {
        job = (await readJob(me, s.jobId)).json;
        if (job.status === 'settled' || job.status === 'failed') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (job.failure !== 'no-bids') break;
    }
    expect([job.status, job.failure], JSON.stringify(job)).toEqual(['failed', 'audit-unavailable']);
    const r = job.receipt as { type: string; body: Record<string, Json>; signer: string; sig: string };
    expect(verify(null, signingBytes('job.receipt', r.body), publicKeyOf(marketKey), Buffer.from(r.sig, 'hex'))).toBe(true);
    expect([r.body.jobId, r.body.status, r.body.verification, r.body.verdict, r.body.paidMicro, r.body.outputHash, r.body.checkedBy]).toEqual([sub.jobId, 'failed', 'always', 'unavailable', '0', null, []]);
    expect((await http('GET', `/v1/accounts/${me.address}`)).json.balanceMicro).toBe('1000000');
  });

  it('error: refuses what docs/api.md says it refuses, with the documented codes', async () => {
    const me = newAccount();
    await http('POST', '/v1/faucet', { address: me.address, amountMicro: '1000000' });
    const nowMs = (await http('GET', '/v1/health')).json.nowMs as number;
    const input = { kind: 'prompt', prompt: 'x', maxTokens: 2, temperature: 0, seed: 0 };
    const body = (over: Record<string, Json>) => ({ jobId: `j${randomBytes(8).toString('hex')}`, model: 'charlm', inputHash: sha256hex(canonical(input)), maxPriceMicro: '100000', nonce: nextNonce(), expiresAtMs: nowMs + 20_000, ...over });
    const post = (env: unknown, inp: unknown = input) => http('POST', '/v1/jobs', { envelope: env, input: inp });
    const code = (r: { json: Record<string, Json> }) => (r.json.error as { code: string }).code;
    // inputHash must be sha256 of canonical(input)
    expect(code(await post(seal(me, 'job.submit', body({ inputHash: sha256hex(JSON.stringify(input)) }))))).toBe('ERR_VALIDATION');
    // signer is the raw public key, not the address
    expect(code(await post({ ...seal(me, 'job.submit', body({})), signer: me.address }))).toBe('ERR_VALIDATION');
    // a signature over other bytes
    const forged = seal(me, 'job.submit', body({}));
    expect(code(await post({ ...forged, body: { ...forged.body, maxPriceMicro: '1' } }))).toBe('ERR_BAD_SIGNATURE');
    // expiresAtMs beyond messageTtlMs, and in the past
    const ttl = Number((await http('GET', '/v1/params')).json.messageTtlMs);
    expect(code(await post(seal(me, 'job.submit', body({ expiresAtMs: nowMs + ttl + 60_000 }))))).toBe('ERR_VALIDATION');
    expect(code(await post(seal(me, 'job.submit', body({ expiresAtMs: nowMs - 1 }))))).toBe('ERR_REPLAY');
    // "redundant" is not served by the live market yet
    expect(code(await post(seal(me, 'job.submit', body({ verification: 'redundant' }))))).toBe('ERR_VALIDATION');
    // amounts are strings; unknown fields are refused
    expect(code(await post(seal(me, 'job.submit', body({ maxPriceMicro: 100000 }))))).toBe('ERR_VALIDATION');
    expect(code(await post(seal(me, 'job.submit', body({ extra: 1 }))))).toBe('ERR_VALIDATION');
    // tensor data in hex instead of base64
    const hexInput = { kind: 'tensor', tensor: { dtype: 'float32', dims: [1, 784], data: `0x${'00'.repeat(784 * 4)}` } };
    expect(code(await post(seal(me, 'job.submit', { ...body({ model: 'digits', inputHash: sha256hex(canonical(hexInput)) }) }), hexInput))).toBe('ERR_BAD_INPUT');
    // the same jobId twice
    const once = body({});
    expect((await post(seal(me, 'job.submit', once))).status).toBe(202);
    expect(code(await post(seal(me, 'job.submit', { ...once, nonce: nextNonce() })))).toBe('ERR_DUPLICATE');
    // no funds
    const broke = newAccount();
    const r = await post(seal(broke, 'job.submit', body({})));
    expect([r.status, code(r)]).toEqual([402, 'ERR_INSUFFICIENT_BALANCE']);
  });

  it('serves the OpenAPI document that docs/openapi.json holds', async () => {
    const served = (await http('GET', '/v1/openapi.json')).json;
    expect(served).toEqual(JSON.parse(readFileSync(fileURLToPath(new URL('../docs/openapi.json', import.meta.url)), 'utf8')));
  });
});
