import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { checkVerification, InfermarketError, type JobInput, type JobView } from '@infermarket/protocol';
import { createClient, requestJson, verifyReceipt } from '@infermarket/client';
import { loadKey, parseAmount, parseNumber } from '../testnet/keys.js';
import { describeOutput, digitInput, sampleJobInput } from '../testnet/inputs.js';
import { explainFailure, withFundingHint } from '../job-outcome.js';

interface SubmitCliOptions {
  market: string;
  model: string;
  input?: string;
  digit?: string;
  prompt?: string;
  maxTokens?: string;
  temperature?: string;
  sample?: string;
  maxPrice?: string;
  faucet?: string;
  marketKey?: string;
  keySeed?: string;
  keyFile?: string;
  region?: string;
  timeoutMs?: string;
  stream?: boolean;
  json?: boolean;
  private?: boolean;
  verification?: string;
  ca?: string;
  retries?: string;
}

/** What `submit` reports about the receipt (`--json`: the `receipt` field). */
interface ReceiptReport {
  /** The receipt is signed by the market key. */
  signatureValid: boolean;
  /** The market signed that someone other than the miner re-executed the job and agreed, and the output had the asked length. */
  verified: boolean;
  pinned: boolean;
  error?: string;
  paidMicro?: string;
  verification?: string;
  verdict?: string;
  checkedBy?: string[];
  auditors?: string[];
  outputLength?: number | null;
  expectedLength?: number | null;
  /** One line: what was checked, by whom, and the output length against what was asked. */
  checked?: string;
}

/** Market key for receipt checks: the option, else what the market announces on /v1/health (weaker: same channel). */
export async function resolveMarketKey(url: string, given: string | undefined, ca?: string | Buffer): Promise<{ key: string | null; pinned: boolean }> {
  if (given) return { key: given, pinned: true };
  try {
    const h = await requestJson<Record<string, unknown>>(url, '/v1/health', ca !== undefined ? { ca } : {});
    return { key: typeof h.marketKey === 'string' ? h.marketKey : null, pinned: false };
  } catch {
    return { key: null, pinned: false };
  }
}

/** `--ca FILE` → the PEM text. @throws ERR_VALIDATION naming the flag. */
export function readCa(file: string): string {
  try {
    const pem = readFileSync(file, 'utf8');
    if (!pem.includes('BEGIN CERTIFICATE')) throw new Error('no PEM certificate in it');
    return pem;
  } catch (e) {
    throw new InfermarketError('ERR_VALIDATION', `"--ca" ${file} must be a readable PEM certificate: ${(e as Error).message}`);
  }
}

