import type { NodeLabel, NodeLabels } from './metrics.js';
import { checkInvariants, ledgerTotals, paramsToJson, type Effect, type FeedEvent, type MarketState, type MarketStatsView, type NodeRecord, type NodeView } from '@infermarket/protocol';
import type { MarketCore } from './core.js';

const FEED_CAP = 200;
const SAMPLE_CAP = 1_000;
const SERIES_CAP = 600;

/** Where the dashboard and `/v1/stats` read the market: a cached snapshot and a batched feed. */
export interface StatsSource {
  /** The market now; cached for `cacheMs` so a busy dashboard stays cheap. */
  snapshot(): MarketStatsView;
  /** Receive feed events in batches (about every 100 ms); returns an unsubscribe function. */
  subscribe(fn: (events: FeedEvent[]) => void): () => void;
  /** Record a node going online or offline. */
  nodeStatus(address: string, online: boolean): void;
  /** Stop the feed flush and series sampling timers. */
  close(): void;
}

/** Options for `createStatsSource`. */
export interface StatsOptions {
  online(address: string): boolean;
  variant(address: string): string | null;
  /** Instance names and strategies by address (`MarketOptions.nodeLabels`). */
  labels?: NodeLabels;
  cacheMs?: number;
  seriesEveryMs?: number;
}

