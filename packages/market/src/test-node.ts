// Test-only helpers: a tiny miner/validator WebSocket client with real keys, and job builders.
// Not exported from the package.
import {
  hashPayload,
  keyPairFromSeed,
  makeReadToken,
  nonceSequence,
  sealEnvelope,
  seedFromLabel,
  type Canonical,
  type JobInput,
  type JobOutput,
  type KeyPair,
  type ServerMessage,
} from '@infermarket/protocol';
import WebSocket from 'ws';

export type Frame = ServerMessage | { type: string; [k: string]: unknown };

/** A connected, logged-in test node. */
export interface TestNode {
  keys: KeyPair;
  address: string;
  ws: WebSocket;
  frames: Frame[];
  /** Send a raw frame. */
  raw(data: string | Record<string, unknown>): void;
  /** Send a message with a fresh `ref` and wait for its `ack` or `error`. */
  request(msg: Record<string, unknown>): Promise<Frame>;
  /** Wait for a frame matching `pred` (already received or future). */
  waitFor(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** An envelope signed by this node, with a fresh nonce and expiry. */
  sign(type: string, body: Record<string, Canonical>, opts?: { nonce?: string; ttlMs?: number }): ReturnType<typeof sealEnvelope>;
  onFrame(fn: (f: Frame) => void): void;
  close(): void;
}

// sequence numbers (the market keeps a replay window per signer), above those of any earlier run of the same keys
const nextNonce = nonceSequence(Date.now());

/** Connect, answer the challenge, and wait for `auth.ok`. Pass `login: false` to stay unauthenticated. */
export async function connectNode(wsUrl: string, label: string, opts: { login?: boolean } = {}): Promise<TestNode> {
  const keys = keyPairFromSeed(seedFromLabel(label));
  const ws = new WebSocket(wsUrl);
  const frames: Frame[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  const listeners: ((f: Frame) => void)[] = [];
  let refSeq = 0;
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as Frame;
    frames.push(f);
    for (const w of [...waiters]) {
      if (w.pred(f)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(f);
      }
    }
    for (const l of listeners) l(f);
  });
  const node: TestNode = {
    keys,
    address: keys.address,
    ws,
    frames,
    raw(data) {
      ws.send(typeof data === 'string' ? data : JSON.stringify(data));
    },
    request(msg) {
      const ref = `r${refSeq++}`;
      const p = node.waitFor((f) => (f.type === 'ack' || f.type === 'error') && (f as { ref?: string }).ref === ref);
      ws.send(JSON.stringify({ ...msg, ref }));
      return p;
    },
    waitFor(pred, timeoutMs = 10_000) {
      const hit = frames.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for a frame; got ${frames.map((f) => f.type).join(',')}`)), timeoutMs);
        waiters.push({ pred, resolve: (f) => (clearTimeout(t), resolve(f)) });
      });
    },
    sign(type, body, o = {}) {
      return sealEnvelope(keys, type, { ...body, nonce: o.nonce ?? nextNonce(), expiresAtMs: Date.now() + (o.ttlMs ?? 30_000) });
    },
    onFrame(fn) {
      listeners.push(fn);
    },
    close() {
      ws.close();
    },
  };
  const challenge = (await node.waitFor((f) => f.type === 'auth.challenge')) as Extract<ServerMessage, { type: 'auth.challenge' }>;
  if (opts.login !== false) {
    ws.send(JSON.stringify({ type: 'auth.login', envelope: node.sign('auth.login', { challenge: challenge.challenge }) }));
    await node.waitFor((f) => f.type === 'auth.ok');
  }
  return node;
}

/** A deterministic digits input: 1×784 float32. */
export function digitsInput(k = 0): JobInput {
  const a = new Float32Array(784);
  for (let i = 0; i < a.length; i++) a[i] = ((i * 7 + k * 13) % 255) / 255;
  return { kind: 'tensor', tensor: { dtype: 'float32', dims: [1, 784], data: Buffer.from(a.buffer).toString('base64') } };
}

/** The "model" the test nodes run: logits derived from the input hash (honest nodes agree exactly). */
export function fakeInference(input: JobInput, lie = false): JobOutput {
  const h = hashPayload(input);
  if (input.kind === 'prompt') {
    const tokens = [...h.slice(0, input.maxTokens)].map((c) => c.charCodeAt(0) + (lie ? 1 : 0));
    return { kind: 'tokens', tokens, text: String.fromCharCode(...tokens) };
  }
  const a = new Float32Array(10);
  for (let i = 0; i < 10; i++) a[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16) / 255;
  if (lie) a.reverse();
  return { kind: 'tensor', tensor: { dtype: 'float32', dims: [1, 10], data: Buffer.from(a.buffer).toString('base64') } };
}

/** Register and bond a node (it must be funded first). */
export async function registerAndBond(node: TestNode, role: 'miner' | 'validator', stakeMicro = '200000000', models = ['digits', 'charlm']): Promise<void> {
  const reg = await node.request({
    type: 'node.register',
    envelope: node.sign('node.register', { role, models, variant: 'fp32', region: 'local', encryptionKey: null }),
  });
  if (reg.type !== 'ack') throw new Error(`register failed: ${JSON.stringify(reg)}`);
  const bond = await node.request({ type: 'stake.bond', envelope: node.sign('stake.bond', { amountMicro: stakeMicro }) });
  if (bond.type !== 'ack') throw new Error(`bond failed: ${JSON.stringify(bond)}`);
}

/** The market's `matchingMode`, as announced in this node's `auth.ok`. */
export function matchingModeOf(node: TestNode): string {
  const ok = node.frames.find((f) => f.type === 'auth.ok') as Extract<ServerMessage, { type: 'auth.ok' }> | undefined;
  return String(ok?.params.matchingMode ?? 'offers');
}

/** A raw `offer.post` frame: a standing offer at `priceMicro` for each of `models`. */
export function offerFrame(node: TestNode, opts: { priceMicro?: string; models?: string[]; capacity?: number; untilMs?: number; nonce?: string } = {}): Record<string, unknown> {
  const prices = Object.fromEntries((opts.models ?? ['digits', 'charlm']).map((m) => [m, opts.priceMicro ?? '1000']));
  return { type: 'offer.post', envelope: node.sign('offer.post', { prices, capacity: opts.capacity ?? 4, variant: 'fp32', untilMs: opts.untilMs ?? Date.now() + 600_000 }, opts.nonce ? { nonce: opts.nonce } : {}) };
}

/**
 * Make a node act as a miner: post a standing offer at `priceMicro` (offers mode) or bid on every `job.offer` at
 * it (auction), answer assignments (optionally lying or streaming tokens). Resolves once the offer stands.
 */
export async function actAsMiner(node: TestNode, opts: { priceMicro?: string; lie?: boolean; stream?: boolean; silent?: boolean; capacity?: number; models?: string[] } = {}): Promise<void> {
  node.onFrame((f) => {
    if (f.type === 'job.offer') {
      const o = f as Extract<ServerMessage, { type: 'job.offer' }>;
      node.raw({ type: 'job.bid', ref: `bid-${o.jobId}`, envelope: node.sign('job.bid', { jobId: o.jobId, priceMicro: opts.priceMicro ?? '1000' }) });
    } else if (f.type === 'job.assign' && !opts.silent) {
      const a = f as Extract<ServerMessage, { type: 'job.assign' }>;
      const output = fakeInference(a.input, opts.lie);
      if (opts.stream && output.kind === 'tokens') {
        output.tokens.forEach((t, i) => node.raw({ type: 'job.token', jobId: a.jobId, index: i, token: t, text: String.fromCharCode(t) }));
      }
      node.raw({
        type: 'job.result',
        ref: `res-${a.jobId}`,
        envelope: node.sign('job.result', { jobId: a.jobId, inputHash: a.inputHash, outputHash: hashPayload(output) }),
        output,
      });
    }
  });
  if (matchingModeOf(node) === 'offers') {
    const r = await node.request(offerFrame(node, opts));
    if (r.type !== 'ack') throw new Error(`offer refused: ${JSON.stringify(r)}`);
  }
}

/** Make a node act as a validator: re-execute every audit task blind and submit its output (or lie as an auditor). */
export function actAsValidator(node: TestNode, opts: { lieAsAuditor?: boolean } = {}): void {
  node.onFrame((f) => {
    if (f.type !== 'audit.task') return;
    const t = f as Extract<ServerMessage, { type: 'audit.task' }>;
    const output = fakeInference(t.input, opts.lieAsAuditor === true && t.purpose === 'audit');
    node.raw({ type: 'audit.output', ref: `aud-${t.jobId}`, envelope: node.sign('audit.output', { jobId: t.jobId, outputHash: hashPayload(output) }), output });
  });
}

/** A signed job submission request body. */
export function submitRequest(client: KeyPair, opts: { jobId: string; model?: string; input?: JobInput; maxPriceMicro?: string; nonce?: string }): Record<string, unknown> {
  const input = opts.input ?? digitsInput();
  const envelope = sealEnvelope(client, 'job.submit', {
    jobId: opts.jobId,
    model: opts.model ?? 'digits',
    inputHash: hashPayload(input),
    maxPriceMicro: opts.maxPriceMicro ?? '5000',
    nonce: opts.nonce ?? nextNonce(),
    expiresAtMs: Date.now() + 30_000,
  });
  return { envelope, input };
}

/** A read token (`x-infermarket-read`) for one of `client`'s jobs, or `*` for all of them (30 s). */
export function readTokenOf(client: KeyPair, jobId: string): string {
  return makeReadToken(client, jobId, Date.now() + 30_000);
}

/** A fresh key pair by label. */
export function keysOf(label: string): KeyPair {
  return keyPairFromSeed(seedFromLabel(label));
}

/** Poll `fn` until it returns a truthy value. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
