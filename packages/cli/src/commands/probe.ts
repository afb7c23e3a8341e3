import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { percentile, type JobOutput, type JobView } from '@infermarket/protocol';
import { createClient, verifyReceipt } from '@infermarket/client';
import { loadManifest, DEFAULT_MODELS_DIR } from '@infermarket/inference';
import { createInferenceExecutor } from '@infermarket/miner';
import { loadKey, parseAmount, parseNumber } from '../testnet/keys.js';
import { outputsAgree, sampleJobInput } from '../testnet/inputs.js';
import { resolveMarketKey } from './submit.js';
import { explainFailure, KNOWN_FAILURES, tally, withFundingHint } from '../job-outcome.js';

interface ProbeCliOptions {
  market: string;
  model: string;
  n?: string;
  concurrency?: string;
  variant: string;
  maxPrice?: string;
  maxTokens?: string;
  seed?: string;
  marketKey?: string;
  keySeed?: string;
  modelsDir?: string;
  timeoutMs?: string;
  json?: boolean;
}

/** What `probe` measures. */
export interface ProbeResult {
  market: string;
  model: string;
  variant: string;
  seed: number;
  n: number;
  settled: number;
  failed: number;
  errors: number;
  successRate: number;
  agreement: { checked: number; agreed: number; rate: number; maxAbsDiff: number };
  receipts: { verified: number; rejected: number };
  ttftMs: { p50: number; p95: number };
  latencyMs: { p50: number; p95: number; p99: number };
  costMicro: { total: string; perJob: string; perThousand: string };
  wallMs: number;
}

