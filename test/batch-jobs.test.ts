import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, ledgerTotals, sampleAuditRows, type JobInput, type JobOutput } from '@infermarket/protocol';
import { createMarket, type Market } from '@infermarket/market';
import { createInferenceExecutor, type Executor } from '@infermarket/miner';
import { digits, http, keysOf, rawNode, registerAndBond, submitBody, type Frame, type RawNode } from './security-raw.js';
import { hashPayload } from '@infermarket/protocol';

// Batch jobs (issue #13 item 5) attacked over the public API: raw HTTP for the client, raw WebSocket nodes
// running the real digits model through onnxruntime. Every audit samples rows; a miner that corrupts a row the
// sample draws is caught and slashed; bad rows are refused with ERR_BAD_BATCH naming the field, changing nothing.

const PRICE = 1_000n; // the miner's standing offer, per row
let dir: string;
let market: Market;
let exec: Executor;
const nodes: RawNode[] = [];
const client = keysOf('batch/client');
/** Row of the next job the miner corrupts (null: honest). */
const corrupt = new Map<string, number>();

const snapshot = (): string => JSON.stringify([...market.core.state.ledger].map(([k, v]) => [k, v.toString()]).sort());
const conserved = (): void => {
  expect(ledgerTotals(market.core.state).conserved).toBe(true);
  expect(checkInvariants(market.core.state)).toEqual([]);
};
async function finished(jobId: string): Promise<string> {
  const end = Date.now() + 30_000;
  for (;;) {
    const j = market.core.state.jobs.get(jobId);
    if (j && (j.status === 'settled' || j.status === 'failed')) return j.status;
    if (Date.now() > end) throw new Error(`job ${jobId} is still ${j?.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Overwrite row `row` of a [rows, 10] float32 output with the reversed logits (a different argmax). */
function corruptRow(out: JobOutput, row: number): JobOutput {
  if (out.kind !== 'tensor') throw new Error('tensor expected');
  const buf = Buffer.from(out.tensor.data, 'base64');
  const f = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const w = out.tensor.dims[1]!;
  const r = f.slice(row * w, (row + 1) * w).reverse();
  for (let i = 0; i < w; i++) f[row * w + i] = r[i]! + 1;
  return { kind: 'tensor', tensor: { ...out.tensor, data: Buffer.from(f.buffer).toString('base64') } };
}

async function node(label: string, role: 'miner' | 'validator'): Promise<RawNode> {
  const n = await rawNode(market.wsUrl, keysOf(label));
  nodes.push(n);
  expect((await http(market.url, '/v1/faucet', { body: { address: n.keys.address, amountMicro: '500000000' } })).status).toBe(200);
  await registerAndBond(n, role, ['digits', 'charlm']);
  return n;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'im-batch-'));
  // every job audited, 4 rows sampled; one referee; a long epoch so the test can read the draw's seed
  market = await createMarket({ dbPath: join(dir, 'm.db'), params: { auditRate: 1, auditSampleRows: 4, disputeQuorum: 1, challengeWindowMs: 100, epochMs: 3_600_000, maxBatchRows: 64 } });
  exec = createInferenceExecutor();
  await exec.warm([{ model: 'digits', variant: 'fp32' }, { model: 'digits', variant: 'fp32', reference: true }]);
  expect((await http(market.url, '/v1/faucet', { body: { address: client.address, amountMicro: '100000000' } })).status).toBe(200);
  const miner = await node('batch/miner', 'miner');
  const offer = await miner.request({ type: 'offer.post', envelope: miner.sign('offer.post', { prices: { digits: PRICE.toString(), charlm: PRICE.toString() }, capacity: 4, variant: 'fp32', untilMs: Date.now() + 600_000 }) });
  expect(offer.type).toBe('ack');
  // the miner runs the whole batch in one onnxruntime run, then (when told to) corrupts one row
  miner.ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as Frame;
    if (f.type !== 'job.assign') return;
    void (async () => {
      const input = f.input as JobInput;
      let out = (await exec.execute({ model: 'digits', variant: 'fp32', input })).output;
      const bad = corrupt.get(String(f.jobId));
      if (bad !== undefined) out = corruptRow(out, bad);
      miner.send({ type: 'job.result', envelope: miner.sign('job.result', { jobId: String(f.jobId), inputHash: String(f.inputHash), outputHash: hashPayload(out) }), output: out });
    })();
  });
  // two honest validators (an auditor and a referee): blind re-execution of the rows they are sent
  for (const label of ['batch/v1', 'batch/v2']) {
    const v = await node(label, 'validator');
    v.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      if (f.type !== 'audit.task') return;
      void (async () => {
        const out = (await exec.execute({ model: 'digits', variant: 'fp32', input: f.input as JobInput, reference: true })).output;
        tasks.push({ jobId: String(f.jobId), rows: (f.input as Extract<JobInput, { kind: 'tensor' }>).tensor.dims[0]!, sampled: f.rows as number[] | undefined });
        v.send({ type: 'audit.output', envelope: v.sign('audit.output', { jobId: String(f.jobId), outputHash: hashPayload(out) }), output: out });
      })();
    });
  }
}, 120_000);
const tasks: { jobId: string; rows: number; sampled: number[] | undefined }[] = [];
afterAll(async () => {
  for (const n of nodes) n.ws.terminate();
  await market?.close();
  await exec?.close();
  rmSync(dir, { recursive: true, force: true });
});

const submit = (jobId: string, o: { rows?: unknown; input?: JobInput; model?: string; private?: boolean; maxPriceMicro?: string } = {}) =>
  http(market.url, '/v1/jobs', { body: submitBody(client, { jobId, maxPriceMicro: o.maxPriceMicro ?? '5000', ...o }) });

describe('batch jobs over the wire (raw HTTP client, raw nodes, real digits model)', () => {
  it('an honest 32-row job is matched, run as one batch, audited on 4 sampled rows, and pays the offer × 32', async () => {
    const before = market.core.state.ledger.get(`balance:${client.address}`)!;
    const r = await submit('b-honest', { rows: 32, input: digits(3, 32) });
    expect(r.status, r.text).toBe(202);
    expect(market.core.state.ledger.get('escrow:b-honest') ?? 0n).toBe(5_000n * 32n);
    expect(await finished('b-honest')).toBe('settled');
    const view = (await http(market.url, '/v1/jobs/b-honest')).json as { rows?: number; priceMicro: string; maxPriceMicro: string };
    expect(view).toMatchObject({ rows: 32, priceMicro: String(PRICE * 32n), maxPriceMicro: String(5_000n * 32n) });
    const t = tasks.find((x) => x.jobId === 'b-honest')!;
    expect(t.rows).toBe(4);
    expect(t.sampled).toEqual(sampleAuditRows(market.core.state.epoch!.seed, 'b-honest', 32, 4));
    const price = PRICE * 32n;
    // client pays price + 2 % protocol fee + 100 % validator fee (defaults), nothing more
    expect(before - market.core.state.ledger.get(`balance:${client.address}`)!).toBe(price + (price * 200n) / 10_000n + price);
    conserved();
  });

  it('a miner that returns a correct first row but corrupts a later, sampled row is caught: slashed, the client refunded', async () => {
    const seed = market.core.state.epoch!.seed;
    const sample = sampleAuditRows(seed, 'b-cheat', 32, 4);
    const bad = sample.find((r) => r > 0)!;
    corrupt.set('b-cheat', bad);
    const minerAddr = keysOf('batch/miner').address;
    const stakeBefore = market.core.state.ledger.get(`stake:${minerAddr}`)!;
    const balBefore = market.core.state.ledger.get(`balance:${client.address}`)!;
    expect((await submit('b-cheat', { rows: 32, input: digits(4, 32) })).status).toBe(202);
    expect(await finished('b-cheat')).toBe('failed');
    expect(market.core.state.ledger.get(`stake:${minerAddr}`)!).toBeLessThan(stakeBefore);
    // refunded in full, plus the harmed share of the slash
    expect(market.core.state.ledger.get(`balance:${client.address}`)!).toBeGreaterThanOrEqual(balBefore);
    conserved();
  });

  it('a corrupted row the sample does not draw goes unseen (the catch is probabilistic: docs/verification.md)', async () => {
    // the miner was jailed by the slash above: post a new one
    const m2 = await node('batch/miner2', 'miner');
    const ok = await m2.request({ type: 'offer.post', envelope: m2.sign('offer.post', { prices: { digits: PRICE.toString() }, capacity: 4, variant: 'fp32', untilMs: Date.now() + 600_000 }) });
    expect(ok.type).toBe('ack');
    m2.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      if (f.type !== 'job.assign') return;
      void (async () => {
        let out = (await exec.execute({ model: 'digits', variant: 'fp32', input: f.input as JobInput })).output;
        const bad = corrupt.get(String(f.jobId));
        if (bad !== undefined) out = corruptRow(out, bad);
        m2.send({ type: 'job.result', envelope: m2.sign('job.result', { jobId: String(f.jobId), inputHash: String(f.inputHash), outputHash: hashPayload(out) }), output: out });
      })();
    });
    const sample = sampleAuditRows(market.core.state.epoch!.seed, 'b-unseen', 32, 4);
    const unseen = Array.from({ length: 32 }, (_, i) => i).find((r) => r > 0 && !sample.includes(r))!;
    corrupt.set('b-unseen', unseen);
    expect((await submit('b-unseen', { rows: 32, input: digits(5, 32) })).status).toBe(202);
    expect(await finished('b-unseen')).toBe('settled');
    conserved();
  });

  it('error: rows 0, 65 (> maxBatchRows), a float, rows ≠ the tensor\'s rows, a bad row shape, private + batch, charlm + batch → 400 naming the field; nothing changes', async () => {
    const before = snapshot();
    const seq = market.core.state.seq;
    const cases: [string, Parameters<typeof submit>[1], string][] = [
      ['x-0', { rows: 0, input: digits(1, 1) }, 'ERR_BAD_BATCH'],
      ['x-65', { rows: 65, input: digits(1, 64) }, 'ERR_BAD_BATCH'],
      ['x-frac', { rows: 1.5, input: digits(1, 1) }, 'ERR_VALIDATION'],
      ['x-mismatch', { rows: 4, input: digits(1, 3) }, 'ERR_BAD_BATCH'],
      ['x-unsaid', { input: digits(1, 8) }, 'ERR_BAD_BATCH'],
      ['x-private', { rows: 2, input: digits(1, 2), private: true }, 'ERR_BAD_BATCH'],
      ['x-charlm', { rows: 2, model: 'charlm', input: { kind: 'prompt', prompt: 'The ', maxTokens: 4, temperature: 0, seed: 1 } }, 'ERR_BAD_BATCH'],
    ];
    for (const [jobId, o, code] of cases) {
      const r = await submit(jobId, o);
      expect(r.status, `${jobId}: ${r.text}`).toBe(400);
      expect(r.json.error.code, jobId).toBe(code);
      expect(r.json.error.message, jobId).toMatch(/rows/);
    }
    // rows agree but one row's shape is wrong: 4 rows of 783 pixels
    const short = digits(1, 4);
    const badShape: JobInput = { kind: 'tensor', tensor: { ...short.kind === 'tensor' ? short.tensor : (null as never), dims: [4, 783], data: Buffer.alloc(4 * 783 * 4).toString('base64') } };
    const r = await submit('x-shape', { rows: 4, input: badShape });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('ERR_BAD_INPUT');
    expect(r.json.error.message).toMatch(/input\.tensor\.dims/);
    expect(snapshot()).toBe(before);
    expect(market.core.state.seq).toBe(seq);
    expect((await http(market.url, '/v1/health')).status).toBe(200);
    conserved();
  });
});

describe('batch jobs in auction mode (raw node)', () => {
  it('job.offer carries rows and the max price per row; a per-row bid is charged × rows', async () => {
    const d = mkdtempSync(join(tmpdir(), 'im-batch-auction-'));
    const m = await createMarket({ dbPath: join(d, 'm.db'), params: { matchingMode: 'auction', auditRate: 0, bidWindowMs: 200, challengeWindowMs: 100 } });
    try {
      const miner = await rawNode(m.wsUrl, keysOf('batch/auction-miner'));
      expect((await http(m.url, '/v1/faucet', { body: { address: miner.keys.address, amountMicro: '500000000' } })).status).toBe(200);
      await registerAndBond(miner, 'miner', ['digits']);
      const c = keysOf('batch/auction-client');
      expect((await http(m.url, '/v1/faucet', { body: { address: c.address, amountMicro: '100000000' } })).status).toBe(200);
      const r = await http(m.url, '/v1/jobs', { body: submitBody(c, { jobId: 'a-8', input: digits(2, 8), maxPriceMicro: '5000', rows: 8 }) });
      expect(r.status, r.text).toBe(202);
      const offer = await miner.waitFor((f) => f.type === 'job.offer' && f.jobId === 'a-8');
      expect(offer).toMatchObject({ rows: 8, maxPriceMicro: '5000' });
      const bid = await miner.request({ type: 'job.bid', envelope: miner.sign('job.bid', { jobId: 'a-8', priceMicro: '1000' }) });
      expect(bid.type).toBe('ack');
      const assign = await miner.waitFor((f) => f.type === 'job.assign' && f.jobId === 'a-8', 10_000);
      expect(assign.priceMicro).toBe('8000');
      miner.ws.terminate();
    } finally {
      await m.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('batch jobs survive a market restart', () => {
  it('the event log replays a waiting batch job: its rows, its per-row escrow × rows, every invariant', async () => {
    const d = mkdtempSync(join(tmpdir(), 'im-batch-restart-'));
    const params = { auditRate: 0, bidWindowMs: 60_000 };
    let m = await createMarket({ dbPath: join(d, 'm.db'), params });
    try {
      const c = keysOf('batch/restart-client');
      expect((await http(m.url, '/v1/faucet', { body: { address: c.address, amountMicro: '100000000' } })).status).toBe(200);
      const r = await http(m.url, '/v1/jobs', { body: submitBody(c, { jobId: 'r-16', input: digits(7, 16), maxPriceMicro: '3000', rows: 16 }) });
      expect(r.status, r.text).toBe(202);
      const before = JSON.stringify([...m.core.state.ledger].map(([k, v]) => [k, v.toString()]).sort());
      await m.close();
      m = await createMarket({ dbPath: join(d, 'm.db'), params });
      const job = m.core.state.jobs.get('r-16')!;
      expect(job.rows).toBe(16);
      expect(job.maxPriceMicro).toBe(3_000n * 16n);
      expect(m.core.state.ledger.get('escrow:r-16')).toBe(3_000n * 16n);
      expect(JSON.stringify([...m.core.state.ledger].map(([k, v]) => [k, v.toString()]).sort())).toBe(before);
      expect(checkInvariants(m.core.state)).toEqual([]);
    } finally {
      await m.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
