import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { InfermarketError } from '@infermarket/protocol';
import { createMarket, createTestnetCert, DEFAULT_MODELS_DIR, type NodeLabels } from '@infermarket/market';
import type { Command } from 'commander';
import { readOraclePrices } from './oracle-prices.js';

interface MarketFlags {
  host: string;
  port: string;
  db: string;
  seed: string;
  keyFile?: string;
  params?: string;
  modelsDir?: string;
  json?: boolean;
  logLevel: string;
  tlsKey?: string;
  tlsCert?: string;
  tls?: boolean;
  tlsNames?: string;
  nodeLabels?: string;
  jobsCsv?: string;
  oraclePrices?: string;
}

/**
 * `--tls`: the testnet certificate beside the database (`<db>.cert.pem`, `<db>.key.pem`), made on first use
 * and kept, so clients that trust it (`--ca <db>.cert.pem`) still do after a restart.
 */
function testnetTls(db: string, names: string | undefined): { key: string; cert: string; certFile: string } {
  const certFile = `${db}.cert.pem`;
  const keyFile = `${db}.key.pem`;
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const c = createTestnetCert({ names: (names ?? '').split(',').map((n) => n.trim()).filter(Boolean) });
    writeFileSync(keyFile, c.keyPem, { mode: 0o600 });
    writeFileSync(certFile, c.certPem);
  }
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** `--params '{"auditRate":1}'` or `--params @file.json` → overrides. */
function readParams(v: string | undefined): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  const text = v.startsWith('@') ? readFileSync(v.slice(1), 'utf8') : v;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InfermarketError('ERR_INVALID_PARAM', `"--params" must be a JSON object or @file holding one, got ${JSON.stringify(v.slice(0, 80))}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InfermarketError('ERR_INVALID_PARAM', '"--params" must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** `--node-labels '{"im…":{"name":"lazy-0","strategy":"lazy"}}'` or `@file` → labels by address. */
function readNodeLabels(v: string): NodeLabels {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v.startsWith('@') ? readFileSync(v.slice(1), 'utf8') : v);
  } catch (e) {
    throw new InfermarketError('ERR_VALIDATION', `"--node-labels" must be JSON {"<address>":{"name","strategy"}} or @file holding it: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InfermarketError('ERR_VALIDATION', '"--node-labels" must be a JSON object keyed by address');
  for (const [a, l] of Object.entries(parsed)) {
    const ok = /^im[0-9a-f]{40}$/.test(a) && typeof l === 'object' && l !== null && Object.entries(l).every(([k, x]) => (k === 'name' || k === 'strategy') && typeof x === 'string' && x.length <= 64);
    if (!ok) throw new InfermarketError('ERR_VALIDATION', `"--node-labels" entry ${JSON.stringify(a)} must be an address mapped to {"name"?: string, "strategy"?: string}`);
  }
  return parsed as NodeLabels;
}

