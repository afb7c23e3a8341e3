import type { Command } from 'commander';
import { checkVerification, InfermarketError, keyPairFromSeed, seedFromLabel, type KeyPair } from '@infermarket/protocol';
import { createClient, createHybridClient, HYBRID_DEFAULTS, requestJson, runLoad, type Client, type HybridClient, type LoadJobResult } from '@infermarket/client';
import { checkHybrid } from '@infermarket/agents';
import { list, parseAmount, parseNumber } from './keys.js';
import { sampleJobInput } from './inputs.js';
import { bundledDigitInput, DIGIT_SAMPLE_COUNT } from './digit-samples.js';
import { explainFailure, fundingHint, KNOWN_FAILURES, tally } from '../job-outcome.js';

interface LoadCliOptions {
  market: string;
  clients?: string;
  rate?: string;
  models: string;
  maxPrice?: string;
  concurrency?: string;
  durationMs?: string;
  seed: string;
  keyPrefix: string;
  faucet?: string;
  faucetToken?: string;
  hybrid?: string;
  cloud?: string;
  maxTokens?: string;
  temperature?: string;
  regions?: string;
  private?: boolean;
  verification?: string;
  batchRows?: string;
  waitStdin?: boolean;
  transport?: string;
  json?: boolean;
}

/**
 * `--hybrid`: one hybrid SDK client per load client, over its market client and a client of the baseline
 * (`--cloud`, HTTP) with the same key, funded there with `--faucet` mUSD. The routing rule is the SDK's
 * `createHybridClient` (the agents' `hybridFirstRoute`, which the simulator's hybrid groups use).
 * @throws InfermarketError `ERR_VALIDATION` naming `--hybrid` or `--cloud`.
 */
async function hybridClients(o: LoadCliOptions, market: Client[], keyOf: (i: number) => KeyPair): Promise<{ clients: HybridClient[]; latencySensitive: (model: string) => boolean }> {
  if (o.cloud === undefined) throw new InfermarketError('ERR_VALIDATION', '"--hybrid" needs "--cloud <url>": the baseline hybrid jobs go to', { details: { field: 'cloud' } });
  let h: { policy?: unknown; fallbackAfterMs?: unknown; latencySensitiveModels?: unknown };
  try {
    h = JSON.parse(o.hybrid!) as typeof h;
  } catch (e) {
    throw new InfermarketError('ERR_VALIDATION', `"--hybrid" must be JSON: ${(e as Error).message}`, { details: { field: 'hybrid' } });
  }
  const { policy, fallbackAfterMs } = checkHybrid(h.policy, h.fallbackAfterMs ?? HYBRID_DEFAULTS.fallbackAfterMs);
  const sensitive = new Set(Array.isArray(h.latencySensitiveModels) ? (h.latencySensitiveModels as string[]) : ['charlm']);
  await waitForMarket(o.cloud, 30_000);
  const clients = await Promise.all(
    market.map(async (m, i) => {
      const cloud = createClient({ url: o.cloud!, key: keyOf(i), transport: 'http' });
      if (o.faucet) await cloud.faucet(parseAmount('--faucet', o.faucet, 0n));
      return createHybridClient({ market: m, cloud, policy, fallbackAfterMs });
    }),
  );
  return { clients, latencySensitive: (model) => sensitive.has(model) };
}

/** Mint IMT to a load client (the market's faucet, `token: "IMT"`). */
async function faucetImt(market: string, address: string, amountMicro: bigint): Promise<void> {
  await requestJson(market, '/v1/faucet', { body: { address, amountMicro: amountMicro.toString(), token: 'IMT' } });
}