/** Registers `infermarket submit`. */
export function register(program: Command): void {
  program
    .command('submit')
    .description('Submit one job to a market, wait for (or stream) its result, and verify the signed receipt.')
    .requiredOption('--market <url>', 'market HTTP URL, e.g. http://127.0.0.1:PORT')
    .requiredOption('--model <id>', 'model id: digits, charlm, heavy or deep')
    .option('--input <file>', 'JSON file holding a JobInput ({"kind":"tensor",...} or {"kind":"prompt",...})')
    .option('--digit <n>', 'digits: send a held-out MNIST image of this digit')
    .option('--prompt <text>', 'charlm: the prompt to continue')
    .option('--max-tokens <n>', 'charlm: tokens to generate', '24')
    .option('--temperature <t>', 'charlm: sampling temperature (0 = greedy)', '0')
    .option('--sample <n>', 'use deterministic sample input number n', '0')
    .option('--max-price <micro>', 'most you pay, escrowed up front (micro-mUSD)', '100000')
    .option('--faucet <micro>', 'first ask the faucet for this much')
    .option('--market-key <hex>', 'the market\'s public key (printed when it starts) to verify the receipt against')
    .option('--region <list>', 'comma-separated regions the job may run in')
    .option('--key-seed <label>', 'derive the client key from a label')
    .option('--key-file <file>', 'client key file (created if missing)', '.infermarket/client-key.json')
    .option('--timeout-ms <ms>', 'give up waiting after this long', '60000')
    .option('--retries <n>', 'submit again (a new job) this many times when no miner bids, while at least 1 s of --timeout-ms is left', '2')
    .option('--stream', 'print generated tokens as they arrive')
    .option('--private', 'private job: the input is sealed end to end, only the assigned miner (and an auditing validator) can open it, and the output comes back sealed to you (docs/privacy.md)')
    .option('--verification <level>', 'how the output is checked (docs/verification.md): sampled (default; audited at the market\'s rate), always (re-executed by a validator before it settles), redundant (k miners must agree), none (cheaper, unverified)')
    .option('--ca <file>', 'PEM certificate to trust for an https market (infermarket market --tls prints its path)')
    .option('--json', 'print the finished job, receipt check included, as JSON')
    .action(async (o: SubmitCliOptions) => {
      const { keys } = loadKey({ ...(o.keySeed ? { keySeed: o.keySeed } : {}), ...(o.keyFile ? { keyFile: o.keyFile } : {}), defaultFile: '.infermarket/client-key.json' });
      const client = createClient({ url: o.market, key: keys, ...(o.ca ? { ca: readCa(o.ca) } : {}) });
      let input: JobInput;
      if (o.input) {
        try {
          input = JSON.parse(readFileSync(o.input, 'utf8')) as JobInput;
        } catch (e) {
          throw new InfermarketError('ERR_VALIDATION', `"--input" ${o.input} must be a readable JSON JobInput: ${(e as Error).message}`);
        }
      } else if (o.digit !== undefined) {
        input = digitInput(Number(o.digit));
      } else if (o.prompt !== undefined) {
        input = { kind: 'prompt', prompt: o.prompt, maxTokens: parseNumber('--max-tokens', o.maxTokens, 24, 1, 4096), temperature: parseNumber('--temperature', o.temperature, 0, 0, 10), seed: parseNumber('--sample', o.sample, 0) };
      } else {
        input = sampleJobInput(o.model, parseNumber('--sample', o.sample, 0), { maxTokens: parseNumber('--max-tokens', o.maxTokens, 24, 1, 4096) }).input;
      }
      if (o.faucet) await client.faucet(parseAmount('--faucet', o.faucet, 0n));
      const timeoutMs = parseNumber('--timeout-ms', o.timeoutMs, 60_000, 1);
      const retries = parseNumber('--retries', o.retries, 2, 0, 100);
      const until = Date.now() + timeoutMs;
      // A job nobody bid on is refunded at once; submit it again (a new job id) while time remains.
      let sub: Awaited<ReturnType<typeof client.submit>>;
      let job: JobView;
      for (let attempt = 0; ; attempt++) {
        sub = await client
          .submit({ model: o.model, input, maxPriceMicro: parseAmount('--max-price', o.maxPrice, 100_000n), ...(o.region ? { regions: o.region.split(',') } : {}), ...(o.private ? { private: true } : {}), ...(o.verification !== undefined ? { verification: checkVerification(o.verification) } : {}) })
          .catch((e: unknown) => withFundingHint(e, client.address));
        if (!o.json) process.stderr.write(`submitted ${sub.jobId} (${o.model}) as ${client.address}\n`);
        const left = Math.max(1, until - Date.now());
        job =
          o.stream && input.kind === 'prompt'
            ? await client.stream(sub.jobId, { timeoutMs: left, onToken: (t) => !o.json && process.stdout.write(t.text) })
            : await client.wait(sub.jobId, { timeoutMs: left });
        // a retry needs time for a bid window and a result: with less than a second left, report this failure
        if (job.failure !== 'no-bids' || attempt >= retries || until - Date.now() < 1_000) break;
        process.stderr.write(`no miner bid on ${sub.jobId} (escrow refunded); submitting again (${attempt + 1}/${retries})\n`);
      }
      if (o.stream && !o.json) process.stdout.write('\n');
      const { key, pinned } = await resolveMarketKey(client.url, o.marketKey, o.ca ? readCa(o.ca) : undefined);
      // `signatureValid`: the market signed this settlement; `verified`: someone other than the miner re-executed it and agreed
      let receipt: ReceiptReport = { signatureValid: false, verified: false, pinned };
      if (job.receipt && key) {
        try {
          const r = verifyReceipt(job.receipt, key, { jobId: sub.jobId, inputHash: sub.inputHash, output: job.output });
          receipt = {
            signatureValid: true,
            verified: r.verified,
            pinned,
            paidMicro: r.paidMicro.toString(),
            verification: r.verification,
            verdict: r.verdict,
            checkedBy: r.checkedBy,
            auditors: r.auditors,
            outputLength: r.outputLength,
            expectedLength: r.expectedLength,
            checked: r.checked,
          };
        } catch (e) {
          receipt = { signatureValid: false, verified: false, pinned, error: (e as Error).message };
        }
      } else receipt.error = job.receipt ? 'no market key (pass --market-key)' : 'no receipt yet';
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ job, receipt })}\n`);
      } else {
        const rows: [string, string][] = [
          ['job', job.id],
          ['status', job.failure ? `${job.status} (${job.failure})` : job.status],
          ['miner', job.miner ?? '-'],
          ['output', describeOutput(job.output)],
          ['price', `${job.priceMicro} µmUSD (max ${job.maxPriceMicro})`],
          ['audited', String(job.audited)],
          ['latency', job.latencyMs === null ? '-' : `${job.latencyMs} ms`],
          ['ttft', job.ttftMs === null ? '-' : `${job.ttftMs} ms`],
          ['receipt', receipt.signatureValid ? `signed by the market${pinned ? '' : ' (key from the market itself; pass --market-key to pin it)'}, paid ${receipt.paidMicro}` : `NOT valid: ${receipt.error}`],
          ['checked', receipt.signatureValid ? `${receipt.verified ? 'VERIFIED' : 'NOT VERIFIED'} — ${receipt.checked}` : '-'],
        ];
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(9)} ${v}\n`);
      }
      if (job.status !== 'settled') {
        process.stderr.write(`error: job ${job.id} ${job.status}: ${explainFailure(job.failure)}\n`);
        process.exitCode = 2;
      }
    });
}
