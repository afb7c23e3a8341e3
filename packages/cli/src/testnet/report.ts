import { createRequire } from 'node:module';
import { cpus, platform } from 'node:os';
import { jobToken, percentile, type FeedEvent, type Params, type MarketStatsView, type ResolvedScenario, type RunReport, type Scenario } from '@infermarket/protocol';
import type { TestnetPlan } from './plan.js';

/** Extra testnet facts written beside the common `RunReport` fields. */
export interface TestnetExtras {
  /** The scenario resolved against the protocol defaults (`resolveScenario`): names, stakes, prices per model, key labels, seeds, params. */
  resolved: ResolvedScenario;
  testnet: {
    marketUrl: string;
    dashboard: string;
    marketKey: string;
    /** Node and client keys derive from the scenario seed (reproducible): they are not secret. */
    keys: string;
    outDir: string;
    faults: { atMs: number; action: string; target: string; appliedAtMs: number }[];
    /** Every node process; `registered`: the market's final view lists it in its role (ejected nodes included). */
    processes: { id: string; role: string; strategy: string; address: string; registered: boolean; starts: number; log: string }[];
    /** What the market had registered when the load started. */
    registeredAtStart: { nodes: number; planned: number; minersByModel: Record<string, number> };
    load: Record<string, unknown>[];
    /** Time from start to the first settled job (ms), or null. */
    firstSettledMs: number | null;
    /** Time from start until every node was ready. */
    startupMs: number;
    /** Time from start until the market and enough nodes to serve every model were ready (the load starts then). */
    servableMs: number;
  };
}