/** Registers `infermarket probe`. */
export function register(program: Command): void {
  program
    .command('probe')
    .description('Send a small batch through a market, check every result against a local reference run, and report success, latency, TTFT, agreement and cost.')
    .requiredOption('--market <url>', 'market HTTP URL, e.g. http://127.0.0.1:PORT')
    .requiredOption('--model <id>', 'model id: digits, charlm, heavy or deep')
    .option('--n <count>', 'jobs to send', '100')
    .option('--concurrency <n>', 'jobs in flight at once', '8')
    .option('--variant <v>', 'variant of the local reference run (what miners claim)', 'int8')
    .option('--max-price <micro>', 'max price per job (micro-mUSD)', '100000')
    .option('--max-tokens <n>', 'charlm: tokens per job', '16')
    .option('--seed <n>', 'first sample input number', '0')
    .option('--market-key <hex>', 'market public key to verify receipts against')
    .option('--key-seed <label>', 'client key label (default: a fresh random key)')
    .option('--models-dir <dir>', 'models directory for the reference run')
    .option('--timeout-ms <ms>', 'per-job timeout', '60000')
    .option('--json', 'print the result as JSON')
    .action(async (o: ProbeCliOptions) => {
      const n = parseNumber('--n', o.n, 100, 1, 100_000);
      const conc = parseNumber('--concurrency', o.concurrency, 8, 1, 1024);
      const maxPrice = parseAmount('--max-price', o.maxPrice, 100_000n);
      const seed = parseNumber('--seed', o.seed, 0);
      const timeoutMs = parseNumber('--timeout-ms', o.timeoutMs, 60_000, 1);
      const keys = o.keySeed ? loadKey({ keySeed: o.keySeed, defaultFile: '' }).keys : loadKey({ keySeed: `probe/${randomBytes(8).toString('hex')}`, defaultFile: '' }).keys;
      const client = createClient({ url: o.market, key: keys });
      await client.faucet(maxPrice * BigInt(Math.min(n, 1000))).catch((e: unknown) => withFundingHint(e, client.address, 'a smaller --n or --max-price'));
      const manifest = loadManifest(o.modelsDir ?? DEFAULT_MODELS_DIR);
      const entry = (manifest.models as Record<string, (typeof manifest.models)['digits'] | undefined>)[o.model];
      const variantEntry = entry?.variants[o.variant as 'int8'];
      const cmp = variantEntry?.comparator;
      const tolerance = cmp && 'tolerance' in cmp && typeof cmp.tolerance === 'number' ? cmp.tolerance : 1e-3;
      const executor = createInferenceExecutor({ ...(o.modelsDir ? { modelsDir: o.modelsDir } : {}) });
      const { key } = await resolveMarketKey(client.url, o.marketKey);
      const latencies: number[] = [];
      const ttfts: number[] = [];
      let settled = 0, failed = 0, errors = 0, checked = 0, agreed = 0, verified = 0, rejected = 0, maxDiff = 0;
      let cost = 0n;
      /** Why each job that did not settle did not: a failure reason or an error message. */
      const reasons: string[] = [];
      let next = 0, done = 0;
      const t0 = Date.now();
      const progress = setInterval(() => !o.json && process.stderr.write(`probe: ${done}/${n} done, ${settled} settled\n`), 2_000);
      const worker = async (): Promise<void> => {
        for (;;) {
          const i = next++;
          if (i >= n) return;
          const { input } = sampleJobInput(o.model, seed + i, { maxTokens: parseNumber('--max-tokens', o.maxTokens, 16, 1, 4096) });
          const started = Date.now();
          try {
            const sub = await client.submit({ model: o.model, input, maxPriceMicro: maxPrice });
            let first: number | null = null;
            const job: JobView =
              input.kind === 'prompt'
                ? await client.stream(sub.jobId, { timeoutMs, onToken: (t) => void (first ??= t.atMs - started) })
                : await client.wait(sub.jobId, { timeoutMs });
            if (job.status === 'settled') {
              settled++;
              latencies.push(job.latencyMs ?? Date.now() - started);
              // the market's clock from submit to first token; the client-side time also counts the stream handshake
              const ttft = job.ttftMs ?? first;
              if (ttft !== null) ttfts.push(ttft);
              if (job.output) {
                const ref = (await executor.execute({ model: o.model, variant: o.variant, input, reference: true })).output;
                const a = outputsAgree(ref, job.output as JobOutput, tolerance);
                checked++;
                if (a.match) agreed++;
                if (Number.isFinite(a.maxAbsDiff)) maxDiff = Math.max(maxDiff, a.maxAbsDiff);
              }
            } else {
              failed++;
              reasons.push(job.failure ?? job.status);
            }
            if (job.receipt && key) {
              try {
                cost += verifyReceipt(job.receipt, key, { jobId: sub.jobId, inputHash: sub.inputHash }).paidMicro;
                verified++;
              } catch {
                rejected++;
              }
            } else if (job.status === 'settled') cost += BigInt(job.priceMicro);
          } catch (e) {
            errors++;
            reasons.push((e as Error).message);
            if (!o.json) process.stderr.write(`probe: job ${i} error: ${(e as Error).message}\n`);
          }
          done++;
        }
      };
      await Promise.all(Array.from({ length: conc }, worker));
      clearInterval(progress);
      await executor.close();
      const result: ProbeResult = {
        market: client.url,
        model: o.model,
        variant: o.variant,
        seed,
        n,
        settled,
        failed,
        errors,
        successRate: settled / n,
        agreement: { checked, agreed, rate: checked ? agreed / checked : 0, maxAbsDiff: maxDiff },
        receipts: { verified, rejected },
        ttftMs: { p50: percentile(ttfts, 50), p95: percentile(ttfts, 95) },
        latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
        costMicro: { total: cost.toString(), perJob: settled ? (cost / BigInt(settled)).toString() : '0', perThousand: settled ? ((cost * 1000n) / BigInt(settled)).toString() : '0' },
        wallMs: Date.now() - t0,
      };
      // fail loud: a probe that lost jobs exits non-zero and says why (after its report, so both are seen)
      const lost = (): void => {
        if (failed + errors + rejected === 0) return;
        const why = [...new Set(reasons)].map((r) => (KNOWN_FAILURES.has(r) ? `${r}: ${explainFailure(r)}` : r));
        process.stderr.write(`error: ${failed + errors} of ${n} jobs did not settle (${tally(reasons)})${rejected ? `, ${rejected} receipts rejected` : ''}\n${why.map((w) => `  ${w}\n`).join('')}`);
        process.exitCode = 2;
      };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        lost();
        return;
      }
      const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
      const rows: [string, string][] = [
        ['jobs', `${n} sent, ${settled} settled, ${failed} failed, ${errors} errors`],
        ['success rate', pct(result.successRate)],
        ['agreement', `${agreed}/${checked} match the local ${o.variant} reference (${pct(result.agreement.rate)}), max |Δ| ${maxDiff.toExponential(2)}`],
        ['ttft', `p50 ${result.ttftMs.p50} ms, p95 ${result.ttftMs.p95} ms`],
        ['latency', `p50 ${result.latencyMs.p50} ms, p95 ${result.latencyMs.p95} ms, p99 ${result.latencyMs.p99} ms`],
        ['cost', `${(Number(result.costMicro.total) / 1e6).toFixed(4)} mUSD total, ${result.costMicro.perJob} µmUSD per job, ${(Number(result.costMicro.perThousand) / 1e6).toFixed(3)} mUSD per 1,000`],
        ['receipts', key ? `${verified} verified, ${rejected} rejected` : 'not checked (no market key)'],
        ['wall time', `${(result.wallMs / 1000).toFixed(1)} s`],
      ];
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(13)} ${v}\n`);
      lost();
    });
}
