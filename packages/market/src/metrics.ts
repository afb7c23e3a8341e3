import { ledgerTotals, type Effect, type JobStatus } from '@infermarket/protocol';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MarketCore } from './core.js';
import type { Gateway } from './gateway.js';

const STATUSES: JobStatus[] = ['bidding', 'assigned', 'committed', 'auditing', 'disputed', 'settled', 'failed'];

/** Prometheus metrics of one market, in its own registry (several markets can share a process). */
export interface MarketMetrics {
  registry: Registry;
  /** Text exposition for `GET /metrics`. */
  render(): Promise<string>;
}

/** Register the market's metrics: jobs by status, settlement latency, ttft, connected nodes, ledger totals, ws messages. */
export function createMetrics(core: MarketCore, gateway: Gateway): MarketMetrics {
  const registry = new Registry();
  new Gauge({
    name: 'infermarket_jobs',
    help: 'Jobs by status.',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const counts = new Map<string, number>(STATUSES.map((s) => [s, 0]));
      for (const j of core.state.jobs.values()) counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
      for (const [status, n] of counts) this.set({ status }, n);
    },
  });
  const settle = new Histogram({
    name: 'infermarket_settlement_latency_seconds',
    help: 'Time from submit to settlement.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const ttft = new Histogram({
    name: 'infermarket_ttft_seconds',
    help: 'Time from submit to the first token (or the result when nothing is streamed).',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'infermarket_connected_nodes',
    help: 'Logged-in node connections by role.',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      this.set({ role: 'miner' }, gateway.onlineCount('miner'));
      this.set({ role: 'validator' }, gateway.onlineCount('validator'));
    },
  });
  new Gauge({
    name: 'infermarket_ledger_micro',
    help: 'Ledger totals in micro-mUSD by kind (minted, balances, escrow, stakes, unbonding, fees, burned).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const t = ledgerTotals(core.state);
      for (const k of ['minted', 'balances', 'escrow', 'stakes', 'unbonding', 'fees', 'burned'] as const) this.set({ kind: k }, Number(t[`${k}Micro`]));
    },
  });
  new Gauge({
    name: 'infermarket_ledger_conserved',
    help: '1 when minted = balances + escrow + stakes + unbonding + fees + burned.',
    registers: [registry],
    collect() {
      this.set(ledgerTotals(core.state).conserved ? 1 : 0);
    },
  });
  new Counter({
    name: 'infermarket_ws_messages_total',
    help: 'WebSocket node messages by direction (in, out, dropped, rate-limited).',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      const c = gateway.counters;
      this.reset();
      this.inc({ direction: 'in' }, c.messagesIn);
      this.inc({ direction: 'out' }, c.messagesOut);
      this.inc({ direction: 'dropped' }, c.dropped);
      this.inc({ direction: 'rate-limited' }, c.rateLimited);
    },
  });
  const events = new Counter({ name: 'infermarket_events_total', help: 'Accepted protocol events by type.', labelNames: ['type'], registers: [registry] });

  core.onEffects((fx: readonly Effect[], event) => {
    events.inc({ type: event.type });
    for (const e of fx) {
      if (e.type === 'job.settled') {
        const job = core.state.jobs.get(e.jobId);
        if (job) settle.observe((job.finishedAtMs - job.submittedAtMs) / 1000);
        const t = core.extra(e.jobId).ttftMs;
        if (t !== null) ttft.observe(t / 1000);
      }
    }
  });
  return { registry, render: () => registry.metrics() };
}
