import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { InfermarketError, keyPairFromSeed, seedFromLabel } from '@infermarket/protocol';
import { createInferenceExecutor } from '@infermarket/miner';
import { CLOUD_DEFAULTS, createCloud } from '../cloud/server.js';
import { list, parseAmount, parseNumber } from '../testnet/keys.js';
import { onShutdown } from '../testnet/stop.js';

interface CloudCliOptions {
  host: string;
  port: string;
  price?: string;
  variant: string;
  concurrency?: string;
  keySeed?: string;
  modelsDir?: string;
  state?: string;
  json?: boolean;
}

/** `digits=8000,charlm=12000` or a single amount for every model → prices by model (`*` = every model). */
export function parsePrices(v: string | undefined): { defaultPriceMicro: bigint; pricesMicro: Record<string, bigint> } {
  const pricesMicro: Record<string, bigint> = {};
  let defaultPriceMicro: bigint = CLOUD_DEFAULTS.priceMicro;
  for (const part of list(v)) {
    const [model, amount] = part.includes('=') ? (part.split('=') as [string, string]) : ['*', part];
    const p = parseAmount(`--price ${model}`, amount, 0n);
    if (model === '*') defaultPriceMicro = p;
    else pricesMicro[model] = p;
  }
  return { defaultPriceMicro, pricesMicro };
}

/** Registers `infermarket cloud`: the centralized baseline. */
export function register(program: Command): void {
  program
    .command('cloud')
    .description('The centralized baseline: the same models on onnxruntime in one process at a fixed price, no auction, no verification, no stake; serves the job API the client SDK uses (so `infermarket load --market URL` runs against it unchanged). Prints one JSON {"event":"listening",…} line.')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free one)', '0')
    .option('--price <micro>', `fixed price per job in micro-mUSD, one for every model or per model: digits=8000,charlm=12000 (default ${CLOUD_DEFAULTS.priceMicro})`)
    .option('--variant <v>', 'model variant to run (fp32|fp16|int8|int4): the one honest miners run by default', CLOUD_DEFAULTS.variant)
    .option('--concurrency <n>', 'jobs run at once', String(CLOUD_DEFAULTS.concurrency))
    .option('--key-seed <label>', 'derive the receipt-signing key from this label (reproducible; NOT secret); default a random key')
    .option('--models-dir <dir>', 'models directory (default: the repo models/)')
    .option('--state <file>', 'keep the ledger (balances, faucet totals, revenue, escrow in flight) in this JSON file so a restart keeps the accounts; jobs in flight at a crash are refunded (default: memory only)')
    .option('--json', 'JSON lines (the listening line is JSON either way)')
    .action(async (o: CloudCliOptions) => {
      const port = parseNumber('--port', o.port, 0, 0, 65_535);
      const concurrency = parseNumber('--concurrency', o.concurrency, CLOUD_DEFAULTS.concurrency, 1, 64);
      if (!['fp32', 'fp16', 'int8', 'int4'].includes(o.variant)) throw new InfermarketError('ERR_VALIDATION', `"--variant" must be fp32, fp16, int8 or int4, got ${JSON.stringify(o.variant)}`);
      const keys = keyPairFromSeed(o.keySeed !== undefined ? seedFromLabel(o.keySeed) : new Uint8Array(randomBytes(32)));
      const executor = createInferenceExecutor(o.modelsDir !== undefined ? { modelsDir: o.modelsDir } : {});
      const cloud = createCloud({ keys, executor, variant: o.variant, concurrency, ...parsePrices(o.price), ...(o.state !== undefined ? { stateFile: o.state } : {}), ...(o.modelsDir !== undefined ? { modelsDir: o.modelsDir } : {}) });
      // load every model before listening: the first job must not pay for it (a miner warms up the same way)
      const models = Object.keys(cloud.stats().pricesMicro);
      await executor.warm(models.map((model) => ({ model, variant: o.variant })));
      const address = await cloud.app.listen({ host: o.host, port });
      const url = address.replace(/\/\/(0\.0\.0\.0|\[::\]):/, '//127.0.0.1:');
      process.stdout.write(
        `${JSON.stringify({ event: 'listening', role: 'cloud', url, marketKey: cloud.key, address: cloud.address, variant: o.variant, verification: 'none', pricesMicro: cloud.stats().pricesMicro })}\n`,
      );
      await onShutdown(async () => {
        const s = cloud.stats();
        process.stdout.write(`${JSON.stringify({ event: 'stopped', role: 'cloud', ...s })}\n`);
        await cloud.close();
      });
    });
}
