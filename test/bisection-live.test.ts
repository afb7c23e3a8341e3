// Disputes by bisection on the live market (issue #15; docs/verification.md "Disputes by bisection"): a real market
// (HTTP + WebSocket on 127.0.0.1, its SQLite log, its timers), real miner and validator node logic on the real ONNX
// runtime, and raw WebSocket clients for the parties that lie (the node code never would). Every wait is on an
// event of the market (its effects) or a frame on a socket, never a sleep.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, createSegmentRunner, sampleInput, tensorHash, wireTensorHash, type ModelId, type Runtime, type Tensor, type Variant } from '@infermarket/inference';
import { createMiner, type Miner } from '@infermarket/miner';
import { corruptedTrace, createInferenceExecutor, toWireTensor } from '@infermarket/node-runtime';
import { checkInvariants, hashPayload, keyPairFromSeed, seedFromLabel, traceProof, traceRoot, type Effect, type JobInput, type JobOutput } from '@infermarket/protocol';
import { createValidator, type Validator } from '@infermarket/validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMarket, type Market } from '../packages/market/src/market.js';
import { http, keysOf, rawNode, registerAndBond, submitBody, type Frame, type RawNode } from './security-raw.js';

const ROUND_MS = 8_000;
const PARAMS = {
  matchingMode: 'auction',
  disputeMode: 'bisection',
  bisectionRoundMs: ROUND_MS,
  disputeQuorum: 2,
  auditRate: 1,
  bidWindowMs: 300,
  challengeWindowMs: 100,
  auditWindowMs: 60_000,
  disputeWindowMs: 60_000,
  jobDeadlineMs: 30_000,
  unbondingPeriodMs: 600_000,
};

