import type { Command } from 'commander';
import { InfermarketError, MINER_STRATEGIES, type MinerStrategy } from '@infermarket/protocol';
import { createInferenceExecutor, createMiner, isStrategyModulePath, loadStrategyModule, nodeSocketUrl } from '@infermarket/miner';
import type { AdaptiveSettings } from '@infermarket/miner';
import { list, loadKey, parseAmount, parseNumber } from '../testnet/keys.js';
import { onShutdown } from '../testnet/stop.js';
import { failOnUntrustedCertificate, runWithCa } from '../trust-ca.js';

interface MinerCliOptions {
  market: string;
  model: string;
  strategy: string;
  variant: string;
  region: string;
  stake?: string;
  price?: string;
  pricing?: string;
  spreadBps?: string;
  concurrency?: string;
  latencyMs?: string;
  jitterMs?: string;
  cheatProbability?: string;
  slowExtraMs?: string;
  disconnectProbability?: string;
  keySeed?: string;
  faucet: boolean;
  fund?: string;
  keyFile?: string;
  seed?: string;
  modelsDir?: string;
  ep?: string;
  threads?: string;
  statsEveryMs?: string;
  costPerCpuSecond?: string;
  adaptive?: string;
  usdCostPerComputeSecond?: string;
  churn?: string;
  json?: boolean;
  ca?: string;
}

