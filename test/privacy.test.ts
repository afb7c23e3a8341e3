import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, float32Tensor, requestJson, type Client } from '@infermarket/client';
import {
  makeReadToken,
  encryptionKeyPairFromSeed,
  hashPayload,
  keyPairFromSeed,
  seal,
  sealEnvelope,
  sealJson,
  seedFromLabel,
  verifyRegistration,
  type Canonical,
  type Envelope,
  type InfermarketError,
  type JobInput,
  type JobStreamMessage,
  type JobView,
} from '@infermarket/protocol';
import { CLI, describeRun, removeRun, runCli, runScenario, startMarket, tempDir } from './testnet-helpers.js';

// Private jobs (docs/privacy.md) with real processes. Part 1: a market, a miner and a validator (CLI
// processes), and an SDK client, every byte between them and the market passing through a TCP proxy in
// this test that records it. Private jobs with recognisable inputs (a prompt, a tensor with a byte
// pattern) run and are audited; then the proxy's capture, every row of the SQLite file (deflated log
// bodies inflated) and the market's debug log are searched for the plaintext inputs and outputs: none
// is there. A public job run the same way is found in all three, so the search itself works.
// Part 2: a private testnet run with mixed regions and a lazy miner.

const PARAMS = { auditRate: 1, bidWindowMs: 200, challengeWindowMs: 300, auditWindowMs: 4_000, disputeWindowMs: 4_000, disputeQuorum: 1, jailDurationMs: 0, maxSlashes: 100, slashFractionBps: 200 };

/** A TCP proxy that records every byte in both directions. */
function recordingProxy(target: number): Promise<{ server: Server; port: number; bytes: () => Buffer }> {
  const chunks: Buffer[] = [];
  const server = createServer((down) => {
    const up = connect(target, '127.0.0.1');
    down.on('data', (d: Buffer) => chunks.push(d));
    up.on('data', (d: Buffer) => chunks.push(d));
    down.pipe(up);
    up.pipe(down);
    const end = (): void => {
      down.destroy();
      up.destroy();
    };
    down.on('error', end);
    up.on('error', end);
    down.on('close', end);
    up.on('close', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, bytes: () => Buffer.concat(chunks) })));
}

/** Every text in the market's SQLite file: all rows of all tables, deflated bodies inflated. */
function databaseText(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    const parts: string[] = [];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).iterate() as Iterable<Record<string, unknown>>) {
        for (const v of Object.values(row)) {
          if (Buffer.isBuffer(v)) {
            parts.push(v.toString('latin1'));
            try {
              parts.push(inflateRawSync(v).toString('utf8'));
            } catch {
              // not deflated
            }
          } else parts.push(String(v));
        }
      }
    }
    return parts.join('\n');
  } finally {
    db.close();
  }
}

/** A node process of the built CLI, its log collected. */
function node(args: string[]): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  return { child, log: () => log };
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A digits input whose pixels spell a pattern no other input has (the needle is its base64 data). */
function patternedDigit(k: number): JobInput {
  const px = new Float32Array(784);
  for (let i = 0; i < 784; i++) px[i] = ((i * 7 + k * 13) % 29) / 28;
  return { kind: 'tensor', tensor: float32Tensor(px, [1, 784]) };
}

/** Recognisable pieces of a job's plaintext input and output (JSON and base64 forms as they would travel). */
function needles(input: JobInput, output: JobView['output']): string[] {
  const n: string[] = [];
  if (input.kind === 'prompt') n.push(input.prompt);
  if (input.kind === 'tensor') n.push(input.tensor.data.slice(0, 48), input.tensor.data.slice(400, 448));
  if (output?.kind === 'tokens' && output.text.length >= 8) n.push(output.text.slice(0, 12));
  if (output?.kind === 'tensor') n.push(output.tensor.data.slice(0, 24));
  return n;
}