/** A node as observers see it (`/v1/stats`, the dashboard): amounts as decimal strings, jailed as of `nowMs`. */
export function nodeView(state: MarketState, n: NodeRecord, nowMs: number, extra: { variant: string | null; online: boolean; label?: NodeLabel }): NodeView {
  let unbonding = 0n;
  for (const c of n.unbonding) unbonding += c.amountMicro;
  return {
    address: n.address,
    role: n.role,
    region: n.region,
    models: n.models,
    variant: extra.variant,
    online: extra.online,
    stakeMicro: n.stakeMicro.toString(),
    unbondingMicro: unbonding.toString(),
    balanceMicro: (state.ledger.get(`balance:${n.address}`) ?? 0n).toString(),
    reputation: n.reputation,
    jailedUntilMs: n.jailedUntilMs,
    jailed: n.jailedUntilMs > nowMs,
    slashes: n.slashes,
    ejected: n.ejected,
    jobsAssigned: n.jobsAssigned,
    jobsSettled: n.jobsSettled,
    jobsMissed: n.jobsMissed,
    audits: n.audits,
    earnedMicro: n.earnedMicro.toString(),
    slashedMicro: n.slashedMicro.toString(),
    ...(extra.label?.name ? { name: extra.label.name } : {}),
    ...(extra.label?.strategy ? { strategy: extra.label.strategy } : {}),
  };
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const musd = (v: bigint): number => Number(v) / 1e6;

/** Build the stats source on a core: it listens to effects to keep the feed, samples and series. */
export function createStatsSource(core: MarketCore, opts: StatsOptions): StatsSource {
  const cacheMs = opts.cacheMs ?? 250;
  const feed: FeedEvent[] = [];
  let pending: FeedEvent[] = [];
  const subscribers = new Set<(events: FeedEvent[]) => void>();
  const latency: number[] = [];
  const ttft: number[] = [];
  const settledTimes: number[] = [];
  const series: MarketStatsView['series'] = { tMs: [], stakeMusd: {}, balanceMusd: {}, settled: [], audits: [], slashes: [] };
  const regions: Record<string, number> = {};
  let clientPaid = 0n;
  let cache: { at: number; view: MarketStatsView } | null = null;

  const push = (e: FeedEvent): void => {
    feed.push(e);
    if (feed.length > FEED_CAP) feed.splice(0, feed.length - FEED_CAP);
    pending.push(e);
  };
  const sample = (arr: number[], v: number | null): void => {
    if (v === null) return;
    arr.push(v);
    if (arr.length > SAMPLE_CAP) arr.shift();
  };

  core.onEffects((fx: readonly Effect[]) => {
    const t = core.state.nowMs;
    for (const e of fx) {
      switch (e.type) {
        case 'job.assigned':
          push({ tMs: t, kind: 'assigned', jobId: e.jobId, node: e.miner, role: 'miner', amountMicro: e.priceMicro.toString() });
          break;
        case 'job.settled': {
          const job = core.state.jobs.get(e.jobId);
          const x = core.extra(e.jobId);
          sample(latency, x.latencyMs);
          sample(ttft, x.ttftMs);
          settledTimes.push(t);
          if (job) {
            clientPaid += job.maxPriceMicro - e.refundMicro;
            const region = core.state.nodes.get(e.miner)?.region ?? 'unknown';
            regions[region] = (regions[region] ?? 0) + 1;
          }
          push({ tMs: t, kind: 'settled', jobId: e.jobId, node: e.miner, role: 'miner', amountMicro: e.priceMicro.toString() });
          break;
        }
        case 'job.failed':
          push({ tMs: t, kind: 'failed', jobId: e.jobId, reason: e.reason, amountMicro: e.refundMicro.toString() });
          break;
        case 'job.missed':
          push({ tMs: t, kind: 'missed', jobId: e.jobId, node: e.miner, role: 'miner', amountMicro: e.penaltyMicro.toString() });
          break;
        case 'audit.requested':
          push({ tMs: t, kind: 'audited', jobId: e.jobId, node: e.validator, role: 'validator' });
          break;
        case 'dispute.opened':
          push({ tMs: t, kind: 'disputed', jobId: e.jobId, node: e.accuser, role: 'validator' });
          break;
        case 'node.slashed':
          push({ tMs: t, kind: 'slashed', jobId: e.jobId, node: e.address, role: e.role, amountMicro: e.amountMicro.toString(), reason: e.reason });
          break;
        default:
          break;
      }
    }
  });

  const flush = setInterval(() => {
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    for (const fn of subscribers) {
      try {
        fn(batch);
      } catch {
        // a broken subscriber must not stop the feed
      }
    }
  }, 100);
  flush.unref();

  const sampleSeries = setInterval(() => {
    const s = core.state;
    series.tMs.push(Date.now() - core.startedAtMs);
    series.settled.push(s.stats.settled);
    series.audits.push(s.stats.audited);
    series.slashes.push(s.stats.minerSlashes + s.stats.validatorSlashes);
    const n = series.tMs.length;
    for (const node of s.nodes.values()) {
      const stake = (series.stakeMusd[node.address] ??= []);
      const bal = (series.balanceMusd[node.address] ??= []);
      while (stake.length < n - 1) stake.push(0);
      while (bal.length < n - 1) bal.push(0);
      stake.push(musd(node.stakeMicro));
      bal.push(musd(s.ledger.get(`balance:${node.address}`) ?? 0n));
    }
    if (n > SERIES_CAP) {
      for (const arr of [series.tMs, series.settled, series.audits, series.slashes, ...Object.values(series.stakeMusd), ...Object.values(series.balanceMusd)]) arr.shift();
    }
  }, opts.seriesEveryMs ?? 1_000);
  sampleSeries.unref();

  const build = (): MarketStatsView => {
    const s = core.state;
    const now = core.now();
    const totals = ledgerTotals(s);
    const nodes = [...s.nodes.values()].map((n) => nodeView(s, n, now, { variant: opts.variant(n.address), online: opts.online(n.address), ...(opts.labels?.[n.address] ? { label: opts.labels[n.address] } : {}) }));
    while (settledTimes.length && settledTimes[0]! < now - 10_000) settledTimes.shift();
    const lat = [...latency].sort((a, b) => a - b);
    const tt = [...ttft].sort((a, b) => a - b);
    const finished = s.stats.settled + s.stats.failed;
    return {
      nowMs: now,
      startedAtMs: core.startedAtMs,
      seed: core.seed,
      params: paramsToJson(core.params),
      stats: { ...s.stats },
      throughputPerSec: settledTimes.length / 10,
      successRate: finished ? s.stats.settled / finished : 0,
      latencyMs: { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95) },
      ttftMs: { p50: quantile(tt, 0.5), p95: quantile(tt, 0.95) },
      ledger: {
        mintedMicro: totals.mintedMicro.toString(),
        balancesMicro: totals.balancesMicro.toString(),
        escrowMicro: totals.escrowMicro.toString(),
        stakesMicro: totals.stakesMicro.toString(),
        unbondingMicro: totals.unbondingMicro.toString(),
        feesMicro: totals.feesMicro.toString(),
        burnedMicro: totals.burnedMicro.toString(),
        conserved: totals.conserved,
      },
      invariantViolations: checkInvariants(s),
      nodes,
      feed: [...feed],
      samples: { latencyMs: [...latency], ttftMs: [...ttft] },
      series: {
        tMs: [...series.tMs],
        stakeMusd: Object.fromEntries(Object.entries(series.stakeMusd).map(([k, v]) => [k, [...v]])),
        balanceMusd: Object.fromEntries(Object.entries(series.balanceMusd).map(([k, v]) => [k, [...v]])),
        settled: [...series.settled],
        audits: [...series.audits],
        slashes: [...series.slashes],
      },
      clientPaidMicro: clientPaid.toString(),
      regions: { ...regions },
    };
  };

  return {
    snapshot() {
      const t = Date.now();
      if (!cache || t - cache.at >= cacheMs) cache = { at: t, view: build() };
      return cache.view;
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    nodeStatus(address, online) {
      const role = core.state.nodes.get(address)?.role;
      push({ tMs: core.now(), kind: online ? 'node-online' : 'node-offline', node: address, ...(role ? { role } : {}) });
    },
    close() {
      clearInterval(flush);
      clearInterval(sampleSeries);
      subscribers.clear();
    },
  };
}
