import type { Command } from 'commander';
import { InfermarketError, VALIDATOR_STRATEGIES, type ValidatorStrategy } from '@infermarket/protocol';
import { createInferenceExecutor, isStrategyModulePath, loadStrategyModule, nodeSocketUrl } from '@infermarket/miner';
import { createValidator } from '@infermarket/validator';
import { list, loadKey, parseAmount, parseNumber } from '../testnet/keys.js';
import { onShutdown } from '../testnet/stop.js';
import { failOnUntrustedCertificate, runWithCa } from '../trust-ca.js';

interface ValidatorCliOptions {
  market: string;
  model: string;
  strategy: string;
  variant: string;
  region: string;
  stake?: string;
  colludeWith?: string;
  keySeed?: string;
  faucet: boolean;
  fund?: string;
  keyFile?: string;
  modelsDir?: string;
  threads?: string;
  json?: boolean;
  ca?: string;
}

/** Registers `infermarket validator`. */
export function register(program: Command): void {
  program
    .command('validator')
    .description('Join a market as a validator: stake, re-execute audited jobs blind on the reference session, report outputs.')
    .requiredOption('--market <url>', 'market node socket, e.g. ws://HOST:PORT (path /v1/nodes is added)')
    .option('--model <ids>', 'comma-separated models it can re-execute', 'digits,charlm')
    .option('--strategy <name>', `one of ${VALIDATOR_STRATEGIES.join(', ')}, or a strategy module ./my-strategy.js (docs/strategies.md)`, 'honest')
    .option('--variant <v>', 'variant re-executed when the market does not name the miner\'s claimed one', 'int8')
    .option('--region <name>', 'region declared to the market', 'local')
    .option('--stake <micro>', 'stake to bond in micro-mUSD', '500000000')
    .option('--fund <micro>', 'a new account asks the faucet for this balance once, stake included (the testnet passes the scenario\'s planned funding)')
    .option('--collude-with <addresses>', 'colluding: comma-separated miner addresses it never reports')
    .option('--no-faucet', 'do not ask the faucet for the stake; bond from the existing balance')
    .option('--key-seed <label>', 'derive the key from a label (reproducible testnets)')
    .option('--key-file <file>', 'key file (created with a random key if missing)', '.infermarket/validator-key.json')
    .option('--models-dir <dir>', 'models directory (default: the repo models/)')
    .option('--threads <n>', 'intra-op threads for non-reference runs', '1')
    .option('--ca <file>', 'PEM certificate to trust for a wss:// market (infermarket market --tls prints its path as "ca")')
    .option('--json', 'print events as JSON lines on stdout')
    .action(async (o: ValidatorCliOptions) => {
      const viaCa = runWithCa(o.ca);
      if (viaCa !== null) {
        process.exitCode = await viaCa;
        return;
      }
      const strategyModule = isStrategyModulePath(o.strategy) ? await loadStrategyModule(o.strategy, { role: 'validator' }) : undefined;
      if (!strategyModule && !(VALIDATOR_STRATEGIES as readonly string[]).includes(o.strategy)) {
        throw new InfermarketError('ERR_VALIDATION', `"--strategy" must be one of ${VALIDATOR_STRATEGIES.join(', ')} or a module path like ./my-strategy.js, got ${JSON.stringify(o.strategy)}`);
      }
      const { keys, source } = loadKey({ ...(o.keySeed ? { keySeed: o.keySeed } : {}), ...(o.keyFile ? { keyFile: o.keyFile } : {}), defaultFile: '.infermarket/validator-key.json' });
      const models = list(o.model);
      const wsUrl = nodeSocketUrl(o.market);
      const executor = createInferenceExecutor({ threads: parseNumber('--threads', o.threads, 1, 1, 256), ...(o.modelsDir ? { modelsDir: o.modelsDir } : {}) });
      const out = (e: Record<string, unknown>): void => {
        (o.json ? process.stdout : process.stderr).write(`${JSON.stringify({ t: Date.now(), ...e })}\n`);
      };
      // honest validators re-execute on the reference session: load that one, or the first audit pays for it
      // (and the one-layer sessions a bisection referee re-executes)
      void executor
        .warm(models.map((model) => ({ model, variant: o.variant, reference: true })))
        .then(async () => {
          for (const model of models) await executor.tracing?.warm(model, o.variant);
        })
        .catch((e: Error) => {
        process.stderr.write(`error: cannot load models ${models.join(',')}: ${e.message}\n`);
        process.exit(1);
      });
      const validator = createValidator({
        wsUrl,
        keys,
        executor,
        models,
        ...(strategyModule ? { strategyModule } : { strategy: o.strategy as ValidatorStrategy }),
        variant: o.variant,
        region: o.region,
        stakeMicro: parseAmount('--stake', o.stake, 500_000_000n),
        useFaucet: o.faucet,
        ...(o.fund !== undefined ? { fundMicro: parseAmount('--fund', o.fund, 0n) } : {}),
        colludeWith: list(o.colludeWith),
        log: failOnUntrustedCertificate(out),
      });
      process.stderr.write(`validator ${keys.address} (${source}) → ${wsUrl}\n`);
      void validator.ready().then(() => process.stdout.write(`${JSON.stringify({ event: 'ready', role: 'validator', address: keys.address, strategy: strategyModule?.name ?? o.strategy })}\n`));
      await onShutdown(async () => {
        const s = validator.stats();
        process.stdout.write(`${JSON.stringify({ event: 'stopped', role: 'validator', address: keys.address, stats: { ...s, slashedMicro: s.slashedMicro.toString() } })}\n`);
        await validator.stop();
        await executor.close();
      });
      await new Promise(() => {});
    });
}