/** Wait until the market answers /v1/health (it may still be booting). */
async function waitForMarket(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(new URL('/v1/health', url), { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new InfermarketError('ERR_INTERNAL', `the market at ${url} did not answer /v1/health within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Resolves at the first stdin line "go" (or when stdin closes). */
function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    let buf = '';
    let fired = false;
    const done = (): void => {
      if (fired) return;
      fired = true;
      resolve();
    };
    process.stdin.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (/(^|\n)go\s*\n/.test(buf)) done();
    });
    process.stdin.on('end', done);
  });
}

/** `{"digits":3}` or `digits:3,charlm:1` → weights. */
function parseMix(v: string): Record<string, number> {
  let mix: Record<string, number>;
  if (v.trim().startsWith('{')) {
    try {
      mix = JSON.parse(v) as Record<string, number>;
    } catch {
      throw new InfermarketError('ERR_VALIDATION', `"--models" must be JSON like {"digits":3} or a list like digits:3,charlm:1, got ${JSON.stringify(v)}`);
    }
  } else mix = Object.fromEntries(list(v).map((p) => [p.split(':')[0]!, Number(p.split(':')[1] ?? 1)]));
  if (!Object.values(mix).some((w) => typeof w === 'number' && w > 0)) throw new InfermarketError('ERR_VALIDATION', '"--models" must give at least one model a positive weight');
  return mix;
}

/** Registers `infermarket load`: the load generator the testnet starts once per client group. */
export function registerLoad(program: Command): void {
  program
    .command('load')
    .description('Generate client load on a market: seeded Poisson arrivals per client, a model mix and a concurrency cap; prints one JSON line per job and a summary.')
    .requiredOption('--market <url>', 'market HTTP URL')
    .requiredOption('--models <mix>', 'model weights: digits:3,charlm:1 or {"digits":3,"charlm":1}')
    .option('--clients <n>', 'number of client accounts', '1')
    .option('--rate <perSec>', 'Poisson arrival rate per client (jobs/s)', '2')
    .option('--max-price <micro>', 'max price per job (micro-mUSD)', '100000')
    .option('--concurrency <n>', 'jobs in flight per client', '4')
    .option('--duration-ms <ms>', 'how long to submit', '10000')
    .option('--seed <seed>', 'seed for arrivals, model choice and inputs', '0')
    .option('--key-prefix <label>', 'client keys derive from <label>-<i>', 'load')
    .option('--faucet <micro>', 'first ask the faucet for this much per client')
    .option('--faucet-token <token>', 'the token --faucet mints: mUSD (default) or IMT (a market whose pricingMode pays in IMT; docs/economics.md)', 'mUSD')
    .option('--max-tokens <n>', 'charlm tokens per job', '16')
    .option('--temperature <t>', 'charlm sampling temperature (0 = greedy)', '0')
    .option('--regions <list>', 'regions jobs may run in')
    .option('--private', 'submit private jobs: inputs and outputs sealed end to end (docs/privacy.md)')
    .option('--verification <level>', 'how every job is checked: sampled (default), always, redundant, none (docs/verification.md)')
    .option('--batch-rows <n>', 'rows per job: batch jobs, priced per row (--max-price is then per row); not with charlm or --private', '1')
    .option('--transport <kind>', 'session (one WebSocket per client for all its jobs) or http (a request per submit, polling; the cloud baseline speaks only this)', 'session')
    .option('--hybrid <json>', 'route every job by a hybrid policy (docs/economics.md): {"policy":"split"|"fallback","fallbackAfterMs":700,"latencySensitiveModels":["charlm"]}; needs --cloud')
    .option('--cloud <url>', 'the centralized baseline (`infermarket cloud`) hybrid jobs go to; each client is funded there with --faucet mUSD')
    .option('--wait-stdin', 'after funding, wait for a line "go" on stdin before submitting (used by testnet)')
    .option('--json', 'JSON lines on stdout')
    .action(async (o: LoadCliOptions) => {
      const n = parseNumber('--clients', o.clients, 1, 1, 1000);
      const transport = o.transport ?? 'session';
      if (transport !== 'session' && transport !== 'http') throw new InfermarketError('ERR_VALIDATION', `"--transport" must be session or http, got ${JSON.stringify(transport)}`, { details: { field: 'transport' } });
      const keyOf = (i: number) => keyPairFromSeed(seedFromLabel(`${o.keyPrefix}-${i}`));
      const clients = Array.from({ length: n }, (_, i) => createClient({ url: o.market, key: keyOf(i), transport }));
      const maxTokens = parseNumber('--max-tokens', o.maxTokens, 16, 1, 4096);
      const temperature = parseNumber('--temperature', o.temperature, 0, 0, 10);
      const mix = parseMix(o.models);
      await waitForMarket(o.market, 30_000);
      const faucetToken = o.faucetToken ?? 'mUSD';
      if (faucetToken !== 'mUSD' && faucetToken !== 'IMT') throw new InfermarketError('ERR_VALIDATION', `"--faucet-token" must be mUSD or IMT, got ${JSON.stringify(faucetToken)}`, { details: { field: 'faucet-token' } });
      if (o.faucet) {
        const amount = parseAmount('--faucet', o.faucet, 0n);
        await Promise.all(clients.map((c) => (faucetToken === 'IMT' ? faucetImt(o.market, c.address, amount) : c.faucet(amount))));
      }
      const hybrid = o.hybrid !== undefined ? await hybridClients(o, clients, keyOf) : undefined;
      const maxPriceMicro = parseAmount('--max-price', o.maxPrice, 100_000n);
      const batchRows = parseNumber('--batch-rows', o.batchRows, 1, 1, 4096);
      // fail loud before the first job: a client that cannot pay one job would have every job refused (an IMT
      // treasury is checked by the market at each submission: its escrow depends on the oracle price)
      const balances = faucetToken === 'IMT' ? [] : await Promise.all(clients.map(async (c) => ({ address: c.address, balance: await c.balance() })));
      // a batch job escrows its max price per row × rows
      const broke = balances.filter((b) => b.balance < maxPriceMicro * BigInt(batchRows));
      if (broke.length > 0) {
        throw new InfermarketError(
          'ERR_INSUFFICIENT_BALANCE',
          `${broke.length} of ${n} load clients cannot pay one job (balance ${broke[0]!.balance} < --max-price ${maxPriceMicro}); ${fundingHint(broke[0]!.address)} (per client)`,
        );
      }
      const ac = new AbortController();
      process.once('SIGTERM', () => ac.abort());
      process.once('SIGINT', () => ac.abort());
      const emit = (e: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(e)}\n`);
      emit({ event: 'ready', role: 'load', clients: clients.map((c) => c.address) });
      if (o.waitStdin) await waitForGo();
      emit({ event: 'started', role: 'load', atMs: Date.now() });
      const summary = await runLoad({
        clients,
        ratePerSec: parseNumber('--rate', o.rate, 2, 0.001, 10_000),
        models: mix,
        maxPriceMicro,
        concurrency: parseNumber('--concurrency', o.concurrency, 4, 1, 10_000),
        durationMs: parseNumber('--duration-ms', o.durationMs, 10_000, 1),
        seed: o.seed,
        stream: true,
        drainMs: 10_000,
        signal: ac.signal,
        ...(o.regions ? { regions: list(o.regions) } : {}),
        ...(o.private ? { private: true } : {}),
        ...(o.verification !== undefined ? { verification: checkVerification(o.verification) } : {}),
        ...(batchRows > 1 ? { batchRows } : {}),
        ...(hybrid ? { hybrid } : {}),
        // digits come from the bundled held-out images (no MNIST parsing at start-up), the rest from samples
        makeInput: (model, rng) => (model === 'digits' ? bundledDigitInput(rng.int(DIGIT_SAMPLE_COUNT)).input : sampleJobInput(model, rng.int(1_000_000), { maxTokens, temperature }).input),
        onJob: (r: LoadJobResult) =>
          emit({
            event: 'job',
            client: r.client,
            model: r.model,
            jobId: r.jobId,
            status: r.status,
            failure: r.job?.failure ?? null,
            latencyMs: r.latencyMs,
            ttftMs: r.ttftMs,
            miner: r.job?.miner ?? null,
            attempt: r.job?.attempt ?? null,
            audited: r.job?.audited ?? null,
            priceMicro: r.job?.priceMicro ?? null,
            paidMicro: (r.job?.receipt?.body as { paidMicro?: string } | undefined)?.paidMicro ?? null,
            ...(r.route !== undefined ? { route: r.route } : {}),
            ...(r.latencySensitive !== undefined ? { latencySensitive: r.latencySensitive } : {}),
            ...(r.submittedTo !== undefined ? { submittedTo: r.submittedTo } : {}),
            ...(r.error ? { error: r.error } : {}),
          }),
      });
      const { results: _r, ...totals } = summary;
      emit({ event: 'summary', ...totals });
      const lost = summary.results.filter((r) => r.status !== 'settled');
      if (lost.length > 0) {
        const reasons = lost.map((r) => r.job?.failure ?? (r.error ? `${r.status}: ${r.error}` : r.status));
        process.stderr.write(`error: ${lost.length} of ${summary.results.length} jobs did not settle (${tally(reasons)})\n${[...new Set(reasons)].map((r) => `  ${KNOWN_FAILURES.has(r) ? `${r}: ${explainFailure(r)}` : r}\n`).join('')}`);
      }
      // stdin may still be open (testnet), which would keep the process alive
      process.exit(lost.length > 0 ? 2 : 0);
    });
}