/** Registers `infermarket miner`. */
export function register(program: Command): void {
  program
    .command('miner')
    .description('Join a market as a miner: register, stake, bid on jobs and run them on the local ONNX runtime.')
    .requiredOption('--market <url>', 'market node socket, e.g. ws://HOST:PORT (path /v1/nodes is added)')
    .option('--model <ids>', 'comma-separated models to serve', 'digits')
    .option('--strategy <name>', `one of ${MINER_STRATEGIES.join(', ')}, or a strategy module ./my-strategy.js (docs/strategies.md)`, 'honest')
    .option('--variant <v>', 'variant claimed to the market (fp32|fp16|int8|int4)', 'int8')
    .option('--region <name>', 'region declared to the market', 'local')
    .option('--stake <micro>', 'stake to bond in micro-mUSD (faucet tops up the balance)', '500000000')
    .option('--fund <micro>', 'a new account asks the faucet for this balance once, stake included (the testnet passes the scenario\'s planned funding)')
    .option('--price <micro>', 'bid price per job in micro-mUSD', '10000')
    .option('--pricing <json>', 'per-model prices as JSON, e.g. {"digits":"5000","charlm":"20000"}')
    .option('--spread-bps <n>', 'randomise each bid by ± this many bps', '0')
    .option('--concurrency <n>', 'jobs run at once', '2')
    .option('--latency-ms <ms>', 'latency added to every job', '0')
    .option('--jitter-ms <ms>', 'half-width of a uniform jitter around the latency', '0')
    .option('--cheat-probability <p>', 'flaky: drop chance (0.3); lazy/downgrade/replay: cheat chance (1)')
    .option('--slow-extra-ms <ms>', 'slow: extra delay per job (default 2/3 of the job deadline)')
    .option('--disconnect-probability <p>', 'flaky: chance per offer to drop the connection for a while', '0')
    .option('--no-faucet', 'do not ask the faucet for the stake; bond from the existing balance')
    .option('--key-seed <label>', 'derive the key from a label (reproducible testnets)')
    .option('--key-file <file>', 'key file (created with a random key if missing)', '.infermarket/miner-key.json')
    .option('--seed <n>', 'seed for latency jitter, bid spread and strategy coin flips', '0')
    .option('--models-dir <dir>', 'models directory (default: the repo models/)')
    .option('--ep <list>', 'execution providers in order, e.g. cpu or cuda,cpu', 'cpu')
    .option('--threads <n>', 'intra-op threads', '1')
    .option('--cost-per-cpu-second <micro>', 'adaptive: compute cost per CPU-second counted against profit', '1000')
    .option('--adaptive <json>', 'adaptive: learner settings as JSON, the scenario\'s sim.adaptive, e.g. {"epsilon":0.1,"cheatLevels":[0,0.5,1]}')
    .option('--usd-cost-per-compute-second <micro>', 'costs in dollars (docs/economics.md): micro-USD per second of measured compute; the miner then runs the participation rule, leaving while its expected USD profit per job stays negative and returning when it recovers')
    .option('--churn <json>', 'with --usd-cost-per-compute-second: the participation rule\'s settings, the scenario\'s economics.churn, e.g. {"checkEveryMs":2000,"checksToLeave":3}')
    .option('--stats-every-ms <ms>', 'print a stats line this often (0 = never)', '0')
    .option('--ca <file>', 'PEM certificate to trust for a wss:// market (infermarket market --tls prints its path as "ca")')
    .option('--json', 'print events as JSON lines on stdout')
    .action(async (o: MinerCliOptions) => {
      const viaCa = runWithCa(o.ca);
      if (viaCa !== null) {
        process.exitCode = await viaCa;
        return;
      }
      const strategyModule = isStrategyModulePath(o.strategy) ? await loadStrategyModule(o.strategy, { role: 'miner' }) : undefined;
      if (!strategyModule && !(MINER_STRATEGIES as readonly string[]).includes(o.strategy)) {
        throw new InfermarketError('ERR_VALIDATION', `"--strategy" must be one of ${MINER_STRATEGIES.join(', ')} or a module path like ./my-strategy.js, got ${JSON.stringify(o.strategy)}`);
      }
      const { keys, source } = loadKey({ ...(o.keySeed ? { keySeed: o.keySeed } : {}), ...(o.keyFile ? { keyFile: o.keyFile } : {}), defaultFile: '.infermarket/miner-key.json' });
      let pricing: { priceMicro: string | Record<string, string>; spreadBps?: number } = { priceMicro: parseAmount('--price', o.price, 10_000n).toString() };
      if (o.pricing) {
        try {
          pricing = { priceMicro: JSON.parse(o.pricing) as Record<string, string> };
        } catch {
          throw new InfermarketError('ERR_VALIDATION', `"--pricing" must be JSON like {"digits":"5000"}, got ${JSON.stringify(o.pricing)}`);
        }
      }
      pricing.spreadBps = parseNumber('--spread-bps', o.spreadBps, 0, 0, 10_000);
      const models = list(o.model);
      const wsUrl = nodeSocketUrl(o.market);
      const executor = createInferenceExecutor({ ep: list(o.ep) as ('cpu' | 'cuda')[], threads: parseNumber('--threads', o.threads, 1, 1, 256), ...(o.modelsDir ? { modelsDir: o.modelsDir } : {}) });
      const out = (e: Record<string, unknown>): void => {
        if (o.json) process.stdout.write(`${JSON.stringify({ t: Date.now(), ...e })}\n`);
        else process.stderr.write(`${JSON.stringify({ t: Date.now(), ...e })}\n`);
      };
      // load the sessions while logging in: a job that arrives first simply waits for its session
      void executor.warm(models.map((model) => ({ model, variant: o.strategy === 'downgrade' ? 'int4' : o.variant }))).catch((e: Error) => {
        process.stderr.write(`error: cannot load models ${models.join(',')}: ${e.message}\n`);
        process.exit(1);
      });
      const miner = createMiner({
        wsUrl,
        keys,
        executor,
        models,
        ...(strategyModule ? { strategyModule } : { strategy: o.strategy as MinerStrategy }),
        variant: o.variant,
        region: o.region,
        stakeMicro: parseAmount('--stake', o.stake, 500_000_000n),
        useFaucet: o.faucet,
        ...(o.fund !== undefined ? { fundMicro: parseAmount('--fund', o.fund, 0n) } : {}),
        pricing,
        concurrency: parseNumber('--concurrency', o.concurrency, 2, 1, 1024),
        latencyMs: parseNumber('--latency-ms', o.latencyMs, 0),
        jitterMs: parseNumber('--jitter-ms', o.jitterMs, 0),
        ...(o.cheatProbability !== undefined ? { cheatProbability: parseNumber('--cheat-probability', o.cheatProbability, 1, 0, 1) } : {}),
        ...(o.slowExtraMs !== undefined ? { slowExtraMs: parseNumber('--slow-extra-ms', o.slowExtraMs, 0) } : {}),
        disconnectProbability: parseNumber('--disconnect-probability', o.disconnectProbability, 0, 0, 1),
        costPerCpuSecondMicro: parseNumber('--cost-per-cpu-second', o.costPerCpuSecond, 1000, 0),
        ...(o.adaptive !== undefined ? { adaptive: parseAdaptive(o.adaptive) } : {}),
        ...(o.usdCostPerComputeSecond !== undefined ? { churn: { costUsdMicroPerComputeSecond: parseNumber('--usd-cost-per-compute-second', o.usdCostPerComputeSecond, 0, 0), ...(o.churn !== undefined ? { settings: parseChurn(o.churn) } : {}) } } : {}),
        seed: o.seed ?? '0',
        log: failOnUntrustedCertificate(out),
      });
      process.stderr.write(`miner ${keys.address} (${source}) → ${wsUrl}\n`);
      void miner.ready().then(() => process.stdout.write(`${JSON.stringify({ event: 'ready', role: 'miner', address: keys.address, strategy: strategyModule?.name ?? o.strategy })}\n`));
      const every = parseNumber('--stats-every-ms', o.statsEveryMs, 0);
      if (every > 0) setInterval(() => out({ event: 'stats', ...bigToString(miner.stats()) }), every).unref();
      await onShutdown(async () => {
        process.stdout.write(`${JSON.stringify({ event: 'stopped', role: 'miner', address: keys.address, stats: bigToString(miner.stats()), bandit: miner.bandit()?.table() ?? null })}\n`);
        await miner.stop();
        await executor.close();
      });
      await new Promise(() => {});
    });
}

function parseAdaptive(json: string): AdaptiveSettings {
  try {
    const v = JSON.parse(json) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as AdaptiveSettings;
  } catch {
    // reported below
  }
  throw new InfermarketError('ERR_VALIDATION', `"--adaptive" must be a JSON object like {"epsilon":0.1}, got ${JSON.stringify(json)}`);
}

function bigToString(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]));
}

/** `--churn`: the participation settings as JSON (checked by the agents' `resolveParticipation`). */
function parseChurn(text: string): Record<string, number> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InfermarketError('ERR_VALIDATION', `"--churn" must be JSON, e.g. {"checkEveryMs":2000}: ${(e as Error).message}`, { details: { field: 'churn' } });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InfermarketError('ERR_VALIDATION', `"--churn" must be a JSON object, got ${text}`, { details: { field: 'churn' } });
  const { enabled: _enabled, ...rest } = v as Record<string, number>;
  return rest;
}
