import { ledgerTotals, type Effect, type JobStatus, type NodeRecord } from '@infermarket/protocol';
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

/** What an operator calls a node: its instance name and strategy (e.g. the testnet's `lazy-0`, `lazy`). */
export interface NodeLabel {
  name?: string;
  strategy?: string;
}

/** Node labels by address; nodes not in it are labelled `name=""`, `strategy=""`. */
export type NodeLabels = Readonly<Record<string, NodeLabel>>;

/** Label names of every per-node series. */
const NODE_LABELS = ['address', 'role', 'name', 'strategy'] as const;

/**
 * Register the market's metrics: jobs by status, settlement latency, ttft, connected nodes, ledger totals,
 * ws messages, and per node (labelled address, role, name, strategy): stake, balance, earnings, slashed
 * amount and count, reputation, online, and jobs by outcome.
 */
export function createMetrics(core: MarketCore, gateway: Gateway, options: { labels?: NodeLabels } = {}): MarketMetrics {
  const registry = new Registry();
  const labels = options.labels ?? {};
  const nodeLabels = (address: string, role: string): Record<(typeof NODE_LABELS)[number], string> => ({
    address,
    role,
    name: labels[address]?.name ?? '',
    strategy: labels[address]?.strategy ?? '',
  });
  /** One gauge per node field, each set from the protocol state at scrape time. */
  const perNode = (name: string, help: string, value: (n: NodeRecord, address: string) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: NODE_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const n of core.state.nodes.values()) this.set(nodeLabels(n.address, n.role), value(n, n.address));
      },
    });
  };
  perNode('infermarket_node_stake_micro', 'Bonded stake per node, micro-mUSD.', (n) => Number(n.stakeMicro));
  perNode('infermarket_node_balance_micro', 'Free balance per node, micro-mUSD.', (_n, a) => Number(core.state.ledger.get(`balance:${a}`) ?? 0n));
  perNode('infermarket_node_earned_micro', 'Total earned per node (job payments, validator fees), micro-mUSD.', (n) => Number(n.earnedMicro));
  perNode('infermarket_node_slashed_micro', 'Total slashed from the node, micro-mUSD.', (n) => Number(n.slashedMicro));
  perNode('infermarket_node_slashes', 'Times the node was slashed.', (n) => n.slashes);
  perNode('infermarket_node_reputation', 'Reputation score (0..1) the matching policy may use.', (n) => n.reputation);
  perNode('infermarket_node_online', '1 while the node has a logged-in connection.', (_n, a) => (gateway.online(a) ? 1 : 0));
  new Gauge({
    name: 'infermarket_node_jobs',
    help: 'Jobs per node by outcome: assigned, settled, missed (deadline), audits (validators: audits done).',
    labelNames: [...NODE_LABELS, 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const n of core.state.nodes.values()) {
        const l = nodeLabels(n.address, n.role);
        this.set({ ...l, outcome: 'assigned' }, n.jobsAssigned);
        this.set({ ...l, outcome: 'settled' }, n.jobsSettled);
        this.set({ ...l, outcome: 'missed' }, n.jobsMissed);
        this.set({ ...l, outcome: 'audits' }, n.audits);
      }
    },
  });
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