let rt: Runtime;
const dirs: string[] = [];
const stops: (() => Promise<unknown> | unknown)[] = [];
beforeAll(() => {
  rt = createRuntime({ log: () => {} });
});
afterAll(async () => {
  for (const s of stops.reverse()) await s();
  await rt?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A market plus a log of every effect it produced, and waits on them. */
async function startMarket(label: string, now?: () => number) {
  const dir = mkdtempSync(join(tmpdir(), `im-bisect-${label}-`));
  dirs.push(dir);
  const market = await createMarket({ dbPath: join(dir, 'm.db'), params: PARAMS, ...(now ? { now } : {}) });
  stops.push(() => market.close());
  const seen: Effect[] = [];
  const waiters: { pred: (e: Effect) => boolean; resolve: (e: Effect) => void }[] = [];
  market.core.onEffects((fx) => {
    for (const e of fx) {
      seen.push(e);
      for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
    }
  });
  const effect = <T extends Effect['type']>(type: T, pred: (e: Extract<Effect, { type: T }>) => boolean = () => true, timeoutMs = 90_000): Promise<Extract<Effect, { type: T }>> => {
    const p = (e: Effect): boolean => e.type === type && pred(e as Extract<Effect, { type: T }>);
    const hit = seen.find(p);
    if (hit) return Promise.resolve(hit as Extract<Effect, { type: T }>);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${type} effect within ${timeoutMs} ms; saw ${[...new Set(seen.map((e) => e.type))].join(',')}`)), timeoutMs);
      waiters.push({ pred: p, resolve: (e) => (clearTimeout(t), resolve(e as Extract<Effect, { type: T }>)) });
    });
  };
  const faucet = async (address: string, amountMicro = '1000000000') => expect((await http(market.url, '/v1/faucet', { body: { address, amountMicro } })).status).toBe(200);
  /** The whole ledger: minted equals what is held, and the rules' invariants hold. */
  const conserved = async () => {
    expect(checkInvariants(market.core.state)).toEqual([]);
    const s = (await http(market.url, '/v1/stats')).json as { ledger: { conserved: boolean } };
    expect(s.ledger.conserved).toBe(true);
  };
  return { market, effect, seen, faucet, conserved };
}

async function honestValidator(market: Market, label: string, log: Record<string, unknown>[] = []): Promise<Validator> {
  const executor = createInferenceExecutor({});
  const v = createValidator({ wsUrl: market.wsUrl, keys: keyPairFromSeed(seedFromLabel(`bisect/${label}`)), executor, models: ['digits', 'heavy', 'deep'], log: (e) => log.push(e) });
  stops.push(async () => (await v.stop(), await executor.close()));
  await v.ready();
  return v;
}

/** A job input of `model` as the wire carries it (the model's own test sample). */
function wireInput(model: ModelId, seed: number): { input: JobInput; tensor: Tensor } {
  const { input } = sampleInput(model, seed);
  const tensor = input[rt.manifest.models[model].inputs[0]!.name]!;
  return { input: { kind: 'tensor', tensor: toWireTensor(tensor as never) }, tensor };
}

/**
 * A miner's trace of a real run, with layer `corruptLayer` perturbed and the later layers run on from it, as a
 * cheat that alters one layer would: boundaries 0..L (hashes: the job's input hash, tensorHash of each hidden
 * boundary, the output's payload hash).
 */
async function corruptTrace(model: ModelId, variant: Variant, input: JobInput, x0: Tensor, corruptLayer: number) {
  return corruptedTrace({ runtime: rt, segments: createSegmentRunner({ manifest: rt.manifest, model, variant }), model, variant, x0, inputHash: hashPayload(input), corruptLayer });
}

/** A raw node (funded, registered with variant fp32, bonded): the parties that lie, driven by the test. */
async function rawParty(market: Market, faucet: (a: string) => Promise<void>, label: string, role: 'miner' | 'validator', models: string[]): Promise<RawNode> {
  const keys = keysOf(`bisect/${label}`);
  await faucet(keys.address);
  const n = await rawNode(market.wsUrl, keys);
  stops.push(() => n.ws.close());
  await registerAndBond(n, role, models);
  return n;
}

async function submit(market: Market, faucet: (a: string) => Promise<void>, label: string, jobId: string, model: string, input: JobInput, rows?: number): Promise<void> {
  const client = keysOf(`bisect/${label}/client`);
  await faucet(client.address);
  const r = await http(market.url, '/v1/jobs', { body: submitBody(client, { jobId, model, input, maxPriceMicro: '200000', ...(rows !== undefined ? { rows } : {}) }) });
  expect(r.status, r.text).toBe(202);
}

const slashesOf = (market: Market, address: string): number => market.core.state.nodes.get(address)!.slashes;

describe('disputes by bisection on the live market', () => {
  it('(a) a miner that corrupts layer 2 of heavy loses the game at layer 2 and is slashed; hostile moves get their codes and change nothing', async () => {
    const { market, effect, faucet, conserved } = await startMarket('corrupt');
    const logs: Record<string, unknown>[] = [];
    const validators = [await honestValidator(market, 'a/v0', logs), await honestValidator(market, 'a/v1', logs), await honestValidator(market, 'a/v2', logs)];
    const miner = await rawParty(market, faucet, 'a/miner', 'miner', ['heavy']);
    const { input, tensor } = wireInput('heavy', 3);
    const cheat = await corruptTrace('heavy', 'fp32', input, tensor, 2);
    const jobId = 'bisect-a-1';
    miner.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      if (f.type === 'job.offer' && f.jobId === jobId) miner.send({ type: 'job.bid', envelope: miner.sign('job.bid', { jobId, priceMicro: '1000' }) });
      if (f.type === 'job.assign' && f.jobId === jobId) {
        miner.send({ type: 'job.result', envelope: miner.sign('job.result', { jobId, inputHash: String(f.inputHash), outputHash: cheat.hashes[cheat.layers]!, traceRoot: traceRoot(cheat.hashes), traceLayers: cheat.layers }), output: cheat.output });
      }
    });
    await submit(market, faucet, 'a', jobId, 'heavy', input);
    await effect('dispute.opened', (e) => e.jobId === jobId);
    const job = market.core.state.jobs.get(jobId)!;
    expect(job.traceRoot).toBe(traceRoot(cheat.hashes));
    const first = (await miner.waitFor((f) => f.type === 'bisect.turn' && f.jobId === jobId, 30_000)) as Frame & { index: number; party: string; deadlineAtMs: number };
    expect(first).toMatchObject({ party: 'miner', index: 1, lo: 0, hi: 3, layers: 3, model: 'heavy' });

    // a node that is no party to the game (registered, funded and staked before the ledger snapshot below)
    const outsider = await rawParty(market, faucet, 'a/outsider', 'miner', ['heavy']);
    // hostile moves: each answered with its code, and nothing moves (game, ledger)
    const before = JSON.stringify({ g: { ...job.bisection!, revealed: [...job.bisection!.revealed] }, ledger: (await http(market.url, '/v1/stats')).json.ledger });
    const reveal = (index: number, hash: string, proof: string[], tensorIndex = index) => ({ type: 'bisect.reveal', envelope: miner.sign('bisect.reveal', { jobId, index, boundaryHash: hash, proof }), tensor: toWireTensor(cheat.tensors[tensorIndex] as never) });
    // a proof of another boundary
    expect(await miner.request(reveal(1, cheat.hashes[1]!, traceProof(cheat.hashes, 2)))).toMatchObject({ type: 'error', code: 'ERR_BAD_PROOF' });
    // the right proof for the wrong index
    expect(await miner.request(reveal(2, cheat.hashes[2]!, traceProof(cheat.hashes, 2)))).toMatchObject({ type: 'error', code: 'ERR_VALIDATION' });
    // a tensor that is not the one the opened hash commits to
    expect(await miner.request(reveal(1, cheat.hashes[1]!, traceProof(cheat.hashes, 1), 2))).toMatchObject({ type: 'error', code: 'ERR_VALIDATION', message: expect.stringContaining('"tensor" hashes to') });
    // a malformed message (schema): an index past the longest trace
    expect(await miner.request({ ...reveal(1, cheat.hashes[1]!, traceProof(cheat.hashes, 1)), extra: 1 })).toMatchObject({ type: 'error', code: 'ERR_VALIDATION' });
    // a move by a non-party: another node opens the boundary, and answers out of turn
    expect(await outsider.request({ type: 'bisect.reveal', envelope: outsider.sign('bisect.reveal', { jobId, index: 1, boundaryHash: cheat.hashes[1]!, proof: traceProof(cheat.hashes, 1) }), tensor: toWireTensor(cheat.tensors[1] as never) })).toMatchObject({ type: 'error', code: 'ERR_NOT_ASSIGNED' });
    expect(await outsider.request({ type: 'bisect.respond', envelope: outsider.sign('bisect.respond', { jobId, index: 1, agree: true }) })).toMatchObject({ type: 'error', code: 'ERR_WRONG_STATE' });
    // a referee's whole-model vote has no place in a bisection
    expect(await outsider.request({ type: 'bisect.vote', envelope: outsider.sign('bisect.vote', { jobId, fromIndex: 0, toIndex: 1, minerCorrect: true }) })).toMatchObject({ type: 'error', code: 'ERR_WRONG_STATE' });
    expect(JSON.stringify({ g: { ...job.bisection!, revealed: [...job.bisection!.revealed] }, ledger: (await http(market.url, '/v1/stats')).json.ledger })).toBe(before);

    // now the cheat plays its moves honestly to its own (corrupted) trace
    miner.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame & { index: number };
      if (f.type === 'bisect.turn' && f.jobId === jobId) miner.send(reveal(f.index, cheat.hashes[f.index]!, traceProof(cheat.hashes, f.index)));
    });
    miner.send(reveal(1, cheat.hashes[1]!, traceProof(cheat.hashes, 1)));
    const resolved = await effect('bisect.resolved', (e) => e.jobId === jobId);
    expect(resolved).toMatchObject({ winner: 'challenger', reason: 'referees', fromIndex: 1, toIndex: 2, steps: 2 });
    await effect('job.failed', (e) => e.jobId === jobId);
    expect(slashesOf(market, miner.keys.address)).toBe(1);
    expect(slashesOf(market, job.dispute!.accuser)).toBe(0);
    // the referees re-executed layer 2 alone, and both found the miner wrong
    const votes = logs.filter((e) => e.event === 'bisect.segment' && e.jobId === jobId);
    expect(votes).toHaveLength(2);
    expect(votes.every((v) => v.minerCorrect === false && v.fromIndex === 1 && v.toIndex === 2)).toBe(true);
    expect(validators.map((v) => v.address)).toContain(job.dispute!.accuser);
    await conserved();
  }, 180_000);

  it('(b) an honest miner challenged by a lying validator wins; the validator is slashed', async () => {
    const { market, effect, faucet, conserved } = await startMarket('liar');
    const minerLog: Record<string, unknown>[] = [];
    const executor = createInferenceExecutor({});
    const miner: Miner = createMiner({ wsUrl: market.wsUrl, keys: keyPairFromSeed(seedFromLabel('bisect/b/miner')), executor, models: ['heavy'], log: (e) => minerLog.push(e) });
    stops.push(async () => (await miner.stop(), await executor.close()));
    await miner.ready();
    // the liar is the only validator when the job is audited; the referees join before it reports
    const liar = await rawParty(market, faucet, 'b/liar', 'validator', ['heavy']);
    const jobId = 'bisect-b-1';
    const { input } = wireInput('heavy', 5);
    await submit(market, faucet, 'b', jobId, 'heavy', input);
    const task = await liar.waitFor((f) => f.type === 'audit.task' && f.jobId === jobId, 60_000);
    expect(task.purpose).toBe('audit');
    const job = market.core.state.jobs.get(jobId)!;
    expect(job.traceLayers).toBe(3);
    const logs: Record<string, unknown>[] = [];
    await honestValidator(market, 'b/v0', logs);
    await honestValidator(market, 'b/v1', logs);
    // it claims an output it never computed, and disagrees with every boundary the miner opens
    const wrong: JobOutput = { kind: 'tensor', tensor: { dtype: 'float32', dims: [1, 256], data: Buffer.from(new Float32Array(256).buffer).toString('base64') } };
    liar.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame & { index: number; party: string };
      if (f.type === 'bisect.turn' && f.jobId === jobId && f.party === 'challenger') liar.send({ type: 'bisect.respond', envelope: liar.sign('bisect.respond', { jobId, index: f.index, agree: false }) });
    });
    expect(await liar.request({ type: 'audit.output', envelope: liar.sign('audit.output', { jobId, outputHash: hashPayload(wrong) }), output: wrong })).toMatchObject({ type: 'ack' });
    const resolved = await effect('bisect.resolved', (e) => e.jobId === jobId);
    // the liar disagreed with boundary 1, so the referees re-executed layer 1 from the job's input: the miner's is right
    expect(resolved).toMatchObject({ winner: 'miner', reason: 'referees', fromIndex: 0, toIndex: 1, steps: 1 });
    await effect('job.settled', (e) => e.jobId === jobId);
    expect(job.verdict).toBe('verified');
    expect(slashesOf(market, liar.keys.address)).toBe(1);
    expect(slashesOf(market, miner.address)).toBe(0);
    expect(minerLog.filter((e) => e.event === 'bisect.reveal' && e.jobId === jobId).map((e) => e.index)).toEqual([1]);
    expect(logs.filter((e) => e.event === 'bisect.segment' && e.jobId === jobId).every((e) => e.minerCorrect === true)).toBe(true);
    await conserved();
  }, 180_000);

  it('(c) a miner that stops answering loses by timeout and is slashed; its late move is refused (ERR_LATE) and changes nothing', async () => {
    // the market's clock can be moved on, so a move can arrive after its deadline before the deadline's timer fires
    let skewMs = 0;
    const { market, effect, faucet, conserved } = await startMarket('silent', () => Date.now() + skewMs);
    await honestValidator(market, 'c/v0');
    await honestValidator(market, 'c/v1');
    await honestValidator(market, 'c/v2');
    const miner = await rawParty(market, faucet, 'c/miner', 'miner', ['digits']);
    const { input, tensor } = wireInput('digits', 7);
    const cheat = await corruptTrace('digits', 'fp32', input, tensor, 1);
    const jobId = 'bisect-c-1';
    miner.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      if (f.type === 'job.offer' && f.jobId === jobId) miner.send({ type: 'job.bid', envelope: miner.sign('job.bid', { jobId, priceMicro: '1000' }) });
      if (f.type === 'job.assign' && f.jobId === jobId) {
        miner.send({ type: 'job.result', envelope: miner.sign('job.result', { jobId, inputHash: String(f.inputHash), outputHash: cheat.hashes[cheat.layers]!, traceRoot: traceRoot(cheat.hashes), traceLayers: cheat.layers }), output: cheat.output });
      }
    });
    await submit(market, faucet, 'c', jobId, 'digits', input);
    const turn = (await miner.waitFor((f) => f.type === 'bisect.turn' && f.jobId === jobId, 60_000)) as Frame & { deadlineAtMs: number; index: number };
    expect(turn).toMatchObject({ party: 'miner', index: 1, lo: 0, hi: 2 });
    const job = market.core.state.jobs.get(jobId)!;
    const moves = job.bisection!.moves;
    const ledger = JSON.stringify((await http(market.url, '/v1/stats')).json.ledger);
    skewMs = turn.deadlineAtMs - Date.now() + 1_000;
    const late = await miner.request({ type: 'bisect.reveal', envelope: miner.sign('bisect.reveal', { jobId, index: 1, boundaryHash: cheat.hashes[1]!, proof: traceProof(cheat.hashes, 1) }), tensor: toWireTensor(cheat.tensors[1] as never) });
    expect(late).toMatchObject({ type: 'error', code: 'ERR_LATE' });
    expect(job.bisection!.moves).toBe(moves);
    expect(job.bisection!.turn).toBe('miner');
    expect(JSON.stringify((await http(market.url, '/v1/stats')).json.ledger)).toBe(ledger);
    const resolved = await effect('bisect.resolved', (e) => e.jobId === jobId, ROUND_MS + 30_000);
    expect(resolved).toMatchObject({ winner: 'challenger', reason: 'timeout', steps: 0 });
    await effect('job.failed', (e) => e.jobId === jobId);
    expect(slashesOf(market, miner.keys.address)).toBe(1);
    expect(slashesOf(market, job.dispute!.accuser)).toBe(0);
    await conserved();
  }, 180_000);

  it('(c) a challenger that stops answering loses by timeout: it is slashed, the miner paid, the output not verified', async () => {
    const { market, effect, faucet, conserved } = await startMarket('silent-challenger');
    const executor = createInferenceExecutor({});
    const miner = createMiner({ wsUrl: market.wsUrl, keys: keyPairFromSeed(seedFromLabel('bisect/c2/miner')), executor, models: ['digits'], log: () => {} });
    stops.push(async () => (await miner.stop(), await executor.close()));
    await miner.ready();
    const liar = await rawParty(market, faucet, 'c2/liar', 'validator', ['digits']);
    const jobId = 'bisect-c2-1';
    const { input } = wireInput('digits', 9);
    await submit(market, faucet, 'c2', jobId, 'digits', input);
    await liar.waitFor((f) => f.type === 'audit.task' && f.jobId === jobId, 60_000);
    const wrong: JobOutput = { kind: 'tensor', tensor: { dtype: 'float32', dims: [1, 10], data: Buffer.from(new Float32Array(10).buffer).toString('base64') } };
    expect(await liar.request({ type: 'audit.output', envelope: liar.sign('audit.output', { jobId, outputHash: hashPayload(wrong) }), output: wrong })).toMatchObject({ type: 'ack' });
    // the miner opens boundary 1; the challenger is told and never answers
    await liar.waitFor((f) => f.type === 'bisect.turn' && f.jobId === jobId && f.party === 'challenger', 30_000);
    const resolved = await effect('bisect.resolved', (e) => e.jobId === jobId, ROUND_MS + 30_000);
    expect(resolved).toMatchObject({ winner: 'miner', reason: 'timeout', steps: 0 });
    await effect('job.settled', (e) => e.jobId === jobId);
    expect(market.core.state.jobs.get(jobId)!.verdict).toBe('unavailable');
    expect(slashesOf(market, liar.keys.address)).toBe(1);
    expect(slashesOf(market, miner.address)).toBe(0);
    await conserved();
  }, 180_000);

  it('(d) a miner that commits a boundary of another dtype (uint8 bytes) loses at that layer; the validators keep serving', async () => {
    const { market, effect, faucet, conserved } = await startMarket('dtype');
    const logs: Record<string, unknown>[] = [];
    for (const l of ['d/v0', 'd/v1', 'd/v2']) await honestValidator(market, l, logs);
    const miner = await rawParty(market, faucet, 'd/miner', 'miner', ['digits']);
    const { input, tensor } = wireInput('digits', 11);
    const cheat = await corruptTrace('digits', 'fp32', input, tensor, 1);
    // boundary 1 committed as raw bytes of another dtype, and an output that is not the model's
    const h1 = toWireTensor(cheat.tensors[1] as never);
    const bogus = { ...h1, dtype: 'uint8' as const, dims: [Buffer.from(h1.data, 'base64').length] };
    const hashes = [cheat.hashes[0]!, wireTensorHash(bogus), cheat.hashes[2]!];
    const jobId = 'bisect-d-1';
    miner.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame & { index: number };
      if (f.type === 'job.offer' && f.jobId === jobId) miner.send({ type: 'job.bid', envelope: miner.sign('job.bid', { jobId, priceMicro: '1000' }) });
      if (f.type === 'job.assign' && f.jobId === jobId) {
        miner.send({ type: 'job.result', envelope: miner.sign('job.result', { jobId, inputHash: String(f.inputHash), outputHash: hashes[2]!, traceRoot: traceRoot(hashes), traceLayers: 2 }), output: cheat.output });
      }
      if (f.type === 'bisect.turn' && f.jobId === jobId) miner.send({ type: 'bisect.reveal', envelope: miner.sign('bisect.reveal', { jobId, index: f.index, boundaryHash: hashes[f.index]!, proof: traceProof(hashes, f.index) }), tensor: bogus });
    });
    await submit(market, faucet, 'd', jobId, 'digits', input);
    const resolved = await effect('bisect.resolved', (e) => e.jobId === jobId);
    expect(resolved).toMatchObject({ winner: 'challenger', reason: 'referees', fromIndex: 0, toIndex: 1 });
    expect(slashesOf(market, miner.keys.address)).toBe(1);
    expect(logs.some((e) => e.event === 'bisect.respond' && e.jobId === jobId && e.agree === false)).toBe(true);
    expect(logs.filter((e) => e.event === 'bisect.segment' && e.jobId === jobId).every((e) => e.minerCorrect === false)).toBe(true);
    await conserved();
  }, 180_000);

  it('(e) deep (9 layers): a miner that corrupts layer 6 of a 16-row batch job, audited on a sample of its rows, loses at layer 6 and is slashed', async () => {
    const { market, effect, faucet, conserved } = await startMarket('deep');
    const logs: Record<string, unknown>[] = [];
    await honestValidator(market, 'e/v0', logs);
    await honestValidator(market, 'e/v1', logs);
    await honestValidator(market, 'e/v2', logs);
    const miner = await rawParty(market, faucet, 'e/miner', 'miner', ['deep']);
    const rows = 16;
    const parts = Array.from({ length: rows }, (_, i) => wireInput('deep', 40 + i).tensor);
    const data = new Float32Array(rows * parts[0]!.data.length);
    parts.forEach((t, i) => data.set(t.data as Float32Array, i * t.data.length));
    const tensor: Tensor = { dtype: 'float32', dims: [rows, parts[0]!.dims[1]!], data };
    const input: JobInput = { kind: 'tensor', tensor: toWireTensor(tensor as never) };
    const cheat = await corruptTrace('deep', 'fp32', input, tensor, 6);
    expect(cheat.layers).toBe(9);
    const jobId = 'bisect-e-1';
    miner.ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame & { index: number };
      if (f.type === 'job.offer' && f.jobId === jobId) miner.send({ type: 'job.bid', envelope: miner.sign('job.bid', { jobId, priceMicro: '1000' }) });
      if (f.type === 'job.assign' && f.jobId === jobId) {
        miner.send({ type: 'job.result', envelope: miner.sign('job.result', { jobId, inputHash: String(f.inputHash), outputHash: cheat.hashes[cheat.layers]!, traceRoot: traceRoot(cheat.hashes), traceLayers: cheat.layers }), output: cheat.output });
      }
      if (f.type === 'bisect.turn' && f.jobId === jobId) {
        miner.send({ type: 'bisect.reveal', envelope: miner.sign('bisect.reveal', { jobId, index: f.index, boundaryHash: cheat.hashes[f.index]!, proof: traceProof(cheat.hashes, f.index) }), tensor: toWireTensor(cheat.tensors[f.index] as never) });
      }
    });
    await submit(market, faucet, 'e', jobId, 'deep', input, rows);
    await effect('dispute.opened', (e) => e.jobId === jobId);
    // the audit covers a sample of the rows (fewer than the job's), and the challenger judges the boundaries on them
    expect(market.core.state.params.auditSampleRows).toBeLessThan(rows);
    const resolved = await effect('bisect.resolved', (e) => e.jobId === jobId);
    expect(resolved).toMatchObject({ winner: 'challenger', reason: 'referees', fromIndex: 5, toIndex: 6 });
    await effect('job.failed', (e) => e.jobId === jobId);
    expect(slashesOf(market, miner.keys.address)).toBe(1);
    // the challenger agreed with the honest boundaries below layer 6 and disagreed from it on
    const answers = logs.filter((e) => e.event === 'bisect.respond' && e.jobId === jobId).map((e) => [e.index, e.agree]);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    for (const [index, agree] of answers) expect(agree, `boundary ${String(index)}`).toBe((index as number) < 6);
    expect(logs.filter((e) => e.event === 'bisect.segment' && e.jobId === jobId).every((e) => e.minerCorrect === false && e.toIndex === 6)).toBe(true);
    await conserved();
  }, 180_000);
});