describe('private jobs: nothing readable at the market, on its wire or in its file', () => {
  const dir = tempDir('privacy');
  const db = join(dir, 'market.db');
  let market: Awaited<ReturnType<typeof startMarket>>;
  let marketLog = '';
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  const nodes: ReturnType<typeof node>[] = [];
  let client: Client;
  const privateJobs: { input: JobInput; job: JobView }[] = [];
  let publicJob: { input: JobInput; job: JobView };
  let minerAddress = '';
  let registration: Envelope;

  beforeAll(async () => {
    market = await startMarket(['--db', db, '--params', JSON.stringify(PARAMS), '--log-level', 'debug']);
    market.child.stderr!.on('data', (d: Buffer) => (marketLog += d.toString()));
    proxy = await recordingProxy(Number(new URL(market.url).port));
    const via = `http://127.0.0.1:${proxy.port}`;
    const common = ['--market', `ws://127.0.0.1:${proxy.port}`, '--model', 'digits,charlm'];
    nodes.push(node(['miner', ...common, '--key-seed', 'privacy-miner', '--strategy', 'honest', '--seed', '3']));
    nodes.push(node(['validator', ...common, '--key-seed', 'privacy-validator']));
    minerAddress = keyPairFromSeed(seedFromLabel('privacy-miner')).address;
    client = createClient({ url: via, key: seedFromLabel('privacy-client') });
    await client.faucet(50_000_000n);
    await waitFor('the miner and the validator to bond', async () => {
      const s = (await (await fetch(`${via}/v1/stats`)).json()) as { nodes: { stakeMicro: string; online: boolean }[] };
      return s.nodes.filter((n) => n.online && BigInt(n.stakeMicro) > 0n).length >= 2;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n${nodes.map((n) => n.log().slice(-1500)).join('\n')}`);
    });
    const inputs: JobInput[] = [
      { kind: 'prompt', prompt: 'Zebra quartz vault 4417 says ', maxTokens: 24, temperature: 0, seed: 7 },
      patternedDigit(1),
      { kind: 'prompt', prompt: 'Marmalade oxygen cipher 9923 ', maxTokens: 24, temperature: 0, seed: 8 },
      patternedDigit(2),
    ];
    for (const input of inputs) {
      const model = input.kind === 'prompt' ? 'charlm' : 'digits';
      const { jobId } = await client.submit({ model, input, maxPriceMicro: 200_000n, private: true });
      privateJobs.push({ input, job: await client.wait(jobId, { timeoutMs: 30_000 }) });
    }
    const input: JobInput = { kind: 'prompt', prompt: 'Public pelican lantern 5150 ', maxTokens: 24, temperature: 0, seed: 9 };
    const { jobId } = await client.submit({ model: 'charlm', input, maxPriceMicro: 200_000n });
    publicJob = { input, job: await client.wait(jobId, { timeoutMs: 30_000 }) };
    registration = ((await (await fetch(`${via}/v1/nodes/${minerAddress}`)).json()) as { registration: Envelope }).registration;
  }, 90_000);

  afterAll(async () => {
    for (const n of nodes) n.child.kill('SIGTERM');
    proxy?.server.close();
    await market?.stop();
    removeRun(dir);
  });

  it('runs and audits private jobs; the client opens outputs that match what the miner signed', () => {
    for (const { input, job } of privateJobs) {
      expect(job.status, `${job.failure} ${nodes.map((n) => n.log().slice(-1500)).join('\n')}`).toBe('settled');
      expect(job.audited).toBe(true);
      expect(job.output?.kind).toBe(input.kind === 'prompt' ? 'tokens' : 'tensor');
    }
  });

  it('error: the market refuses a job key not sealed to the key the party signed (ERR_KEY_MISMATCH), then takes the right one', async () => {
    // a hand-made private submission, so this test, not the SDK, answers the key request
    const keys = keyPairFromSeed(seedFromLabel('privacy-manual'));
    const url = `http://127.0.0.1:${proxy.port}`;
    await requestJson(url, '/v1/faucet', { body: { address: keys.address, amountMicro: '10000000' } });
    const jobKey = encryptionKeyPairFromSeed(new Uint8Array(32).fill(9));
    const input = { kind: 'sealed' as const, sealed: sealJson(jobKey.publicKey, patternedDigit(3) as unknown as Canonical, new Uint8Array(56).fill(1)) };
    const now = ((await requestJson<{ nowMs: number }>(url, '/v1/health')).nowMs);
    const jobId = `jmanual${Date.now()}`;
    const body = { jobId, model: 'digits', inputHash: hashPayload(input), maxPriceMicro: 200_000n, private: true, nonce: String(Date.now() * 1000), expiresAtMs: now + 20_000 };
    await requestJson(url, '/v1/jobs', { body: { envelope: sealEnvelope(keys, 'job.submit', body as unknown as Canonical), input } });
    const request = await new Promise<Extract<JobStreamMessage, { type: 'key.request' }>>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/v1/jobs/${jobId}/stream?read=${makeReadToken(keys, jobId, now + 20_000)}`);
      const t = setTimeout(() => reject(new Error('no key request')), 10_000);
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as JobStreamMessage;
        if (m.type === 'key.request') {
          clearTimeout(t);
          ws.close();
          resolve(m);
        }
      });
    });
    expect(request.party).toBe(minerAddress);
    let keyNonce = 0;
    const post = (to: string) =>
      requestJson(url, `/v1/jobs/${jobId}/keys`, {
        body: { envelope: sealEnvelope(keys, 'job.key', { jobId, to: request.party, sealed: seal(to, new Uint8Array(32).fill(9), new Uint8Array(56).fill(2)), nonce: String(Date.now() * 1000 + (keyNonce += 1)), expiresAtMs: now + 20_000 } as unknown as Canonical) },
      }).then(
        () => 'accepted',
        (e: InfermarketError) => e.code,
      );
    const attacker = encryptionKeyPairFromSeed(new Uint8Array(32).fill(5));
    expect(await post(attacker.publicKey)).toBe('ERR_KEY_MISMATCH');
    const signed = verifyRegistration(request.registration, request.party);
    expect(await post(signed.encryptionKey)).toBe('accepted');
    const job = await createClient({ url, key: keys }).wait(jobId, { timeoutMs: 20_000 });
    expect(job.status).toBe('settled');
    expect(job.output?.kind).toBe('sealed');
  });

  it('finds no plaintext input or output of a private job in the captured traffic, the SQLite file or the logs', async () => {
    await market.stop(); // the file is complete and its WAL checkpointed
    const places = { traffic: proxy.bytes().toString('latin1'), sqlite: databaseText(db), log: marketLog + nodes.map((n) => n.log()).join('\n') };
    expect(places.traffic.length).toBeGreaterThan(10_000);
    for (const { input, job } of privateJobs) {
      const n = needles(input, job.output);
      expect(n.length).toBeGreaterThanOrEqual(2);
      for (const needle of n) {
        expect(places.traffic.includes(needle), `"${needle}" in the traffic`).toBe(false);
        expect(places.sqlite.includes(needle), `"${needle}" in the SQLite file`).toBe(false);
        expect(marketLog.includes(needle), `"${needle}" in the market log`).toBe(false);
      }
    }
    // the control: a public job's prompt and output are visible in all of them, so the search works
    const pub = needles(publicJob.input, publicJob.job.output);
    expect(publicJob.job.status).toBe('settled');
    for (const needle of pub) {
      expect(places.traffic.includes(needle), `"${needle}" (public) in the traffic`).toBe(true);
      expect(places.sqlite.includes(needle), `"${needle}" (public) in the SQLite file`).toBe(true);
    }
  });

  it('error: detects a swapped encryption key in a node registration (ERR_KEY_MISMATCH)', async () => {
    const res = { registration };
    const good = verifyRegistration(res.registration, minerAddress);
    expect(good.encryptionKey).toMatch(/^[0-9a-f]{64}$/);
    const swapped = { ...res.registration, body: { ...(res.registration.body as Record<string, unknown>), encryptionKey: 'ab'.repeat(32) } } as Envelope;
    const code = (f: () => unknown): string => {
      try {
        f();
        return 'none';
      } catch (e) {
        return (e as InfermarketError).code;
      }
    };
    expect(code(() => verifyRegistration(swapped, minerAddress))).toBe('ERR_KEY_MISMATCH');
    // someone else's genuine registration passed off as the miner's
    expect(code(() => verifyRegistration(res.registration, client.address))).toBe('ERR_KEY_MISMATCH');
  });
});

describe('private jobs on a testnet with mixed regions and a lazy miner', () => {
  let run: Awaited<ReturnType<typeof runScenario>>;
  beforeAll(async () => {
    run = await runScenario(
      {
        name: 'e2e-privacy',
        seed: 21,
        // the whole testnet over TLS: every process trusts exactly the run's certificate
        testnet: { tls: true },
        durationMs: 4_000,
        params: PARAMS,
        miners: [
          { name: 'eu', count: 1, strategy: 'honest', region: 'eu-west', models: ['digits', 'charlm'], pricing: { priceMicro: '10000', spreadBps: 2000 }, concurrency: 4 },
          { name: 'lazy', count: 1, strategy: 'lazy', region: 'eu-west', models: ['digits', 'charlm'], pricing: { priceMicro: '9000', spreadBps: 2000 }, concurrency: 4 },
          // the cheapest, but outside the region the jobs allow: it must never get one
          { name: 'us', count: 1, strategy: 'honest', region: 'us-east', models: ['digits', 'charlm'], pricing: { priceMicro: '5000', spreadBps: 0 }, concurrency: 4 },
        ],
        validators: [{ name: 'validator', count: 2, strategy: 'honest', models: ['digits', 'charlm'] }],
        clients: [{ name: 'client', count: 1, ratePerSec: 4, models: { digits: 1, charlm: 1 }, concurrency: 8, private: true, regions: ['eu-west'] }],
      },
      'privacy-testnet',
    );
  }, 120_000);
  afterAll(() => removeRun(run?.dir));

  it('catches the lazy miner in audits of private jobs and never slashes the honest one', () => {
    const { report } = run;
    expect(report.ledger.conserved).toBe(true);
    expect(report.invariants.violations).toEqual([]);
    const lazy = report.slashes.filter((s) => s.node === 'lazy-0');
    expect(lazy.length, describeRun(run)).toBeGreaterThan(0);
    for (const s of lazy) expect(s.reason).toBe('wrong result');
    expect(report.miners.find((m) => m.id === 'eu-0')!.slashedMicro).toBe('0');
    expect(run.jobs.filter((j) => j.status === 'settled').length, describeRun(run)).toBeGreaterThan(0);
  });

  it('runs the whole testnet over HTTPS/WSS with the run\'s own certificate', () => {
    expect(String(run.report.testnet.marketUrl)).toMatch(/^https:\/\/127\.0\.0\.1:/);
    expect(readFileSync(join(run.dir, 'market.cert.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('never runs a job outside its allowed regions, and the report says where jobs ran', () => {
    const us = run.report.miners.find((m) => m.id === 'us-0')!;
    expect(us.jobs).toBe(0);
    expect(Object.keys(run.report.regions ?? {})).toEqual(['eu-west']);
    const usAddress = us.address;
    for (const j of run.jobs) expect(j.miner).not.toBe(usAddress);
    // the validators' logs show they judged private jobs through the reveal (a signed verdict), not in the clear
    const verdicts = readFileSync(join(run.dir, 'validator-0.log'), 'utf8') + readFileSync(join(run.dir, 'validator-1.log'), 'utf8');
    expect(verdicts).toContain('"event":"audit.verdict"');
  });
});

describe('market --tls', () => {
  const dir = tempDir('privacy-tls');
  let market: Awaited<ReturnType<typeof startMarket>>;
  beforeAll(async () => {
    market = await startMarket(['--tls', '--db', join(dir, 'm.db')]);
  }, 30_000);
  afterAll(async () => {
    await market?.stop();
    removeRun(dir);
  });

  it('serves HTTPS with a certificate the SDK and the CLI trust only when told to (--ca / ca)', async () => {
    expect(market.url).toMatch(/^https:/);
    const ca = readFileSync(join(dir, 'm.db.cert.pem'), 'utf8');
    const trusting = createClient({ url: market.url, key: seedFromLabel('tls-client'), ca });
    expect(await trusting.balance()).toBe(0n);
    const faucet = await trusting.faucet(1_000n);
    expect(faucet.balanceMicro).toBe('1000');
    const untrusting = createClient({ url: market.url, key: seedFromLabel('tls-client') });
    const err = await untrusting.faucet(1_000n).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/cannot reach the market/);
    expect(String((err?.cause as Error | undefined)?.cause ?? err?.cause)).toMatch(/certificate|self[- ]signed/i);
    const ok = await runCli(['submit', '--market', market.url, '--ca', join(dir, 'm.db.cert.pem'), '--model', 'digits', '--private', '--key-seed', 'tls-cli', '--faucet', '500000', '--timeout-ms', '5000', '--json']);
    expect(ok.stderr).not.toMatch(/certificate/i);
    // submitted and escrowed over TLS (no miner here, so it does not settle: exit 2, not a failure to connect)
    expect(ok.code, ok.stderr).toBe(2);
    const refused = await runCli(['submit', '--market', market.url, '--model', 'digits', '--key-seed', 'tls-cli', '--timeout-ms', '300']);
    expect(refused.code).not.toBe(0);
    expect(refused.code).not.toBe(2);
  });
});
