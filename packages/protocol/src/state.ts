import { resolveParams, type Params } from './params.js';
import { checkTraceLayers } from './trace.js';
import type { MarketState } from './types.js';

/** Options for a fresh market state. */
export interface CreateStateOptions {
  /** Parameter overrides, validated (see `resolveParams`). */
  params?: Record<string, unknown> | Params;
  /** Model ids jobs may name. */
  models: Iterable<string>;
  /** Keep finished jobs in `state.jobs` (default true). The simulator drops them to bound memory. */
  keepFinishedJobs?: boolean;
  /** Layers of each model's committed trace (bisection disputes); a model without an entry commits none. */
  traceLayers?: Readonly<Record<string, number>>;
}

/** A new, empty market: no accounts, no jobs, no epoch yet (the driver must send `epoch.begin` first). */
export function createState(options: CreateStateOptions): MarketState {
  return {
    params: resolveParams(options.params as Record<string, unknown> | undefined),
    models: new Set(options.models),
    ledger: new Map([['mint', 0n]]),
    faucetMinted: new Map(),
    nodes: new Map(),
    jobs: new Map(),
    replay: new Map(),
    epoch: null,
    nowMs: 0,
    seq: 0,
    bidSeq: 0,
    stats: {
      submitted: 0,
      settled: 0,
      failed: 0,
      reassigned: 0,
      audited: 0,
      disputed: 0,
      minerSlashes: 0,
      validatorSlashes: 0,
      missedDeadlines: 0,
      auditsMissed: 0,
      auditsReassigned: 0,
      auditsUnavailable: 0,
      redundantDisagreements: 0,
    },
    keepFinishedJobs: options.keepFinishedJobs ?? true,
    finishedJobs: new Set(),
    oracle: null,
    traceLayers: new Map(Object.entries(options.traceLayers ?? {}).map(([m, l]) => [m, checkTraceLayers(`traceLayers.${m}`, l)])),
    offers: new Map(),
    busy: new Map(),
    waiting: new Map(),
  };
}
