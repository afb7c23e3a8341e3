import { existsSync, writeFileSync } from 'node:fs';
import { createJobLog, InfermarketError, type JobLog } from '@infermarket/protocol';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fastify, { LogController, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { WebSocket } from 'ws';
import { createCore, type MarketCore } from './core.js';
import { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling, registerRoutes } from './http.js';
import { inputBytesOf, loadModelSpecs, type ModelSpec } from './models.js';
import { createMetrics, type MarketMetrics, type NodeLabels } from './metrics.js';
import { createStatsSource, type StatsSource } from './stats.js';
import { openStore } from './store.js';
import { createStreamHub, type StreamHub } from './stream.js';
import { createSessionHub, type SessionHub, type SessionOptions } from './session.js';
import { createPrivateJobs } from './private-jobs.js';
import { defaultMarketKeyFile, loadOrCreateMarketKey } from './market-key.js';
import { checkOraclePath, startOracleDriver, type OracleDriver, type OraclePath } from './oracle-driver.js';

/** Options for `createMarket`. */
export interface MarketOptions {
  /** SQLite file of the event log; reopening the same file resumes the market. */
  dbPath: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Protocol parameter overrides (validated by `resolveParams`) for a new file. */
  params?: Record<string, unknown>;
  /** The run's seed, recorded in stats and reports. Default 1. It derives no key. */
  seed?: number;
  /**
   * File of the market's signing key (32 random bytes, hex, mode 0600), made on first start and reused:
   * default `<dbPath>.market-key`; an in-memory database gets a key that lives as long as the process.
   */
  keyFile?: string;
  /** Directory holding `manifest.json` (default: the repository's `models/`); a missing manifest is `ERR_NOT_FOUND`. */
  modelsDir?: string;
  /** Model specs to use instead of a manifest (tests). */
  models?: readonly ModelSpec[];
  /** A pino logger; default: a silent one (or `logLevel` to stderr). */
  logger?: Logger;
  logLevel?: string;
  /** Serve HTTPS/WSS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Largest accepted HTTP body in bytes. Default `bodyLimitFor(models)`: the largest input a model takes, sealed. */
  bodyLimitBytes?: number;
  gateway?: GatewayOptions;
  /** Client sessions (`/v1/session`); the largest frame defaults to the HTTP body limit. */
  sessions?: Partial<SessionOptions>;
  /** Wall clock (absolute ms); default `Date.now`. */
  now?: () => number;
  /** Source of epoch seeds (64 hex chars); default `crypto.randomBytes(32)`. Tests may pin it. */
  randomSeed?: () => string;
  /** After a restart the market clock stands still this long while nodes reconnect (default 5 s; see `CORE_DEFAULTS`). */
  restartGraceMs?: number;
  /** Instance names and strategies of nodes by address (the testnet passes them): shown in /metrics labels, /v1/stats and the dashboard. */
  nodeLabels?: NodeLabels;
  /** Write one row per job (`jobs.csv`, see `createJobLog`) to this file when the market closes. */
  jobsCsvPath?: string;
  /**
   * The IMT price path the market's own oracle publishes (`startOracleDriver`, docs/economics.md): needed when
   * `pricingMode` is `token` or `token-native`; a `stable` market publishes it too if given (nothing reads it).
   */
  oracle?: OraclePath;
}

/** A running market coordinator. */
export interface Market {
  url: string;
  /** Where miners and validators connect. */
  wsUrl: string;
  dashboardUrl: string;
  /** Market public key (hex); receipts are signed by it. */
  marketKey: string;
  seed: number;
  app: FastifyInstance;
  core: MarketCore;
  gateway: Gateway;
  stats: StatsSource;
  metrics: MarketMetrics;
  streams: StreamHub;
  /** Client sessions: `ws(s)://host:port/v1/session`. */
  sessionUrl: string;
  sessions: SessionHub;
  /** The market's IMT oracle, when it runs one. */
  oracle: OracleDriver | null;
  /** Stop accepting, close sockets, stop timers, flush and close the database. Idempotent. */
  close(): Promise<void>;
}

type DashboardModule = {
  registerDashboard(app: FastifyInstance, source: StatsSource): void;
  attachDashboardSocket(ws: WebSocket, source: StatsSource): void;
};

/** The dashboard (another module in this package) if it is present: `.js` when built, `.ts` under vitest. */
async function loadDashboard(): Promise<DashboardModule | null> {
  for (const ext of ['js', 'ts']) {
    const url = new URL(`./dashboard/index.${ext}`, import.meta.url);
    if (!existsSync(fileURLToPath(url))) continue;
    try {
      return (await import(pathToFileURL(fileURLToPath(url)).href)) as DashboardModule;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * The default body limit: room for the largest documented input — a batch of `INPUT_LIMITS.maxBatch`
 * rows of the model with the largest row — as base64, sealed for a private job (base64 of JSON of base64:
 * ×16/9), plus 64 KiB for the envelope; at least 256 KiB.
 */
export function bodyLimitFor(specs: Map<string, ModelSpec>): number {
  let largest = 0;
  for (const m of specs.values()) largest = Math.max(largest, inputBytesOf(m));
  return Math.max(256 * 1024, Math.ceil((largest * 16) / 9) + 64 * 1024);
}

const PLACEHOLDER = `<!doctype html><meta charset="utf-8"><title>infermarket</title>
<h1>infermarket market</h1><p>The dashboard is not built into this market. Data: <a href="/v1/stats">/v1/stats</a>, <a href="/metrics">/metrics</a>.</p>`;

/**
 * Start a market coordinator: open (or resume) the SQLite log, serve the HTTP API and the WebSocket
 * gateway, arm timers and epochs. The clock is Unix epoch ms (`Date.now()`) on a fresh file; after a
 * restart it is behind by the time the market was down plus a short grace (`core.pausedMs`), so no
 * deadline runs while nobody can reach the market. Event times and deadlines sent to nodes are in it.
 * @example const m = await createMarket({ dbPath: 'market.db', port: 0 }); console.log(m.url); await m.close();
 */
export async function createMarket(options: MarketOptions): Promise<Market> {
  const level = options.logLevel ?? 'silent';
  const logger = options.logger ?? (level === 'silent' ? pino({ level }) : pino({ level }, pino.destination(2)));
  const loaded = options.models ? { specs: new Map(options.models.map((m) => [m.id, m])), source: 'options' } : loadModelSpecs(options.modelsDir);
  const store = openStore(options.dbPath);
  let core: MarketCore;
  let oraclePath: ReturnType<typeof checkOraclePath> | null = null;
  try {
    const key = loadOrCreateMarketKey(options.keyFile ?? defaultMarketKeyFile(options.dbPath));
    if (key.created) logger.info({ keyFile: key.file }, 'made a new random market signing key');
    core = createCore({ store, specs: loaded.specs, ...(options.params ? { params: options.params } : {}), seed: options.seed ?? 1, keys: key.keys, logger, ...(options.now ? { now: options.now } : {}), ...(options.randomSeed ? { randomSeed: options.randomSeed } : {}), ...(options.restartGraceMs !== undefined ? { restartGraceMs: options.restartGraceMs } : {}) });
    oraclePath = oracleFor(core.params.pricingMode, options.oracle);
  } catch (e) {
    store.close();
    throw e;
  }
  const privateJobs = createPrivateJobs(core);
  const streams = createStreamHub(core, privateJobs);
  const gateway = createGateway(core, { logger, onToken: streams.token, privateJobs, ...options.gateway });
  const stats = createStatsSource(core, { online: gateway.online, variant: gateway.variant, ...(options.nodeLabels ? { labels: options.nodeLabels } : {}) });
  gateway.onNodeStatus((a, online) => stats.nodeStatus(a, online));
  const metrics = createMetrics(core, gateway, options.nodeLabels ? { labels: options.nodeLabels } : {});
  const jobLog = options.jobsCsvPath !== undefined ? recordJobs(core) : null;

  const bodyLimit = options.bodyLimitBytes ?? bodyLimitFor(loaded.specs);
  const sessions = createSessionHub(core, { streams, privateJobs, logger, ...options.sessions, maxPayloadBytes: options.sessions?.maxPayloadBytes ?? bodyLimit });
  const app = fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    forceCloseConnections: true,
    // job ids are at most 128 characters (schemas.ts JobId): longer path parameters reach the schema and
    // get ERR_VALIDATION; only absurd ones (> 256) are refused by the router, as ERR_URI_TOO_LONG
    routerOptions: { maxParamLength: 256 },
    frameworkErrors,
    clientErrorHandler,
    // refuse unknown fields and wrong types instead of silently dropping or coercing them
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}),
  }) as unknown as FastifyInstance;
  installErrorHandling(app);
  registerRoutes(app, { core, stats, metrics, privateJobs });
  gateway.addRoute(streams.route);
  gateway.addRoute((req, socket, head) => sessions.route(req, socket, head));
  const dashboard = await loadDashboard();
  if (dashboard) {
    dashboard.registerDashboard(app, stats);
    gateway.addRoute((req, socket, head, wss) => {
      if ((req.url ?? '').split('?')[0] !== '/v1/dashboard') return false;
      wss.handleUpgrade(req, socket, head, (ws) => dashboard.attachDashboardSocket(ws, stats));
      return true;
    });
  } else {
    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PLACEHOLDER));
  }
  app.server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket as import('node:stream').Duplex, head));

  core.start();
  const oracle = oraclePath ? startOracleDriver(core, oraclePath, logger) : null;
  let address: string;
  try {
    address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  } catch (e) {
    oracle?.stop();
    core.stop();
    stats.close();
    sessions.close();
    gateway.close();
    store.close();
    throw e;
  }
  const port = (app.server.address() as { port: number }).port;
  const host = options.host ?? '127.0.0.1';
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const http = options.tls ? 'https' : 'http';
  const ws = options.tls ? 'wss' : 'ws';
  void address;
  logger.info({ port, replayed: core.replayed, db: options.dbPath }, 'market listening');

  let closing: Promise<void> | null = null;
  const market: Market = {
    url: `${http}://${hostPart}:${port}`,
    wsUrl: `${ws}://${hostPart}:${port}/v1/nodes`,
    dashboardUrl: `${http}://${hostPart}:${port}/`,
    marketKey: core.marketKey,
    seed: core.seed,
    app,
    core,
    gateway,
    stats,
    metrics,
    streams,
    sessionUrl: `${ws}://${hostPart}:${port}/v1/session`,
    sessions,
    oracle,
    close() {
      closing ??= (async () => {
        oracle?.stop();
        core.stop();
        gateway.close();
        sessions.close();
        streams.close();
        stats.close();
        await app.close();
        if (jobLog && options.jobsCsvPath !== undefined) {
          const labels = options.nodeLabels ?? {};
          writeFileSync(options.jobsCsvPath, jobLog.toCsv({ name: (a) => labels[a]?.name, strategy: (a) => labels[a]?.strategy, variant: (a) => gateway.variant(a) ?? undefined }));
        }
        store.close();
      })();
      return closing;
    },
  };
  return market;
}

