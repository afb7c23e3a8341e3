import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, compareJobOutputs, keyPairFromSeed, ledgerTotals, seedFromLabel, type JobInput } from '@infermarket/protocol';
import { createClient, stackRows, verifyReceipt } from '@infermarket/client';
import { createMarket, type Market } from '@infermarket/market';
import { createInferenceExecutor, type Executor } from '@infermarket/miner';
import { sampleInput } from '@infermarket/inference';
import { CLI, removeRun, tempDir } from './testnet-helpers.js';

// A batch job end to end through the SDK: a real market, a real miner process and a real validator process
// running the heavy model through onnxruntime; 32 rows in one job, priced per row, audited on sampled rows.

let dir = '';
let market: Market;
let exec: Executor;
const procs: ChildProcess[] = [];

function start(args: string[], ready: RegExp): Promise<void> {
  const p = spawn(process.execPath, [CLI, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise<void>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve();
    });
    p.once('exit', (c) => reject(new Error(`${args[0]} exited ${c}: ${err.slice(-2000)}`)));
  });
}

beforeAll(async () => {
  dir = tempDir('batch-sdk');
  market = await createMarket({ dbPath: `${dir}/m.db`, params: { auditRate: 1, auditSampleRows: 4, challengeWindowMs: 100, jobDeadlineMs: 30_000, auditWindowMs: 30_000, unbondingPeriodMs: 120_000 } });
  await Promise.all([
    start(['miner', '--market', market.wsUrl, '--model', 'heavy', '--variant', 'fp32', '--price', '1000', '--key-seed', 'batch-sdk-miner', '--key-file', `${dir}/miner.json`], /"event":"offer.posted"/),
    start(['validator', '--market', market.wsUrl, '--model', 'heavy', '--variant', 'fp32', '--key-seed', 'batch-sdk-validator', '--key-file', `${dir}/validator.json`], /"event":"ready"/),
  ]);
  exec = createInferenceExecutor();
}, 180_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await market?.close();
  await exec?.close();
  removeRun(dir);
});

describe('batch job through the SDK (real heavy model)', () => {
  it('submits 32 heavy rows as one job, gets 32 rows back that match direct onnxruntime, pays 32 × the offer, and the receipt verifies', async () => {
    const client = createClient({ url: market.url, key: keyPairFromSeed(seedFromLabel('batch-sdk-client')) });
    await client.faucet(10_000_000n);
    const rows = Array.from({ length: 32 }, (_, i) => {
      const t = Object.values(sampleInput('heavy', i).input)[0]!;
      return { kind: 'tensor', tensor: { dtype: 'float32', dims: [...t.dims], data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64') } } as JobInput;
    });
    const input = stackRows(rows);
    expect(input.kind === 'tensor' && input.tensor.dims).toEqual([32, 1024]);
    const before = await client.balance();
    // rows inferred from the tensor's first dim; the max price is per row
    const sub = await client.submit({ model: 'heavy', input, maxPriceMicro: 5_000n, verification: 'always' });
    const job = await client.wait(sub.jobId, { timeoutMs: 120_000 });
    expect(job.status, JSON.stringify(job)).toBe('settled');
    expect(job.audited).toBe(true);
    expect(BigInt(job.priceMicro)).toBe(1_000n * 32n);
    expect(job.output?.kind === 'tensor' && job.output.tensor.dims).toEqual([32, 256]);
    const direct = (await exec.execute({ model: 'heavy', variant: 'fp32', input, reference: true })).output;
    const manifestComparator = { comparator: { kind: 'argmax-maxabs', tolerance: 1e-4 } };
    if (direct.kind !== 'tensor' || job.output?.kind !== 'tensor') throw new Error('tensor outputs expected');
    expect(compareJobOutputs(manifestComparator, direct, job.output).match).toBe(true);
    const marketKey = ((await (await fetch(`${market.url}/v1/health`)).json()) as { marketKey: string }).marketKey;
    const receipt = verifyReceipt(job.receipt!, marketKey);
    expect(receipt.verdict).toBe('verified');
    expect(receipt.priceMicro).toBe(32_000n);
    const price = 32_000n;
    expect(before - (await client.balance())).toBe(price + (price * 200n) / 10_000n + price);
    expect(ledgerTotals(market.core.state).conserved).toBe(true);
    expect(checkInvariants(market.core.state)).toEqual([]);
    client.close();
  }, 180_000);
});