function onnxVersion(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

const renameKeys = (rec: Record<string, number[]>, names: Map<string, string>): Record<string, number[]> =>
  Object.fromEntries(Object.entries(rec).map(([k, v]) => [names.get(k) ?? k, v]));

/**
 * Build `report.json` from the market's final `/v1/stats`, the scenario and the plan (addresses become
 * instance names; strategies come from the scenario). Slashing events come from every feed the
 * orchestrator collected while polling (the market's feed is capped).
 */
export function buildReport(opts: {
  scenario: Scenario;
  plan: TestnetPlan;
  stats: MarketStatsView;
  feed: FeedEvent[];
  durationMs: number;
  /** Wall-clock ms the run's times count from (the start of the load). */
  originMs: number;
  checks: number;
  violations: string[];
  /** What clients paid for settled jobs, from the receipts their load generators received (survives a market restart, unlike the market's in-memory totals). */
  clientPaid?: { settled: number; paidMicro: bigint };
  extras: TestnetExtras['testnet'];
}): RunReport & TestnetExtras {
  const { stats, plan } = opts;
  const names = plan.names;
  const byAddress = new Map(stats.nodes.map((n) => [n.address, n]));
  const stakeEnd = (a: string): string => {
    const n = byAddress.get(a);
    return n ? (BigInt(n.stakeMicro) + BigInt(n.unbondingMicro)).toString() : '0';
  };
  const miners = plan.nodes
    .filter((n) => n.role === 'miner')
    .map((p) => {
      const n = byAddress.get(p.address);
      return {
        id: p.id,
        address: p.address,
        strategy: p.strategy,
        region: n?.region ?? p.region,
        jobs: n?.jobsAssigned ?? 0,
        settled: n?.jobsSettled ?? 0,
        missed: n?.jobsMissed ?? 0,
        earnedMicro: n?.earnedMicro ?? '0',
        slashedMicro: n?.slashedMicro ?? '0',
        stakeStartMicro: p.stakeMicro,
        stakeEndMicro: stakeEnd(p.address),
      };
    });
  const validators = plan.nodes
    .filter((n) => n.role === 'validator')
    .map((p) => {
      const n = byAddress.get(p.address);
      return { id: p.id, address: p.address, strategy: p.strategy, audits: n?.audits ?? 0, earnedMicro: n?.earnedMicro ?? '0', slashedMicro: n?.slashedMicro ?? '0' };
    });
  const slashes = opts.feed
    .filter((e) => e.kind === 'slashed')
    .map((e) => ({
      // the market's clock is the wall clock; report times count from the start of the load
      tMs: Math.max(0, e.tMs > 1e12 ? e.tMs - opts.originMs : e.tMs),
      node: names.get(e.node ?? '') ?? e.node ?? '?',
      role: (e.role ?? (plan.nodes.find((n) => n.address === e.node)?.role ?? 'miner')) as 'miner' | 'validator',
      amountMicro: e.amountMicro ?? '0',
      jobId: e.jobId ?? '',
      reason: e.reason ?? '',
    }));
  const settled = stats.stats.settled;
  const paid = BigInt(stats.clientPaidMicro || '0');
  return {
    kind: 'testnet',
    version: 1,
    seed: opts.scenario.seed,
    scenario: opts.scenario.name,
    params: stats.params,
    durationMs: opts.durationMs,
    jobs: {
      submitted: stats.stats.submitted,
      settled,
      failed: stats.stats.failed,
      reassigned: stats.stats.reassigned,
      audited: stats.stats.audited,
      disputed: stats.stats.disputed,
      slashed: stats.stats.minerSlashes + stats.stats.validatorSlashes,
    },
    latencyMs: { p50: stats.latencyMs.p50, p95: stats.latencyMs.p95, p99: percentile(stats.samples.latencyMs, 99) },
    ttftMs: { p50: stats.ttftMs.p50, p95: stats.ttftMs.p95 },
    successRate: stats.successRate,
    costPerThousandMicro:
      opts.clientPaid && opts.clientPaid.settled > 0
        ? ((opts.clientPaid.paidMicro * 1000n) / BigInt(opts.clientPaid.settled)).toString()
        : settled > 0
          ? ((paid * 1000n) / BigInt(settled)).toString()
          : '0',
    // the job token: receipts and settlements count it (IMT in the token pricing modes; USD in `economics`)
    costToken: jobToken({ pricingMode: (stats.params.pricingMode ?? 'stable') as Params['pricingMode'] }),
    miners,
    validators,
    ledger: stats.ledger,
    invariants: { checks: opts.checks, violations: [...new Set([...opts.violations, ...stats.invariantViolations])] },
    slashes,
    series: {
      ...stats.series,
      stakeMusd: renameKeys(stats.series.stakeMusd, names),
      balanceMusd: renameKeys(stats.series.balanceMusd, names),
    },
    samples: stats.samples,
    regions: stats.regions,
    resolved: plan.resolved,
    environment: { node: process.version, platform: `${platform()}-${process.arch}`, cpus: cpus().length, ...(onnxVersion() ? { onnxruntime: onnxVersion()! } : {}), infermarket: '0.1.0' },
    testnet: opts.extras,
  };
}

const musd = (micro: string): string => (Number(BigInt(micro)) / 1e6).toFixed(3);

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((n) => '─'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** The human summary printed at the end of a run. */
export function formatSummary(r: RunReport & TestnetExtras): string {
  const j = r.jobs;
  const out: string[] = [];
  out.push(`testnet "${r.scenario}" seed ${r.seed}: ${(r.durationMs / 1000).toFixed(1)} s`);
  out.push(
    `jobs: ${j.submitted} submitted, ${j.settled} settled, ${j.failed} failed, ${j.reassigned} reassigned, ${j.audited} audited, ${j.disputed} disputed, ${j.slashed} slashed`,
  );
  out.push(
    `success ${(r.successRate * 100).toFixed(1)}%   latency p50 ${r.latencyMs.p50} ms p95 ${r.latencyMs.p95} ms p99 ${r.latencyMs.p99} ms   ttft p50 ${r.ttftMs.p50} ms p95 ${r.ttftMs.p95} ms   cost/1k ${musd(r.costPerThousandMicro)} ${r.costToken}`,
  );
  if (r.testnet.firstSettledMs !== null) out.push(`first job settled ${r.testnet.firstSettledMs} ms after start (load started at ${r.testnet.servableMs} ms, all nodes up at ${r.testnet.startupMs} ms)`);
  out.push('');
  out.push(
    table(
      ['miner', 'strategy', 'jobs', 'settled', 'missed', 'earned', 'slashed', 'stake start→end (mUSD)'],
      r.miners.map((m) => [m.id, m.strategy, String(m.jobs), String(m.settled), String(m.missed), musd(m.earnedMicro), musd(m.slashedMicro), `${musd(m.stakeStartMicro)} → ${musd(m.stakeEndMicro)}`]),
    ),
  );
  out.push('');
  out.push(table(['validator', 'strategy', 'audits', 'earned', 'slashed'], r.validators.map((v) => [v.id, v.strategy, String(v.audits), musd(v.earnedMicro), musd(v.slashedMicro)])));
  if (r.slashes.length) {
    out.push('');
    out.push(table(['slash at', 'node', 'role', 'amount', 'reason'], r.slashes.map((s) => [`${(s.tMs / 1000).toFixed(1)} s`, s.node, s.role, musd(s.amountMicro), s.reason])));
  }
  const L = r.ledger;
  out.push('');
  out.push(
    `ledger (mUSD): minted ${musd(L.mintedMicro)} = balances ${musd(L.balancesMicro)} + escrow ${musd(L.escrowMicro)} + stakes ${musd(L.stakesMicro)} + unbonding ${musd(L.unbondingMicro)} + fees ${musd(L.feesMicro)} + burned ${musd(L.burnedMicro)}  → ${L.conserved ? 'conserved ✓' : 'NOT CONSERVED ✗'}`,
  );
  if (r.invariants.violations.length) out.push(`invariant violations: ${r.invariants.violations.join('; ')}`);
  return out.join('\n');
}