/**
 * The oracle path a market with these parameters runs: `token` and `token-native` need one (a job cannot be
 * priced without an IMT price); a `stable` market runs one if given (its prices move nothing, as in the simulator).
 * @throws InfermarketError `ERR_INVALID_PARAM` naming `pricingMode` when a token mode has no path; `ERR_VALIDATION` for a bad path.
 */
function oracleFor(pricingMode: string, path: OraclePath | undefined): ReturnType<typeof checkOraclePath> | null {
  if (path) return checkOraclePath(path);
  if (pricingMode === 'stable') return null;
  throw new InfermarketError('ERR_INVALID_PARAM', `pricingMode "${pricingMode}" pays in IMT and needs the market's IMT oracle: give a price path (\`infermarket market --oracle-prices FILE\`, or a scenario "economics.oracle" on the testnet; docs/economics.md), or use pricingMode "stable"`, {
    details: { field: 'pricingMode' },
  });
}

/** Keep a job log of everything the core applies from now on, with the market's time to first token. */
function recordJobs(core: MarketCore): JobLog {
  const log = createJobLog();
  core.onEffects((fx, event) => {
    log.observe(event, fx);
    for (const e of fx) if (e.type === 'job.settled' || e.type === 'job.failed') log.setTtft(e.jobId, core.extra(e.jobId).ttftMs);
  });
  return log;
}
