/**
 * @infermarket/market — the coordinator process: HTTP API, WebSocket gateway for miners and validators,
 * SQLite event log, scheduler, metrics. It holds no rules of its own: every decision is `apply` from
 * @infermarket/protocol.
 *
 * HTTP (JSON; errors are `{ "error": { "code", "message" } }` with the code's status):
 * - `GET /v1/health` → `{ ok, nowMs, seq, marketKey }` (`nowMs` is the market clock: Unix ms)
 * - `GET /v1/params` → the protocol parameters (amounts as decimal strings)
 * - `GET /v1/models` → `{ models: [{ id, kind, inputs, outputs, comparator, generationComparator, variants }] }`
 * - `POST /v1/faucet {address, amountMicro}` → `{ address, balanceMicro }`
 * - `GET /v1/accounts/:address` → balance, stake, unbonding, faucet total, node record
 * - `POST /v1/jobs` (`SubmitJobRequest`) → 202 `JobView`; `GET /v1/jobs/:id` → `JobView` (output once
 *   committed, the market-signed receipt once finished)
 * - `GET /v1/stats` → `MarketStatsView` (cached 250 ms); `GET /metrics` → Prometheus text
 * - `GET /` → the dashboard (or a placeholder)
 *
 * WebSocket:
 * - `/v1/nodes` — miners and validators (`ServerMessage` / `NodeMessage` in wire.ts): `auth.challenge` →
 *   signed `auth.login` over it → `auth.ok`; every message with a `ref` is answered `ack`/`error` with it;
 *   JSON `ping` every 5 s (answer `pong`; 15 s of silence is offline); over 2,000 msg/s → `ERR_RATE_LIMITED`.
 * - `/v1/jobs/:id/stream` — a client's job stream (`JobStreamMessage`): buffered then live `token`s,
 *   `restart` on reassignment, `result`, then `done` with the final `JobView`; the market closes it.
 * - `/v1/dashboard` — the dashboard feed (`DashboardMessage`).
 */
export { createMarket, type Market, type MarketOptions } from './market.js';
export { createCore, CORE_DEFAULTS, type MarketCore, type CoreOptions, type JobExtra } from './core.js';
export { openStore, type MarketStore, type CommitItem, type JobRow, type PayloadRow } from './store.js';
export { createScheduler, type Scheduler, type ScheduledTimer } from './scheduler.js';
export { checkInputRows } from './submit.js';
export { loadModelSpecs, validateInput, INPUT_LIMITS, DEFAULT_MODELS_DIR, type ModelSpec, type ModelIo } from './models.js';
export { GATEWAY_DEFAULTS, CLOSE_CODES, MAX_MESSAGE_DEPTH, type GatewayOptions } from './gateway.js';
export { SESSION_DEFAULTS, type SessionOptions, type SessionHub } from './session.js';
export { outputsAgree } from './compare.js';
export { storedOutput, replicaAgreement } from './redundant.js';
export { measureStoreThroughput, type StoreThroughput } from './throughput.js';
export { encodeJson, decodeJson } from './codec.js';
export { loadOrCreateMarketKey, defaultMarketKeyFile, type MarketKey } from './market-key.js';
export { createTestnetCert, type TestnetCert } from './testnet-cert.js';
export { nodeView } from './stats.js';
export { openApiDocument } from './openapi.js';
export { checkOraclePath, startOracleDriver, type OraclePath, type CheckedOraclePath, type OracleDriver } from './oracle-driver.js';
export { oracleView, accountTokens, type OracleView } from './token-views.js';
export type { NodeLabel, NodeLabels } from './metrics.js';
export { registerDashboard, attachDashboardSocket, type DashboardSource } from './dashboard/index.js';
export { SubmitJobBody, FaucetBody, MarketFaucetBody, AddressParams, JobParams, JobReadQuery, JobListQuery } from './schemas.js';
export { installErrorHandling, frameworkErrors, clientErrorHandler } from './http.js';
