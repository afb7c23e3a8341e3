import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createRng, requestJson, syntheticInput, verifyReceipt } from '@infermarket/client';
import { hashPayload, InfermarketError, keyPairFromSeed, sealEnvelope, seedFromLabel, toHex, type Canonical, type JobView } from '@infermarket/protocol';
import { createInferenceExecutor } from '@infermarket/miner';
import { CLI, removeRun, runCli, tempDir } from './testnet-helpers.js';

// The centralized baseline as a real process, used by the real SDK; then `compare` on a small scenario.
describe('infermarket cloud: the centralized baseline', () => {
  let child: ChildProcess;
  let url = '';
  let cloudKey = '';
  const PRICE = 7_000n;

  beforeAll(async () => {
    child = spawn(process.execPath, [CLI, 'cloud', '--port', '0', '--price', `digits=${PRICE},charlm=${PRICE}`, '--key-seed', 'cloud-test'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const line = buf.split('\n').find((l) => l.includes('"listening"'));
        if (line) resolve(JSON.parse(line) as Record<string, unknown>);
      });
      child.on('exit', (code) => reject(new Error(`cloud exited ${code}`)));
    });
    url = String(listening.url);
    cloudKey = String(listening.marketKey);
  });
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('serves a digits job and a streamed charlm job to the SDK, with receipts signed by the cloud key that say "none"', async () => {
    const c = createClient({ url, key: seedFromLabel('cloud-test-alice'), transport: 'http' });
    await c.faucet(1_000_000n);
    const input = syntheticInput('digits', createRng(5, 't'));
    const { jobId, inputHash } = await c.submit({ model: 'digits', input, maxPriceMicro: 50_000n });
    const job = await c.wait(jobId, { timeoutMs: 30_000 });
    expect(job.status).toBe('settled');
    const r = verifyReceipt(job.receipt, cloudKey, { jobId, inputHash, output: job.output, client: c.address });
    expect(r.verification).toBe('none');
    expect(r.verdict).toBe('unchecked');
    expect(r.verified).toBe(false);
    expect(r.paidMicro).toBe(PRICE);
    // the cloud ran the real int8 model: the same output as a local run of the miners' executor
    const local = createInferenceExecutor();
    try {
      const mine = await local.execute({ model: 'digits', variant: 'int8', input });
      expect(hashPayload(job.output!)).toBe(hashPayload(mine.output));
    } finally {
      await local.close();
    }
    // a receipt checked against another key is refused
    expect(() => verifyReceipt(job.receipt, toHex(keyPairFromSeed(seedFromLabel('other')).publicKey))).toThrow(/not by the market key/);

    const tokens: number[] = [];
    const gen = await c.submit({ model: 'charlm', input: { kind: 'prompt', prompt: 'The market ', maxTokens: 12, temperature: 0, seed: 3 }, maxPriceMicro: 50_000n });
    const done = await c.stream(gen.jobId, { onToken: (t) => tokens.push(t.token), timeoutMs: 30_000 });
    expect(done.status).toBe('settled');
    expect(tokens).toHaveLength(12);
    expect(done.output).toMatchObject({ kind: 'tokens', tokens });
    expect(done.ttftMs).not.toBeNull();
    const r2 = verifyReceipt(done.receipt, cloudKey, { jobId: gen.jobId, output: done.output });
    expect(r2.outputLength).toBe(12);
    expect(await c.balance()).toBe(1_000_000n - 2n * PRICE);
  });

  it('refuses a replayed submission, a verification it does not do, and a stranger reading the output, changing nothing', async () => {
    const keys = keyPairFromSeed(seedFromLabel('cloud-test-bob'));
    const c = createClient({ url, key: keys, transport: 'http' });
    await c.faucet(100_000n);
    const input = syntheticInput('digits', createRng(6, 't'));
    const now = (await requestJson<{ nowMs: number }>(url, '/v1/health')).nowMs;
    const body = { jobId: 'jreplay1', model: 'digits', inputHash: hashPayload(input), maxPriceMicro: '20000', nonce: '1', expiresAtMs: now + 10_000 };
    const envelope = sealEnvelope(keys, 'job.submit', body as unknown as Canonical);
    await requestJson(url, '/v1/jobs', { body: { envelope, input } });
    const again = await requestJson(url, '/v1/jobs', { body: { envelope, input } }).catch((e: InfermarketError) => e);
    expect((again as InfermarketError).code).toBe('ERR_REPLAY');
    const verified = sealEnvelope(keys, 'job.submit', { ...body, jobId: 'jreplay2', nonce: '2', verification: 'always' } as unknown as Canonical);
    const refused = await requestJson(url, '/v1/jobs', { body: { envelope: verified, input } }).catch((e: InfermarketError) => e);
    expect((refused as InfermarketError).code).toBe('ERR_VALIDATION');
    expect((refused as InfermarketError).message).toContain('verification');
    // a forged signature, an unknown field, a price below the cloud's, more than the balance: each refused by code
    const forged = { ...sealEnvelope(keys, 'job.submit', { ...body, jobId: 'jforged', nonce: '3' } as unknown as Canonical) };
    forged.body = { ...(forged.body as object), maxPriceMicro: '1' } as never;
    expect(((await requestJson(url, '/v1/jobs', { body: { envelope: forged, input } }).catch((e: InfermarketError) => e)) as InfermarketError).code).toBe('ERR_BAD_SIGNATURE');
    const extra = sealEnvelope(keys, 'job.submit', { ...body, jobId: 'jextra', nonce: '4' } as unknown as Canonical);
    const unknownField = (await requestJson(url, '/v1/jobs', { body: { envelope: extra, input, tip: 1 } }).catch((e: InfermarketError) => e)) as InfermarketError;
    expect(unknownField.code).toBe('ERR_VALIDATION');
    expect(unknownField.message).toContain('tip');
    const cheap = sealEnvelope(keys, 'job.submit', { ...body, jobId: 'jcheap', nonce: '5', maxPriceMicro: '100' } as unknown as Canonical);
    expect(((await requestJson(url, '/v1/jobs', { body: { envelope: cheap, input } }).catch((e: InfermarketError) => e)) as InfermarketError).code).toBe('ERR_PRICE_TOO_HIGH');
    const rich = sealEnvelope(keys, 'job.submit', { ...body, jobId: 'jrich', nonce: '6', maxPriceMicro: '90000000' } as unknown as Canonical);
    expect(((await requestJson(url, '/v1/jobs', { body: { envelope: rich, input } }).catch((e: InfermarketError) => e)) as InfermarketError).code).toBe('ERR_INSUFFICIENT_BALANCE');
    const job = await c.wait('jreplay1', { timeoutMs: 30_000 });
    expect(job.status).toBe('settled');
    // one job paid, at the cloud's fixed price; the refused ones cost nothing
    expect(await c.balance()).toBe(100_000n - PRICE);
    // a stranger sees no output without a token, and is refused with its own token for bob's job
    const anon = await requestJson<JobView>(url, '/v1/jobs/jreplay1');
    expect(anon.output).toBeNull();
    expect(anon.receipt).toBeNull();
    const eve = createClient({ url, key: seedFromLabel('cloud-test-eve'), transport: 'http' });
    const stolen = await requestJson(url, `/v1/jobs/jreplay1?read=${await eve.readToken('jreplay1')}`).catch((e: InfermarketError) => e);
    expect((stolen as InfermarketError).code).toBe('ERR_UNAUTHENTICATED');
    const stats = await requestJson<{ ledger: { conserved: boolean; revenueMicro: string } }>(url, '/v1/stats');
    expect(stats.ledger.conserved).toBe(true);
    expect(BigInt(stats.ledger.revenueMicro)).toBe(3n * PRICE);
  });
});

