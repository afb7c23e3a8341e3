import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { checkInvariants, hashPayload, ledgerTotals, sealEnvelope, type KeyPair } from '@infermarket/protocol';
import { createClient, runLoad } from '@infermarket/client';
import { createMarket, type Market } from '@infermarket/market';
import { actAsMiner, digits, http, keysOf, nonce, rawNode, registerAndBond, submitBody, type Frame, type RawNode } from './security-raw.js';

// Client sessions (/v1/session): one socket per client for submits, pushed results and tokens. The SDK runs
// jobs over it; raw ws attackers try to read another client's results, submit as it, or replay its frames.

let dir: string;
let market: Market;
const nodes: RawNode[] = [];
const alice = keysOf('session/alice');
const eve = keysOf('session/eve');
// the SDK numbers its messages from its own start; a key signs from one sequence (docs/api.md), so the raw
// attacks below use Alice's key and the SDK tests their own
const sdkUser = keysOf('session/sdk');

/** A raw session socket: frames recorded, optionally logged in as `keys`. */
async function rawSession(keys: KeyPair | null, o: { loginFor?: (challenge: string) => unknown } = {}) {
  const ws = new WebSocket(market.sessionUrl);
  const frames: Frame[] = [];
  const closed = new Promise<number>((r) => ws.on('close', (c) => r(c)));
  ws.on('error', () => undefined);
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  const waitFor = async (pred: (f: Frame) => boolean, what: string, timeoutMs = 10_000): Promise<Frame> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = frames.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no ${what}; got ${JSON.stringify(frames).slice(0, 400)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const ch = await waitFor((f) => f.type === 'session.challenge', 'challenge');
  let ref = 0;
  const s = {
    ws,
    frames,
    closed,
    waitFor,
    send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
    async request(m: Record<string, unknown>): Promise<Frame> {
      const r = `q${ref++}`;
      s.send({ ...m, ref: r });
      return waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.ref === r, `answer to ${String(m.type)}`);
    },
  };
  if (keys) {
    const env = o.loginFor ? o.loginFor(String(ch.challenge)) : sealEnvelope(keys, 'auth.login', { challenge: String(ch.challenge), nonce: nonce(), expiresAtMs: Date.now() + 20_000 });
    s.send({ type: 'session.login', envelope: env });
    await waitFor((f) => f.type === 'session.ok' || f.type === 'error', 'login answer');
  }
  return s;
}
const snapshot = (): string => JSON.stringify([...market.core.state.ledger].map(([k, v]) => [k, v.toString()]).sort());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'im-session-'));
  market = await createMarket({ dbPath: join(dir, 'm.db'), params: { bidWindowMs: 100, challengeWindowMs: 50, auditRate: 0 } });
  for (const k of [alice, eve, sdkUser]) expect((await http(market.url, '/v1/faucet', { body: { address: k.address, amountMicro: '100000000' } })).status).toBe(200);
  const miner = await rawNode(market.wsUrl, keysOf('session/miner'));
  nodes.push(miner);
  await http(market.url, '/v1/faucet', { body: { address: miner.keys.address, amountMicro: '500000000' } });
  await registerAndBond(miner, 'miner');
  actAsMiner(miner);
});
afterAll(async () => {
  for (const n of nodes) n.ws.terminate();
  await market?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('client sessions: the SDK', () => {
  it('runs jobs over one socket: submit, streamed tokens, result and receipt pushed, no socket per job', async () => {
    const c = createClient({ url: market.url, key: sdkUser });
    try {
      const before = market.sessions.sessions();
      const a = await c.submit({ model: 'digits', input: digits(1), maxPriceMicro: 50_000n });
      const b = await c.submit({ model: 'charlm', input: { kind: 'prompt', prompt: 'hello', maxTokens: 6, temperature: 0, seed: 1 }, maxPriceMicro: 50_000n });
      const tokens: number[] = [];
      const [ja, jb] = await Promise.all([c.wait(a.jobId, { timeoutMs: 15_000 }), c.stream(b.jobId, { timeoutMs: 15_000, onToken: (t) => tokens.push(t.index) })]);
      expect(ja.status).toBe('settled');
      expect(ja.output && hashPayload(ja.output)).toBe((ja.result?.body as { outputHash?: string }).outputHash);
      expect(ja.receipt?.signer).toBe(market.marketKey);
      expect(jb.status).toBe('settled');
      expect(tokens).toEqual([0, 1, 2, 3, 4, 5]);
      // one session for this client, and no per-job stream socket was opened
      expect(market.sessions.sessions()).toBe(before + 1);
      expect(market.streams.watchers()).toBe(0);
    } finally {
      c.close();
    }
  });

  it('the load generator runs through sessions', async () => {
    const c = createClient({ url: market.url, key: keysOf('session/load') });
    await http(market.url, '/v1/faucet', { body: { address: c.address, amountMicro: '100000000' } });
    try {
      const r = await runLoad({ clients: [c], ratePerSec: 200, models: { digits: 1 }, maxPriceMicro: 50_000n, concurrency: 8, durationMs: 300, seed: 7, drainMs: 10_000 });
      expect(r.submitted).toBeGreaterThan(0);
      expect(r.settled).toBe(r.submitted);
    } finally {
      c.close();
    }
  });
});

describe('client sessions: attacks over a raw socket', () => {
  it('error: frames before login are ERR_UNAUTHENTICATED and change nothing', async () => {
    const s = await rawSession(null);
    const before = snapshot();
    const r = await s.request({ type: 'job.submit', ...submitBody(alice, { jobId: 'pre-login' }) });
    expect(r).toMatchObject({ type: 'error', code: 'ERR_UNAUTHENTICATED' });
    expect(market.core.state.jobs.has('pre-login')).toBe(false);
    expect(snapshot()).toBe(before);
    s.ws.close();
  });

  it("error: a login signed over another connection's challenge (captured and replayed) is refused", async () => {
    // Eve captures Alice's login on Alice's connection and presents it on her own
    const a = await rawSession(alice);
    const aliceLogin = sealEnvelope(alice, 'auth.login', { challenge: String(a.frames[0]!.challenge), nonce: nonce(), expiresAtMs: Date.now() + 20_000 });
    const e = await rawSession(eve, { loginFor: () => aliceLogin });
    const answer = e.frames.find((f) => f.type === 'error');
    expect(answer).toMatchObject({ code: 'ERR_UNAUTHENTICATED' });
    expect(e.frames.some((f) => f.type === 'session.ok')).toBe(false);
    // and a login signed by Eve with a forged signer is a bad signature
    const forged = { ...sealEnvelope(eve, 'auth.login', { challenge: 'x', nonce: nonce(), expiresAtMs: Date.now() + 20_000 }), signer: Buffer.from(alice.publicKey).toString('hex') };
    const f = await rawSession(eve, { loginFor: (ch) => ({ ...forged, body: { ...(forged.body as object), challenge: ch } }) });
    expect(f.frames.find((x) => x.type === 'error')?.code).toBe('ERR_BAD_SIGNATURE');
    for (const x of [a, e, f]) x.ws.close();
  });

  it("error: Eve's session cannot submit Alice's signed envelope, nor follow Alice's job; Alice's results never reach Eve", async () => {
    const a = await rawSession(alice);
    const e = await rawSession(eve);
    const sub = submitBody(alice, { jobId: 'alice-private-1' });
    // Eve relays Alice's envelope first (as if she intercepted it): refused, nothing applied
    const before = snapshot();
    const stolen = await e.request({ type: 'job.submit', ...sub });
    expect(stolen).toMatchObject({ type: 'error', code: 'ERR_UNAUTHENTICATED' });
    expect(market.core.state.jobs.has('alice-private-1')).toBe(false);
    expect(snapshot()).toBe(before);
    // Alice submits it herself; Eve asks to follow it
    expect(await a.request({ type: 'job.submit', ...sub })).toMatchObject({ type: 'ack', jobId: 'alice-private-1' });
    expect(await e.request({ type: 'job.watch', jobId: 'alice-private-1' })).toMatchObject({ type: 'error', code: 'ERR_UNAUTHENTICATED' });
    const done = await a.waitFor((f) => f.type === 'done' && f.jobId === 'alice-private-1', 'done', 15_000);
    expect((done.job as { status: string }).status).toBe('settled');
    expect(a.frames.some((f) => f.type === 'result' && f.jobId === 'alice-private-1')).toBe(true);
    // nothing of Alice's job was pushed to Eve
    expect(e.frames.filter((f) => f.jobId === 'alice-private-1')).toEqual([]);
    a.ws.close();
    e.ws.close();
  });

  it('error: a replayed submit frame is ERR_REPLAY; a malformed one names the field; the ledger is unchanged', async () => {
    const a = await rawSession(alice);
    const sub = submitBody(alice, { jobId: 'alice-replay-1' });
    expect(await a.request({ type: 'job.submit', ...sub })).toMatchObject({ type: 'ack' });
    const before = snapshot();
    const again = await a.request({ type: 'job.submit', ...sub });
    expect(again).toMatchObject({ type: 'error', code: 'ERR_REPLAY' });
    const bad = await a.request({ type: 'job.submit', ...submitBody(alice, { jobId: 'alice-bad', maxPriceMicro: '-5' }) });
    expect(bad).toMatchObject({ type: 'error', code: 'ERR_VALIDATION' });
    expect(String(bad.message)).toMatch(/maxPriceMicro/);
    const noNonce = sealEnvelope(alice, 'job.submit', { jobId: 'alice-bad-2', model: 'digits', inputHash: hashPayload(digits()), maxPriceMicro: '5000', nonce: 'abc', expiresAtMs: Date.now() + 10_000 });
    const badNonce = await a.request({ type: 'job.submit', envelope: noNonce, input: digits() });
    expect(badNonce).toMatchObject({ type: 'error', code: 'ERR_VALIDATION' });
    expect(String(badNonce.message)).toMatch(/nonce/);
    expect(snapshot()).toBe(before);
    expect(ledgerTotals(market.core.state).conserved).toBe(true);
    expect(checkInvariants(market.core.state)).toEqual([]);
    a.send('{not json');
    expect(await a.waitFor((f) => f.type === 'error' && f.code === 'ERR_BAD_JSON', 'bad json')).toBeTruthy();
    // still serving
    expect(await a.request({ type: 'job.watch', jobId: 'alice-replay-1' })).toMatchObject({ type: 'ack' });
    a.ws.close();
  });
});
