// A raw attacker's toolkit for the security tests: plain fetch and ws, its own envelopes. No SDK.
import { hashPayload, keyPairFromSeed, sealEnvelope, seedFromLabel, type Canonical, type JobInput, type KeyPair } from '@infermarket/protocol';
import WebSocket from 'ws';

export type Frame = { type: string; [k: string]: unknown };

let counter = 0;
export const keysOf = (label: string): KeyPair => keyPairFromSeed(seedFromLabel(`security/${label}`));
// sequence numbers (a replay window per signer), above those of any earlier run of the same keys
const nonceBase = Date.now() * 1000;
export const nonce = (): string => String(nonceBase + ++counter);

/** A raw HTTP call; the JSON answer (or the text when it is not JSON). */
export async function http(base: string, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

/** A digits input (1×784 float32, or a batch). */
export function digits(k = 0, batch = 1): JobInput {
  const a = new Float32Array(784 * batch);
  for (let i = 0; i < a.length; i++) a[i] = ((i * 7 + k * 13) % 255) / 255;
  return { kind: 'tensor', tensor: { dtype: 'float32', dims: [batch, 784], data: Buffer.from(a.buffer).toString('base64') } };
}

/** A signed `POST /v1/jobs` body. */
export function submitBody(client: KeyPair, o: { jobId: string; model?: string; input?: JobInput; maxPriceMicro?: string; nowMs?: number; private?: boolean; rows?: unknown }): { envelope: unknown; input: JobInput } {
  const input = o.input ?? digits();
  const body: Record<string, Canonical> = {
    jobId: o.jobId,
    model: o.model ?? 'digits',
    inputHash: hashPayload(input),
    maxPriceMicro: o.maxPriceMicro ?? '50000',
    nonce: nonce(),
    expiresAtMs: (o.nowMs ?? Date.now()) + 30_000,
  };
  if (o.private) body.private = true;
  if (o.rows !== undefined) body.rows = o.rows as Canonical;
  return { envelope: sealEnvelope(client, 'job.submit', body), input };
}

/** A raw node connection on /v1/nodes. */
export interface RawNode {
  ws: WebSocket;
  keys: KeyPair;
  frames: Frame[];
  closed: Promise<number>;
  send(m: unknown): void;
  sign(type: string, body: Record<string, Canonical>): unknown;
  waitFor(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  request(m: Record<string, unknown>): Promise<Frame>;
}

export async function rawNode(wsUrl: string, keys: KeyPair, o: { login?: boolean; loginEnvelope?: (challenge: string) => unknown } = {}): Promise<RawNode> {
  const ws = new WebSocket(wsUrl);
  const frames: Frame[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  let ref = 0;
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  ws.on('error', () => undefined);
  ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as Frame;
    frames.push(f);
    for (const w of [...waiters]) if (w.pred(f)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(f));
  });
  const node: RawNode = {
    ws,
    keys,
    frames,
    closed,
    send: (m) => ws.readyState === ws.OPEN && ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
    sign: (type, body) => sealEnvelope(keys, type, { ...body, nonce: nonce(), expiresAtMs: Date.now() + 30_000 }),
    waitFor(pred, timeoutMs = 10_000) {
      const hit = frames.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no such frame; got ${frames.map((f) => f.type).join(',')}`)), timeoutMs);
        waiters.push({ pred, resolve: (f) => (clearTimeout(t), resolve(f)) });
      });
    },
    request(m) {
      const r = `r${ref++}`;
      const p = node.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.ref === r);
      node.send({ ...m, ref: r });
      return p;
    },
  };
  const ch = await node.waitFor((f) => f.type === 'auth.challenge');
  if (o.login !== false) {
    const env = o.loginEnvelope ? o.loginEnvelope(String(ch.challenge)) : sealEnvelope(keys, 'auth.login', { challenge: String(ch.challenge), nonce: nonce(), expiresAtMs: Date.now() + 30_000 });
    node.send({ type: 'auth.login', envelope: env });
    await node.waitFor((f) => f.type === 'auth.ok' || f.type === 'error');
  }
  return node;
}

/** Register and bond a raw node (after the faucet funded it). */
export async function registerAndBond(n: RawNode, role: 'miner' | 'validator', models = ['digits', 'charlm']): Promise<void> {
  const r = await n.request({ type: 'node.register', envelope: n.sign('node.register', { role, models, variant: 'fp32', region: 'local', encryptionKey: null }) });
  if (r.type !== 'ack') throw new Error(`register: ${JSON.stringify(r)}`);
  const b = await n.request({ type: 'stake.bond', envelope: n.sign('stake.bond', { amountMicro: '200000000' }) });
  if (b.type !== 'ack') throw new Error(`bond: ${JSON.stringify(b)}`);
}

/** The toy model the raw nodes run: an output derived from the input hash (honest nodes agree exactly). */
export function toyOutput(input: JobInput): { kind: 'tokens'; tokens: number[]; text: string } | { kind: 'tensor'; tensor: { dtype: 'float32'; dims: number[]; data: string } } {
  const h = hashPayload(input);
  if (input.kind === 'prompt') {
    const tokens = [...h.slice(0, input.maxTokens)].map((c) => c.charCodeAt(0));
    return { kind: 'tokens', tokens, text: String.fromCharCode(...tokens) };
  }
  const a = new Float32Array(10);
  for (let i = 0; i < 10; i++) a[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16) / 255;
  return { kind: 'tensor', tensor: { dtype: 'float32', dims: [1, 10], data: Buffer.from(a.buffer).toString('base64') } };
}

/**
 * An honest raw miner: posts a standing offer at `priceMicro` (the market's default `matchingMode: offers`) or
 * bids on every `job.offer` (auction), and answers each assignment (streaming a prompt's tokens first).
 */
export async function actAsMiner(n: RawNode, priceMicro = '1000'): Promise<void> {
  const ok = n.frames.find((f) => f.type === 'auth.ok') as { params?: { matchingMode?: string } } | undefined;
  if ((ok?.params?.matchingMode ?? 'offers') === 'offers') {
    const r = await n.request({ type: 'offer.post', envelope: n.sign('offer.post', { prices: { digits: priceMicro, charlm: priceMicro }, capacity: 8, variant: 'fp32', untilMs: Date.now() + 600_000 }) });
    if (r.type !== 'ack') throw new Error(`offer: ${JSON.stringify(r)}`);
  }
  n.ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as Frame;
    if (f.type === 'job.offer') n.send({ type: 'job.bid', envelope: n.sign('job.bid', { jobId: String(f.jobId), priceMicro }) });
    else if (f.type === 'job.assign') {
      const input = f.input as JobInput;
      const out = toyOutput(input);
      if (out.kind === 'tokens') out.tokens.forEach((t, i) => n.send({ type: 'job.token', jobId: f.jobId, index: i, token: t, text: String.fromCharCode(t) }));
      n.send({ type: 'job.result', envelope: n.sign('job.result', { jobId: String(f.jobId), inputHash: String(f.inputHash), outputHash: hashPayload(out) }), output: out });
    }
  });
}

/** The market's ledger as a comparable string, and whether it is conserved (from /v1/stats). */
export async function ledger(base: string): Promise<{ conserved: boolean; text: string }> {
  const s = (await http(base, '/v1/stats')).json as { ledger: Record<string, unknown> & { conserved: boolean } };
  return { conserved: s.ledger.conserved, text: JSON.stringify(s.ledger) };
}