describe('infermarket compare', () => {
  let out: string | undefined;
  afterAll(() => removeRun(out));

  it('runs the same load against the cloud and the market and prints both sides with market ÷ cloud ratios', async () => {
    out = tempDir('compare');
    const r = await runCli(['compare', '--scenario', 'scenarios/quickstart.json', '--duration', '4', '--out', out, '--json'], { timeoutMs: 150_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const c = JSON.parse(r.stdout) as import('../packages/cli/src/cloud/compare.js').Comparison;
    expect(c.seeds.scenario).toBe(42);
    for (const side of [c.cloud, c.market]) {
      expect(side.settled).toBeGreaterThan(0);
      expect(side.latencyMs!.p50).toBeGreaterThan(0);
      expect(side.latencyMs!.p95).toBeGreaterThanOrEqual(side.latencyMs!.p50);
      expect(BigInt(side.costPer1000JobsMicro!)).toBeGreaterThan(0n);
    }
    // the cloud charges its fixed price and verifies nothing; the market audits a share and the fee shows in its cost
    expect(c.cloud.costPer1000JobsMicro).toBe('10000000');
    expect(c.cloud.auditRate).toBe(0);
    expect(c.market.auditRate).toBeGreaterThan(0);
    expect(c.market.verificationShare).toBeGreaterThan(0);
    for (const k of ['latencyP50', 'latencyP95', 'costPer1000Jobs'] as const) expect(c.ratios[k]).toBeGreaterThan(0);
    expect(c.ratios.latencyP50).toBeCloseTo(c.market.latencyMs!.p50 / c.cloud.latencyMs!.p50, 6);
    const html = readFileSync(join(out, 'compare.html'), 'utf8');
    expect(html).toContain('uPlot');
    expect(html).toContain('market ÷ cloud');
    expect(existsSync(join(out, 'compare.json'))).toBe(true);
    expect(existsSync(join(out, 'market', 'report.json'))).toBe(true);
  }, 160_000);
});
