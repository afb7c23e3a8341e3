/**
 * @infermarket/market — the coordinator process: HTTP API, WebSocket gateway for miners and validators,
 * SQLite event log, scheduler, metrics. It holds no rules of its own: every decision is `apply` from
 * @infermarket/protocol.
 */
export { createMarket, type Market, type MarketOptions } from './market.js';
export { createCore, type MarketCore, type CoreOptions, type JobExtra } from './core.js';
export { openStore, type MarketStore, type CommitItem, type JobRow, type PayloadRow } from './store.js';
export { createScheduler, type Scheduler, type ScheduledTimer } from './scheduler.js';
export { GATEWAY_DEFAULTS, type GatewayOptions } from './gateway.js';
export { loadModelSpecs, validateInput, FALLBACK_MODELS, INPUT_LIMITS, type ModelSpec, type ModelIo } from './models.js';
export { outputsAgree } from './compare.js';
export { measureStoreThroughput, type StoreThroughput } from './throughput.js';
export { encodeJson, decodeJson } from './codec.js';