function intFlag(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InfermarketError('ERR_VALIDATION', `"--${name}" must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** Registers `infermarket market`: run the market coordinator until SIGINT/SIGTERM. */
export function register(program: Command): void {
  program
    .command('market')
    .description(
      'Run the market coordinator: HTTP API under /v1, WebSocket gateway for miners/validators at /v1/nodes, ' +
        'client token streams at /v1/jobs/:id/stream, dashboard at /, Prometheus metrics at /metrics. ' +
        'Prints one JSON line {"event":"listening",...} to stdout when ready; logs go to stderr. ' +
        'Restarting on the same --db resumes the market from its event log.',
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', '0')
    .option('--db <file>', 'SQLite event log (created if missing, resumed if present)', 'infermarket-market.db')
    .option('--seed <n>', 'run seed recorded in outputs (it derives no key)', '1')
    .option('--key-file <file>', 'the market signing key: 32 random bytes made on first start (mode 0600) and reused (default <db>.market-key)')
    .option('--params <json|@file>', 'protocol parameter overrides as JSON, or @path to a JSON file')
    .option('--models-dir <dir>', `directory with the models manifest.json (default: the repository's models/, ${DEFAULT_MODELS_DIR}); the market refuses to start without one`)
    .option('--tls-key <file>', 'serve HTTPS/WSS with this PEM private key (with --tls-cert)')
    .option('--tls-cert <file>', 'PEM certificate for --tls-key')
    .option('--tls', 'serve HTTPS/WSS with a self-signed testnet certificate for 127.0.0.1/localhost, made once and kept at <db>.cert.pem; clients trust it with --ca <db>.cert.pem')
    .option('--tls-names <list>', 'with --tls: extra DNS names or IPs the certificate is valid for (e.g. a LAN address)')
    .option('--node-labels <json|@file>', 'instance names and strategies by address, e.g. {"im…":{"name":"lazy-0","strategy":"lazy"}}: labels in /metrics, /v1/stats and the dashboard')
    .option('--jobs-csv <file>', 'on shutdown, write one row per job seen since start (jobs.csv columns: docs/jobs-csv.md)')
    .option('--oracle-prices <file>', 'the IMT price path the market\'s own oracle publishes (needed by pricingMode token/token-native): JSON [[atMs, priceMicro], …] or {"source", "points"}, or CSV lines atMs,priceMicro; atMs from the market\'s first start (docs/economics.md)')
    .option('--json', 'print machine-readable JSON (the listening line is always JSON)')
    .option('--log-level <level>', 'pino log level on stderr: fatal, error, warn, info, debug, trace, silent', 'info')
    .addHelpText('after', '\nExample:\n  infermarket market --port 8080 --db market.db --params \'{"auditRate":0.2}\'\n')
    .action(async (flags: MarketFlags) => {
      if ((flags.tlsKey === undefined) !== (flags.tlsCert === undefined)) {
        throw new InfermarketError('ERR_VALIDATION', '"--tls-key" and "--tls-cert" must be given together');
      }
      if (flags.tls && flags.tlsKey) throw new InfermarketError('ERR_VALIDATION', '"--tls" makes its own certificate: give it or "--tls-key"/"--tls-cert", not both');
      const generated = flags.tls ? testnetTls(flags.db, flags.tlsNames) : null;
      const market = await createMarket({
        dbPath: flags.db,
        host: flags.host,
        port: intFlag('port', flags.port, 0, 65535),
        seed: intFlag('seed', flags.seed, 0, Number.MAX_SAFE_INTEGER),
        ...(flags.modelsDir !== undefined ? { modelsDir: flags.modelsDir } : {}),
        ...(flags.keyFile !== undefined ? { keyFile: flags.keyFile } : {}),
        ...(flags.nodeLabels !== undefined ? { nodeLabels: readNodeLabels(flags.nodeLabels) } : {}),
        ...(flags.jobsCsv !== undefined ? { jobsCsvPath: flags.jobsCsv } : {}),
        ...(flags.oraclePrices !== undefined ? { oracle: readOraclePrices(flags.oraclePrices) } : {}),
        logLevel: flags.logLevel,
        ...(flags.params !== undefined ? { params: readParams(flags.params) ?? {} } : {}),
        ...(flags.tlsKey && flags.tlsCert ? { tls: { key: readFileSync(flags.tlsKey), cert: readFileSync(flags.tlsCert) } } : {}),
        ...(generated ? { tls: { key: generated.key, cert: generated.cert } } : {}),
      });
      process.stdout.write(
        `${JSON.stringify({ event: 'listening', url: market.url, wsUrl: market.wsUrl, dashboard: market.dashboardUrl, marketKey: market.marketKey, ...(generated ? { ca: generated.certFile } : {}) })}\n`,
      );
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        market.app.log.info({ signal }, 'shutting down');
        market
          .close()
          .then(() => {
            if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'stopped', signal })}\n`);
            process.exit(0);
          })
          .catch((err: unknown) => {
            market.app.log.error({ err }, 'shutdown failed');
            process.exit(1);
          });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
