#!/usr/bin/env node
// A small before/after measurement of the market's wire path (issue #13 items 2–4 and 6), NOT the benchmark
// (`npm run bench`): one process runs a market on a real SQLite file, a raw in-process miner that bids on
// every offer and answers at once, and SDK clients submitting digits jobs at a fixed concurrency. Prints jobs/s,
// latency percentiles (submit → finished, hrtime), CPU ms per job of the whole process, and SQLite commits
// (event-log rows) per job. Seeded; the seed and settings are printed with the result.
//   node scripts/wire-smoke-bench.mjs [--jobs 300] [--concurrency 16] [--transport session|http] [--seed 1]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { createMarket } from '@infermarket/market';
import { createClient } from '@infermarket/client';
import { hashPayload, keyPairFromSeed, sealEnvelope, seedFromLabel } from '@infermarket/protocol';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const JOBS = Number(arg('jobs', '300'));
const CONCURRENCY = Number(arg('concurrency', '16'));
const TRANSPORT = arg('transport', 'session');
const SEED = Number(arg('seed', '1'));
const PARAMS = { auditRate: 0, bidWindowMs: 20, challengeWindowMs: 20 };

const dir = mkdtempSync(join(tmpdir(), 'wire-bench-'));
const market = await createMarket({ dbPath: join(dir, 'm.db'), params: PARAMS, seed: SEED });
const post = async (path, body) => {
  const r = await fetch(`${market.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return r.json();
};

// a raw miner: numbered nonces (accepted by old and new markets alike)
let seq = Date.now() * 1000;
const minerKeys = keyPairFromSeed(seedFromLabel(`wire-bench/${SEED}/miner`));
const ws = new WebSocket(market.wsUrl);
const frames = [];
let onFrame = (f) => frames.push(f);
ws.on('message', (d) => onFrame(JSON.parse(String(d))));
const sign = (type, body) => sealEnvelope(minerKeys, type, { ...body, nonce: String(++seq), expiresAtMs: Date.now() + 30_000 });
const next = (pred) => new Promise((resolve) => {
  const hit = frames.find(pred);
  if (hit) return resolve(hit);
  const prev = onFrame;
  onFrame = (f) => { prev(f); if (pred(f)) { onFrame = prev; resolve(f); } };
});
const ch = await next((f) => f.type === 'auth.challenge');
ws.send(JSON.stringify({ type: 'auth.login', envelope: sign('auth.login', { challenge: ch.challenge }) }));
await next((f) => f.type === 'auth.ok');
await post('/v1/faucet', { address: minerKeys.address, amountMicro: '500000000' });
ws.send(JSON.stringify({ type: 'node.register', ref: 'r', envelope: sign('node.register', { role: 'miner', models: ['digits'], variant: 'fp32', region: 'local', encryptionKey: null }) }));
await next((f) => f.ref === 'r');
ws.send(JSON.stringify({ type: 'stake.bond', ref: 'b', envelope: sign('stake.bond', { amountMicro: '200000000' }) }));
await next((f) => f.ref === 'b');
const out = { kind: 'tensor', tensor: { dtype: 'float32', dims: [1, 10], data: Buffer.alloc(40).toString('base64') } };
const outHash = hashPayload(out);
onFrame = (f) => {
  if (f.type === 'job.offer') ws.send(JSON.stringify({ type: 'job.bid', envelope: sign('job.bid', { jobId: f.jobId, priceMicro: '1000' }) }));
  else if (f.type === 'job.assign') ws.send(JSON.stringify({ type: 'job.result', envelope: sign('job.result', { jobId: f.jobId, inputHash: f.inputHash, outputHash: outHash }), output: out }));
};

const input = { kind: 'tensor', tensor: { dtype: 'float32', dims: [1, 784], data: Buffer.alloc(784 * 4, 1).toString('base64') } };
const clients = Array.from({ length: 4 }, (_, i) => createClient({ url: market.url, key: keyPairFromSeed(seedFromLabel(`wire-bench/${SEED}/client/${i}`)), transport: TRANSPORT }));
for (const c of clients) await c.faucet(100_000_000n);
// warm up (JIT, connections, session logins)
await Promise.all(clients.map(async (c) => c.wait((await c.submit({ model: 'digits', input, maxPriceMicro: 50_000n })).jobId)));

const rows0 = new Database(join(dir, 'm.db'), { readonly: true }).prepare('SELECT COUNT(*) AS n FROM events').get().n;
const lat = [];
let started = 0;
let failed = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async (_, w) => {
    const c = clients[w % clients.length];
    while (started < JOBS) {
      started++;
      const s = process.hrtime.bigint();
      const { jobId } = await c.submit({ model: 'digits', input, maxPriceMicro: 50_000n });
      const job = await c.wait(jobId, { timeoutMs: 30_000 });
      if (job.status !== 'settled') failed++;
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
  }),
);
const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(cpu0);
await new Promise((r) => setTimeout(r, 200));
const rows1 = new Database(join(dir, 'm.db'), { readonly: true }).prepare('SELECT COUNT(*) AS n FROM events').get().n;
lat.sort((a, b) => a - b);
const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(1);
console.log(JSON.stringify({
  seed: SEED, transport: TRANSPORT, jobs: JOBS, concurrency: CONCURRENCY, params: PARAMS, failed,
  jobsPerSec: +(JOBS / (wallMs / 1000)).toFixed(1),
  latencyMs: { p50: +pct(0.5), p90: +pct(0.9), p99: +pct(0.99) },
  cpuMsPerJob: +((cpu.user + cpu.system) / 1000 / JOBS).toFixed(2),
  commitsPerJob: +((rows1 - rows0) / JOBS).toFixed(2),
}));
for (const c of clients) c.close?.();
ws.terminate();
await market.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
